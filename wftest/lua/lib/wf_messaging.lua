-- Messages for a Wippy process, workflow or plain: Message objects, the message queue,
-- topic subscriptions, the inbox and the events channel, and the process options.
local api, P, host, common = ...
local hc, KIND, invalid, new_payload = common.hc, common.KIND, common.invalid, common.new_payload
local raw_type, raw_error, raw_setmetatable, tbl_pack = type, error, setmetatable, table.pack

local MESSAGE_MT = {__wippy = "message"}
local message_methods = {}
MESSAGE_MT.__index = message_methods
MESSAGE_MT.__tostring = function(m) return "process.Message{topic=" .. m._topic .. "}" end
function message_methods:topic() return self._topic end
function message_methods:from() return self._from end
function message_methods:payload()
    local values = self._values
    if values.n == 0 then return nil end
    if values.n == 1 then return new_payload(values[1]) end
    local out = {}
    for i = 1, values.n do out[i] = new_payload(values[i]) end
    return out
end

local function raw_value(values)
    if values.n == 0 then return nil end
    if values.n == 1 then return values[1] end
    local out = {}
    for i = 1, values.n do out[i] = values[i] end
    return out
end

local queue = {}             -- messages not yet delivered, in arrival order
local listeners = {}         -- topic -> {ch = channel, message = bool}
local listening = {}         -- channel -> topic
local inbox, events = nil, nil

-- Deliver what can be delivered: an exact topic subscription wins, else the inbox for topics not
-- starting with "@"; a message whose channel cannot take it yet stays queued, and no later message
-- for that channel overtakes it.
local function flush()
    local delivered, kept, blocked = false, {}, {}
    for _, m in ipairs(queue) do
        local target, as_message = nil, true
        local sub = listeners[m._topic]
        if sub then
            target, as_message = sub.ch, sub.message
        elseif m._topic:sub(1, 1) ~= "@" then
            target = inbox
        end
        if target ~= nil and not blocked[target] and P.can_accept(target) then
            local value = as_message and m or raw_value(m._values)
            if m._event ~= nil then value = m._event end
            P.push(P.channel_id(target), value)
            delivered = true
        else
            if target ~= nil then blocked[target] = true end
            kept[#kept + 1] = m
        end
    end
    queue = kept
    return delivered
end
P.set_flush(flush)

local function enqueue_message(topic, from, values, event)
    queue[#queue + 1] = raw_setmetatable({_topic = topic, _from = from or "", _values = values, _event = event},
                                         MESSAGE_MT)
end

local M = {event = {CANCEL = "pid.cancel", EXIT = "pid.exit", LINK_DOWN = "pid.link.down"}}
local options = {trap_links = false}
M.options = options

function M.listen(topic, opts)
    if raw_type(topic) ~= "string" then raw_error("process.listen: topic must be a string", 2) end
    if topic == "" then return nil, invalid("topic cannot be empty") end
    if topic:sub(1, 1) == "@" then return nil, invalid("cannot listen to @ topics") end
    local sub = listeners[topic]
    if sub == nil then
        sub = {ch = P.external_channel(1), message = raw_type(opts) == "table" and opts.message == true}
        listeners[topic] = sub
        listening[sub.ch] = topic
    end
    return sub.ch
end

function M.unlisten(ch)
    local topic = listening[ch]
    if topic == nil then return false, invalid("channel is not a subscription") end
    listening[ch] = nil
    listeners[topic] = nil
    return true
end

function M.inbox()
    if inbox == nil then inbox = P.external_channel(0) end
    return inbox
end

function M.events()
    if events == nil then
        events = P.external_channel(0)
        listeners["@events"] = {ch = events, message = false}
    end
    return events
end

function M.get_options() return {trap_links = options.trap_links} end
-- As Wippy's setOptions (runtime/lua/modules/process/module.go): string keys only, trap_links must be a
-- boolean, the first other key is reported; valid options before a bad one still apply.
function M.set_options(t)
    if raw_type(t) ~= "table" then return false, invalid("options parameter must be a table") end
    local problem = nil
    for k, v in pairs(t) do
        if raw_type(k) == "string" then
            if k == "trap_links" then
                if raw_type(v) ~= "boolean" then
                    problem = "trap_links must be a boolean"
                else
                    options.trap_links = v
                end
            elseif problem == nil then
                problem = "option " .. k .. " is not supported"
            end
        end
    end
    if problem then return false, invalid(problem) end
    return true, nil
end

-- The part of the `process` module every kind of process shares: its PID and entry id, messaging, options,
-- send. With `to_self_done`, a send to the process's own PID succeeds without a command (workflows).
function M.process_base(to_self_done)
    local process = {event = M.event}
    for _, name in ipairs({"listen", "unlisten", "inbox", "events", "get_options", "set_options"}) do
        process[name] = M[name]
    end
    function process.pid() return host.info().pid end
    function process.id() return host.info().entry_id end
    function process.send(dest, topic, ...)
        if raw_type(dest) ~= "string" then raw_error("process.send: destination must be a string", 2) end
        if raw_type(topic) ~= "string" or topic == "" then raw_error("process.send: topic must be a non-empty string", 2) end
        if topic:sub(1, 1) == "@" then return nil, invalid("cannot send to @ topics") end
        if to_self_done and dest == host.info().pid then return true, nil end
        return hc({kind = KIND.process_send, dest = dest, topic = topic, args = tbl_pack(...)})
    end
    return process
end

-- Topics of queued messages that no subscription (and no inbox) will ever take, and the topics listened
-- to, each as one "\n"-joined string: for the report of a workflow that can never close.
function M.unheard()
    local unheard, seen, heard = {}, {}, {}
    if inbox == nil then
        for _, m in ipairs(queue) do
            local topic = m._topic
            if listeners[topic] == nil and topic:sub(1, 1) ~= "@" and not seen[topic] then
                seen[topic] = true
                unheard[#unheard + 1] = topic
            end
        end
    end
    for topic in pairs(listeners) do heard[#heard + 1] = topic end
    table.sort(heard)
    return table.concat(unheard, "\n"), table.concat(heard, "\n")
end

-- Messages and lifecycle events from the host, queued for delivery.
function M.deliver(topic, from, ...)
    enqueue_message(topic, from, tbl_pack(...), nil)
end

function M.deliver_event(event)
    enqueue_message("@events", "", {n = 0}, event)
end

return M
