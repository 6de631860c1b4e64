"""`wftest run APP WORKFLOW`: the result as JSON on stdout (exit 0), workflow failures on stderr (exit 1),
usage errors (exit 2). Outcomes follow the simulator."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result
from temporalio.client import WorkflowHistory

from wftest.cli import main

APP_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "sim"


def wftest_run(*args: str) -> Result:
    return CliRunner().invoke(main, ["run", str(APP_DIR), *args])


def test_prints_the_result_as_json() -> None:
    """hello's result without the dropped timestamp."""
    result = wftest_run("app.wf:hello")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"message": "Hello, Temporal!", "status": "completed"}
    assert result.stderr == ""


def test_inputs_are_json_arguments() -> None:
    """Each --input is one workflow argument (one payload)."""
    result = wftest_run("app.wf:one_activity", "--input", '{"a": [1, 2], "b": "x"}')
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"a": [1, 2], "b": "x"}


def test_failed_workflow_exits_1_with_kind_and_message() -> None:
    """`nil, err` → exit 1, `error: <kind>: <message>` on stderr."""
    result = wftest_run("app.wf:failing", "--input", '"object"')
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "error: Invalid: bad input" in result.stderr


def test_lua_error_reports_file_and_line() -> None:
    """An uncaught Lua error is reported with its file:LINE."""
    result = wftest_run("app.wf:failing", "--input", '"raise"')
    assert result.exit_code == 1
    assert "error: Internal: " in result.stderr
    assert "failing.lua:8: attempt to index a nil value" in result.stderr


def test_deadlock_exits_1() -> None:
    """A deadlock is a workflow failure."""
    result = wftest_run("app.wf:deadlock")
    assert result.exit_code == 1
    assert "all coroutines blocked" in result.stderr


def test_endless_retry_exits_1_with_the_simulation_error() -> None:
    """The world's attempt cap is reported, not a traceback."""
    result = wftest_run("app.wf:retry", "--input", "0")
    assert result.exit_code == 1
    assert "error: activity app.act:flaky" in result.stderr
    assert "maximum_attempts" in result.stderr


def test_stalled_workflow_exits_1() -> None:
    """A run that waits forever is reported as still running."""
    result = wftest_run("app.wf:probe_clock", "--input", '"sleep0"')
    assert result.exit_code == 1
    assert "still running" in result.stderr


def test_unknown_workflow_exits_2_listing_the_workflows() -> None:
    """A usage error that lists the app's workflow entries (and only those)."""
    result = wftest_run("app.wf:nope")
    assert result.exit_code == 2
    assert "'app.wf:nope' is not a workflow entry" in result.stderr
    assert "app.wf:hello" in result.stderr and "app.wf:one_activity" in result.stderr
    assert "app.act:echo" not in result.stderr.split("workflows:")[1]


def test_bad_input_json_exits_2() -> None:
    """Inputs must be JSON; anything else is a usage error."""
    result = wftest_run("app.wf:hello", "--input", "{bad")
    assert result.exit_code == 2
    assert "--input" in result.stderr and "not JSON" in result.stderr


def test_mock_serves_a_value() -> None:
    """--mock serves the activity with a JSON value."""
    result = wftest_run("app.wf:probe_call", "--input", '"app.act:x"', "--input", "null",
                        "--mock", 'app.act:x={"a": 1}')
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"ok": True, "value": {"a": 1}}


def test_mock_error_fails_the_activity_without_retries() -> None:
    """--mock-error is a non-retryable Wippy error of that kind."""
    result = wftest_run("app.wf:probe_call", "--input", '"app.act:x"', "--input", "null",
                        "--mock-error", "app.act:x=Conflict:already taken")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["kind"], out["message"], out["retryable"]) == ("Conflict", "already taken", False)
    assert out["details"]["_retry_state"] == "NonRetryableFailure"


def test_mock_error_failing_the_workflow() -> None:
    """The activity error returned as `nil, err` fails the workflow with its kind."""
    result = wftest_run("app.wf:one_activity", "--mock-error", "app.act:echo=Unavailable:gone")
    assert result.exit_code == 1
    assert "error: Unavailable: gone" in result.stderr


def test_bad_mock_specs_exit_2() -> None:
    """Malformed --mock / --mock-error specs are usage errors naming the option."""
    specs = [("--mock", "nonsense"), ("--mock", "app.act:x={bad"), ("--mock-error", "app.act:x=Conflict"),
             ("--mock-error", "=Conflict:x")]
    for option, spec in specs:
        result = wftest_run("app.wf:hello", option, spec)
        assert result.exit_code == 2, (option, spec, result.output)
        assert option in result.stderr


def test_start_time_sets_the_workflow_clock() -> None:
    """time.now()/os.time() read the virtual clock, which starts at --start-time."""
    result = wftest_run("app.wf:probe_clock", "--input", '"now"', "--start-time", "2030-05-01T10:00:00.25Z")
    assert result.exit_code == 0, result.output
    start_ns = 1_903_860_000 * 1_000_000_000 + 250_000_000
    assert json.loads(result.stdout) == {"now": start_ns + 1_500_000_000, "os": 1_903_860_001}


def test_bad_start_time_exits_2() -> None:
    """--start-time must be RFC 3339 with a zone."""
    for value in ("yesterday", "2030-05-01T10:00:00"):
        result = wftest_run("app.wf:hello", "--start-time", value)
        assert result.exit_code == 2
        assert "--start-time" in result.stderr


def test_seed_changes_random_values_deterministically() -> None:
    """Side-effect values come from --seed."""
    one = wftest_run("app.wf:three_uuids", "--seed", "1")
    again = wftest_run("app.wf:three_uuids", "--seed", "1")
    two = wftest_run("app.wf:three_uuids", "--seed", "2")
    assert one.exit_code == again.exit_code == two.exit_code == 0
    assert one.stdout == again.stdout != two.stdout
    assert len(json.loads(one.stdout)) == 3


def test_history_out_writes_readable_history(tmp_path: Path) -> None:
    """--history-out writes the JSON history, also for a failed
    run."""
    target = tmp_path / "hello.json"
    result = wftest_run("app.wf:hello", "--history-out", str(target))
    assert result.exit_code == 0, result.output
    history = WorkflowHistory.from_json("hello", target.read_text(encoding="utf-8"))
    assert len(history.events) == 10
    failed = tmp_path / "failed.json"
    assert wftest_run("app.wf:failing", "--input", '"string"', "--history-out", str(failed)).exit_code == 1
    events = WorkflowHistory.from_json("failing", failed.read_text(encoding="utf-8")).events
    assert events[-1].HasField("workflow_execution_failed_event_attributes")


def test_signal_option_sends_at_a_virtual_offset(tmp_path: Path) -> None:
    """`--signal AFTER:TOPIC=JSON` signals the workflow that long after its start (virtual time)."""
    out = tmp_path / "h.json"
    result = CliRunner().invoke(main, ["run", str(APP_DIR), "app.wf:approval", "--input", '{"n": 1}',
                                       "--signal", '30m:approve={"by": "ada"}', "--history-out", str(out)])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"by": "ada", "from": "", "request": {"n": 1}, "status": "approve"}
    events = json.loads(out.read_text())["events"]
    signaled = [e for e in events if e["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED"]
    assert signaled[0]["eventTime"] == "2026-01-01T00:30:00Z"


def test_bad_signal_option_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["run", str(APP_DIR), "app.wf:approval", "--signal", "soon:approve"])
    assert result.exit_code == 2
    assert 'invalid duration "soon"' in result.stderr


def test_a_signal_on_a_topic_nothing_listens_for_is_a_warning() -> None:
    app = Path(__file__).resolve().parents[2] / "examples" / "approval"
    expense = '{"id": "e-1", "amount": 10, "requester": "bo", "approvers": ["ann"]}'
    signal = '1m:aprove={"by": "ann"}'
    args = ["run", str(app), "app:expense_approval", "--input", expense, "--signal", signal]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"status": "expired"}
    assert "warning: signal topic 'aprove' arrived, but nothing listens for it (did you mean 'approve'?)" in (
        result.stderr
    )
