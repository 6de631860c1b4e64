-- The Lua half of Wippy's `store` module: Store objects over one world's memory stores. Work happens in
-- Python (wftest.lua.modules.store) through `py(op, ...)`: true, values... on success; false, kind,
-- message, retryable for a Wippy error (returned as nil, err, or false, err for `has`).
local api, py, objects = ...

local getmetatable, setmetatable, error, type, tostring = getmetatable, setmetatable, error, type, tostring
local rawget, math_type = rawget, math.type

local STORE_MT = {__name = "store.Store", __wippy = "store.Store"}
local S = {}
STORE_MT.__index = S
STORE_MT.__tostring = function(s)
    return rawget(s, "_released") and "store.Store{released}" or "store.Store{}"
end

local raise, err, check_string = objects.raise, objects.err, objects.check_string
local function check_self(self, method) objects.check_self(self, STORE_MT, method) end

local function answer(fail_value, ok, a, b, c)
    if ok == true then return a, b end
    if ok == false then return fail_value, err(a, b, c) end
    raise(a)
end

local function released(self, fail_value)
    if rawget(self, "_released") then return fail_value, err("Invalid", "store is released", false) end
end

local function key_of(self, method, key, fail_value)
    check_self(self, method)
    local r, e = released(self, fail_value)
    if e then return nil, r, e end
    key = check_string(key, 2, method)
    if key == "" then return nil, fail_value, err("Invalid", "key is required", false) end
    return key
end

local M = {}

function M.get(id)
    id = check_string(id, 1, "get")
    if id == "" then return nil, err("Invalid", "resource id is required", false) end
    local h, e = answer(nil, py("get", id))
    if h == nil then return nil, e end
    return setmetatable({_h = h}, STORE_MT)
end

function S.get(self, key)
    local k, r, e = key_of(self, "get", key, nil)
    if k == nil then return r, e end
    return answer(nil, py("get_key", self._h, k))
end

function S.entry(self, key)
    local k, r, e = key_of(self, "entry", key, nil)
    if k == nil then return r, e end
    return answer(nil, py("entry", self._h, k))
end

function S.set(self, key, value, ttl)
    local k, r, e = key_of(self, "set", key, nil)
    if k == nil then return r, e end
    if value == nil then return nil, err("Invalid", "value is required", false) end
    if ttl ~= nil and type(ttl) ~= "number" then
        raise(("bad argument #3 to 'set' (number expected, got %s)"):format(type(ttl)))
    end
    return answer(nil, py("put", self._h, k, value, ttl or 0, false, nil, false))
end

function S.put(self, key, value, options)
    local k, r, e = key_of(self, "put", key, nil)
    if k == nil then return r, e end
    if value == nil then return nil, err("Invalid", "value is required", false) end
    local ttl, absent, version = 0, false, nil
    if options ~= nil then
        if type(options) ~= "table" then return nil, err("Invalid", "options must be a table", false) end
        local t = rawget(options, "ttl")
        if t ~= nil then
            if type(t) ~= "number" or t < 0 then return nil, err("Invalid", "ttl must be a non-negative number", false) end
            ttl = t
        end
        local a = rawget(options, "only_if_absent")
        if a ~= nil then
            if type(a) ~= "boolean" then return nil, err("Invalid", "only_if_absent must be a boolean", false) end
            absent = a
        end
        local v = rawget(options, "if_version")
        if v ~= nil then
            if type(v) == "string" then v = math.tointeger(tonumber(v)) end
            if type(v) == "number" then v = math.tointeger(v) end
            if v == nil or v <= 0 then return nil, err("Invalid", "if_version must be a positive version", false) end
            version = v
        end
        if absent and version then
            return nil, err("Invalid", "only_if_absent and if_version are mutually exclusive", false)
        end
    end
    return answer(nil, py("put", self._h, k, value, ttl, absent, version, true))
end

function S.has(self, key)
    local k, r, e = key_of(self, "has", key, nil)
    if k == nil then return r, e end
    return answer(false, py("has", self._h, k))
end

function S.delete(self, key)
    local k, r, e = key_of(self, "delete", key, nil)
    if k == nil then return r, e end
    return answer(nil, py("delete", self._h, k))
end

function S.list(self, options)
    check_self(self, "list")
    local r, e = released(self, nil)
    if e then return r, e end
    local prefix, after, limit = "", "", 0
    if options ~= nil then
        if type(options) ~= "table" then return nil, err("Invalid", "options must be a table", false) end
        local p, a, l = rawget(options, "prefix"), rawget(options, "after"), rawget(options, "limit")
        if p ~= nil then
            if type(p) ~= "string" then return nil, err("Invalid", "prefix must be a string", false) end
            prefix = p
        end
        if a ~= nil then
            if type(a) ~= "string" then return nil, err("Invalid", "after must be a string", false) end
            after = a
        end
        if l ~= nil then
            if type(l) ~= "number" or l < 0 or math_type(l) == "float" and l ~= math.floor(l) then
                return nil, err("Invalid", "limit must be a non-negative integer", false)
            end
            limit = math.tointeger(l)
        end
    end
    return answer(nil, py("list", self._h, prefix, after, limit))
end

function S.info(self)
    check_self(self, "info")
    local r, e = released(self, nil)
    if e then return r, e end
    return answer(nil, py("info", self._h))
end

function S.release(self)
    check_self(self, "release")
    self._released = true
    return true
end

-- The constants' values are wftest's own spelling (Wippy's Go constants are not in the source it follows).
M.backend = {KV_RAFT = "kv.raft", KV_CRDT = "kv.crdt", MEMORY = "memory", SQL = "sql", UNKNOWN = "unknown"}
M.consistency = {LINEARIZABLE = "linearizable", EVENTUAL = "eventual", LOCAL = "local", UNKNOWN = "unknown"}

return M
