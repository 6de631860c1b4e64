-- The `process` module of a plain Lua process (a function or process entry run as a process, like a
-- Wippy test): send, spawn/exec workflows on a `temporal.worker` host, monitor/link, terminate/cancel
-- Messaging and send are shared with workflows (wf_messaging.lua).
local api, P, host, common = ...
local hc, KIND, invalid, check_start = common.hc, common.KIND, common.invalid, common.check_start
local copy, merged = common.copy, common.merged
local raw_type, raw_error, raw_setmetatable, tbl_pack = type, error, setmetatable, table.pack
local M = common.section("messaging")
local process = M.process_base(false)

-- One request for every way of starting: spawn variants, exec, and spawners.
local function start(kind, spec, monitor, link, id, host_id, ...)
    local err = check_start(id, host_id)
    if err then return nil, err end
    return hc({kind = kind, target = id, host = host_id, args = tbl_pack(...), options = spec.options,
               context = spec.context, name = spec.name, messages = spec.messages, monitor = monitor, link = link})
end

local PLAIN = {options = {}, context = {}, messages = {}}
local VARIANTS = {spawn = {false, false}, spawn_monitored = {true, false}, spawn_linked = {false, true},
                  spawn_linked_monitored = {true, true}}
for name, flags in pairs(VARIANTS) do
    process[name] = function(id, host_id, ...) return start(KIND.proc_spawn, PLAIN, flags[1], flags[2], id, host_id, ...) end
end
function process.exec(id, host_id, ...) return start(KIND.proc_exec, PLAIN, true, false, id, host_id, ...) end

local SPAWNER_MT = {__wippy = "spawner"}
local spawner = {}
SPAWNER_MT.__index = spawner
local function new_spawner(spec) return raw_setmetatable(spec, SPAWNER_MT) end
local function with(self, field, value)
    local spec = {options = self.options, context = self.context, name = self.name, messages = self.messages}
    spec[field] = value
    return new_spawner(spec)
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
    spawner[name] = function(self, id, host_id, ...) return start(KIND.proc_spawn, self, flags[1], flags[2], id, host_id, ...) end
end
function process.with_options(t) return new_spawner({options = {}, context = {}, messages = {}}):with_options(t) end
function process.with_context(t) return new_spawner({options = {}, context = {}, messages = {}}):with_context(t) end

local function on_pid(kind, extra)
    return function(dest, ...)
        if raw_type(dest) ~= "string" or dest == "" then raw_error("destination must be a PID string", 2) end
        return hc({kind = kind, dest = dest, on = extra, arg = (...)})
    end
end
process.monitor = on_pid(KIND.proc_monitor, true)
process.unmonitor = on_pid(KIND.proc_monitor, false)
process.link = on_pid(KIND.proc_link, true)
process.unlink = on_pid(KIND.proc_link, false)
process.terminate = on_pid(KIND.proc_terminate, true)
process.cancel = on_pid(KIND.proc_cancel, true)
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
    return hc({kind = KIND.proc_register, name = name, pid = pid})
end
function registry.lookup(name)
    check_name(name, "lookup")
    return hc({kind = KIND.proc_lookup, name = name})
end
function registry.unregister(name)
    check_name(name, "unregister")
    return hc({kind = KIND.proc_unregister, name = name})
end
process.registry = registry

function process.upgrade()
    raw_error("process.upgrade is for workflows (continue-as-new)", 2)
end

return {process = process, deliver = M.deliver, deliver_event = M.deliver_event}
