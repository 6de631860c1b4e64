"""Lua states that host sandboxes one after another (replays reuse them): every sandbox gets fresh
globals and nothing of an earlier sandbox can reach it.

Each isolation test lets a first sandbox change whatever Lua code can change, releases it, and checks
that the next sandbox in the same state sees exactly what a sandbox in a brand-new state sees.
"""

from __future__ import annotations

import gc
import textwrap
import weakref
from pathlib import Path
from typing import Any

import pytest

from wftest import load_app
from wftest.app import App
from wftest.lua.process import LuaProcess
from wftest.lua.sandbox import Sandbox, SandboxOptions
from wftest.lua.state import (
    COLLECT_EVERY,
    GARBAGE_ALLOWANCE,
    REUSE_MEMORY_LIMIT,
    LuaState,
    StateBusy,
    StatePool,
)
from wftest.replay import NondeterminismError, replay_history, replayer
from wftest.sim import World
from wftest.worker import execution as worker_execution


def run(sb: Sandbox, body: str, *args: Any) -> tuple[Any, ...]:
    return sb.call(sb.lua.eval(f"function(...)\n{body}\nend"), *args)


# Everything a sandbox can observe of its environment, in the order `pairs` gives it (so the tables are
# built the same way too), plus how the string methods, the string metatable and the casts behave.
FINGERPRINT = """
local parts = {}
local function keys(name, t)
    local out = {}
    for k, v in pairs(t) do out[#out + 1] = tostring(k) .. ":" .. type(v) end
    parts[#parts + 1] = name .. "=" .. table.concat(out, ",")
end
keys("_G", _G)
for _, lib in ipairs({"string", "table", "math", "os", "errors", "coroutine", "channel"}) do
    keys(lib, _G[lib])
end
keys("string_mt", getmetatable(""))
parts[#parts + 1] = tostring(getmetatable("").__index == string)
parts[#parts + 1] = ("abc"):upper() .. string.rep("x", 2) .. tostring(math.pi)
parts[#parts + 1] = tostring(integer("12")) .. tostring(string(7)) .. tostring(leak)
parts[#parts + 1] = tostring(math.random(1, 1000000000))
return table.concat(parts, "\\n")
"""

VANDALISM = """
leak = "from an earlier sandbox"
string.upper = function() return "hijacked" end
string.extra = 1
table.insert = nil
math.pi = 3
getmetatable("").__index = {upper = function() return "meta" end}
getmetatable("").__add = function() return 0 end
errors.new = nil
os.time = function() return 0 end
coroutine.spawn = nil
channel.new = nil
print = nil
integer = 5
setmetatable(_G, nil)
setmetatable(string, nil)
for i = 1, 10 do math.random() end
return ("x"):upper()
"""


def fingerprint(sb: Sandbox) -> str:
    (text,) = run(sb, FINGERPRINT)
    return bytes(text).decode()


def workflow_options(seed: int = 7) -> SandboxOptions:
    """A workflow's sandbox: its simulated run (in a state of its own) is compared with its replays."""
    return SandboxOptions(seed=seed, deterministic=True)


def fresh_fingerprint(seed: int = 7) -> str:
    sb = Sandbox(workflow_options(seed))
    LuaProcess(sb)
    return fingerprint(sb)


def test_a_later_sandbox_sees_what_a_sandbox_in_a_new_state_sees() -> None:
    state = LuaState(SandboxOptions().memory_limit, reusable=True)
    first = Sandbox(workflow_options(), state=state)
    LuaProcess(first)
    assert run(first, VANDALISM) == (b"meta",)
    assert first.release() is True
    second = Sandbox(workflow_options(), state=state)
    LuaProcess(second)
    assert fingerprint(second) == fresh_fingerprint(7)
    assert state.sandboxes == 2


def test_only_never_replayed_sandboxes_work_in_their_states_own_globals() -> None:
    """An activity's or a process's sandbox (not deterministic) skips the copies; a workflow's does not."""
    plain = Sandbox(SandboxOptions(deterministic=False))
    workflow = Sandbox(workflow_options())
    assert plain.state.own_globals and not workflow.state.own_globals
    LuaProcess(plain)
    assert run(plain, "return errors.new('x'):message(), coroutine.spawn ~= nil") == (b"x", True)


def test_the_first_sandbox_of_a_state_gets_fresh_globals_too() -> None:
    """The state's own globals stay pristine: even its first sandbox works on copies."""
    state = LuaState(SandboxOptions().memory_limit, reusable=True)
    sb = Sandbox(state=state)
    assert run(sb, "return rawequal(_G, ...)", state.lua.globals()) == (True,)
    assert run(sb, "local a = _G; return load, debug, a ~= nil") == (None, None, True)


def test_random_numbers_depend_on_the_seed_only() -> None:
    state = LuaState(SandboxOptions().memory_limit, reusable=True)
    first = Sandbox(SandboxOptions(seed=3), state=state)
    run(first, "for i = 1, 100 do math.random() end math.randomseed(99)")
    first.release()
    second = Sandbox(SandboxOptions(seed=7), state=state)
    fresh = Sandbox(SandboxOptions(seed=7))
    body = "return math.random(1, 1000000000), math.random()"
    assert run(second, body) == run(fresh, body)


def test_the_scheduler_starts_over() -> None:
    """Coroutine ids and host-fed channel ids count from 1 again."""
    state = LuaState(SandboxOptions().memory_limit, reusable=True)
    body = "return coroutine.spawn(function() end), coroutine.spawn(function() end)"
    first = Sandbox(state=state)
    proc = LuaProcess(first)
    proc.start(first.lua.eval(f"function() {body} end"))
    proc.step()
    proc.external_channel(1)
    first.release()

    def ids(sb: Sandbox) -> tuple[Any, ...]:
        p = LuaProcess(sb)
        p.start(sb.lua.eval(f"function() {body} end"))
        return (p.step().values, p.channel_id(p.external_channel(1)))

    assert ids(Sandbox(state=state)) == ids(Sandbox()) == ((2, 3), 1)


def write_app(root: Path, sources: dict[str, str]) -> App:
    """An app with one workflow entry per Lua source (funcs, time and json modules)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "_index.yaml").write_text(
        'version: "1.0"\nnamespace: app\nentries:\n'
        "  - name: client\n    kind: temporal.client\n    address: localhost:7233\n"
        "  - name: worker\n    kind: temporal.worker\n    client: client\n    task_queue: q\n"
    )
    flows = root / "wf"
    flows.mkdir()
    index = ['version: "1.0"', "namespace: app.wf", "meta:", "  temporal:", "    workflow:",
             "      worker: app:worker", "entries:"]
    for name, source in sources.items():
        (flows / f"{name}.lua").write_text(textwrap.dedent(source))
        index += [f"  - name: {name}", "    kind: workflow.lua", f"    source: file://{name}.lua",
                  "    modules: [funcs, time, json]"]
    (flows / "_index.yaml").write_text("\n".join(index) + "\n")
    return load_app(root)


COUNTER = """
local count = 0
return function()
    count = count + 1
    return count
end
"""


def test_a_cached_chunk_runs_with_fresh_upvalues(tmp_path: Path) -> None:
    app = write_app(tmp_path, {"counter": COUNTER})
    entry = app.entries["app.wf:counter"]
    state = LuaState(SandboxOptions().memory_limit, reusable=True)
    results = []
    for _ in range(3):
        sb = Sandbox(state=state)
        results.append(sb.call(sb.load_entry(app, entry)))
        sb.release()
    assert results == [(1,), (1,), (1,)]


def test_the_same_chunk_name_with_other_code_is_another_chunk(tmp_path: Path) -> None:
    state = LuaState(SandboxOptions().memory_limit, reusable=True)
    outputs = []
    for i, body in enumerate(["return function() return 1 end", "return function() return 2 end"]):
        app = write_app(tmp_path / str(i), {"flow": body})
        sb = Sandbox(state=state)
        outputs.append(sb.call(sb.load_entry(app, app.entries["app.wf:flow"])))
        sb.release()
    assert outputs == [(1,), (2,)]


def test_a_state_whose_garbage_collection_was_observable_is_not_reused() -> None:
    """Weak tables depend on all garbage in the state (also other sandboxes')."""
    pool = StatePool()
    state = pool.acquire(SandboxOptions().memory_limit)
    sb = Sandbox(state=state)
    run(sb, 'setmetatable({}, {__mode = "k"})')
    assert sb.release() is False
    pool.give_back(state)
    assert pool.idle() == 0 and state.busy


def test_finalizers_never_run_so_a_gc_metatable_keeps_the_state_reusable() -> None:
    """Wippy's VM has no `__gc` (runtime/lua/engine/process.go runs go-lua, a GopherLua descendant),
    and Lua runs finalizers with hooks off, beyond the instruction budget: a finalizer never runs."""
    pool = StatePool()
    state = pool.acquire(SandboxOptions().memory_limit)
    sb = Sandbox(state=state, options=SandboxOptions(instruction_budget=1_000_000))
    ran = run(
        sb,
        """
        ran = false
        local mt = {__gc = function() ran = true while true do end end}
        for i = 1, 100 do setmetatable({}, mt) end
        local junk = {}
        for i = 1, 100000 do junk[i] = {i} end
        junk = nil
        return rawget(mt, "__gc") ~= nil, getmetatable(setmetatable({}, mt)) == mt
        """,
    )
    assert ran == (True, True)  # the metatable keeps its field
    sb.api.collect()
    assert sb.lua.globals()[b"ran"] is False
    assert sb.release() is True
    pool.give_back(state)
    assert pool.idle() == 1


def test_an_ordinary_metatable_keeps_the_state_reusable() -> None:
    pool = StatePool()
    state = pool.acquire(SandboxOptions().memory_limit)
    sb = Sandbox(state=state)
    assert run(sb, "local t = setmetatable({}, {__index = {a = 1}}) return t.a") == (1,)
    assert sb.release() is True
    pool.give_back(state)
    assert pool.acquire(SandboxOptions().memory_limit) is state


def test_setmetatable_errors_still_name_the_callers_line() -> None:
    sb = Sandbox()
    fn, _ = sb.api.load_chunk(b"setmetatable(1, {})", b"flow.lua", None)
    with pytest.raises(Exception, match=r"flow\.lua:1: bad argument #1 to 'setmetatable'"):
        sb.call(fn)


def test_a_released_sandbox_cannot_act_any_more() -> None:
    state = LuaState(SandboxOptions().memory_limit, reusable=True)
    sb = Sandbox(state=state)
    leftover = run(sb, "return function() return os.date('%Y') end")[0]
    sb.release()
    with pytest.raises(AttributeError, match="released"):
        sb.api  # noqa: B018
    with pytest.raises(RuntimeError, match="released"):
        leftover()


# Everything user code can reach from its globals and the values given: fields, keys and metatables,
# followed as far as they go (functions keep their upvalues to themselves: user code has no `debug`).
# Returns the indexes of the `targets` (the first argument) it found.
REACHABLE = """
local targets, roots = ...
local lazy = {"errors", "os", "coroutine", "integer", "number", "boolean", "payload", "process", "channel"}
for _, name in ipairs(lazy) do local _ = _G[name] end
local seen, queue = {}, {_G, getmetatable(""), string, table, math}
for _, root in ipairs(roots) do queue[#queue + 1] = root end
local i = 1
while queue[i] ~= nil do
    local v = queue[i]
    i = i + 1
    if not seen[v] then
        seen[v] = true
        local mt = getmetatable(v)
        if mt ~= nil then queue[#queue + 1] = mt end
        if pcall(next, v) then
            for k, x in pairs(v) do
                if type(k) ~= "string" and type(k) ~= "number" and type(k) ~= "boolean" then queue[#queue + 1] = k end
                if type(x) ~= "string" and type(x) ~= "number" and type(x) ~= "boolean" then queue[#queue + 1] = x end
            end
        end
    end
end
local found = {}
for n, target in ipairs(targets) do
    if seen[target] then found[#found + 1] = n end
end
return table.concat(found, ","), i
"""


def test_what_the_sandboxes_of_a_state_share_is_out_of_user_codes_reach(tmp_path: Path) -> None:
    """The host makes some things once per state (`LuaState.shared`): the command kinds table, the
    runtime's table of section files, the lists of API fields the host fetches, the Python objects that
    fetch bundled code and the state's chunk cache functions. User code reaches none of them, so no sandbox can change what a later one gets."""
    from wftest.worker.workflow_state import WorkflowInfo

    app = write_app(tmp_path, {"flow": "return function() return 1 end"})
    entry = app.entries["app.wf:flow"]
    state = LuaState(SandboxOptions().memory_limit, reusable=True)
    info = WorkflowInfo("w", "r", entry.id, "q")
    for _ in range(2):
        execution = worker_execution.WorkflowExecution(app, entry, info, [], lua_state=state)
        sb = execution.sb
        shared = [*state.shared["prelude"].values(), *[v for k, v in state.shared.items() if k != "prelude"]]
        objects = [v for v in shared if v is not None and not isinstance(v, (bytes, bool))]
        assert len(objects) >= 7  # the prelude's constants, the kinds, the section files, the field lists
        # the last target is reachable (the walk does find things): only it may be found
        targets = sb.lua.table_from([*objects, sb.env[b"string"]])
        modules = [sb.open_module(name, "test", None) for name in ("funcs", "time", "workflow", "json")]
        found, visited = run(sb, REACHABLE, targets, sb.lua.table_from(modules))
        assert visited > 100
        assert found == str(len(objects) + 1).encode()
        assert execution.release()
        state.settle()
    assert state.sandboxes == 2


def test_the_sandboxs_generator_draws_as_before() -> None:
    """Made on first use, the generator goes on where the seed of Lua's math.random left it."""
    import random

    expected = random.Random(11)
    expected.getrandbits(53)
    assert Sandbox(SandboxOptions(seed=11)).rng.random() == expected.random()


def test_a_state_hosts_one_sandbox_at_a_time() -> None:
    state = LuaState(SandboxOptions().memory_limit, reusable=True)
    Sandbox(state=state)
    with pytest.raises(StateBusy, match="release it first"):
        Sandbox(state=state)


def test_a_state_with_another_memory_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="memory limit 1048576"):
        Sandbox(SandboxOptions(memory_limit=2 * 1024 * 1024), state=LuaState(1024 * 1024))


def test_the_pool_matches_memory_limits_and_drops_big_states() -> None:
    pool = StatePool(size=2)
    small, default = pool.acquire(16 * 1024 * 1024), pool.acquire(SandboxOptions().memory_limit)
    for state in (small, default):
        Sandbox(SandboxOptions(memory_limit=state.memory_limit), state=state).release()
        pool.give_back(state)
    assert pool.acquire(SandboxOptions().memory_limit) is default
    big = pool.acquire(SandboxOptions().memory_limit)
    sb = Sandbox(state=big)
    keep = run(sb, "local t = {} for i = 1, 1000000 do t[i] = i end return t")
    assert big.memory_used() > REUSE_MEMORY_LIMIT
    sb.release()
    pool.give_back(big)
    assert pool.idle() == 1 and pool.acquire(SandboxOptions().memory_limit) is not big
    del keep



def test_a_state_given_back_collects_its_garbage_now_and_then() -> None:
    """A full collection costs as much as a tenth of a short replay: it runs every COLLECT_EVERY
    sandboxes, or at once when a sandbox left more than GARBAGE_ALLOWANCE behind."""
    pool = StatePool(size=1)
    state = pool.acquire(SandboxOptions().memory_limit)
    collections: list[int] = []
    collect = state.collect
    state.collect = lambda: (collections.append(state.sandboxes), collect())[-1]  # type: ignore[method-assign]
    for _ in range(2 * COLLECT_EVERY):
        Sandbox(state=state).release()
        pool.give_back(state)
        assert pool.acquire(state.memory_limit) is state
    assert collections == [COLLECT_EVERY, 2 * COLLECT_EVERY]
    sb = Sandbox(state=state)
    run(sb, "local t = {} for i = 1, 200000 do t[i] = {i} end")  # garbage once the call returns
    assert state.memory_used() > state.clean_size + GARBAGE_ALLOWANCE
    sb.release()
    pool.give_back(state)
    assert collections[-1] == 2 * COLLECT_EVERY + 1 and state.uncollected == 0
    assert state.memory_used() < state.clean_size + GARBAGE_ALLOWANCE


def test_a_python_object_handed_to_lua_again_stays_itself() -> None:
    """A dead handle's slot in lupa's table of Python object handles, cleared by a collection cycle whose
    finalizers have not run yet, must not go to another object (lupa would then hand that other object
    to Lua in place of the first one: a workflow's section loader once became a host function)."""
    state = LuaState(SandboxOptions().memory_limit, reusable=True)
    pristine = state.lua.globals()  # no sandbox yet: the state's own globals, with the full library
    collect = pristine[b"collectgarbage"]
    handles = pristine[b"debug"][b"getregistry"]()[b"LUPA_PYTHON_REFERENCES_TABLE"]

    def first() -> None: ...

    holder = state.lua.table_from({b"f": first})
    slot = max(k for k, v in handles.items() if v is first)
    del holder  # the handle's last owner in Lua
    collect(b"stop")
    try:
        cycles = 0
        while handles[slot] is first and cycles < 2:  # until a cycle clears it (or two cycles did not)
            cycles += collect(b"step", 0)
        newcomers = []
        while handles[slot] is None and len(newcomers) < 1000:  # new objects take free slots
            newcomers.append(state.lua.table_from({b"f": lambda: None}))
        assert state.lua.table_from({b"f": first})[b"f"] is first
    finally:
        collect(b"restart")


# -- replays --------------------------------------------------------------------------------------

VANDAL_FLOW = """
local funcs = require("funcs")
local time = require("time")
local json = require("json")
return function()
    local encoded = json.encode({a = {1, 2}})  -- the first table a fresh state exports, in a coroutine
    leak = "set by a replay" .. encoded
    string.upper = nil
    table.insert = nil
    getmetatable("").__index = nil
    local names = {}
    for k in pairs(_G) do names[#names + 1] = k end
    time.sleep("1s")
    return funcs.call("app.act:echo", table.concat(names, ","))
end
"""

CHECK_FLOW = """
local funcs = require("funcs")
return function()
    local seen = {}
    for k in pairs(string) do seen[#seen + 1] = k end
    for k in pairs(_G) do seen[#seen + 1] = k end
    return funcs.call("app.act:echo", tostring(leak) .. ("x"):upper() .. table.concat(seen, ","))
end
"""


def test_replays_in_a_reused_state_match_runs_in_new_states(tmp_path: Path) -> None:
    """Strict replays (which compare inputs and results) of runs made in brand-new states, alternating
    between a workflow that vandalizes its globals and one that reads them, all in pooled states."""
    app = write_app(tmp_path, {"vandal": VANDAL_FLOW, "check": CHECK_FLOW})
    histories = []
    for workflow in ("app.wf:vandal", "app.wf:check"):
        world = World(app)
        world.mock("app.act:echo", lambda args, info: args[0])
        run_ = world.start(workflow)
        world.run_until_closed(run_)
        assert run_.status == "completed", run_.failure
        histories.append((run_.workflow_id, run_.history))
    assert "set by a replay" not in str(histories[1][1])
    for _ in range(3):
        for workflow_id, history in histories:
            replay_history(app, history, strict=True, workflow_id=workflow_id)


def test_replays_free_everything_they_made(tmp_path: Path) -> None:
    """No executions stay alive (even with Python's cycle collector off) and the state's memory stays flat."""
    app = write_app(tmp_path, {"vandal": VANDAL_FLOW})
    world = World(app)
    world.mock("app.act:echo", lambda args, info: args[0])
    run_ = world.start("app.wf:vandal")
    world.run_until_closed(run_)
    made: list[weakref.ref[Any]] = []
    original = worker_execution.WorkflowExecution.__init__

    def tracked(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        made.append(weakref.ref(self.sb))

    pool = StatePool(size=1)
    replayer_pool, replayer.STATES = replayer.STATES, pool
    worker_execution.WorkflowExecution.__init__ = tracked  # type: ignore[method-assign]
    gc.disable()
    try:
        memory = []
        for _ in range(60):
            replay_history(app, run_.history, strict=True, workflow_id=run_.workflow_id)
            state = pool.acquire(SandboxOptions().memory_limit)
            state.collect()  # what a given-back state does now and then (see the test above)
            memory.append(state.memory_used())
            pool.give_back(state)
    finally:
        gc.enable()
        worker_execution.WorkflowExecution.__init__ = original  # type: ignore[method-assign]
        replayer.STATES = replayer_pool
    assert len(made) == 60 and all(ref() is None for ref in made)
    assert state.sandboxes == 60
    assert max(memory[10:]) - min(memory[10:]) < 64 * 1024


NONDETERMINISTIC_FLOW = """
local funcs = require("funcs")
return function()
    return funcs.call(math.random() < 2 and "app.act:echo" or "never", "x")
end
"""

FINALIZER_FLOW = """
local funcs = require("funcs")
return function()
    setmetatable({}, {__mode = "k"})
    return funcs.call("app.act:echo", "x")
end
"""


def recorded(app: App, workflow: str) -> Any:
    world = World(app)
    world.mock("app.act:echo", lambda args, info: args[0])
    run_ = world.start(workflow)
    world.run_until_closed(run_)
    return run_


@pytest.fixture
def pool() -> Any:
    """A private pool of one state in place of the replayer's."""
    private = StatePool(size=1)
    saved, replayer.STATES = replayer.STATES, private
    yield private
    replayer.STATES = saved


def test_a_replay_that_finds_nondeterminism_gives_its_state_back(tmp_path: Path, pool: StatePool) -> None:
    app = write_app(tmp_path / "a", {"flow": NONDETERMINISTIC_FLOW})
    run_ = recorded(app, "app.wf:flow")
    renamed = NONDETERMINISTIC_FLOW.replace('"app.act:echo"', '"app.act:other"')
    changed = write_app(tmp_path / "b", {"flow": renamed})
    with pytest.raises(NondeterminismError):
        replay_history(changed, run_.history, workflow_id=run_.workflow_id)
    assert pool.idle() == 1
    state = pool.acquire(SandboxOptions().memory_limit)
    assert state.sandboxes == 1 and not state.busy


def test_a_replay_that_set_up_a_weak_table_drops_its_state(tmp_path: Path, pool: StatePool) -> None:
    app = write_app(tmp_path, {"flow": FINALIZER_FLOW})
    run_ = recorded(app, "app.wf:flow")
    replay_history(app, run_.history, strict=True, workflow_id=run_.workflow_id)
    assert pool.idle() == 0


def test_a_replay_that_breaks_unexpectedly_drops_its_state(
    tmp_path: Path, pool: StatePool, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = write_app(tmp_path, {"flow": NONDETERMINISTIC_FLOW})
    run_ = recorded(app, "app.wf:flow")

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(replayer, "replay_into", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        replay_history(app, run_.history, workflow_id=run_.workflow_id)
    assert pool.idle() == 0
