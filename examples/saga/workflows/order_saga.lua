local funcs = require("funcs")

-- A forward step gets three attempts; then the saga gives up and compensates.
local step = funcs.new():with_options({
    ["activity.retry_policy"] = {maximum_attempts = 3},
})
-- A compensation must not be lost: it is retried until it succeeds.
local undo = funcs.new():with_options({
    ["activity.retry_policy"] = {maximum_interval = "1m"},
})

type Compensation = {action: string, args: any}

-- Undo in reverse order: the newest step first.
local function run_compensations(compensations: {Compensation})
    for _, comp in ipairs(compensations) do
        undo:call(comp.action, comp.args)
    end
end

local function main(order)
    local compensations: {Compensation} = {}

    local reservation, err = step:call("app:reserve_inventory", order.items)
    if err then
        return {status = "failed", step = "inventory", error = tostring(err)}
    end
    table.insert(compensations, 1, {action = "app:release_inventory", args = reservation.id})

    local payment, pay_err = step:call("app:charge_payment", order.payment)
    if pay_err then
        run_compensations(compensations)
        return {status = "failed", step = "payment", error = tostring(pay_err)}
    end
    table.insert(compensations, 1, {action = "app:refund_payment", args = payment.id})

    local shipment, ship_err = step:call("app:ship_order", order.shipping)
    if ship_err then
        run_compensations(compensations)
        return {status = "failed", step = "shipping", error = tostring(ship_err)}
    end

    return {status = "completed", tracking = shipment.tracking}
end

return {main = main}
