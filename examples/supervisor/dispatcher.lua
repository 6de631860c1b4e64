-- The job service: one workflow per submitted job, supervised through its EXIT event.
local MAX_ATTEMPTS = 2

local function main()
    local ok, err = process.registry.register("jobs")
    if not ok then return nil, err end
    local inbox, events = process.inbox(), process.events()
    local jobs = {}       -- workflow PID -> {id, input, reply_to, attempt}
    local summary = {done = 0, failed = 0, restarted = 0, progress = 0}

    local function start(job)
        local id = job.id .. "-" .. job.attempt
        local pid, start_err = process.with_options({["temporal.workflow.id"] = id})
            :spawn_monitored("app:job", "app:worker", job.input)
        if start_err then
            process.send(job.reply_to, "failed", {id = job.id, error = tostring(start_err)})
            summary.failed = summary.failed + 1
            return
        end
        jobs[pid] = job
    end

    while true do
        local r = channel.select {inbox:case_receive(), events:case_receive()}
        if r.channel == inbox then
            local msg = r.value
            if msg:topic() == "submit" then
                local req = msg:payload():data()
                start({id = req.id, input = req.input, reply_to = msg:from(), attempt = 1})
            elseif msg:topic() == "progress" then
                summary.progress = summary.progress + 1
            end
        else
            local ev = r.value
            if ev.kind == process.event.CANCEL then
                return summary
            end
            local job = jobs[ev.from]
            if ev.kind == process.event.EXIT and job then
                jobs[ev.from] = nil
                if ev.result.error == nil then
                    summary.done = summary.done + 1
                    process.send(job.reply_to, "done", {id = job.id, result = ev.result.value,
                                                        attempts = job.attempt})
                elseif job.attempt < MAX_ATTEMPTS then
                    summary.restarted = summary.restarted + 1
                    job.attempt = job.attempt + 1
                    start(job)
                else
                    summary.failed = summary.failed + 1
                    process.send(job.reply_to, "failed", {id = job.id, error = ev.result.error:message()})
                end
            end
        end
    end
end

return {main = main}
