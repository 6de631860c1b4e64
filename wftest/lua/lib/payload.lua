-- Wippy's `payload` module (runtime/lua/modules/payload): a value tagged with its format, and the
-- transcoder between formats. The objects live here; converting between encodings is the host's
-- `transcode(data, from, to)`, which returns `true, data` or `false, reason`.
local api, transcode = ...
local raw_type, raw_setmetatable, raw_getmetatable, raw_error = type, setmetatable, getmetatable, error
local new_error, is_error = api.new_error, api.is_error

local FORMAT = {
    JSON = "json/plain", YAML = "yaml/plain", STRING = "text/plain", GOLANG = "golang/any",
    LUA = "lua/any", BYTES = "application/octet-stream", MSGPACK = "application/msgpack",
    ERROR = "golang/error",
}
local LUA = FORMAT.LUA

local PAYLOAD_MT = {__wippy = "payload", __name = "payload"}
local methods = {}
PAYLOAD_MT.__index = methods

local function wrap(data, format)
    return raw_setmetatable({_data = data, _format = format}, PAYLOAD_MT)
end

-- Methods called on anything but a payload fail like Go's argument check does.
local function check(p, name)
    if raw_getmetatable(p) ~= PAYLOAD_MT then
        raw_error("bad argument #1 to '" .. name .. "' (payload expected)", 3)
    end
    return p
end

local function failed(what, reason)
    return nil, new_error("Internal", what .. ": " .. reason, false, nil)
end

-- The payload's value as Lua data: the value itself for the Lua format (and for errors), else the
-- host transcodes it.
local function to_lua(p, what)
    if p._format == LUA or p._format == FORMAT.ERROR then return p._data end
    local ok, data = transcode(p._data, p._format, LUA)
    if not ok then return failed(what, data) end
    return data
end

function methods.get_format(p)
    return check(p, "get_format")._format
end

function methods.data(p)
    return to_lua(check(p, "data"), "transcode failed")
end

function methods.unmarshal(p)
    return to_lua(check(p, "unmarshal"), "unmarshal failed")
end

function methods.transcode(p, format)
    check(p, "transcode")
    if raw_type(format) ~= "string" then
        local got = format == nil and "no value" or raw_type(format)
        raw_error("bad argument #2 to 'transcode' (string expected, got " .. got .. ")", 2)
    end
    if format == p._format then return wrap(p._data, format), nil end
    local ok, data = transcode(p._data, p._format, format)
    if not ok then return failed("transcode failed", data) end
    return wrap(data, format), nil
end

PAYLOAD_MT.__tostring = function(p) return "payload{format=" .. p._format .. "}" end

local module = {
    format = FORMAT,
    -- An error value keeps its own format; anything else is wrapped as Lua data.
    new = function(value)
        if is_error(value) then return wrap(value, FORMAT.ERROR) end
        return wrap(value, LUA)
    end,
}

return {module = module, wrap = wrap}
