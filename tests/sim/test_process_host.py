"""Plain processes on `process.host` entries, beside the workflows: spawning, messages, events, monitors,
links, cancel/terminate, the name registry, context, process-backed functions, bad input, and the test
API's `wippy.spawn`. Each scenario is a driver in fixtures/process_host/drivers.lua.

Behaviour follows Wippy's Go code: runtime/lua/modules/process/module.go (the module, its error kinds and
messages), runtime/lua/engine/process.go (main's `v, err` return read as a failed exit; LINK_DOWN without
trap_links ends the process with "linked process failed"; inbox fallback), service/host/host.go (spawn
by name routes the startup messages to the running process), service/processfunc (functions backed by
processes), runtime/lua/modules/funcs (futures), and service/temporal/workflow/handler_process.go
(what workflows may not do).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from wftest import load_app
from wftest.sim import SimulationError, World
from wftest.testing import ProcessBlocked, ProcessFailed, Wippy, WorkflowBlocked

pytest_plugins = ["pytester"]

APP_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "process_host"
APP = load_app(APP_DIR)


def scenario(name: str, *, seed: int = 0) -> tuple[World, Any]:
    world = World(APP, seed=seed)
    process = world.run_process(f"app:{name}")
    world.run_until_idle(limit_ns=3600 * 10**9)
    assert process.status == "finished", process.failure
    return world, process.result


def test_spawned_process_answers_messages_by_sender() -> None:
    """module.go send/listen: `{message = true}` gives Message objects whose `from` is the sender."""
    _, result = scenario("echo_roundtrip")
    assert result == {"pid": "{wftest@app:processes|0x00002}", "first": "A", "second": "B", "from": True}


def test_exit_events_carry_value_or_error_and_dead_pids_are_not_found() -> None:
    """EXIT `result` holds `value`, or `error` for a raise and for a returned `nil, err`
    (engine/process.go extractReturnError); a send to a finished process is NotFound."""
    _, result = scenario("exits")
    assert result == {
        "ok": {"kind": "pid.exit", "value": "stopped", "same": True, "at": "number"},
        "crash": {"kind": "pid.exit", "error": "workers.lua:14: boom", "has_value": False},
        "returned": {"error": "bad input"},
        "dead": {"kind": "NotFound", "message": "process not found: {wftest@app:processes|0x00003}"},
    }


def test_links_deliver_link_down_only_on_abnormal_exit_and_not_after_unlink() -> None:
    """A trapping process gets LINK_DOWN for a linked crash, nothing for a normal exit, nothing after
    unlink (engine/process.go deliverMessage)."""
    _, result = scenario("links")
    assert result == {
        "first": ["pid.link.down", True],
        "second": "pid.exit",
        "third": "pid.exit",
        "opts": True,
    }


def test_terminate_cascades_to_linked_processes_that_do_not_trap() -> None:
    """engine/process.go: LINK_DOWN with trap_links off ends the process ("linked process failed");
    with trap_links on it is an event."""
    _, result = scenario("terminate_cascade")
    assert result == {
        "ok": True,
        "target": "process terminated",
        "plain": "linked process failed",
        "trapping": "pid.link.down",
    }


def test_cancel_delivers_a_cancel_event_with_sender_and_reason() -> None:
    """module.go cancel(dest, reason): the target sees CANCEL on its events channel."""
    _, result = scenario("cancel")
    assert result["kind"] == "pid.exit" and result["ok"] is True
    assert result["result"] == {
        "kind": "pid.cancel",
        "from": "{wftest@process.host|0x00001}",
        "reason": "shutting down",
    }


def test_registry_register_lookup_send_by_name_and_release_on_exit() -> None:
    """module.go registryLookup: NotFound "name not registered"; names are released when their
    process exits; unregister returns whether a name was removed."""
    _, result = scenario("registry")
    assert result == {
        "ok": True,
        "mine": True,
        "missing": ["NotFound", "name not registered"],
        "found": True,
        "sent": True,
        "hello": "svc",
        "exit": "pid.exit",
        "gone": "NotFound",
        "to_name": "NotFound",
        "dropped": True,
        "dropped_again": False,
    }


def test_context_flows_into_spawned_processes_and_called_functions() -> None:
    """context.go spawner values and funcs executor context reach `ctx` in the target."""
    _, result = scenario("context")
    assert result == {"spawned": {"tenant": "t1", "n": 7}, "called": "k1", "pid": True}


def test_process_backed_functions_and_futures() -> None:
    """funcs.call on function and process entries (multiple args, raised and returned errors); a
    future's response channel gives a Payload with :data(), then result()/error()/is_complete()."""
    world, result = scenario("functions")
    assert result == {
        "sum": 6,
        "crash": "workers.lua:14: boom",
        "returned": "bad input",
        "before": False,
        "data": {"slept": "2s"},
        "ok": True,
        "result": {"slept": "2s"},
        "has_error": False,
        "after": True,
    }
    assert world.now_ns - World(APP).now_ns == 2 * 10**9  # the function slept on the virtual clock


def test_a_spawn_loop_stops_at_the_hosts_max_processes() -> None:
    _, result = scenario("spawn_loop")
    assert result["spawned"] == 3 and result["kind"] == "Unavailable"
    assert "host 'app:small' is at its limit of 3 processes (host.max_processes)" in result["message"]


def test_bad_spawns_and_sends_give_clear_errors() -> None:
    _, result = scenario("bad_spawns")
    assert result == {
        "unknown_host": "Invalid",
        "not_a_host": "Invalid",
        "library": [
            "Invalid",
            "unsupported entry kind: 'app:a_library' is a library.lua entry; a process host runs "
            "process.lua and function.lua entries",
        ],
        "missing": "NotFound",
        "dead": "NotFound",
    }


def test_workflows_send_to_processes_and_get_wippys_refusals() -> None:
    """handler_process.go: a workflow's send to a local PID reaches the process; link/monitor in a
    workflow context are refused with Wippy's words; EXIT about a workflow carries result.value."""
    world, result = scenario("with_workflow")
    assert result == {
        "topic": "done",
        "from": True,
        "data": {"from": "workflow"},
        "exit": "pid.exit",
        "value": "notified",
        "refused": {
            "link": [
                "Internal",
                "process.link not supported in workflow context: "
                "Temporal doesn't support bidirectional linking",
            ],
            "monitor": [
                "Internal",
                "process.monitor not supported in workflow context: "
                "child workflows are automatically monitored",
            ],
        },
    }
    for run in world.all_runs():
        world.check_replay(run)


def test_workflows_send_to_registered_names_and_replay_from_the_marker() -> None:
    """module.go send resolves a name to a PID; in a workflow the local send is a SideEffect marker
    (handler_process.go routeToLocalProcess) whose data is that PID, so a replay needs no registry."""
    world, result = scenario("workflow_to_name")
    assert result["topic"] == "done" and result["value"] == "notified"
    assert "could not resolve 'nobody' as PID or registered name" in result["nobody"]
    runs = world.all_runs()
    assert len(runs) == 2
    for run in runs:
        world.check_replay(run)
    markers = [e.marker_recorded_event_attributes for e in runs[0].history.events if e.HasField(
        "marker_recorded_event_attributes")]
    assert [m.details["data"].payloads[0].data for m in markers] == [b'"{wftest@process.host|0x00001}"']


def test_links_to_workflows_hear_link_down_with_the_error_or_exit_with_the_value() -> None:
    """service/temporal/peer/receiver.go: monitors get EXIT; links get LINK_DOWN when the workflow
    failed and EXIT when it completed, each with `result`."""
    _, result = scenario("workflow_links")
    assert result["down"][:2] == ["pid.link.down", True]
    assert "workflow gave up" in result["down"][2]
    assert result["exit"] == ["pid.exit", True, "notified"]
    assert result["both"] == ["pid.exit", "pid.link.down"]


def test_argument_errors_are_wippys() -> None:
    """module.go listen/send/setOptions: Invalid errors with Wippy's messages."""
    _, result = scenario("argument_errors")
    assert result == {
        "empty": ["Invalid", "topic cannot be empty"],
        "at": "cannot listen to @ topics",
        "send_at": "cannot send to @ topics",
        "bad_type": [False, "trap_links must be a boolean"],
        "unknown": [False, "option upgradable is not supported"],
        "not_table": [False, "options parameter must be a table"],
    }


def test_spawn_with_a_taken_name_routes_the_messages_to_the_running_process() -> None:
    """service/host/host.go Run: spawn-or-signal by name."""
    _, result = scenario("with_message")
    assert result == {"same": True, "replies": ["FIRST", "SECOND"]}


def test_mixed_runs_are_identical_under_the_same_seed() -> None:
    world1, first = scenario("with_workflow", seed=3)
    world2, second = scenario("with_workflow", seed=3)
    assert first == second
    assert [r.history.SerializeToString() for r in world1.all_runs()] == [
        r.history.SerializeToString() for r in world2.all_runs()
    ]


def test_run_process_refuses_other_kinds_and_hosts() -> None:
    world = World(APP)
    with pytest.raises(SimulationError, match="'app:notify' is not a function or process entry"):
        world.run_process("app:notify")
    with pytest.raises(SimulationError, match="'app:worker' is not a process.host entry"):
        world.run_process("app:echo", host="app:worker")


# -- the pytest API ---------------------------------------------------------------------------------


def test_wippy_spawn_send_messages_result() -> None:
    async def body() -> None:
        wippy = Wippy(APP)
        echo = wippy.spawn("app:echo", host="app:processes")
        assert echo.pid.startswith("{wftest@app:processes|")
        await echo.send("ping", "hi")
        await wippy.sleep("1s")
        assert [(m.topic, m.payload) for m in echo.messages] == [("pong", "HI")]
        wippy.at("5s").send(echo, "stop")
        assert await echo.result() == "stopped"
        assert echo.status == "finished"
        assert [e["kind"] for e in echo.mailbox.events] == ["pid.exit"]

    asyncio.run(body())


def test_wippy_spawn_terminate_and_failures() -> None:
    async def body() -> None:
        wippy = Wippy(APP)
        waiter = wippy.spawn("app:forever", host="app:processes")
        await waiter.terminate()
        with pytest.raises(ProcessFailed, match="process terminated"):
            await waiter.result()
        crash = wippy.spawn("app:crash")
        with pytest.raises(ProcessFailed, match="boom"):
            await crash.result()
        ctx = wippy.spawn("app:ctx_echo", context={"a": "b"})
        assert await ctx.result() == {"a": "b"}

    asyncio.run(body())


def test_a_process_waiting_forever_is_reported_blocked_with_where_it_waits() -> None:
    async def body() -> None:
        wippy = Wippy(APP)
        stuck = wippy.spawn("app:forever", host="app:processes")
        with pytest.raises(ProcessBlocked) as info:
            await stuck.result()
        assert "can never finish" in str(info.value)
        assert f"process {stuck.pid} (app:forever): main waits on channel receive" in str(info.value)

    asyncio.run(body())


def test_a_blocked_workflow_report_says_where_live_processes_wait() -> None:
    async def body() -> None:
        wippy = Wippy(APP)
        handle = await wippy.start("app:waits")
        proc = wippy.spawn("app:forever", host="app:processes")
        with pytest.raises(WorkflowBlocked) as info:
            await handle.result()
        expected = f"live processes wait at:\nprocess {proc.pid} (app:forever): main waits on channel receive"
        assert expected in str(info.value)

    asyncio.run(body())


SUPERVISOR = Path(__file__).resolve().parents[2] / "examples" / "supervisor"

EXPLORED_TEST = """
from pathlib import Path


async def test_service_and_jobs(wippy, request):
    wippy.mock("app:process_job").takes_between("1s", "4m").calls(lambda job, info: job["text"].upper())
    service = wippy.spawn("app:dispatcher", host="app:services")
    await wippy.sleep("1s")
    client = wippy.mailbox()
    for job_id in ("a", "b"):
        await wippy.send("jobs", "submit", {"id": job_id, "input": {"text": job_id}}, sender=client)
    await wippy.sleep("1h")
    assert sorted(m.payload["id"] for m in client.messages if m.topic == "done") == ["a", "b"]
    await service.cancel()
    assert (await service.result())["done"] == 2
    out = Path(request.config.rootpath) / "histories" / (request.node.name + ".txt")
    out.parent.mkdir(exist_ok=True)
    out.write_text("\\n".join(h.history.json() for h in (wippy.get("a-1"), wippy.get("b-1"))))
"""


def test_a_process_service_and_its_workflows_explored_give_the_same_histories_on_rerun(
    pytester: pytest.Pytester,
) -> None:
    """`--lua-explore`: each seed varies activity durations and crashes the worker; a process service and
    the workflows it starts give identical histories when the same seeds run again."""
    pytester.makeini(
        f"[pytest]\nwippy_app = {SUPERVISOR}\nasyncio_default_fixture_loop_scope = function\n"
    )
    pytester.makepyfile(test_it=EXPLORED_TEST)
    args = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--lua-explore", "3")
    pytester.runpytest(*args).assert_outcomes(passed=3)
    first = {p.name: p.read_text() for p in (pytester.path / "histories").iterdir()}
    assert len(first) == 3 and len(set(first.values())) > 1  # the seeds differ
    pytester.runpytest(*args).assert_outcomes(passed=3)
    again = {p.name: p.read_text() for p in (pytester.path / "histories").iterdir()}
    assert again == first


def test_a_failing_test_reports_its_processes(pytester: pytest.Pytester) -> None:
    pytester.makeini(f"[pytest]\nwippy_app = {APP_DIR}\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        test_it="""
async def test_fails(wippy):
    wippy.spawn("app:forever", host="app:processes")
    crash = wippy.spawn("app:crash", host="app:processes")
    await wippy.sleep("1s")
    assert False, "look at the processes"
"""
    )
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--wippy-timeline", "off"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*wftest processes*",
            "process {wftest@app:processes|0x00002} (app:forever): running; main waits on "
            "channel receive*",
            "process {wftest@app:processes|0x00004} (app:crash): failed: Internal: workers.lua:14: boom",
        ]
    )


def test_workflows_and_processes_take_turns_on_pooled_lua_states() -> None:
    """Both kinds lease states from one pool; each finds its own `process` section there (they are
    cached by file name), whichever ran in the state before."""
    for _ in range(3):
        world = World(APP)
        run = world.start("app:notify", world.mailbox().pid)
        world.run_until_closed(run)
        assert run.result == "notified"
        _, result = scenario("echo_roundtrip")
        assert result["first"] == "A"


def test_a_function_calling_itself_without_end_gets_an_error_at_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from wftest.sim import processes

    monkeypatch.setattr(processes, "MAX_LIVE_PROCESSES", 20)
    world = World(APP)
    run = world.run_process("app:recurse", 0)
    world.run_until_idle()
    assert run.status == "finished"
    assert run.result["kind"] == "Unavailable" and run.result["depth"] == 19
    assert "a function that calls itself without end?" in run.result["message"]
