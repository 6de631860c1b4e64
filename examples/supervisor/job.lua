local funcs = require("funcs")
local time = require("time")

local function main(input)
    process.send("jobs", "progress", {stage = "started"})
    local result, err = funcs.new():with_options({["activity.retry_policy"] = {max_attempts = 1}})
        :call("app:process_job", input)
    if err then error(err) end
    time.sleep("10m")
    return {output = result}
end

return {main = main}
