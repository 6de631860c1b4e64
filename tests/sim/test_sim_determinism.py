"""The simulator is deterministic: same app, input and seed → the same bytes, in any process. Different seeds change the random values."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from checkout import ROOT

from wftest.app import App, load_app
from wftest.sim import WorkflowRun, World

APP_DIR = ROOT / "fixtures" / "sim"

# Runs a mix of side effects, coroutines, timers, retries and concurrent mocks; prints every history.
SCRIPT = """
import sys
from wftest.app import load_app
from wftest.sim import World

app = load_app(sys.argv[1])
world = World(app, seed=int(sys.argv[2]))
world.mock("app.act:slow", lambda args, info: {"slow": args, "n": info.attempt}, duration_ns=7_000_000_000)
world.mock("app.act:fast", lambda args, info: {"fast": args}, duration_ns=2_000_000_000)
runs = [
    world.start("app.wf:three_uuids"),
    world.start("app.wf:ordering"),
    world.start("app.wf:timers"),
    world.start("app.wf:retry", 3),
    world.start("app.wf:probe_race", "app.act:slow", "app.act:fast"),
    world.start("app.wf:versioned"),
]
world.run_all()
for run in runs:
    sys.stdout.write(run.status + "\\n" + run.history_json() + "\\n")
"""


@pytest.fixture(scope="module")
def app() -> App:
    return load_app(APP_DIR)


def run(app: App, workflow: str, seed: int) -> WorkflowRun:
    world = World(app, seed=seed)
    return world.run_until_closed(world.start(workflow))


def test_histories_are_byte_identical_across_processes() -> None:
    """Architecture contract 2: same seed in five interpreters with different hash seeds →
    byte-identical history JSON."""
    processes = []
    for hash_seed in ("0", "1", "2", "12345", "random"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        processes.append(subprocess.Popen(
            [sys.executable, "-c", SCRIPT, str(APP_DIR), "7"], cwd=ROOT, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err.decode()
        outputs.append(out)
    assert outputs[0].count(b"completed\n") == 6
    assert all(out == outputs[0] for out in outputs[1:])


def test_same_seed_same_history_in_process(app: App) -> None:
    """Ids, run id and side-effect values repeat with the seed."""
    first = run(app, "app.wf:three_uuids", seed=3)
    second = run(app, "app.wf:three_uuids", seed=3)
    assert first.history_json() == second.history_json()
    assert first.run_id == second.run_id


def test_different_seed_changes_uuids(app: App) -> None:
    """Side-effect values come from the world's seeded generator."""
    first = run(app, "app.wf:three_uuids", seed=1)
    second = run(app, "app.wf:three_uuids", seed=2)
    assert first.result != second.result
    assert first.run_id != second.run_id
    assert first.history_json() != second.history_json()


def test_start_time_moves_timestamps_only(app: App) -> None:
    """The virtual start time shifts every event time and nothing
    else."""
    early = World(app, start_ns=1_000 * 1_000_000_000)
    late = World(app, start_ns=2_000 * 1_000_000_000)
    a = early.run_until_closed(early.start("app.wf:hello"))
    b = late.run_until_closed(late.start("app.wf:hello"))
    ours, theirs = a.history, b.history
    assert [e.event_time.ToNanoseconds() + 1_000 * 1_000_000_000 for e in ours.events] == [
        e.event_time.ToNanoseconds() for e in theirs.events]
    for x, y in zip(ours.events, theirs.events, strict=True):
        x.ClearField("event_time")
        y.ClearField("event_time")
    assert ours == theirs
