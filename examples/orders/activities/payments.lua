local uuid = require("uuid")

local function charge(request: {amount: integer, customer: string?}): {id: string, amount: integer}
    if request.amount <= 0 then
        return nil, errors.new({message = "amount must be positive", kind = errors.INVALID, retryable = false})
    end
    return {id = "pay-" .. uuid.v4(), amount = request.amount}
end

local function refund(payment_id: string): boolean
    return payment_id ~= nil
end

return {charge = charge, refund = refund}
