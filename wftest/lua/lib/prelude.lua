-- The sandbox prelude: runs in every sandbox's fresh globals, before any user code.
-- It receives the host table from Python, builds Wippy's global environment (errors, os, 5.1 names,
-- command-passing coroutines; the less used parts load from prelude_extras.lua on first use) and
-- returns the private API the Python side drives.
local host = ...

local raw_type, raw_error, raw_pcall, raw_tostring = type, error, pcall, tostring
local raw_getmetatable, raw_setmetatable, raw_rawget, raw_rawset = getmetatable, setmetatable, rawget, rawset
local collectgarbage = collectgarbage
local raw_select, raw_load, raw_next, raw_pairs = select, load, next, pairs
local co_create, co_resume, co_yield, co_status = coroutine.create, coroutine.resume, coroutine.yield, coroutine.status
local co_running, co_close, co_isyieldable = coroutine.running, coroutine.close, coroutine.isyieldable
local raw_tonumber = tonumber
local dbg_sethook, dbg_traceback, dbg_getinfo = debug.sethook, debug.traceback, debug.getinfo
local dbg_gethook = debug.gethook
local dbg_getmetatable = debug.getmetatable
local str_match, str_format, str_sub, str_find = string.match, string.format, string.sub, string.find
local str_gsub = string.gsub
local tbl_concat, tbl_unpack, tbl_pack = table.concat, table.unpack, table.pack
local dbg_upvaluejoin = debug.upvaluejoin

-- What is the same for every sandbox of the Lua state (wftest.lua.sandbox) comes as one table, which is
-- its own __index.
raw_setmetatable(host, host.constants)

-- A compiled chunk as if freshly loaded in `env` (a new _ENV upvalue; closures it made before keep theirs).
local function bind(fn, env)
    dbg_upvaluejoin(fn, 1, function() return env end, 1)
    return fn
end

-- Bundled Lua halves and compiled chunks come from the Lua state's caches (wftest.lua.state) when it
-- has them; a state that hosts one sandbox in its own globals has none, and they load here.
local function load_code(code, name, level)
    if raw_type(code) ~= "string" then code = code() end
    local fn, err = raw_load(code, name, "b")
    if fn == nil then raw_error(err, level) end
    return fn
end
local load_cached = function(code, name) return load_code(code, name, 2) end
local state_chunk = function(_, code, name) return load_code(code, name, 0) end
if host.state then load_cached, state_chunk = host.state.load_cached, host.state.chunk end

local RAISE = host.RAISE
-- The sandbox's own host functions reach Python through two objects, `call` (plain) and `call_side`
-- (the Python half of a host function), which take the function's name first: each sandbox makes two
-- Python objects for Lua instead of one per function.
local function host_fn(call, name) return function(...) return call(name, ...) end end
host.now_ns, host.os_time = host_fn(host.call, "now_ns"), host_fn(host.call, "os_time")
host.os_date, host.print = host_fn(host.call_side, "os_date"), host_fn(host.call_side, "print")
host.produce = host_fn(host.call_side, "produce")
local HOST = raw_setmetatable({}, {__name = "wftest.host_command"})
-- The kinds of host command by name (wftest.lua.kinds): KIND.activity_call, ... One table per Lua state,
-- shared by its sandboxes: only wftest's own Lua halves hold it, user code never reaches it.
local KIND = host.KIND

---------------------------------------------------------------------------------------------------
-- Instruction budget: a count hook on every coroutine (and on the main thread, where the host's own Lua
-- may run user metamethods); the host resets the counter each turn. Once the budget is spent, the hook
-- fires on every instruction of the coroutine that spent it, so a `pcall` cannot swallow the error and
-- go on (on the main thread it fires every HOOK_EVERY instructions: the host's code must get to finish).
local HOOK_EVERY = 10000
local BUDGET_MESSAGE = "instruction budget exceeded (runaway loop?)"
local budget_left = host.budget_hooks
local budget_per_turn = host.budget_hooks
local budget_hit = false
local where  -- (defined with the errors below)
local function budget_hook()
    budget_left = budget_left - 1
    if budget_left <= 0 then
        budget_hit = true
        local co, main = co_running()
        if not main then dbg_sethook(co, budget_hook, "", 1) end
        local file, line = where(2)
        if file then raw_error(file .. ":" .. line .. ": " .. BUDGET_MESSAGE, 0) end
        raw_error(BUDGET_MESSAGE, 2)
    end
end

-- After user code spent the budget inside the host's own Lua (a metamethod run while reporting), the
-- host gets a little budget back to finish its report; the turn still counts as over budget.
local function budget_refill()
    budget_left = 10
    dbg_sethook(co_running(), budget_hook, "", HOOK_EVERY)
end

---------------------------------------------------------------------------------------------------
-- Line coverage (`--lua-cov`), only when the host asks for it: a coroutine's hook then also takes Lua's
-- line events and marks each line of app code ("@" chunks) it runs in `covered[source][line]`. Off, a
-- hook is exactly what it was (no line events, no cost).
local covered = nil
local function with_lines(hook, mask) return hook, mask end
if host.coverage then
    covered = {}
    local lines_of = raw_setmetatable({}, {__mode = "k"})  -- function -> its chunk's line set, or false
    with_lines = function(hook, mask)
        return function(event, line)
            if event ~= "line" then return hook(event) end  -- a tail call: the budget error's level holds
            local fn = dbg_getinfo(2, "f").func
            local lines = lines_of[fn]
            if lines == nil then
                local source = dbg_getinfo(fn, "S").source
                lines = false
                if str_sub(source, 1, 1) == "@" then
                    lines = covered[source]
                    if lines == nil then lines = {}; covered[source] = lines end
                end
                lines_of[fn] = lines
            end
            if lines then lines[line] = true end
        end, mask .. "l"
    end
end

-- What the line hooks saw: "source\tline,line,...\n" per chunk (nil when coverage is off).
local function coverage_lines()
    if covered == nil then return nil end
    local out = {}
    for source, lines in raw_pairs(covered) do
        local list = {}
        for line in raw_pairs(lines) do list[#list + 1] = line end
        out[#out + 1] = source .. "\t" .. tbl_concat(list, ",")
    end
    return tbl_concat(out, "\n")
end

local function new_thread(fn)
    local co = co_create(fn)
    local hook, mask = with_lines(budget_hook, "")
    dbg_sethook(co, hook, mask, HOOK_EVERY)
    return co
end

---------------------------------------------------------------------------------------------------
-- Wippy-style objects: tables whose metatable carries `__wippy`; `type()` reports them as userdata.
local function wippy_tag(v)
    if raw_type(v) ~= "table" then return nil end
    local mt = raw_getmetatable(v)
    if raw_type(mt) ~= "table" then return nil end
    return raw_rawget(mt, "__wippy")
end

function type(v)
    local t = raw_type(v)
    if t == "table" and wippy_tag(v) ~= nil then return "userdata" end
    return t
end

-- A metatable with __gc or __mode makes garbage collection observable: when finalizers run and weak
-- entries vanish depends on all garbage in the state, so such a state never hosts another sandbox.
-- Errors keep the C function's message, with the name the caller used and the caller's line.
-- Finalizers never run: Wippy's VM (go-lua, a GopherLua descendant; runtime/lua/engine/process.go)
-- has no `__gc`, and Lua runs finalizers with hooks off, out of the instruction budget's reach. Lua
-- marks a table for finalization only when its metatable has `__gc` at `setmetatable` time, so the
-- field is hidden for that moment (the metatable itself keeps it).
local gc_observable = false
local function set_without_gc(t, mt)
    local gc = raw_rawget(mt, "__gc")
    raw_rawset(mt, "__gc", nil)
    local ok, result = raw_pcall(raw_setmetatable, t, mt)
    raw_rawset(mt, "__gc", gc)
    if not ok then raw_error(result, 3) end
    return result
end
function setmetatable(...)
    local t, mt = ...
    local mt_type = raw_type(mt)
    if mt_type == "table" and raw_rawget(mt, "__mode") ~= nil then gc_observable = true end
    if mt_type == "table" and raw_type(t) == "table" and raw_rawget(mt, "__gc") ~= nil then
        local current = dbg_getmetatable(t)
        if current == nil or raw_rawget(current, "__metatable") == nil then return set_without_gc(t, mt) end
    end
    if raw_type(t) == "table" and (mt_type == "table" or (mt == nil and raw_select("#", ...) >= 2)) then
        local current = dbg_getmetatable(t)
        if current == nil or raw_rawget(current, "__metatable") == nil then
            return raw_setmetatable(t, mt)  -- cannot fail
        end
    end
    local ok, result = raw_pcall(raw_setmetatable, ...)
    if ok then return result end
    local called = "'" .. (dbg_getinfo(1, "n").name or "setmetatable") .. "'"
    raw_error((str_gsub(result, "^bad argument (#%d+) to '[^']*'", "bad argument %1 to " .. called)), 2)
end

---------------------------------------------------------------------------------------------------
-- errors
local ERROR_MT = {__wippy = "error"}
local error_methods = {}
ERROR_MT.__index = error_methods

-- The first frame at or above `level` that runs user code (user chunks are named "@path"; the
-- sandbox's own Lua halves are named "=name" and skipped).
function where(level, co)
    while true do
        local info
        if co then info = dbg_getinfo(co, level, "Sl") else info = dbg_getinfo(level + 1, "Sl") end
        if info == nil then return nil, nil end
        if str_sub(info.source, 1, 1) == "@" and info.currentline and info.currentline > 0 then
            return info.short_src, info.currentline
        end
        level = level + 1
    end
end

local function make_error(message, kind, retryable, details, context, cause, level)
    local e = {
        _message = message, _kind = kind or "", _retryable = retryable, _details = details,
        _context = context, _cause = cause,
    }
    if level then
        e._file, e._line = where(level + 1)
        e._stack = dbg_traceback("", level + 1)
    end
    return raw_setmetatable(e, ERROR_MT)
end

-- Full Go-style Error() text: wrap contexts, outermost first.
local function error_string(e)
    local parts = {}
    local cur = e
    while raw_getmetatable(cur) == ERROR_MT and cur._context do
        parts[#parts + 1] = cur._context
        cur = cur._cause
    end
    if raw_getmetatable(cur) == ERROR_MT then
        parts[#parts + 1] = cur._message
    else
        parts[#parts + 1] = raw_tostring(cur)
    end
    return tbl_concat(parts, ": ")
end

ERROR_MT.__tostring = function(e) return e._message end
ERROR_MT.__concat = function(a, b)
    local sa = raw_getmetatable(a) == ERROR_MT and a._message or a
    local sb = raw_getmetatable(b) == ERROR_MT and b._message or b
    return sa .. sb
end
ERROR_MT.__export = error_string

function error_methods:kind() return self._kind end
function error_methods:message() return self._message end
function error_methods:retryable() return self._retryable end
function error_methods:details()
    local d = self._details
    if d == nil or raw_next(d) == nil then return nil end
    return d
end
function error_methods:stack() return self._stack or "" end

---------------------------------------------------------------------------------------------------
-- Host functions: Python returns (RAISE, message) to raise a Lua error at the caller's line.
-- lupa ties every Python handle on a Lua value made during a host call to the calling coroutine, and
-- using or dropping that handle after the coroutine is collected crashes; the host keeps some (module
-- tables, for one). So a coroutine that calls the host lives as long as this sandbox does.
local host_callers = {}
local function check_raise(a, ...)
    if a == RAISE then raw_error((...), 2) end
    return a, ...
end
local function wrap_host(f)
    return function(...)
        host_callers[co_running()] = true
        return check_raise(f(...))
    end
end

local function new_error(kind, message, retryable, details)
    return make_error(message, kind, retryable, details, nil, nil, nil)
end

---------------------------------------------------------------------------------------------------
-- Commands: the only way Lua talks to a driving host. A shim yields (HOST, cmd) and returns the reply.
local function host_command(cmd)
    local file, line = where(2)
    cmd.where = file and (file .. ":" .. line) or "?"
    return co_yield(HOST, cmd)
end

-- The rest of the environment (prelude_extras.lua), loaded on first use.
local extras_code, extras = host.extras_code, nil
local function more()
    if extras == nil then
        extras = bind(load_cached(extras_code, "=prelude_extras.lua"), _ENV)({
            type = raw_type, error = raw_error, tostring = raw_tostring, getmetatable = raw_getmetatable,
            tonumber = raw_tonumber, str_match = str_match, dbg_traceback = dbg_traceback,
            co_resume = co_resume, co_yield = co_yield, co_status = co_status, co_running = co_running,
            co_close = co_close, co_isyieldable = co_isyieldable,
            ERROR_MT = ERROR_MT, make_error = make_error, error_string = error_string, where = where,
            new_thread = new_thread, wrap_host = wrap_host, HOST = HOST, host = host,
            budget_hit = function() return budget_hit end,
            pcall = raw_pcall, rawget = raw_rawget, budget_refill = budget_refill,
        })
    end
    return extras
end

-- Side effects (uuid.v4, crypto.random.*, ...): in a workflow a command the host records as a SideEffect
-- marker; elsewhere the value comes straight from the sandbox's seeded generator.
local produce = wrap_host(host.produce)
local function side_effect(name, ...)
    if host.deterministic then
        return host_command({kind = KIND.side_effect, name = name, args = tbl_pack(...)})
    end
    return produce(name, ...)
end

-- Resume a process coroutine and classify what it did:
--   "command", cmd            a shim asked the host for something
--   "yield", n, values...     a bare coroutine.yield at the top of the coroutine
--   "done", n, values...      the function returned
--   "error", failure          it raised
local function classify(co, ok, ...)
    if not ok then
        local e = (...)
        if e == "not enough memory" then
            -- Lua's memory error (no position): the host lends the room to describe it (the coroutine
            -- is dead, so no user code runs on it), and nothing more is loaded.
            host.memory_grace()
            local file, line = where(0, co)
            return "error", {message = e, kind = "Internal", file = file, line = line}
        end
        return "error", more().describe_failure(co, e)
    end
    if co_status(co) == "dead" then
        return "done", raw_select("#", ...), ...
    end
    if (...) == HOST then
        return "command", (raw_select(2, ...))
    end
    return "yield", raw_select("#", ...), ...
end

-- Process coroutines live in this table and cross to Python as integer handles (lupa would hand a
-- thread back to Lua as its function).
local threads, next_handle = {}, 0
local function spawn(fn)
    next_handle = next_handle + 1
    threads[next_handle] = new_thread(fn)
    return next_handle
end

-- Where a suspended coroutine waits: the innermost line of app code on its stack.
local function thread_where(handle)
    local co = threads[handle]
    if co == nil then return nil end
    local file, line = where(0, co)
    return file and (file .. ":" .. line) or nil
end

-- Replay reports: the line each return of app code in this coroutine left from (its last one is the
-- line of the function's own return). Only turned on when a report needs it: a hook costs time.
local last_return = nil
local function trace_returns(handle)
    local co = threads[handle]
    if co == nil then return end
    local hook, mask = with_lines(function(event)
        if event == "return" then
            local info = dbg_getinfo(2, "Sl")
            if info and str_sub(info.source, 1, 1) == "@" and info.currentline and info.currentline > 0 then
                last_return = info.short_src .. ":" .. info.currentline
            end
        else
            budget_hook()
        end
    end, "r")
    dbg_sethook(co, hook, mask, HOOK_EVERY)
end

local function settle(handle, status, ...)
    if status == "done" or status == "error" then threads[handle] = nil end
    return status, ...
end

-- Each resume also costs budget (a tenth of a hook, about a thousand instructions): switching coroutines
-- is work the count hook does not see, and without this, thousands of coroutines that each run a few
-- instructions and yield would never exhaust a turn's budget.
local RESUME_COST = 0.1
local function resume(handle, ...)
    local co = threads[handle]
    if co == nil then return "error", {message = "resume of a finished coroutine", kind = "Internal"} end
    budget_left = budget_left - RESUME_COST
    -- Spent: the coroutine fails at its first instruction, at its own line.
    if budget_left <= 0 then dbg_sethook(co, budget_hook, "", 1) end
    return settle(handle, classify(co, co_resume(co, ...)))
end

-- A host turn (one resume from the host, or one scheduler step: a workflow task) starts with the full
-- budget; every coroutine it resumes draws on it, so many short coroutines cannot run forever.
local function begin_turn()
    budget_left = budget_per_turn
    budget_hit = false
    dbg_sethook(budget_hook, "", HOOK_EVERY)
end

local function resume_turn(handle, ...)
    begin_turn()
    return resume(handle, ...)
end

local function kill(handle)
    local co = threads[handle]
    threads[handle] = nil
    if co ~= nil and co_status(co) == "suspended" then co_close(co) end
end

---------------------------------------------------------------------------------------------------
-- Lua 5.1 names Wippy code uses, and removal of everything a sandbox must not offer.
_G.unpack = tbl_unpack
table.getn = function(t) return #t end
table.maxn = function(t)
    local m = 0
    for k in raw_pairs(t) do
        if raw_type(k) == "number" and k > m then m = k end
    end
    return m
end
-- Pattern matching runs in C, where no hook reaches it: a pattern that backtracks without end stops only
-- at the host's watchdog. So that its report can name the line, a pattern that can backtrack (two or
-- more repetition items) tells the host where it runs first (not known when the user's call is itself
-- a tail call: Lua keeps no frame for it). The wrappers tail-call the C functions, which keeps their
-- error messages and positions.
local note_line = host_fn(host.call, "note_line")
local function note(p)
    if raw_type(p) == "string" and str_find(p, "[%*%+%-%?].*[%*%+%-%?]") then
        local file, line = where(2)
        if file then note_line(file, line) end
    end
end
math.pow = function(a, b) return a ^ b end
math.log10 = function(x) return math.log(x, 10) end
math.mod = math.fmod
string.dump = nil

_G.print = wrap_host(host.print)
-- (`coroutine` and `os` come back as this sandbox's own, on first use; see the lazy globals below.)
for _, name in raw_pairs({"io", "debug", "package", "python", "load", "loadstring", "loadfile", "dofile",
                          "collectgarbage", "rawlen", "utf8", "require", "coroutine", "os"}) do
    _G[name] = nil
end
math.randomseed(host.random_seed)

-- Declared types and the integer/number/string/boolean casts (types.lua) load on first use: most
-- scripts never touch them, and many only declare types. A declaration makes a type value at once (the
-- descriptor key and metatable are shared with types.lua); using one (a call, a method or a field)
-- loads types.lua first, which fills in the metatable.
local types_code, regex_find, types_loaded = host.types_code, host.regex_find, false
local TYPE_KEY, TYPE_MT = {}, {}
local function load_types()
    if types_loaded then return end
    raw_setmetatable(string, nil)
    bind(load_cached(types_code, "=types.lua"), _ENV)(TYPE_KEY, TYPE_MT, regex_find)
    types_loaded = true
end
TYPE_MT.__index = function(t, k)
    load_types()
    return TYPE_MT.__index(t, k)
end
TYPE_MT.__call = function(t, ...)
    load_types()
    return TYPE_MT.__call(t, ...)
end
function __wftype(name, build)
    return raw_setmetatable({[TYPE_KEY] = {tag = "named", name = name, build = build}}, TYPE_MT)
end
-- Globals made on first use: name -> function returning the value (types; the runtime adds more).
local lazy_globals = {}
local function lazy_global(name, make) lazy_globals[name] = make end
for _, name in ipairs({"integer", "number", "boolean"}) do
    lazy_global(name, function() load_types() return raw_rawget(_G, name) end)
end
for _, name in ipairs({"errors", "os"}) do
    lazy_global(name, function() return more()[name] end)
end
-- Wippy's `payload` is a global in every entry, made by the host on first use.
lazy_global("payload", host_fn(host.call, "open_payload"))
-- Functions the process runtime adds to `coroutine` (coroutine.spawn), kept until code uses it.
local coroutine_additions = {}
lazy_global("coroutine", function()
    local co = more().coroutine
    for k, v in raw_pairs(coroutine_additions) do co[k] = v end
    return co
end)
local function add_to_coroutine(name, fn)
    coroutine_additions[name] = fn
    local co = raw_rawget(_G, "coroutine")
    if raw_type(co) == "table" then co[name] = fn end
end
raw_setmetatable(_G, {__index = function(_, k)
    local make = lazy_globals[k]
    if make == nil then return nil end
    lazy_globals[k] = nil
    local v = make()
    raw_rawset(_G, k, v)
    return v
end})
-- Wippy's VM reads an error object where a string is expected as its message (`string.find(err, "x")`).
-- (Every sandbox's string table starts as a copy of the C library, so these wrap the C functions.)
local function unwrapping(f)
    return function(s, ...)
        if raw_getmetatable(s) == ERROR_MT then s = s._message end
        return f(s, ...)
    end
end
local function unwrapping_noting(f)
    return function(s, p, ...)
        note(p)
        if raw_getmetatable(s) == ERROR_MT then s = s._message end
        return f(s, p, ...)
    end
end
for _, name in ipairs({"sub", "len", "lower", "upper"}) do string[name] = unwrapping(string[name]) end
for _, name in ipairs({"find", "match", "gmatch", "gsub"}) do string[name] = unwrapping_noting(string[name]) end
raw_setmetatable(string, {__call = function(_, ...)
    load_types()
    return string(...)
end})

---------------------------------------------------------------------------------------------------
-- Chunk loading: text only, each chunk in its own environment (own `require`) over the globals.
-- `code` is source text, or bytecode the host compiled from checked source (mode "b"); user code
-- itself can never load anything.
local function chunk_env(req)
    return raw_setmetatable({require = req}, {__index = _G, __newindex = _G})
end
local function load_chunk(code, chunkname, req, mode)
    local fn, err = raw_load(code, "@" .. chunkname, mode or "t", chunk_env(req))
    if not fn then return nil, err end
    return fn, nil
end

-- A chunk the host compiled and the state keeps (by number; the code comes along unless the state has
-- it), given its own environment as if freshly loaded.
local function load_compiled(id, code, name, req)
    return bind(state_chunk(id, code, name), chunk_env(req))
end

-- `require` for one chunk: Python resolves the name to a module value, or to a library chunk that is
-- run here (in the requiring coroutine, under its budget) and then cached by Python. A name the entry
-- neither lists nor imports is looked up in the globals, as Wippy's `require` does (errors, payload,
-- os, channel, string, ...); `value` is then the message for a name that is not there either.
-- `resolve` is the Python half of a host function (wrapped here: one crossing fewer for the host); the
-- host hears of each library run through its `library_loaded`.
local library_loaded = host_fn(host.call, "library_loaded")
local function make_require(resolve)
    resolve = wrap_host(resolve)
    return function(name)
        local what, value, target = resolve(name)
        if what == "global" then
            local found = _G[name]
            if found == nil then raw_error(value, 2) end
            return found
        end
        if what ~= "library" then return value end
        local ok, mod = raw_pcall(value)
        library_loaded(target, ok, mod)
        if not ok then raw_error(mod, 0) end
        return mod
    end
end

-- What a process's main function returned that cannot cross into a payload (a function, a coroutine,
-- a channel): a failure naming it and the best position known (a function's own definition, else the
-- end of `main`); nil when every value can cross.
local function bad_result(main, n, ...)
    for i = 1, n do
        local v = raw_select(i, ...)
        local t = raw_type(v)
        local what = (t == "function" and "a function") or (t == "thread" and "a coroutine")
            or (t == "userdata" and "a userdata") or (wippy_tag(v) == "channel" and "a channel") or nil
        if what ~= nil then
            local info = t == "function" and dbg_getinfo(v, "S") or nil
            local line = info and info.linedefined
            if info == nil or str_sub(info.source, 1, 1) ~= "@" then
                info = dbg_getinfo(main, "S")
                line = info.lastlinedefined
            end
            local f = {kind = "Internal", retryable = false}
            if str_sub(info.source, 1, 1) == "@" then f.file, f.line = info.short_src, line end
            f.message = "returned " .. what .. ", which cannot be a result (results must be nil, booleans, "
                .. "numbers, strings or tables)"
            return f
        end
    end
    return nil
end

-- A script returns either a table of functions (method picked by name) or a bare function.
local function pick_method(mod, method)
    if raw_type(mod) == "function" then return mod, nil end
    if raw_type(mod) == "table" then
        local f = mod[method]
        if raw_type(f) == "function" then return f, nil end
        return nil, str_format("method '%s' not found in the table the script returned", method)
    end
    return nil, str_format("script must return a function or a table with method '%s', got %s", method, raw_type(mod))
end

return {
    HOST = HOST,
    host_command = host_command,
    side_effect = side_effect,
    wrap_host = wrap_host,
    new_error = new_error,
    where = where,  -- (level) -> file, line of the first user frame at or above level
    error_string = error_string,
    error_chain = function(e) return more().error_chain(e) end,
    wippy_tag = wippy_tag,
    is_error = function(v) return raw_getmetatable(v) == ERROR_MT end,
    spawn = spawn,
    thread_where = thread_where,
    trace_returns = trace_returns,
    coverage_lines = coverage_lines,
    hook_mask = function(handle) return (raw_select(2, dbg_gethook(threads[handle]))) end,
    last_return = function() return last_return end,
    resume = resume,
    resume_turn = resume_turn,
    begin_turn = begin_turn,
    kill = kill,
    collect = function() collectgarbage("collect") end,
    load_chunk = load_chunk,
    load_compiled = load_compiled,
    yield = co_yield,
    add_to_coroutine = add_to_coroutine,
    pick_method = pick_method,
    -- "file:line" of the user's code that called into a library function `level` frames up, or nil
    user_line = function(level)
        local file, line = where(level + 1)
        return file and (file .. ":" .. line) or nil
    end,
    bad_result = bad_result,
    make_require = make_require,
    lazy_global = lazy_global,
    load_code = function(code, name) return bind(load_cached(code, name), _ENV) end,
    gc_observable = function() return gc_observable end,
    status = co_status,
    pack = tbl_pack,
    KIND = KIND,  -- the host command kinds, for the runtime sections
}
