"""How a workflow execution applies the history events of a workflow task: each event type wakes
what waits on it (a coroutine, a future, a channel, the messages and EXIT events delivered next)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from temporalio.api.enums.v1 import RetryState, TimeoutType
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent

from wftest.history import event_types as ev
from wftest.history.failures import (
    ErrorInfo,
    activity_failure,
    canceled_failure,
    child_failure,
    error_from_failure,
    terminated_failure,
    timeout_failure,
)
from wftest.lua.modules.time import new_time
from wftest.worker.workflow_state import ExecutionState, parse_pid


class WorkflowEvents(ExecutionState):
    """Event application: one method per event type, through `_EVENT_APPLIERS`."""

    def _apply_event(self, event: HistoryEvent) -> None:
        """Hand one history event to what waits on it: one method per event type (`_EVENT_APPLIERS`)."""
        apply = _EVENT_APPLIERS.get(event.event_type)
        if apply is not None:
            apply(self, event)

    def _on_activity_completed(self, event: HistoryEvent) -> None:
        a = event.activity_task_completed_event_attributes
        payloads = a.result.payloads
        value = self.sb.values.from_payload(payloads[0]) if payloads else None
        self._activity_done(a.scheduled_event_id, value, None)

    def _on_activity_failed(self, event: HistoryEvent) -> None:
        f = event.activity_task_failed_event_attributes
        self._activity_failed(f.scheduled_event_id, f.started_event_id, f.failure, f.retry_state)

    def _on_activity_timed_out(self, event: HistoryEvent) -> None:
        t = event.activity_task_timed_out_event_attributes
        self._activity_failed(t.scheduled_event_id, t.started_event_id, t.failure, t.retry_state)

    def _on_activity_canceled(self, event: HistoryEvent) -> None:
        c = event.activity_task_canceled_event_attributes
        err = self._lua_error(ErrorInfo("Canceled", "operation canceled", False, None, None, None))
        self._activity_done(c.scheduled_event_id, None, err)

    def _on_timer_fired(self, event: HistoryEvent) -> None:
        self._timer_fired(event.timer_fired_event_attributes.timer_id)

    def _on_signaled(self, event: HistoryEvent) -> None:
        sig = event.workflow_execution_signaled_event_attributes
        values = tuple(self.sb.values.from_payload(p) for p in sig.input.payloads)
        self._pushes.append(("message", 0, (sig.signal_name, _sender(sig.header), values)))

    def _on_cancel_requested(self, event: HistoryEvent) -> None:
        at = datetime.fromtimestamp(event.event_time.seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._pushes.append(("event", 0, {"kind": "pid.cancel", "from": "{|topology}", "at": at}))

    def _on_child_started(self, event: HistoryEvent) -> None:
        """A spawned child's PID reaches the spawner now; an exec'd child's result waits for its close."""
        started = event.child_workflow_execution_started_event_attributes
        child = self._children.get(started.initiated_event_id)
        if child is None:
            return
        child.run_id = started.workflow_execution.run_id
        child.started_event_id = event.event_id
        if child.spawn and child.task is not None:
            self._completions.append((child.task, (child.pid.encode(), None)))
            child.task = None

    def _on_child_start_failed(self, event: HistoryEvent) -> None:
        start_failed = event.start_child_workflow_execution_failed_event_attributes
        child = self._children.pop(start_failed.initiated_event_id, None)
        if child is not None and child.task is not None:
            message = f"workflow execution already started: {child.workflow_id}"
            error = ErrorInfo("AlreadyExists", message, False)
            self._completions.append((child.task, (None, self._lua_error(error))))

    def _on_external_cancel_requested(self, event: HistoryEvent) -> None:
        done = event.external_workflow_execution_cancel_requested_event_attributes
        self._signal_done(done.initiated_event_id, None)

    def _on_external_cancel_failed(self, event: HistoryEvent) -> None:
        failed = event.request_cancel_external_workflow_execution_failed_event_attributes
        self._signal_done(failed.initiated_event_id, _UNKNOWN_EXTERNAL)

    def _on_external_signaled(self, event: HistoryEvent) -> None:
        done = event.external_workflow_execution_signaled_event_attributes
        self._signal_done(done.initiated_event_id, None)

    def _on_external_signal_failed(self, event: HistoryEvent) -> None:
        failed = event.signal_external_workflow_execution_failed_event_attributes
        self._signal_done(failed.initiated_event_id, _UNKNOWN_EXTERNAL)

    def _activity_failed(self, scheduled_id: int, started_id: int, failure: Any, retry_state: Any) -> None:
        """The Go SDK hands the workflow an ActivityError around the recorded failure."""
        activity = self._activities.get(scheduled_id)
        if activity is None:
            return
        wrapped = activity_failure(
            failure,
            scheduled_event_id=scheduled_id,
            started_event_id=started_id,
            identity="",
            activity_type=activity.activity_type,
            activity_id=activity.activity_id,
            retry_state=retry_state,
        )
        self._activity_done(scheduled_id, None, self._lua_error(error_from_failure(wrapped)))

    def _activity_done(self, scheduled_id: int, value: Any, err: Any) -> None:
        activity = self._activities.pop(scheduled_id, None)
        if activity is None or activity.cancelled:
            return
        if activity.task is not None:
            self._completions.append((activity.task, (value, err)))
        elif activity.future is not None:
            self._pushes.append(("future", activity.future, (value, err)))

    def _timer_fired(self, timer_id: str) -> None:
        timer = self._timers.get(timer_id)
        if timer is None:
            return
        if timer.kind != "ticker":
            del self._timers[timer_id]
        if not timer.alive:
            return
        if timer.kind == "sleep" and timer.task is not None:
            self._completions.append((timer.task, ()))
        elif timer.channel is not None:
            self._pushes.append(("channel", timer.channel, new_time(self.sb, self.now_ns)))
            if timer.kind == "ticker":
                # re-armed from the event callback, before this task's Lua step.
                del self._timers[timer_id]
                self._timer_by_handle[timer.handle] = self._start_timer(timer, timer.where)

    def _on_child_closed(self, event: HistoryEvent) -> None:
        """A child's close, as the result (exec) or an EXIT event (spawn)."""
        kind = event.event_type
        attrs = _child_close_attributes(kind, event)
        child = self._children.pop(attrs.initiated_event_id, None)
        if child is None:
            return
        value: Any = None
        err: Any = None
        if kind == ev.CHILD_WORKFLOW_EXECUTION_COMPLETED:
            payloads = attrs.result.payloads
            value = self.sb.values.from_payload(payloads[0]) if payloads else None
        else:
            if kind == ev.CHILD_WORKFLOW_EXECUTION_FAILED:
                cause: Failure = attrs.failure
            elif kind == ev.CHILD_WORKFLOW_EXECUTION_CANCELED:
                cause = canceled_failure()
            elif kind == ev.CHILD_WORKFLOW_EXECUTION_TERMINATED:
                cause = terminated_failure()
            else:
                cause = timeout_failure(TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE)
            wrapped = child_failure(
                cause,
                namespace=self.info.namespace,
                workflow_id=child.workflow_id,
                run_id=child.run_id,
                workflow_type=child.workflow_type,
                initiated_event_id=attrs.initiated_event_id,
                started_event_id=child.started_event_id,
                retry_state=getattr(attrs, "retry_state", RetryState.RETRY_STATE_UNSPECIFIED),
            )
            err = self._lua_error(error_from_failure(wrapped))
        if not child.spawn and child.task is not None:
            self._completions.append((child.task, (value, err)))
        elif child.spawn:
            result = {"value": value} if err is None else {"error": err}
            self._exits.append(
                {"kind": "pid.exit", "from": child.pid, "at": event.event_time.seconds, "result": result}
            )

    def _signal_done(self, initiated_id: int, error: ErrorInfo | None) -> None:
        task = self._signals.pop(initiated_id, None)
        if task is None:
            return
        if error is None:
            self._completions.append((task, (True, None)))
        else:
            self._completions.append((task, (None, self._lua_error(error))))


_CHILD_CLOSES = frozenset(
    {
        ev.CHILD_WORKFLOW_EXECUTION_COMPLETED,
        ev.CHILD_WORKFLOW_EXECUTION_FAILED,
        ev.CHILD_WORKFLOW_EXECUTION_CANCELED,
        ev.CHILD_WORKFLOW_EXECUTION_TERMINATED,
        ev.CHILD_WORKFLOW_EXECUTION_TIMED_OUT,
    }
)


# What a signal or cancel request gets back when its target workflow does not exist.
_UNKNOWN_EXTERNAL = ErrorInfo("Internal", "unknown external workflow execution", False, None, None, None)

#: The events a workflow's code waits on, each with the method that applies it; the rest need nothing.
_EVENT_APPLIERS: dict[int, Callable[[WorkflowEvents, HistoryEvent], None]] = {
    ev.ACTIVITY_TASK_COMPLETED: WorkflowEvents._on_activity_completed,
    ev.ACTIVITY_TASK_FAILED: WorkflowEvents._on_activity_failed,
    ev.ACTIVITY_TASK_TIMED_OUT: WorkflowEvents._on_activity_timed_out,
    ev.ACTIVITY_TASK_CANCELED: WorkflowEvents._on_activity_canceled,
    ev.TIMER_FIRED: WorkflowEvents._on_timer_fired,
    ev.WORKFLOW_EXECUTION_SIGNALED: WorkflowEvents._on_signaled,
    ev.WORKFLOW_EXECUTION_CANCEL_REQUESTED: WorkflowEvents._on_cancel_requested,
    ev.EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED: WorkflowEvents._on_external_cancel_requested,
    ev.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED: WorkflowEvents._on_external_cancel_failed,
    ev.EXTERNAL_WORKFLOW_EXECUTION_SIGNALED: WorkflowEvents._on_external_signaled,
    ev.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED: WorkflowEvents._on_external_signal_failed,
    ev.CHILD_WORKFLOW_EXECUTION_STARTED: WorkflowEvents._on_child_started,
    ev.START_CHILD_WORKFLOW_EXECUTION_FAILED: WorkflowEvents._on_child_start_failed,
    **{kind: WorkflowEvents._on_child_closed for kind in _CHILD_CLOSES},
}


def _child_close_attributes(kind: int, event: HistoryEvent) -> Any:
    attributes: dict[int, Any] = {
        ev.CHILD_WORKFLOW_EXECUTION_COMPLETED: event.child_workflow_execution_completed_event_attributes,
        ev.CHILD_WORKFLOW_EXECUTION_FAILED: event.child_workflow_execution_failed_event_attributes,
        ev.CHILD_WORKFLOW_EXECUTION_CANCELED: event.child_workflow_execution_canceled_event_attributes,
        ev.CHILD_WORKFLOW_EXECUTION_TERMINATED: event.child_workflow_execution_terminated_event_attributes,
        ev.CHILD_WORKFLOW_EXECUTION_TIMED_OUT: event.child_workflow_execution_timed_out_event_attributes,
    }
    return attributes[kind]


def _sender(header: Any) -> str:
    """The sender PID of a signal: `temporal.signal.from` in the `wippy-context` header."""
    payload = header.fields.get("wippy-context") if header is not None else None
    if payload is None:
        return ""
    try:
        values = json.loads(payload.data)
    except ValueError:
        return ""
    sender = values.get("temporal.signal.from") if isinstance(values, dict) else None
    return sender if isinstance(sender, str) and parse_pid(sender) is not None else ""
