"""Seeded exploration (issue #8): activity durations within declared bounds, injected activity faults under
each call's retry policy, and worker crashes recovered by replay, all from one seed."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from checkout import ROOT
from temporalio.api.enums.v1 import RetryState

from wftest.app import App, load_app
from wftest.explore import (
    ExplorationFailed,
    ExploreSettings,
    Perturbation,
    SeedNotReproducible,
    explore,
    run_seed,
    seed_result,
    workflow_runs,
)
from wftest.history import event_types as ev
from wftest.replay import NondeterminismError
from wftest.sim import ActivityError, WorkflowRun, World

S = 1_000_000_000
MIN = 60 * S
ORDER = {"id": "o-1", "items": ["a", "b"], "total": 50}


@pytest.fixture(scope="module")
def app() -> App:
    return load_app(ROOT / "fixtures" / "explore")


# -- scenarios ---------------------------------------------------------------------------------------


def cooling_off(world: World, seed: int) -> None:
    """The price lookup usually takes a minute; in the real world it may take up to ten."""
    world.mock("app.act:price", 7, duration_ns=MIN, duration_bounds_ns=(10 * S, 10 * MIN))
    run = world.run_until_closed(world.start("app.wf:cooling_off", {"sku": "A", "qty": 3}))
    assert run.status == "completed", run.failure.message if run.failure is not None else run.status
    assert run.result == {"sku": "A", "total": 21}


def saga_scenario(workflow: str, *, bounds: bool = True) -> Any:
    """Runs a saga and checks its invariant: a failed order releases every reservation and refunds every
    charge it made; a completed one compensates nothing."""

    def scenario(world: World, seed: int) -> None:
        made: dict[str, list[str]] = {"reserve": [], "charge": [], "release": [], "refund": []}

        def record(name: str, prefix: str) -> Any:
            def serve(args: Any, info: Any) -> Any:
                made[name].append(f"{prefix}-{len(made[name]) + 1}" if prefix else args[0])
                return {"id": made[name][-1]} if prefix else True

            return serve

        span = (S, 20 * S) if bounds else None
        world.mock("app.act:reserve", record("reserve", "r"), duration_ns=S, duration_bounds_ns=span)
        world.mock("app.act:charge", record("charge", "p"), duration_ns=S, duration_bounds_ns=span)
        world.mock("app.act:ship", {"tracking": "T-1"}, duration_ns=S, duration_bounds_ns=span)
        world.mock("app.act:release", record("release", ""))
        world.mock("app.act:refund", record("refund", ""))
        run = world.run_until_closed(world.start(workflow, ORDER))
        assert run.status == "completed", run.status
        if run.result["status"] == "completed":
            assert not made["release"] and not made["refund"], made
        else:
            assert sorted(made["release"]) == sorted(made["reserve"]), (run.result, made)
            assert sorted(made["refund"]) == sorted(made["charge"]), (run.result, made)

    return scenario


saga = saga_scenario("app.wf:saga")
leaky_saga = saga_scenario("app.wf:leaky_saga")


def histories(world: World) -> list[str]:
    return [run.history_json() for run in workflow_runs(world)]


def task_count(run: WorkflowRun) -> int:
    return sum(1 for e in run.history.events if e.event_type == ev.WORKFLOW_TASK_COMPLETED)


# -- timing ------------------------------------------------------------------------------------------


def test_fixed_timing_misses_the_planted_ordering_bug(app: App) -> None:
    """The test as written passes: with its one-minute lookup the result is there after five minutes."""
    cooling_off(World(app), 0)


def test_exploration_finds_the_planted_ordering_bug(app: App) -> None:
    """Lookups slower than the 5 minute hold make the workflow read a missing result."""
    report = explore(cooling_off, app=app, seeds=20)
    assert 0 < len(report.failures) < 20
    assert all("cooling_off.lua:10" in str(r.error) for r in report.failures), report.summary()
    assert report.distinct_orderings == 2
    first = report.failures[0]
    again = run_seed(cooling_off, first.seed, app=app)
    assert (again.digest, str(again.error)) == (first.digest, str(first.error))


def test_durations_stay_within_bounds_and_reach_both_ends(app: App) -> None:
    """Each attempt's duration is one the mock declared possible; the extremes come up."""
    seen = set()
    for seed in range(15):
        world = ExploreSettings().world(app, seed)
        saga(world, seed)
        events = world.runs[0].history.events
        for e in events:
            if e.event_type != ev.ACTIVITY_TASK_COMPLETED:
                continue
            a = e.activity_task_completed_event_attributes
            took = e.event_time.ToNanoseconds() - events[a.started_event_id - 1].event_time.ToNanoseconds()
            scheduled = events[a.scheduled_event_id - 1].activity_task_scheduled_event_attributes
            if scheduled.activity_type.name in ("app.act:reserve", "app.act:charge", "app.act:ship"):
                assert S <= took <= 20 * S
                seen.add(took)
            else:
                assert took == 0  # no bounds: the declared duration
    assert {S, 20 * S} <= seen and len(seen) > 5


def test_without_bounds_faults_or_crashes_histories_are_todays(app: App) -> None:
    """A perturbation with nothing to vary leaves every byte as a world without one writes it."""
    plain = World(app)
    saga_scenario("app.wf:saga", bounds=False)(plain, 0)
    inert = World(app, perturbation=Perturbation(9))
    saga_scenario("app.wf:saga", bounds=False)(inert, 9)
    assert histories(inert) == histories(plain)
    assert not inert.perturbation.faulted and not inert.perturbation.crashed  # type: ignore[union-attr]


# -- faults ------------------------------------------------------------------------------------------


def test_faults_find_the_missing_compensation(app: App) -> None:
    """A charge that exhausts its 3 attempts leaves the reservation unreleased in leaky_saga."""
    report = explore(leaky_saga, app=app, seeds=40, faults=True)
    assert report.failures, report.summary()
    for result in report.failures:
        assert "'step': 'charge'" in str(result.error)
        charge = [f.attempt for f in result.faults if f.activity_type == "app.act:charge"]
        assert charge == [1, 2, 3]
    with pytest.raises(ExplorationFailed, match="reproduce: .*seeds=\\[\\d+\\], faults=True"):
        report.check()


def test_the_correct_saga_passes_every_fault(app: App) -> None:
    report = explore(saga, app=app, seeds=40, faults=True)
    assert report.ok, report.summary()
    assert report.faulted_activities == (
        "app.act:charge", "app.act:refund", "app.act:release", "app.act:reserve", "app.act:ship"
    )
    kinds = {f.kind for r in report.results for f in r.faults}
    assert kinds == {"failure", "timeout"}


def test_faults_only_where_allowed(app: App) -> None:
    report = explore(leaky_saga, app=app, seeds=30, faults={"app.act:ship"})
    assert report.ok, report.summary()  # the charge never fails, so the planted bug stays hidden
    assert report.faulted_activities == ("app.act:ship",)
    assert explore(leaky_saga, app=app, seeds=10).faulted_activities == ()


def test_retries_follow_the_call_policy(app: App) -> None:
    """A faulted call fails its first attempts; the server retries with the policy's backoff
    (1 s, then 2 s), the surviving attempt is recorded with its number, and a call that uses up
    maximum_attempts fails to the workflow with MAXIMUM_ATTEMPTS_REACHED."""
    recovered = exhausted = 0
    for seed in range(60):
        world = World(app, perturbation=Perturbation(seed, faults={"app.act:reserve"}, fault_rate=1))
        saga_scenario("app.wf:saga", bounds=False)(world, seed)
        faults = world.perturbation.faulted  # type: ignore[union-attr]
        assert [f.attempt for f in faults] == list(range(1, len(faults) + 1))
        assert 1 <= len(faults) <= 3
        events = world.runs[0].history.events
        closed = next(e for e in events if e.event_type in (
            ev.ACTIVITY_TASK_COMPLETED, ev.ACTIVITY_TASK_FAILED, ev.ACTIVITY_TASK_TIMED_OUT))
        started = events[closed.event_id - 2]
        took = [MIN if f.kind == "timeout" else S for f in faults]
        if closed.event_type == ev.ACTIVITY_TASK_COMPLETED:
            recovered += 1
            assert started.activity_task_started_event_attributes.attempt == len(faults) + 1
            backoff = [1 * S, 2 * S][: len(faults)]
            assert started.event_time.ToNanoseconds() - events[0].event_time.ToNanoseconds() == sum(
                took) + sum(backoff)
        else:
            exhausted += 1
            assert len(faults) == 3
            attrs = (closed.activity_task_failed_event_attributes
                     if closed.event_type == ev.ACTIVITY_TASK_FAILED
                     else closed.activity_task_timed_out_event_attributes)
            assert attrs.retry_state == RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED
            assert world.runs[0].result == {"status": "failed", "step": "reserve"}
    assert recovered and exhausted


def test_unlimited_retries_always_recover(app: App) -> None:
    """Compensations retry forever: a fault costs them 1 to 3 attempts, never the call."""
    for seed in range(20):
        world = World(app, perturbation=Perturbation(seed, faults={"app.act:release"}, fault_rate=1))
        world.mock("app.act:reserve", {"id": "r-1"})
        world.mock("app.act:charge", error=ActivityError("declined", kind="Declined", retryable=False))
        world.mock("app.act:release", True)
        run = world.run_until_closed(world.start("app.wf:saga", ORDER))
        assert run.result == {"status": "failed", "step": "charge"}
        assert 1 <= len(world.perturbation.faulted) <= 3  # type: ignore[union-attr]


# -- crashes -----------------------------------------------------------------------------------------


def test_crash_after_every_workflow_task_of_the_saga(app: App) -> None:
    """A worker crash is invisible in the server's history: after every task a fresh Lua runtime replays
    the history so far and carries on, and the history is byte for byte the one without crashes."""
    fixed = saga_scenario("app.wf:saga", bounds=False)
    plain = World(app)
    fixed(plain, 0)
    tasks = task_count(plain.runs[0])
    crashing = World(app, perturbation=Perturbation(0, crashes="every"))
    fixed(crashing, 0)
    crashed = crashing.perturbation.crashed  # type: ignore[union-attr]
    assert [c.task for c in crashed] == list(range(1, tasks))  # the last task closes the run
    assert histories(crashing) == histories(plain)


def test_random_crashes_cover_every_task_with_faults(app: App) -> None:
    report = explore(saga, app=app, seeds=30, faults=True, crashes=True)
    assert report.ok, report.summary()
    assert {task for _, task in report.crashed_tasks} >= set(range(1, 5))


def test_crash_recovery_exposes_unrecorded_randomness(app: App) -> None:
    """math.random is not recorded; the fresh worker draws another ticket and its replay diverges."""
    world = World(app, perturbation=Perturbation(0, crashes="every"))
    world.mock("app.act:draw", "a prize")
    with pytest.raises(NondeterminismError) as caught:
        world.run_until_closed(world.start("app.wf:lottery"))
    message = str(caught.value)
    assert message.startswith("worker crash after workflow task 1 of workflow lottery-1")
    assert "activity input differs" in message and "math.random" in message

    def scenario(world: World, seed: int) -> None:
        world.mock("app.act:draw", "a prize")
        world.run_until_closed(world.start("app.wf:lottery"))

    report = explore(scenario, app=app, seeds=1, crashes="every", replay_check=False)
    assert isinstance(report.failures[0].error, NondeterminismError)


def test_crashes_keep_accepted_updates(app: App) -> None:
    """Accepted updates are redelivered from their events when a fresh worker replays."""
    sim = load_app(ROOT / "fixtures" / "sim")
    outcomes = []
    for perturbation in (None, Perturbation(0, crashes="every")):
        world = World(sim, perturbation=perturbation)
        run = world.start("app.wf:updatable", 10)
        handles = [world.update(run, "add", 5), world.update(run, "add", -1), world.update(run, "add", 7)]
        world.signal(run, "close")
        world.run_until_closed(run)
        outcomes.append((run.result, [h.status for h in handles], run.history_json()))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][:2] == (22, ["completed", "rejected", "completed"])


# -- determinism and the report ----------------------------------------------------------------------

SCRIPT = """
import sys
sys.path[:0] = [sys.argv[2], sys.argv[3]]
from test_explore import saga
from wftest import load_app
from wftest.explore import run_seed, ExploreSettings
app = load_app(sys.argv[1])
print(run_seed(saga, 7, app=app, settings=ExploreSettings(faults=True, crashes=True)).digest)
"""


def test_same_seed_same_bytes_in_another_process(app: App) -> None:
    settings = ExploreSettings(faults=True, crashes=True)
    first, second = settings.world(app, 7), settings.world(app, 7)
    saga(first, 7)
    saga(second, 7)
    assert histories(first) == histories(second)
    other = settings.world(app, 8)
    saga(other, 8)
    assert histories(other) != histories(first)
    here = seed_result(first, 7, None).digest
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(ROOT / "fixtures" / "explore"), str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True,
    )
    assert out.stdout.strip() == here


def test_self_check_catches_state_outside_the_seed(app: App) -> None:
    counter = itertools.count()

    def leaky(world: World, seed: int) -> None:
        world.mock("app.act:price", lambda args, info: next(counter))
        world.run_until_closed(world.start("app.wf:cooling_off", {"sku": "A", "qty": 1}))

    with pytest.raises(SeedNotReproducible, match="seed 0 is not deterministic: the histories differ"):
        explore(leaky, app=app, seeds=2)


def test_budget_stops_starting_seeds_without_changing_them(app: App) -> None:
    report = explore(saga, app=app, seeds=50, faults=True, budget_s=0)
    assert len(report.results) == 1 and report.stopped_early
    assert "explored 1 of 50 seeds (stopped by the time budget)" in report.summary()
    alone = run_seed(saga, 0, app=app, settings=ExploreSettings(faults=True))
    assert report.results[0].digest == alone.digest


def test_report_summary_and_reproduction(app: App) -> None:
    seeds = [4, 1, 2, 3, 0, 5, 8, 10, 11]
    report = explore(cooling_off, app=app, seeds=seeds, reproduce=lambda s: f"pytest t.py --seed {s}")
    assert report.self_check_seed == report.failures[0].seed
    text = report.summary()
    assert text.splitlines()[0].startswith("explored 9 of 9 seeds:")
    assert "faulted activities: none" in text and "crashed after workflow tasks: none" in text
    assert f"  reproduce: pytest t.py --seed {report.failures[0].seed}" in text
    assert len(report.failures) > 5 and "more failing seeds: " in text
    default = explore(cooling_off, app=app, seeds=[1], crashes="every", fault_rate=0.5)
    assert default.reproduction(1) == (
        f"wftest.explore.explore(test_explore.cooling_off, app=wftest.load_app({str(app.root)!r}), "
        "seeds=[1], crashes='every', fault_rate=0.5).check()"
    )
    assert report.results[0].seed == 4  # seeds run in the order given


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: Perturbation(-1), "seed must be a non-negative integer"),
        (lambda: Perturbation(0, faults="app.act:ship"), "faults must be True, False or a collection"),
        (lambda: Perturbation(0, faults=[1]), "faults must hold activity ids"),  # type: ignore[list-item]
        (lambda: Perturbation(0, crashes="sometimes"), "crashes must be True, False or 'every'"),  # type: ignore[arg-type]
        (lambda: Perturbation(0, crashes=1), "crashes must be True, False or 'every'"),  # type: ignore[arg-type]
        (lambda: Perturbation(0, fault_rate=2), "fault_rate must be a number from 0 to 1"),
        (lambda: ExploreSettings(world_seed="x"), "world_seed must be an integer"),  # type: ignore[arg-type]
    ],
)
def test_bad_settings_are_refused(call: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seeds": 0}, "seeds must be at least 1"),
        ({"seeds": []}, "seeds is empty"),
        ({"seeds": [1, 1]}, "seeds repeat"),
        ({"seeds": [-3]}, "seeds must be non-negative integers"),
        ({"seeds": True}, "seeds must be a count"),
        ({"seeds": 3, "budget_s": -1}, "budget_s must be a non-negative number"),
    ],
)
def test_bad_explore_arguments_are_refused(app: App, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        explore(saga, app=app, **kwargs)


def test_bad_bounds_name_the_call(app: App) -> None:
    world = World(app, perturbation=Perturbation(0))
    world.mock("app.act:price", 1, duration_bounds_ns=(5 * S, S))
    with pytest.raises(ValueError, match="duration_bounds_ns .* need 0 <= low <= high"):
        world.start("app.wf:cooling_off", {"sku": "A", "qty": 1})
