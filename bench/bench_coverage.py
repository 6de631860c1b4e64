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


def median(folder: Path, *extra: str) -> tuple[float, list[float]]:
    runs = sorted(pytest_seconds(folder, *extra) for _ in range(3))
    return runs[1], runs


def main() -> None:
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_suite(folder, total)
        pytest_seconds(folder, "--snapshot-update")
        plain, plain_runs = median(folder)
        lua, lua_runs = median(folder, "--lua-cov")
        both, both_runs = median(folder, "--lua-cov", f"--cov={folder}", "--cov-report=")
    print(f"{total} generated saga tests (mocks, 2 snapshots, strict replay check each); median of 3")
    for label, value, runs in (
        ("without coverage", plain, plain_runs),
        ("--lua-cov", lua, lua_runs),
        ("--cov --lua-cov", both, both_runs),
    ):
        print(f"{label:>18}: {value:6.2f} s ({', '.join(f'{r:.2f}' for r in runs)}); {value / plain:.2f}x")
    print("goal: --lua-cov under 1.5x")


if __name__ == "__main__":
    main()
