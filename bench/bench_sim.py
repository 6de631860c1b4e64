"""Simulator budgets: what a simulated run costs.

Prints:
  - a saga run (3 activities, a 1 h timer, compensations on failure): median wall time (goal < 1 ms,
    without the replay check), for the happy path and for a failing last step;
  - a 10,000-event workflow (a loop of activities): the whole run (goal < 1 s) and events per second;
  - memory per live execution (goal < 200 KiB): RSS growth over 1,000 workflows blocked on a timer.
Run: python bench/bench_sim.py
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wftest import load_app  # noqa: E402
from wftest.sim import World  # noqa: E402
from wftest.sim.activities import ActivityError  # noqa: E402

APP = load_app(ROOT / "fixtures" / "sim")
ORDER = {"id": "o-1", "items": ["a", "b"], "total": 50}


def saga(fail_ship: bool) -> World:
    world = World(APP)
    world.mock("app.act:reserve", {"id": "r-1"})
    world.mock("app.act:charge", {"id": "p-1"})
    world.mock("app.act:release", True)
    world.mock("app.act:refund", True)
    if fail_ship:
        world.mock("app.act:ship", error=ActivityError("no courier", kind="Unavailable", retryable=False))
    else:
        world.mock("app.act:ship", {"tracking": "T-1"})
    run = world.start("app.wf:saga", ORDER)
    world.run_until_closed(run)
    assert run.status == "completed", run.failure
    return world


def timed(fn, rounds: int) -> list[float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return samples


def rss_kib() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4


def main() -> None:
    for _ in range(20):
        saga(False)
    ok = statistics.median(timed(lambda: saga(False), 300)) * 1e3
    bad = statistics.median(timed(lambda: saga(True), 300)) * 1e3
    print(f"saga run, happy path:                 median {ok:7.3f} ms   goal < 1 ms")
    print(f"saga run, ship fails + compensations: median {bad:7.3f} ms   goal < 1 ms")

    world = World(APP)
    t0 = time.perf_counter()
    run = world.start("app.wf:many_activities", 1666)
    world.run_until_closed(run)
    elapsed = time.perf_counter() - t0
    events = len(run.history.events)
    print(f"{events}-event workflow (Lua activities): {elapsed:7.3f} s total, {events / elapsed:9.0f} events/s"
          "   goal < 1 s")
    world = World(APP)
    world.mock("app.act:echo", lambda args, info: args[0])
    t0 = time.perf_counter()
    run = world.start("app.wf:many_activities", 1666)
    world.run_until_closed(run)
    elapsed = time.perf_counter() - t0
    print(f"{events}-event workflow (mocked):          {elapsed:7.3f} s total, {events / elapsed:9.0f} events/s"
          "   goal < 1 s")

    gc.collect()
    before = rss_kib()
    world = World(APP)
    runs = [world.start("app.wf:hello") for _ in range(1000)]
    gc.collect()
    after = rss_kib()
    print(f"memory per live execution:            {(after - before) / len(runs):7.1f} KiB (RSS growth / 1000)"
          "   goal < 200 KiB")


if __name__ == "__main__":
    main()
