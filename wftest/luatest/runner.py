"""Wippy's own Lua tests (`function.lua` entries with `meta.type: test`) run in a simulated world.

Each test runs as a plain Wippy process in a fresh `World` on the virtual clock; workflows it starts on
a `temporal.worker` host run in the same world. The verdict follows Wippy's runner: a raised
error, a returned error (`nil, err`) or a returned `false` fails, anything else passes. On top of that a
test fails when one of its `wippy.test:test` cases failed, when it has not finished within `limit_ns`
of virtual time, or when a workflow run it started does not replay (strict) with the same code.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, TypeGuard

from wftest.app import App, Entry, LuaEntry
from wftest.app.model import FUNCTION_LUA
from wftest.errors import UserError
from wftest.lua.compiler import CompileError, chunkname_of
from wftest.lua.gotime import format_duration
from wftest.lua.sandbox import LoadError, LuaFailure, NoHostError
from wftest.luatest.module import TEST_MODULE_ID, CaseRecorder, CaseResult, recording
from wftest.replay.replayer import NondeterminismError
from wftest.sim import SimulationError, WorkflowRun, World
from wftest.sim.process_driver import ProcessRun

#: A day of virtual time: long enough for tests that sleep, short enough that a stuck one ends quickly.
DEFAULT_LIMIT_NS = 24 * 3600 * 10**9

FailureReason = Literal[
    "load", "error", "returned_error", "returned_false", "cases", "timeout", "simulation", "nondeterminism"
]


class LuaTestError(UserError):
    """The entry asked for is not a Lua test of the app (a caller's mistake, not a failing test)."""


@dataclass(frozen=True)
class LuaTestSpec:
    """One collected Lua test. Paths are relative to ``app_root``: ``source_file`` is the Lua source,
    ``registry_file``/``registry_line`` where the entry is declared. ``bdd`` is true when the entry
    imports ``wippy.test:test``."""

    __test__ = False  # not a pytest test class, whatever its name

    entry_id: str
    suite: str | None
    name: str | None
    description: str | None
    source_file: str
    registry_file: str
    registry_line: int
    app_root: Path
    bdd: bool

    @property
    def display_name(self) -> str:
        """``meta.name`` if given, else the entry id."""
        return self.name or self.entry_id


@dataclass(frozen=True)
class ReplayFailure:
    """A workflow run the test started that did not replay: the `NondeterminismError` report."""

    workflow_id: str
    run_id: str
    report: str


@dataclass(frozen=True)
class LuaTestOutcome:
    """What one run of a Lua test gave. ``reason`` is None when it passed; ``message`` says why it failed
    in one line (``file:line: ...`` when Lua knows where). ``result`` is the first returned value, ``logs``
    what it printed, ``runs`` every workflow run it started (start order, retries and continuations
    included), ``elapsed_ns`` the virtual time it took."""

    __test__ = False

    spec: LuaTestSpec
    reason: FailureReason | None
    message: str = ""
    cases: tuple[CaseResult, ...] = ()
    logs: tuple[str, ...] = ()
    result: Any = None
    runs: tuple[WorkflowRun, ...] = ()
    replay_failures: tuple[ReplayFailure, ...] = ()
    elapsed_ns: int = 0
    traceback: str = field(default="", repr=False)

    @property
    def passed(self) -> bool:
        return self.reason is None

    @property
    def status(self) -> Literal["passed", "failed"]:
        return "passed" if self.reason is None else "failed"

    def report(self) -> str:
        """The whole story of a failure, for a test report: the message, each failed case, each replay
        report and the logs. Empty when the test passed."""
        if self.passed:
            return ""
        lines = [f"{self.spec.entry_id} failed: {self.message}"]
        failed = [case for case in self.cases if case.status == "failed"]
        if failed:
            lines.append("failed cases:")
            lines.extend(f"  {case.name}: {case.failure_text()}" for case in failed)
        for failure in self.replay_failures:
            lines.append(f"replay of workflow {failure.workflow_id} (run {failure.run_id}):")
            lines.extend(f"  {line}" for line in failure.report.splitlines())
        if self.traceback:
            lines.append(self.traceback)
        if self.logs:
            lines.append("logs:")
            lines.extend(f"  {line}" for line in self.logs)
        return "\n".join(lines)


def collect_lua_tests(app: App) -> list[LuaTestSpec]:
    """Every ``function.lua`` entry with ``meta.type: test``, sorted by entry id."""
    return [_spec(app, entry) for entry in app.entries.values() if _is_lua_test(entry)]


def _is_lua_test(entry: Entry) -> TypeGuard[LuaEntry]:
    return isinstance(entry, LuaEntry) and entry.kind == FUNCTION_LUA and entry.test is not None


def _spec(app: App, entry: LuaEntry) -> LuaTestSpec:
    test = entry.test
    assert test is not None
    return LuaTestSpec(
        entry_id=entry.id,
        suite=test.suite,
        name=test.name,
        description=test.description,
        source_file=chunkname_of(entry),
        registry_file=entry.file,
        registry_line=entry.line,
        app_root=app.root,
        bdd=TEST_MODULE_ID in entry.imports.values(),
    )


def run_lua_test(
    app: App, entry_id: str, *, seed: int = 0, limit_ns: int = DEFAULT_LIMIT_NS
) -> LuaTestOutcome:
    """Run one Lua test in a fresh world seeded with `seed`, for at most `limit_ns` of virtual time."""
    entry = app.entries.get(entry_id)
    if entry is None or not _is_lua_test(entry):
        if entry is None:
            what = "not an entry of this app"
        elif entry.test is None:
            what = f"a {entry.kind} entry without meta.type: test"
        else:
            what = f"a {entry.kind} entry; Lua tests are {FUNCTION_LUA} entries"
        tests = ", ".join(e.id for e in app.entries.values() if _is_lua_test(e)) or "none"
        raise LuaTestError(f"'{entry_id}' is {what} (the app's Lua tests: {tests})")
    if limit_ns <= 0:
        raise LuaTestError(f"limit_ns must be positive, got {limit_ns}")
    return _TestRun(app, _spec(app, entry), seed, limit_ns).outcome()


class _TestRun:
    """One test in its own world: run it, judge it, replay what it started."""

    def __init__(self, app: App, spec: LuaTestSpec, seed: int, limit_ns: int) -> None:
        self.spec = spec
        self.world = World(app, seed=seed)
        self.started_ns = self.world.now_ns
        self.limit_ns = limit_ns
        self.recorder = CaseRecorder()
        self.process: ProcessRun | None = None
        self.stalled = False

    def outcome(self) -> LuaTestOutcome:
        reason: FailureReason | None
        with recording(self.recorder):
            try:
                self.process = self.world.run_process(self.spec.entry_id)
                self._run()
                reason, message, traceback = self._verdict(self.process)
            except (LoadError, CompileError, NoHostError, LuaFailure) as exc:  # LuaFailure: the script raised
                reason, message, traceback = "load", str(exc), ""
            except SimulationError as exc:
                reason, message, traceback = "simulation", str(exc), ""
        cases = self._cases(reason)
        failed = sum(case.status == "failed" for case in cases)
        if reason is None and failed:
            reason, message = "cases", f"{failed} of {len(cases)} cases failed"
        runs = self._runs()
        replay_failures = tuple(self._replay(runs))
        if reason is None and replay_failures:
            ids = ", ".join(f.workflow_id for f in replay_failures)
            reason, message = "nondeterminism", f"replay of a workflow it started differs: {ids}"
        return LuaTestOutcome(
            spec=self.spec,
            reason=reason,
            message=message,
            cases=cases,
            logs=tuple(self.process.logs) if self.process is not None else (),
            result=self.process.result if self.process is not None else None,
            runs=runs,
            replay_failures=replay_failures,
            elapsed_ns=self.world.now_ns - self.started_ns,
            traceback=traceback,
        )

    def _run(self) -> None:
        """Advance virtual time until the test's process closes, nothing is left to happen (``stalled``),
        or the limit."""
        assert self.process is not None
        deadline = self.started_ns + self.limit_ns
        while not self.process.closed:
            due = self.world.agenda.next_due()
            if due is None:
                self.stalled = True
                return
            if due > deadline:
                return
            self.world.run_until_idle(limit_ns=due - self.world.now_ns)

    def _verdict(self, process: ProcessRun) -> tuple[FailureReason | None, str, str]:
        if not process.closed:
            case = self.recorder.running
            inside = f" in case '{case.name}'" if case is not None else ""
            if self.stalled:
                elapsed = format_duration(self.world.now_ns - self.started_ns)
                why = f"is stuck{inside}: nothing can wake it (after {elapsed} of virtual time)"
            else:
                why = f"did not finish within {format_duration(self.limit_ns)} of virtual time{inside}"
            return "timeout", f"{why}; {self._waiting(process)}", ""
        if process.failure is not None:
            return "error", str(process.failure), process.failure.traceback
        if process.error is not None:
            return "returned_error", f"returned an error: {process.error}", ""
        if process.values and process.values[0] is False:
            return "returned_false", "returned false", ""
        return None, "", ""

    def _waiting(self, process: ProcessRun) -> str:
        """Where the test's coroutines wait."""
        return self.world.process_waiting(process.pid) or "it waits on nothing that can wake it"

    def _cases(self, reason: FailureReason | None) -> tuple[CaseResult, ...]:
        cases = list(self.recorder.cases)
        running = self.recorder.running
        if running is not None:
            if reason == "timeout":
                why = "nothing can wake it" if self.stalled else "the test timed out"
            else:
                why = "the test stopped"
            cases.append(replace(running, status="failed", message=f"did not finish: {why}"))
        return tuple(cases)

    def _runs(self) -> tuple[WorkflowRun, ...]:
        return tuple(self.world.all_runs())

    def _replay(self, runs: tuple[WorkflowRun, ...]) -> list[ReplayFailure]:
        failures = []
        for run in runs:
            if run.entry is None:
                continue  # an unregistered workflow type: no code to replay
            try:
                self.world.check_replay(run)
            except NondeterminismError as exc:
                failures.append(ReplayFailure(run.workflow_id, run.run_id, str(exc)))
        return failures
