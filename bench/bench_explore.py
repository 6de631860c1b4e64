"""Exploration budget (issue #8): 100 seeds of the saga example (examples/saga: reserve, charge, ship,
compensations newest first) in under 2 s.

Each seed runs the saga in a fresh world with explored activity durations, injected faults on every
activity, a worker crash after every workflow task (each rebuilds the Lua runtime and replays the history
so far), the strict replay check of every run, and the exploration ends with its determinism self-check
(one more seed). Prints the median of 3 explorations.
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
from wftest.testing import Wippy  # noqa: E402

APP = load_app(ROOT / "examples" / "saga")
ORDER = {
    "items": [{"sku": "mug", "qty": 2}],
    "payment": {"amount": 24.5, "card": "tok_visa"},
    "shipping": {"address": "1 Main St"},
}
SERVICES = {
    "app:reserve_inventory": {"id": "res-1"},
    "app:charge_payment": {"id": "pay-1"},
    "app:ship_order": {"tracking": "TRK-1"},
    "app:release_inventory": True,
    "app:refund_payment": True,
}


async def saga(wippy: Wippy) -> None:
    for activity, value in SERVICES.items():
        wippy.mock(activity).takes_between("50ms", "20s").returns(value)
    result = await wippy.execute("app:order_saga", ORDER)
    assert result["status"] in ("completed", "failed"), result


def explore_once(seeds: int) -> float:
    began = time.perf_counter()
    report = Wippy(APP).explore(saga, seeds=seeds, faults=set(SERVICES), crashes="every")
    took = time.perf_counter() - began
    assert report.ok, report.summary()
    return took


def main() -> None:
    explore_once(5)  # warm-up
    samples = [explore_once(100) for _ in range(3)]
    print(
        "explore 100 seeds of examples/saga (durations, faults on every activity, a crash after every "
        f"workflow task, strict replay checks, self-check): median {statistics.median(samples):6.3f} s   "
        "goal < 2 s"
    )


if __name__ == "__main__":
    main()
