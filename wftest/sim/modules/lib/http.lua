-- The Lua half of Wippy's `http` (server side: Request, Response) and `http_client` modules, and the
-- Stream objects both hand out. Objects are tables tagged by their metatable holding a handle; the work
-- happens in Python (wftest.lua.modules.http) through `py(op, ...)`, which answers
--   true, values...                       on success,
--   false, kind, message, retryable       with a Wippy error,
--   nil, message                          for a mistake that stops the caller (raised at its line).
local api, py, objects = ...

local getmetatable, setmetatable, error, type, pairs, ipairs = getmetatable, setmetatable, error, type, pairs, ipairs
local tostring, math_type = tostring, math.type

local position, raise, err = objects.position, objects.raise, objects.err
local check_self, check_string = objects.check_self, objects.check_string

-- value-returning methods: value, nil | nil, err
local function answer(ok, a, b, c)
    if ok == true then return a, nil end
    if ok == false then return nil, err(a, b, c) end
    raise(a)
end

-- Response methods: nil | err
local function answer_err(ok, a, b, c)
    if ok == true then return nil end
    if ok == false then return err(a, b, c) end
    raise(a)
end

-- {k = v} of string keys → flat {k1, v1, k2, v2, ...} and its length (numbers as text)
local function flat(t)
    local out, n = {}, 0
    if type(t) ~= "table" then return out, 0 end
    for k, v in pairs(t) do
        if type(k) == "string" and (type(v) == "string" or type(v) == "number" or type(v) == "boolean") then
            out[n + 1], out[n + 2] = k, tostring(v)
            n = n + 2
        end
    end
    return out, n
end

---------------------------------------------------------------------------------------------------
-- Streams

local STREAM_MT = {__name = "stream.Stream", __wippy = "stream.Stream"}
local STREAM = {}
STREAM_MT.__index = STREAM
STREAM_MT.__tostring = function() return "stream.Stream{}" end

local function new_stream(h) return setmetatable({_h = h}, STREAM_MT) end

function STREAM.read(self, size)
    check_self(self, STREAM_MT, "read")
    if size ~= nil and math_type(size) == nil then
        raise(("bad argument #2 to 'read' (number expected, got %s)"):format(type(size)))
    end
    return answer(py("stream_read", self._h, size))
end

function STREAM.close(self)
    check_self(self, STREAM_MT, "close")
    return answer(py("stream_close", self._h))
end

---------------------------------------------------------------------------------------------------
-- http: Request and Response

local REQ_MT = {__name = "http.Request", __wippy = "http.Request"}
local RES_MT = {__name = "http.Response", __wippy = "http.Response"}
local REQ, RES = {}, {}
REQ_MT.__index, RES_MT.__index = REQ, RES
RES_MT.__tostring = function() return "http.Response{}" end
REQ_MT.__tostring = function(self) local _, s = py("req_tostring", self._h); return s end

for _, name in ipairs({
    "method", "path", "query_params", "content_type", "content_length", "host", "remote_addr",
    "body", "body_json", "has_body", "params",
}) do
    REQ[name] = function(self)
        check_self(self, REQ_MT, name)
        return answer(py("req_" .. name, self._h))
    end
end

for _, name in ipairs({"query", "header", "accepts", "is_content_type", "param"}) do
    REQ[name] = function(self, arg)
        check_self(self, REQ_MT, name)
        return answer(py("req_" .. name, self._h, check_string(arg, 2, name)))
    end
end

function REQ.stream(self)
    check_self(self, REQ_MT, "stream")
    local h, e = answer(py("req_stream", self._h))
    if h == nil then return nil, e end
    return new_stream(h), nil
end

function REQ.parse_multipart(self)
    check_self(self, REQ_MT, "parse_multipart")
    raise("http: request:parse_multipart is not implemented by wftest")
end

function RES.set_status(self, code)
    check_self(self, RES_MT, "set_status")
    if math_type(code) == nil then
        raise(("bad argument #2 to 'set_status' (number expected, got %s)"):format(type(code)))
    end
    return answer_err(py("res_set_status", self._h, code))
end

function RES.set_header(self, name, value)
    check_self(self, RES_MT, "set_header")
    return answer_err(py("res_set_header", self._h, check_string(name, 2, "set_header"),
        check_string(value, 3, "set_header")))
end

function RES.set_content_type(self, ct)
    check_self(self, RES_MT, "set_content_type")
    return answer_err(py("res_set_content_type", self._h, check_string(ct, 2, "set_content_type")))
end

function RES.set_transfer(self, mode)
    check_self(self, RES_MT, "set_transfer")
    return answer_err(py("res_set_transfer", self._h, check_string(mode, 2, "set_transfer")))
end

function RES.write(self, data)
    check_self(self, RES_MT, "write")
    return answer_err(py("res_write", self._h, check_string(data, 2, "write")))
end

function RES.write_json(self, value)
    check_self(self, RES_MT, "write_json")
    return answer_err(py("res_write_json", self._h, value))
end

function RES.flush(self)
    check_self(self, RES_MT, "flush")
    return answer_err(py("res_flush", self._h))
end

function RES.write_event(self, event)
    check_self(self, RES_MT, "write_event")
    if type(event) ~= "table" then
        raise(("bad argument #2 to 'write_event' (table expected, got %s)"):format(type(event)))
    end
    local name = event.name
    if type(name) == "number" then name = tostring(name) end
    if type(name) ~= "string" or name == "" then raise("bad argument #2 to 'write_event' (missing event name)") end
    if event.data == nil then raise("bad argument #2 to 'write_event' (missing event data)") end
    return answer_err(py("res_write_event", self._h, name, event.data))
end

local http = {
    METHOD = {GET = "GET", POST = "POST", PUT = "PUT", DELETE = "DELETE", PATCH = "PATCH", HEAD = "HEAD",
        OPTIONS = "OPTIONS"},
    STATUS = {
        OK = 200, CREATED = 201, ACCEPTED = 202, NO_CONTENT = 204, PARTIAL_CONTENT = 206,
        MOVED_PERMANENTLY = 301, FOUND = 302, SEE_OTHER = 303, NOT_MODIFIED = 304, TEMPORARY_REDIRECT = 307,
        PERMANENT_REDIRECT = 308, BAD_REQUEST = 400, UNAUTHORIZED = 401, PAYMENT_REQUIRED = 402,
        FORBIDDEN = 403, NOT_FOUND = 404, METHOD_NOT_ALLOWED = 405, NOT_ACCEPTABLE = 406, CONFLICT = 409,
        GONE = 410, UNPROCESSABLE = 422, TOO_MANY_REQUESTS = 429, INTERNAL_ERROR = 500,
        NOT_IMPLEMENTED = 501, BAD_GATEWAY = 502, SERVICE_UNAVAILABLE = 503, GATEWAY_TIMEOUT = 504,
        VERSION_NOT_SUPPORTED = 505,
    },
    CONTENT = {JSON = "application/json", FORM = "application/x-www-form-urlencoded",
        MULTIPART = "multipart/form-data", TEXT = "text/plain", STREAM = "application/octet-stream"},
    TRANSFER = {CHUNKED = "chunked", SSE = "sse"},
    ERROR = {PARSE_FAILED = "PARSE_FAILED", INVALID_STATE = "INVALID_STATE", WRITE_FAILED = "WRITE_FAILED",
        STREAM_ERROR = "STREAM_ERROR"},
}

function http.request(options)
    local max_body = 0
    if type(options) == "table" and math_type(options.max_body) ~= nil then max_body = options.max_body end
    local h, e = answer(py("request", max_body))
    if h == nil then return nil, e end
    return setmetatable({_h = h}, REQ_MT), nil
end

function http.response()
    local h, e = answer(py("response"))
    if h == nil then return nil, e end
    return setmetatable({_h = h}, RES_MT), nil
end

---------------------------------------------------------------------------------------------------
-- http_client

local client = {}

local function options_of(opts)
    if opts == nil then return {} end
    if type(opts) ~= "table" then raise(("bad argument (options table expected, got %s)"):format(type(opts))) end
    return opts
end

local function finish(t)
    if t ~= nil and t._stream ~= nil then
        t.stream = new_stream(t._stream)
        t._stream = nil
    end
    return t
end

local function send(method, url, opts)
    local o = options_of(opts)
    local headers, nh = flat(o.headers)
    local query, nq = flat(o.query)
    local form, nf = flat(o.form)
    local cookies, nc = flat(o.cookies)
    local user, pass
    if type(o.auth) == "table" then user, pass = o.auth.user, o.auth.pass end
    local body = o.body
    if type(body) ~= "string" then body = nil end
    local t, e = answer(py("client", method, url, headers, nh, body, query, nq, form, nf, cookies, nc,
        user, pass, o.stream == true, o.files ~= nil, o.unix_socket))
    if t == nil then return nil, e end
    return finish(t), nil
end

local function method_fn(method)
    return function(url, opts)
        if type(url) ~= "string" or url == "" then raise("bad argument #1 (URL required)") end
        return send(method, url, opts)
    end
end

client.get = method_fn("GET")
client.post = method_fn("POST")
client.put = method_fn("PUT")
client.delete = method_fn("DELETE")
client.head = method_fn("HEAD")
client.patch = method_fn("PATCH")

function client.request(method, url, opts)
    if type(method) ~= "string" or method == "" then raise("bad argument #1 (method required)") end
    if type(url) ~= "string" or url == "" then raise("bad argument #2 (URL required)") end
    return send(method, url, opts)
end

function client.request_batch(requests)
    if type(requests) ~= "table" or #requests == 0 then raise("bad argument #1 (requests table cannot be empty)") end
    for _, r in ipairs(requests) do
        if type(r) ~= "table" then return nil, err("Invalid", "each request must be a table", false) end
        if type(r[1]) ~= "string" then return nil, err("Invalid", "method must be a string", false) end
        if type(r[2]) ~= "string" then return nil, err("Invalid", "URL must be a string", false) end
        if type(r[3]) == "table" and r[3].stream then
            return nil, err("Invalid", "streaming not supported in batch requests", false)
        end
    end
    local responses, errors, failed = {}, {}, false
    for i, r in ipairs(requests) do
        local resp, e = send(r[1], r[2], r[3])
        responses[i], errors[i] = resp, e
        if e ~= nil then failed = true end
    end
    if failed then return responses, errors end
    return responses, nil
end

function client.encode_uri(s)
    local _, out = py("encode_uri", check_string(s, 1, "encode_uri"))
    return out
end

function client.decode_uri(s)
    local ok, v = py("decode_uri", check_string(s, 1, "decode_uri"))
    if ok then return v, nil end
    return nil, v
end

return {http = http, client = client}
