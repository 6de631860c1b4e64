-- The Lua half of Wippy's `sql` module: DB, Transaction and Statement objects, `sql.as`, `sql.NULL` and
-- the constants. Objects are tables tagged by their metatable and hold a handle; the work happens in
-- Python (wftest.lua.modules.sql) through `py(op, ...)`, which answers
--   true, values...                       on success,
--   false, kind, message, retryable       with a Wippy error (returned as nil, err),
--   nil, message                          for a mistake that stops the caller (raised at its line).
-- Errors of statements name the statement and the Lua line that ran it.
local api, py = ...

local getmetatable, setmetatable, error, type, rawget, pairs = getmetatable, setmetatable, error, type, rawget, pairs
local tostring, math_type = tostring, math.type
local new_error, where = api.new_error, api.where

local DB_MT = {__name = "sql.DB", __wippy = "sql.DB"}
local TX_MT = {__name = "sql.Transaction", __wippy = "sql.Transaction"}
local STMT_MT = {__name = "sql.Statement", __wippy = "sql.Statement"}
local TYPED_MT = {__name = "sql.TypedValue"}
local NULL_MT = {__name = "sql.NULL", __tostring = function() return "SQL_NULL" end}
local DB, TX, STMT = {}, {}, {}
DB_MT.__index, TX_MT.__index, STMT_MT.__index = DB, TX, STMT
DB_MT.__tostring = function() return "sql.DB{}" end
TX_MT.__tostring = function() return "sql.Transaction{}" end
STMT_MT.__tostring = function() return "sql.Statement{}" end
local NULL = setmetatable({}, NULL_MT)

local function position()
    local file, line = where(1)
    if file then return file .. ":" .. line end
    return nil
end

-- Raise at the first user frame (the line that called into this module).
local function raise(message)
    local at = position()
    error(at and (at .. ": " .. message) or message, 0)
end

local function err(kind, message, retryable)
    local e = new_error(kind, message, retryable, nil)
    e._file, e._line = where(1)
    return e
end

local function check_self(self, mt, method)
    if getmetatable(self) ~= mt then
        raise(("bad argument #1 to '%s' (%s expected, got %s); call it as a method (obj:%s(...))"):format(
            method, mt.__name, type(self), method))
    end
    return self
end

local function check_string(v, n, method)
    local t = type(v)
    if t == "number" then return tostring(v) end
    if t ~= "string" then raise(("bad argument #%d to '%s' (string expected, got %s)"):format(n, method, t)) end
    return v
end

-- Bind parameters as Python reads them: index 1..n, NULL and non-scalars as holes, typed values as
-- {type, value}. Returns nil and the type name when `p` is not a table.
local function params_of(p)
    if p == nil then return {}, 0 end
    if type(p) ~= "table" or getmetatable(p) == TYPED_MT or p == NULL then return nil, type(p) end
    local n = 0
    for k in pairs(p) do
        if math_type(k) == "integer" and k > n then n = k end
    end
    local out = {}
    for i = 1, n do
        local v = rawget(p, i)
        local t = type(v)
        if t == "table" then
            if getmetatable(v) == TYPED_MT then out[i] = {v._t, v._v} end
        elseif t == "string" or t == "number" or t == "boolean" then
            out[i] = v
        end
    end
    return out, n
end

-- Turn py's answer into the method's return values; `statement` goes into error messages.
local function answer(statement, ok, a, b, c, d)
    if ok == true then return a, b, c, d end
    if ok == false then
        local message = b
        if statement then
            local at = position()
            message = message .. " (statement: " .. statement .. (at and ("; at " .. at) or "") .. ")"
        end
        return nil, err(a, message, c)
    end
    raise(a)
end

local function bad_params(got)
    return nil, err("Invalid", "check params: parameters must be a table, got " .. got, false)
end

local function new_db(h, kind) return setmetatable({_h = h, _type = kind}, DB_MT) end
local function new_tx(h, kind) return setmetatable({_h = h, _type = kind}, TX_MT) end
local function new_stmt(h) return setmetatable({_h = h}, STMT_MT) end

---------------------------------------------------------------------------------------------------
local M = {}

function M.get(id)
    id = check_string(id, 1, "get")
    if id == "" then return nil, err("Invalid", "resource id is required", false) end
    local h, kind = answer(nil, py("get", id))
    if h == nil then return nil, kind end
    return new_db(h, kind), nil
end

function DB.type(self)
    check_self(self, DB_MT, "type")
    return self._type, nil
end

local function run(op, what, self, mt, sql, params)
    check_self(self, mt, what)
    sql = check_string(sql, 2, what)
    local p, n = params_of(params)
    if p == nil then return bad_params(n) end
    return answer(sql, py(op, self._h, sql, p, n))
end

function DB.query(self, sql, params) return run("query", "query", self, DB_MT, sql, params) end
function DB.execute(self, sql, params) return run("execute", "execute", self, DB_MT, sql, params) end

function DB.prepare(self, sql)
    check_self(self, DB_MT, "prepare")
    sql = check_string(sql, 2, "prepare")
    local h, e = answer(sql, py("prepare", self._h, sql))
    if h == nil then return nil, e end
    return new_stmt(h), nil
end

local ISOLATION = {
    default = true, read_uncommitted = true, read_committed = true, write_committed = true,
    repeatable_read = true, serializable = true,
}

function DB.begin(self, options)
    check_self(self, DB_MT, "begin")
    local read_only = false
    if type(options) == "table" then
        if type(rawget(options, "read_only")) == "boolean" then read_only = rawget(options, "read_only") end
        local iso = rawget(options, "isolation")
        if type(iso) == "string" and not ISOLATION[iso] then
            return nil, err("Invalid", "invalid isolation level: " .. iso, false)
        end
    end
    local h, e = answer(nil, py("begin", self._h, read_only, position() or "?"))
    if h == nil then return nil, e end
    return new_tx(h, self._type), nil
end

function DB.release(self)
    check_self(self, DB_MT, "release")
    py("release", self._h)
    return true, nil
end

function DB.stats(self)
    check_self(self, DB_MT, "stats")
    return answer(nil, py("stats", self._h))
end

---------------------------------------------------------------------------------------------------
function TX.db_type(self)
    check_self(self, TX_MT, "db_type")
    local ok, e = answer(nil, py("tx_active", self._h))
    if ok == nil then return nil, e end
    return self._type, nil
end

function TX.query(self, sql, params) return run("tx_query", "query", self, TX_MT, sql, params) end
function TX.execute(self, sql, params) return run("tx_execute", "execute", self, TX_MT, sql, params) end

function TX.prepare(self, sql)
    check_self(self, TX_MT, "prepare")
    sql = check_string(sql, 2, "prepare")
    local h, e = answer(sql, py("tx_prepare", self._h, sql))
    if h == nil then return nil, e end
    return new_stmt(h), nil
end

function TX.commit(self)
    check_self(self, TX_MT, "commit")
    return answer(nil, py("tx_finish", self._h, true))
end

function TX.rollback(self)
    check_self(self, TX_MT, "rollback")
    return answer(nil, py("tx_finish", self._h, false))
end

local function savepoint_op(method, template)
    return function(self, name)
        check_self(self, TX_MT, method)
        name = check_string(name, 2, method)
        local ok, e = answer(nil, py("tx_active", self._h))
        if ok == nil then return nil, e end
        if name == "" then return nil, err("Invalid", "savepoint name is required", false) end
        if name:find("[^%w_]") then
            return nil, err("Invalid", "savepoint name can only contain alphanumeric characters and underscores", false)
        end
        local sql = template .. name
        local result, e2 = answer(sql, py("tx_execute", self._h, sql, {}, 0))
        if result == nil then return nil, e2 end
        return true, nil
    end
end
TX.savepoint = savepoint_op("savepoint", "SAVEPOINT ")
TX.rollback_to = savepoint_op("rollback_to", "ROLLBACK TO SAVEPOINT ")
TX.release = savepoint_op("release", "RELEASE SAVEPOINT ")

---------------------------------------------------------------------------------------------------
local function stmt_run(op, method)
    return function(self, params)
        check_self(self, STMT_MT, method)
        local p, n = params_of(params)
        if p == nil then return bad_params(n) end
        local sql = py("stmt_sql", self._h)
        return answer(sql, py(op, self._h, p, n))
    end
end
STMT.query = stmt_run("stmt_query", "query")
STMT.execute = stmt_run("stmt_execute", "execute")

function STMT.close(self)
    check_self(self, STMT_MT, "close")
    return answer(nil, py("stmt_close", self._h))
end

---------------------------------------------------------------------------------------------------
local function typed(kind, value) return setmetatable({_t = kind, _v = value}, TYPED_MT) end

local function as_number(v, integer)
    if math_type(v) == "integer" then return integer and v or (v + 0.0) end
    if math_type(v) == "float" then
        if integer then
            if v ~= v or v >= 2^63 or v < -2^63 then return math.mininteger end
            return math.tointeger(v >= 0 and math.floor(v) or math.ceil(v))
        end
        return v
    end
    return integer and 0 or 0.0
end

M.as = setmetatable({}, {__index = {
    int = function(v) return typed("int", as_number(v, true)) end,
    float = function(v) return typed("float", as_number(v, false)) end,
    text = function(v)
        local t = type(v)
        if t == "string" then return typed("text", v) end
        if t == "number" then return typed("text", tostring(v)) end
        return typed("text", "")
    end,
    binary = function(v) return typed("binary", type(v) == "string" and v or "") end,
    null = function() return NULL end,
}, __newindex = function() error("sql.as is read-only", 2) end})

M.NULL = NULL
M.type = {POSTGRES = "postgres", MYSQL = "mysql", SQLITE = "sqlite", UNKNOWN = "unknown"}
M.isolation = {
    DEFAULT = "default", READ_UNCOMMITTED = "read_uncommitted", READ_COMMITTED = "read_committed",
    WRITE_COMMITTED = "write_committed", REPEATABLE_READ = "repeatable_read", SERIALIZABLE = "serializable",
}

return M
