-- The HTTP side: start one signup workflow per email (a second POST for the same email gets 409).
local http = require("http")
local json = require("json")

local function create_signup()
    local req, res = http.request(), http.response()
    local body, err = req:body_json()
    if err or type(body) ~= "table" or type(body.email) ~= "string" or not body.email:find("@") then
        res:set_status(http.STATUS.BAD_REQUEST)
        res:write_json({error = "send a JSON object with an email"})
        return
    end
    local spawner = process.with_options({
        ["temporal.workflow.id"] = "signup-" .. body.email,
        ["temporal.workflow.id_conflict_policy"] = "fail",
    })
    local pid, spawn_err = spawner:spawn("app:signup_workflow", "app:worker", {email = body.email, name = body.name})
    if spawn_err then
        res:set_status(http.STATUS.CONFLICT)
        res:write_json({error = "already signing up " .. body.email})
        return
    end
    res:set_content_type(http.CONTENT.JSON)
    res:set_status(http.STATUS.ACCEPTED)
    res:write(json.encode({workflow = tostring(pid)}))
end

return {create_signup = create_signup}
