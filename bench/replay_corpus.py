"""`wftest replay` over a corpus of generated history files: 10,000 histories with --jobs 1 and
--jobs 2 (wall time, runs taken in turns so a drifting machine load hits both alike), and the peak
memory of a 100,000-history run (the largest single process: the CLI or one of its workers).

The corpus is written under /tmp (not the repository), once: copies of a few distinct histories of the
fixture app (activities, timers, side effects, versions), 1,000 files per directory.
Run: python bench/replay_corpus.py [--histories 10000] [--big 100000] [--pairs 2]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wftest import load_app  # noqa: E402
from wftest.sim import World  # noqa: E402

APP_DIR = ROOT / "fixtures" / "sim"
WORKFLOWS = ["app.wf:bench_shape", "app.wf:hello", "app.wf:ordering", "app.wf:three_uuids", "app.wf:versioned"]


def distinct_histories() -> list[str]:
    app = load_app(APP_DIR)
    texts = []
    for workflow in WORKFLOWS:
        world = World(app)
        world.mock("app.act:echo", lambda args, info: args[0] if args else None)
        run = world.run_until_closed(world.start(workflow))
        texts.append(run.history_json())
    return texts


def corpus(count: int) -> Path:
    """/tmp/wftest-corpus-COUNT with COUNT history files (made once)."""
    folder = Path(f"/tmp/wftest-corpus-{count}")
    done = folder / ".complete"
    if done.exists():
        return folder
    texts = [t.encode() for t in distinct_histories()]
    for i in range(count):
        sub = folder / f"{i // 1000:03d}"
        if i % 1000 == 0:
            sub.mkdir(parents=True, exist_ok=True)
        (sub / f"h{i:06d}.json").write_bytes(texts[i % len(texts)])
    done.write_text(str(count))
    return folder


def replay_cli(folder: Path, jobs: int) -> list[str]:
    wftest = str(Path(sys.executable).parent / "wftest")
    return [wftest, "replay", str(APP_DIR), str(folder), "--jobs", str(jobs)]


def timed(command: list[str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system, all processes), and the peak RSS (KiB) of the largest
    process the command waited for, measured by a fresh wrapper process so earlier runs do not count."""
    wrapper = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
        "r = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(time.perf_counter() - t, r.ru_utime + r.ru_stime, r.ru_maxrss, code)\n"
    )
    out = subprocess.run([sys.executable, "-c", wrapper, *command], capture_output=True, text=True, check=True)
    seconds, cpu, peak, code = out.stdout.split()
    if code != "0":
        raise SystemExit(f"{' '.join(command)} exited with {code}: {out.stderr[-2000:]}")
    return float(seconds), float(cpu), int(peak)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--histories", type=int, default=10_000)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--pairs", type=int, default=2)
    options = parser.parse_args()
    assert resource  # (the wrapper reads it in the child)

    small = corpus(options.histories)
    print(f"(cores: {os.cpu_count()}; load average at the start {os.getloadavg()[0]:.1f})", flush=True)
    one, two = [], []
    for _ in range(options.pairs):
        one.append(timed(replay_cli(small, 1)))
        two.append(timed(replay_cli(small, 2)))
    t1, t2 = statistics.median(r[0] for r in one), statistics.median(r[0] for r in two)
    n = options.histories
    print(f"wftest replay, {n} histories (median of {options.pairs} runs each, taken in turns):")
    for jobs, wall, runs in ((1, t1, one), (2, t2, two)):
        shown = ", ".join(f"{r[0]:.2f} s wall / {r[1]:.2f} s cpu" for r in runs)
        print(f"  --jobs {jobs}: {wall:7.2f} s  {n / wall:8.0f} histories/s   runs: {shown}")
    print(f"  speed-up: {t1 / t2:7.2f}x   goal >= 1.8x", flush=True)

    if options.big:
        big = corpus(options.big)
        seconds, cpu, peak = timed(replay_cli(big, 2))
        print(f"wftest replay --jobs 2, {options.big} histories: {seconds:7.1f} s wall, {cpu:7.1f} s cpu")
        print(f"  peak RSS of the largest process: {peak / 1024:7.1f} MiB   goal < 300 MiB")
    print(f"(load average at the end {os.getloadavg()[0]:.1f}; {time.strftime('%H:%M:%S')})")


if __name__ == "__main__":
    main()
