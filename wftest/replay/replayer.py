"""Replay: run a workflow entry's current code against a recorded history and match every command it
produces against the history's command events.

The history is cut at its workflow-task boundaries; each task's events drive the very same
`WorkflowExecution` the simulator uses. Side-effect values and versions come from the recorded markers.
Two rule sets: `go` (the Go SDK v1.42 matching: what production would reject) and `strict` (also inputs,
durations, options, full names, ids, attributes and the result: a rerun of unchanged code must be identical).
"""

from __future__ import annotations

import gc
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import History, HistoryEvent

from wftest.app import App, LuaEntry
from wftest.errors import UserError
from wftest.history import event_types as ev
from wftest.history.fastread import EventHistory, event_time_ns, history_bytes, read_history
from wftest.history.jsonio import HistoryFormatError
from wftest.lua.sandbox import DEFAULT_MEMORY_LIMIT
from wftest.lua.state import STATES
from wftest.lua.values import PayloadError
from wftest.worker import commands as cmd
from wftest.worker.execution import (
    CHANGE_VERSION_ATTRIBUTE,
    SIDE_EFFECT_MARKER,
    VERSION_MARKER,
    UpdateRequest,
    WorkflowExecution,
    WorkflowInfo,
    WorkflowTaskError,
    workflow_identity,
)

_COMMAND_EVENTS = frozenset(
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
_EVENT_COMMAND = {
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


class UnknownWorkflowType(UserError, ValueError):
    """The history's workflow type names no workflow entry of the app (and no `workflow=` was given)."""


class NondeterminismError(UserError):
    """The code no longer produces the commands the history recorded. `lua_location` is the Lua
    `file:line` the difference comes from ("" when no line of app code is involved); `expected` is what
    the history holds there, `actual` what the code did."""

    def __init__(
        self,
        report: str,
        *,
        event_id: int,
        workflow_task: int,
        lua_location: str = "",
        expected: str = "",
        actual: str = "",
        where: str = "",
    ) -> None:
        super().__init__(report)
        self.event_id = event_id
        self.workflow_task = workflow_task
        self.lua_location = lua_location or where
        self.expected = expected
        self.actual = actual
        self.at_close = False  # the difference is in the run's result or failure

    @property
    def where(self) -> str:
        """The Lua `file:line` (older name of `lua_location`)."""
        return self.lua_location

    def reworded(self, report: str) -> NondeterminismError:
        """The same difference with a report that says more about where it was found."""
        again = NondeterminismError(
            report,
            event_id=self.event_id,
            workflow_task=self.workflow_task,
            lua_location=self.lua_location,
            expected=self.expected,
            actual=self.actual,
        )
        again.at_close = self.at_close
        return again


# Where a replay's workflow id came from, as reports name it.
ID_SOURCES = {
    "history": "recorded in the history",
    "caller": "given by the caller",
    "file name": "the history file's name",
    "wrapper": "the wrapper object around the history",
    "unknown": "not known: neither the history nor the caller gives it",
}


@dataclass(frozen=True)
class ReplayResult:
    workflow_type: str
    workflow_tasks: int
    commands: int
    rules: str
    workflow_id: str = ""
    workflow_id_source: str = "history"


@dataclass
class _Recorded:
    """Side effects and versions as the history recorded them."""

    side_effects: dict[int, Payload] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def side_effect(self, side_effect_id: int, name: str, args: tuple[Any, ...]) -> Payload:
        payload = self.side_effects.get(side_effect_id)
        if payload is None:
            raise WorkflowTaskError(
                f"No cached result found for side effectID {side_effect_id} ({name}): the history "
                "has no SideEffect marker for it",
                expected="(no SideEffect marker)",
                actual=f"side effect {side_effect_id} ({name})",
            )
        return payload

    def version(self, change_id: str, min_version: int, max_version: int) -> tuple[int, bool]:
        if change_id in self.versions:
            return self.versions[change_id], True
        return -1, False  # DefaultVersion: the history predates the change


def _recorded(events: Sequence[HistoryEvent], types: Sequence[int]) -> _Recorded:
    out = _Recorded()
    for i, kind in enumerate(types):
        if kind != ev.MARKER_RECORDED:
            continue
        marker = events[i].marker_recorded_event_attributes
        details = marker.details
        if marker.marker_name == SIDE_EFFECT_MARKER and "side-effect-id" in details:
            sid = json.loads(details["side-effect-id"].payloads[0].data)
            out.side_effects[int(sid)] = details["data"].payloads[0]
        elif marker.marker_name == VERSION_MARKER and "change-id" in details:
            change = json.loads(details["change-id"].payloads[0].data)
            out.versions[str(change)] = int(json.loads(details["version"].payloads[0].data))
    return out


def _short_type(name: str) -> str:
    """The Go SDK compares type names after their last `.` (`app.orders:charge` → `orders:charge`)."""
    return name.rsplit(".", 1)[-1]


def _event_summary(event: HistoryEvent) -> str:
    kind = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
    detail = ""
    if event.event_type == ev.ACTIVITY_TASK_SCHEDULED:
        a = event.activity_task_scheduled_event_attributes
        detail = f"id={a.activity_id}, type={a.activity_type.name}"
    elif event.event_type == ev.TIMER_STARTED:
        t = event.timer_started_event_attributes
        detail = f"id={t.timer_id}, {t.start_to_fire_timeout.ToNanoseconds() / 1e9:g}s"
    elif event.event_type == ev.MARKER_RECORDED:
        detail = event.marker_recorded_event_attributes.marker_name
    elif event.event_type == ev.START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        c = event.start_child_workflow_execution_initiated_event_attributes
        detail = f"{c.workflow_type.name}, id={c.workflow_id}"
    elif event.event_type == ev.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
        s = event.signal_external_workflow_execution_initiated_event_attributes
        detail = f"{s.workflow_execution.workflow_id}, {s.signal_name}"
    return f"{kind}({detail})" if detail else kind


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


def _go_filter_events(events: Sequence[HistoryEvent]) -> list[HistoryEvent]:
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
        if e.event_type in _CLOSING or _EVENT_COMMAND.get(e.event_type) == "UpdateResponse":
            continue
        out.append(e)
    return out


def _go_filter_commands(commands: Sequence[cmd.AnyCommand]) -> list[cmd.AnyCommand]:
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


def _go_mismatch(event: HistoryEvent, c: cmd.Command) -> str | None:
    """What differs between a history event and a replayed command under the Go SDK's rules."""
    expected = _EVENT_COMMAND.get(event.event_type)
    if expected != c.name:
        return f"command type {c.name} where the history has {expected}"
    if isinstance(c, cmd.ScheduleActivityTask):
        a = event.activity_task_scheduled_event_attributes
        if a.activity_id != c.activity_id:
            return f"activity id {c.activity_id!r}, history has {a.activity_id!r}"
        if _short_type(a.activity_type.name) != _short_type(c.activity_type):
            return f"activity type {c.activity_type!r}, history has {a.activity_type.name!r}"
    elif isinstance(c, cmd.StartTimer):
        if event.timer_started_event_attributes.timer_id != c.timer_id:
            return f"timer id {c.timer_id!r}, history has {event.timer_started_event_attributes.timer_id!r}"
    elif isinstance(c, cmd.RecordMarker):
        recorded = event.marker_recorded_event_attributes.marker_name
        if recorded != c.marker_name:
            return f"marker {c.marker_name!r}, history has {recorded!r}"
    elif isinstance(c, cmd.StartChildWorkflowExecution):
        name = event.start_child_workflow_execution_initiated_event_attributes.workflow_type.name
        if _short_type(name) != _short_type(c.workflow_type):
            return f"child workflow type {c.workflow_type!r}, history has {name!r}"
    elif isinstance(c, cmd.SignalExternalWorkflowExecution):
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
    elif isinstance(c, cmd.RequestCancelExternalWorkflowExecution):
        r = event.request_cancel_external_workflow_execution_initiated_event_attributes
        if (r.namespace, r.workflow_execution.workflow_id) != (c.namespace, c.workflow_id):
            return f"cancel of {c.workflow_id!r}, history has {r.workflow_execution.workflow_id!r}"
    elif isinstance(c, cmd.RequestCancelActivityTask):
        if event.activity_task_cancel_requested_event_attributes.scheduled_event_id != c.scheduled_event_id:
            return "cancel of another activity"
    return None


def _strict_mismatch(event: HistoryEvent, c: cmd.Command) -> str | None:
    """Beyond the Go rules: ids, full names, inputs, durations, options, attributes and results."""
    found = _go_mismatch(event, c)
    if found:
        return found
    if isinstance(c, cmd.ScheduleActivityTask):
        a = event.activity_task_scheduled_event_attributes
        if a.activity_type.name != c.activity_type:
            return f"activity type {c.activity_type!r}, history has {a.activity_type.name!r}"
        if [p.data for p in a.input.payloads] != [p.data for p in c.input]:
            return "activity input differs"
        if a.task_queue.name != c.options.task_queue:
            return f"task queue {c.options.task_queue!r}, history has {a.task_queue.name!r}"
        if a.start_to_close_timeout.ToNanoseconds() != c.options.start_to_close_ns:
            return "start-to-close timeout differs"
    elif isinstance(c, cmd.StartTimer):
        if event.timer_started_event_attributes.start_to_fire_timeout.ToNanoseconds() != c.duration_ns:
            return "timer duration differs"
    elif isinstance(c, cmd.RecordMarker):
        details = event.marker_recorded_event_attributes.details
        if {k: [p.data for p in v.payloads] for k, v in details.items()} != {
            k: [p.data] for k, p in c.details.items()
        }:
            return "marker details differ"
    elif isinstance(c, cmd.StartChildWorkflowExecution):
        ch = event.start_child_workflow_execution_initiated_event_attributes
        if (ch.workflow_type.name, ch.workflow_id) != (c.workflow_type, c.workflow_id):
            return (
                f"child {c.workflow_type!r} id {c.workflow_id!r}, history has {ch.workflow_type.name!r} "
                f"id {ch.workflow_id!r}"
            )
        if [p.data for p in ch.input.payloads] != [p.data for p in c.input]:
            return "child input differs"
    elif isinstance(c, cmd.UpsertWorkflowSearchAttributes):
        fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
        if {k: v.data for k, v in fields.items()} != {k: v.data for k, v in c.attributes.items()}:
            return "search attributes differ"
    elif isinstance(c, cmd.ModifyWorkflowProperties):
        memo = event.workflow_properties_modified_event_attributes.upserted_memo.fields
        if {k: v.data for k, v in memo.items()} != {k: v.data for k, v in c.memo.items()}:
            return "memo differs"
    elif isinstance(c, cmd.CompleteWorkflowExecution):
        recorded = [p.data for p in event.workflow_execution_completed_event_attributes.result.payloads]
        if recorded != ([c.result.data] if c.result is not None else []):
            return "workflow result differs"
    elif isinstance(c, cmd.FailWorkflowExecution):
        if event.workflow_execution_failed_event_attributes.failure.message != c.failure.message:
            return "workflow failure differs"
        if event.workflow_execution_failed_event_attributes.failure.application_failure_info.type != (
            c.failure.application_failure_info.type
        ):
            return "workflow failure differs"
    return None


def _split_tasks(types: Sequence[int]) -> list[tuple[int, int, int]]:
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
            while end < count and types[end] in _COMMAND_EVENTS:
                end += 1
            tasks.append((i, i + 1, end))
    return tasks


def _accepted_updates(events: Sequence[HistoryEvent], types: Sequence[int]) -> dict[int, list[UpdateRequest]]:
    """Accepted updates by the started event id of the workflow task they were delivered with (the one
    after their sequencing event). Rejected updates leave no event, so replay never delivers them."""
    out: dict[int, list[UpdateRequest]] = {}
    for i, kind in enumerate(types):
        if kind == ev.WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            a = events[i].workflow_execution_update_accepted_event_attributes
            request = a.accepted_request
            out.setdefault(a.accepted_request_sequencing_event_id + 1, []).append(
                UpdateRequest(request.meta.update_id, request.input.name, tuple(request.input.args.payloads))
            )
    return out


def _json_of(payloads: Sequence[Payload]) -> Any:
    if not payloads:
        return None
    try:
        return json.loads(payloads[0].data)
    except ValueError:
        return payloads[0].data.decode("utf-8", "replace")


def _short(value: Any, limit: int = 160) -> str:
    out = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return out if len(out) <= limit else out[: limit - 3] + "..."


def _json_diff(expected: Any, actual: Any, path: str, out: list[str], limit: int = 6) -> None:
    """The paths where two JSON values differ, with both sides (at most `limit` of them)."""
    if len(out) >= limit:
        return
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(set(expected) | set(actual), key=str):
            child = f"{path}.{key}"
            if key not in actual:
                out.append(f"{child}: history {_short(expected[key])}, replayed has no such key")
            elif key not in expected:
                out.append(f"{child}: history has no such key, replayed {_short(actual[key])}")
            else:
                _json_diff(expected[key], actual[key], child, out, limit)
            if len(out) >= limit:
                return
    elif isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        for index, (a, b) in enumerate(zip(expected, actual, strict=True)):
            _json_diff(a, b, f"{path}[{index}]", out, limit)
    elif expected != actual or type(expected) is not type(actual):
        out.append(f"{path}: history {_short(expected)}, replayed {_short(actual)}")


def _failure_text(failure: Any) -> str:
    kind = failure.application_failure_info.type
    return f"{kind}: {failure.message}" if kind else failure.message


def _values(event: HistoryEvent | None, command: cmd.Command | None) -> tuple[str, str, list[str]]:
    """What the history holds and what the code did, as the report shows them; the diff of two JSON
    values where both are values (results, inputs)."""
    expected = _event_summary(event) if event is not None else "(nothing)"
    actual = command.describe() if command is not None else "(nothing)"
    if event is None or command is None:
        return expected, actual, []
    pair: tuple[Any, Any] | None = None
    if (
        isinstance(command, cmd.CompleteWorkflowExecution)
        and event.event_type == ev.WORKFLOW_EXECUTION_COMPLETED
    ):
        pair = (
            _json_of(event.workflow_execution_completed_event_attributes.result.payloads),
            _json_of([command.result] if command.result is not None else []),
        )
    elif isinstance(command, cmd.FailWorkflowExecution) and event.event_type == ev.WORKFLOW_EXECUTION_FAILED:
        return (
            "failure " + _failure_text(event.workflow_execution_failed_event_attributes.failure),
            "failure " + _failure_text(command.failure),
            [],
        )
    elif isinstance(command, cmd.ScheduleActivityTask) and event.event_type == ev.ACTIVITY_TASK_SCHEDULED:
        a = event.activity_task_scheduled_event_attributes
        if [p.data for p in a.input.payloads] != [p.data for p in command.input]:
            pair = ([_json_of([p]) for p in a.input.payloads], [_json_of([p]) for p in command.input])
    elif (
        isinstance(command, cmd.StartChildWorkflowExecution)
        and event.event_type == ev.START_CHILD_WORKFLOW_EXECUTION_INITIATED
    ):
        c = event.start_child_workflow_execution_initiated_event_attributes
        if [p.data for p in c.input.payloads] != [p.data for p in command.input]:
            pair = ([_json_of([p]) for p in c.input.payloads], [_json_of([p]) for p in command.input])
    if pair is None:
        return expected, actual, []
    diff: list[str] = []
    _json_diff(pair[0], pair[1], "$", diff)
    return _short(pair[0], 400), _short(pair[1], 400), diff


def _report(
    *,
    number: int,
    task_started: int,
    event_id: int,
    rules: str,
    problem: str,
    location: str,
    expected: str,
    actual: str,
    more: Sequence[str] = (),
) -> str:
    """The one shape of every nondeterminism report."""
    lines = [
        f"nondeterminism in workflow task {number} (started at event {task_started}), at event {event_id} "
        f"({rules} rules): {problem}",
        f"  at {location or '(no line of app code)'}",
        f"  history:  {expected}",
        f"  replayed: {actual}",
        *more,
    ]
    return "\n".join(lines)


def workflow_id_of(
    history: History | EventHistory, given: str | None = None, source: str = "caller"
) -> tuple[str, str]:
    """The replay's workflow id and where it came from: the started event (as current Temporal servers
    record it), else what the caller knows (`source` says how it knows it), else unknown."""
    recorded = (
        history.events[0].workflow_execution_started_event_attributes.workflow_id if history.events else ""
    )
    if recorded:
        return recorded, "history"
    if given:
        return given, source
    return "replayed", "unknown"


def replay_history(
    app: App,
    history: History | EventHistory,
    *,
    strict: bool = False,
    workflow: str | None = None,
    workflow_id: str | None = None,
    workflow_id_source: str = "caller",
    seed: int = 1,
) -> ReplayResult:
    """Replay `history` with the app's current code; raise NondeterminismError on a divergence. The
    workflow id comes from the history; `workflow_id` is used when the history does not record it."""
    if not history.events or history.events[0].event_type != ev.WORKFLOW_EXECUTION_STARTED:
        first = history.events[0].event_id if history.events else None
        raise HistoryFormatError("history", first, "a history starts with WorkflowExecutionStarted")
    # A history read from JSON is many small Python objects, all alive until the replay ends and none
    # in a cycle: the collector would only scan them over and over (a tenth of a long replay's time).
    pause = isinstance(history, EventHistory) and gc.isenabled()
    if pause:
        gc.disable()
    try:
        return _replay_checked(app, history, strict, workflow, workflow_id, workflow_id_source, seed)
    finally:
        if pause:
            gc.enable()


def _replay_checked(
    app: App,
    history: History | EventHistory,
    strict: bool,
    workflow: str | None,
    workflow_id: str | None,
    workflow_id_source: str,
    seed: int,
) -> ReplayResult:
    try:
        return _replay_once(app, history, strict, workflow, workflow_id, workflow_id_source, seed, False)
    except NondeterminismError as exc:
        if exc.lua_location or not exc.at_close:
            raise
        # A result or failure differs and no line says where the code returned: replay again with the
        # (slower) return tracing on, to name the line.
        try:
            _replay_once(app, history, strict, workflow, workflow_id, workflow_id_source, seed, True)
        except NondeterminismError as traced:
            raise traced from None
        raise


def _replay_once(
    app: App,
    history: History | EventHistory,
    strict: bool,
    workflow: str | None,
    workflow_id: str | None,
    workflow_id_source: str,
    seed: int,
    trace_returns: bool,
) -> ReplayResult:
    started = history.events[0].workflow_execution_started_event_attributes
    workflow_type = workflow or started.workflow_type.name
    entry = app.entries.get(workflow_type)
    if not isinstance(entry, LuaEntry) or not entry.kind.startswith("workflow."):
        known = ", ".join(e.id for e in app.workflows()) or "none"
        raise UnknownWorkflowType(
            f"'{workflow_type}' is not a workflow entry of this app (workflows: {known}); "
            "name the entry with workflow=..."
        )
    context_payload = started.header.fields.get("wippy-context")
    context = json.loads(context_payload.data) if context_payload is not None else {}
    wid, source = workflow_id_of(history, workflow_id, workflow_id_source)
    client, worker = workflow_identity(app, workflow_type, started.task_queue.name)
    info = WorkflowInfo(
        wid,
        started.original_execution_run_id,
        workflow_type,
        started.task_queue.name,
        attempt=started.attempt or 1,
        client_id=client,
        worker_id=worker,
    )
    state = STATES.acquire(DEFAULT_MEMORY_LIMIT)
    execution = WorkflowExecution(
        app, entry, info, list(started.input.payloads), context=context, seed=seed, lua_state=state
    )
    execution.trace_returns = trace_returns
    expected_ending = False
    try:
        try:
            result = replay_into(execution, history, strict=strict)
        except NondeterminismError as exc:
            if source != "history":
                told = ID_SOURCES.get(source, source)
                raise exc.reworded(f"{exc}\n  workflow id: {wid} ({told})") from None
            raise
        expected_ending = True
        return replace(result, workflow_id=wid, workflow_id_source=source)
    except (NondeterminismError, HistoryFormatError):
        expected_ending = True
        raise
    finally:
        # The state goes back to the pool only after an ending the replay is made for.
        if execution.release() and expected_ending:
            STATES.give_back(state)


def replay_into(
    execution: WorkflowExecution, history: History | EventHistory, *, strict: bool = False
) -> ReplayResult:
    """Drive a fresh `execution` of the history's run through every workflow task of `history`. It stays
    open afterwards, so a simulated worker can carry on from there (recovery after a worker crash)."""
    entry = execution.entry
    events = list(history.events)
    types = [e.event_type for e in events]
    recorded = _recorded(events, types)
    mismatch: Callable[[HistoryEvent, cmd.Command], str | None] = _strict_mismatch if strict else _go_mismatch
    rules = "strict" if strict else "go"
    previous = -1
    total = 0
    matched: list[cmd.Command] = []
    tasks = _split_tasks(types)
    updates = _accepted_updates(events, types)
    for number, (start, completed, end) in enumerate(tasks, start=1):
        batch = events[previous + 1 : start + 1]
        previous = start
        task_started = events[start]
        try:
            produced = execution.workflow_task(
                batch,
                started_event_id=task_started.event_id,
                now_ns=event_time_ns(task_started),
                resolver=recorded,
                history_size=task_started.workflow_task_started_event_attributes.history_size_bytes,
                updates=updates.get(task_started.event_id, ()) if updates else (),
            )
        except PayloadError as exc:
            # History JSON is checked when read; a History object built elsewhere is checked here.
            raise HistoryFormatError("<history>", events[start].event_id, str(exc)) from None
        except WorkflowTaskError as exc:
            execution.close()
            raise NondeterminismError(
                _report(
                    number=number,
                    task_started=task_started.event_id,
                    event_id=task_started.event_id,
                    rules=rules,
                    problem=f"the workflow task failed: {exc}",
                    location=exc.where,
                    expected=exc.expected or "(see above)",
                    actual=exc.actual or "(see above)",
                ),
                event_id=task_started.event_id,
                workflow_task=number,
                lua_location=exc.where,
                expected=exc.expected,
                actual=exc.actual,
            ) from None
        if completed < 0:
            break
        expected = events[completed + 1 : end]
        if not strict:
            expected = _go_filter_events(expected)
            produced = _go_filter_commands(produced)
        for i in range(max(len(expected), len(produced))):
            event = expected[i] if i < len(expected) else None
            command = produced[i] if i < len(produced) else None
            problem = None
            if event is None and command is not None:
                problem = f"extra replay command {command.describe()}: the history has no event for it"
            elif command is None and event is not None:
                problem = f"missing replay command for {_event_summary(event)}: the code did not produce it"
            elif event is not None and command is not None:
                problem = mismatch(event, command)
            if problem:
                event_id = event.event_id if event is not None else events[end - 1].event_id + 1
                where = command.where if command is not None and command.where != "?" else ""
                more: list[str] = []
                waits = ""
                if command is None and not execution.closed:
                    waits = execution.waiting(lines=True)
                    more.append(f"  the code waits: {waits or 'nothing is running'}")
                    if not where:
                        where = _first_location(waits)
                history_value, replayed_value, diff = _values(event, command)
                more.extend(f"  differs at {line}" for line in diff)
                if matched:
                    more.append("  last matching commands: " + ", ".join(c.describe() for c in matched[-3:]))
                if "math.random" in entry.source_text:
                    more.append(
                        "  note: this workflow calls math.random, which replay reseeds on purpose: Wippy does"
                        " not protect it either, so its values change between a run and its"
                        " replay; use uuid or crypto.random (recorded as side effects) instead"
                    )
                execution.close()
                error = NondeterminismError(
                    _report(
                        number=number,
                        task_started=task_started.event_id,
                        event_id=event_id,
                        rules=rules,
                        problem=problem,
                        location=waits_location(waits) if command is None and waits else where,
                        expected=history_value,
                        actual=replayed_value,
                        more=more,
                    ),
                    event_id=event_id,
                    workflow_task=number,
                    lua_location=where,
                    expected=history_value,
                    actual=replayed_value,
                )
                error.at_close = isinstance(
                    command, (cmd.CompleteWorkflowExecution, cmd.FailWorkflowExecution)
                )
                raise error
            assert command is not None
            matched.append(command)
            total += 1
    return ReplayResult(execution.info.workflow_type, len(tasks), total, rules)


def _first_location(waits: str) -> str:
    """The first `file:line` of a waiting report ("main waits on timer.sleep at a.lua:3; ...")."""
    for part in waits.split("; "):
        _, at, location = part.rpartition(" at ")
        if at:
            return location
    return ""


def waits_location(waits: str) -> str:
    """Each coroutine's waiting line, for the report's `at` line."""
    found = [part.rpartition(" at ")[2] for part in waits.split("; ") if " at " in part]
    return ", ".join(found) if found else ""


def load_history(
    path: str | os.PathLike[str], *, text: str | bytes | None = None
) -> tuple[EventHistory, str | None, str]:
    """Read a history file (`.json`, or `.json.gz` compressed): (history, workflow id the file carries,
    where that id comes from). A wrapper object `{"workflowId" | "workflow_id": ID, "history":
    {"events": [...]}}` carries the id; otherwise the file name stem does, as
    `temporal workflow show -w ID -o json > ID.json` names it."""
    source = str(path)
    data = history_bytes(source) if text is None else text
    stem = os.path.splitext(os.path.basename(source.rstrip("/")).removesuffix(".gz"))[0]
    try:
        return read_history(data, source=source), stem, "file name"
    except HistoryFormatError as exc:
        if exc.event_id is not None:
            raise
        try:
            document = json.loads(data)
        except ValueError:
            raise exc from None
        inner = document.get("history") if isinstance(document, dict) else None
        wid = (
            (document.get("workflowId") or document.get("workflow_id"))
            if isinstance(document, dict)
            else None
        )
        if not isinstance(inner, dict) or not isinstance(wid, str) or not wid:
            raise exc from None
        return read_history(json.dumps(inner), source=source), wid, "wrapper"


def replay(
    app: App,
    history: History | str | bytes | os.PathLike[str],
    *,
    strict: bool = False,
    workflow: str | None = None,
    workflow_id: str | None = None,
) -> ReplayResult:
    """Replay a history given as a temporalio `History`, a path to its JSON (`.json` or `.json.gz`), or
    the JSON text. The workflow id is the history's own; where it has none: `workflow_id`, else what a
    file carries."""
    if isinstance(history, History):
        return replay_history(app, history, strict=strict, workflow=workflow, workflow_id=workflow_id)
    pause = gc.isenabled()
    if pause:
        gc.disable()  # from reading to the end of the replay (see `replay_history`)
    try:
        return _replay_document(app, history, strict, workflow, workflow_id)
    finally:
        if pause:
            gc.enable()


def _replay_document(
    app: App,
    history: str | bytes | os.PathLike[str],
    strict: bool,
    workflow: str | None,
    workflow_id: str | None,
) -> ReplayResult:
    if isinstance(history, os.PathLike) or (
        isinstance(history, str) and not history.lstrip().startswith("{")
    ):
        loaded, carried, source = load_history(history)
    else:
        loaded, carried, source = load_history("<history>", text=history)
        if source == "file name":
            carried = None
    if workflow_id:
        carried, source = workflow_id, "caller"
    return replay_history(
        app, loaded, strict=strict, workflow=workflow, workflow_id=carried, workflow_id_source=source
    )
