-- The workflow flavour of Wippy's funcs / time / workflow modules (spec §1.2–1.4, §2.0–2.5, §2.11).
-- Every Temporal-visible action is a command yielded to the worker; everything else stays in Lua.
local api, P, host = ...
local hc = api.host_command
local raw_type, raw_error, raw_setmetatable, raw_getmetatable = type, error, setmetatable, getmetatable
local tbl_pack = table.pack
local new_error = api.new_error

local function invalid(msg) return new_error("Invalid", msg, false, nil) end

local function check_target(target)
    if raw_type(target) ~= "string" or target == "" then return "target must be a non-empty 'namespace:name' string" end
    local ns, name = string.match(target, "^([^:]*):(.*)$")
    if not ns or ns == "" then return "target '" .. target .. "' has no namespace (expected 'namespace:name')" end
    if name == "" then return "target '" .. target .. "' has no name (expected 'namespace:name')" end
    return nil
end

-- Payload objects (§1.5): a decoded value with Wippy's accessor methods.
local PAYLOAD_MT = {__wippy = "payload"}
local payload_methods = {}
PAYLOAD_MT.__index = payload_methods
PAYLOAD_MT.__tostring = function() return "payload" end
function payload_methods:data() return self._value, nil end
function payload_methods:get_format() return "lua/any" end
function payload_methods:unmarshal() return self._value, nil end
local function new_payload(value) return raw_setmetatable({_value = value}, PAYLOAD_MT) end

---------------------------------------------------------------------------------------------------
-- funcs (§1.2, §2.1, §2.2)
local FUTURE_MT = {__wippy = "future"}
local future_methods = {}
FUTURE_MT.__index = future_methods
FUTURE_MT.__tostring = function() return "future" end
local futures = {}

function future_methods:response() return self._ch end
future_methods.channel = future_methods.response
function future_methods:is_complete() return self._done end
function future_methods:is_canceled() return self._canceled end
function future_methods:result()
    if not self._done then return nil, nil end
    if self._err ~= nil then return nil, self._err end
    return self._payload, nil
end
function future_methods:error()
    if self._err ~= nil then return self._err, true end
    return nil, false
end
function future_methods:cancel()
    if self._done then return true end
    hc({kind = "activity.cancel", future = self._id})
    self._canceled = true
    self._done = true
    self._err = new_error("Canceled", "operation canceled", false, nil)
    P.close(P.channel_id(self._ch))
    return true
end

-- The worker resolves a future (in the signal phase of a workflow task).
local function resolve_future(id, value, err)
    local f = futures[id]
    if f == nil or f._done then return end
    futures[id] = nil
    f._done = true
    local ch = P.channel_id(f._ch)
    if err ~= nil then
        f._err = err
        P.push(ch, err)
    else
        f._payload = new_payload(value)
        P.push(ch, f._payload)
    end
    P.close(ch)
end

local function copy(t)
    local out = {}
    if t then for k, v in pairs(t) do out[k] = v end end
    return out
end

local function do_call(options, target, ...)
    local bad = check_target(target)
    if bad then return nil, invalid(bad) end
    return hc({kind = "activity.call", target = target, args = tbl_pack(...), options = options})
end

local function do_async(options, target, ...)
    local bad = check_target(target)
    if bad then return nil, invalid(bad) end
    local ch = P.external_channel(1)
    local id, err = hc({kind = "activity.start", target = target, args = tbl_pack(...), options = options})
    if id == nil then return nil, err end
    local f = raw_setmetatable({_id = id, _ch = ch, _done = false, _canceled = false}, FUTURE_MT)
    futures[id] = f
    return f, nil
end

local EXECUTOR_MT = {__wippy = "executor"}
local executor_methods = {}
EXECUTOR_MT.__index = executor_methods
local function new_executor(options, context)
    return raw_setmetatable({_options = options, _context = context}, EXECUTOR_MT)
end
function executor_methods:with_options(t)
    if raw_type(t) ~= "table" then raw_error("with_options expects a table", 2) end
    local o = copy(self._options)
    for k, v in pairs(t) do o[k] = v end
    return new_executor(o, self._context)
end
function executor_methods:with_context(t)
    if raw_type(t) ~= "table" then raw_error("with_context expects a table", 2) end
    local c = copy(self._context)
    for k, v in pairs(t) do c[k] = v end
    return new_executor(self._options, c)   -- §8.5: not sent with activities from workflows
end
function executor_methods:with_actor() return self end
function executor_methods:with_scope() return self end
function executor_methods:call(target, ...) return do_call(self._options, target, ...) end
function executor_methods:async(target, ...) return do_async(self._options, target, ...) end

local funcs = {
    call = function(target, ...) return do_call(nil, target, ...) end,
    async = function(target, ...) return do_async(nil, target, ...) end,
    new = function() return new_executor({}, {}) end,
}

---------------------------------------------------------------------------------------------------
-- time: the yielding half (§1.3, §2.3)
local duration_ns = host.duration_ns

local TIMER_MT = {__wippy = "timer"}
local timer_methods = {}
TIMER_MT.__index = timer_methods
function timer_methods:response() return self._ch end
timer_methods.channel = timer_methods.response
function timer_methods:stop()
    local ok = hc({kind = "timer.stop", timer = self._id})
    P.close(P.channel_id(self._ch))
    return ok
end
function timer_methods:reset(d)
    local ns = duration_ns(d)
    if ns == nil or ns <= 0 then raw_error("timer:reset: duration must be positive", 2) end
    return hc({kind = "timer.reset", timer = self._id, duration = ns})
end

local TICKER_MT = {__wippy = "ticker"}
local ticker_methods = {}
TICKER_MT.__index = ticker_methods
function ticker_methods:response() return self._ch end
ticker_methods.channel = ticker_methods.response
function ticker_methods:stop()
    hc({kind = "ticker.stop", timer = self._id})
    P.close(P.channel_id(self._ch))
    return true
end

local function start_timer(d, kind, size)
    local ns, err = duration_ns(d)
    if ns == nil then return nil, invalid(err) end
    if ns <= 0 then return nil, invalid("duration must be positive") end
    local ch = P.external_channel(size)
    local id = hc({kind = kind, duration = ns, channel = P.channel_id(ch)})
    return ch, id
end

local time_ext = {
    sleep = function(d)
        local ns = duration_ns(d)
        if ns == nil then return end
        hc({kind = "timer.sleep", duration = ns})
    end,
    after = function(d)
        local ch, err = start_timer(d, "timer.start", 1)
        return ch, (ch == nil) and err or nil
    end,
    timer = function(d)
        local ch, id = start_timer(d, "timer.start", 1)
        if ch == nil then return nil, id end
        return raw_setmetatable({_ch = ch, _id = id}, TIMER_MT), nil
    end,
    ticker = function(d)
        local ch, id = start_timer(d, "ticker.start", 16)
        if ch == nil then return nil, id end
        return raw_setmetatable({_ch = ch, _id = id}, TICKER_MT), nil
    end,
}

---------------------------------------------------------------------------------------------------
-- workflow (§1.4, §2.5, §2.11)
local workflow = {}
function workflow.version(change_id, min, max)
    if raw_type(change_id) ~= "string" or change_id == "" then return nil, invalid("change_id must be a non-empty string") end
    if raw_type(min) ~= "number" or raw_type(max) ~= "number" then return nil, invalid("min and max must be numbers") end
    if min > max then return nil, invalid("min must not be greater than max") end
    local v, err = hc({kind = "version", change_id = change_id, min = math.tointeger(min) or min,
                       max = math.tointeger(max) or max})
    if v == nil then return nil, err end
    return v + 0.0, nil
end
function workflow.attrs(spec)
    if raw_type(spec) ~= "table" then return nil, invalid("attrs expects a table {search = ..., memo = ...}") end
    if spec.search == nil and spec.memo == nil then return nil, invalid("attrs needs search or memo") end
    if spec.search ~= nil and raw_type(spec.search) ~= "table" then return nil, invalid("search must be a table") end
    if spec.memo ~= nil and raw_type(spec.memo) ~= "table" then return nil, invalid("memo must be a table") end
    return hc({kind = "attrs", search = spec.search, memo = spec.memo})
end
function workflow.info() return host.info(), nil end
function workflow.history_length() return host.info().history_length, nil end
function workflow.history_size() return host.info().history_size, nil end
-- §2.6: a synchronous child workflow on the parent's task queue.
function workflow.exec(id, ...)
    local bad = check_target(id)
    if bad then return nil, invalid(bad) end
    return hc({kind = "child.exec", target = id, args = tbl_pack(...), no_empty_input = true})
end

---------------------------------------------------------------------------------------------------
-- process (§1.5, §2.7, §2.8): the workflow's own PID, messages (signals), subscriptions, send.
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
function process.upgrade()
    raw_error("process.upgrade (continue-as-new) is not implemented by wftest yet", 2)
end
_G.process = process

-- Messages from the worker (signals; §2.8) and lifecycle events (CANCEL), queued for delivery.
local function deliver(topic, from, ...)
    enqueue_message(topic, from, tbl_pack(...), nil)
end

local function deliver_event(event)
    enqueue_message("@events", "", {n = 0}, event)
end

-- Copy fields into a module table (done in Lua: Python must not read Lua functions mid-coroutine).
local function extend(module, fields)
    for k, v in pairs(fields) do module[k] = v end
    return module
end

return {
    extend = extend,
    process = process,
    deliver = deliver,
    deliver_event = deliver_event,
    funcs = funcs,
    time_ext = time_ext,
    workflow = workflow,
    resolve_future = resolve_future,
    new_payload = new_payload,
}
