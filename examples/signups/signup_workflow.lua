-- Save the signup, send the welcome mail (three tries), record the outcome.
local funcs = require("funcs")

local function main(signup)
    local _, err = funcs.call("app:save_signup", signup)
    if err then return {status = "failed", error = tostring(err)} end
    local mailer = funcs.new():with_options({
        ["activity.retry_policy"] = {maximum_attempts = 3, initial_interval = 1000, backoff_coefficient = 2},
    })
    local _, mail_err = mailer:call("app:send_welcome", signup)
    local status = mail_err and "unwelcomed" or "welcomed"
    funcs.call("app:mark_welcomed", signup.email, status)
    return {status = status}
end

return {main = main}
