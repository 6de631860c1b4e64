-- The Lua half of Wippy's `sql` module: DB, Transaction and Statement objects, `sql.as`, `sql.NULL` and
-- the constants. Objects are tables tagged by their metatable and hold a handle; the work happens in
-- Python (wftest.lua.modules.sql) through `py(op, ...)`, which answers
--   true, values...                       on success,
--   false, kind, message, retryable       with a Wippy error (returned as nil, err),
--   nil, message                          for a mistake that stops the caller (raised at its line).
-- Errors of statements name the statement and the Lua line that ran it.
local api, py, objects = ...

local getmetatable, setmetatable, error, type, rawget, pairs = getmetatable, setmetatable, error, type, rawget, pairs
local tostring, math_type = tostring, math.type

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

local position, raise, err = objects.position, objects.raise, objects.err
local check_self, check_string = objects.check_self, objects.check_string

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

---------------------------------------------------------------------------------------------------
-- The query builder (Go's wrapper over squirrel: builder*.go). Builders are immutable: every method
-- returns a new one. Arguments are kept in dense arrays where NIL stands for SQL NULL.
local NIL = setmetatable({}, {__name = "sql.nil"})
local SQLIZER_MT = {__name = "sql.Sqlizer"}
local SELECT_MT = {__name = "sql.SelectBuilder"}
local INSERT_MT = {__name = "sql.InsertBuilder"}
local UPDATE_MT = {__name = "sql.UpdateBuilder"}
local DELETE_MT = {__name = "sql.DeleteBuilder"}
local EXECUTOR_MT = {__name = "sql.QueryExecutor"}
local FORMAT_MT = {__name = "sql.PlaceholderFormat"}
local concat, sort, select_n = table.concat, table.sort, select

local function new_format(prefix) return setmetatable({_prefix = prefix}, FORMAT_MT) end
local QUESTION, DOLLAR, AT, COLON = new_format(nil), new_format("$"), new_format("@p"), new_format(":")

local function bad(n, method, what)
    raise(("bad argument #%d to '%s' (%s)"):format(n, method, what))
end

-- A plain argument as Go's toGoValue sees it: scalars pass, anything else is NULL.
local function plain(v)
    local t = type(v)
    if t == "string" or t == "number" or t == "boolean" then return v end
    return NIL
end

-- A value where NULL and typed values are understood (values, set, maps).
local function value(v)
    if v == NULL then return NIL end
    if getmetatable(v) == TYPED_MT then return v end
    return plain(v)
end

local function append(list, ...)
    for i = 1, select_n("#", ...) do list[#list + 1] = (select(i, ...)) end
    return list
end

local function copy(t)
    local out = {}
    for k, v in pairs(t) do out[k] = v end
    return out
end

local function with(list, item)
    local out = {}
    for i = 1, #list do out[i] = list[i] end
    out[#out + 1] = item
    return out
end

local function var_args(from, ...)
    local out = {}
    for i = from, select_n("#", ...) do out[#out + 1] = plain((select(i, ...))) end
    return out
end

-- Parts: tables with tosql() -> sql, args | nil, message.
local function raw_part(sql, args)
    return {tosql = function() return sql, args end}
end

local function sorted_keys(map)
    local keys = {}
    for k in pairs(map) do keys[#keys + 1] = k end
    sort(keys)
    return keys
end

local function map_of(t)
    local out = {}
    for k, v in pairs(t) do
        if type(k) == "string" then out[k] = value(v) end
    end
    return out
end

local function eq_part(map, negate)
    return {tosql = function()
        local keys = sorted_keys(map)
        if #keys == 0 then return "(1=1)", {} end
        local exprs, args = {}, {}
        for _, k in ipairs(keys) do
            local v = map[k]
            if v == NIL then
                exprs[#exprs + 1] = k .. (negate and " IS NOT NULL" or " IS NULL")
            else
                exprs[#exprs + 1] = k .. (negate and " <> ?" or " = ?")
                args[#args + 1] = v
            end
        end
        return concat(exprs, " AND "), args
    end}
end

local function compare_part(map, opr, null_message)
    return {tosql = function()
        local exprs, args = {}, {}
        for _, k in ipairs(sorted_keys(map)) do
            local v = map[k]
            if v == NIL then return nil, null_message end
            exprs[#exprs + 1] = k .. " " .. opr .. " ?"
            args[#args + 1] = v
        end
        return concat(exprs, " AND "), args
    end}
end

local function conj_part(parts, sep, default)
    return {tosql = function()
        if #parts == 0 then return default, {} end
        local sqls, args = {}, {}
        for _, p in ipairs(parts) do
            local psql, pargs = p.tosql()
            if psql == nil then return nil, pargs end
            if psql ~= "" then
                sqls[#sqls + 1] = psql
                append(args, table.unpack(pargs, 1, #pargs))
            end
        end
        if #sqls == 0 then return "", args end
        return "(" .. concat(sqls, sep) .. ")", args
    end}
end

local function sqlizer(part) return setmetatable({_part = part}, SQLIZER_MT) end

-- Arguments as to_sql gives them: NULL is nil, typed values are their value.
local function out_args(args)
    local out = {}
    for i = 1, #args do
        local v = args[i]
        if v == NIL then v = nil elseif getmetatable(v) == TYPED_MT then v = v._v end
        out[i] = v
    end
    return out
end

local function args_text(args)
    local items = {}
    for i = 1, #args do
        local v = args[i]
        if v == NIL then v = "<nil>" elseif getmetatable(v) == TYPED_MT then v = v._v end
        items[i] = tostring(v)
    end
    return "[" .. concat(items, " ") .. "]"
end

-- Write parts separated by `sep`, skipping empty ones (with squirrel's separator placement).
local function write_parts(buf, args, parts, sep)
    for i, p in ipairs(parts) do
        local psql, pargs = p.tosql()
        if psql == nil then return pargs end
        if psql ~= "" then
            if i > 1 then buf[#buf + 1] = sep end
            buf[#buf + 1] = psql
            append(args, table.unpack(pargs, 1, #pargs))
        end
    end
end

local function replace_placeholders(sql, format)
    local prefix = format._prefix
    if prefix == nil then return sql end
    local out, n, i = {}, 0, 1
    while true do
        local p = sql:find("?", i, true)
        if p == nil then break end
        out[#out + 1] = sql:sub(i, p - 1)
        if sql:sub(p + 1, p + 1) == "?" then
            out[#out + 1] = "?"
            i = p + 2
        else
            n = n + 1
            out[#out + 1] = prefix .. n
            i = p + 1
        end
    end
    out[#out + 1] = sql:sub(i)
    return concat(out)
end

-- A where/having condition from (string, args...), a table (equality) or a Sqlizer.
local function condition(method, cond, ...)
    local t = type(cond)
    if t == "string" then return raw_part(cond, var_args(1, ...)) end
    if t == "table" then
        if getmetatable(cond) == SQLIZER_MT then return cond._part end
        if getmetatable(cond) == nil then return eq_part(map_of(cond), false) end
    end
    bad(2, method, "expected string, table, or Sqlizer")
end

local function check_builder(self, mt, method)
    if getmetatable(self) ~= mt then bad(1, method, "expected " .. mt.__name:sub(5) .. " object") end
    return self
end

local function count(v, n, method)
    if math_type(v) == "float" and v == math.floor(v) then v = math.tointeger(v) end
    if math_type(v) ~= "integer" then bad(n, method, "number expected, got " .. type(v)) end
    return v < 0 and 0 or v
end

local function strings(from, method, ...)
    local out = {}
    for i = from, select_n("#", ...) do
        out[#out + 1] = check_string((select(i, ...)), i + 1 - from + 1, method)
    end
    return out
end

local function to_sql(self)
    local sql, args = self:_build()
    if sql == nil then return nil, err("Invalid", args, false) end
    return replace_placeholders(sql, self._format), args
end

local function make(mt, state) return setmetatable(state, mt) end
local function derive(self, changes)
    local state = copy(self)
    for k, v in pairs(changes) do state[k] = v end
    return setmetatable(state, getmetatable(self))
end

local function run_with(mt, method)
    return function(self, target)
        check_builder(self, mt, method)
        local tm = getmetatable(target)
        if tm ~= DB_MT and tm ~= TX_MT then bad(2, method, "database or transaction expected") end
        local sql, args = to_sql(self)
        if sql == nil then return nil, args end
        return setmetatable({_target = target, _sql = sql, _args = args}, EXECUTOR_MT)
    end
end

local function builder_tostring(label)
    return function(self)
        local sql, args = to_sql(self)
        if sql == nil then return label .. " Error: " .. args:message() end
        return label .. ": " .. sql .. " " .. args_text(args)
    end
end

-- Common methods of the four builders.
local function common(methods, mt, opts)
    methods.where = function(self, cond, ...)
        check_builder(self, mt, "where")
        return derive(self, {_where = with(self._where, condition("where", cond, ...))})
    end
    methods.order_by = function(self, ...)
        check_builder(self, mt, "order_by")
        local list = copy(self._order)
        append(list, table.unpack(strings(1, "order_by", ...)))
        return derive(self, {_order = list})
    end
    methods.limit = function(self, n)
        check_builder(self, mt, "limit")
        return derive(self, {_limit = tostring(count(n, 2, "limit"))})
    end
    methods.offset = function(self, n)
        check_builder(self, mt, "offset")
        return derive(self, {_offset = tostring(count(n, 2, "offset"))})
    end
    methods.suffix = function(self, sql, ...)
        check_builder(self, mt, "suffix")
        sql = check_string(sql, 2, "suffix")
        return derive(self, {_suffixes = with(self._suffixes, raw_part(sql, var_args(1, ...)))})
    end
    methods.placeholder_format = function(self, format)
        check_builder(self, mt, "placeholder_format")
        if getmetatable(format) ~= FORMAT_MT then bad(2, "placeholder_format", "expected placeholder format") end
        return derive(self, {_format = format})
    end
    methods.to_sql = function(self)
        check_builder(self, mt, "to_sql")
        local sql, args = to_sql(self)
        if sql == nil then return nil, args end
        return sql, out_args(args)
    end
    methods.run_with = run_with(mt, "run_with")
    mt.__index = methods
    mt.__tostring = builder_tostring(opts.label)
end

local function tail(buf, args, self)
    if #self._where > 0 then
        buf[#buf + 1] = " WHERE "
        local e = write_parts(buf, args, self._where, " AND ")
        if e then return e end
    end
    if self._group and #self._group > 0 then buf[#buf + 1] = " GROUP BY " .. concat(self._group, ", ") end
    if self._having and #self._having > 0 then
        buf[#buf + 1] = " HAVING "
        local e = write_parts(buf, args, self._having, " AND ")
        if e then return e end
    end
    if #self._order > 0 then buf[#buf + 1] = " ORDER BY " .. concat(self._order, ", ") end
    if self._limit then buf[#buf + 1] = " LIMIT " .. self._limit end
    if self._offset then buf[#buf + 1] = " OFFSET " .. self._offset end
    if #self._suffixes > 0 then
        buf[#buf + 1] = " "
        local e = write_parts(buf, args, self._suffixes, " ")
        if e then return e end
    end
end

local function base()
    return {_where = {}, _order = {}, _suffixes = {}, _format = QUESTION}
end

-- SELECT
local SEL = {}
function SELECT_MT._build(self)
    if #self._columns == 0 then return nil, "select statements must have at least one result column" end
    local buf, args = {"SELECT "}, {}
    if self._distinct then buf[#buf + 1] = "DISTINCT " end
    buf[#buf + 1] = concat(self._columns, ", ")
    if self._from then buf[#buf + 1] = " FROM " .. self._from end
    if #self._joins > 0 then
        buf[#buf + 1] = " "
        local e = write_parts(buf, args, self._joins, " ")
        if e then return nil, e end
    end
    local e = tail(buf, args, self)
    if e then return nil, e end
    return concat(buf), args
end
SEL._build = SELECT_MT._build
common(SEL, SELECT_MT, {label = "SelectBuilder"})
function SEL.from(self, t)
    check_builder(self, SELECT_MT, "from")
    return derive(self, {_from = check_string(t, 2, "from")})
end
local function join_method(name, keyword)
    SEL[name] = function(self, j, ...)
        check_builder(self, SELECT_MT, name)
        j = check_string(j, 2, name)
        return derive(self, {_joins = with(self._joins, raw_part(keyword .. j, var_args(1, ...)))})
    end
end
join_method("join", "JOIN ")
join_method("left_join", "LEFT JOIN ")
join_method("right_join", "RIGHT JOIN ")
join_method("inner_join", "INNER JOIN ")
function SEL.group_by(self, ...)
    check_builder(self, SELECT_MT, "group_by")
    local list = copy(self._group)
    append(list, table.unpack(strings(1, "group_by", ...)))
    return derive(self, {_group = list})
end
function SEL.having(self, cond, ...)
    check_builder(self, SELECT_MT, "having")
    return derive(self, {_having = with(self._having, condition("having", cond, ...))})
end
function SEL.columns(self, ...)
    check_builder(self, SELECT_MT, "columns")
    local list = copy(self._columns)
    append(list, table.unpack(strings(1, "columns", ...)))
    return derive(self, {_columns = list})
end
function SEL.distinct(self)
    check_builder(self, SELECT_MT, "distinct")
    return derive(self, {_distinct = true})
end

local function new_select(...)
    local state = base()
    state._columns, state._joins, state._group, state._having = {}, {}, {}, {}
    for i = 1, select_n("#", ...) do
        local c = (select(i, ...))
        if type(c) ~= "string" then bad(i, "select", "expected string column name") end
        state._columns[i] = c
    end
    return make(SELECT_MT, state)
end

-- INSERT
local INS = {}
function INSERT_MT._build(self)
    if self._into == nil or self._into == "" then return nil, "insert statements must specify a table" end
    if #self._rows == 0 and self._select == nil then
        return nil, "insert statements must have at least one set of values or select clause"
    end
    local buf, args = {}, {}
    if #self._prefixes > 0 then
        local e = write_parts(buf, args, self._prefixes, " ")
        if e then return nil, e end
        buf[#buf + 1] = " "
    end
    buf[#buf + 1] = "INSERT "
    if #self._options > 0 then buf[#buf + 1] = concat(self._options, " ") .. " " end
    buf[#buf + 1] = "INTO " .. self._into .. " "
    if #self._columns > 0 then buf[#buf + 1] = "(" .. concat(self._columns, ",") .. ") " end
    if self._select then
        local ssql, sargs = self._select:_build()
        if ssql == nil then return nil, sargs end
        buf[#buf + 1] = ssql
        append(args, table.unpack(sargs, 1, #sargs))
    else
        buf[#buf + 1] = "VALUES "
        local rows = {}
        for r, row in ipairs(self._rows) do
            local marks = {}
            for i = 1, #row do
                marks[i] = "?"
                args[#args + 1] = row[i]
            end
            rows[r] = "(" .. concat(marks, ",") .. ")"
        end
        buf[#buf + 1] = concat(rows, ",")
    end
    if #self._suffixes > 0 then
        buf[#buf + 1] = " "
        local e = write_parts(buf, args, self._suffixes, " ")
        if e then return nil, e end
    end
    return concat(buf), args
end
INS._build = INSERT_MT._build
common(INS, INSERT_MT, {label = "InsertBuilder"})
INS.where, INS.order_by, INS.limit, INS.offset = nil, nil, nil, nil
function INS.into(self, t)
    check_builder(self, INSERT_MT, "into")
    return derive(self, {_into = check_string(t, 2, "into")})
end
function INS.columns(self, ...)
    check_builder(self, INSERT_MT, "columns")
    local list = copy(self._columns)
    append(list, table.unpack(strings(1, "columns", ...)))
    return derive(self, {_columns = list})
end
function INS.values(self, ...)
    check_builder(self, INSERT_MT, "values")
    local row = {}
    for i = 1, select_n("#", ...) do row[i] = value((select(i, ...))) end
    return derive(self, {_rows = with(self._rows, row)})
end
function INS.set_map(self, t)
    check_builder(self, INSERT_MT, "set_map")
    if type(t) ~= "table" then bad(2, "set_map", "table expected, got " .. type(t)) end
    local map = map_of(t)
    local keys = sorted_keys(map)
    local row = {}
    for i, k in ipairs(keys) do row[i] = map[k] end
    return derive(self, {_columns = keys, _rows = {row}})
end
function INS.select(self, query)
    check_builder(self, INSERT_MT, "select")
    if getmetatable(query) ~= SELECT_MT then bad(2, "select", "expected SelectBuilder object") end
    return derive(self, {_select = query})
end
function INS.prefix(self, sql, ...)
    check_builder(self, INSERT_MT, "prefix")
    sql = check_string(sql, 2, "prefix")
    return derive(self, {_prefixes = with(self._prefixes, raw_part(sql, var_args(1, ...)))})
end
function INS.options(self, ...)
    check_builder(self, INSERT_MT, "options")
    local list = copy(self._options)
    append(list, table.unpack(strings(1, "options", ...)))
    return derive(self, {_options = list})
end

local function new_insert(t)
    local state = base()
    state._into = t ~= nil and check_string(t, 1, "insert") or nil
    state._columns, state._rows, state._prefixes, state._options = {}, {}, {}, {}
    return make(INSERT_MT, state)
end

-- UPDATE
local UPD = {}
function UPDATE_MT._build(self)
    if self._table == nil or self._table == "" then return nil, "update statements must specify a table" end
    if #self._sets == 0 then return nil, "update statements must have at least one Set clause" end
    local buf, args = {"UPDATE " .. self._table, " SET "}, {}
    local sets = {}
    for i, s in ipairs(self._sets) do
        local v = s[2]
        if getmetatable(v) == SQLIZER_MT then
            local vsql, vargs = v._part.tosql()
            if vsql == nil then return nil, vargs end
            sets[i] = s[1] .. " = " .. vsql
            append(args, table.unpack(vargs, 1, #vargs))
        else
            sets[i] = s[1] .. " = ?"
            args[#args + 1] = v
        end
    end
    buf[#buf + 1] = concat(sets, ", ")
    if self._from then
        local fsql, fargs = self._from.tosql()
        if fsql == nil then return nil, fargs end
        buf[#buf + 1] = " FROM " .. fsql
        append(args, table.unpack(fargs, 1, #fargs))
    end
    local e = tail(buf, args, self)
    if e then return nil, e end
    return concat(buf), args
end
UPD._build = UPDATE_MT._build
common(UPD, UPDATE_MT, {label = "UpdateBuilder"})
function UPD.table(self, t)
    check_builder(self, UPDATE_MT, "table")
    return derive(self, {_table = check_string(t, 2, "table")})
end
function UPD.set(self, column, v)
    check_builder(self, UPDATE_MT, "set")
    column = check_string(column, 2, "set")
    if getmetatable(v) ~= SQLIZER_MT then v = value(v) end
    return derive(self, {_sets = with(self._sets, {column, v})})
end
function UPD.set_map(self, t)
    check_builder(self, UPDATE_MT, "set_map")
    if type(t) ~= "table" then bad(2, "set_map", "table expected, got " .. type(t)) end
    local map = map_of(t)
    local sets = copy(self._sets)
    for _, k in ipairs(sorted_keys(map)) do sets[#sets + 1] = {k, map[k]} end
    return derive(self, {_sets = sets})
end
function UPD.from(self, t)
    check_builder(self, UPDATE_MT, "from")
    return derive(self, {_from = raw_part(check_string(t, 2, "from"), {})})
end
function UPD.from_select(self, query, alias)
    check_builder(self, UPDATE_MT, "from_select")
    if getmetatable(query) ~= SELECT_MT then bad(2, "from_select", "expected SelectBuilder object") end
    alias = check_string(alias, 3, "from_select")
    return derive(self, {_from = {tosql = function()
        local ssql, sargs = query:_build()
        if ssql == nil then return nil, sargs end
        return "(" .. ssql .. ") AS " .. alias, sargs
    end}})
end

local function new_update(t)
    local state = base()
    state._table = t ~= nil and check_string(t, 1, "update") or nil
    state._sets = {}
    return make(UPDATE_MT, state)
end

-- DELETE
local DEL = {}
function DELETE_MT._build(self)
    if self._table == nil or self._table == "" then return nil, "delete statements must specify a From table" end
    local buf, args = {"DELETE FROM " .. self._table}, {}
    local e = tail(buf, args, self)
    if e then return nil, e end
    return concat(buf), args
end
DEL._build = DELETE_MT._build
common(DEL, DELETE_MT, {label = "DeleteBuilder"})
function DEL.from(self, t)
    check_builder(self, DELETE_MT, "from")
    return derive(self, {_table = check_string(t, 2, "from")})
end

local function new_delete(t)
    local state = base()
    state._table = t ~= nil and check_string(t, 1, "delete") or nil
    return make(DELETE_MT, state)
end

-- Executors run the built statement on a DB or a transaction.
local EXE = {}
EXECUTOR_MT.__index = EXE
EXECUTOR_MT.__tostring = function(self) return ("QueryExecutor: %s [Args: %d]"):format(self._sql, #self._args) end

local function exec_params(args)
    local out = {}
    for i = 1, #args do
        local v = args[i]
        if v == NIL then v = nil elseif getmetatable(v) == TYPED_MT then v = {v._t, v._v} end
        out[i] = v
    end
    return out, #args
end

local function executor_run(db_op, tx_op, method)
    return function(self)
        if getmetatable(self) ~= EXECUTOR_MT then bad(1, method, "expected QueryExecutor object") end
        local target = self._target
        local p, n = exec_params(self._args)
        local op = getmetatable(target) == TX_MT and tx_op or db_op
        return answer(self._sql, py(op, target._h, self._sql, p, n))
    end
end
EXE.query = executor_run("query", "tx_query", "query")
EXE.exec = executor_run("execute", "tx_execute", "exec")
function EXE.to_sql(self)
    if getmetatable(self) ~= EXECUTOR_MT then bad(1, "to_sql", "expected QueryExecutor object") end
    return self._sql, out_args(self._args)
end

SQLIZER_MT.__index = {to_sql = function(self)
    if getmetatable(self) ~= SQLIZER_MT then bad(1, "to_sql", "expected Sqlizer") end
    local sql, args = self._part.tosql()
    if sql == nil then return nil, err("Invalid", args, false) end
    return sql, out_args(args)
end}
SQLIZER_MT.__tostring = function(self)
    local sql, args = self._part.tosql()
    if sql == nil then return "SQL Expression Error: " .. args end
    return "SQL: " .. sql .. " [Args: " .. args_text(args) .. "]"
end

local function map_arg(fname, t)
    if type(t) ~= "table" or getmetatable(t) ~= nil then bad(1, fname, "expected table") end
    return map_of(t)
end

local function conj(fname, sep, default)
    return function(t)
        if type(t) ~= "table" or getmetatable(t) ~= nil then bad(1, fname, "expected table") end
        local parts = {}
        for _, v in pairs(t) do
            if getmetatable(v) == SQLIZER_MT then
                parts[#parts + 1] = v._part
            elseif type(v) == "table" and getmetatable(v) == nil then
                parts[#parts + 1] = eq_part(map_of(v), false)
            else
                raise(("expected Sqlizer or table in %s condition, got %s"):format(sep == " AND " and "AND" or "OR", type(v)))
            end
        end
        return sqlizer(conj_part(parts, sep, default))
    end
end

M.builder = {
    select = new_select, insert = new_insert, update = new_update, delete = new_delete,
    question = QUESTION, dollar = DOLLAR, at = AT, colon = COLON, default_placeholder = QUESTION,
    expr = function(sql, ...)
        if type(sql) ~= "string" then bad(1, "expr", "expected string") end
        local args = {}
        for i = 1, select_n("#", ...) do args[i] = value((select(i, ...))) end
        return sqlizer(raw_part(sql, args))
    end,
    eq = function(t) return sqlizer(eq_part(map_arg("eq", t), false)) end,
    not_eq = function(t) return sqlizer(eq_part(map_arg("not_eq", t), true)) end,
    lt = function(t)
        return sqlizer(compare_part(map_arg("lt", t), "<", "cannot use null with less than or greater than operators"))
    end,
    lte = function(t)
        return sqlizer(compare_part(map_arg("lte", t), "<=", "cannot use null with less than or greater than operators"))
    end,
    gt = function(t)
        return sqlizer(compare_part(map_arg("gt", t), ">", "cannot use null with less than or greater than operators"))
    end,
    gte = function(t)
        return sqlizer(compare_part(map_arg("gte", t), ">=", "cannot use null with less than or greater than operators"))
    end,
    like = function(t) return sqlizer(compare_part(map_arg("like", t), "LIKE", "cannot use null with like operators")) end,
    not_like = function(t)
        return sqlizer(compare_part(map_arg("not_like", t), "NOT LIKE", "cannot use null with like operators"))
    end,
    and_ = conj("and_", " AND ", "(1=1)"),
    or_ = conj("or_", " OR ", "(1=0)"),
}

return M
