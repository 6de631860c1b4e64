-- One Lua state hosts sandboxes one after another. Runs once per state, before anything else, with the
-- pristine globals of a fresh state, which no sandbox ever sees or changes: each sandbox gets a brand-new
-- global table (copies of the base functions and of the string, table and math libraries), made the
-- state's global table (so every chunk loaded afterwards, by the host or by lupa's eval, sees it) and the
-- string metatable's __index.
-- A state that will host more sandboxes (`keep`) keeps the chunks it compiled and re-binds them to the
-- current sandbox's globals each time they run (debug.upvaluejoin gives the chunk a new _ENV upvalue;
-- closures made by earlier runs keep theirs). The chunks live here, not in Python: lupa ties a Python
-- handle to the coroutine it was made in, and a handle kept across sandboxes would outlive that coroutine.
local pairs, load, error, type, unpack = pairs, load, error, type, table.unpack
local ipairs, select, table_create, table_pack = ipairs, select, table.create, table.pack
local set_type_metatable, getregistry, upvaluejoin = debug.setmetatable, debug.getregistry, debug.upvaluejoin

-- keep: whether to keep compiled chunks; fetch_values_code: returns the host's value helpers (see
-- below); known_sizes: the field counts of the pristine tables, or nil; then the value helpers' arguments.
local keep, fetch_values_code, known_sizes = ...
local values_args = table_pack(select(4, ...))

local registry = getregistry()
local RIDX_GLOBALS = 2
local pristine = registry[RIDX_GLOBALS]
if pristine ~= _G then error("wftest: unexpected registry layout in this Lua build", 0) end

---------------------------------------------------------------------------------------------------
-- Fresh globals. Every copy is made the same way (same size, keys inserted in the pristine table's
-- `pairs` order), so every sandbox's tables are laid out alike and iterate alike. The first copy reads
-- the pristine table; later ones read a snapshot of its keys and values in that order (quicker to walk).

-- The tables a sandbox may change (everything else it gets is replaced or removed by the prelude).
local COPIED = {"string", "table", "math"}
local sources = {pristine}  -- what copies read: the pristine tables, then their snapshots
for i, name in ipairs(COPIED) do sources[i + 1] = pristine[name] end

-- Field counts: the same in every state, so the host passes those the first state of the process found.
local sizes = {}
for i = 1, #sources do
    local n = known_sizes and known_sizes[i]
    if n == nil then
        n = 0
        for _ in pairs(sources[i]) do n = n + 1 end
    end
    sizes[i] = n
end

local function copy_table(t, i)
    local out = table_create(0, sizes[i])
    for k, v in pairs(t) do out[k] = v end
    return out
end

local function copy_snapshot(snap, i)
    local keys, values = snap.keys, snap.values
    local out = table_create(0, sizes[i])
    for j = 1, #keys do out[keys[j]] = values[j] end
    return out
end

local function snapshot(t)
    local keys, values, n = {}, {}, 0
    for k, v in pairs(t) do
        n = n + 1
        keys[n], values[n] = k, v
    end
    return {keys = keys, values = values}
end

local copy, made = copy_table, 0
local function new_env()
    if made == 1 then
        for i = 1, #sources do sources[i] = snapshot(sources[i]) end
        copy = copy_snapshot
    end
    made = made + 1
    local G = copy(sources[1], 1)
    for i = 1, #COPIED do G[COPIED[i]] = copy(sources[i + 1], i + 1) end
    G._G = G
    registry[RIDX_GLOBALS] = G
    set_type_metatable("", {__index = G.string})
    return G
end

---------------------------------------------------------------------------------------------------
-- Compiled chunks.

local function bind(fn, env)
    upvaluejoin(fn, 1, function() return env end, 1)
    return fn
end

-- Chunks the host loaded, by the number it gave them. The host sends the code unless the state has it.
local chunks = {}
local function chunk(id, code, name)
    if code == nil then return chunks[id] end
    local fn, err = load(code, name, "b")
    if fn == nil then error(err, 0) end
    if keep then chunks[id] = fn end
    return fn
end

local function forget_chunks() chunks = {} end

-- Run a chunk as a fresh load in `env`.
local function run(id, code, name, env, ...)
    return bind(chunk(id, code, name), env)(...)
end

-- Bundled Lua halves loaded from Lua (workflow sections, types.lua, prelude_extras.lua), by name.
-- `code` is the code (a different code under the same name replaces the entry) or something callable
-- that returns the one code of that name, called only when the state does not have it.
local loaded = {}
local function load_cached(code, name)
    local fetch = type(code) ~= "string"
    local key = fetch and ("fetched " .. name) or name
    local hit = loaded[key]
    if hit ~= nil and (fetch or hit[1] == code) then return hit[2] end
    if fetch then code = code() end
    local fn, err = load(code, name, "b")
    if fn == nil then error(err, 2) end
    if keep then loaded[key] = {fetch or code, fn} end
    return fn
end

---------------------------------------------------------------------------------------------------
-- For the host.

-- A table's fields as name, value, name, value, ... (one crossing, no garbage; for small tables).
local next = next
local function fields(t, k)
    local key, value = next(t, k)
    if key == nil then return end
    return key, value, fields(t, key)
end

-- t[name] for each name in the list `names`, in order (one crossing for the fields the host wants).
local function pick(t, names, i)
    i = i or 1
    local name = names[i]
    if name == nil then return end
    return t[name], pick(t, names, i + 1)
end

-- The host's value helpers (wftest.lua.values), loaded against the pristine globals when first used.
local real_export, real_slice
local function load_value_helpers()
    local helpers = load(fetch_values_code(), "=values", "b", pristine)
    real_export, real_slice = helpers(unpack(values_args, 1, values_args.n))
end
local function export(v)
    if real_export == nil then load_value_helpers() end
    return real_export(v)
end
local function slice(t, i, j)
    if real_slice == nil then load_value_helpers() end
    return real_slice(t, i, j)
end

-- What the prelude of every sandbox gets, and what the host calls.
local for_prelude = {load_cached = load_cached, chunk = chunk}
return for_prelude, new_env, run, forget_chunks, fields, pick, export, slice, sizes
