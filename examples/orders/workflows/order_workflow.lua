local funcs = require("funcs")
local time = require("time")
local money = require("money")

type Order = {
    id: string,
    total: number,
    customer_id: string?,
}

type Outcome = {status: "completed" | "failed", payment_id: string?, tracking: string?, error: string?}

local function main(input: any): Outcome
    local order = Order(input)
    local payment, err = funcs.call("app:charge_payment", {
        amount = money.to_cents(order.total),
        customer = order.customer_id,
    })
    if err then
        return {status = "failed", error = tostring(err)}
    end

    time.sleep("1h")

    local shipment, ship_err = funcs.call("app:ship_order", {order_id = order.id})
    if ship_err then
        funcs.call("app:refund_payment", payment.id)
        return {status = "failed", error = tostring(ship_err)}
    end
    return {status = "completed", payment_id = payment.id, tracking = shipment.tracking_number}
end

return {main = main}
