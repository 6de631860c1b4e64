-- Accounts and transfers in SQL. post_transfer runs in one transaction and records the transfer id, so a
-- retried attempt (Temporal retries activities) does not move the money twice.
local sql = require("sql")

local SCHEMA = [[
CREATE TABLE IF NOT EXISTS accounts (id TEXT PRIMARY KEY, balance INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS transfers (id TEXT PRIMARY KEY, from_id TEXT, to_id TEXT, amount INTEGER);
]]

local function database()
    local db, err = sql.get("app:db")
    if err then return nil, err end
    local _, schema_err = db:execute(SCHEMA)
    if schema_err then return nil, schema_err end
    return db
end

local function open_account(id, balance)
    local db, err = database()
    if err then return nil, err end
    local _, insert_err = db:execute("INSERT INTO accounts (id, balance) VALUES (?, ?)", {id, balance or 0})
    if insert_err then return nil, insert_err end
    return true
end

local function balance(id)
    local db, err = database()
    if err then return nil, err end
    local rows, query_err = db:query("SELECT balance FROM accounts WHERE id = ?", {id})
    if query_err then return nil, query_err end
    if #rows == 0 then
        return nil, errors.new({kind = errors.NOT_FOUND, message = "no account " .. id, retryable = false})
    end
    return rows[1].balance
end

local function post_transfer(t)
    local db, err = database()
    if err then return nil, err end
    local tx, begin_err = db:begin()
    if begin_err then return nil, begin_err end

    local done = tx:query("SELECT 1 FROM transfers WHERE id = ?", {t.id})
    if #done > 0 then
        tx:rollback()
        return {id = t.id, duplicate = true}
    end

    local from = tx:query("SELECT balance FROM accounts WHERE id = ?", {t.from})[1]
    if from == nil or from.balance < t.amount then
        tx:rollback()
        return nil, errors.new({kind = errors.INVALID, message = "insufficient funds in " .. t.from, retryable = false})
    end

    tx:execute("UPDATE accounts SET balance = balance - ? WHERE id = ?", {t.amount, t.from})
    tx:execute("UPDATE accounts SET balance = balance + ? WHERE id = ?", {t.amount, t.to})
    local _, record_err = tx:execute("INSERT INTO transfers (id, from_id, to_id, amount) VALUES (?, ?, ?, ?)",
        {t.id, t.from, t.to, t.amount})
    if record_err then
        tx:rollback()
        return nil, record_err
    end
    local _, commit_err = tx:commit()
    if commit_err then return nil, commit_err end
    return {id = t.id, duplicate = false}
end

return {open_account = open_account, balance = balance, post_transfer = post_transfer}
