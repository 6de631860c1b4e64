local uuid = require("uuid")

local function ship(shipping: {address: string}): {tracking: string}
    return {tracking = "TRK-" .. uuid.v4()}
end

return {ship = ship}
