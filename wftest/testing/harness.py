"""The object behind the `wippy` pytest fixture: one simulated world per test, driven with an async
API (the simulator itself is synchronous; awaiting lets tests read like temporalio client code)."""

from __future__ import annotations

import inspect
import os
import sqlite3
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from temporalio.api.history.v1 import History

from wftest.app import App, LuaEntry
from wftest.encoding.jsontext import GO_NIL, EncodeError
from wftest.encoding.payloads import payload_to_python, python_to_payload
from wftest.explore import ExplorationReport, explore
from wftest.explore.perturb import DEFAULT_CRASH_RATE, DEFAULT_FAULT_RATE, CrashMode
from wftest.history.failures import error_from_failure
from wftest.history.jsonio import history_to_json
from wftest.replay import ReplayResult
from wftest.sim import World
from wftest.sim.activities import ActivityInfo, Mock, ServedCall
from wftest.sim.http import WorldHttp
from wftest.sim.http_fakes import HttpRoutes
from wftest.sim.process_driver import ProcessRun
from wftest.sim.processes import Mailbox, Message
from wftest.sim.resources import ResourceError, ResourceMisuse
from wftest.sim.state import SimulationError, UpdateHandle, WorkflowRun, unheard_report
from wftest.sim.timing import DEFAULT_START_NS
from wftest.testing.durations import Duration, to_ns
from wftest.testing.http import HttpClient
from wftest.testing.mocks import ActivityMock, frozen_at
from wftest.testing.outcomes import (
    ActivityFailed,
    ProcessBlocked,
    ProcessFailed,
    UpdateFailed,
    UpdateRejected,
    WorkflowBlocked,
    WorkflowFailed,
)
from wftest.testing.render import calls_text, offset


class HistoryText(str):
    """A run's history as its readable timeline (what snapshots store); `.proto` is the real thing."""

    proto: History

    def __new__(cls, history: History) -> HistoryText:
        from wftest.timeline.text import render_text

        text = super().__new__(cls, render_text(history))
        text.proto = history
        return text

    def json(self) -> str:
        """Temporal's proto3 JSON (what `temporal workflow show -o json` prints)."""
        return history_to_json(self.proto)


class CallLog(str):
    """Every activity attempt served, one line each (what call snapshots store); `.calls` has them."""

    calls: tuple[ServedCall, ...]

    def __new__(cls, calls: Sequence[ServedCall], start_ns: int) -> CallLog:
        log = super().__new__(cls, calls_text(calls, start_ns))
        log.calls = tuple(calls)
        return log


class WorkflowHandle:
    """A workflow the test started (or found): drive it, and read its outcome and history."""

    def __init__(self, wippy: Wippy, run: WorkflowRun) -> None:
        self._wippy = wippy
        self._first = run

    @property
    def id(self) -> str:
        return self._first.workflow_id

    @property
    def run(self) -> WorkflowRun:
        """The latest run (continue-as-new and retries go on under the same id)."""
        return self._first.latest

    @property
    def runs(self) -> tuple[WorkflowRun, ...]:
        out, run = [], self._first
        while run is not None:
            out.append(run)
            run = run.next_run  # type: ignore[assignment]
        return tuple(out)

    @property
    def pid(self) -> str:
        """The PID other processes use to send to this workflow."""
        return self._wippy.world.pid_of(self.id)

    @property
    def status(self) -> str:
        return self.run.status

    @property
    def history(self) -> HistoryText:
        return HistoryText(self.run.history)

    @property
    def elapsed(self) -> timedelta:
        """Virtual time from this workflow's start to its close (or to now)."""
        end = self.run.close_ns if self.run.close_ns is not None else self._wippy.world.now_ns
        return timedelta(microseconds=(end - self._first.start_ns) // 1000)

    async def result(self) -> Any:
        """Run virtual time until the workflow closes; its result, or WorkflowFailed."""
        world = self._wippy.world
        world.run_until_closed(self._first)
        run = self.run
        if not run.closed:
            waiting = world.waiting(run.workflow_id)
            processes = "\n".join(world.processes_waiting())
            raise WorkflowBlocked(
                f"workflow {run.workflow_id} can never close: nothing is left to happen at "
                f"{offset(world.now_ns - self._wippy.start_ns)} of virtual time"
                + (f"; it waits at:\n{waiting}" if waiting else "")
                + "".join(f"\n{line}" for line in unheard_report(*world.unheard(run.workflow_id)))
                + (f"\nlive processes wait at:\n{processes}" if processes else "")
            )
        if run.status == "completed":
            return run.result
        kind, message, details = run.status, "", None
        if run.failure is not None:
            error = error_from_failure(run.failure)
            kind, message, details = error.kind, error.full_message(), error.details
        raise WorkflowFailed(run.workflow_id, run.status, kind, message, details)

    async def signal(self, name: str, *args: Any, sender: Sender = None) -> None:
        """Send a signal; with `sender` (a PID or a `wippy.mailbox()`) the workflow can reply to it."""
        self._wippy.world.signal(self.run, name, *args, sender=_pid(sender))

    async def query(self, name: str) -> Any:
        return self._wippy.world.query(self.run, name)

    async def update(self, name: str, *args: Any) -> Any:
        """Send an update and run virtual time until the workflow answers it; its result."""
        handle = self._wippy.world.update(self.run, name, *args)
        return self._wippy.finish_update(handle, self.id)

    async def cancel(self, reason: str = "") -> None:
        self._wippy.world.request_cancel(self.run, reason)

    async def terminate(self, reason: str = "") -> None:
        self._wippy.world.terminate(self.run, reason)

    def __repr__(self) -> str:
        return f"<WorkflowHandle {self.id} {self.status}>"


class ProcessHandle:
    """A plain process a test spawned (`wippy.spawn`): its PID, messages to and from it, its result.

    The test has a mailbox of its own for each spawned process: it is the process's parent, hears its
    EXIT, and is the sender of `send`, so the process can answer with `process.send(msg:from(), ...)`."""

    def __init__(self, wippy: Wippy, run: ProcessRun, box: Mailbox) -> None:
        self._wippy = wippy
        self._run = run
        self.mailbox = box

    @property
    def pid(self) -> str:
        return self._run.pid

    @property
    def entry_id(self) -> str:
        return self._run.entry_id

    @property
    def status(self) -> str:
        """"running", "finished" or "failed"."""
        return self._run.status

    @property
    def messages(self) -> list[Message]:
        """What the process (or anyone) sent to the test's mailbox for it, in order."""
        return self.mailbox.messages

    @property
    def logs(self) -> list[str]:
        return self._run.logs

    async def send(self, topic: str, *args: Any) -> None:
        """Send a message now (from the test's mailbox, so the process can reply)."""
        self._wippy.world.send(self.pid, topic, *args, sender=self.mailbox.pid)

    async def result(self) -> Any:
        """Run virtual time until the process ends; its first return value, or ProcessFailed (it raised,
        returned `nil, err` or was killed), or ProcessBlocked (it can never end)."""
        world = self._wippy.world
        while not self._run.closed and (due := world.agenda.next_due()) is not None:
            world.advance(due - world.now_ns)
        return _process_result(self._wippy, self._run)

    async def terminate(self) -> None:
        self._wippy.world.terminate_process(self.pid)

    async def cancel(self, reason: str = "") -> None:
        self._wippy.world.cancel_process(self.pid, reason, sender=self.mailbox.pid)

    def __repr__(self) -> str:
        return f"<ProcessHandle {self.entry_id} {self.pid} {self.status}>"


def _process_result(wippy: Wippy, process: ProcessRun) -> Any:
    world = wippy.world
    if not process.closed:
        blocked = "\n".join(world.processes_waiting())
        raise ProcessBlocked(
            f"process {process.entry_id} {process.pid} can never finish: nothing is left to happen at "
            f"{offset(world.now_ns - wippy.start_ns)} of virtual time; live processes wait at:\n{blocked}"
        )
    if process.failure is not None:
        raise ProcessFailed(f"process {process.entry_id} failed: {process.failure}")
    if process.error is not None:
        raise ProcessFailed(f"process {process.entry_id} returned an error: {process.error}")
    return process.result


Target = WorkflowHandle | str


@dataclass
class TimelineItem:
    """One thing a test put on its timeline, and whether its instant came."""

    label: str
    due_ns: int
    happened: bool = False


class Scheduled:
    """What happens at one instant of a test's timeline (`wippy.at("30m")`). Items due at the same
    instant run in the order they were written, before the workflow tasks of that instant."""

    def __init__(self, wippy: Wippy, due_ns: int) -> None:
        self._wippy = wippy
        self.due_ns = due_ns
        self.result: Any = None  # a query's answer or an update's result, once it ran

    def _at(self, label: str, action: Callable[[], Any]) -> Scheduled:
        item = TimelineItem(label, self.due_ns)
        self._wippy._timeline.append(item)

        def run() -> None:
            item.happened = True
            try:
                self.result = action()
            except SimulationError as exc:
                raise SimulationError(
                    f"timeline at {offset(self.due_ns - self._wippy.start_ns)}: {label}: {exc}"
                ) from exc

        self._wippy.world.agenda.at(self.due_ns, run)
        return self

    def signal(self, target: Target, name: str, *args: Any, sender: Sender = None) -> Scheduled:
        world = self._wippy.world
        return self._at(
            f"signal {name!r}", lambda: world.signal(_id(target), name, *args, sender=_pid(sender))
        )

    def query(self, target: Target, name: str) -> Scheduled:
        world = self._wippy.world
        return self._at(f"query {name!r}", lambda: world.query(_id(target), name))

    def update(self, target: Target, name: str, *args: Any) -> Scheduled:
        """Send an update; `result` is its UpdateHandle (status, result once answered)."""
        world = self._wippy.world
        return self._at(f"update {name!r}", lambda: world.update(_id(target), name, *args))

    def cancel(self, target: Target, reason: str = "") -> Scheduled:
        world = self._wippy.world
        return self._at("cancel", lambda: world.request_cancel(_id(target), reason))

    def terminate(self, target: Target, reason: str = "") -> Scheduled:
        world = self._wippy.world
        return self._at("terminate", lambda: world.terminate(_id(target), reason))

    def send(self, target: ProcessHandle | str, topic: str, *args: Any, sender: Sender = None) -> Scheduled:
        """Send a message to a process (handle, PID or registered name), a mailbox or a workflow."""
        world = self._wippy.world
        dest = target.pid if isinstance(target, ProcessHandle) else target
        if sender is None and isinstance(target, ProcessHandle):
            sender = target.mailbox
        return self._at(
            f"send {topic!r}", lambda: world.send(dest, topic, *args, sender=_pid(sender) or "")
        )

    def call(self, fn: Callable[[], Any]) -> Scheduled:
        """Run `fn()` then (Python's clocks read the virtual time while it runs)."""

        def run() -> Any:
            with frozen_at(self.due_ns):
                return fn()

        return self._at(getattr(fn, "__name__", "call"), run)


def _id(target: Target) -> str:
    return target.id if isinstance(target, WorkflowHandle) else target


Sender = Mailbox | str | None


def _pid(sender: Sender) -> str | None:
    return sender.pid if isinstance(sender, Mailbox) else sender


class Wippy:
    """One test's simulated Wippy: mocks, workflows, a timeline and a virtual clock."""

    def __init__(
        self,
        app: App,
        *,
        start_ns: int = DEFAULT_START_NS,
        seed: int = 0,
        world: World | None = None,
        explore_seed: int | None = None,
        reproduce: Callable[[int], str] | None = None,
    ) -> None:
        self.app = app
        self.start_ns = start_ns
        self.world = world or World(app, start_ns=start_ns, seed=seed, strict_activities=True)
        self._explore_seed = explore_seed  # `--lua-explore-seed N`: explore() runs only that seed
        self._reproduce = reproduce
        self._mocks: dict[str, ActivityMock] = {}
        self._workflow_mocks: dict[str, ActivityMock] = {}
        self._timeline: list[TimelineItem] = []

    # -- mocks -------------------------------------------------------------------------------------

    def mock(self, activity_id: str) -> ActivityMock:
        """The mock of an activity (made on first use): set what calls get, then assert on calls."""
        mock = self._mocks.get(activity_id)
        if mock is None:
            served = lambda: self.world.activity_runner.calls  # noqa: E731
            mock = self._mocks[activity_id] = ActivityMock(activity_id, lambda: self.world.now_ns, served)
            mock.served_as = self.world.mocks[activity_id] = Mock(mock.serve, 0, None, mock.defers_to_lua)
        return mock

    def mock_workflow(self, workflow_type: str) -> ActivityMock:
        """The mock of a child workflow type: children of that type run no Lua; they close with what
        the mock gives (an error fails them)."""
        mock = self._workflow_mocks.get(workflow_type)
        if mock is None:
            mock = ActivityMock(workflow_type, lambda: self.world.now_ns)
            self._workflow_mocks[workflow_type] = mock
            self.world.mock_workflow(workflow_type, mock.serve)
        return mock

    @property
    def calls(self) -> CallLog:
        """Every activity attempt the world served, in order (mocked or run from Lua entries)."""
        return CallLog(self.world.activity_runner.calls, self.start_ns)

    def assert_call_order(self, *activity_ids: str) -> None:
        """The first attempts of these activities happened in this order (others are ignored)."""
        wanted = set(activity_ids)
        actual = [
            c.activity_type
            for c in self.world.activity_runner.calls
            if c.activity_type in wanted and c.info.attempt == 1
        ]
        if actual != list(activity_ids):
            raise AssertionError(
                f"expected activity calls in the order {list(activity_ids)}, got {actual}\n"
                f"all calls:\n{self.calls}"
            )

    # -- workflows ---------------------------------------------------------------------------------

    async def start(
        self,
        workflow: str,
        *args: Any,
        id: str | None = None,
        options: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        signals: Sequence[tuple[str, Any]] = (),
    ) -> WorkflowHandle:
        """Start a workflow entry; `signals` are (topic, payload) messages waiting for it at start."""
        run = self.world.start(
            workflow,
            *args,
            workflow_id=id,
            context=context,
            options=options,
            signals=[(topic, (payload,)) for topic, payload in signals],
        )
        return WorkflowHandle(self, run)

    async def execute(self, workflow: str, *args: Any, **kwargs: Any) -> Any:
        """Start a workflow and wait for its result."""
        handle = await self.start(workflow, *args, **kwargs)
        return await handle.result()

    def get(self, workflow_id: str) -> WorkflowHandle:
        """A handle to any workflow in the world, e.g. a child or one a Lua process started."""
        return WorkflowHandle(self, self.world.get(workflow_id))

    def mailbox(self) -> Mailbox:
        """A PID of the test's own: pass it as a signal's `sender`; `messages` holds what comes back."""
        return self.world.mailbox()

    async def send(
        self, dest: ProcessHandle | str, topic: str, *args: Any, sender: Sender = None
    ) -> None:
        """Send a message now to a process (handle, PID or registered name), a mailbox or a workflow;
        with `sender` (a mailbox or PID) the receiver can answer it."""
        pid = dest.pid if isinstance(dest, ProcessHandle) else dest
        self.world.send(pid, topic, *args, sender=_pid(sender) or "")

    def spawn(
        self, entry: str, *args: Any, host: str | None = None, context: Mapping[str, Any] | None = None
    ) -> ProcessHandle:
        """Start a `process.lua` or `function.lua` entry as a plain process (on the `process.host` entry
        `host`, with `ctx` values `context`); it runs as virtual time passes (`await handle.result()`,
        `await wippy.sleep(...)`)."""
        box = self.world.mailbox()
        run = self.world.run_process(entry, *args, host=host, context=context, parent=box.pid, monitor=True)
        return ProcessHandle(self, run, box)

    async def run_process(self, entry: str, *args: Any) -> Any:
        """Run a function entry as a plain Wippy process (as Wippy's own tests run) until it finishes;
        its first return value, or ProcessFailed (a raised error, or a returned `nil, err`)."""
        process = self.world.run_process(entry, *args)
        while not process.closed and (due := self.world.agenda.next_due()) is not None:
            self.world.advance(due - self.world.now_ns)
        if not process.closed:
            processes = "\n".join(self.world.processes_waiting())
            raise ProcessBlocked(
                f"process {entry} can never finish: nothing is left to happen; live processes wait at:\n"
                f"{processes}"
            )
        if process.failure is not None:
            raise ProcessFailed(f"process {entry} failed: {process.failure}")
        if process.error is not None:
            raise ProcessFailed(f"process {entry} returned an error: {process.error}")
        return process.result

    async def run_activity(
        self,
        entry: str,
        *args: Any,
        attempt: int = 1,
        context: Mapping[str, Any] | None = None,
        workflow_id: str = "",
    ) -> Any:
        """Run a function entry as one attempt of an activity, as a Temporal worker runs it: arguments
        and result go through payloads, `context` is what `ctx` reads, the app's databases, stores and
        env are this test's. Mocks do not apply (the entry's own Lua runs). Its result, or
        ActivityFailed with the error Temporal would record (kind, message, retryable, details)."""
        found = self.app.entries.get(entry)
        if not isinstance(found, LuaEntry) or not found.kind.startswith(("function.", "process.")):
            known = ", ".join(e.id for e in self.app.activities()) or "none"
            what = "not an entry of the app" if found is None else f"a {found.kind} entry"
            raise ValueError(f"run_activity: '{entry}' is {what}, not a function entry (they are: {known})")
        if attempt < 1:
            raise ValueError(f"run_activity: attempt must be 1 or more, got {attempt}")
        try:
            payloads = [python_to_payload(a) for a in args]
        except (EncodeError, TypeError, ValueError) as exc:
            raise ValueError(f"run_activity: an argument of {entry} cannot be encoded: {exc}") from None
        info = ActivityInfo(entry, entry, attempt, self.world.now_ns, dict(context or {}), workflow_id)
        outcome = self.world.activity_runner.run_entry(found, payloads, info)
        if outcome.error is not None:
            e = outcome.error
            raise ActivityFailed(entry, e.kind, e.message, e.retryable, e.details)
        value = payload_to_python(outcome.result) if outcome.result is not None else None
        return None if value is GO_NIL else value

    @property
    def http(self) -> HttpClient:
        """A client for the app's own HTTP endpoints, served in-process: `await wippy.http.post(...)`."""
        return HttpClient(self._web)

    @property
    def http_routes(self) -> HttpRoutes:
        """This test's fakes for every address other than the app's own service (the network is never
        reached): `wippy.http_routes.post("https://pay.example.com/charge", json={...})`."""
        return self._web.routes

    @property
    def _web(self) -> WorldHttp:
        web = self.world.resources.http
        if web is None:
            raise SimulationError("this world serves no HTTP")
        return web

    def sql_backend(self, entry: str, target: str | os.PathLike[str] = ":memory:") -> None:
        """Run the app's SQL entry `entry` (of any driver) on SQLite: ":memory:" (fresh, the default),
        "sqlite:///path" or a file path. SQLite entries are already fresh in-memory databases."""
        self.world.resources.sql_backend(entry, target)

    def sql_connection(self, entry: str) -> sqlite3.Connection:
        """The SQLite connection behind the app's SQL entry `entry` in this test, to seed or inspect its
        data from Python (TEXT reads as str). The Lua side sees every change at once."""
        try:
            return self.world.resources.database(entry).conn
        except (ResourceError, ResourceMisuse) as exc:
            raise ValueError(f"sql_connection: {exc}") from None

    @property
    def environ(self) -> dict[str, str]:
        """The OS environment this test's `env.storage.os` entries read (a copy; change it freely)."""
        return self.world.resources.environ

    # -- time --------------------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return datetime.fromtimestamp(self.world.now_ns // 1000 / 1e6, tz=timezone.utc)

    @property
    def elapsed(self) -> timedelta:
        return timedelta(microseconds=(self.world.now_ns - self.start_ns) // 1000)

    async def sleep(self, duration: Duration) -> None:
        """Let virtual time pass; everything due in it happens."""
        self.world.advance(to_ns(duration, what="sleep"))

    def at(self, when: Duration) -> Scheduled:
        """A point of the test's timeline, `when` after the test's virtual start."""
        due = self.start_ns + to_ns(when, what="at")
        if due < self.world.now_ns:
            raise ValueError(
                f"at({when!r}) is in the past: the test is at {offset(self.world.now_ns - self.start_ns)}"
            )
        return Scheduled(self, due)

    def unsent_timeline(self) -> list[str]:
        """Timeline items whose instant the test never reached, each with why (checked after the test)."""
        now = offset(self.world.now_ns - self.start_ns)
        running = [r.workflow_id for r in self.world.runs if not r.closed]
        why = (
            f"workflows {', '.join(running)} were still running"
            if running
            else "every workflow had closed, so nothing moved the clock further"
        )
        return [
            f"{item.label} at {offset(item.due_ns - self.start_ns)} never happened: the test ended at "
            f"{now} of virtual time and {why} (await wippy.sleep(...) to reach it, or schedule it earlier)"
            for item in self._timeline
            if not item.happened
        ]

    def finish_update(self, handle: UpdateHandle, workflow_id: str) -> Any:
        world = self.world
        while handle.status in ("admitted", "accepted"):
            due = world.agenda.next_due()
            if due is None:
                raise WorkflowBlocked(
                    f"update {handle.name!r} to {workflow_id} is never answered; the workflow waits at:\n"
                    + world.waiting(workflow_id)
                )
            world.advance(due - world.now_ns)
        if handle.status == "rejected":
            raise UpdateRejected(f"update {handle.name!r} rejected by {workflow_id}: {handle.reason}")
        if handle.failure is not None:
            error = error_from_failure(handle.failure)
            raise UpdateFailed(handle.name, workflow_id, error.kind, error.full_message())
        return handle.result

    def reproduction(self, explore_seed: int) -> str:
        """The one-line command that reruns this test under one exploration seed."""
        if self._reproduce is None:
            return f"--lua-explore-seed {explore_seed}"
        return self._reproduce(explore_seed)

    def __repr__(self) -> str:
        return (
            f"<Wippy at {offset(self.world.now_ns - self.start_ns)} of virtual time, "
            f"{len(self.world.runs)} workflow(s)>"
        )

    # -- exploration -------------------------------------------------------------------------------

    async def explore(
        self,
        scenario: Callable[[Wippy], Any],
        *,
        seeds: int | Sequence[int] = 100,
        faults: bool | Collection[str] = False,
        crashes: CrashMode = True,
        budget: float | None = None,
        fault_rate: float = DEFAULT_FAULT_RATE,
        crash_rate: float = DEFAULT_CRASH_RATE,
        check: bool = True,
    ) -> ExplorationReport:
        """Run `scenario` (an async function of a fresh Wippy) once per seed: activity durations vary
        within each mock's `takes_between` bounds, the worker crashes after chosen workflow tasks and
        recovers by replay, and, where `faults` allows, activities fail or time out (`fault_rate` of
        the calls; `crash_rate` of the tasks). `budget` bounds the wall-clock seconds spent. Raises
        ExplorationFailed naming the failing seeds and how to rerun one, unless `check=False`.
        Awaitable like the rest of the API: `report = await wippy.explore(scenario)`."""

        def run(world: World, seed: int) -> None:
            drive(scenario(Wippy(self.app, start_ns=self.start_ns, world=world)))

        report = explore(
            run,
            app=self.app,
            seeds=[self._explore_seed] if self._explore_seed is not None else seeds,
            faults=faults,
            crashes=crashes,
            budget_s=budget,
            fault_rate=fault_rate,
            crash_rate=crash_rate,
            world_seed=self.world.seed,
            reproduce=self._reproduce,
            start_ns=self.start_ns,
            strict_activities=True,
        )
        return report.check() if check else report

    # -- the replay check --------------------------------------------------------------------------

    def replay_all(self, *, strict: bool = True) -> list[ReplayResult]:
        """Replay every run the world holds that ran Lua code; raises NondeterminismError."""
        results = []
        for run in self.runs_with_code():
            results.append(self.world.check_replay(run, strict=strict))
        return results

    def runs_with_code(self) -> list[WorkflowRun]:
        """Every run in the world that ran Lua code (mocked and unregistered children excluded)."""
        mocked = self.world.workflow_mocks
        return [
            r
            for r in self.world.all_runs()
            if r.entry is not None and r.entry.id not in mocked and _ran_a_task(r)
        ]


def drive(result: Any) -> None:
    """Finish a scenario: a coroutine of wftest's API completes without waiting on anything real, so
    one step runs it to the end (exploration runs inside a test's own event loop)."""
    if not inspect.iscoroutine(result):
        return
    try:
        result.send(None)
    except StopIteration:
        return
    result.close()
    raise TypeError("an exploration scenario may only await wftest's API (it awaited something else)")


def _ran_a_task(run: WorkflowRun) -> bool:
    return any(e.HasField("workflow_task_completed_event_attributes") for e in run.builder.events)
