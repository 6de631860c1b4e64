local uuid = require("uuid")

local function charge(payment: {amount: number, card: string}): {id: string}
    return {id = "pay-" .. uuid.v4()}
end

local function refund(payment_id: string): boolean
    return true
end

return {charge = charge, refund = refund}
