"""Plain Lua processes driving workflows from outside."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType

from wftest import load_app
from wftest.sim import SimulationError, World

APP = load_app(Path(__file__).resolve().parents[2] / "fixtures" / "processes")


def run(name: str):  # type: ignore[no-untyped-def]
    world = World(APP)
    process = world.run_process(f"app:{name}")
    world.run_until_idle(limit_ns=24 * 3600 * 10**9)
    assert process.status == "finished", process.failure
    return world, process


def test_exec_runs_a_workflow_and_returns_its_result() -> None:
    """process.exec on a temporal.worker host starts the workflow and waits for its result."""
    world, process = run("exec_hello")
    assert process.result == {"greeting": "hello ada"}


def test_spawn_monitored_delivers_exit_with_the_result() -> None:
    """EXIT on process.events() with `from` = the workflow PID and result.value."""
    _, process = run("spawn_and_wait")
    assert process.result == {"same": True, "kind": "pid.exit", "greeting": "hello bob"}


def test_replies_from_a_workflow_reach_the_process_inbox() -> None:
    """The workflow's send to a local PID is a SideEffect marker `process.send` and a local delivery."""
    world, process = run("talk_to_counter")
    assert process.result == {"pid": "{app:client@app:worker|counter-1}", "replies": "ack,ok"}
    counter = world.get("counter-1")
    assert counter.result == {"final": 15}
    markers = [e.marker_recorded_event_attributes for e in counter.history.events
               if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED]
    assert len(markers) == 2 and all(m.marker_name == "SideEffect" for m in markers)
    signaled = [e for e in counter.history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED]
    assert b"0x00001" in signaled[0].workflow_execution_signaled_event_attributes.header.fields[
        "wippy-context"].data


def test_startup_messages_and_use_existing() -> None:
    """Startup messages arrive first; a second start with the same name reuses the execution,
    ignores its input and still delivers its messages."""
    _, process = run("startup_messages")
    assert process.result == {"same": True, "final": 9}


def test_conflict_policy_fail_and_bad_host() -> None:
    """An explicit id with id_conflict_policy=fail reports AlreadyExists; the host must be a
    temporal.worker entry."""
    _, process = run("conflicts")
    assert process.result == {"first": True, "second_kind": "AlreadyExists", "bad_host": "Invalid"}


def test_terminate_link_with_trap_links_and_monitor_exit_error() -> None:
    """Seed page: link after start + trap_links → LINK_DOWN on terminate; a monitored terminated workflow
    gives EXIT with a Canceled error."""
    _, process = run("terminate_and_link")
    assert process.result == {"linked": True, "kind": "pid.link.down", "exit_kind": "pid.exit",
                              "exit_error": "Canceled"}


def test_generated_workflow_ids_follow_wippys_form() -> None:
    """Without an id or name, `<worker uuid>_0x<5+ hex digits>`."""
    world, _ = run("spawn_and_wait")
    ids = [r.workflow_id for r in world.runs]
    assert len(ids) == 1 and ids[0].endswith("_0x00001")


def test_run_process_rejects_non_function_entries() -> None:
    with pytest.raises(SimulationError, match="is not a function or process entry"):
        World(APP).run_process("app:hello")


def test_timers_in_a_process_run_on_the_virtual_clock() -> None:
    """Sleep, timer:reset (fires d after the reset), ticker; all on virtual time."""
    _, process = run("timers")
    assert process.result == {"was_active": True, "fired_after": 14.0, "ticks": 3, "total": 17.0}


def test_execution_timeout_and_id_reuse_policies() -> None:
    """An execution timeout times the run out (EXIT with a Timeout error); once closed, an id may be
    reused unless `reject_duplicate`, or `allow_duplicate_failed_only` after a successful run."""
    world, process = run("policies")
    assert process.result == {"first_err": True, "exit_error": "Timeout", "rejected": "AlreadyExists",
                              "again": True, "done": "hello x", "not_failed": True, "second": "AlreadyExists"}
    assert world.get("short").status == "completed"  # the rerun after the timed-out run


def test_context_reaches_the_workflow_and_its_activities() -> None:
    """`process.with_context` values reach ctx.get/ctx.all in the workflow and its activities."""
    _, process = run("with_context")
    assert process.result == {"tenant": "t-1", "activity_sees": "t-1", "keys": "u-9"}


def test_terminate_existing_replaces_the_running_execution() -> None:
    """id_conflict_policy terminate_existing terminates the running one (its monitor gets EXIT with
    an error) and starts the new one under the same workflow id."""
    world, process = run("replace_existing")
    assert process.result == {"same_pid": True, "first_exit": "Canceled"}
    assert world.get("only").result == {"greeting": "hello new"}


def test_start_options_delay_memo_search_queue_and_workflow_retries() -> None:
    """Start options (seed's options reference): start_delay holds the first workflow task, memo and search
    attributes and the task queue override are recorded at start, a retry policy reruns a failed run as a
    new run (attempt + 1, after its backoff); a bad cron_schedule is refused with a clear error."""
    world, process = run("start_options")
    assert process.result == {"attempt": 3, "elapsed": 90.0,
                              "cron": "minute field '61' is out of range 0-59"}
    last = world.get("flaky")
    chain = [last]
    while chain[-1].previous_run is not None:
        chain.append(chain[-1].previous_run)
    first, second, third = reversed(chain)
    assert [r.status for r in (first, second, third)] == ["failed", "failed", "completed"]
    started = first.history.events[0].workflow_execution_started_event_attributes
    assert started.first_workflow_task_backoff.ToSeconds() == 60
    assert started.task_queue.name == "other-queue"
    assert started.memo.fields["source"].data == b'"api"'
    assert started.search_attributes.indexed_fields["customer_id"].metadata["type"] == b"Keyword"
    failed = first.history.events[-1].workflow_execution_failed_event_attributes
    assert failed.new_execution_run_id == second.run_id
    retried = second.history.events[0].workflow_execution_started_event_attributes
    assert (retried.attempt, retried.first_workflow_task_backoff.ToSeconds()) == (2, 10)


def test_cron_schedule_runs_at_matching_minutes() -> None:
    """Start options: cron_schedule runs each run at the next matching minute (UTC, virtual clock); every
    run has its own history, and a closed run schedules the next."""
    world = World(APP)
    process = world.run_process("app:cron")
    world.run_until_idle(limit_ns=13 * 3600 * 10**9)
    assert process.status == "finished", process.failure
    assert process.result == {"pid": "{app:client@app:worker|every-6h}", "greeting": "hello cron"}
    runs = []
    run = world.get("every-6h")
    while run.previous_run is not None:
        run = run.previous_run
    while run is not None:
        runs.append(run)
        run = run.next_cron_run
    starts = [r.history.events[0].workflow_execution_started_event_attributes for r in runs]
    assert [s.cron_schedule for s in starts] == ["0 */6 * * *"] * len(runs)
    first_tasks = [next(e for e in r.history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED)
                   for r in runs[:2]]
    assert [e.event_time.ToJsonString() for e in first_tasks] == ["2026-01-01T06:00:00Z", "2026-01-01T12:00:00Z"]
    assert starts[0].first_workflow_task_backoff.ToSeconds() == 6 * 3600
    assert [r.status for r in runs[:2]] == ["completed", "completed"]
