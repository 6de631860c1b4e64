"""Which history events answer which commands, and the two rule sets that match them: `go` (what the
Go SDK checks, so what production would reject) and `strict` (also inputs, durations, options, full
names and results: a rerun of unchanged code must be identical)."""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.api.history.v1 import HistoryEvent
from typing_extensions import assert_never

from wftest.history import event_types as ev
from wftest.worker import commands as cmd
from wftest.worker.handlers import CHANGE_VERSION_ATTRIBUTE, VERSION_MARKER

COMMAND_EVENTS = frozenset(
    {
        ev.ACTIVITY_TASK_SCHEDULED,
        ev.ACTIVITY_TASK_CANCEL_REQUESTED,
        ev.TIMER_STARTED,
        ev.TIMER_CANCELED,
        ev.MARKER_RECORDED,
        ev.UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
        ev.WORKFLOW_PROPERTIES_MODIFIED,
        ev.START_CHILD_WORKFLOW_EXECUTION_INITIATED,
        ev.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
        ev.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
        ev.WORKFLOW_EXECUTION_COMPLETED,
        ev.WORKFLOW_EXECUTION_FAILED,
        ev.WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
        ev.WORKFLOW_EXECUTION_CANCELED,
        ev.WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
        ev.WORKFLOW_EXECUTION_UPDATE_COMPLETED,
    }
)
_CLOSING = frozenset(
    {
        ev.WORKFLOW_EXECUTION_COMPLETED,
        ev.WORKFLOW_EXECUTION_FAILED,
        ev.WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
        ev.WORKFLOW_EXECUTION_CANCELED,
    }
)
# The command each command event answers, for reports and matching.
EVENT_COMMAND = {
    ev.ACTIVITY_TASK_SCHEDULED: "ScheduleActivityTask",
    ev.ACTIVITY_TASK_CANCEL_REQUESTED: "RequestCancelActivityTask",
    ev.TIMER_STARTED: "StartTimer",
    ev.TIMER_CANCELED: "CancelTimer",
    ev.MARKER_RECORDED: "RecordMarker",
    ev.UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: "UpsertWorkflowSearchAttributes",
    ev.WORKFLOW_PROPERTIES_MODIFIED: "ModifyWorkflowProperties",
    ev.START_CHILD_WORKFLOW_EXECUTION_INITIATED: "StartChildWorkflowExecution",
    ev.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED: "SignalExternalWorkflowExecution",
    ev.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED: ("RequestCancelExternalWorkflowExecution"),
    ev.WORKFLOW_EXECUTION_COMPLETED: "CompleteWorkflowExecution",
    ev.WORKFLOW_EXECUTION_FAILED: "FailWorkflowExecution",
    ev.WORKFLOW_EXECUTION_CONTINUED_AS_NEW: "ContinueAsNewWorkflowExecution",
    ev.WORKFLOW_EXECUTION_CANCELED: "CancelWorkflowExecution",
    ev.WORKFLOW_EXECUTION_UPDATE_ACCEPTED: "UpdateResponse",
    ev.WORKFLOW_EXECUTION_UPDATE_COMPLETED: "UpdateResponse",
}


def _short_type(name: str) -> str:
    """The Go SDK compares type names after their last `.` (`app.orders:charge` → `orders:charge`)."""
    return name.rsplit(".", 1)[-1]


def _is_version_marker(e: HistoryEvent) -> bool:
    return (
        e.event_type == ev.MARKER_RECORDED
        and e.marker_recorded_event_attributes.marker_name == VERSION_MARKER
    )


def _is_version_upsert(event: HistoryEvent) -> bool:
    return (
        event.event_type == ev.UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
        and CHANGE_VERSION_ATTRIBUTE
        in event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
    )


def go_filter_events(events: Sequence[HistoryEvent]) -> list[HistoryEvent]:
    """Version markers (with their TemporalChangeVersion upsert), closing events and update events
    are skipped before matching."""
    out: list[HistoryEvent] = []
    skip_upsert = False
    for e in events:
        if _is_version_marker(e):
            skip_upsert = True
            continue
        if skip_upsert and _is_version_upsert(e):
            skip_upsert = False
            continue
        skip_upsert = False
        if e.event_type in _CLOSING or EVENT_COMMAND.get(e.event_type) == "UpdateResponse":
            continue
        out.append(e)
    return out


def go_filter_commands(commands: Sequence[cmd.AnyCommand]) -> list[cmd.AnyCommand]:
    out: list[cmd.AnyCommand] = []
    skip_upsert = False
    for c in commands:
        if isinstance(c, cmd.RecordMarker) and c.marker_name == VERSION_MARKER:
            skip_upsert = True
            continue
        if (
            skip_upsert
            and isinstance(c, cmd.UpsertWorkflowSearchAttributes)
            and CHANGE_VERSION_ATTRIBUTE in c.attributes
        ):
            skip_upsert = False
            continue
        skip_upsert = False
        if isinstance(
            c,
            (
                cmd.CompleteWorkflowExecution,
                cmd.FailWorkflowExecution,
                cmd.ContinueAsNewWorkflowExecution,
                cmd.UpdateResponse,
            ),
        ):
            continue
        out.append(c)
    return out


def go_mismatch(event: HistoryEvent, c: cmd.AnyCommand) -> str | None:
    """What differs between a history event and a replayed command under the Go SDK's rules."""
    expected = EVENT_COMMAND.get(event.event_type)
    if expected != c.name:
        return f"command type {c.name} where the history has {expected}"
    match c:
        case cmd.ScheduleActivityTask():
            a = event.activity_task_scheduled_event_attributes
            if a.activity_id != c.activity_id:
                return f"activity id {c.activity_id!r}, history has {a.activity_id!r}"
            if _short_type(a.activity_type.name) != _short_type(c.activity_type):
                return f"activity type {c.activity_type!r}, history has {a.activity_type.name!r}"
        case cmd.StartTimer():
            recorded = event.timer_started_event_attributes.timer_id
            if recorded != c.timer_id:
                return f"timer id {c.timer_id!r}, history has {recorded!r}"
        case cmd.RecordMarker():
            recorded = event.marker_recorded_event_attributes.marker_name
            if recorded != c.marker_name:
                return f"marker {c.marker_name!r}, history has {recorded!r}"
        case cmd.StartChildWorkflowExecution():
            name = event.start_child_workflow_execution_initiated_event_attributes.workflow_type.name
            if _short_type(name) != _short_type(c.workflow_type):
                return f"child workflow type {c.workflow_type!r}, history has {name!r}"
        case cmd.SignalExternalWorkflowExecution():
            s = event.signal_external_workflow_execution_initiated_event_attributes
            if (s.namespace, s.signal_name, s.workflow_execution.workflow_id) != (
                c.namespace,
                c.signal_name,
                c.workflow_id,
            ):
                return (
                    f"signal {c.signal_name!r} to {c.workflow_id!r}, history has {s.signal_name!r} to "
                    f"{s.workflow_execution.workflow_id!r}"
                )
        case cmd.RequestCancelExternalWorkflowExecution():
            r = event.request_cancel_external_workflow_execution_initiated_event_attributes
            if (r.namespace, r.workflow_execution.workflow_id) != (c.namespace, c.workflow_id):
                return f"cancel of {c.workflow_id!r}, history has {r.workflow_execution.workflow_id!r}"
        case cmd.RequestCancelActivityTask():
            if (
                event.activity_task_cancel_requested_event_attributes.scheduled_event_id
                != c.scheduled_event_id
            ):
                return "cancel of another activity"
        case (
            cmd.UpsertWorkflowSearchAttributes()
            | cmd.ModifyWorkflowProperties()
            | cmd.ContinueAsNewWorkflowExecution()
            | cmd.UpdateResponse()
            | cmd.CompleteWorkflowExecution()
            | cmd.FailWorkflowExecution()
        ):
            pass  # the Go SDK matches these by their type alone
        case _:
            assert_never(c)
    return None


def strict_mismatch(event: HistoryEvent, c: cmd.AnyCommand) -> str | None:
    """Beyond the Go rules: ids, full names, inputs, durations, options, attributes and results."""
    found = go_mismatch(event, c)
    if found:
        return found
    match c:
        case cmd.ScheduleActivityTask():
            a = event.activity_task_scheduled_event_attributes
            if a.activity_type.name != c.activity_type:
                return f"activity type {c.activity_type!r}, history has {a.activity_type.name!r}"
            if [p.data for p in a.input.payloads] != [p.data for p in c.input]:
                return "activity input differs"
            if a.task_queue.name != c.options.task_queue:
                return f"task queue {c.options.task_queue!r}, history has {a.task_queue.name!r}"
            if a.start_to_close_timeout.ToNanoseconds() != c.options.start_to_close_ns:
                return "start-to-close timeout differs"
        case cmd.StartTimer():
            if event.timer_started_event_attributes.start_to_fire_timeout.ToNanoseconds() != c.duration_ns:
                return "timer duration differs"
        case cmd.RecordMarker():
            details = event.marker_recorded_event_attributes.details
            if {k: [p.data for p in v.payloads] for k, v in details.items()} != {
                k: [p.data] for k, p in c.details.items()
            }:
                return "marker details differ"
        case cmd.StartChildWorkflowExecution():
            ch = event.start_child_workflow_execution_initiated_event_attributes
            if (ch.workflow_type.name, ch.workflow_id) != (c.workflow_type, c.workflow_id):
                return (
                    f"child {c.workflow_type!r} id {c.workflow_id!r}, history has {ch.workflow_type.name!r} "
                    f"id {ch.workflow_id!r}"
                )
            if [p.data for p in ch.input.payloads] != [p.data for p in c.input]:
                return "child input differs"
        case cmd.UpsertWorkflowSearchAttributes():
            fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
            if {k: v.data for k, v in fields.items()} != {k: v.data for k, v in c.attributes.items()}:
                return "search attributes differ"
        case cmd.ModifyWorkflowProperties():
            memo = event.workflow_properties_modified_event_attributes.upserted_memo.fields
            if {k: v.data for k, v in memo.items()} != {k: v.data for k, v in c.memo.items()}:
                return "memo differs"
        case cmd.CompleteWorkflowExecution():
            recorded = [p.data for p in event.workflow_execution_completed_event_attributes.result.payloads]
            if recorded != ([c.result.data] if c.result is not None else []):
                return "workflow result differs"
        case cmd.FailWorkflowExecution():
            failure = event.workflow_execution_failed_event_attributes.failure
            if failure.message != c.failure.message:
                return "workflow failure differs"
            if failure.application_failure_info.type != c.failure.application_failure_info.type:
                return "workflow failure differs"
        case (
            cmd.SignalExternalWorkflowExecution()
            | cmd.RequestCancelExternalWorkflowExecution()
            | cmd.RequestCancelActivityTask()
            | cmd.ContinueAsNewWorkflowExecution()
            | cmd.UpdateResponse()
        ):
            pass  # the Go rules already compare all the history keeps of these
        case _:
            assert_never(c)
    return None


def split_tasks(types: Sequence[int]) -> list[tuple[int, int, int]]:
    """(started index, completed index, end of its command events) for every completed workflow task
    (given the event types of a history); a final task with no completion is (started, -1, -1)."""
    count = len(types)
    tasks: list[tuple[int, int, int]] = []
    for i, kind in enumerate(types):
        if kind != ev.WORKFLOW_TASK_STARTED:
            continue
        if i + 1 == count:
            tasks.append((i, -1, -1))
        elif types[i + 1] == ev.WORKFLOW_TASK_COMPLETED:
            end = i + 2
            while end < count and types[end] in COMMAND_EVENTS:
                end += 1
            tasks.append((i, i + 1, end))
    return tasks
