-- The yielding half of `time` inside workflows: sleep, after, timer, ticker.
local api, P, host, common = ...
local hc, KIND, invalid = common.hc, common.KIND, common.invalid
local raw_error, raw_setmetatable = error, setmetatable

local duration_ns = host.duration_ns

-- A timer or ticker object: `response()` (alias `channel()`) is the channel it fires into.
local function channel_object(wippy_type)
    local methods = {}
    function methods:response() return self._ch end
    methods.channel = methods.response
    return {__wippy = wippy_type, __index = methods}, methods
end

local TIMER_MT, timer_methods = channel_object("timer")
function timer_methods:stop()
    local ok = hc({kind = KIND.timer_stop, timer = self._id})
    P.close(P.channel_id(self._ch))
    return ok
end
function timer_methods:reset(d)
    local ns = duration_ns(d)
    if ns == nil or ns <= 0 then raw_error("timer:reset: duration must be positive", 2) end
    return hc({kind = KIND.timer_reset, timer = self._id, duration = ns})
end

local TICKER_MT, ticker_methods = channel_object("ticker")
function ticker_methods:stop()
    hc({kind = KIND.ticker_stop, timer = self._id})
    P.close(P.channel_id(self._ch))
    return true
end

local function start_timer(d, kind, size)
    local ns, err = duration_ns(d)
    if ns == nil then return nil, invalid(err) end
    if ns <= 0 then return nil, invalid("duration must be positive") end
    local ch = P.external_channel(size)
    local id = hc({kind = kind, duration = ns, channel = P.channel_id(ch)})
    return ch, id
end

local time_ext = {
    sleep = function(d)
        local ns = duration_ns(d)
        if ns == nil then return end
        hc({kind = KIND.timer_sleep, duration = ns})
    end,
    after = function(d)
        local ch, err = start_timer(d, KIND.timer_start, 1)
        return ch, (ch == nil) and err or nil
    end,
    timer = function(d)
        local ch, id = start_timer(d, KIND.timer_start, 1)
        if ch == nil then return nil, id end
        return raw_setmetatable({_ch = ch, _id = id}, TIMER_MT), nil
    end,
    ticker = function(d)
        local ch, id = start_timer(d, KIND.ticker_start, 16)
        if ch == nil then return nil, id end
        return raw_setmetatable({_ch = ch, _id = id}, TICKER_MT), nil
    end,
}

return time_ext
