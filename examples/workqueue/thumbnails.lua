local funcs = require("funcs")

-- A failing image must not hold up the batch: two attempts, then it is reported.
local service = funcs.new():with_options({
    ["activity.retry_policy"] = {maximum_attempts = 2},
})

type Thumbnail = {image: string, url: string?, error: string?}

local function main(input: {images: {string}, workers: integer?}): {Thumbnail}
    local images = input.images
    local jobs = channel.new(#images)
    local results = channel.new(#images)

    -- Fan out: each worker takes the next job until the queue is closed and empty.
    for _ = 1, input.workers or 3 do
        coroutine.spawn(function()
            while true do
                local job, ok = jobs:receive()
                if not ok then break end
                local thumb, err = service:call("app:make_thumbnail", images[job])
                results:send({job = job, url = thumb and thumb.url, error = err and tostring(err)})
            end
        end)
    end
    for job = 1, #images do
        jobs:send(job)
    end
    jobs:close()

    -- Fan in: results arrive in completion order; the answer lists them in input order.
    local thumbnails: {Thumbnail} = {}
    for _ = 1, #images do
        local r = results:receive()
        thumbnails[r.job] = {image = images[r.job], url = r.url, error = r.error}
    end
    return thumbnails
end

return {main = main}
