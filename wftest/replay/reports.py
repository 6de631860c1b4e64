"""What a replay reports: the nondeterminism error, in one shape everywhere (the task, the event id, the
Lua line, both values and the JSON paths that differ)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent

from wftest.errors import UserError
from wftest.history import event_types as ev
from wftest.worker import commands as cmd
from wftest.worker.workflow_state import WorkflowTaskError


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


def event_summary(event: HistoryEvent) -> str:
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


def report_values(event: HistoryEvent | None, command: cmd.Command | None) -> tuple[str, str, list[str]]:
    """What the history holds and what the code did, as the report shows them; the diff of two JSON
    values where both are values (results, inputs)."""
    expected = event_summary(event) if event is not None else "(nothing)"
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


def report(
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


def first_location(waits: str) -> str:
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


@dataclass(frozen=True)
class TaskPlace:
    """The workflow task a difference was found in, and the rules it was found by."""

    number: int  # counted from 1
    task_started: int  # its WorkflowTaskStarted event id
    rules: str


@dataclass(frozen=True)
class Difference:
    """A history event and the replayed command at one place of a task (either may be missing)."""

    event_id: int
    problem: str
    event: HistoryEvent | None
    command: cmd.Command | None
    waits: str | None  # where the code waits (asked only when a command is missing)


def task_failed(place: TaskPlace, exc: WorkflowTaskError) -> NondeterminismError:
    """The replayed task itself failed (a side effect or version the history does not have, say)."""
    return NondeterminismError(
        report(
            number=place.number,
            task_started=place.task_started,
            event_id=place.task_started,
            rules=place.rules,
            problem=f"the workflow task failed: {exc}",
            location=exc.where,
            expected=exc.expected or "(see above)",
            actual=exc.actual or "(see above)",
        ),
        event_id=place.task_started,
        workflow_task=place.number,
        lua_location=exc.where,
        expected=exc.expected,
        actual=exc.actual,
    )


def command_mismatch(
    place: TaskPlace, found: Difference, matched: Sequence[cmd.Command], *, uses_math_random: bool
) -> NondeterminismError:
    """A replayed command that differs from the history's event there (or one of them is missing)."""
    command = found.command
    where = command.where if command is not None and command.where != "?" else ""
    more: list[str] = []
    if found.waits is not None:
        more.append(f"  the code waits: {found.waits or 'nothing is running'}")
        if not where:
            where = first_location(found.waits)
    history_value, replayed_value, diff = report_values(found.event, command)
    more.extend(f"  differs at {line}" for line in diff)
    if matched:
        more.append("  last matching commands: " + ", ".join(c.describe() for c in matched[-3:]))
    if uses_math_random:
        more.append(
            "  note: this workflow calls math.random, which replay reseeds on purpose: Wippy does"
            " not protect it either, so its values change between a run and its"
            " replay; use uuid or crypto.random (recorded as side effects) instead"
        )
    error = NondeterminismError(
        report(
            number=place.number,
            task_started=place.task_started,
            event_id=found.event_id,
            rules=place.rules,
            problem=found.problem,
            location=waits_location(found.waits) if command is None and found.waits else where,
            expected=history_value,
            actual=replayed_value,
            more=more,
        ),
        event_id=found.event_id,
        workflow_task=place.number,
        lua_location=where,
        expected=history_value,
        actual=replayed_value,
    )
    error.at_close = isinstance(command, (cmd.CompleteWorkflowExecution, cmd.FailWorkflowExecution))
    return error
