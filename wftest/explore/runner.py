"""Running one scenario under many exploration seeds: a fresh World per seed with that seed's
Perturbation, the strict replay check of every run, digests of the histories, a wall-time budget that
only decides whether another seed starts, and a determinism self-check that reruns one seed."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, fields

from wftest.app import App
from wftest.explore.perturb import DEFAULT_CRASH_RATE, DEFAULT_FAULT_RATE, CrashMode, Perturbation
from wftest.explore.report import ExplorationReport, SeedNotReproducible, SeedResult
from wftest.sim import WorkflowRun, World
from wftest.sim.timing import DEFAULT_START_NS

Scenario = Callable[[World, int], object]
"""Receives a fresh World (its perturbation set) and the seed; starts and runs workflows; raises to fail."""


@dataclass(frozen=True)
class ExploreSettings:
    """Everything besides the seed that decides a seed's run: what may be injected, the world's own seed
    (side-effect values, run ids; fixed so that seeds differ only in what they explore) and whether every
    run is replayed (strict) after the scenario."""

    faults: bool | Collection[str] = False
    crashes: CrashMode = False
    fault_rate: float = DEFAULT_FAULT_RATE
    crash_rate: float = DEFAULT_CRASH_RATE
    world_seed: int = 0
    replay_check: bool = True
    start_ns: int = DEFAULT_START_NS
    strict_activities: bool = False  # an unmocked activity raises (the pytest fixture's rule)

    def __post_init__(self) -> None:
        object.__setattr__(self, "faults", self.perturbation(0).faults)  # validates; a frozenset
        if isinstance(self.world_seed, bool) or not isinstance(self.world_seed, int):
            raise ValueError(f"world_seed must be an integer, not {self.world_seed!r}")

    def perturbation(self, seed: int) -> Perturbation:
        return Perturbation(
            seed,
            faults=self.faults,
            crashes=self.crashes,
            fault_rate=self.fault_rate,
            crash_rate=self.crash_rate,
        )

    def world(self, app: App, seed: int) -> World:
        """A fresh world for this seed."""
        return World(
            app,
            start_ns=self.start_ns,
            seed=self.world_seed,
            strict_activities=self.strict_activities,
            perturbation=self.perturbation(seed),
        )

    def arguments(self) -> str:
        """The settings that differ from the defaults, as Python keyword arguments (`, faults=True`)."""
        out = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value != f.default:
                shown = sorted(value) if isinstance(value, frozenset) else value
                out.append(f", {f.name}={shown!r}")
        return "".join(out)


def workflow_runs(world: World) -> list[WorkflowRun]:
    """Every run of the world in start order, each chain from its first run."""
    return world.all_runs()


def _histories(world: World) -> bytes:
    return b"\n".join(run.history_json().encode() for run in workflow_runs(world))


def _ordering(world: World) -> str:
    text = ";".join(
        run.workflow_id + ":" + ",".join(str(e.event_type) for e in run.builder.events)
        for run in workflow_runs(world)
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def seed_result(world: World, seed: int, error: Exception | None) -> SeedResult:
    """The result of a seed's finished run in `world` (made by ExploreSettings.world)."""
    return _result(world, seed, error, _histories(world))


def _result(world: World, seed: int, error: Exception | None, histories: bytes) -> SeedResult:
    perturbation = world.perturbation
    return SeedResult(
        seed,
        error,
        hashlib.sha256(histories).hexdigest()[:16],
        _ordering(world),
        tuple(perturbation.faulted) if perturbation is not None else (),
        tuple(perturbation.crashed) if perturbation is not None else (),
    )


def _run(scenario: Scenario, seed: int, app: App, settings: ExploreSettings) -> tuple[SeedResult, bytes]:
    world = settings.world(app, seed)
    error: Exception | None = None
    try:
        scenario(world, seed)
        if settings.replay_check:
            for run in workflow_runs(world):
                if run.entry is not None:  # a mocked child workflow has no code to replay
                    world.check_replay(run)
    except Exception as exc:  # the scenario's verdict, a workflow bug, or nondeterminism: the seed fails
        error = exc
    histories = _histories(world)
    return _result(world, seed, error, histories), histories


def run_seed(
    scenario: Scenario, seed: int, *, app: App, settings: ExploreSettings | None = None
) -> SeedResult:
    """Run the scenario under one seed (the reproduction of a failing seed is this)."""
    return _run(scenario, seed, app, settings or ExploreSettings())[0]


def explore(
    scenario: Scenario,
    *,
    app: App,
    seeds: int | Iterable[int],
    faults: bool | Collection[str] = False,
    crashes: CrashMode = False,
    budget_s: float | None = None,
    fault_rate: float = DEFAULT_FAULT_RATE,
    crash_rate: float = DEFAULT_CRASH_RATE,
    world_seed: int = 0,
    replay_check: bool = True,
    reproduce: Callable[[int], str] | None = None,
    start_ns: int = DEFAULT_START_NS,
    strict_activities: bool = False,
) -> ExplorationReport:
    """Run `scenario` once per seed (`seeds=N` means 0..N-1), each in a fresh world. `budget_s` stops
    starting new seeds once that much wall time has passed (at least one seed runs; a seed's history
    never depends on it). Then one seed (the first failing, else the first) is rerun and its histories
    must be byte-identical, or SeedNotReproducible is raised. `reproduce(seed)` gives a failing seed's
    one-line reproduction (default: a Python expression calling explore)."""
    settings = ExploreSettings(
        faults, crashes, fault_rate, crash_rate, world_seed, replay_check, start_ns, strict_activities
    )
    seed_list = _seed_list(seeds)
    if budget_s is not None and (
        isinstance(budget_s, bool) or not isinstance(budget_s, (int, float)) or budget_s < 0
    ):
        raise ValueError(f"budget_s must be a non-negative number of seconds or None, not {budget_s!r}")
    began = time.perf_counter()
    results: list[SeedResult] = []
    kept: dict[int, bytes] = {}  # histories of the first seed and of the first failing seed
    for seed in seed_list:
        if results and budget_s is not None and time.perf_counter() - began >= budget_s:
            break
        result, histories = _run(scenario, seed, app, settings)
        if not results or (not result.passed and all(r.passed for r in results)):
            kept[seed] = histories
        results.append(result)
    check = next((r for r in results if not r.passed), results[0])
    _self_check(scenario, app, settings, check, kept[check.seed])
    return ExplorationReport(
        tuple(results),
        len(seed_list),
        check.seed,
        reproduce or _python_reproduction(scenario, app, settings),
    )


def _seed_list(seeds: int | Iterable[int]) -> list[int]:
    if isinstance(seeds, bool):
        raise ValueError(f"seeds must be a count or a collection of seeds, not {seeds!r}")
    if isinstance(seeds, int):
        if seeds < 1:
            raise ValueError(f"seeds must be at least 1, not {seeds}")
        return list(range(seeds))
    out = list(seeds)
    bad = [s for s in out if isinstance(s, bool) or not isinstance(s, int) or s < 0]
    if bad:
        raise ValueError(f"seeds must be non-negative integers; got {bad!r}")
    if not out:
        raise ValueError("seeds is empty: give a count (seeds=100) or some seeds (seeds=[3, 17])")
    if len(set(out)) != len(out):
        raise ValueError(f"seeds repeat: {out!r}")
    return out


def _self_check(
    scenario: Scenario, app: App, settings: ExploreSettings, first: SeedResult, expected: bytes
) -> None:
    """madsim's determinism check: the same seed must give the same bytes and the same verdict."""
    again, histories = _run(scenario, first.seed, app, settings)
    if histories == expected and again.passed == first.passed:
        return
    if histories == expected:
        problem = f"it {'passed' if again.passed else 'failed'} the second time, not the first"
    else:
        at = next(
            (i for i, (a, b) in enumerate(zip(expected, histories, strict=False)) if a != b),
            min(len(expected), len(histories)),
        )
        problem = (
            f"the histories differ from byte {at}: first run {expected[max(at - 60, 0) : at + 60]!r}, "
            f"rerun {histories[max(at - 60, 0) : at + 60]!r}"
        )
    raise SeedNotReproducible(
        f"seed {first.seed} is not deterministic: {problem}. Something outside the seed (wall clock, a "
        "mock with hidden state, set or dict order) reaches the run."
    )


def _python_reproduction(scenario: Scenario, app: App, settings: ExploreSettings) -> Callable[[int], str]:
    name = f"{getattr(scenario, '__module__', '?')}.{getattr(scenario, '__qualname__', repr(scenario))}"
    head = f"wftest.explore.explore({name}, app=wftest.load_app({str(app.root)!r}), seeds=["
    tail = "]" + settings.arguments() + ").check()"
    return lambda seed: f"{head}{seed}{tail}"
