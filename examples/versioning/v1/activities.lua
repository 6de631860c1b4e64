-- Stand-ins for the payment and email services; the tests and the recorder mock them.
local function charge_card(request: {order: string, amount: number}): {id: string}
    return {id = "pay-" .. request.order}
end

local function send_receipt(receipt: {order: string, payment: string}): boolean
    return true
end

return {charge_card = charge_card, send_receipt = send_receipt}
