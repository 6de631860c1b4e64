"""Seeded exploration: run a scenario under many seeds that change only what the real world leaves open
(activity durations within declared bounds, injected activity faults, worker crashes), find the seeds
that fail, and rerun any of them exactly (issue #8)."""

from wftest.explore.perturb import Perturbation
from wftest.explore.report import ExplorationFailed, ExplorationReport, SeedNotReproducible, SeedResult
from wftest.explore.runner import ExploreSettings, Scenario, explore, run_seed, seed_result, workflow_runs
from wftest.sim.perturbation import CrashRecord, FaultRecord

__all__ = [
    "CrashRecord",
    "SeedNotReproducible",
    "ExplorationFailed",
    "ExplorationReport",
    "ExploreSettings",
    "FaultRecord",
    "Perturbation",
    "Scenario",
    "SeedResult",
    "explore",
    "run_seed",
    "seed_result",
    "workflow_runs",
]
