local funcs = require("funcs")

local function main(manifest: {batch: string, parcels: {any}})
    local receipt, err = funcs.call("app:submit_manifest", manifest)
    if err then
        return nil, err
    end
    return {id = receipt.id}
end

return {main = main}
