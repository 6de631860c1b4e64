-- Version 1 of the checkout, as it ran in production: its histories are in ../histories/.
local funcs = require("funcs")
local time = require("time")

local function main(order: {id: string, amount: number})
    local payment, err = funcs.call("app:charge_card", {order = order.id, amount = order.amount})
    if err then
        return {status = "declined", error = tostring(err)}
    end
    -- The receipt goes out after the hour in which an order may still be cancelled.
    time.sleep("1h")
    funcs.call("app:send_receipt", {order = order.id, payment = payment.id})
    return {status = "paid", payment = payment.id}
end

return {main = main}
