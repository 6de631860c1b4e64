"""Every kind of nondeterminism report names the Lua `file:line` the difference comes from and shows
both sides, in one shape (the exception's `event_id`, `lua_location`, `expected`, `actual`, and the same
text in the CLI and in pytest). Each kind also has its verdict under the `go` rules, which follow the Go
SDK v1.42: results, failures, durations and inputs are not compared there; command types, ids, side
effects and versions are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from checkout import FIXTURES, mutated_sim
from click.testing import CliRunner

from wftest import load_app
from wftest.cli import main
from wftest.replay import NondeterminismError, replay_history
from wftest.sim import World

pytest_plugins = ["pytester"]

SIM = FIXTURES / "sim"
APP = load_app(SIM)


def record(workflow: str, *args: object) -> Any:
    world = World(APP)
    world.mock("app.act:echo", None)
    run = world.start(workflow, *args)
    world.run_until_closed(run)
    return run



def report_of(app: Any, history: Any, *, strict: bool) -> NondeterminismError:
    with pytest.raises(NondeterminismError) as info:
        replay_history(app, history, strict=strict)
    return info.value


def assert_shape(error: NondeterminismError, location: str, expected: str, actual: str) -> None:
    """The attributes carry the line and both values, and the text shows them in its fixed places."""
    assert error.lua_location == location
    assert expected in error.expected and actual in error.actual
    text = str(error)
    first, at, history, replayed = text.splitlines()[:4]
    assert first.startswith("nondeterminism in workflow task ") and f"at event {error.event_id} " in first
    assert at.startswith("  at ") and location in at
    assert history == f"  history:  {error.expected}" and replayed == f"  replayed: {error.actual}"


def test_result_differs_shows_both_values_a_json_diff_and_the_return_line(tmp_path: Path) -> None:
    history = record("app.wf:hello").history
    app = mutated_sim(tmp_path, "hello.lua", 'status = "completed"', 'status = "done"')
    replay_history(app, history)  # the Go SDK does not compare results
    error = report_of(app, history, strict=True)
    assert "workflow result differs" in str(error)
    assert_shape(error, "workflows/hello.lua:5", '"status":"completed"', '"status":"done"')
    assert '  differs at $.status: history "completed", replayed "done"' in str(error)


def test_returned_failure_differs_names_the_return_line(tmp_path: Path) -> None:
    history = record("app.wf:failing", "object").history
    app = mutated_sim(tmp_path, "failing.lua", 'message = "bad input"', 'message = "worse input"')
    replay_history(app, history)
    error = report_of(app, history, strict=True)
    assert "workflow failure differs" in str(error)
    assert_shape(error, "workflows/failing.lua:5", "bad input", "worse input")


def test_raised_failure_differs_names_the_line_that_raised(tmp_path: Path) -> None:
    history = record("app.wf:failing", "raise").history
    app = mutated_sim(tmp_path, "failing.lua", "return t.field", 'error("changed my mind")')
    replay_history(app, history)
    error = report_of(app, history, strict=True)
    assert_shape(error, "workflows/failing.lua:8", "attempt to index a nil value", "changed my mind")


@pytest.mark.parametrize("strict", [False, True])
def test_missing_side_effect_names_the_call_that_asked(tmp_path: Path, strict: bool) -> None:
    history = record("app.wf:three_uuids").history
    app = mutated_sim(
        tmp_path,
        "three_uuids.lua",
        "uuid.v4(), uuid.v4(), uuid.v4()",
        "uuid.v4(), uuid.v4(),\n        uuid.v4(), uuid.v4()",
    )
    error = report_of(app, history, strict=strict)
    assert "No cached result found for side effectID 4 (uuid.v4)" in str(error)
    assert_shape(error, "workflows/three_uuids.lua:5", "no SideEffect marker", "side effect 4 (uuid.v4)")


@pytest.mark.parametrize("strict", [False, True])
def test_missing_version_marker_names_the_call_that_asked(tmp_path: Path, strict: bool) -> None:
    history = record("app.wf:versioned").history
    app = mutated_sim(
        tmp_path,
        "versioned.lua",
        'local out = funcs.call("app.act:echo", {v = v})',
        'local d = workflow.version("d", 1, 2)\n    local out = funcs.call("app.act:echo", {v = v})',
    )
    error = report_of(app, history, strict=strict)
    assert "no longer supports" in str(error)
    assert_shape(error, "workflows/versioned.lua:7", "no Version marker for 'd'", "versions 1..2 of 'd'")


@pytest.mark.parametrize("strict", [False, True])
def test_missing_command_names_where_each_coroutine_waits(tmp_path: Path, strict: bool) -> None:
    history = record("app.wf:ordering").history
    app = mutated_sim(
        tmp_path,
        "ordering.lua",
        "            local id = uuid.v4()",
        '            process.listen("never"):receive()\n            local id = uuid.v4()',
    )
    error = report_of(app, history, strict=strict)
    assert "missing replay command for MARKER_RECORDED" in str(error)
    at = str(error).splitlines()[1]
    assert at == "  at workflows/ordering.lua:15, workflows/ordering.lua:9, workflows/ordering.lua:9"
    assert_shape(error, "workflows/ordering.lua:15", "MARKER_RECORDED(SideEffect)", "(nothing)")
    assert "main waits on channel receive at workflows/ordering.lua:15" in str(error)
    assert "coroutine 2 waits on channel receive at workflows/ordering.lua:9" in str(error)


@pytest.mark.parametrize("strict", [False, True])
def test_extra_command_names_the_line_that_produced_it(tmp_path: Path, strict: bool) -> None:
    history = record("app.wf:hello").history
    app = mutated_sim(tmp_path, "hello.lua", 'time.sleep("100ms")', 'time.sleep("100ms")\n    time.sleep("1s")')
    error = report_of(app, history, strict=strict)
    if strict:  # strict also matches the closing command, which the new timer now stands in place of
        assert "command type StartTimer where the history has CompleteWorkflowExecution" in str(error)
    else:
        assert "extra replay command StartTimer(id=10, 1s)" in str(error)
    history_side = "WORKFLOW_EXECUTION_COMPLETED" if strict else "(nothing)"
    assert_shape(error, "workflows/hello.lua:5", history_side, "StartTimer(id=10, 1s)")


@pytest.mark.parametrize("strict", [False, True])
def test_changed_command_names_its_line_and_both_commands(tmp_path: Path, strict: bool) -> None:
    history = record("app.wf:one_activity", {"a": 1}).history
    app = mutated_sim(tmp_path, "one_activity.lua", '"app.act:echo", input', '"app.act:flaky", input')
    error = report_of(app, history, strict=strict)
    assert_shape(error, "workflows/one_activity.lua:4", "type=app.act:echo", "app.act:flaky")


def test_changed_input_shows_both_inputs_under_strict_only(tmp_path: Path) -> None:
    history = record("app.wf:one_activity", {"a": 1}).history
    app = mutated_sim(tmp_path, "one_activity.lua", '"app.act:echo", input', '"app.act:echo", {a = 2}')
    replay_history(app, history)  # the Go SDK does not compare inputs
    error = report_of(app, history, strict=True)
    assert_shape(error, "workflows/one_activity.lua:4", '[{"a":1}]', '[{"a":2}]')
    assert "differs at $[0].a: history 1, replayed 2" in str(error)


def test_the_cli_and_pytest_print_the_same_report(tmp_path: Path, pytester: pytest.Pytester) -> None:
    history = record("app.wf:hello")
    app = mutated_sim(tmp_path, "hello.lua", 'status = "completed"', 'status = "done"')
    error = report_of(app, history.history, strict=True)
    histories = pytester.mkdir("histories")
    (histories / "hello.json").write_text(history.history_json())
    cli = CliRunner().invoke(main, ["replay", str(app.root), str(histories), "--strict"])
    assert cli.exit_code == 1 and str(error) in cli.stdout
    pytester.makeini(f"[pytest]\nwippy_app = {app.root}\nasyncio_default_fixture_loop_scope = function\n")
    go = pytester.runpytest("-p", "no:cacheprovider", "--replay-histories", "histories")
    go.assert_outcomes(passed=1)  # --replay-histories uses the go rules, which ignore results
    changed = mutated_sim(
        tmp_path / "again", "hello.lua", 'time.sleep("100ms")', 'time.sleep("1s")\n    time.sleep("1s")'
    )
    expected = report_of(changed, history.history, strict=False)
    pytester.makeini(f"[pytest]\nwippy_app = {changed.root}\nasyncio_default_fixture_loop_scope = function\n")
    failing = pytester.runpytest("-p", "no:cacheprovider", "--replay-histories", "histories")
    failing.assert_outcomes(failed=1)
    assert str(expected) in "\n".join(failing.outlines)
