-- The sandbox prelude: runs once in every fresh Lua state, before any user code.
-- It receives the host table from Python, builds Wippy's global environment (errors, os, 5.1 names,
-- command-passing coroutines) and returns the private API the Python side drives.
local host = ...

local raw_type, raw_error, raw_pcall, raw_tostring = type, error, pcall, tostring
local raw_getmetatable, raw_setmetatable, raw_rawget, raw_rawset = getmetatable, setmetatable, rawget, rawset
local collectgarbage = collectgarbage
local raw_select, raw_load, raw_next, raw_pairs = select, load, next, pairs
local co_create, co_resume, co_yield, co_status = coroutine.create, coroutine.resume, coroutine.yield, coroutine.status
local co_running, co_close = coroutine.running, coroutine.close
local dbg_sethook, dbg_traceback, dbg_getinfo = debug.sethook, debug.traceback, debug.getinfo
local str_match, str_format, str_sub, str_find = string.match, string.format, string.sub, string.find
local tbl_concat, tbl_unpack, tbl_pack = table.concat, table.unpack, table.pack

local RAISE = host.RAISE
local HOST = raw_setmetatable({}, {__name = "wftest.host_command"})

---------------------------------------------------------------------------------------------------
-- Instruction budget: a count hook on every coroutine; the host resets the counter each turn.
local HOOK_EVERY = 10000
local budget_left = host.budget_hooks
local budget_per_turn = host.budget_hooks
local budget_hit = false
local function budget_hook()
    budget_left = budget_left - 1
    if budget_left <= 0 then
        budget_hit = true
        raw_error("instruction budget exceeded (runaway loop?)", 2)
    end
end

local function new_thread(fn)
    local co = co_create(fn)
    dbg_sethook(co, budget_hook, "", HOOK_EVERY)
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

---------------------------------------------------------------------------------------------------
-- errors (spec §1.1)
local ERROR_MT = {__wippy = "error"}
local error_methods = {}
ERROR_MT.__index = error_methods

-- The first frame at or above `level` that runs user code (user chunks are named "@path"; the
-- sandbox's own Lua halves are named "=name" and skipped).
local function where(level, co)
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

local errors = {
    NOT_FOUND = "NotFound", ALREADY_EXISTS = "AlreadyExists", INVALID = "Invalid",
    PERMISSION_DENIED = "PermissionDenied", UNAVAILABLE = "Unavailable", INTERNAL = "Internal",
    CANCELED = "Canceled", CONFLICT = "Conflict", TIMEOUT = "Timeout", RATE_LIMITED = "RateLimited",
    UNKNOWN = "",
}

function errors.new(spec)
    local t = raw_type(spec)
    -- (no tail calls here: the creation site is found by stack level)
    if t == "string" then
        local e = make_error(spec, "", nil, nil, nil, nil, 2)
        return e
    end
    if t ~= "table" or raw_getmetatable(spec) == ERROR_MT then
        raw_error("errors.new expects a message string or a table with a message field", 2)
    end
    local message = spec.message
    if raw_type(message) ~= "string" then
        raw_error("errors.new: 'message' field is required and must be a string", 2)
    end
    local kind = spec.kind
    if kind ~= nil and raw_type(kind) ~= "string" then raw_error("errors.new: 'kind' must be a string", 2) end
    local retryable = spec.retryable
    if retryable ~= nil and raw_type(retryable) ~= "boolean" then
        raw_error("errors.new: 'retryable' must be a boolean", 2)
    end
    local details = spec.details
    if details ~= nil and raw_type(details) ~= "table" then raw_error("errors.new: 'details' must be a table", 2) end
    local e = make_error(message, kind, retryable, details, nil, nil, 2)
    return e
end

function errors.wrap(err, context)
    if err == nil then return nil end
    if raw_type(context) ~= "string" then raw_error("errors.wrap: context must be a string", 2) end
    if raw_getmetatable(err) == ERROR_MT then
        local e = make_error(err._message, err._kind, err._retryable, err._details, context, err, 2)
        e._stack = err._stack or e._stack
        return e
    end
    local inner = make_error(raw_tostring(err), "", nil, nil, nil, nil, 2)
    local e = make_error(inner._message, "", nil, nil, context, inner, 2)
    return e
end

function errors.is(err, kind)
    return raw_getmetatable(err) == ERROR_MT and err._kind == kind
end

function errors.call_stack(err)
    if raw_getmetatable(err) ~= ERROR_MT or not err._file then return nil end
    return {thread = "main", frames = {{level = 0, source = err._file, line = err._line, name = "", type = "lua"}}}
end

_G.errors = errors

---------------------------------------------------------------------------------------------------
-- Host functions: Python returns (RAISE, message) to raise a Lua error at the caller's line.
local function check_raise(a, ...)
    if a == RAISE then raw_error((...), 2) end
    return a, ...
end
local function wrap_host(f)
    return function(...) return check_raise(f(...)) end
end

local function new_error(kind, message, retryable, details)
    return make_error(message, kind, retryable, details, nil, nil, nil)
end

---------------------------------------------------------------------------------------------------
-- Commands: the only way Lua talks to a driving host. A shim yields (HOST, cmd) and returns the reply.
-- User coroutines forward HOST yields outward and resume with the host's reply, so a command issued
-- inside coroutine.wrap/resume still reaches the host.
local function host_command(cmd)
    local file, line = where(2)
    cmd.where = file and (file .. ":" .. line) or "?"
    return co_yield(HOST, cmd)
end

local function forward(co, ok, a, ...)
    if ok and a == HOST then
        return forward(co, co_resume(co, co_yield(HOST, ...)))
    end
    return ok, a, ...
end

local user_coroutine = {
    create = function(fn)
        if raw_type(fn) ~= "function" then raw_error("bad argument #1 to 'create' (function expected)", 2) end
        return new_thread(fn)
    end,
    resume = function(co, ...) return forward(co, co_resume(co, ...)) end,
    yield = co_yield,
    status = co_status,
    running = co_running,
    isyieldable = coroutine.isyieldable,
    close = co_close,
}
function user_coroutine.wrap(fn)
    local co = user_coroutine.create(fn)
    local function finish(ok, ...)
        if not ok then
            local e = ...
            if raw_type(e) == "string" then raw_error(e, 0) end
            raw_error(e, 0)
        end
        return ...
    end
    return function(...) return finish(user_coroutine.resume(co, ...)) end
end
_G.coroutine = user_coroutine

-- Side effects (uuid.v4, crypto.random.*, ...): in a workflow a command the host records as a SideEffect
-- marker (spec §2.4); elsewhere the value comes straight from the sandbox's seeded generator.
local produce = wrap_host(host.produce)
local function side_effect(name, ...)
    if host.deterministic then
        return host_command({kind = "side_effect", name = name, args = tbl_pack(...)})
    end
    return produce(name, ...)
end

---------------------------------------------------------------------------------------------------
-- An error's chain outer -> inner as plain tables (Wippy's failure converter writes it, spec §3.3).
local function error_chain(e)
    local out = {}
    local cur = e
    while raw_getmetatable(cur) == ERROR_MT do
        local msg = cur._context or cur._message
        out[#out + 1] = {msg = msg, kind = cur._kind, retry = cur._retryable, details = cur._details,
                         stack = cur._stack}
        if cur._context == nil then break end
        cur = cur._cause
    end
    return out
end

---------------------------------------------------------------------------------------------------
-- Failure description handed to the host: message, kind, file, line, traceback.
local function describe_failure(co, e)
    local f = {kind = "Internal", retryable = false}
    if raw_getmetatable(e) == ERROR_MT then
        f.message = error_string(e)
        f.kind = (e._kind ~= "" and e._kind) or "Internal"
        f.retryable = e._retryable
        f.details = e._details
        f.file, f.line = e._file, e._line
        if f.file == nil then f.file, f.line = where(0, co) end
        f.error = e
    else
        local msg = raw_tostring(e)
        if raw_type(e) == "table" then
            local mt = raw_getmetatable(e)
            if not (mt and mt.__tostring) then msg = "(error object is a table value)" end
        elseif e == nil then
            msg = "nil"
        end
        f.message = msg
        local file, line = str_match(msg, "^([^:\n]+%.lua):(%d+): ")
        if file then f.file, f.line = file, tonumber(line) else f.file, f.line = where(0, co) end
    end
    f.budget = budget_hit
    f.traceback = dbg_traceback(co, nil, 0)
    return f
end

-- Resume a process coroutine and classify what it did:
--   "command", cmd            a shim asked the host for something
--   "yield", n, values...     a bare coroutine.yield at the top of the coroutine
--   "done", n, values...      the function returned
--   "error", failure          it raised
local function classify(co, ok, ...)
    if not ok then
        return "error", describe_failure(co, (...))
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

local function settle(handle, status, ...)
    if status == "done" or status == "error" then threads[handle] = nil end
    return status, ...
end

local function resume(handle, ...)
    local co = threads[handle]
    if co == nil then return "error", {message = "resume of a finished coroutine", kind = "Internal"} end
    budget_left = budget_per_turn
    budget_hit = false
    return settle(handle, classify(co, co_resume(co, ...)))
end

local function kill(handle)
    local co = threads[handle]
    threads[handle] = nil
    if co ~= nil and co_status(co) == "suspended" then co_close(co) end
end

---------------------------------------------------------------------------------------------------
-- os: Wippy's clock-only os module backed by the host clock (spec §1.0).
local host_now_ns = host.now_ns
local os_lib = {platform = "wippy"}
function os_lib.time(t)
    if t == nil then return host_now_ns() // 1000000000 end
    return host.os_time(t)
end
function os_lib.clock()
    local ns = host_now_ns()
    return ns // 1000000000 + (ns % 1000000000) / 1e9
end
function os_lib.difftime(a, b) return a - (b or 0) end
os_lib.date = wrap_host(host.os_date)
_G.os = os_lib

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
math.pow = function(a, b) return a ^ b end
math.log10 = function(x) return math.log(x, 10) end
math.mod = math.fmod
string.dump = nil

_G.print = wrap_host(host.print)
for _, name in raw_pairs({"io", "debug", "package", "python", "load", "loadstring", "loadfile", "dofile",
                          "collectgarbage", "rawlen", "utf8", "require"}) do
    _G[name] = nil
end
math.randomseed(host.random_seed)

-- Declared types and the integer/number/string/boolean casts (types.lua) load on first use: most
-- scripts never touch them, and every execution gets a fresh state.
local types_code, types_loaded = host.types_code, false
local function load_types()
    if types_loaded then return end
    types_loaded = true
    raw_setmetatable(string, nil)
    raw_load(types_code, "=types.lua", "b")()
end
-- Globals made on first use: name -> function returning the value (types; the runtime adds more).
local lazy_globals = {}
local function lazy_global(name, make) lazy_globals[name] = make end
for _, name in ipairs({"__wftype", "integer", "number", "boolean"}) do
    lazy_global(name, function() load_types() return raw_rawget(_G, name) end)
end
raw_setmetatable(_G, {__index = function(_, k)
    local make = lazy_globals[k]
    if make == nil then return nil end
    lazy_globals[k] = nil
    local v = make()
    raw_rawset(_G, k, v)
    return v
end})
raw_setmetatable(string, {__call = function(_, ...)
    load_types()
    return string(...)
end})

---------------------------------------------------------------------------------------------------
-- Chunk loading: text only, each chunk in its own environment (own `require`) over the globals.
-- `code` is source text, or bytecode the host compiled from checked source (mode "b"); user code
-- itself can never load anything.
local function load_chunk(code, chunkname, req, mode)
    local env = raw_setmetatable({require = req}, {__index = _G, __newindex = _G})
    local fn, err = raw_load(code, "@" .. chunkname, mode or "t", env)
    if not fn then return nil, err end
    return fn, nil
end

-- `require` for one chunk: Python resolves the name to a module value, or to a library chunk that is
-- run here (in the requiring coroutine, under its budget) and then cached by Python.
local function make_require(resolve, finished)
    return function(name)
        local what, value, target = resolve(name)
        if what ~= "library" then return value end
        local ok, mod = raw_pcall(value)
        finished(target, ok, mod)
        if not ok then raw_error(mod, 0) end
        return mod
    end
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
    error_string = error_string,
    error_chain = error_chain,
    wippy_tag = wippy_tag,
    is_error = function(v) return raw_getmetatable(v) == ERROR_MT end,
    spawn = spawn,
    resume = resume,
    kill = kill,
    collect = function() collectgarbage("collect") end,
    load_chunk = load_chunk,
    pick_method = pick_method,
    make_require = make_require,
    lazy_global = lazy_global,
    load_code = function(code, name) return raw_load(code, name, "b") end,
    status = co_status,
    pack = tbl_pack,
}
