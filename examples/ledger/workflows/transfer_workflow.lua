-- A transfer is posted at once; if the payer is short of money it is retried once a day, three times.
local funcs = require("funcs")
local time = require("time")

local function main(transfer)
    for attempt = 1, 3 do
        local posted, err = funcs.call("app:post_transfer", transfer)
        if not err then
            return {status = "posted", id = posted.id, attempts = attempt}
        end
        if err:kind() ~= errors.INVALID then
            return {status = "failed", error = err:message()}
        end
        if attempt < 3 then time.sleep("24h") end
    end
    return {status = "rejected", id = transfer.id}
end

return {main = main}
