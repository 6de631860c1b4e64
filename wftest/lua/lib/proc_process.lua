-- The `process` module of a plain Lua process (a function or process entry run as a process, like a
-- Wippy test): send, spawn/exec workflows on a `temporal.worker` host, monitor/link, terminate/cancel
-- Messaging is shared with workflows (wf_messaging.lua).
local api, P, host, common = ...
local hc = api.host_command
local raw_type, raw_error, raw_setmetatable = type, error, setmetatable
local tbl_pack = table.pack
local invalid, check_target, copy = common.invalid, common.check_target, common.copy
local M = common.section("messaging")
local process = M.process_base()

function process.send(dest, topic, ...)
    if raw_type(dest) ~= "string" then raw_error("process.send: destination must be a string", 2) end
    if raw_type(topic) ~= "string" or topic == "" then raw_error("process.send: topic must be a non-empty string", 2) end
    if topic:sub(1, 1) == "@" then return nil, invalid("cannot send to @ topics") end
    return hc({kind = "process.send", dest = dest, topic = topic, args = tbl_pack(...)})
end

local function check_spawn(id, host_id)
    local bad = check_target(id)
    if bad then return invalid(bad) end
    if raw_type(host_id) ~= "string" or host_id == "" then return invalid("host must be a non-empty string") end
    return nil
end

-- One request for every way of starting: spawn variants, exec, and spawners.
local function start(kind, spec, monitor, link, id, host_id, ...)
    local err = check_spawn(id, host_id)
    if err then return nil, err end
    return hc({kind = kind, target = id, host = host_id, args = tbl_pack(...), options = spec.options,
               context = spec.context, name = spec.name, messages = spec.messages, monitor = monitor, link = link})
end

local PLAIN = {options = {}, context = {}, messages = {}}
local VARIANTS = {spawn = {false, false}, spawn_monitored = {true, false}, spawn_linked = {false, true},
                  spawn_linked_monitored = {true, true}}
for name, flags in pairs(VARIANTS) do
    process[name] = function(id, host_id, ...) return start("proc.spawn", PLAIN, flags[1], flags[2], id, host_id, ...) end
end
function process.exec(id, host_id, ...) return start("proc.exec", PLAIN, true, false, id, host_id, ...) end

local SPAWNER_MT = {__wippy = "spawner"}
local spawner = {}
SPAWNER_MT.__index = spawner
local function new_spawner(spec) return raw_setmetatable(spec, SPAWNER_MT) end
local function with(self, field, value)
    local spec = {options = self.options, context = self.context, name = self.name, messages = self.messages}
    spec[field] = value
    return new_spawner(spec)
end
local function merged(base, extra, what)
    if raw_type(extra) ~= "table" then raw_error(what .. " expects a table", 3) end
    local out = copy(base)
    for k, v in pairs(extra) do out[k] = v end
    return out
end
function spawner:with_options(t) return with(self, "options", merged(self.options, t, "with_options")) end
function spawner:with_context(t) return with(self, "context", merged(self.context, t, "with_context")) end
function spawner:with_name(name)
    if raw_type(name) ~= "string" or name == "" then raw_error("with_name expects a non-empty string", 2) end
    return with(self, "name", name)
end
function spawner:with_message(topic, ...)
    if raw_type(topic) ~= "string" or topic == "" then raw_error("with_message expects a topic", 2) end
    local messages = copy(self.messages)
    messages[#messages + 1] = {topic = topic, args = tbl_pack(...)}
    return with(self, "messages", messages)
end
function spawner:with_actor() return self end
function spawner:with_scope() return self end
for name, flags in pairs(VARIANTS) do
    spawner[name] = function(self, id, host_id, ...) return start("proc.spawn", self, flags[1], flags[2], id, host_id, ...) end
end
function process.with_options(t) return new_spawner({options = {}, context = {}, messages = {}}):with_options(t) end
function process.with_context(t) return new_spawner({options = {}, context = {}, messages = {}}):with_context(t) end

local function on_pid(kind, extra)
    return function(dest, ...)
        if raw_type(dest) ~= "string" or dest == "" then raw_error("destination must be a PID string", 2) end
        return hc({kind = kind, dest = dest, on = extra, arg = (...)})
    end
end
process.monitor = on_pid("proc.monitor", true)
process.unmonitor = on_pid("proc.monitor", false)
process.link = on_pid("proc.link", true)
process.unlink = on_pid("proc.link", false)
process.terminate = on_pid("proc.terminate", true)
process.cancel = on_pid("proc.cancel", true)
-- The name registry (one node: every scope is the local registry).
local registry = {LOCAL = 0, EVENTUAL = 1, CONSISTENT = 2, STRONG = 3}
local function check_name(name, fn)
    if raw_type(name) ~= "string" then raw_error("process.registry." .. fn .. ": name must be a string", 3) end
end
function registry.register(name, pid, scope)
    check_name(name, "register")
    if pid ~= nil and raw_type(pid) ~= "string" then return nil, invalid("pid must be a string") end
    if scope ~= nil and raw_type(scope) ~= "number" then
        return nil, invalid("scope must be a number (process.registry.LOCAL|EVENTUAL|CONSISTENT|STRONG)")
    end
    return hc({kind = "proc.register", name = name, pid = pid})
end
function registry.lookup(name)
    check_name(name, "lookup")
    return hc({kind = "proc.lookup", name = name})
end
function registry.unregister(name)
    check_name(name, "unregister")
    return hc({kind = "proc.unregister", name = name})
end
process.registry = registry

function process.upgrade()
    raw_error("process.upgrade is for workflows (continue-as-new)", 2)
end

return {process = process, deliver = M.deliver, deliver_event = M.deliver_event}
