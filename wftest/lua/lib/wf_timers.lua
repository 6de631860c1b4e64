-- The yielding half of `time` inside workflows: sleep, after, timer, ticker.
local api, P, host, common = ...
local hc = api.host_command
local raw_type, raw_error, raw_setmetatable, raw_getmetatable = type, error, setmetatable, getmetatable
local tbl_pack = table.pack
local new_error = api.new_error
local invalid, check_target, copy, new_payload = common.invalid, common.check_target, common.copy, common.new_payload

local duration_ns = host.duration_ns

local TIMER_MT = {__wippy = "timer"}
local timer_methods = {}
TIMER_MT.__index = timer_methods
function timer_methods:response() return self._ch end
timer_methods.channel = timer_methods.response
function timer_methods:stop()
    local ok = hc({kind = "timer.stop", timer = self._id})
    P.close(P.channel_id(self._ch))
    return ok
end
function timer_methods:reset(d)
    local ns = duration_ns(d)
    if ns == nil or ns <= 0 then raw_error("timer:reset: duration must be positive", 2) end
    return hc({kind = "timer.reset", timer = self._id, duration = ns})
end

local TICKER_MT = {__wippy = "ticker"}
local ticker_methods = {}
TICKER_MT.__index = ticker_methods
function ticker_methods:response() return self._ch end
ticker_methods.channel = ticker_methods.response
function ticker_methods:stop()
    hc({kind = "ticker.stop", timer = self._id})
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
        hc({kind = "timer.sleep", duration = ns})
    end,
    after = function(d)
        local ch, err = start_timer(d, "timer.start", 1)
        return ch, (ch == nil) and err or nil
    end,
    timer = function(d)
        local ch, id = start_timer(d, "timer.start", 1)
        if ch == nil then return nil, id end
        return raw_setmetatable({_ch = ch, _id = id}, TIMER_MT), nil
    end,
    ticker = function(d)
        local ch, id = start_timer(d, "ticker.start", 16)
        if ch == nil then return nil, id end
        return raw_setmetatable({_ch = ch, _id = id}, TICKER_MT), nil
    end,
}

return time_ext
