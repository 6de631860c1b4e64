-- Each request topic has its own handler coroutine. A caller that sends a request gets "ack", then
-- "ok" with the new value; a request that cannot be applied gets "nak" with the reason.

type Request = {amount: number}

-- Signals sent from the Temporal CLI or UI have no sender: there is nobody to answer.
local function reply(msg, topic: string, data: any?)
    local to = msg:from()
    if to ~= "" then
        process.send(to, topic, data)
    end
end

local function main(input: {initial: number?})
    local counter = input.initial or 0
    local done = false

    -- Serves one topic: `apply` returns the new value, or nil and the reason to refuse.
    local function serve(topic: string, apply: (number) -> (number?, string?))
        coroutine.spawn(function()
            local ch = process.listen(topic, {message = true})
            while not done do
                local msg, ok = ch:receive()
                if not ok then break end
                local payload = msg:payload()
                local request, err = Request:is(payload and payload:data())
                if err then
                    reply(msg, "nak", "amount must be a number")
                else
                    local value, reason = apply(request.amount)
                    if value == nil then
                        reply(msg, "nak", reason)
                    else
                        reply(msg, "ack")
                        counter = value
                        reply(msg, "ok", {value = counter})
                    end
                end
            end
        end)
    end

    serve("increment", function(amount) return counter + amount end)
    serve("decrement", function(amount)
        if counter - amount < 0 then
            return nil, "would result in negative value"
        end
        return counter - amount
    end)

    -- The main coroutine waits for "finish"; returning ends the handlers too.
    local msg = process.listen("finish", {message = true}):receive()
    reply(msg, "ack")
    reply(msg, "ok", {message = "finishing"})
    done = true
    return {final_counter = counter}
end

return {main = main}
