"""Replay: run a workflow entry's current code against a recorded history and match every command it
produces against the history's command events (by the rules of `wftest.replay.matching`; differences
are reported by `wftest.replay.reports`).

The history is cut at its workflow-task boundaries; each task's events drive the very same
`WorkflowExecution` the simulator uses. Side-effect values and versions come from the recorded markers.
"""

from __future__ import annotations

import gc
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import History, HistoryEvent

from wftest.app import App, LuaEntry
from wftest.encoding.payloads import PayloadError
from wftest.history import event_types as ev
from wftest.history.fastread import EventHistory, event_time_ns, history_bytes, read_history
from wftest.history.jsonio import HistoryFormatError
from wftest.lua.sandbox import DEFAULT_MEMORY_LIMIT
from wftest.lua.state import STATES
from wftest.replay.matching import (
    go_filter_commands,
    go_filter_events,
    go_mismatch,
    split_tasks,
    strict_mismatch,
)
from wftest.replay.reports import (
    ID_SOURCES,
    Difference,
    NondeterminismError,
    TaskPlace,
    UnknownWorkflowType,
    command_mismatch,
    event_summary,
    task_failed,
)
from wftest.worker import commands as cmd
from wftest.worker.execution import UpdateRequest, WorkflowExecution, workflow_identity
from wftest.worker.handlers import SIDE_EFFECT_MARKER, VERSION_MARKER
from wftest.worker.workflow_state import WorkflowInfo, WorkflowTaskError

__all__ = [
    "ID_SOURCES",
    "NondeterminismError",
    "ReplayResult",
    "UnknownWorkflowType",
    "load_history",
    "replay",
    "replay_history",
    "replay_into",
]


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
        return _replay_checked(
            _Request(app, history, strict, workflow, workflow_id, workflow_id_source, seed)
        )
    finally:
        if pause:
            gc.enable()


@dataclass(frozen=True)
class _Request:
    """What one replay is asked to do."""

    app: App
    history: History | EventHistory
    strict: bool
    workflow: str | None
    workflow_id: str | None
    workflow_id_source: str
    seed: int


def _replay_checked(request: _Request) -> ReplayResult:
    try:
        return _replay_once(request, trace_returns=False)
    except NondeterminismError as exc:
        if exc.lua_location or not exc.at_close:
            raise
        # A result or failure differs and no line says where the code returned: replay again with the
        # (slower) return tracing on, to name the line.
        try:
            _replay_once(request, trace_returns=True)
        except NondeterminismError as traced:
            raise traced from None
        raise


def _replay_once(request: _Request, *, trace_returns: bool) -> ReplayResult:
    app, history, workflow = request.app, request.history, request.workflow
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
    wid, source = workflow_id_of(history, request.workflow_id, request.workflow_id_source)
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
        app, entry, info, list(started.input.payloads), context=context, seed=request.seed, lua_state=state
    )
    execution.trace_returns = trace_returns
    expected_ending = False
    try:
        try:
            result = replay_into(execution, history, strict=request.strict)
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
    mismatch: Callable[[HistoryEvent, cmd.AnyCommand], str | None]
    mismatch = strict_mismatch if strict else go_mismatch
    rules = "strict" if strict else "go"

    def place(number: int, task_started: int) -> TaskPlace:
        return TaskPlace(number, task_started, rules)

    previous = -1
    total = 0
    matched: list[cmd.AnyCommand] = []
    tasks = split_tasks(types)
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
            raise task_failed(place(number, task_started.event_id), exc) from None
        if completed < 0:
            break
        expected = events[completed + 1 : end]
        if not strict:
            expected = go_filter_events(expected)
            produced = go_filter_commands(produced)
        for i in range(max(len(expected), len(produced))):
            event = expected[i] if i < len(expected) else None
            command = produced[i] if i < len(produced) else None
            problem = None
            if event is None and command is not None:
                problem = f"extra replay command {command.describe()}: the history has no event for it"
            elif command is None and event is not None:
                problem = f"missing replay command for {event_summary(event)}: the code did not produce it"
            elif event is not None and command is not None:
                problem = mismatch(event, command)
            if problem:
                event_id = event.event_id if event is not None else events[end - 1].event_id + 1
                waits = execution.waiting(lines=True) if command is None and not execution.closed else None
                execution.close()
                raise command_mismatch(
                    place(number, task_started.event_id),
                    Difference(event_id, problem, event, command, waits),
                    matched,
                    uses_math_random="math.random" in entry.source_text,
                )
            assert command is not None
            matched.append(command)
            total += 1
    return ReplayResult(execution.info.workflow_type, len(tasks), total, rules)


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
