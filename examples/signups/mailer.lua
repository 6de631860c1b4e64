local client = require("http_client")
local json = require("json")

-- The mail service is another company's API: tests give it a route fake.
local function send_welcome(signup)
    local resp, err = client.post("https://mail.example.com/v1/send", {
        headers = {["Content-Type"] = "application/json"},
        body = json.encode({to = signup.email, template = "welcome"}),
    })
    if err then return nil, err end
    if resp.status_code >= 300 then
        return nil, errors.new({kind = errors.UNAVAILABLE, message = "mail service said " .. resp.status_code,
            retryable = true})
    end
    return true
end

return {send_welcome = send_welcome}
