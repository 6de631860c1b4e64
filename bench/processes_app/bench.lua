local M = {}

function M.collector(n)
    local inbox = process.inbox()
    for _ = 1, n do
        local msg = inbox:receive()
        process.send(msg:from(), "ack", true)
    end
    return n
end

function M.pinger(wf_pid)
    process.send(wf_pid, "hello", 1)
    local msg = process.inbox():receive()
    return msg:topic()
end

function M.idle()
    return process.inbox():receive()
end

return M
