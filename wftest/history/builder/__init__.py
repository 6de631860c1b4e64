"""Append Temporal history events in the shape a Temporal server records for a Go SDK v1.42 worker.

The builder knows nothing about workflows: callers pass the virtual time of each event (Unix nanoseconds)
and the already-encoded payloads, and get back the new event id. Where the Go SDK derives an id from the
event id (activity id, timer id, child workflow id, signal/cancel `control`), leaving that argument out
applies the SDK's rule. Each event family lives in its own module; `HistoryBuilder` gathers their methods.
"""

from __future__ import annotations

from wftest.history.builder import activities, children, external, markers, tasks, timers, workflow
from wftest.history.builder.fields import ExecutionRef
from wftest.history.builder.log import EventLog

__all__ = ["ExecutionRef", "HistoryBuilder"]


class HistoryBuilder(EventLog):
    """Appends events with consecutive ids from 1; every method returns the id of the event it added.

    `task_id` equals the event id. Event times are not checked for order: the server writes
    ActivityTaskStarted when the attempt closes but stamps it with the attempt's start time, so it can be
    earlier than the events before it. `identity` is the worker (and client) identity used wherever an
    event records one and the caller does not pass another.
    """

    workflow_execution_started = workflow.workflow_execution_started
    workflow_execution_completed = workflow.workflow_execution_completed
    workflow_execution_failed = workflow.workflow_execution_failed
    workflow_execution_timed_out = workflow.workflow_execution_timed_out
    workflow_execution_canceled = workflow.workflow_execution_canceled
    workflow_execution_terminated = workflow.workflow_execution_terminated
    workflow_execution_continued_as_new = workflow.workflow_execution_continued_as_new
    workflow_execution_signaled = workflow.workflow_execution_signaled
    workflow_execution_cancel_requested = workflow.workflow_execution_cancel_requested
    workflow_execution_update_accepted = workflow.workflow_execution_update_accepted
    workflow_execution_update_completed = workflow.workflow_execution_update_completed

    workflow_task_scheduled = tasks.workflow_task_scheduled
    workflow_task_started = tasks.workflow_task_started
    workflow_task_completed = tasks.workflow_task_completed
    workflow_task_failed = tasks.workflow_task_failed
    workflow_task_timed_out = tasks.workflow_task_timed_out

    activity_task_scheduled = activities.activity_task_scheduled
    activity_task_started = activities.activity_task_started
    activity_task_completed = activities.activity_task_completed
    activity_task_failed = activities.activity_task_failed
    activity_task_timed_out = activities.activity_task_timed_out
    activity_task_cancel_requested = activities.activity_task_cancel_requested
    activity_task_canceled = activities.activity_task_canceled

    timer_started = timers.timer_started
    timer_fired = timers.timer_fired
    timer_canceled = timers.timer_canceled

    marker_recorded = markers.marker_recorded
    upsert_workflow_search_attributes = markers.upsert_workflow_search_attributes
    workflow_properties_modified = markers.workflow_properties_modified

    start_child_workflow_execution_initiated = children.start_child_workflow_execution_initiated
    start_child_workflow_execution_failed = children.start_child_workflow_execution_failed
    child_workflow_execution_started = children.child_workflow_execution_started
    child_workflow_execution_completed = children.child_workflow_execution_completed
    child_workflow_execution_failed = children.child_workflow_execution_failed
    child_workflow_execution_canceled = children.child_workflow_execution_canceled
    child_workflow_execution_terminated = children.child_workflow_execution_terminated
    child_workflow_execution_timed_out = children.child_workflow_execution_timed_out

    signal_external_workflow_execution_initiated = external.signal_external_workflow_execution_initiated
    external_workflow_execution_signaled = external.external_workflow_execution_signaled
    signal_external_workflow_execution_failed = external.signal_external_workflow_execution_failed
    request_cancel_external_workflow_execution_initiated = (
        external.request_cancel_external_workflow_execution_initiated
    )
    external_workflow_execution_cancel_requested = external.external_workflow_execution_cancel_requested
    request_cancel_external_workflow_execution_failed = (
        external.request_cancel_external_workflow_execution_failed
    )
