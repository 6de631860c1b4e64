"""Child workflows started from workflows."""

from __future__ import annotations

from pathlib import Path

from checkout import MINUTE
from temporalio.api.enums.v1 import EventType, ParentClosePolicy

from wftest import load_app
from wftest.sim import World

APP = load_app(Path(__file__).resolve().parents[2] / "fixtures" / "sim")


def names(run) -> list[str]:  # type: ignore[no-untyped-def]
    return [EventType.Name(e.event_type).removeprefix("EVENT_TYPE_") for e in run.history.events]


def test_version_then_exec_history_shape() -> None:
    """Version marker, TemporalChangeVersion upsert, StartChildWorkflowExecutionInitiated with
    workflow id `<runId>_7`, then ChildWorkflowExecutionStarted and Completed in later batches."""
    world = World(APP)
    run = world.start("app.wf:version_then_child")
    world.run_until_closed(run)
    assert run.result == 6
    assert names(run) == [
        "WORKFLOW_EXECUTION_STARTED",
        "WORKFLOW_TASK_SCHEDULED",
        "WORKFLOW_TASK_STARTED",
        "WORKFLOW_TASK_COMPLETED",
        "MARKER_RECORDED",
        "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES",
        "START_CHILD_WORKFLOW_EXECUTION_INITIATED",
        "CHILD_WORKFLOW_EXECUTION_STARTED",
        "WORKFLOW_TASK_SCHEDULED",
        "WORKFLOW_TASK_STARTED",
        "WORKFLOW_TASK_COMPLETED",
        "CHILD_WORKFLOW_EXECUTION_COMPLETED",
        "WORKFLOW_TASK_SCHEDULED",
        "WORKFLOW_TASK_STARTED",
        "WORKFLOW_TASK_COMPLETED",
        "WORKFLOW_EXECUTION_COMPLETED",
    ]
    initiated = run.history.events[6].start_child_workflow_execution_initiated_event_attributes
    assert initiated.workflow_id == f"{run.run_id}_7"
    assert initiated.workflow_type.name == "app.wf:child"
    assert initiated.task_queue.name == "test-queue"  # workflow.exec: the parent's task queue
    assert initiated.parent_close_policy == ParentClosePolicy.PARENT_CLOSE_POLICY_TERMINATE


def test_exec_results_and_child_failures_as_wippy_errors() -> None:
    """Results come back; failures keep kind/retryable with `_wrapper = "child_workflow"`;
    an unknown workflow type fails with NotFound."""
    world = World(APP)
    run = world.start("app.wf:parent_exec")
    world.run_until_closed(run)
    assert run.result == {
        "ok": 42,
        "kind": "NotFound",
        "retryable": False,
        "wrapper": "child_workflow",
        "message": "no such order",
        "missing": "NotFound",
    }


def test_spawn_returns_pid_after_start_and_exit_event_at_close() -> None:
    """The PID is `{client@host|child id}`; EXIT carries from, at and result.value."""
    world = World(APP)
    run = world.start("app.wf:parent_spawn", "abandon")
    world.run_until_closed(run)
    result = run.result
    assert result["kind"] == "pid.exit"
    assert result["from_matches"] is True
    assert result["value"] == 10
    assert result["pid"].startswith("{app:client@test-queue|") and result["pid"].endswith("_5}")
    assert result["pid2"] == "{app:client@test-queue|kid-2}"
    assert result["at"] == 1_767_225_600 + 60  # unix seconds of the child's close
    assert run.elapsed_ns == MINUTE


def test_parent_close_policies() -> None:
    """Terminate (default) ends running children when the parent closes; abandon leaves them."""
    world = World(APP)
    run = world.start("app.wf:parent_spawn", "abandon")
    world.run_until_closed(run)
    assert world.get("kid-2").status == "running"
    world.terminate("kid-2")

    world2 = World(APP)
    run2 = world2.start("app.wf:parent_spawn", "terminate")
    world2.run_until_closed(run2)
    kid = world2.get("kid-2")
    assert kid.status == "terminated"
    assert names(kid)[-1] == "WORKFLOW_EXECUTION_TERMINATED"


def test_continue_as_new_starts_a_new_run_of_the_same_workflow() -> None:
    """process.upgrade → ContinueAsNewWorkflowExecution (own entry id, same task queue, the upgrade
    arguments as input); the run closes and a new run of the same workflow id starts."""
    world = World(APP)
    run = world.start("app.wf:looper", {"batch": 2, "total": 5})
    world.run_until_closed(run)
    assert run.status == "continued_as_new"
    assert names(run)[-1] == "WORKFLOW_EXECUTION_CONTINUED_AS_NEW"
    attrs = run.history.events[-1].workflow_execution_continued_as_new_event_attributes
    assert attrs.workflow_type.name == "app.wf:looper"
    assert attrs.task_queue.name == "test-queue"
    assert attrs.new_execution_run_id == run.next_run.run_id  # type: ignore[union-attr]
    assert b'"n":2' in attrs.input.payloads[0].data
    last = run.latest
    assert last.status == "completed" and last.result == {"n": 6}
    assert last.workflow_id == run.workflow_id and last.run_id != run.run_id
    assert world.get(run.workflow_id) is last
    assert last.elapsed_ns == 2 * MINUTE
    assert names(last)[0] == "WORKFLOW_EXECUTION_STARTED"
