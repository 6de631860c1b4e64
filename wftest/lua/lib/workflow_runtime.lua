-- The workflow flavour of Wippy's funcs / time / workflow / process modules. Every Temporal-visible
-- action is a command yielded to the worker; everything else stays in Lua. Each module's Lua half is a
-- section loaded on first use (a fresh Lua state is made per execution, so unused code costs nothing).
-- call: the Python half of the host's functions (see `host_function` in wftest.lua.sandbox), which takes
-- the function's name first; sections and files: see `section` below.
local api, P, call, sections, files = ...
local function host_fn(name) return api.wrap_host(function(...) return call(name, ...) end) end
-- What the sections get of the host.
local host = {duration_ns = host_fn("duration_ns"), info = host_fn("info")}
local raw_type, raw_error, raw_setmetatable = type, error, setmetatable
local new_error = api.new_error

-- What every section shares: the host command and its kinds, argument checks, copies, payloads.
local common = {hc = api.host_command, KIND = api.KIND}

function common.invalid(msg) return new_error("Invalid", msg, false, nil) end

function common.check_target(target)
    if raw_type(target) ~= "string" or target == "" then return "target must be a non-empty 'namespace:name' string" end
    local ns, name = string.match(target, "^([^:]*):(.*)$")
    if not ns or ns == "" then return "target '" .. target .. "' has no namespace (expected 'namespace:name')" end
    if name == "" then return "target '" .. target .. "' has no name (expected 'namespace:name')" end
    return nil
end

-- What starts a child or a process: an entry id and a non-empty host. The Invalid error, or nil.
function common.check_start(id, host_id)
    local bad = common.check_target(id)
    if bad then return common.invalid(bad) end
    if raw_type(host_id) ~= "string" or host_id == "" then return common.invalid("host must be a non-empty string") end
    return nil
end

function common.copy(t)
    local out = {}
    if t then for k, v in pairs(t) do out[k] = v end end
    return out
end

-- A copy of `base` with the fields of `extra` (the table given to a builder's `what`, e.g.
-- with_options); a non-table is an error at the builder's caller.
function common.merged(base, extra, what)
    if raw_type(extra) ~= "table" then raw_error(what .. " expects a table", 3) end
    local out = common.copy(base)
    for k, v in pairs(extra) do out[k] = v end
    return out
end

-- A builder object (an executor, a workflow's spawner) that holds options and a context: with_options
-- and with_context make a new one; actors and scopes do not apply here. `new(options, context)` and the
-- methods table, for the builder's own methods.
function common.builder(wippy_type)
    local methods = {}
    local mt = {__wippy = wippy_type, __index = methods}
    local function new(options, context) return raw_setmetatable({_options = options, _context = context}, mt) end
    function methods:with_options(t) return new(common.merged(self._options, t, "with_options"), self._context) end
    function methods:with_context(t) return new(self._options, common.merged(self._context, t, "with_context")) end
    function methods:with_actor() return self end
    function methods:with_scope() return self end
    return new, methods
end

-- Payload objects: a decoded value with Wippy's accessor methods.
local PAYLOAD_MT = {__wippy = "payload"}
local payload_methods = {}
PAYLOAD_MT.__index = payload_methods
PAYLOAD_MT.__tostring = function() return "payload" end
function payload_methods:data() return self._value, nil end
function payload_methods:get_format() return "lua/any" end
function payload_methods:unmarshal() return self._value, nil end
function common.new_payload(value) return raw_setmetatable({_value = value}, PAYLOAD_MT) end

-- sections: a table of the sections' codes by name, or a host function giving the code of a name (then
-- nothing holds the codes once loaded). files names each section's file (the chunk name a Lua state
-- caches it under: workflows and plain processes have different `process` sections).
local codes, loaded = sections, {}
local function section(name)
    local s = loaded[name]
    if s == nil then
        local code = function() return codes(name) end
        if raw_type(codes) == "table" then code = codes[name] end
        local file = files and files[name] or ("wf_" .. name)
        s = api.load_code(code, "=" .. file .. ".lua")(api, P, host, common)
        loaded[name] = s
    end
    return s
end
common.section = section

-- `process` is a global in workflows: made on first use.
api.lazy_global("process", function() return section("process").process end)

-- The workflow `time` module: the yielding functions and the unit constants at once; everything else
-- (Time and Duration values, parsing, formatting) loads on first use, since many workflows only sleep.
-- The host's `open_time` makes the rest.
local UNITS = {NANOSECOND = 1.0, MICROSECOND = 1e3, MILLISECOND = 1e6, SECOND = 1e9, MINUTE = 6e10, HOUR = 3.6e12}
local function lazy_time()
    local load_full = host_fn("open_time")
    local timers = section("timers")
    local m = {}
    for k, v in pairs(timers) do m[k] = v end
    for k, v in pairs(UNITS) do m[k] = v end
    return raw_setmetatable(m, {__index = function(t, k)
        raw_setmetatable(t, nil)
        for key, value in pairs(load_full()) do
            if rawget(t, key) == nil then rawset(t, key, value) end
        end
        return rawget(t, k)
    end})
end

-- Copy fields into a module table (done in Lua: Python must not read Lua functions mid-coroutine).
local function extend(module, fields)
    for k, v in pairs(fields) do module[k] = v end
    return module
end

return {
    lazy_time = lazy_time,
    section = section,
    extend = extend,
    resolve_future = function(...) return section("funcs").resolve_future(...) end,
    deliver = function(...) return section("process").deliver(...) end,
    deliver_event = function(...) return section("process").deliver_event(...) end,
    -- nothing was ever delivered while the process section is not loaded: nothing to load for that
    unheard = function()
        local s = loaded.process
        if s == nil or s.unheard == nil then return "", "" end
        return s.unheard()
    end,
}
