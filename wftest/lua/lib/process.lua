-- Wippy's process scheduler: one FIFO queue of coroutines ("tasks"), Go-style channels
-- with a deterministic select (first ready case in array order wins), and `coroutine.spawn`.
-- Host commands yielded by tasks are collected in yield order; the host answers them with `reply`.
-- No Temporal knowledge lives here: the same scheduler runs workflows and plain processes.
local api = ...
local HOST, spawn_thread, resume_thread, kill_thread = api.HOST, api.spawn, api.resume, api.kill
local co_yield = api.yield
local user_line = api.user_line
local raw_type, raw_error, raw_setmetatable, raw_getmetatable = type, error, setmetatable, getmetatable
local tbl_pack, tbl_unpack, tbl_remove = table.pack, table.unpack, table.remove
local pairs, ipairs = pairs, ipairs

local BLOCK = {kind = "__block"}

local P = {}

-- task: {id, handle, state = "ready"|"host"|"blocked"|"done", resume_args = packed, where = string}
local tasks = {}
local ready, ready_head, ready_tail = {}, 1, 0
local next_task_id = 0
local running = nil          -- task being resumed right now
local main_task = nil
local commands = nil         -- host commands of the current step: task id, command, task id, ...
local finished, failure = nil, nil

local function enqueue(task, ...)
    task.state = "ready"
    task.resume_args = tbl_pack(...)
    ready_tail = ready_tail + 1
    ready[ready_tail] = task
end

local function new_task(fn, where)
    next_task_id = next_task_id + 1
    local task = {id = next_task_id, handle = spawn_thread(fn), where = where}
    tasks[next_task_id] = task
    return task
end

---------------------------------------------------------------------------------------------------
-- Channels
local CHANNEL_MT = {__wippy = "channel"}
local chan_methods = {}
CHANNEL_MT.__index = chan_methods
CHANNEL_MT.__tostring = function(c) return "channel" end

local channels = {}          -- id -> channel, for channels the host feeds
local next_channel_id = 0

local function new_channel(size, external)
    next_channel_id = next_channel_id + 1
    local c = raw_setmetatable({
        _id = next_channel_id, _size = size or 0, _buf = {}, _closed = false,
        _recvq = {}, _sendq = {}, _external = external or false,
    }, CHANNEL_MT)
    if external then channels[next_channel_id] = c end
    return c
end

local function is_channel(v) return raw_getmetatable(v) == CHANNEL_MT end

-- A waiter is {task, op = "recv"|"send", value, channel, select_cases, case_index, done}.
-- Select waiters sit in several queues at once; `done` marks the ones already woken.
local function pop_waiter(q)
    while #q > 0 do
        local w = tbl_remove(q, 1)
        if not w.done then return w end
    end
    return nil
end

local function has_waiter(q)
    for i = 1, #q do if not q[i].done then return true end end
    return false
end

local function wake(w, ...)
    w.done = true
    if w.group then for _, other in ipairs(w.group) do other.done = true end end
    enqueue(w.task, ...)
end

local function select_result(w, value, ok)
    return {channel = w.channel, value = value, ok = ok}
end

local function deliver_recv(w, value, ok)
    if w.group then wake(w, select_result(w, value, ok)) else wake(w, value, ok) end
end

local function deliver_sent(w)
    if w.group then wake(w, select_result(w, nil, true)) else wake(w, true) end
end

-- Non-blocking attempts: return true plus results when the operation completed.
local function try_recv(c)
    if #c._buf > 0 then
        local v = tbl_remove(c._buf, 1)
        local s = pop_waiter(c._sendq)
        if s then
            c._buf[#c._buf + 1] = s.value
            deliver_sent(s)
        end
        return true, v, true
    end
    local s = pop_waiter(c._sendq)
    if s then
        deliver_sent(s)
        return true, s.value, true
    end
    if c._closed then return true, nil, false end
    return false
end

local function try_send(c, v)
    if c._closed then raw_error("send on closed channel", 3) end
    local r = pop_waiter(c._recvq)
    if r then
        deliver_recv(r, v, true)
        return true
    end
    if #c._buf < c._size then
        c._buf[#c._buf + 1] = v
        return true
    end
    return false
end

local function block(where)
    if running == nil then raw_error("blocking channel operation outside a process coroutine", 3) end
    local at = user_line(2)
    running.where = at and (where .. " at " .. at) or where
    return co_yield(HOST, BLOCK)
end

function chan_methods:send(v)
    if try_send(self, v) then return true end
    self._sendq[#self._sendq + 1] = {task = running, op = "send", value = v, channel = self}
    return block("channel send")
end

function chan_methods:receive()
    local done, v, ok = try_recv(self)
    if done then return v, ok end
    self._recvq[#self._recvq + 1] = {task = running, op = "recv", channel = self}
    return block("channel receive")
end

function chan_methods:close()
    if self._closed then raw_error("close of closed channel", 2) end
    self._closed = true
    while true do
        local r = pop_waiter(self._recvq)
        if not r then break end
        deliver_recv(r, nil, false)
    end
    while true do
        local s = pop_waiter(self._sendq)
        if not s then break end
        -- a blocked sender on a closed channel fails in its own coroutine
        s.task.fail_with = "send on closed channel"
        wake(s, nil)
    end
    if self._external then channels[self._id] = nil end
end

function chan_methods:case_receive()
    return {channel = self, op = "recv"}
end

function chan_methods:case_send(v)
    return {channel = self, op = "send", value = v}
end

local function channel_select(cases, default)
    if raw_type(cases) ~= "table" then raw_error("channel.select expects a table of cases", 2) end
    if cases.default ~= nil then default = cases.default end
    local n = #cases
    for i = 1, n do
        local case = cases[i]
        if raw_type(case) ~= "table" or not is_channel(case.channel) then
            raw_error("channel.select: case " .. i .. " is not a channel case", 2)
        end
        if case.op == "recv" then
            local done, v, ok = try_recv(case.channel)
            if done then return {channel = case.channel, value = v, ok = ok} end
        else
            if try_send(case.channel, case.value) then return {channel = case.channel, ok = true} end
        end
    end
    if default then return {default = true, ok = true} end
    if n == 0 then raw_error("channel.select with no cases and no default", 2) end
    local group = {}
    for i = 1, n do
        local case = cases[i]
        local w = {task = running, op = case.op, value = case.value, channel = case.channel, group = group}
        group[i] = w
        if case.op == "recv" then
            case.channel._recvq[#case.channel._recvq + 1] = w
        else
            case.channel._sendq[#case.channel._sendq + 1] = w
        end
    end
    return block("channel.select")
end

local channel_lib = {
    new = function(size)
        if size ~= nil and (raw_type(size) ~= "number" or size < 0) then
            raw_error("channel.new: size must be a non-negative number", 2)
        end
        return new_channel(size and math.tointeger(size) or 0, false)
    end,
    select = channel_select,
}
_G.channel = channel_lib

---------------------------------------------------------------------------------------------------
-- coroutine.spawn: the new coroutine is queued before the spawner is re-queued, so it runs first.
api.add_to_coroutine("spawn", function(fn)
    if raw_type(fn) ~= "function" then raw_error("coroutine.spawn expects a function", 2) end
    if running == nil then raw_error("coroutine.spawn outside a process", 2) end
    local task = new_task(fn, "spawned")
    co_yield(HOST, {kind = "__spawn", task = task})
    return task.id
end)

---------------------------------------------------------------------------------------------------
-- The step loop.

local function run_task(task)
    running = task
    task.state = "running"
    local args = task.resume_args
    task.resume_args = nil
    local r
    if task.fail_with then
        r = {"error", {message = task.fail_with, kind = "Internal"}}
        task.fail_with = nil
    else
        r = tbl_pack(resume_thread(task.handle, tbl_unpack(args, 1, args.n)))
    end
    running = nil
    return r
end

local function retire(task)
    task.state = "done"
    tasks[task.id] = nil
end

-- Run the ready queue until every task is blocked, the main task returned, or a task failed.
local function drain()
    while ready_head <= ready_tail and not finished and not failure do
        local task = ready[ready_head]
        ready[ready_head] = nil
        ready_head = ready_head + 1
        local r = run_task(task)
        local status = r[1]
        if status == "command" then
            local cmd = r[2]
            if cmd == BLOCK then
                task.state = "blocked"
            elseif raw_type(cmd) == "table" and cmd.kind == "__spawn" then
                enqueue(cmd.task)
                enqueue(task)
            else
                task.state = "host"
                local kind = raw_type(cmd) == "table" and cmd.kind or "host command"
                local at = raw_type(cmd) == "table" and cmd.where
                task.where = (at and at ~= "?") and (kind .. " at " .. at) or kind
                local n = #commands
                commands[n + 1] = task.id
                commands[n + 2] = cmd
            end
        elseif status == "yield" then
            enqueue(task)   -- a bare coroutine.yield at the top of a task: back of the queue
        elseif status == "done" then
            retire(task)
            if task == main_task then
                failure = api.bad_result(task.fn, r[2], tbl_unpack(r, 3, 2 + r[2]))
                if failure == nil then finished = {n = r[2], tbl_unpack(r, 3, 2 + r[2])} end
            end
        else
            retire(task)
            failure = r[2]
        end
    end
    if ready_head > ready_tail then ready, ready_head, ready_tail = {}, 1, 0 end
end

-- Is anything able to wake a blocked task later? Outstanding host commands, or a task waiting on a
-- channel the host feeds (timers, futures, subscriptions).
local function waits_on_outside()
    for _, task in pairs(tasks) do
        if task.state == "host" or task.state == "ready" then return true end
    end
    for _, c in pairs(channels) do
        if has_waiter(c._recvq) or has_waiter(c._sendq) then return true end
    end
    return false
end

local function blocked_report(with_lines)
    local lines = {}
    local ids = {}
    for id in pairs(tasks) do ids[#ids + 1] = id end
    table.sort(ids)
    for _, id in ipairs(ids) do
        local t = tasks[id]
        local name = (t == main_task) and "main" or ("coroutine " .. id)
        local line = with_lines and t.handle and api.thread_where(t.handle)
        lines[#lines + 1] = name .. " waits on " .. (t.where or "?") .. (line and (" at " .. line) or "")
    end
    return table.concat(lines, "; ")
end

-- One step: run until quiescent. Returns
--   "finished", n, values...   the main task returned (everything else is killed)
--   "failed", failure          a task raised
--   "commands", id, cmd, ...   host commands in yield order: task id and command table, flat
--   "idle"                     blocked, but something outside may wake a task
--   "deadlock", report         all blocked and nothing can wake them
local flush_hook = nil

-- A function run whenever every task is blocked; returning true means it delivered something
-- (messages to subscription channels), so the queue runs again.
function P.set_flush(fn) flush_hook = fn end

function P.step()
    api.begin_turn()
    commands = {}
    if flush_hook then flush_hook() end
    drain()
    while flush_hook and not finished and not failure and flush_hook() do drain() end
    local out = commands
    commands = nil
    if failure then return "failed", failure end
    if finished then
        P.kill_all()
        return "finished", finished.n, tbl_unpack(finished, 1, finished.n)
    end
    if #out > 0 then return "commands", tbl_unpack(out) end
    if waits_on_outside() then return "idle" end
    return "deadlock", "all coroutines blocked with no pending operations (" .. blocked_report() .. ")"
end

-- Where every live coroutine waits, for reports ("main waits on channel receive; ...").
function P.waiting(with_lines)
    return blocked_report(with_lines)
end

function P.main_handle() return main_task and main_task.handle end

function P.start(fn, ...)
    main_task = new_task(fn, "start")
    main_task.fn = fn
    enqueue(main_task, ...)
end

-- The host's answer to a task's command: the task resumes with these values at the next step.
function P.reply(task_id, ...)
    local task = tasks[task_id]
    if task == nil or task.state ~= "host" then return false end
    enqueue(task, ...)
    return true
end

-- Values from outside (timer fires, future results, messages) into a host-fed channel.
-- Returns false when the channel is full and nobody waits (the host keeps the value queued).
function P.push(channel_id, value)
    local c = channels[channel_id]
    if c == nil or c._closed then return false end
    return try_send(c, value)
end

function P.close(channel_id)
    local c = channels[channel_id]
    if c ~= nil and not c._closed then c:close() end
end

function P.external_channel(size)
    return new_channel(size, true)
end

function P.channel_id(c)
    if is_channel(c) then return c._id end
    return nil
end

-- Can the channel take a value now (a receiver waits, or buffer space)?
function P.can_accept(c)
    return not c._closed and (has_waiter(c._recvq) or #c._buf < c._size)
end

function P.kill_all()
    for id, task in pairs(tasks) do
        kill_thread(task.handle)
        tasks[id] = nil
    end
    ready, ready_head, ready_tail = {}, 1, 0
end

return P
