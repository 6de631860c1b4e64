-- funcs inside workflows: activities as commands, futures, executors.
local api, P, host, common = ...
local hc, KIND, invalid, check_target = common.hc, common.KIND, common.invalid, common.check_target
local new_payload, new_error = common.new_payload, api.new_error
local raw_setmetatable, tbl_pack = setmetatable, table.pack

-- Futures' metatable, made on first use (many workflows never start an async call).
local FUTURE_MT = nil
local function future_mt()
    if FUTURE_MT ~= nil then return FUTURE_MT end
    FUTURE_MT = {__wippy = "future"}
    local future_methods = {}
    FUTURE_MT.__index = future_methods
    FUTURE_MT.__tostring = function() return "future" end

    function future_methods:response() return self._ch end
    future_methods.channel = future_methods.response
    function future_methods:is_complete() return self._done end
    function future_methods:is_canceled() return self._canceled end
    function future_methods:result()
        if not self._done then return nil, nil end
        if self._err ~= nil then return nil, self._err end
        return self._payload, nil
    end
    function future_methods:error()
        if self._err ~= nil then return self._err, true end
        return nil, false
    end
    function future_methods:cancel()
        if self._done then return true end
        hc({kind = KIND.activity_cancel, future = self._id})
        self._canceled = true
        self._done = true
        self._err = new_error("Canceled", "operation canceled", false, nil)
        P.close(P.channel_id(self._ch))
        return true
    end
    return FUTURE_MT
end
local futures = {}

-- The worker resolves a future (in the signal phase of a workflow task).
local function resolve_future(id, value, err)
    local f = futures[id]
    if f == nil or f._done then return end
    futures[id] = nil
    f._done = true
    local ch = P.channel_id(f._ch)
    if err ~= nil then
        f._err = err
        P.push(ch, err)
    else
        f._payload = new_payload(value)
        P.push(ch, f._payload)
    end
    P.close(ch)
end

local function do_call(options, context, target, ...)
    local bad = check_target(target)
    if bad then return nil, invalid(bad) end
    return hc({kind = KIND.activity_call, target = target, args = tbl_pack(...), options = options, context = context})
end

local function do_async(options, context, target, ...)
    local bad = check_target(target)
    if bad then return nil, invalid(bad) end
    local ch = P.external_channel(1)
    local id, err = hc({kind = KIND.activity_start, target = target, args = tbl_pack(...), options = options,
                        context = context})
    if id == nil then return nil, err end
    local f = raw_setmetatable({_id = id, _ch = ch, _done = false, _canceled = false}, future_mt())
    futures[id] = f
    return f, nil
end

-- Executors (funcs.new), their builder made on first use.
local new_executor = nil
local function executor(options, context)
    if new_executor == nil then
        local methods
        new_executor, methods = common.builder("executor")
        -- The executor's context goes with the command: workflows leave it out, processes pass it on.
        function methods:call(target, ...) return do_call(self._options, self._context, target, ...) end
        function methods:async(target, ...) return do_async(self._options, self._context, target, ...) end
    end
    return new_executor(options, context)
end

local funcs = {
    call = function(target, ...) return do_call(nil, nil, target, ...) end,
    async = function(target, ...) return do_async(nil, nil, target, ...) end,
    new = function() return executor({}, {}) end,
}

return {funcs = funcs, resolve_future = resolve_future}
