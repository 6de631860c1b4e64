"""The simulated server as a test drives it: one virtual universe per test, its clock, and what a test
does to its workflows and plain processes (start, message, update, terminate, run until quiet).

Its executions and their lifecycle are `workflows.py`; a workflow task and the events of its commands,
`workflow_tasks.py` (it never runs workflow Lua itself: it asks `worker/`). See `timing.py` for when each
event is appended.
"""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from temporalio.api.common.v1 import Payload

from wftest.app import App, LuaEntry
from wftest.encoding.payloads import python_to_payload
from wftest.replay import roundtrip
from wftest.replay.replayer import ReplayResult, replay_history
from wftest.sim.activities import ActivityError, ActivityInfo, ActivityRunner, Mock, MockFn
from wftest.sim.activity_tasks import ActivityTasks
from wftest.sim.cron import parse_cron
from wftest.sim.http_handlers import ProcessHttp
from wftest.sim.links import first_positive
from wftest.sim.process_driver import ProcessRun
from wftest.sim.process_table import ProcessTable
from wftest.sim.processes import Mailbox, runnable_kind, unknown_process_entry
from wftest.sim.resources import Resources
from wftest.sim.state import (
    IDENTITY,
    QueryError,
    SimulationError,
    StartOptions,
    UnknownWorkflowError,
    UpdateHandle,
    WorkflowRun,
    WorkflowState,
)
from wftest.sim.timing import DEFAULT_START_NS, Agenda
from wftest.sim.workflow_tasks import Resolver, WorkflowTasks
from wftest.sim.workflows import WorkflowTable
from wftest.worker.handlers import search_attribute_payloads
from wftest.worker.options import OptionError, duration_option, retry_policy

if TYPE_CHECKING:
    from wftest.sim.perturbation import Perturber

DEFAULT_ATTEMPT_CAP = 100


class World:
    """A deterministic simulated Temporal server running one Wippy app on a virtual clock."""

    def __init__(
        self,
        app: App,
        *,
        start_ns: int = DEFAULT_START_NS,
        seed: int = 0,
        attempt_cap: int = DEFAULT_ATTEMPT_CAP,
        memory_limit: int | None = None,
        instruction_budget: int | None = None,
        strict_activities: bool = False,
        perturbation: Perturber | None = None,
    ) -> None:
        self.app = app
        self.perturbation = perturbation  # an exploration seed's choices (wftest.explore); None: fixed timing
        self.now_ns = start_ns
        self.seed = seed
        self.rng = random.Random(seed)
        self.memory_limit = memory_limit
        self.instruction_budget = instruction_budget
        self.mocks: dict[str, Mock] = {}
        self.workflow_mocks: dict[str, Mock] = {}  # child workflow types served from Python
        self.agenda = Agenda()
        self._ids = itertools.count(1)
        self.resources = Resources(app, lambda: self.now_ns)  # the app's databases, stores, env
        self.processes = ProcessTable(self)  # plain processes, mailboxes, names, monitors, links
        self.resources.http = ProcessHttp(self, self.processes)  # the app's service, the test's route fakes
        self.activity_runner = ActivityRunner(
            app, self.mocks, self.rng, strict=strict_activities, resources=self.resources
        )
        activities = ActivityTasks(
            self.agenda, self.activity_runner, attempt_cap, lambda: self.now_ns, perturbation
        )
        self.workflows = WorkflowTable(
            app,
            clock=lambda: self.now_ns,
            agenda=self.agenda,
            rng=self.rng,
            activities=activities,
            activity_runner=self.activity_runner,
            workflow_mocks=self.workflow_mocks,
            memory_limit=memory_limit,
            instruction_budget=instruction_budget,
            local_send=self._local_send,
        )
        self._worker_uuid = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        self._generated_ids = itertools.count(1)
        resolver = Resolver(self.rng, lambda name: self.processes.names.get(name))
        self._tasks = WorkflowTasks(self.workflows, resolver, perturbation)

    # -- setup -------------------------------------------------------------------------------------

    def mock(
        self,
        activity_type: str,
        fn: MockFn | Any = None,
        *,
        duration_ns: int = 0,
        error: ActivityError | None = None,
        duration_bounds_ns: tuple[int, int] | None = None,
    ) -> None:
        """Serve `activity_type` from Python: a callable of (args, info), a fixed value, or an error.
        `duration_bounds_ns` is the range an exploration may pick each attempt's duration from."""
        if error is not None:
            failure = error

            def raise_error(args: Sequence[Any], info: ActivityInfo) -> Any:
                raise failure

            self.mocks[activity_type] = Mock(raise_error, duration_ns)
        elif callable(fn):
            self.mocks[activity_type] = Mock(fn, duration_ns)
        else:
            value = fn
            self.mocks[activity_type] = Mock(lambda args, info: value, duration_ns)
        self.mocks[activity_type].duration_bounds_ns = duration_bounds_ns

    def mock_workflow(self, workflow_type: str, fn: MockFn, *, duration_ns: int = 0) -> None:
        """Serve child workflows of `workflow_type` from Python: no Lua runs; the child's history is its
        start and, `duration_ns` later, its completion with `fn(args, info)` (or failure if it raises
        ActivityError)."""
        self.workflow_mocks[workflow_type] = Mock(fn, duration_ns)

    # -- starting ----------------------------------------------------------------------------------

    def start(
        self,
        workflow: str,
        *args: Any,
        workflow_id: str | None = None,
        context: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
        signals: Sequence[tuple[str, Sequence[Any]]] = (),
    ) -> WorkflowRun:
        """Start a workflow entry with Python arguments (one payload each). `options` are Wippy's start
        options (the names: `execution_timeout`, `retry_policy`, `memo`, `cron_schedule`, ...);
        `signals` are (topic, args) messages recorded right after the start, before the first task."""
        entry = self.app.entries.get(workflow)
        if not isinstance(entry, LuaEntry) or not entry.kind.startswith("workflow."):
            known = ", ".join(e.id for e in self.app.workflows()) or "none"
            raise UnknownWorkflowError(
                f"'{workflow}' is not a workflow entry of this app (workflows: {known})"
            )
        wid = workflow_id or f"{entry.name}-{next(self._ids)}"
        if wid in self.workflows.states and not self.workflows.states[wid].run.closed:
            raise SimulationError(f"workflow id '{wid}' is already running")
        flat = {
            str(k).removeprefix("temporal.").removeprefix("workflow."): v
            for k, v in sorted((options or {}).items())
        }
        worker = self.app.entries.get(entry.workflow.worker if entry.workflow is not None else "")
        try:
            start = _start_options(flat, getattr(worker, "task_queue", None), self.now_ns)
        except (OptionError, ValueError) as exc:
            raise SimulationError(f"bad start options for '{workflow}': {exc}") from exc
        payloads = [python_to_payload(a) for a in args]
        wf = self.workflows.launch(entry.id, wid, payloads, dict(context or {}), None, start)
        for topic, values in signals:
            self._append_signal(wf, topic, tuple(values), None)
        self._dispatch_due()
        return wf.run

    def pid_of(self, workflow_id: str) -> str:
        """The PID Wippy code uses to reach this workflow (`{client@worker|workflow id}`)."""
        wf = self.workflows.states.get(workflow_id)
        if wf is None:
            raise SimulationError(f"no workflow with id '{workflow_id}' in this world")
        return wf.info.pid

    def unheard(self, workflow_id: str) -> tuple[list[str], list[str]]:
        """Signal topics that arrived and nothing listens for, and the topics the workflow listens to."""
        wf = self.workflows.states.get(workflow_id)
        return wf.execution.unheard() if wf is not None and wf.execution is not None else ([], [])

    def waiting(self, workflow_id: str) -> str:
        """Where the workflow's coroutines wait (empty when it has no code running)."""
        wf = self.workflows.states.get(workflow_id)
        return wf.execution.waiting() if wf is not None and wf.execution is not None else ""

    # -- running -----------------------------------------------------------------------------------

    def run_until_closed(self, run: WorkflowRun, *, limit_ns: int | None = None) -> WorkflowRun:
        """Advance virtual time until `run` closes, following continue-as-new to the chain's last run
        (or until nothing is left to happen, or the limit)."""
        deadline = None if limit_ns is None else self.now_ns + limit_ns
        while not run.latest.closed:
            due = self.agenda.next_due()
            if due is None or (deadline is not None and due > deadline):
                break
            self._advance_to(due)
        return run

    def advance(self, duration_ns: int) -> None:
        """Let `duration_ns` of virtual time pass, processing everything due in it."""
        target = self.now_ns + duration_ns
        while True:
            due = self.agenda.next_due()
            if due is None or due > target:
                break
            self._advance_to(due)
        self.now_ns = target

    def run_all(self) -> None:
        """Process everything until nothing is due."""
        while (due := self.agenda.next_due()) is not None:
            self._advance_to(due)

    def _advance_to(self, due_ns: int) -> None:
        self.now_ns = max(self.now_ns, due_ns)
        while (item := self.agenda.pop_due(self.now_ns)) is not None:
            item.action()
        self._dispatch_due()

    def _dispatch_due(self) -> None:
        """Run a workflow task for every workflow with new events (creation order), until quiet."""
        progressed = True
        while progressed:
            progressed = False
            for wf in list(self.workflows.states.values()):
                runnable = wf.execution is not None and not wf.run.closed  # mocked children run no tasks
                if wf.new_events and runnable and self.now_ns >= wf.not_before_ns:
                    wf.new_events = False
                    self._tasks.run(wf)
                    progressed = True
            while (item := self.agenda.pop_due(self.now_ns)) is not None:
                item.action()
                progressed = True

    def terminate(self, run: WorkflowRun | str, reason: str = "") -> None:
        """Terminate a workflow now (no workflow code runs)."""
        wf = self._open(run)
        wf.run.builder.workflow_execution_terminated(self.now_ns, reason=reason, identity=IDENTITY)
        self.workflows.close(wf, "terminated")
        self._dispatch_due()

    def query(self, run: WorkflowRun | str, name: str) -> Any:
        """Query a workflow: `pid` gives the workflow id, `state` an empty table; no workflow code
        runs and nothing is recorded."""
        workflow_id = run if isinstance(run, str) else run.workflow_id
        if workflow_id not in self.workflows.states:
            raise SimulationError(f"no workflow with id '{workflow_id}' in this world")
        if name == "pid":
            return workflow_id
        if name == "state":
            return {}
        raise QueryError(f"unknown query type: {name}")

    def check_replay(self, run: WorkflowRun, *, strict: bool = True) -> ReplayResult:
        """Replay a finished run's history with the same code (strict by default: a rerun of unchanged
        code must give identical commands); raises NondeterminismError with the report. In round-trip
        mode the history goes through its JSON first and always replays strictly."""
        if roundtrip.enabled():
            return roundtrip.replay_via_json(
                self.app,
                run.history,
                workflow=run.entry.id if run.entry is not None else None,
                seed=self.seed + 1,
            )
        return replay_history(
            self.app,
            run.history,
            strict=strict,
            workflow_id=run.workflow_id,
            workflow=run.entry.id if run.entry is not None else None,
            seed=self.seed + 1,
        )

    def get(self, workflow_id: str) -> WorkflowRun:
        """The latest run with this workflow id (children included)."""
        wf = self.workflows.states.get(workflow_id)
        if wf is None:
            raise SimulationError(f"no workflow with id '{workflow_id}' in this world")
        return wf.run

    # -- plain processes --------------------------------------------------------------------

    def run_process(
        self,
        entry_id: str,
        *args: Any,
        host: str | None = None,
        context: Mapping[str, Any] | None = None,
        parent: str = "",
        monitor: bool = False,
    ) -> ProcessRun:
        """Run a `process.lua` or `function.lua` entry as a plain Wippy process (as a Wippy test runs, or
        on the `process.host` entry `host`), with `ctx` values `context`; `parent` (a mailbox PID) is its
        parent and, with `monitor`, hears its EXIT. It goes on as virtual time passes, e.g. with
        `run_until_idle()`."""
        entry = self.app.entries.get(entry_id)
        if not isinstance(entry, LuaEntry) or not runnable_kind(entry.kind):
            raise unknown_process_entry(self.app, entry_id)
        if host is not None:
            kind = self.app.entries[host].kind if host in self.app.entries else None
            if kind != "process.host":
                hosts = ", ".join(e.id for e in self.app.by_kind("process.host")) or "none"
                raise SimulationError(
                    f"'{host}' is not a process.host entry of this app (process hosts: {hosts})"
                )
        process = self.processes.start(
            entry, args, host=host or "process.host", context=dict(context or {}), parent=parent
        )
        if monitor and parent:
            process.monitors[parent] = None
        self._dispatch_due()
        return process.run

    def terminate_process(self, pid: str) -> None:
        """Kill a plain process now (its links hear LINK_DOWN, its monitors EXIT)."""
        if self.processes.process(pid) is None:
            raise SimulationError(f"no running process {pid} in this world")
        self.processes.terminate(pid)
        self._dispatch_due()

    def cancel_process(self, pid: str, reason: str = "", sender: str = "") -> None:
        """Ask a plain process to stop: a CANCEL event on its `process.events()`."""
        if self.processes.process(pid) is None:
            raise SimulationError(f"no running process {pid} in this world")
        self.processes.cancel(pid, sender, reason or None)
        self._dispatch_due()

    def send(self, dest: str, topic: str, *values: Any, sender: str = "") -> None:
        """Send a message to a process, mailbox or workflow (PID or registered name) now."""
        error = self.processes.send(dest, topic, values, sender)
        if error is not None:
            raise SimulationError(f"cannot send {topic!r} to {dest}: {error.message}")
        self._dispatch_due()

    def process_waiting(self, pid: str) -> str:
        """Where a plain process's coroutines wait (empty when it is not a running process)."""
        process = self.processes.process(pid)
        return process.proc.waiting() if process is not None else ""

    def processes_report(self) -> list[str]:
        """Every plain process the world ran: how it ended or where it waits (for failure reports)."""
        return self.processes.report()

    def processes_waiting(self) -> list[str]:
        """Where every live plain process waits, one line each (for reports of a blocked test)."""
        return self.processes.blocked()

    def mailbox(self) -> Mailbox:
        """A new PID for test code: give it as a signal's sender, and read what is sent back to it."""
        box = Mailbox(self.processes.new_pid("process.host"))
        self.processes.live[box.pid] = box
        return box

    def run_until_idle(self, *, limit_ns: int | None = None) -> None:
        """Advance virtual time until nothing is due (or the limit)."""
        deadline = None if limit_ns is None else self.now_ns + limit_ns
        while (due := self.agenda.next_due()) is not None and (deadline is None or due <= deadline):
            self._advance_to(due)

    @property
    def runs(self) -> tuple[WorkflowRun, ...]:
        """The latest run of every workflow in the world, in start order."""
        return tuple(wf.run.latest for wf in self.workflows.states.values())

    def all_runs(self) -> list[WorkflowRun]:
        """Every run, in start order; each continue-as-new, retry or cron chain from its first run."""
        out: list[WorkflowRun] = []
        for latest in self.runs:
            chain: list[WorkflowRun] = []
            run: WorkflowRun | None = latest
            while run is not None:
                chain.append(run)
                run = run.previous_run
            out.extend(reversed(chain))
        return out

    def find_run(self, workflow_id: str) -> WorkflowRun | None:
        wf = self.workflows.states.get(workflow_id)
        return wf.run.latest if wf is not None else None

    def watch(self, run: WorkflowRun, callback: Callable[[WorkflowRun], None]) -> None:
        """Call `callback(run)` when this run closes (continue-as-new passes it on to the next run)."""
        self.workflows.watch(run, callback)

    def _local_send(self, dest: str, topic: str, values: tuple[Any, ...], sender: str) -> None:
        target = self.processes.live.get(dest)
        if target is not None:
            target.deliver(topic, sender, values)

    def start_from_process(
        self,
        workflow_type: str,
        host: str,
        payloads: list[Payload],
        options: dict[str, Any],
        context: dict[str, Any],
        name: str | None,
        messages: list[tuple[str, tuple[Any, ...]]],
        sender: str,
    ) -> tuple[WorkflowRun, str] | str:
        """Start a top-level workflow on a `temporal.worker` host: the workflow id (option, name,
        or generated), the conflict policy and its defaults, and startup messages (sent first, also to an
        existing execution under use_existing). Returns (run, PID) or an error message."""
        worker = self.app.entries.get(host)
        if worker is None or worker.kind != "temporal.worker":
            return f"host '{host}' is not a temporal.worker entry of this app"
        entry = self.app.entries.get(workflow_type)
        if not isinstance(entry, LuaEntry) or not entry.kind.startswith("workflow."):
            return f"'{workflow_type}' is not a workflow entry of this app"
        flat = {
            str(k).removeprefix("temporal.").removeprefix("workflow."): v for k, v in sorted(options.items())
        }
        explicit = flat.get("id") or name
        workflow_id = str(explicit) if explicit else f"{self._worker_uuid}_0x{next(self._generated_ids):05x}"
        policy = str(flat.get("id_conflict_policy") or ("use_existing" if explicit else "fail")).lower()
        error_when_started = bool(flat.get("execution_error_when_already_started", not explicit))
        client = getattr(worker, "client", None) or "app:client"
        pid = f"{{{client}@{host}|{workflow_id}}}"
        try:
            start = _start_options(flat, getattr(worker, "task_queue", None), self.now_ns)
        except (OptionError, ValueError) as exc:
            return str(exc)
        existing = self.find_run(workflow_id)
        reuse = str(flat.get("id_reuse_policy") or "allow_duplicate").lower()
        if existing is not None and existing.closed:
            if reuse == "reject_duplicate" or (
                reuse == "allow_duplicate_failed_only" and existing.status == "completed"
            ):
                return f"workflow execution already started: {workflow_id} (id_reuse_policy {reuse})"
        if existing is not None and not existing.closed:
            if policy == "terminate_existing":
                self.terminate(existing, "terminated by a new start (terminate_existing)")
            elif policy == "use_existing" and not error_when_started:
                for topic, values in messages:
                    self.signal(existing, topic, *values, sender=sender)
                return existing, pid
            else:
                return f"workflow execution already started: {workflow_id}"
        full_context = {**context, "temporal.signal.from": sender} if messages else dict(context)
        wf = self.workflows.launch(
            entry.id,
            workflow_id,
            payloads,
            full_context,
            None,
            start,
        )
        for topic, values in messages:
            wf.run.builder.workflow_execution_signaled(
                self.now_ns,
                signal_name=topic,
                input=[python_to_payload(v) for v in values],
                identity=IDENTITY,
                header={"wippy-context": python_to_payload({"temporal.signal.from": sender})},
            )
        self.agenda.at(self.now_ns, self._dispatch_due)
        return wf.run, pid

    def update(self, run: WorkflowRun | str, name: str, *args: Any) -> UpdateHandle:
        """Send an update: the workflow sees a message from `{update|<id>}` and answers with
        `ack`/`nak`, then `ok`/`error`; the handle follows its status."""
        wf = self._open(run)
        handle = UpdateHandle(f"update-{next(self._ids)}", name, tuple(python_to_payload(a) for a in args))
        wf.updates[handle.update_id] = handle
        wf.pending_updates.append(handle)
        wf.new_events = True
        self._dispatch_due()
        return handle

    def _open(self, run: WorkflowRun | str) -> WorkflowState:
        workflow_id = run if isinstance(run, str) else run.workflow_id
        wf = self.workflows.states.get(workflow_id)
        if wf is None or wf.run.closed:
            raise SimulationError(f"workflow '{workflow_id}' is not running")
        return wf

    def signal(self, run: WorkflowRun | str, name: str, *args: Any, sender: str | None = None) -> None:
        """Send a signal (a Wippy message with topic `name`, one payload per argument) now."""
        self._append_signal(self._open(run), name, args, sender)
        self._dispatch_due()

    def signal_at(
        self, run: WorkflowRun, offset_ns: int, name: str, *args: Any, sender: str | None = None
    ) -> None:
        """Send a signal `offset_ns` after the run started (ignored if the run has closed by then)."""

        def send() -> None:
            latest = run.latest
            if not latest.closed:
                self._append_signal(self.workflows.states[latest.workflow_id], name, args, sender)

        self.agenda.at(max(run.start_ns + offset_ns, self.now_ns), send)

    def _append_signal(self, wf: WorkflowState, name: str, args: tuple[Any, ...], sender: str | None) -> None:
        header = {"wippy-context": python_to_payload({"temporal.signal.from": sender})} if sender else None
        wf.run.builder.workflow_execution_signaled(
            self.now_ns,
            signal_name=name,
            input=[python_to_payload(a) for a in args],
            identity=IDENTITY,
            header=header,
        )
        wf.new_events = True

    def request_cancel(self, run: WorkflowRun | str, reason: str = "") -> None:
        """Request cancellation: the workflow sees a CANCEL event and decides what to do."""
        wf = self._open(run)
        wf.run.builder.workflow_execution_cancel_requested(self.now_ns, cause=reason, identity=IDENTITY)
        wf.new_events = True
        self._dispatch_due()


def _start_options(flat: Mapping[str, Any], worker_queue: str | None, now_ns: int) -> StartOptions:
    """Start options of a workflow started from a process (the seed's Full Options Reference)."""
    cron = str(flat.get("cron_schedule") or "")
    delay = duration_option("start_delay", flat.get("start_delay", 0))
    if cron:
        delay = parse_cron(cron).next_after(now_ns) - now_ns  # the first run waits for its minute too
    memo = flat.get("memo")
    search = flat.get("search_attributes")
    policy = flat.get("retry_policy")
    return StartOptions(
        task_queue=str(flat.get("task_queue") or worker_queue or "") or None,
        timeout_ns=first_positive(
            duration_option("run_timeout", flat.get("run_timeout", 0)),
            duration_option("execution_timeout", flat.get("execution_timeout", 0)),
        ),
        start_delay_ns=delay,
        cron_schedule=cron,
        memo={k: python_to_payload(v) for k, v in sorted(memo.items())} if isinstance(memo, dict) else None,
        search_attributes=search_attribute_payloads(search) if isinstance(search, dict) else None,
        retry_policy=retry_policy(policy) if policy is not None else None,
    )
