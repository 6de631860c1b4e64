-- A WRONG version 2: the fraud check is added without workflow.version. New orders work, but an
-- order that started under version 1 now replays a different first command, and its worker is stuck.
local funcs = require("funcs")
local time = require("time")

local function main(order: {id: string, amount: number})
    local verdict, check_err = funcs.call("app:check_fraud", order)
    if check_err then
        return nil, check_err
    end
    if verdict.risky then
        return {status = "held", reason = verdict.reason}
    end

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
