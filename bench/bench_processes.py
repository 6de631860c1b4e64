"""Plain processes beside a workflow (process hosts).

Prints:
  - 10,000 plain processes on a process.host, each exchanging one message with one workflow (the
    process sends "hello", the workflow answers "ack" by process.send): wall time per process;
  - memory per live plain process: RSS growth over 10,000 processes all waiting on their inbox.
Run: python bench/bench_processes.py [N]
"""

from __future__ import annotations

import gc
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wftest import load_app  # noqa: E402
from wftest.sim import World  # noqa: E402

APP = load_app(ROOT / "bench" / "processes_app")


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def exchange(n: int) -> None:
    world = World(APP)
    run = world.start("app:collector", n, workflow_id="collector")
    world.run_until_idle()
    pid = world.pid_of("collector")
    started = time.perf_counter()
    processes = [world.run_process("app:pinger", pid, host="app:procs") for _ in range(n)]
    world.run_until_closed(run)
    world.run_until_idle()
    elapsed = time.perf_counter() - started
    assert run.status == "completed" and run.result == n, run.status
    assert all(p.result == "ack" for p in processes)
    print(f"{n} processes x one message with a workflow: {elapsed:6.2f} s, "
          f"{elapsed / n * 1e6:7.1f} us per process ({len(run.history.events)} workflow events)")


def live(n: int) -> None:
    world = World(APP)
    gc.collect()
    before = rss_kib()
    processes = [world.run_process("app:idle", host="app:procs") for _ in range(n)]
    world.run_until_idle()
    gc.collect()
    after = rss_kib()
    assert all(not p.closed for p in processes)
    print(f"memory per live plain process: {(after - before) / n:7.1f} KiB (RSS growth / {n})")


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    exchange(count)
    live(count)
