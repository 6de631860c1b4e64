-- Stand-ins for the payment, email and fraud services; the tests mock them.
local function charge_card(request: {order: string, amount: number}): {id: string}
    return {id = "pay-" .. request.order}
end

local function send_receipt(receipt: {order: string, payment: string}): boolean
    return true
end

local function check_fraud(order: {id: string, amount: number}): {risky: boolean, reason: string?}
    return {risky = order.amount > 10000, reason = order.amount > 10000 and "amount over limit" or nil}
end

return {charge_card = charge_card, send_receipt = send_receipt, check_fraud = check_fraud}
