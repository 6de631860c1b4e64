"""What an exploration found: per seed pass or fail, the histories it produced, the faults and crashes it
injected; and the report over all seeds with a one-line reproduction of each failing seed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from wftest.errors import RunOutcome, UserError
from wftest.sim.perturbation import CrashRecord, FaultRecord

SHOWN_FAILURES = 5  # failing seeds a summary details; the rest are listed by number


class SeedNotReproducible(UserError):
    """Rerunning a seed gave a different history: the simulation itself is not deterministic, so no
    seed of this exploration can be trusted to reproduce."""


class ExplorationFailed(AssertionError, RunOutcome):
    """Some seeds failed; the message is the report with each failing seed's reproduction."""


@dataclass(frozen=True)
class SeedResult:
    """One seed's run: its error (None: passed), a digest of every history it produced (exact bytes) and
    of their orderings (event types only, so timing-only differences count once), and what was injected."""

    seed: int
    error: Exception | None
    digest: str
    ordering: str
    faults: tuple[FaultRecord, ...] = ()
    crashes: tuple[CrashRecord, ...] = ()

    @property
    def passed(self) -> bool:
        return self.error is None

    def __repr__(self) -> str:
        verdict = "passed" if self.error is None else f"failed: {type(self.error).__name__}"
        return f"<seed {self.seed} {verdict}; {len(self.faults)} fault(s), {len(self.crashes)} crash(es)>"


@dataclass(frozen=True)
class ExplorationReport:
    """Every seed that ran, in order. `seeds_requested - len(results)` seeds were skipped by the budget."""

    results: tuple[SeedResult, ...]
    seeds_requested: int
    self_check_seed: int
    reproduce: Callable[[int], str] = field(repr=False, compare=False)

    def __repr__(self) -> str:
        failed = len(self.failures)
        return (
            f"<ExplorationReport {len(self.results)}/{self.seeds_requested} seeds: {failed} failed, "
            f"{self.distinct_histories} distinct histories>"
        )

    @property
    def stopped_early(self) -> bool:
        return len(self.results) < self.seeds_requested

    @property
    def failures(self) -> tuple[SeedResult, ...]:
        return tuple(r for r in self.results if not r.passed)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def distinct_histories(self) -> int:
        return len({r.digest for r in self.results})

    @property
    def distinct_orderings(self) -> int:
        return len({r.ordering for r in self.results})

    @property
    def faulted_activities(self) -> tuple[str, ...]:
        """Activity types that had at least one injected fault, sorted."""
        return tuple(sorted({f.activity_type for r in self.results for f in r.faults}))

    @property
    def crashed_tasks(self) -> tuple[tuple[str, int], ...]:
        """(workflow id, workflow task) pairs the worker crashed after in some seed, sorted."""
        return tuple(sorted({(c.workflow_id, c.task) for r in self.results for c in r.crashes}))

    def reproduction(self, seed: int) -> str:
        """One line that reruns exactly this seed."""
        return self.reproduce(seed)

    def summary(self) -> str:
        failed = len(self.failures)
        lines = [
            f"explored {len(self.results)} of {self.seeds_requested} seeds"
            + (" (stopped by the time budget)" if self.stopped_early else "")
            + f": {len(self.results) - failed} passed, {failed} failed; {self.distinct_histories} distinct "
            f"histories, {self.distinct_orderings} distinct orderings",
            "faulted activities: " + (", ".join(self.faulted_activities) or "none"),
            "crashed after workflow tasks: "
            + (", ".join(f"{wid} #{task}" for wid, task in self.crashed_tasks) or "none"),
            f"determinism self-check: seed {self.self_check_seed} rerun, identical histories",
        ]
        for result in self.failures[:SHOWN_FAILURES]:
            assert result.error is not None
            message = str(result.error).strip() or "(no message)"
            lines.append(f"seed {result.seed} failed: {type(result.error).__name__}: {message}")
            lines.append(f"  reproduce: {self.reproduction(result.seed)}")
        more = [str(r.seed) for r in self.failures[SHOWN_FAILURES:]]
        if more:
            lines.append(f"{len(more)} more failing seeds: {', '.join(more)}")
        return "\n".join(lines)

    def check(self) -> ExplorationReport:
        """Raise ExplorationFailed (an AssertionError, so pytest shows it as a failure) when a seed failed."""
        if self.failures:
            raise ExplorationFailed(self.summary())
        return self
