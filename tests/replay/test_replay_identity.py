"""Identity and recorded values replay as they ran: a run exported to Temporal JSON and replayed strictly
in a fresh Lua state (and in a fresh process) returns the same PID, `workflow.info()` fields, child PIDs,
signal senders, clock, side-effect values, context values and future payloads.

Fidelity: a workflow's PID is `{client@worker|workflow id}`, the worker resolved from the task queue
(Wippy's service/temporal/workflow/handler_process.go, selfPID; definition.go resolveWorkerID); a
signal's sender travels in its `wippy-context` header (service/temporal/worker/host.go,
withSignalSender; service/temporal/propagator)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from checkout import ROOT
from click.testing import CliRunner

from wftest import load_app
from wftest.cli import main
from wftest.history.jsonio import history_from_json, history_to_json
from wftest.replay import NondeterminismError, replay, replay_history, roundtrip
from wftest.sim import World

pytest_plugins = ["pytester"]

APP_DIR = ROOT / "fixtures" / "identity"
APP = load_app(APP_DIR)
SENDER = "{wftest@test.host|box-1}"

INFO_FIELDS = [
    "workflow_id",
    "run_id",
    "workflow_type",
    "task_queue",
    "namespace",
    "attempt",
    "history_length",
    "history_size",
    "pid",
    "entry_id",
]
FIELDS = [
    "pid",
    *(f"info.{name}" for name in INFO_FIELDS),
    "child_pid",
    "signal_from",
    "time_now",
    "uuid",
    "crypto_random",
    "ctx",
    "future",
]


def record(field: str, world: World | None = None) -> tuple[World, Any]:
    world = world or World(APP)
    run = world.start("app:identity", field, workflow_id=f"order-{field}", context={"tenant": "acme"})
    if field == "signal_from":
        world.signal(run, "hello", 1, sender=SENDER)
    world.run_until_closed(run)
    assert run.status == "completed", run.failure
    return world, run


def from_json(history: Any) -> Any:
    return history_from_json(history_to_json(history))


def expected_value(world: World, run: Any, field: str) -> Any:
    """What the live run must have returned, so a replay that agrees agrees on the right value; values
    drawn at random (uuid, crypto, child run ids) are only checked for their shape."""
    fixed = {
        "pid": world.pid_of(run.workflow_id),
        "info.workflow_id": run.workflow_id,
        "info.run_id": run.run_id,
        "info.workflow_type": "app:identity",
        "info.task_queue": "identity-queue",
        "info.namespace": "default",
        "info.attempt": 1,
        "info.pid": world.pid_of(run.workflow_id),
        "info.entry_id": "app:identity",
        "info.history_length": 8,  # the started event id of the task after the 1 s sleep
        "signal_from": SENDER,
        "ctx": "acme",
        "future": {"echoed": "payload"},
        "time_now": run.start_ns + 90 * 10**9,
    }
    value = run.result["value"]
    if field in fixed:
        return fixed[field]
    shapes = {
        "info.history_size": isinstance(value, int) and value > 0,
        "child_pid": isinstance(value, str) and value.startswith("{app:client@"),
        "uuid": isinstance(value, str) and len(value) == 36,
        "crypto_random": isinstance(value, str) and len(value) == 16,
    }
    assert shapes[field], value
    return value


@pytest.mark.parametrize("field", FIELDS)
def test_each_value_replays_from_json_in_a_fresh_lua_state(field: str) -> None:
    world, run = record(field)
    assert run.result["value"] == expected_value(world, run, field)
    result = replay_history(APP, from_json(run.history), strict=True)
    assert (result.workflow_id, result.workflow_id_source) == (run.workflow_id, "history")


def test_the_started_event_records_the_workflow_id() -> None:
    _, run = record("pid")
    started = json.loads(run.history_json())["events"][0]["workflowExecutionStartedEventAttributes"]
    assert started["workflowId"] == "order-pid"


def test_child_pid_is_built_from_the_child_workflow_id() -> None:
    _, run = record("child_pid")
    initiated = next(
        e.start_child_workflow_execution_initiated_event_attributes
        for e in run.history.events
        if e.HasField("start_child_workflow_execution_initiated_event_attributes")
    )
    assert run.result["value"].endswith(f"|{initiated.workflow_id}}}")


def test_a_sender_workflow_is_the_signal_sender_on_replay() -> None:
    world = World(APP)
    target = world.start("app:identity", "signal_from", workflow_id="target")
    sender = world.start("app:sender", "target", workflow_id="sender")
    world.run_until_closed(target)
    world.run_until_closed(sender)
    assert target.result["value"] == world.pid_of("sender")
    replay_history(APP, from_json(target.history), strict=True)


def strip_id(history_json: str) -> str:
    document = json.loads(history_json)
    del document["events"][0]["workflowExecutionStartedEventAttributes"]["workflowId"]
    return json.dumps(document)


def test_an_old_history_takes_the_id_from_its_caller() -> None:
    """Histories from servers that do not record the id: the caller's id makes the PID right again."""
    _, run = record("pid")
    old = history_from_json(strip_id(run.history_json()))
    result = replay_history(APP, old, strict=True, workflow_id=run.workflow_id)
    assert (result.workflow_id, result.workflow_id_source) == ("order-pid", "caller")
    with pytest.raises(NondeterminismError) as info:
        replay_history(APP, old, strict=True, workflow_id="someone-else")
    assert "workflow result differs" in str(info.value)
    assert "workflow id: someone-else (given by the caller)" in str(info.value)
    assert "order-pid" in info.value.expected and "someone-else" in info.value.actual


def test_cli_takes_the_id_from_the_option_the_file_name_or_a_wrapper(tmp_path: Path) -> None:
    _, run = record("pid")
    old = strip_id(run.history_json())
    named = tmp_path / "named"
    named.mkdir()
    (named / "order-pid.json").write_text(old)
    by_name = CliRunner().invoke(main, ["replay", str(APP_DIR), str(named), "--strict"])
    assert by_name.exit_code == 0, by_name.output
    assert "workflow id order-pid: the history file's name" in by_name.stdout
    other = tmp_path / "other"
    other.mkdir()
    (other / "export.json").write_text(old)
    wrong = CliRunner().invoke(main, ["replay", str(APP_DIR), str(other), "--strict"])
    assert wrong.exit_code == 1 and "workflow id: export (the history file's name)" in wrong.stdout
    given = CliRunner().invoke(
        main, ["replay", str(APP_DIR), str(other), "--strict", "--workflow-id", "order-pid"]
    )
    assert given.exit_code == 0 and "workflow id order-pid: given by the caller" in given.stdout
    wrapped = tmp_path / "wrapped"
    wrapped.mkdir()
    (wrapped / "x.json").write_text(json.dumps({"workflowId": "order-pid", "history": json.loads(old)}))
    via_wrapper = CliRunner().invoke(main, ["replay", str(APP_DIR), str(wrapped), "--strict"])
    assert via_wrapper.exit_code == 0, via_wrapper.output
    assert "workflow id order-pid: the wrapper object around the history" in via_wrapper.stdout
    assert replay(APP, wrapped / "x.json", strict=True).workflow_id_source == "wrapper"


def test_every_value_replays_in_a_fresh_process(tmp_path: Path) -> None:
    """`wftest run`-style export, then `wftest replay --strict` in another Python process."""
    for field in FIELDS:
        _, run = record(field)
        (tmp_path / f"{field}.json").write_text(run.history_json())
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from wftest.cli import main; main()",
            "replay",
            str(APP_DIR),
            str(tmp_path),
            "--strict",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(FIELDS)} replayed, 0 nondeterministic" in done.stdout


def test_cli_run_history_replays_strictly(tmp_path: Path) -> None:
    """The first thing a user tries: `wftest run --history-out`, then `wftest replay --strict`."""
    out = tmp_path / "h.json"
    ran = CliRunner().invoke(
        main, ["run", str(APP_DIR), "app:identity", "--input", '"pid"', "--history-out", str(out)]
    )
    assert ran.exit_code == 0, ran.output
    replayed = CliRunner().invoke(main, ["replay", str(APP_DIR), str(out), "--strict"])
    assert replayed.exit_code == 0, replayed.output


def test_round_trip_mode_replays_each_check_from_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(roundtrip.MODE, "forced", None)
    monkeypatch.setenv(roundtrip.ENV, "1")
    before = roundtrip.MODE.runs
    world, run = record("pid")
    result = world.check_replay(run, strict=False)
    assert roundtrip.MODE.runs == before + 1
    assert (result.rules, result.workflow_id_source) == ("strict", "history")
    monkeypatch.setenv(roundtrip.ENV, "0")
    world.check_replay(run)
    assert roundtrip.MODE.runs == before + 1


def test_pytest_option_replays_every_run_from_json_and_counts_them(pytester: pytest.Pytester) -> None:
    pytester.makeini(f"[pytest]\nwippy_app = {APP_DIR}\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        test_it="""
        async def test_pid(wippy):
            result = await wippy.execute("app:identity", "pid", id="order-1")
            assert result == {"value": wippy.world.pid_of("order-1")}

        async def test_two(wippy):
            wippy.mock("app:echo").returns({"echoed": "payload"})
            await wippy.execute("app:identity", "future")
            await wippy.execute("app:identity", "uuid")
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--wippy-roundtrip")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["wftest round-trip: 3 workflow runs replayed from their JSON history (*s)"])
