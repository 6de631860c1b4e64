-- The signups table: a row per email, its status updated as the workflow goes.
local sql = require("sql")

local function database()
    local db, err = sql.get("app:db")
    if err then return nil, err end
    local _, schema_err = db:execute(
        "CREATE TABLE IF NOT EXISTS signups (email TEXT PRIMARY KEY, name TEXT, status TEXT NOT NULL)")
    if schema_err then return nil, schema_err end
    return db
end

local function save_signup(signup)
    local db, err = database()
    if err then return nil, err end
    local _, insert_err = db:execute(
        "INSERT OR IGNORE INTO signups (email, name, status) VALUES (?, ?, 'saved')", {signup.email, signup.name or sql.NULL})
    if insert_err then return nil, insert_err end
    return true
end

local function mark_welcomed(email, status)
    local db, err = database()
    if err then return nil, err end
    local _, update_err = db:execute("UPDATE signups SET status = ? WHERE email = ?", {status, email})
    if update_err then return nil, update_err end
    return true
end

return {save_signup = save_signup, mark_welcomed = mark_welcomed}
