-- The `process` module inside workflows: PID, messages (signals), subscriptions, send, children.
local api, P, host, common = ...
local hc, KIND, invalid, check_target = common.hc, common.KIND, common.invalid, common.check_target
local check_start, new_error = common.check_start, api.new_error
local raw_type, raw_error, tbl_pack = type, error, table.pack
local M = common.section("messaging")
local process = M.process_base(true)

-- Wippy's workflow handler refuses these (service/temporal/workflow/handler_process.go); the yield's
-- result handler reports the refusal as Internal.
local function not_in_workflow(message)
    return function(dest)
        if raw_type(dest) ~= "string" then raw_error("bad argument #1 (string expected, got " .. raw_type(dest) .. ")", 2) end
        if not string.match(dest, "^{.*|.*}$") then
            return nil, new_error("NotFound", "could not resolve '" .. dest .. "' as PID or registered name", false, nil)
        end
        return nil, new_error("Internal", message, false, nil)
    end
end
process.monitor = not_in_workflow(
    "process.monitor not supported in workflow context: child workflows are automatically monitored")
process.unmonitor = not_in_workflow("process.unmonitor not supported in workflow context")
process.link = not_in_workflow(
    "process.link not supported in workflow context: Temporal doesn't support bidirectional linking")
process.unlink = not_in_workflow("process.unlink not supported in workflow context")

-- Children from process.*: `host` is used verbatim as the child's task queue.
local function spawn_child(options, context, id, host, ...)
    local err = check_start(id, host)
    if err then return nil, err end
    return hc({kind = KIND.child_spawn, target = id, host = host, args = tbl_pack(...), options = options,
               context = context})
end

function process.exec(id, host, ...)
    local err = check_start(id, host)
    if err then return nil, err end
    return hc({kind = KIND.child_exec, target = id, host = host, args = tbl_pack(...)})
end

-- Inside workflows all four spawn variants behave alike: the child is always monitored.
for _, name in ipairs({"spawn", "spawn_monitored", "spawn_linked", "spawn_linked_monitored"}) do
    process[name] = function(id, host, ...) return spawn_child(nil, nil, id, host, ...) end
end

local new_spawner, spawner_methods = common.builder("spawner")
-- names and startup messages do not apply to children spawned from workflows either.
function spawner_methods:with_name() return self end
function spawner_methods:with_message() return self end
for _, name in ipairs({"spawn", "spawn_monitored", "spawn_linked", "spawn_linked_monitored"}) do
    spawner_methods[name] = function(self, id, host, ...)
        return spawn_child(self._options, self._context, id, host, ...)
    end
end
function process.with_options(t) return new_spawner({}, {}):with_options(t) end
function process.with_context(t) return new_spawner({}, {}):with_context(t) end

-- terminate and cancel both become a cancel request to the target workflow.
local function cancel_target(dest)
    if raw_type(dest) ~= "string" or dest == "" then raw_error("destination must be a PID string", 3) end
    return hc({kind = KIND.process_cancel, dest = dest})
end
function process.terminate(dest) return cancel_target(dest) end
function process.cancel(dest) return cancel_target(dest) end

-- continue-as-new, with the own entry id or another workflow entry; never returns.
function process.upgrade(id, ...)
    if id ~= nil then
        local bad = check_target(id)
        if bad then return nil, invalid(bad) end
    end
    return hc({kind = KIND.continue_as_new, target = id, args = tbl_pack(...)})
end

return {process = process, deliver = M.deliver, deliver_event = M.deliver_event, unheard = M.unheard}
