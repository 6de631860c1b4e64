-- Version 2 of the checkout: orders are checked for fraud before the card is charged.
local funcs = require("funcs")
local time = require("time")
local workflow = require("workflow")

-- Histories recorded before this change have no "fraud-check" marker: replaying them,
-- workflow.version gives -1 (Temporal's DefaultVersion), so the minimum must be -1 for those orders
-- to go on as they began. New orders get the maximum, 1, and the marker is recorded.
local ORIGINAL = -1
local FRAUD_CHECK = 1

local function main(order: {id: string, amount: number})
    if workflow.version("fraud-check", ORIGINAL, FRAUD_CHECK) == FRAUD_CHECK then
        local verdict, check_err = funcs.call("app:check_fraud", order)
        if check_err then
            return nil, check_err
        end
        if verdict.risky then
            return {status = "held", reason = verdict.reason}
        end
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
