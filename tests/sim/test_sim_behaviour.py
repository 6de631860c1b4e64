"""Workflow behaviour in the simulated world: completion rules, activities and their retries, timeouts,
mocks, timers, futures, the workflow module, and resource limits."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from checkout import SECOND
from temporalio.api.enums.v1 import EventType, RetryState, TimeoutType
from temporalio.api.history.v1 import HistoryEvent

from wftest.app import App, load_app
from wftest.history.failures import error_from_failure
from wftest.sim import ActivityError, ActivityInfo, SimulationError, UnknownWorkflowError, WorkflowRun, World

APP_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "sim"
MS = 1_000_000


@pytest.fixture(scope="module")
def app() -> App:
    return load_app(APP_DIR)


def run(app: App, workflow: str, *args: Any, setup: Callable[[World], None] | None = None,
        **world_options: Any) -> WorkflowRun:
    world = World(app, **world_options)
    if setup is not None:
        setup(world)
    return world.run_until_closed(world.start(workflow, *args))


def call(app: App, target: str, options: dict[str, Any] | None = None, *args: Any,
         setup: Callable[[World], None] | None = None, **world_options: Any) -> WorkflowRun:
    """Run `probe_call`: one activity call; its result reports what Lua received."""
    return run(app, "app.wf:probe_call", target, options, *args, setup=setup, **world_options)


def retry(**policy: Any) -> dict[str, Any]:
    return {"activity.retry_policy": policy}


def kinds(r: WorkflowRun) -> list[str]:
    return [EventType.Name(e.event_type).removeprefix("EVENT_TYPE_") for e in r.history.events]


def events_of(r: WorkflowRun, kind: str) -> list[HistoryEvent]:
    number = EventType.Value("EVENT_TYPE_" + kind)
    return [e for e in r.history.events if e.event_type == number]


def offset(r: WorkflowRun, event: HistoryEvent) -> int:
    return event.event_time.ToNanoseconds() - r.start_ns


class Recorder:
    """A mock callable that notes every attempt and fails the first `failures` of them."""

    def __init__(self, failures: int, *, value: Any = "done", error: ActivityError | None = None) -> None:
        self.failures = failures
        self.value = value
        self.error = error or ActivityError("down", kind="Unavailable")
        self.calls: list[tuple[Sequence[Any], ActivityInfo]] = []

    def __call__(self, args: Sequence[Any], info: ActivityInfo) -> Any:
        self.calls.append((list(args), info))
        if len(self.calls) <= self.failures:
            raise self.error
        return self.value

    def offsets(self, start_ns: int) -> list[int]:
        return [(info.now_ns - start_ns) // SECOND for _, info in self.calls]


# -- starting ---------------------------------------------------------------------------------------------


def test_start_rejects_what_is_not_a_workflow(app: App) -> None:
    """Only workflow entries start; the error lists the app's workflows."""
    world = World(app)
    for name in ("app.wf:nope", "app.act:echo"):
        with pytest.raises(UnknownWorkflowError, match=r"is not a workflow entry.*app\.wf:hello"):
            world.start(name)


def test_start_rejects_a_running_workflow_id(app: App) -> None:
    """A workflow id names one running execution at a time."""
    world = World(app)
    world.start("app.wf:hello", workflow_id="same")
    with pytest.raises(SimulationError, match="workflow id 'same' is already running"):
        world.start("app.wf:hello", workflow_id="same")


# -- completion rules ---------------------------------------------------------------------


def test_only_the_first_return_value_is_the_result(app: App) -> None:
    """`return "first", 2` completes with "first"; a nil second value is no error."""
    assert run(app, "app.wf:probe_return", "two").result == "first"
    only = run(app, "app.wf:probe_return", "value_nil")
    assert (only.status, only.result) == ("completed", "only")


def test_return_nil_is_one_null_payload(app: App) -> None:
    """`return nil` → one json/plain `null` payload."""
    r = run(app, "app.wf:probe_return", "nil")
    payloads = r.history.events[-1].workflow_execution_completed_event_attributes.result.payloads
    assert [(p.metadata["encoding"], p.data) for p in payloads] == [(b"json/plain", b"null")]
    assert r.result is None


def test_return_without_values_has_no_result_payloads(app: App) -> None:
    """A bare `return` → CompleteWorkflowExecution with no result payloads."""
    r = run(app, "app.wf:probe_return", "none")
    assert r.status == "completed"
    assert r.result_payload is None
    assert not r.history.events[-1].workflow_execution_completed_event_attributes.HasField("result")


def test_nil_err_fails_with_the_error_kind_retryable_and_details(app: App) -> None:
    """`return nil, errors.new{...}` fails the run with that kind, retryability and details."""
    r = run(app, "app.wf:failing", "object")
    assert r.status == "failed" and r.failure is not None
    assert r.failure.message == "bad input"
    assert r.failure.application_failure_info.type == "Invalid"
    assert r.failure.application_failure_info.non_retryable
    error = error_from_failure(r.failure)
    assert (error.kind, error.message, error.retryable, error.details) == ("Invalid", "bad input", False,
                                                                           {"field": "x"})


def test_string_second_value_fails_internal_non_retryable(app: App) -> None:
    """A string in the second position is an Internal, non-retryable failure."""
    r = run(app, "app.wf:failing", "string")
    assert r.status == "failed" and r.failure is not None
    error = error_from_failure(r.failure)
    assert (error.kind, error.message, error.retryable) == ("Internal", "plain string error", False)


def test_uncaught_error_fails_with_its_lua_position(app: App) -> None:
    """An uncaught error fails the run (Internal) with a file:LINE prefix."""
    r = run(app, "app.wf:failing", "raise")
    assert r.status == "failed" and r.failure is not None
    assert r.failure.application_failure_info.type == "Internal"
    assert "failing.lua:8:" in r.failure.message
    assert "attempt to index a nil value" in r.failure.message


def test_error_in_a_spawned_coroutine_fails_the_whole_run(app: App) -> None:
    """An uncaught error in ANY coroutine fails the workflow."""
    r = run(app, "app.wf:failing", "spawned")
    assert r.status == "failed" and r.failure is not None
    assert "failing.lua:10: boom in coroutine" in r.failure.message
    assert kinds(r)[-1] == "WORKFLOW_EXECUTION_FAILED"


def test_deadlock_names_where_each_coroutine_waits(app: App) -> None:
    """All coroutines blocked with nothing pending → deadlock failure naming each wait."""
    r = run(app, "app.wf:probe_return", "wait_both")
    assert r.status == "failed" and r.failure is not None
    message = r.failure.message
    assert message.startswith("all coroutines blocked with no pending operations")
    assert "main waits on channel receive" in message
    assert "coroutine 2 waits on channel send" in message
    single = run(app, "app.wf:deadlock")
    assert single.failure is not None and "(main waits on channel receive)" in single.failure.message


def test_completions_resume_before_channel_values_in_one_task(app: App) -> None:
    """In one task, a call's completion resumes its coroutine before a timer fire (an internal
    message) wakes the other, even though the timer fired first in history."""
    r = run(app, "app.wf:probe_batch", setup=lambda w: w.mock("app.act:second", "x", duration_ns=SECOND))
    assert kinds(r)[6:9] == ["TIMER_FIRED", "ACTIVITY_TASK_STARTED", "ACTIVITY_TASK_COMPLETED"]
    assert r.result == ["call", "timer"]


def test_invalid_call_options_fail_without_a_command(app: App) -> None:
    """Bad options or a bad target → `nil, err(Invalid)` and no ScheduleActivityTask."""
    cases: list[tuple[str, dict[str, Any] | None]] = [
        ("app.act:echo", {"activity.start_to_close_timeout": "bogus"}),
        ("app.act:echo", {"activity.retry_policy": {"maximum_attempts": "x"}}),
        ("noname", None),
    ]
    for target, options in cases:
        r = call(app, target, options)
        assert (r.result["kind"], r.result["retryable"]) == ("Invalid", False), r.result
        assert "ACTIVITY_TASK_SCHEDULED" not in kinds(r)


# -- retries --------------------------------------------------


def test_retry_backoff_times_and_the_final_started_event(app: App) -> None:
    """Attempts at 0, 1, 3, 7 s (1 s × 2ⁿ); one Started event carries the last attempt, its start
    time and the previous failure; the Failed event says maximum attempts reached."""
    mock = Recorder(failures=10)
    r = call(app, "app.act:m", retry(maximum_attempts=4, initial_interval="1s", backoff_coefficient=2),
             setup=lambda w: w.mock("app.act:m", mock))
    assert mock.offsets(r.start_ns) == [0, 1, 3, 7]
    assert [info.attempt for _, info in mock.calls] == [1, 2, 3, 4]
    (started,) = events_of(r, "ACTIVITY_TASK_STARTED")
    assert started.activity_task_started_event_attributes.attempt == 4
    assert started.activity_task_started_event_attributes.last_failure.message == "down"
    assert offset(r, started) == 7 * SECOND
    (failed,) = events_of(r, "ACTIVITY_TASK_FAILED")
    failed_state = failed.activity_task_failed_event_attributes.retry_state
    assert failed_state == RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED
    assert offset(r, failed) == 7 * SECOND
    assert r.elapsed_ns == 7 * SECOND
    assert r.result["details"]["_retry_state"] == "MaximumAttemptsReached"


def test_maximum_interval_caps_the_backoff(app: App) -> None:
    """Backoff 1 s × 3ⁿ capped at 2 s → attempts at 0, 1, 3, 5 s."""
    mock = Recorder(failures=10)
    call(app, "app.act:m", retry(maximum_attempts=4, initial_interval="1s", backoff_coefficient=3,
                                 maximum_interval="2s"), setup=lambda w: w.mock("app.act:m", mock))
    assert [(info.now_ns - mock.calls[0][1].now_ns) // SECOND for _, info in mock.calls] == [0, 1, 3, 5]


def test_default_policy_retries_until_success(app: App) -> None:
    """No retry policy → server default (1 s, ×2, unlimited); success on the third attempt."""
    mock = Recorder(failures=2, value={"ok": 1})
    r = call(app, "app.act:m", None, setup=lambda w: w.mock("app.act:m", mock))
    assert r.result == {"ok": True, "value": {"ok": 1}}
    assert mock.offsets(r.start_ns) == [0, 1, 3]
    (started,) = events_of(r, "ACTIVITY_TASK_STARTED")
    assert started.activity_task_started_event_attributes.attempt == 3
    assert offset(r, started) == 3 * SECOND
    assert len(events_of(r, "ACTIVITY_TASK_COMPLETED")) == 1


def test_non_retryable_error_types_stop_retries(app: App) -> None:
    """A kind listed in non_retryable_error_types is not retried."""
    r = call(app, "app.act:flaky", retry(non_retryable_error_types=["Unavailable"]))
    (failed,) = events_of(r, "ACTIVITY_TASK_FAILED")
    failed_state = failed.activity_task_failed_event_attributes.retry_state
    assert failed_state == RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE
    assert r.elapsed_ns == 0
    assert r.result["details"]["_retry_state"] == "NonRetryableFailure"


def test_non_retryable_error_stops_at_once(app: App) -> None:
    """An error with retryable=false is never retried, whatever the policy."""
    mock = Recorder(failures=10, error=ActivityError("nope", kind="PermissionDenied", retryable=False))
    r = call(app, "app.act:m", None, setup=lambda w: w.mock("app.act:m", mock))
    assert len(mock.calls) == 1
    assert r.result["kind"] == "PermissionDenied" and r.result["retryable"] is False


def test_world_attempt_cap_stops_endless_retries(app: App) -> None:
    """An always-failing activity under the default policy would retry forever; the world stops
    with a SimulationError that says what to change."""
    with pytest.raises(SimulationError) as caught:
        call(app, "app.act:flaky", None, attempt_cap=5)
    message = str(caught.value)
    assert "app.act:flaky" in message and "failed 5 times" in message
    assert "Unavailable: service down" in message
    assert "maximum_attempts" in message


def test_missing_activity_with_default_policy_hits_the_cap(app: App) -> None:
    """A missing activity is NotFound but retryable, so the default policy never ends."""
    with pytest.raises(SimulationError, match=r"NotFound: activity 'app.act:missing' is not registered"):
        call(app, "app.act:missing", None, attempt_cap=3)


def test_missing_activity_is_a_retryable_not_found(app: App) -> None:
    """With maximum_attempts = 1 Lua gets NotFound, retryable, naming the known activities."""
    r = call(app, "app.act:missing", retry(maximum_attempts=1))
    result = r.result
    assert (result["ok"], result["kind"], result["retryable"]) == (False, "NotFound", True)
    assert "app.act:missing" in result["message"]
    assert "app.act:echo, app.act:flaky" in result["message"]


# -- timeouts ----------------------------------------------------------------------------------------


def test_start_to_close_timeout_is_retried_then_timed_out(app: App) -> None:
    """A 20 s attempt under a 5 s start-to-close times out at 5 s, is retried at 6 s, times out
    again at 11 s; Lua gets Timeout, non-retryable, timeout_type start_to_close."""
    r = call(app, "app.act:m", {"activity.start_to_close_timeout": "5s", **retry(maximum_attempts=2)},
             setup=lambda w: w.mock("app.act:m", "late", duration_ns=20 * SECOND))
    (started,) = events_of(r, "ACTIVITY_TASK_STARTED")
    assert started.activity_task_started_event_attributes.attempt == 2
    assert offset(r, started) == 6 * SECOND
    (timed_out,) = events_of(r, "ACTIVITY_TASK_TIMED_OUT")
    attributes = timed_out.activity_task_timed_out_event_attributes
    assert attributes.failure.timeout_failure_info.timeout_type == TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE
    assert attributes.retry_state == RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED
    assert offset(r, timed_out) == 11 * SECOND
    result = r.result
    assert (result["kind"], result["retryable"]) == ("Timeout", False)
    assert result["details"]["timeout_type"] == "start_to_close"
    assert result["details"]["_wrapper"] == "activity"


def test_schedule_to_close_timeout_ends_the_activity(app: App) -> None:
    """Schedule-to-close bounds the whole activity: timed out at 5 s, retry state Timeout."""
    r = call(app, "app.act:m", {"activity.schedule_to_close_timeout": "5s"},
             setup=lambda w: w.mock("app.act:m", "late", duration_ns=20 * SECOND))
    (timed_out,) = events_of(r, "ACTIVITY_TASK_TIMED_OUT")
    attributes = timed_out.activity_task_timed_out_event_attributes
    assert attributes.failure.timeout_failure_info.timeout_type == TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE
    assert attributes.retry_state == RetryState.RETRY_STATE_TIMEOUT
    assert offset(r, timed_out) == 5 * SECOND
    assert r.result["details"]["timeout_type"] == "schedule_to_close"
    assert r.result["details"]["_retry_state"] == "Timeout"


def test_schedule_to_close_bounds_retries(app: App) -> None:
    """A retry that would start after the schedule-to-close deadline is not made: attempts at
    0, 1, 3 s under 4 s, then Failed with retry state Timeout."""
    mock = Recorder(failures=10)
    r = call(app, "app.act:m", {"activity.schedule_to_close_timeout": "4s"},
             setup=lambda w: w.mock("app.act:m", mock))
    assert mock.offsets(r.start_ns) == [0, 1, 3]
    (failed,) = events_of(r, "ACTIVITY_TASK_FAILED")
    assert failed.activity_task_failed_event_attributes.retry_state == RetryState.RETRY_STATE_TIMEOUT
    assert r.elapsed_ns == 3 * SECOND


# -- activity failures as Lua sees them ----------------------------------------------------


def test_lua_activity_error_reaches_the_workflow(app: App) -> None:
    """A Lua activity's `nil, err` keeps kind, message, retryability (unset) and details, plus
    the activity wrapper details."""
    result = call(app, "app.act:flaky", retry(maximum_attempts=1)).result
    assert result == {
        "ok": False, "kind": "Unavailable", "message": "service down",
        "details": {"code": 503, "_wrapper": "activity", "_activity_id": "5",
                    "_retry_state": "MaximumAttemptsReached"},
    }


def test_mock_activity_error_with_explicit_activity_id(app: App) -> None:
    """`activity.id` replaces the generated id, in history and in `_activity_id`."""
    error = ActivityError("taken", kind="Conflict", retryable=False, details={"who": "bob"})
    r = call(app, "app.act:m", {"activity.id": "custom"}, setup=lambda w: w.mock("app.act:m", error=error))
    (scheduled,) = events_of(r, "ACTIVITY_TASK_SCHEDULED")
    assert scheduled.activity_task_scheduled_event_attributes.activity_id == "custom"
    assert r.result == {
        "ok": False, "kind": "Conflict", "message": "taken", "retryable": False,
        "details": {"who": "bob", "_wrapper": "activity", "_activity_id": "custom",
                    "_retry_state": "NonRetryableFailure"},
    }


def test_lua_activity_runs_for_real(app: App) -> None:
    """A function.lua entry serves the activity; every argument is one payload."""
    r = call(app, "app.act:echo", None, {"x": [1, 2], "s": "é"})
    assert r.result == {"ok": True, "value": {"x": [1, 2], "s": "é"}}
    (done,) = events_of(r, "ACTIVITY_TASK_COMPLETED")
    payloads = done.activity_task_completed_event_attributes.result.payloads
    assert [json.loads(p.data) for p in payloads] == [{"x": [1, 2], "s": "é"}]


def test_mock_bug_is_an_internal_activity_failure(app: App) -> None:
    """A Python exception in a mock fails the attempt as Internal, naming the exception."""
    r = call(app, "app.act:m", retry(maximum_attempts=1),
             setup=lambda w: w.mock("app.act:m", lambda args, info: 1 // 0))
    assert r.result["kind"] == "Internal"
    assert "ZeroDivisionError" in r.result["message"]


# -- mocks ----------------------------------------------------------------------------------------------


def test_value_mock(app: App) -> None:
    """A fixed-value mock is the activity's one result payload."""
    assert call(app, "app.act:m", None, setup=lambda w: w.mock("app.act:m", [1, "a"])).result == {
        "ok": True, "value": [1, "a"]}


def test_callable_mock_receives_args_and_attempt_info(app: App) -> None:
    """Mocks see the decoded arguments (one per payload), the attempt, the activity id and
    type, the virtual now, the workflow's context (the `wippy-context` header) and id."""
    mock = Recorder(failures=1)
    world = World(app)
    world.mock("app.act:m", mock)
    r = world.start("app.wf:probe_call", "app.act:m", None, 1, "two", {"k": True}, workflow_id="wf-9",
                    context={"tenant": "t1"})
    world.run_until_closed(r)
    assert r.result == {"ok": True, "value": "done"}
    (args, first), (_, second) = mock.calls
    assert args == [1, "two", {"k": True}]
    assert (first.attempt, first.activity_id, first.activity_type) == (1, "5", "app.act:m")
    assert first.workflow_id == "wf-9"
    assert dict(first.context) == {"tenant": "t1"}
    assert first.now_ns == r.start_ns
    assert (second.attempt, second.now_ns) == (2, r.start_ns + SECOND)


def test_async_activities_complete_in_duration_order(app: App) -> None:
    """The shorter activity resolves first whatever the start order; each closes at its duration."""

    def setup(world: World) -> None:
        world.mock("app.act:slow", lambda args, info: args[0] + "-slow", duration_ns=10 * SECOND)
        world.mock("app.act:fast", lambda args, info: args[0] + "-fast", duration_ns=SECOND)

    r = run(app, "app.wf:probe_race", "app.act:slow", "app.act:fast", setup=setup)
    assert r.result == ["b-fast", "a-slow"]
    assert [offset(r, e) for e in events_of(r, "ACTIVITY_TASK_COMPLETED")] == [SECOND, 10 * SECOND]
    assert [e.activity_task_completed_event_attributes.scheduled_event_id
            for e in events_of(r, "ACTIVITY_TASK_COMPLETED")] == [6, 5]
    assert r.elapsed_ns == 10 * SECOND
    flipped = run(app, "app.wf:probe_race", "app.act:fast", "app.act:slow", setup=setup)
    assert flipped.result == ["a-fast", "b-slow"]


# -- timers and the clock ------------------------------------------------------------------


def test_after_fires_at_its_time(app: App) -> None:
    """time.after → StartTimer now; the channel gets the fire time, which is the task's now."""
    r = run(app, "app.wf:probe_clock", "after")
    assert r.result == {"fired": 2000, "now": 2000}
    (started,) = events_of(r, "TIMER_STARTED")
    assert started.timer_started_event_attributes.start_to_fire_timeout.ToNanoseconds() == 2 * SECOND
    (fired,) = events_of(r, "TIMER_FIRED")
    assert offset(r, fired) == 2 * SECOND


def test_select_between_timers_takes_the_first_fire(app: App) -> None:
    """The 1.5 s timer wins; the 5 s loser is abandoned, never cancelled."""
    r = run(app, "app.wf:probe_clock", "select")
    assert r.result == {"winner": "fast", "at": 1500}
    assert [e.timer_started_event_attributes.timer_id for e in events_of(r, "TIMER_STARTED")] == ["5", "6"]
    assert [e.timer_fired_event_attributes.timer_id for e in events_of(r, "TIMER_FIRED")] == ["6"]
    assert "TIMER_CANCELED" not in kinds(r)
    assert r.elapsed_ns == 1500 * MS


def test_timer_stop_issues_no_cancel_and_ignores_the_fire(app: App) -> None:
    """Stop → true then false, closes the channel, writes no CancelTimer; the later
    TimerFired is recorded and ignored."""
    r = run(app, "app.wf:probe_clock", "stop")
    assert r.result == {"first": True, "second": False, "ok": False, "now": 3000}
    assert "TIMER_CANCELED" not in kinds(r)
    fired = events_of(r, "TIMER_FIRED")
    assert [(e.timer_fired_event_attributes.timer_id, offset(r, e)) for e in fired] == [
        ("5", SECOND), ("6", 3 * SECOND)]


def test_timer_reset_starts_a_new_timer(app: App) -> None:
    """Reset abandons the old Temporal timer and issues a new StartTimer."""
    r = run(app, "app.wf:probe_clock", "reset")
    assert r.result == {"active": True, "fired": 3000}
    started = [e.timer_started_event_attributes for e in events_of(r, "TIMER_STARTED")]
    assert [(s.timer_id, s.start_to_fire_timeout.ToNanoseconds()) for s in started] == [
        ("5", 10 * SECOND), ("6", 3 * SECOND)]
    assert [e.timer_fired_event_attributes.timer_id for e in events_of(r, "TIMER_FIRED")] == ["6"]


def test_ticker_rearms_first_in_its_task(app: App) -> None:
    """Each tick re-arms with a StartTimer that comes before the Lua step's commands."""
    r = run(app, "app.wf:probe_clock", "ticker")
    assert r.result == [10000, 20000]
    k = kinds(r)
    for fired in events_of(r, "TIMER_FIRED"):
        completed = fired.event_id + 3
        assert k[completed - 1] == "WORKFLOW_TASK_COMPLETED"
        assert k[completed:completed + 2] == ["TIMER_STARTED", "WORKFLOW_PROPERTIES_MODIFIED"]
    assert [offset(r, e) for e in events_of(r, "TIMER_STARTED")] == [0, 10 * SECOND, 20 * SECOND]


def test_sleep_zero_waits_for_the_next_task(app: App) -> None:
    """time.sleep(0) issues no command and resumes only at the next workflow task."""
    r = run(app, "app.wf:probe_clock", "sleep0_timer")
    assert r.result == {"woke": 5000}
    assert len(events_of(r, "TIMER_STARTED")) == 1


def test_sleep_zero_alone_stalls(app: App) -> None:
    """With nothing else pending, the run never gets another task and stays running."""
    r = run(app, "app.wf:probe_clock", "sleep0")
    assert r.status == "running"
    assert kinds(r) == ["WORKFLOW_EXECUTION_STARTED", "WORKFLOW_TASK_SCHEDULED", "WORKFLOW_TASK_STARTED",
                        "WORKFLOW_TASK_COMPLETED"]


def test_now_and_os_time_read_the_task_start(app: App) -> None:
    """time.now() and os.time() are the current workflow task's start time."""
    start = 1_900_000_000 * SECOND + 250 * MS
    r = run(app, "app.wf:probe_clock", "now", start_ns=start)
    task_started = events_of(r, "WORKFLOW_TASK_STARTED")[-1]
    expected = start + 1500 * MS
    assert task_started.event_time.ToNanoseconds() == expected
    assert r.result == {"now": expected, "os": expected // SECOND}


def test_info_clock_and_history_length(app: App) -> None:
    """history_length is the current WorkflowTaskStarted id; os.time() follows the clock."""
    world = World(app)
    r = world.run_until_closed(world.start("app.wf:info", context={"tenant": "acme"}))
    assert r.result == {"id": r.workflow_id, "type": "app.wf:info", "queue": "test-queue", "before": 3,
                        "after": 8, "tenant": "acme", "clock": r.start_ns // SECOND + 1}
    assert [e.event_id for e in events_of(r, "WORKFLOW_TASK_STARTED")] == [3, 8]


def test_workflow_info_fields(app: App) -> None:
    """workflow.info() names the execution as the server knows it."""
    world = World(app)
    r = world.run_until_closed(world.start("app.wf:probe_info", workflow_id="order-7"))
    info = r.result
    assert info["workflow_id"] == "order-7"
    assert info["run_id"] == r.run_id
    assert (info["workflow_type"], info["task_queue"], info["namespace"], info["attempt"]) == (
        "app.wf:probe_info", "test-queue", "default", 1)
    assert info["history_length"] == 3
    assert info["history_size"] > 0


# -- futures --------------------------------------------------------------------------------


def test_futures_results_completion_and_cancel(app: App) -> None:
    """Futures deliver results, report completion; cancel → RequestCancelActivityTask and a
    Canceled error at once."""
    r = run(app, "app.wf:futures")
    assert r.result == [1, 2, True, True, "Canceled"]
    (requested,) = events_of(r, "ACTIVITY_TASK_CANCEL_REQUESTED")
    third = events_of(r, "ACTIVITY_TASK_SCHEDULED")[2]
    assert requested.activity_task_cancel_requested_event_attributes.scheduled_event_id == third.event_id
    assert requested.event_id == third.event_id + 1


def test_cancel_of_a_running_activity(app: App) -> None:
    """Cancelling in a later task gives Canceled at once; the running attempt cannot hear the cancel
    (mocks do not heartbeat), so it closes when it ends, and the workflow ignores it."""
    r = run(app, "app.wf:probe_cancel", "1s", "20s",
            setup=lambda w: w.mock("app.act:slow", "late", duration_ns=10 * SECOND))
    assert r.result == {"before": False, "ok": True, "canceled": True, "kind": "Canceled"}
    (requested,) = events_of(r, "ACTIVITY_TASK_CANCEL_REQUESTED")
    assert offset(r, requested) == SECOND
    assert "ACTIVITY_TASK_CANCELED" not in kinds(r)
    (done,) = events_of(r, "ACTIVITY_TASK_COMPLETED")
    assert offset(r, done) == 10 * SECOND
    assert r.elapsed_ns == 21 * SECOND


def test_running_attempt_that_fails_after_a_cancel_is_not_retried(app: App) -> None:
    """A failing attempt that was asked to cancel closes as Failed with retry state CancelRequested
    and is not retried."""
    mock = Recorder(failures=100)
    r = run(app, "app.wf:probe_cancel", "1s", "20s",
            setup=lambda w: w.mock("app.act:slow", mock, duration_ns=2 * SECOND))
    assert len(mock.calls) == 1
    (failed,) = events_of(r, "ACTIVITY_TASK_FAILED")
    assert failed.activity_task_failed_event_attributes.retry_state == RetryState.RETRY_STATE_CANCEL_REQUESTED
    assert offset(r, failed) == 2 * SECOND
    assert r.result["kind"] == "Canceled"


def test_cancel_during_retry_backoff_stops_the_retries(app: App) -> None:
    """An activity waiting for its next attempt is cancelled at once (ActivityTaskCanceled
    without a Started event) and is not attempted again."""
    mock = Recorder(failures=100)
    r = run(app, "app.wf:probe_cancel", "1500ms", "20s", setup=lambda w: w.mock("app.act:slow", mock))
    assert mock.offsets(r.start_ns) == [0, 1]
    (canceled,) = events_of(r, "ACTIVITY_TASK_CANCELED")
    assert offset(r, canceled) == 1500 * MS
    assert canceled.activity_task_canceled_event_attributes.started_event_id == 0
    assert "ACTIVITY_TASK_STARTED" not in kinds(r)
    assert r.status == "completed"


# -- workflow module -----------------------------------------------------------------


def test_attrs_upsert_typed_search_attributes_and_memo(app: App) -> None:
    """Search → typed UpsertWorkflowSearchAttributes; memo → WorkflowPropertiesModified; a bad
    value → Invalid without any command."""
    r = run(app, "app.wf:probe_attrs")
    assert r.result == {"ok": True, "ok2": True, "kind": "Invalid"}
    assert kinds(r)[4:] == ["UPSERT_WORKFLOW_SEARCH_ATTRIBUTES", "WORKFLOW_PROPERTIES_MODIFIED",
                            "WORKFLOW_EXECUTION_COMPLETED"]
    fields = events_of(r, "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES")[0] \
        .upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
    typed = {name: (p.metadata["type"].decode(), p.data.decode()) for name, p in fields.items()}
    assert typed == {
        "Customer": ("Keyword", '"acme"'), "Count": ("Int", "5"), "Total": ("Int", "2"),
        "Score": ("Double", "1.5"), "Vip": ("Bool", "true"), "Tags": ("KeywordList", '["a","b"]'),
    }
    memo = events_of(r, "WORKFLOW_PROPERTIES_MODIFIED")[0].workflow_properties_modified_event_attributes
    assert {k: v.data for k, v in memo.upserted_memo.fields.items()} == {"note": b'"hi"', "n": b"2"}


def test_version_repeat_call_is_cached(app: App) -> None:
    """The second workflow.version for a change id records nothing more."""
    r = run(app, "app.wf:versioned")
    assert r.result == {"v": 3, "again": 3, "echoed": 3}
    assert len(events_of(r, "MARKER_RECORDED")) == 1
    assert len(events_of(r, "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES")) == 1


# -- limits ------------------------------------------------------------------------------------------------


def test_instruction_budget_fails_a_runaway_loop(app: App) -> None:
    """A loop that never yields fails the run with the budget
    message and the Lua position."""
    r = run(app, "app.wf:spin", instruction_budget=200_000)
    assert r.status == "failed" and r.failure is not None
    assert "instruction budget" in r.failure.message
    assert "spin.lua:4:" in r.failure.message


def test_memory_limit_fails_the_run(app: App) -> None:
    """Outgrowing the Lua state's memory cap fails the run."""
    r = run(app, "app.wf:probe_memory", memory_limit=8 * 1024 * 1024)
    assert r.status == "failed" and r.failure is not None
    assert "memory limit exceeded" in r.failure.message
    assert r.failure.application_failure_info.type == "Internal"
