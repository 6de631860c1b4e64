local funcs = require("funcs")

local function main(order: {id: string, address: string})
    local label, err = funcs.call("app:print_label", order)
    if err then
        return nil, err
    end
    local handover, hand_err = funcs.call("app:hand_over", label.id)
    if hand_err then
        return nil, hand_err
    end
    return {order = order.id, tracking = handover.tracking}
end

return {main = main}
