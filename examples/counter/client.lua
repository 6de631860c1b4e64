-- The caller's side of the counter's request/reply protocol, as a Wippy service would write it.

-- Reads the replies to one request: "ack" then "ok", or "nak" alone.
local function answer(inbox)
    local acked = false
    while true do
        local msg = inbox:receive()
        if msg:topic() == "ack" then
            acked = true
        else
            return {acked = acked, topic = msg:topic(), data = msg:payload():data()}
        end
    end
end

local function main(input: {name: string, initial: number})
    -- Startup messages reach the counter before anything else sent to it; the replies come here.
    local spawner = process.with_options({})
        :with_name(input.name)
        :with_message("increment", {amount = 2})
        :with_message("increment", {amount = 5})
    local pid, err = spawner:spawn_monitored("app:counter", "app:worker", {initial = input.initial})
    if err then
        return nil, err
    end

    local inbox = process.inbox()
    local answers = {answer(inbox), answer(inbox)}
    for _, amount in ipairs({10, 3}) do
        process.send(pid, "decrement", {amount = amount})
        table.insert(answers, answer(inbox))
    end
    process.send(pid, "finish")
    table.insert(answers, answer(inbox))

    local exit = process.events():receive()
    return {answers = answers, final = exit.result.value.final_counter}
end

return {main = main}
