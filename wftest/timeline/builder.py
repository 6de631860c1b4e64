"""Reads a history's events, in order, into a Timeline: each event group becomes an item on its lane and
the entries of the listing, checking that every event refers to what it should."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import (
    CancelExternalWorkflowExecutionFailedCause,
    SignalExternalWorkflowExecutionFailedCause,
    StartChildWorkflowExecutionFailedCause,
    TimeoutType,
    WorkflowTaskFailedCause,
)
from temporalio.api.history.v1 import History, HistoryEvent

from wftest.encoding.jsontext import encode_json_python
from wftest.history import event_types as ev
from wftest.lua.gotime import format_duration
from wftest.timeline.model import (
    INSTANT_KINDS,
    Entry,
    Field,
    Item,
    ItemKind,
    Lane,
    LaneKind,
    Status,
    Timeline,
    TimelineError,
)
from wftest.timeline.values import (
    SECOND,
    enum_text,
    failure_text,
    format_offset,
    json_object,
    payload_text,
    payloads_text,
    retry_state_fields,
    type_name,
)

SIDE_EFFECT_MARKER = "SideEffect"
VERSION_MARKER = "Version"


def build_timeline(history: History) -> Timeline:
    """The timeline of one run's history; raises TimelineError on a history that contradicts itself."""
    return _Builder(history).build()


def _nanoseconds(event: HistoryEvent) -> int:
    """The event time in Unix nanoseconds (protobuf's ToNanoseconds is slow on a hot path)."""
    return event.event_time.seconds * SECOND + event.event_time.nanos


def _attributes(event: HistoryEvent) -> Any:
    which = event.WhichOneof("attributes")
    return getattr(event, which) if which else None


def _name_and_input(name: str, payloads: Sequence[Payload]) -> list[Field]:
    """A bare name (a workflow or activity type, a signal), and the input when there is one."""
    fields: list[Field] = [("", name)]
    if payloads:
        fields.append(("input", payloads_text(payloads)))
    return fields


class _Redactor:
    """Replaces every run id the history names with a token: `<run>` for this run, role names for the
    first, previous, parent and next runs, `<run-2>`, `<run-3>`, ... for others in order of appearance."""

    def __init__(self, events: Sequence[HistoryEvent]) -> None:
        first = events[0].workflow_execution_started_event_attributes
        tokens: dict[str, str] = {}
        for run_id, token in (
            (first.original_execution_run_id, "<run>"),
            (first.first_execution_run_id, "<first-run>"),
            (first.continued_execution_run_id, "<previous-run>"),
            (first.parent_workflow_execution.run_id, "<parent-run>"),
        ):
            if run_id:
                tokens.setdefault(run_id, token)
        others = 1
        for event in events:
            if event.event_type in _WORKFLOW_CLOSE:
                next_run = getattr(_attributes(event), "new_execution_run_id", "")
                if next_run:
                    tokens.setdefault(next_run, "<next-run>")
            elif event.event_type in _OTHER_RUN_EVENTS:
                attributes = _attributes(event)
                run_id = (
                    attributes.external_workflow_execution.run_id
                    if event.event_type == ev.WORKFLOW_EXECUTION_CANCEL_REQUESTED
                    else attributes.workflow_execution.run_id
                )
                if run_id and run_id not in tokens:
                    others += 1
                    tokens[run_id] = f"<run-{others}>"
        self._pairs = sorted(tokens.items(), key=lambda pair: (-len(pair[0]), pair[0]))

    def __call__(self, text: str) -> str:
        for run_id, token in self._pairs:
            if run_id in text:
                text = text.replace(run_id, token)
        return text


# -- the builder ---------------------------------------------------------------------------------------------


@dataclass
class _Item:
    kind: ItemKind
    label: str
    start_ns: int
    end_ns: int | None = None
    started_ns: int | None = None
    status: Status = "open"
    attempt: int = 0
    fields: list[Field] = field(default_factory=list)
    event_ids: list[int] = field(default_factory=list)

    def freeze(self, clean: Callable[[str], str]) -> Item:
        return Item(
            self.kind,
            clean(self.label),
            self.start_ns,
            self.end_ns,
            self.started_ns,
            self.status,
            self.attempt,
            tuple((name, clean(value)) for name, value in self.fields),
            tuple(self.event_ids),
        )


@dataclass
class _Lane:
    label: str
    kind: LaneKind
    items: list[_Item] = field(default_factory=list)


@dataclass
class _Entry:
    offset_ns: int
    lane: str
    event: str
    fields: list[Field]
    status: Status
    event_ids: list[int]

    def freeze(self, clean: Callable[[str], str]) -> Entry:
        return Entry(
            self.offset_ns,
            clean(self.lane),
            self.event,
            tuple((name, clean(value)) for name, value in self.fields),
            self.status,
            tuple(self.event_ids),
        )


@dataclass
class _Open:
    """An item waiting for its closing event, with its lane, its opening entry and its name."""

    item: _Item
    lane: _Lane
    entry: _Entry
    name: str


_WORKFLOW_CLOSE: dict[int, tuple[str, Status]] = {
    ev.WORKFLOW_EXECUTION_COMPLETED: ("completed", "ok"),
    ev.WORKFLOW_EXECUTION_FAILED: ("failed", "failed"),
    ev.WORKFLOW_EXECUTION_TIMED_OUT: ("timed out", "timed_out"),
    ev.WORKFLOW_EXECUTION_CANCELED: ("canceled", "canceled"),
    ev.WORKFLOW_EXECUTION_TERMINATED: ("terminated", "terminated"),
    ev.WORKFLOW_EXECUTION_CONTINUED_AS_NEW: ("continued", "ok"),
}
_ACTIVITY_CLOSE: dict[int, tuple[str, Status]] = {
    ev.ACTIVITY_TASK_COMPLETED: ("completed", "ok"),
    ev.ACTIVITY_TASK_FAILED: ("failed", "failed"),
    ev.ACTIVITY_TASK_TIMED_OUT: ("timed out", "timed_out"),
    ev.ACTIVITY_TASK_CANCELED: ("canceled", "canceled"),
}
_CHILD_CLOSE: dict[int, tuple[str, Status]] = {
    ev.CHILD_WORKFLOW_EXECUTION_COMPLETED: ("completed", "ok"),
    ev.CHILD_WORKFLOW_EXECUTION_FAILED: ("failed", "failed"),
    ev.CHILD_WORKFLOW_EXECUTION_TIMED_OUT: ("timed out", "timed_out"),
    ev.CHILD_WORKFLOW_EXECUTION_CANCELED: ("canceled", "canceled"),
    ev.CHILD_WORKFLOW_EXECUTION_TERMINATED: ("terminated", "terminated"),
}
_WHAT: dict[ItemKind, str] = {
    "task": "workflow task",
    "activity": "activity",
    "timer": "timer",
    "child": "child workflow",
    "external": "signal or cancel request to another workflow",
    "update": "update",
}
_OTHER_RUN_EVENTS = frozenset(
    {
        *_CHILD_CLOSE,
        ev.CHILD_WORKFLOW_EXECUTION_STARTED,
        ev.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
        ev.EXTERNAL_WORKFLOW_EXECUTION_SIGNALED,
        ev.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
        ev.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
        ev.EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
        ev.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
        ev.WORKFLOW_EXECUTION_CANCEL_REQUESTED,
    }
)
"""Events that name another execution's run."""
_SIGNAL_FAILED_PREFIX = "SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_"
_CANCEL_FAILED_PREFIX = "CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_"


class _Builder:
    def __init__(self, history: History) -> None:
        self._events = history.events
        if not self._events:
            raise TimelineError(None, "the history has no events")
        first = self._events[0]
        if first.event_type != ev.WORKFLOW_EXECUTION_STARTED:
            raise TimelineError(
                first.event_id, f"a history starts with WorkflowExecutionStarted, not {type_name(first)}"
            )
        for position, event in enumerate(self._events, 1):
            if event.event_id != position:
                raise TimelineError(
                    event.event_id, f"expected event id {position} here: ids run 1, 2, 3, ..."
                )
        origin = _nanoseconds(first)
        self._offsets = [_nanoseconds(event) - origin for event in self._events]
        self._lanes: dict[tuple[str, int], _Lane] = {}
        self._entries: list[_Entry] = []
        self._open: dict[int, _Open] = {}
        """Open items by the id of the event that opened them (scheduled, initiated, accepted, ...)."""
        self._closed_attempts = {
            _attributes(e).started_event_id for e in self._events if e.event_type in _ACTIVITY_CLOSE
        }
        self._tasks = 0
        self._status: Status = "open"
        self._handlers: dict[int, Callable[[HistoryEvent], None]] = {
            ev.WORKFLOW_EXECUTION_STARTED: self._workflow_started,
            ev.WORKFLOW_TASK_SCHEDULED: self._task_scheduled,
            ev.WORKFLOW_TASK_STARTED: self._task_progress,
            ev.WORKFLOW_TASK_COMPLETED: self._task_progress,
            ev.WORKFLOW_TASK_FAILED: self._task_progress,
            ev.WORKFLOW_TASK_TIMED_OUT: self._task_progress,
            ev.ACTIVITY_TASK_SCHEDULED: self._activity_scheduled,
            ev.ACTIVITY_TASK_STARTED: self._activity_started,
            ev.ACTIVITY_TASK_CANCEL_REQUESTED: self._activity_cancel_requested,
            ev.TIMER_STARTED: self._timer_started,
            ev.TIMER_FIRED: self._timer_closed,
            ev.TIMER_CANCELED: self._timer_closed,
            ev.MARKER_RECORDED: self._marker,
            ev.WORKFLOW_EXECUTION_SIGNALED: self._signaled,
            ev.WORKFLOW_EXECUTION_CANCEL_REQUESTED: self._cancel_requested,
            ev.UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: self._search_attributes,
            ev.WORKFLOW_PROPERTIES_MODIFIED: self._memo,
            ev.START_CHILD_WORKFLOW_EXECUTION_INITIATED: self._child_initiated,
            ev.START_CHILD_WORKFLOW_EXECUTION_FAILED: self._child_start_failed,
            ev.CHILD_WORKFLOW_EXECUTION_STARTED: self._child_started,
            ev.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED: self._external_signal,
            ev.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED: self._external_cancel,
            ev.EXTERNAL_WORKFLOW_EXECUTION_SIGNALED: self._external_done,
            ev.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED: self._external_done,
            ev.EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED: self._external_done,
            ev.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED: self._external_done,
            ev.WORKFLOW_EXECUTION_UPDATE_ACCEPTED: self._update_accepted,
            ev.WORKFLOW_EXECUTION_UPDATE_COMPLETED: self._update_completed,
        }
        for closes, handler in (
            (_WORKFLOW_CLOSE, self._workflow_closed),
            (_ACTIVITY_CLOSE, self._activity_closed),
            (_CHILD_CLOSE, self._child_closed),
        ):
            for event_type in closes:
                self._handlers[event_type] = handler

    def build(self) -> Timeline:
        for event in self._events:
            self._handlers.get(event.event_type, self._other)(event)
        for opened in self._open.values():
            if opened.item.kind == "task":
                opened.entry.fields.append(("", "open"))
        clean = _Redactor(self._events)
        first = self._events[0].workflow_execution_started_event_attributes
        return Timeline(
            workflow_type=clean(first.workflow_type.name),
            status=self._status,
            end_ns=max(self._offsets),
            event_count=len(self._events),
            lanes=tuple(
                Lane(clean(lane.label), lane.kind, tuple(item.freeze(clean) for item in lane.items))
                for lane in self._lanes.values()
            ),
            entries=tuple(entry.freeze(clean) for entry in self._entries),
        )

    # -- helpers ---------------------------------------------------------------------------------------------

    def _offset(self, event: HistoryEvent) -> int:
        return self._offsets[event.event_id - 1]

    def _lane(self, label: str, kind: LaneKind, *, opened_by: int = 0) -> _Lane:
        """The lane called `label`; with `opened_by`, the lane of the item that event opens alone (two
        activities may share an activity id, two timers a timer id)."""
        key = (label, opened_by)
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = _Lane(label, kind)
        return lane

    def _entry(
        self, event: HistoryEvent, lane: _Lane, name: str, fields: Sequence[Field], status: Status
    ) -> _Entry:
        entry = _Entry(self._offset(event), lane.label, name, list(fields), status, [event.event_id])
        self._entries.append(entry)
        return entry

    def _item(
        self,
        event: HistoryEvent,
        lane: _Lane,
        kind: ItemKind,
        label: str,
        name: str,
        fields: Sequence[Field],
        status: Status = "ok",
        *,
        repeat: bool = True,
    ) -> _Item:
        """The item `event` puts on `lane`, and its listing entry (same fields). One of the INSTANT_KINDS
        ends where it starts, with `status`; any other stays open until a later event closes it, and with
        `repeat` the entries of its later events start with its label."""
        offset = self._offset(event)
        instant = kind in INSTANT_KINDS
        item = _Item(
            kind,
            label,
            offset,
            offset if instant else None,
            None,
            status if instant else "open",
            0,
            list(fields),
            [event.event_id],
        )
        lane.items.append(item)
        entry = self._entry(event, lane, name, fields, item.status)
        if not instant:
            self._open[event.event_id] = _Open(item, lane, entry, label if repeat else "")
        return item

    def _opened(self, event: HistoryEvent, reference: int, what: ItemKind, *, close: bool = True) -> _Open:
        """The open item `event` refers to (closing it unless `close` is false)."""
        opened = self._open.pop(reference, None) if close else self._open.get(reference)
        if opened is None or opened.item.kind != what:
            raise TimelineError(
                event.event_id,
                f"{type_name(event)} refers to event {reference}, which is not an open {_WHAT[what]}",
            )
        opened.item.event_ids.append(event.event_id)
        if close:
            opened.item.end_ns = self._offset(event)
        return opened

    def _close(
        self,
        event: HistoryEvent,
        opened: _Open,
        name: str,
        outcome: Sequence[Field],
        status: Status,
        *,
        lead: Sequence[Field] = (),
    ) -> None:
        """The closing entry of an item: its name, `lead` and the `outcome`, which the item gets too."""
        opened.item.status = status
        opened.item.fields.extend(outcome)
        head: list[Field] = [("", opened.name)] if opened.name else []
        self._entry(event, opened.lane, name, [*head, *lead, *outcome], status)

    # -- the workflow itself ---------------------------------------------------------------------------------

    def _workflow_started(self, event: HistoryEvent) -> None:
        if event.event_id != 1:
            raise TimelineError(event.event_id, "a second WorkflowExecutionStarted in one history")
        a = event.workflow_execution_started_event_attributes
        fields = _name_and_input(a.workflow_type.name, a.input.payloads)
        if a.HasField("parent_workflow_execution"):
            fields.append(("parent", a.parent_workflow_execution.workflow_id))
        if a.attempt > 1:
            fields.append(("attempt", str(a.attempt)))
        if a.cron_schedule:
            fields.append(("cron", encode_json_python(a.cron_schedule)))
        delay = a.first_workflow_task_backoff.ToNanoseconds()
        if delay:
            fields.append(("delay", format_duration(delay)))
        timeout = a.workflow_run_timeout.ToNanoseconds() or a.workflow_execution_timeout.ToNanoseconds()
        if timeout:
            fields.append(("timeout", format_duration(timeout)))
        self._item(event, self._lane("workflow", "workflow"), "start", "started", "started", fields)

    def _workflow_closed(self, event: HistoryEvent) -> None:
        name, status = _WORKFLOW_CLOSE[event.event_type]
        a = _attributes(event)
        fields: list[Field] = []
        if event.event_type == ev.WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            fields.extend(_name_and_input(a.workflow_type.name, a.input.payloads))
        elif event.event_type == ev.WORKFLOW_EXECUTION_COMPLETED and a.result.payloads:
            fields.append(("result", payloads_text(a.result.payloads)))
        elif event.event_type == ev.WORKFLOW_EXECUTION_FAILED:
            fields.append(("error", failure_text(a.failure)))
            fields.extend(retry_state_fields(a.retry_state))
        elif event.event_type == ev.WORKFLOW_EXECUTION_CANCELED and a.details.payloads:
            fields.append(("details", payloads_text(a.details.payloads)))
        elif event.event_type == ev.WORKFLOW_EXECUTION_TERMINATED and a.reason:
            fields.append(("reason", encode_json_python(a.reason)))
        elif event.event_type == ev.WORKFLOW_EXECUTION_TIMED_OUT:
            fields.extend(retry_state_fields(a.retry_state))
        self._status = status
        self._item(event, self._lane("workflow", "workflow"), "close", name, name, fields, status)

    def _task_scheduled(self, event: HistoryEvent) -> None:
        self._tasks += 1
        fields: list[Field] = [("", f"#{self._tasks}")]
        attempt = event.workflow_task_scheduled_event_attributes.attempt
        if attempt > 1:
            fields.append(("attempt", str(attempt)))
        lane = self._lane("workflow", "workflow")
        item = self._item(event, lane, "task", f"task #{self._tasks}", "task", fields)
        item.attempt = attempt

    def _task_progress(self, event: HistoryEvent) -> None:
        """WorkflowTaskStarted/Completed/Failed/TimedOut join the group of their WorkflowTaskScheduled."""
        a = _attributes(event)
        started = event.event_type == ev.WORKFLOW_TASK_STARTED
        opened = self._opened(event, a.scheduled_event_id, "task", close=not started)
        opened.entry.event_ids.append(event.event_id)
        if started:
            opened.item.started_ns = self._offset(event)
            return
        status: Status = "ok"
        extra: list[Field] = []
        if event.event_type == ev.WORKFLOW_TASK_FAILED:
            status = "failed"
            cause = enum_text(WorkflowTaskFailedCause, a.cause, "WORKFLOW_TASK_FAILED_CAUSE_")
            extra = [("", "failed"), ("cause", cause)]
            if a.HasField("failure"):
                extra.append(("error", failure_text(a.failure)))
        elif event.event_type == ev.WORKFLOW_TASK_TIMED_OUT:
            status = "timed_out"
            extra = [("", "timed out"), ("timeout", enum_text(TimeoutType, a.timeout_type, "TIMEOUT_TYPE_"))]
        opened.item.status = opened.entry.status = status
        opened.item.fields.extend(extra)
        opened.entry.fields.extend(extra)

    def _signaled(self, event: HistoryEvent) -> None:
        a = event.workflow_execution_signaled_event_attributes
        fields: list[Field] = []
        if a.input.payloads:
            fields.append(("input", payloads_text(a.input.payloads)))
        context = a.header.fields.get("wippy-context")
        sender = json_object(context).get("temporal.signal.from") if context is not None else None
        if isinstance(sender, str):
            fields.append(("from", sender))
        lane = self._lane("signal " + a.signal_name, "signal")
        self._item(event, lane, "signal", a.signal_name, "received", fields)

    def _cancel_requested(self, event: HistoryEvent) -> None:
        a = event.workflow_execution_cancel_requested_event_attributes
        fields: list[Field] = []
        if a.cause:
            fields.append(("cause", encode_json_python(a.cause)))
        if a.HasField("external_workflow_execution"):
            fields.append(("by", a.external_workflow_execution.workflow_id))
        lane = self._lane("workflow", "workflow")
        self._item(event, lane, "event", "cancel", "cancel", fields, "canceled")

    def _search_attributes(self, event: HistoryEvent) -> None:
        indexed = event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
        fields = [(key, payload_text(indexed[key])) for key in sorted(indexed)]
        lane = self._lane("workflow", "workflow")
        self._item(event, lane, "event", "attributes", "attributes", fields)

    def _memo(self, event: HistoryEvent) -> None:
        memo = event.workflow_properties_modified_event_attributes.upserted_memo.fields
        fields = [(key, payload_text(memo[key])) for key in sorted(memo)]
        self._item(event, self._lane("workflow", "workflow"), "event", "memo", "memo", fields)

    def _other(self, event: HistoryEvent) -> None:
        """Event types Wippy does not produce (Nexus, workflow options, ...) still get a line."""
        words = "".join(" " + c.lower() if c.isupper() else c for c in type_name(event)).strip()
        self._item(event, self._lane("workflow", "workflow"), "event", words, words, [])

    # -- activities ------------------------------------------------------------------------------------------

    def _activity_scheduled(self, event: HistoryEvent) -> None:
        a = event.activity_task_scheduled_event_attributes
        fields = _name_and_input(a.activity_type.name, a.input.payloads)
        lane = self._lane(f"activity {a.activity_id}", "activity", opened_by=event.event_id)
        item = self._item(event, lane, "activity", a.activity_type.name, "scheduled", fields)
        for name, duration in (
            ("schedule_to_close", a.schedule_to_close_timeout),
            ("schedule_to_start", a.schedule_to_start_timeout),
            ("start_to_close", a.start_to_close_timeout),
            ("heartbeat", a.heartbeat_timeout),
        ):
            if duration.ToNanoseconds():
                item.fields.append((name, format_duration(duration.ToNanoseconds())))
        if a.retry_policy.maximum_attempts:
            item.fields.append(("maximum_attempts", str(a.retry_policy.maximum_attempts)))

    def _activity_started(self, event: HistoryEvent) -> None:
        a = event.activity_task_started_event_attributes
        opened = self._opened(event, a.scheduled_event_id, "activity", close=False)
        item = opened.item
        item.started_ns = self._offset(event)
        item.attempt = a.attempt
        fields = self._attempt_fields(item, a)
        item.fields.extend(fields)
        if event.event_id not in self._closed_attempts:
            shown = [field for field in fields if field[0] != "started"]  # the line's own offset
            self._entry(event, opened.lane, "started", [("", opened.name), *shown], "open")

    def _attempt_fields(self, item: _Item, started: Any) -> list[Field]:
        """The attempt number, when it started if neither at the schedule nor at the close, and the
        previous attempt's error."""
        fields: list[Field] = [("attempt", str(started.attempt))]
        started_ns = item.started_ns
        if started_ns is not None and started_ns not in (item.start_ns, item.end_ns):
            fields.append(("started", format_offset(started_ns)))
        if started.HasField("last_failure"):
            fields.append(("last_failure", failure_text(started.last_failure)))
        return fields

    def _started_attempt(self, event: HistoryEvent, started_id: int) -> Any:
        """The ActivityTaskStarted attributes a close event names."""
        started = self._events[started_id - 1] if 0 < started_id < event.event_id else None
        if started is None or started.event_type != ev.ACTIVITY_TASK_STARTED:
            raise TimelineError(
                event.event_id,
                f"{type_name(event)} names started event {started_id}, which is not an ActivityTaskStarted",
            )
        return started.activity_task_started_event_attributes

    def _activity_cancel_requested(self, event: HistoryEvent) -> None:
        a = event.activity_task_cancel_requested_event_attributes
        opened = self._opened(event, a.scheduled_event_id, "activity", close=False)
        self._entry(event, opened.lane, "cancel", [("", opened.name)], "canceled")

    def _activity_closed(self, event: HistoryEvent) -> None:
        name, status = _ACTIVITY_CLOSE[event.event_type]
        a = _attributes(event)
        opened = self._opened(event, a.scheduled_event_id, "activity")
        attempt: list[Field] = []
        if a.started_event_id:
            started = self._started_attempt(event, a.started_event_id)
            attempt = self._attempt_fields(opened.item, started)
        outcome: list[Field] = []
        if event.event_type == ev.ACTIVITY_TASK_COMPLETED and a.result.payloads:
            outcome.append(("result", payloads_text(a.result.payloads)))
        elif event.event_type == ev.ACTIVITY_TASK_CANCELED and a.details.payloads:
            outcome.append(("details", payloads_text(a.details.payloads)))
        elif event.event_type in (ev.ACTIVITY_TASK_FAILED, ev.ACTIVITY_TASK_TIMED_OUT):
            outcome.append(("error", failure_text(a.failure)))
            outcome.extend(retry_state_fields(a.retry_state))
        self._close(event, opened, name, outcome, status, lead=attempt)
        if a.started_event_id:
            self._entries[-1].event_ids.insert(0, a.started_event_id)

    # -- timers ----------------------------------------------------------------------------------------------

    def _timer_started(self, event: HistoryEvent) -> None:
        a = event.timer_started_event_attributes
        duration = format_duration(a.start_to_fire_timeout.ToNanoseconds())
        lane = self._lane(f"timer {a.timer_id}", "timer", opened_by=event.event_id)
        self._item(event, lane, "timer", duration, "started", [("", duration)], repeat=False)

    def _timer_closed(self, event: HistoryEvent) -> None:
        fired = event.event_type == ev.TIMER_FIRED
        opened = self._opened(event, _attributes(event).started_event_id, "timer")
        self._close(event, opened, "fired" if fired else "canceled", [], "ok" if fired else "canceled")

    # -- markers ---------------------------------------------------------------------------------------------

    def _marker(self, event: HistoryEvent) -> None:
        a = event.marker_recorded_event_attributes
        details = a.details
        if a.marker_name == SIDE_EFFECT_MARKER:
            summary = event.user_metadata.summary
            local = event.user_metadata.HasField("summary") and payload_text(summary) == '"process.send"'
            lane = self._lane("local send" if local else "side effect", "marker")
            fields: list[Field] = []
            if "side-effect-id" in details:
                fields.append(("id", payloads_text(details["side-effect-id"].payloads)))
            if not local and "data" in details:
                fields.append(("value", payloads_text(details["data"].payloads)))
        elif a.marker_name == VERSION_MARKER:
            lane = self._lane("version", "marker")
            fields = [
                (key.replace("-", "_"), payloads_text(details[key].payloads))
                for key in ("change-id", "version", "version-search-attribute-updated")
                if key in details
            ]
        else:
            lane = self._lane("marker " + a.marker_name, "marker")
            fields = [(key, payloads_text(details[key].payloads)) for key in sorted(details)]
        status: Status = "ok"
        if a.HasField("failure"):
            fields.append(("error", failure_text(a.failure)))
            status = "failed"
        self._item(event, lane, "marker", lane.label, "recorded", fields, status)

    # -- children --------------------------------------------------------------------------------------------

    def _child_initiated(self, event: HistoryEvent) -> None:
        a = event.start_child_workflow_execution_initiated_event_attributes
        fields = _name_and_input(a.workflow_type.name, a.input.payloads)
        lane = self._lane(f"child {a.workflow_id}", "child", opened_by=event.event_id)
        item = self._item(event, lane, "child", a.workflow_type.name, "initiated", fields)
        item.fields.extend([("workflow_id", a.workflow_id), ("task_queue", a.task_queue.name)])

    def _child_start_failed(self, event: HistoryEvent) -> None:
        a = event.start_child_workflow_execution_failed_event_attributes
        opened = self._opened(event, a.initiated_event_id, "child")
        prefix = "START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_"
        cause = ("cause", enum_text(StartChildWorkflowExecutionFailedCause, a.cause, prefix))
        self._close(event, opened, "not started", [cause], "failed")

    def _child_started(self, event: HistoryEvent) -> None:
        a = event.child_workflow_execution_started_event_attributes
        opened = self._opened(event, a.initiated_event_id, "child", close=False)
        opened.item.started_ns = self._offset(event)
        self._entry(event, opened.lane, "started", [("", opened.name)], "open")

    def _child_closed(self, event: HistoryEvent) -> None:
        name, status = _CHILD_CLOSE[event.event_type]
        a = _attributes(event)
        opened = self._opened(event, a.initiated_event_id, "child")
        fields: list[Field] = []
        if event.event_type == ev.CHILD_WORKFLOW_EXECUTION_COMPLETED and a.result.payloads:
            fields.append(("result", payloads_text(a.result.payloads)))
        elif event.event_type == ev.CHILD_WORKFLOW_EXECUTION_FAILED:
            fields.append(("error", failure_text(a.failure)))
        elif event.event_type == ev.CHILD_WORKFLOW_EXECUTION_CANCELED and a.details.payloads:
            fields.append(("details", payloads_text(a.details.payloads)))
        self._close(event, opened, name, fields, status)

    # -- signals and cancel requests to other workflows ------------------------------------------------------

    def _external_signal(self, event: HistoryEvent) -> None:
        a = event.signal_external_workflow_execution_initiated_event_attributes
        fields = _name_and_input(a.signal_name, a.input.payloads)
        lane = self._lane("send " + a.workflow_execution.workflow_id, "external")
        self._item(event, lane, "external", a.signal_name, "signal", fields)

    def _external_cancel(self, event: HistoryEvent) -> None:
        a = event.request_cancel_external_workflow_execution_initiated_event_attributes
        lane = self._lane("cancel " + a.workflow_execution.workflow_id, "external")
        self._item(event, lane, "external", "cancel", "requested", [], repeat=False)

    def _external_done(self, event: HistoryEvent) -> None:
        a = _attributes(event)
        opened = self._opened(event, a.initiated_event_id, "external")
        if event.event_type == ev.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED:
            cause = enum_text(SignalExternalWorkflowExecutionFailedCause, a.cause, _SIGNAL_FAILED_PREFIX)
        elif event.event_type == ev.REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED:
            cause = enum_text(CancelExternalWorkflowExecutionFailedCause, a.cause, _CANCEL_FAILED_PREFIX)
        else:
            self._close(event, opened, "delivered", [], "ok")
            return
        self._close(event, opened, "failed", [("cause", cause)], "failed")

    # -- updates ---------------------------------------------------------------------------------------------

    def _update_accepted(self, event: HistoryEvent) -> None:
        a = event.workflow_execution_update_accepted_event_attributes
        request = a.accepted_request
        fields: list[Field] = [("id", a.protocol_instance_id)]
        if request.input.args.payloads:
            fields.append(("input", payloads_text(request.input.args.payloads)))
        lane = self._lane("update " + request.input.name, "update")
        self._item(event, lane, "update", request.input.name, "accepted", fields, repeat=False)

    def _update_completed(self, event: HistoryEvent) -> None:
        a = event.workflow_execution_update_completed_event_attributes
        opened = self._opened(event, a.accepted_event_id, "update")
        status: Status = "ok"
        success = a.outcome.success.payloads
        outcome: Field = ("result", payloads_text(success) if success else "nil")
        if a.outcome.HasField("failure"):
            outcome, status = ("error", failure_text(a.outcome.failure)), "failed"
        self._close(event, opened, "completed", [outcome], status, lead=[("id", a.meta.update_id)])
