-- Read a signup back from the database.
local http = require("http")
local sql = require("sql")

local function get_signup()
    local req, res = http.request(), http.response()
    local db = sql.get("app:db")
    local rows, err = db:query("SELECT email, name, status FROM signups WHERE email = ?", {req:param("email")})
    if err or #rows == 0 then
        res:set_status(http.STATUS.NOT_FOUND)
        res:write_json({error = "no signup for " .. req:param("email")})
        return
    end
    res:write_json(rows[1])
end

return {get_signup = get_signup}
