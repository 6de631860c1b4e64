"""Replay of recorded histories against current code: identical replays of every fixture,
and code mutations with their verdicts under the `go` and `strict` rule sets."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from checkout import ROOT, mutated_sim

from wftest import load_app
from wftest.replay import NondeterminismError, replay_history
from wftest.sim import World

sys.path.insert(0, str(Path(__file__).resolve().parent))
SIM = ROOT / "fixtures" / "sim"
APP = load_app(SIM)

FIXTURE_RUNS = [
    ("app.wf:hello", ()),
    ("app.wf:one_activity", ({"a": 1},)),
    ("app.wf:three_uuids", ()),
    ("app.wf:ordering", ()),
    ("app.wf:retry", (3,)),
    ("app.wf:versioned", ()),
    ("app.wf:timers", ()),
    ("app.wf:futures", ()),
    ("app.wf:failing", ("object",)),
    ("app.wf:many_activities", (5,)),
    ("app.wf:version_then_child", ()),
    ("app.wf:parent_exec", ()),
    ("app.wf:looper", ({"batch": 2, "total": 3},)),
]


def record(workflow: str, *args: object):  # type: ignore[no-untyped-def]
    world = World(APP)
    run = world.start(workflow, *args)
    world.run_until_closed(run)
    return run


@pytest.mark.parametrize(("workflow", "args"), FIXTURE_RUNS)
@pytest.mark.parametrize("strict", [False, True])
def test_unchanged_code_replays_identically(workflow: str, args: tuple[object, ...], strict: bool) -> None:
    run = record(workflow, *args)
    result = replay_history(APP, run.history, strict=strict, workflow_id=run.workflow_id)
    assert result.workflow_type == workflow and result.commands > 0 or workflow == "app.wf:failing"



# (workflow, args, file, old, new, fails under go, fails under strict, message fragment)
MUTATIONS = [
    (
        "app.wf:one_activity",
        ({"a": 1},),
        "one_activity.lua",
        '"app.act:echo", input',
        '"app.act:flaky", input',
        True,
        True,
        "activity type",
    ),
    (
        "app.wf:one_activity",
        ({"a": 1},),
        "one_activity.lua",
        '"app.act:echo", input',
        '"app.act:echo", {b = 2}',
        False,
        True,
        "activity input differs",
    ),
    (
        "app.wf:hello",
        (),
        "hello.lua",
        'time.sleep("100ms")',
        'time.sleep("5s")',
        False,
        True,
        "timer duration",
    ),
    (
        "app.wf:hello",
        (),
        "hello.lua",
        'time.sleep("100ms")',
        'time.sleep("100ms") time.sleep("1s")',
        True,
        True,
        "extra replay command",
    ),
    ("app.wf:hello", (), "hello.lua", 'time.sleep("100ms")', "", True, True, "missing replay command"),
    (
        "app.wf:hello",
        (),
        "hello.lua",
        'time.sleep("100ms")',
        'time.after("100ms"):receive()',
        False,
        False,
        "",
    ),
    (
        "app.wf:hello",
        (),
        "hello.lua",
        "local function main()",
        "-- a comment\nlocal function main()",
        True,
        True,
        "",
    ),  # shifts lines but not commands: see below
    (
        "app.wf:ordering",
        (),
        "ordering.lua",
        "local done = channel.new(2)",
        "uuid.v4()\n    local done = channel.new(2)",
        True,
        True,
        "No cached result found for side effectID 3",
    ),
    (
        "app.wf:ordering",
        (),
        "ordering.lua",
        '{"A", "B"}',
        '{"B", "A"}',
        False,
        True,
        "activity input differs",
    ),
    ("app.wf:ordering", (), "ordering.lua", "local id = uuid.v4()\n", "", True, True, ""),
    (
        "app.wf:versioned",
        (),
        "versioned.lua",
        'workflow.version("c", 1, 3)\n    local again',
        'workflow.version("c", 4, 5)\n    local again',
        True,
        True,
        "no longer supports",
    ),
    (
        "app.wf:versioned",
        (),
        "versioned.lua",
        'local out = funcs.call("app.act:echo", {v = v})',
        'local v2 = workflow.version("d", -1, 1)\n    local out = funcs.call("app.act:echo", {v = v})',
        False,
        False,
        "",
    ),
    (
        "app.wf:three_uuids",
        (),
        "three_uuids.lua",
        "uuid.v4(), uuid.v4(), uuid.v4()",
        "uuid.v4(), uuid.v4()",
        True,
        True,
        "missing replay command",
    ),
    (
        "app.wf:timers",
        (),
        "timers.lua",
        'time.after("1s")',
        'time.after("2s")',
        False,
        True,
        "timer duration",
    ),
    (
        "app.wf:timers",
        (),
        "timers.lua",
        'time.ticker("10s")',
        'time.ticker("10s") time.sleep("1s")',
        True,
        True,
        "",
    ),
    ("app.wf:futures", (), "futures.lua", "c:cancel()", "", True, True, "missing replay command"),
    (
        "app.wf:many_activities",
        (5,),
        "many_activities.lua",
        "for i = 1, count do",
        "for i = 1, count - 1 do",
        True,
        True,
        "missing replay command",
    ),
    (
        "app.wf:parent_exec",
        (),
        "parent_exec.lua",
        'workflow.exec("app.wf:child", {value = 21})',
        'workflow.exec("app.wf:child", {value = 22})',
        False,
        True,
        "child input differs",
    ),
    (
        "app.wf:parent_exec",
        (),
        "parent_exec.lua",
        'workflow.exec("app.wf:child", {value = 21})',
        'workflow.exec("app.wf:hello", {value = 21})',
        True,
        True,
        "child workflow type",
    ),
    (
        "app.wf:failing",
        ("object",),
        "failing.lua",
        'message = "bad input"',
        'message = "worse input"',
        False,
        True,
        "workflow failure differs",
    ),
]


@pytest.mark.parametrize("case", MUTATIONS, ids=[f"{m[0]}-{i}" for i, m in enumerate(MUTATIONS)])
@pytest.mark.parametrize("strict", [False, True])
def test_mutations_have_the_expected_verdict(tmp_path: Path, case: tuple, strict: bool) -> None:  # type: ignore[type-arg]
    workflow, args, file, old, new, fails_go, fails_strict, fragment = case
    if new.startswith("-- a comment"):
        # A comment changes no command: both rule sets pass.
        fails_go = fails_strict = False
    history = record(workflow, *args).history
    app = mutated_sim(tmp_path, file, old, new)
    should_fail = fails_strict if strict else fails_go
    if not should_fail:
        replay_history(app, history, strict=strict)
        return
    with pytest.raises(NondeterminismError) as info:
        replay_history(app, history, strict=strict)
    # strict does not skip closing commands, so its first difference may be reported differently
    assert (fragment if not strict else "nondeterminism") in str(info.value)


def test_report_names_the_task_the_event_and_the_lua_line(tmp_path: Path) -> None:
    """The report: where the paths split (task and event id), both sides, the Lua line, what matched."""
    history = record("app.wf:hello").history
    app = mutated_sim(tmp_path, "hello.lua", 'time.sleep("100ms")', 'time.sleep("100ms")\n    time.sleep("1s")')
    with pytest.raises(NondeterminismError) as info:
        replay_history(app, history)
    report = str(info.value)
    assert report.startswith(
        "nondeterminism in workflow task 2 (started at event 8), at event 11 (go rules): "
        "extra replay command StartTimer(id=10, 1s)"
    )
    assert "\n  at workflows/hello.lua:5\n" in report
    assert "\n  history:  (nothing)\n  replayed: StartTimer(id=10, 1s)\n" in report
    assert "last matching commands: StartTimer(id=5, 0.1s)" in report
    assert (info.value.event_id, info.value.workflow_task, info.value.where) == (
        11,
        2,
        "workflows/hello.lua:5",
    )


def test_world_checks_a_finished_run_in_one_call() -> None:
    """The automatic check: a finished run replays strictly with the same code."""
    world = World(APP)
    run = world.start("app.wf:saga", {"id": "o", "items": [], "total": 1})
    world.mock("app.act:reserve", {"id": "r"})
    world.mock("app.act:charge", {"id": "p"})
    world.mock("app.act:ship", {"tracking": "t"})
    world.run_until_closed(run)
    result = world.check_replay(run)
    assert (result.rules, result.workflow_type) == ("strict", "app.wf:saga")


def test_replay_api_takes_a_path_json_text_or_history(tmp_path: Path) -> None:
    import wftest

    run = record("app.wf:hello")
    path = tmp_path / "h.json"
    path.write_text(run.history_json())
    for source in (run.history, path, str(path), run.history_json()):
        assert wftest.replay(APP, source).workflow_tasks == 2


def test_replay_cli_exit_codes(tmp_path: Path) -> None:
    """`wftest replay APP HISTORY_OR_DIR...`: 0 all replayed, 1 nondeterminism, 2 unreadable input."""
    from click.testing import CliRunner

    from wftest.cli import main

    good = tmp_path / "good"
    good.mkdir()
    (good / "hello.json").write_text(record("app.wf:hello").history_json())
    ok = CliRunner().invoke(main, ["replay", str(SIM), str(good)])
    assert ok.exit_code == 0 and "1 replayed, 0 nondeterministic" in ok.stdout
    app = mutated_sim(tmp_path, "hello.lua", 'time.sleep("100ms")', 'time.sleep("100ms")\n    time.sleep("1s")')
    changed = CliRunner().invoke(main, ["replay", str(app.root), str(good / "hello.json")])
    assert changed.exit_code == 1 and "FAIL" in changed.stdout and "hello.lua:5" in changed.stdout
    (tmp_path / "broken.json").write_text('{"events": [')
    broken = CliRunner().invoke(main, ["replay", str(SIM), str(tmp_path / "broken.json")])
    assert broken.exit_code == 2 and "BAD" in broken.stderr


def test_math_random_is_reseeded_on_replay_and_strict_points_at_it() -> None:
    """math.random is unprotected in Wippy; replay reseeds it, so strict catches commands that depend
    on it (the Go rules, which ignore durations, do not)."""
    world = World(APP)
    run = world.start("app.wf:dice")
    world.run_until_closed(run)
    replay_history(APP, run.history)  # go: timer id only
    with pytest.raises(NondeterminismError) as info:
        world.check_replay(run)
    report = str(info.value)
    assert "timer duration differs" in report and "dice.lua:5" in report
    assert "math.random" in report and "Wippy does not protect it either" in report


def test_missing_command_report_says_where_the_code_waits(tmp_path: Path) -> None:
    """When the code stops producing commands the history has, the report says where each coroutine waits."""
    history = record("app.wf:timers").history
    app = mutated_sim(
        tmp_path,
        "timers.lua",
        'local ticker = time.ticker("10s")',
        'process.listen("never"):receive()\n    local ticker = time.ticker("10s")',
    )
    with pytest.raises(NondeterminismError) as info:
        replay_history(app, history)
    assert "missing replay command for TIMER_STARTED" in str(info.value)
    assert "the code waits: main waits on channel receive" in str(info.value)


def test_replay_cli_in_parallel_processes(tmp_path: Path) -> None:
    """`--jobs N` replays in N processes with the same verdicts and output order."""
    from click.testing import CliRunner

    from wftest.cli import main

    for i, workflow in enumerate(["app.wf:hello", "app.wf:ordering", "app.wf:three_uuids"]):
        (tmp_path / f"{i}.json").write_text(record(workflow).history_json())
    result = CliRunner().invoke(main, ["replay", str(SIM), str(tmp_path), "--jobs", "2", "--strict"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines[:3]] == ["ok", "ok", "ok"]
    assert lines[0].endswith("(app.wf:hello, 2 tasks, strict rules)")
    assert lines[-1] == "3 replayed, 0 nondeterministic, 0 unreadable"


def test_replay_pulls_histories_from_a_temporal_frontend() -> None:
    """`--temporal ADDRESS --namespace NS --query Q` lists workflows and fetches their histories with
    temporalio's client; here against an in-process stand-in for the three RPCs it uses."""
    grpc = pytest.importorskip("grpc")
    assert grpc
    from click.testing import CliRunner
    from temporal_standin import TemporalStandIn

    from wftest.cli import main

    hello, ordering = record("app.wf:hello"), record("app.wf:ordering")
    served = [("hello-1", "app.wf:hello", hello.history), ("ordering-1", "app.wf:ordering", ordering.history)]
    with TemporalStandIn(served) as standin:
        result = CliRunner().invoke(main, ["replay", str(SIM), "--temporal", standin.address,
                                           "--query", 'WorkflowType="app.wf:hello"'])
    assert result.exit_code == 0, result.output
    assert standin.queries == ['WorkflowType="app.wf:hello"']
    assert result.stdout.strip().splitlines()[-1] == "2 replayed, 0 nondeterministic, 0 unreadable"
