"""The cost of `--lua-cov`: the generated 1,000-test saga suite of bench_plugin.py, run with and without
Lua line coverage (and with `--cov --lua-cov`, Python and Lua in one report). Goal: `--lua-cov` under
1.5x the suite's time without it.

Run: python bench/bench_coverage.py [N]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_plugin import pytest_seconds, write_suite  # noqa: E402

CONFIGS = {
    "without coverage": (),
    "--lua-cov": ("--lua-cov",),
    "--cov --lua-cov": ("--lua-cov", "--cov={folder}", "--cov-report="),
}


def main() -> None:
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    runs: dict[str, list[float]] = {label: [] for label in CONFIGS}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_suite(folder, total)
        pytest_seconds(folder, "--snapshot-update")
        for _ in range(3):  # interleaved, so a busy spell of the machine hits every configuration
            for label, extra in CONFIGS.items():
                runs[label].append(pytest_seconds(folder, *(e.format(folder=folder) for e in extra)))
    print(f"{total} generated saga tests (mocks, 2 snapshots, strict replay check each); median of 3")
    plain = sorted(runs["without coverage"])[1]
    for label, values in runs.items():
        value = sorted(values)[1]
        shown = ", ".join(f"{r:.2f}" for r in values)
        print(f"{label:>18}: {value:6.2f} s ({shown}); {value / plain:.2f}x")
    print("goal: --lua-cov under 1.5x")


if __name__ == "__main__":
    main()
