"""Exploration in pytest: `--lua-explore N` makes an item per seed, `--lua-explore-budget` bounds a
test's seeds, the first seed reruns to prove it reproduces, and the session ends with what each
explored test covered."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import pytest

from wftest.explore import workflow_runs
from wftest.plugin.config import base_nodeid
from wftest.plugin.state import HARNESS_KEY, session_state
from wftest.testing import Wippy


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`--lua-explore N` makes one item per seed of every test that uses `wippy` (xdist spreads them);
    `--lua-explore-seed S` makes just that seed's item."""
    if "wippy" not in metafunc.fixturenames:
        return
    config = metafunc.config
    single = config.getoption("lua_explore_seed")
    count = config.getoption("lua_explore")
    if single is None and count <= 0:
        return
    seeds = [single] if single is not None else list(range(count))
    metafunc.parametrize("wippy_explore_seed", seeds, ids=[f"seed{s}" for s in seeds], indirect=True)


def explored(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    return callspec is not None and "wippy_explore_seed" in callspec.params


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """`--lua-explore-budget`: once a test's seeds have used the budget, its later seeds are skipped
    (wall time decides only whether a seed runs, never what happens in it)."""
    budget = item.config.getoption("lua_explore_budget")
    if budget is None or not explored(item):
        return
    spent = session_state(item.config).explore_spent.get(base_nodeid(item.nodeid))
    if spent is not None and spent >= budget:  # the first seed always runs
        pytest.skip(f"exploration budget of {budget:g}s for this test is spent")


def record(item: pytest.Item, began: float) -> None:
    """After an explored item: add its wall time to its test's budget, and note what it covered."""
    spent = session_state(item.config).explore_spent
    base = base_nodeid(item.nodeid)
    spent[base] = spent.get(base, 0.0) + time.perf_counter() - began
    harness = item.stash.get(HARNESS_KEY, None)
    if harness is not None:
        item.user_properties.append((EXPLORED, explored_coverage(harness)))


def first_seed(config: pytest.Config) -> int:
    single = config.getoption("lua_explore_seed")
    return int(single) if single is not None else 0


SNAPSHOTS_LEFT = "snapshots are not compared in explored runs and are left as they are"


def leave_snapshots_alone(config: pytest.Config) -> None:
    """Explored runs compare no snapshots, so syrupy must neither call them unused (and fail the run)
    nor delete them under `--snapshot-update`."""
    option = config.option
    if hasattr(option, "update_snapshots"):
        option.update_snapshots = False
        option.warn_unused_snapshots = True
        option.disable_unused_snapshots = True


class AnySnapshot:
    """Stands in for syrupy's `snapshot` in explored runs: a snapshot pins the test's fixed timings."""

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = None  # type: ignore[assignment]


def history_digest(harness: Wippy) -> str:
    """One digest of every history a test's world holds (the self-check compares two runs by it)."""
    digest = hashlib.sha256()
    for run in workflow_runs(harness.world):
        digest.update(run.history_json().encode())
    return digest.hexdigest()


EXPLORED = "wftest-explored"  # a user property: travels with the report, also from xdist workers


def explored_coverage(harness: Wippy) -> dict[str, Any]:
    perturbation = harness.world.perturbation
    faulted = [f.activity_type for f in perturbation.faulted] if perturbation is not None else []
    crashed = [c.task for c in perturbation.crashed] if perturbation is not None else []
    return {"digest": history_digest(harness), "faulted": faulted, "crashed": crashed}


class ExplorationCoverage:
    """Collects what each explored test's seeds covered (on the xdist controller too) and reports it:
    seeds run, distinct histories, faulted activities, workflow tasks the worker crashed after."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        for name, value in report.user_properties:
            if name == EXPLORED and isinstance(value, dict):
                empty = {"seeds": 0, "digests": set(), "faulted": set(), "crashed": set()}
                test = session_state(self.config).explored.setdefault(base_nodeid(report.nodeid), empty)
                test["seeds"] += 1
                test["digests"].add(value["digest"])
                test["faulted"].update(value["faulted"])
                test["crashed"].update(value["crashed"])

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        seen = session_state(self.config).explored
        if not seen:
            return
        terminalreporter.section("wftest exploration")
        if hasattr(self.config.option, "update_snapshots"):
            terminalreporter.write_line(SNAPSHOTS_LEFT)
        for nodeid in sorted(seen):
            test = seen[nodeid]
            terminalreporter.write_line(
                f"{nodeid}: {test['seeds']} seeds, {len(test['digests'])} distinct histories; "
                f"faulted: {', '.join(sorted(test['faulted'])) or 'none'}; "
                f"crashed after tasks: {', '.join(map(str, sorted(test['crashed']))) or 'none'}"
            )
