"""Exploration budget (issue #8): 100 seeds of a saga (3 activities, a 1 h timer, compensations) in < 2 s.

Each seed runs the saga in a fresh world with explored durations, injected faults and worker crashes
(each crash rebuilds the Lua runtime and replays the history so far), replays every run strictly, and the
exploration ends with its determinism self-check (one more seed). Prints the median of 3 explorations.
Run: python bench/bench_explore.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wftest import load_app  # noqa: E402
from wftest.explore import explore  # noqa: E402
from wftest.sim import World  # noqa: E402

APP = load_app(ROOT / "fixtures" / "explore")
ORDER = {"id": "o-1", "items": ["a", "b"], "total": 50}
S = 1_000_000_000


def saga(world: World, seed: int) -> None:
    world.mock("app.act:reserve", {"id": "r-1"}, duration_ns=S, duration_bounds_ns=(S, 20 * S))
    world.mock("app.act:charge", {"id": "p-1"}, duration_ns=S, duration_bounds_ns=(S, 20 * S))
    world.mock("app.act:ship", {"tracking": "T-1"}, duration_ns=S, duration_bounds_ns=(S, 20 * S))
    world.mock("app.act:release", True)
    world.mock("app.act:refund", True)
    run = world.run_until_closed(world.start("app.wf:saga", ORDER))
    assert run.status == "completed", run.failure


def main() -> None:
    explore(saga, app=APP, seeds=5, faults=True, crashes=True)  # warm-up
    samples = []
    for _ in range(3):
        t0 = time.perf_counter()
        report = explore(saga, app=APP, seeds=100, faults=True, crashes=True)
        samples.append(time.perf_counter() - t0)
        assert report.ok, report.summary()
    print(report.summary())
    print(
        f"explore 100 seeds of the saga (bounds, faults, crashes, replay checks): "
        f"median {statistics.median(samples):6.3f} s   goal < 2 s"
    )


if __name__ == "__main__":
    main()
