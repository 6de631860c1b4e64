local uuid = require("uuid")

local function reserve(items: {{sku: string, qty: integer}}): {id: string}
    return {id = "res-" .. uuid.v4()}
end

local function release(reservation_id: string): boolean
    return true
end

return {reserve = reserve, release = release}
