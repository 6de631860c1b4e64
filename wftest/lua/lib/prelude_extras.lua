-- The parts of the sandbox prelude most scripts never touch: the `errors` library, the `coroutine`
-- wrappers, `os`, and the failure descriptions the host reads. prelude.lua loads this on first use
-- (through the globals `errors`, `coroutine` and `os`, or a failure) and hands it what it needs: the
-- functions captured before any user code ran, and its own error objects, host functions and budget.
local core = ...
local raw_type, raw_error, raw_tostring = core.type, core.error, core.tostring
local raw_getmetatable = core.getmetatable
local raw_tonumber, str_match, dbg_traceback = core.tonumber, core.str_match, core.dbg_traceback
local co_resume, co_yield, co_status = core.co_resume, core.co_yield, core.co_status
local co_running, co_close, co_isyieldable = core.co_running, core.co_close, core.co_isyieldable
local ERROR_MT, make_error, error_string, where = core.ERROR_MT, core.make_error, core.error_string, core.where
local new_thread, wrap_host, HOST = core.new_thread, core.wrap_host, core.HOST
local host, budget_hit = core.host, core.budget_hit
local raw_pcall, raw_rawget, budget_refill = core.pcall, core.rawget, core.budget_refill

---------------------------------------------------------------------------------------------------
-- errors
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


---------------------------------------------------------------------------------------------------
-- User coroutines forward HOST yields outward and resume with the host's reply, so a command issued
-- inside coroutine.wrap/resume still reaches the host.
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
    isyieldable = co_isyieldable,
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

---------------------------------------------------------------------------------------------------
-- os: Wippy's clock-only os module backed by the host clock.
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

---------------------------------------------------------------------------------------------------
-- An error's chain outer -> inner as plain tables (Wippy's failure converter writes it).
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
        -- A user __tostring runs here under the budget (the host's thread has the hook too); if it
        -- fails or runs out, the report says so instead.
        local ok, msg = raw_pcall(raw_tostring, e)
        if not ok then
            budget_refill()
            msg = "error object's __tostring failed: " .. (raw_type(msg) == "string" and msg or raw_type(msg))
        elseif raw_type(msg) ~= "string" then
            msg = "(error object's __tostring returned a " .. raw_type(msg) .. ")"
        elseif raw_type(e) == "table" then
            local mt = raw_getmetatable(e)
            if not (raw_type(mt) == "table" and raw_rawget(mt, "__tostring")) then
                msg = "(error object is a table value)"
            end
        elseif e == nil then
            msg = "nil"
        end
        f.message = msg
        local file, line = str_match(msg, "^([^:\n]+%.lua):(%d+): ")
        if file then f.file, f.line = file, raw_tonumber(line) else f.file, f.line = where(0, co) end
    end
    f.budget = budget_hit()
    f.traceback = dbg_traceback(co, nil, 0)
    return f
end

return {errors = errors, coroutine = user_coroutine, os = os_lib, error_chain = error_chain,
        describe_failure = describe_failure}
