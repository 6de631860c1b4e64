-- The `process` module inside workflows: PID, messages (signals), subscriptions, send, children
-- (spec §1.5, §2.6–2.8).
local api, P, host, common = ...
local hc = api.host_command
local raw_type, raw_error, raw_setmetatable, raw_getmetatable = type, error, setmetatable, getmetatable
local tbl_pack = table.pack
local new_error = api.new_error
local invalid, check_target, copy, new_payload = common.invalid, common.check_target, common.copy, common.new_payload

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

local process = {event = {CANCEL = "pid.cancel", EXIT = "pid.exit", LINK_DOWN = "pid.link.down"}}
local options = {trap_links = false}

function process.pid() return host.info().pid end
function process.id() return host.info().entry_id end

function process.listen(topic, opts)
    if raw_type(topic) ~= "string" or topic == "" then raw_error("process.listen: topic must be a non-empty string", 2) end
    if topic:sub(1, 1) == "@" then raw_error("process.listen: topic must not start with '@'", 2) end
    local sub = listeners[topic]
    if sub == nil then
        sub = {ch = P.external_channel(1), message = raw_type(opts) == "table" and opts.message == true}
        listeners[topic] = sub
        listening[sub.ch] = topic
    end
    return sub.ch
end

function process.unlisten(ch)
    local topic = listening[ch]
    if topic == nil then return false, invalid("channel is not a subscription") end
    listening[ch] = nil
    listeners[topic] = nil
    return true
end

function process.inbox()
    if inbox == nil then inbox = P.external_channel(0) end
    return inbox
end

function process.events()
    if events == nil then
        events = P.external_channel(0)
        listeners["@events"] = {ch = events, message = false}
    end
    return events
end

local function not_in_workflow(name)
    return function()
        return nil, new_error("Internal", "process." .. name .. " is not supported in workflows", false, nil)
    end
end
process.monitor = not_in_workflow("monitor")
process.unmonitor = not_in_workflow("unmonitor")
process.link = not_in_workflow("link")
process.unlink = not_in_workflow("unlink")

function process.get_options() return {trap_links = options.trap_links} end
function process.set_options(t)
    if raw_type(t) ~= "table" then return false, invalid("set_options expects a table") end
    for k, v in pairs(t) do
        if k ~= "trap_links" then return false, invalid("unknown process option '" .. tostring(k) .. "'") end
        options.trap_links = v and true or false
    end
    return true, nil
end

function process.send(dest, topic, ...)
    if raw_type(dest) ~= "string" or dest == "" then raw_error("process.send: destination must be a string", 2) end
    if raw_type(topic) ~= "string" or topic == "" then raw_error("process.send: topic must be a non-empty string", 2) end
    if topic:sub(1, 1) == "@" then return nil, invalid("topic must not start with '@'") end
    if dest == host.info().pid then return true, nil end
    return hc({kind = "process.send", dest = dest, topic = topic, args = tbl_pack(...)})
end

-- Children from process.* (§2.6): `host` is used verbatim as the child's task queue (§8.3).
local function check_child(id, host)
    local bad = check_target(id)
    if bad then return invalid(bad) end
    if raw_type(host) ~= "string" or host == "" then return invalid("host must be a non-empty string") end
    return nil
end

local function spawn_child(options, context, id, host, ...)
    local err = check_child(id, host)
    if err then return nil, err end
    return hc({kind = "child.spawn", target = id, host = host, args = tbl_pack(...), options = options,
               context = context})
end

function process.exec(id, host, ...)
    local err = check_child(id, host)
    if err then return nil, err end
    return hc({kind = "child.exec", target = id, host = host, args = tbl_pack(...)})
end

-- Inside workflows all four spawn variants behave alike: the child is always monitored (§1.5).
for _, name in ipairs({"spawn", "spawn_monitored", "spawn_linked", "spawn_linked_monitored"}) do
    process[name] = function(id, host, ...) return spawn_child(nil, nil, id, host, ...) end
end

local SPAWNER_MT = {__wippy = "spawner"}
local spawner_methods = {}
SPAWNER_MT.__index = spawner_methods
local function new_spawner(options, context)
    return raw_setmetatable({_options = options, _context = context}, SPAWNER_MT)
end
local function merged(base, extra, what)
    if raw_type(extra) ~= "table" then raw_error(what .. " expects a table", 3) end
    local out = copy(base)
    for k, v in pairs(extra) do out[k] = v end
    return out
end
function spawner_methods:with_options(t) return new_spawner(merged(self._options, t, "with_options"), self._context) end
function spawner_methods:with_context(t) return new_spawner(self._options, merged(self._context, t, "with_context")) end
-- §8.3: names, startup messages, actors and scopes do not apply to children spawned from workflows.
function spawner_methods:with_name() return self end
function spawner_methods:with_message() return self end
function spawner_methods:with_actor() return self end
function spawner_methods:with_scope() return self end
for _, name in ipairs({"spawn", "spawn_monitored", "spawn_linked", "spawn_linked_monitored"}) do
    spawner_methods[name] = function(self, id, host, ...)
        return spawn_child(self._options, self._context, id, host, ...)
    end
end
function process.with_options(t) return new_spawner({}, {}):with_options(t) end
function process.with_context(t) return new_spawner({}, {}):with_context(t) end

-- §2.7, §8.2: terminate and cancel both become a cancel request to the target workflow.
local function cancel_target(dest)
    if raw_type(dest) ~= "string" or dest == "" then raw_error("destination must be a PID string", 3) end
    return hc({kind = "process.cancel", dest = dest})
end
function process.terminate(dest) return cancel_target(dest) end
function process.cancel(dest) return cancel_target(dest) end
-- §2.10: continue-as-new, with the own entry id or another workflow entry; never returns.
function process.upgrade(id, ...)
    if id ~= nil then
        local bad = check_target(id)
        if bad then return nil, invalid(bad) end
    end
    return hc({kind = "continue_as_new", target = id, args = tbl_pack(...)})
end
_G.process = process

-- Messages from the worker (signals; §2.8) and lifecycle events (CANCEL), queued for delivery.
local function deliver(topic, from, ...)
    enqueue_message(topic, from, tbl_pack(...), nil)
end

local function deliver_event(event)
    enqueue_message("@events", "", {n = 0}, event)
end

return {process = process, deliver = deliver, deliver_event = deliver_event}
