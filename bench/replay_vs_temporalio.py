"""Replay throughput: wftest vs temporalio's Replayer on the same workflow shape (activity, 1 h timer,
activity), measured in one process run, both from pre-built protobuf histories and both from JSON text
(temporalio: `WorkflowHistory.from_json` + `Replayer.workflow_replay_iterator`, the engine of
`replay_workflows`; wftest: `replay(app, text)`, what `wftest replay` does per file); plus a
10,000-event history, from protobuf and from JSON (in a fresh process of its own).

temporalio replays a plain Python workflow of that shape (unsandboxed); its history is built here with
wftest's HistoryBuilder in the shape the Python SDK records (no server is needed to replay).
Run: python bench/replay_vs_temporalio.py
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from temporalio import activity, workflow  # noqa: E402
from temporalio.client import WorkflowHistory  # noqa: E402
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner  # noqa: E402

from wftest import load_app  # noqa: E402
from wftest.encoding.payloads import python_to_payload  # noqa: E402
from wftest.history.builder import HistoryBuilder  # noqa: E402
from wftest.history.jsonio import history_to_json  # noqa: E402
from wftest.replay import replay, replay_history  # noqa: E402
from wftest.sim import World  # noqa: E402

APP_DIR = ROOT / "fixtures" / "sim"
T0 = 1_767_225_600 * 10**9
HOUR = 3600 * 10**9


@activity.defn(name="step")
async def step(n: int) -> int:
    return n


@workflow.defn(name="Shape", sandboxed=False)
class Shape:
    @workflow.run
    async def run(self) -> int:
        a = await workflow.execute_activity("step", 1, start_to_close_timeout=timedelta(minutes=10))
        await workflow.sleep(3600)
        b = await workflow.execute_activity("step", 2, start_to_close_timeout=timedelta(minutes=10))
        return int(a) + int(b)


def python_history() -> WorkflowHistory:
    """The history the Python SDK records for `Shape` (22 events)."""
    b = HistoryBuilder(identity="bench")
    b.workflow_execution_started(T0, workflow_type="Shape", task_queue="q", run_id="run-1")

    def task(t: int) -> int:
        s = b.workflow_task_scheduled(t, task_queue="q")
        st = b.workflow_task_started(t, scheduled_event_id=s)
        return b.workflow_task_completed(t, scheduled_event_id=s, started_event_id=st)

    done = task(T0)
    a1 = b.activity_task_scheduled(T0, activity_type="step", task_queue="q", workflow_task_completed_event_id=done,
                                   activity_id="1", input=[python_to_payload(1)], start_to_close_ns=600 * 10**9)
    s1 = b.activity_task_started(T0, scheduled_event_id=a1)
    b.activity_task_completed(T0, scheduled_event_id=a1, started_event_id=s1, result=[python_to_payload(1)])
    done = task(T0)
    timer = b.timer_started(T0, start_to_fire_ns=HOUR, workflow_task_completed_event_id=done, timer_id="1")
    b.timer_fired(T0 + HOUR, timer_id="1", started_event_id=timer)
    done = task(T0 + HOUR)
    a2 = b.activity_task_scheduled(T0 + HOUR, activity_type="step", task_queue="q",
                                   workflow_task_completed_event_id=done, activity_id="2",
                                   input=[python_to_payload(2)], start_to_close_ns=600 * 10**9)
    s2 = b.activity_task_started(T0 + HOUR, scheduled_event_id=a2)
    b.activity_task_completed(T0 + HOUR, scheduled_event_id=a2, started_event_id=s2, result=[python_to_payload(2)])
    done = task(T0 + HOUR)
    b.workflow_execution_completed(T0 + HOUR, workflow_task_completed_event_id=done, result=[python_to_payload(3)])
    return WorkflowHistory("bench-1", list(b.build().events))


def wftest_history():  # type: ignore[no-untyped-def]
    """The same shape in Wippy (`fixtures/sim` bench_shape): an activity, a 1 h sleep, an activity."""
    world = World(load_app(APP_DIR))
    run = world.start("app.wf:bench_shape")
    world.run_until_closed(run)
    assert run.result == 3
    return world.app, run.history


CPU_RATES: dict[str, list[float]] = {}  # histories per CPU second (every thread of the process), by label


def rate(fn, seconds: float = 2.0, label: str = "") -> float:  # type: ignore[no-untyped-def]
    fn()
    count, start, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        fn()
        count += 1
    CPU_RATES.setdefault(label, []).append(count / max(time.process_time() - cpu, 1e-9))
    return count / (time.perf_counter() - start)


def temporal_from_json_rate(replayer: Replayer, text: str, loop: asyncio.AbstractEventLoop) -> float:
    """Histories per second through `replay_workflows`' iterator, each parsed from JSON text on the way."""
    count = 150

    async def histories():  # type: ignore[no-untyped-def]
        for i in range(count):
            yield WorkflowHistory.from_json(f"bench-{i}", text)

    async def run() -> None:
        async with replayer.workflow_replay_iterator(histories()) as results:
            async for result in results:
                assert result.replay_failure is None

    start, cpu = time.perf_counter(), time.process_time()
    loop.run_until_complete(run())
    CPU_RATES.setdefault("temporalio json", []).append(count / (time.process_time() - cpu))
    return count / (time.perf_counter() - start)


def paired(a, b, rounds: int = 7) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    """Rates of `a` and `b` measured in turns (a b a b ...), so a machine whose load drifts slows both
    alike: the median of the per-round ratios a/b, and the best rate of each."""
    ratios, best_a, best_b = [], 0.0, 0.0
    for _ in range(rounds):
        rate_a, rate_b = a(), b()
        ratios.append(rate_a / rate_b)
        best_a, best_b = max(best_a, rate_a), max(best_b, rate_b)
    return statistics.median(ratios), best_a, best_b


def main() -> None:
    history = python_history()
    replayer = Replayer(workflows=[Shape], workflow_runner=UnsandboxedWorkflowRunner())
    loop = asyncio.new_event_loop()

    def temporal_once() -> None:
        loop.run_until_complete(replayer.replay_workflow(history))

    app, wf_history = wftest_history()

    def wftest_once() -> None:
        replay_history(app, wf_history)

    temporal_text = history.to_json()
    wftest_text = history_to_json(wf_history)

    def wftest_from_json() -> None:
        replay(app, wftest_text)

    ratio, wftest_rate, temporal_rate = paired(lambda: rate(wftest_once, 0.5), lambda: rate(temporal_once, 0.5))
    print(f"from protobuf histories ({len(history.events)} / {len(wf_history.events)} events), best rates:")
    print(f"  temporalio Replayer.replay_workflow:  {temporal_rate:8.1f} histories/s")
    print(f"  wftest replay_history:                {wftest_rate:8.1f} histories/s")
    print(f"  ratio wftest / temporalio:            {ratio:8.2f}x  (median of rounds taken in turns)")
    ratio, wftest_rate, temporal_rate = paired(
        lambda: rate(wftest_from_json, 0.5, "wftest json"),
        lambda: temporal_from_json_rate(replayer, temporal_text, loop),
    )
    print("from JSON text, best rates:")
    print(f"  temporalio from_json + replay_workflows: {temporal_rate:8.1f} histories/s")
    print(f"  wftest replay(app, text):                {wftest_rate:8.1f} histories/s")
    print(f"  ratio wftest / temporalio:               {ratio:8.2f}x   goal >= 10x  (median of rounds in turns)")
    cpu_ratio = max(CPU_RATES["wftest json"]) / max(CPU_RATES["temporalio json"])
    print(f"  the same in CPU time (all threads):      {cpu_ratio:8.2f}x   (best histories per CPU second)")
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()

    # The long history in a fresh process: neither temporalio's runtime threads nor the heap and Lua
    # states the short replays leave behind weigh on it (nor it on them).
    sys.stdout.flush()
    subprocess.run([sys.executable, __file__, "--long-history"], check=True)
    print(f"(load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


def long_history() -> None:
    """A 10,001-event history (1,666 activities), replayed from protobuf and from JSON: best of 5."""
    world = World(load_app(APP_DIR))
    world.mock("app.act:echo", lambda args, info: args[0])
    big = world.start("app.wf:many_activities", 1666)
    world.run_until_closed(big)
    big_text = history_to_json(big.history)
    events = len(big.history.events)
    from_proto = min(timed(lambda: replay_history(world.app, big.history)) for _ in range(5))
    from_json = min(timed(lambda: replay(world.app, big_text)) for _ in range(5))
    print(f"replay of a {events}-event history:            {from_proto[0]:8.3f} s  ({from_proto[1]:.3f} s CPU)")
    print(
        f"replay of a {events}-event history from JSON:  {from_json[0]:8.3f} s  ({from_json[1]:.3f} s CPU)"
        "   goal < 0.3 s  (best of 5)",
        flush=True,
    )


def timed(fn) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Wall and CPU seconds of one call."""
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - start, time.process_time() - cpu


if __name__ == "__main__":
    if "--long-history" in sys.argv:
        long_history()
    else:
        main()
