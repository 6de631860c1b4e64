"""The pytest plugin at scale: a generated suite of 1,000 saga-shaped workflow tests, each with mocks, a
history snapshot, a call-log snapshot and the automatic strict replay check. Goal: under 10 s of pytest
time on this machine.

The suite is written to a temporary directory, its snapshots are recorded once (`--snapshot-update`,
not timed), then the suite runs again against them and pytest's own session time is reported.
Run: python bench/bench_plugin.py [N]
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "fixtures" / "sim"
STEPS = ("reserve", "charge", "ship", None)  # which step fails (None: the order ships)

TEST = """
@pytest.mark.parametrize("n", range({count}))
async def test_saga_{index}(wippy, snapshot, n):
    wippy.mock("app.act:reserve").returns({{"id": f"r{{n}}"}}){reserve}
    wippy.mock("app.act:charge").returns({{"id": f"p{{n}}"}}){charge}
    wippy.mock("app.act:ship").returns({{"tracking": f"T{{n}}"}}){ship}
    wippy.mock("app.act:refund").returns(True)
    wippy.mock("app.act:release").returns(True)
    handle = await wippy.start("app.wf:saga", {{"items": [n], "total": 10 + n, "id": f"o{{n}}"}}, id=f"o-{{n}}")
    result = await handle.result()
    assert result["status"] == "{status}"
    assert handle.history == snapshot
    assert wippy.calls == snapshot
"""


def write_suite(folder: Path, total: int) -> None:
    per = total // len(STEPS)
    parts = ["import pytest\n"]
    for index, failing in enumerate(STEPS):
        fails = {step: "" for step in ("reserve", "charge", "ship")}
        if failing is not None:
            fails[failing] = f'\n    wippy.mock("app.act:{failing}").fails("Unavailable", "down", retryable=False)'
        status = "completed" if failing is None else "failed"
        count = per if index < len(STEPS) - 1 else total - per * (len(STEPS) - 1)
        parts.append(TEST.format(count=count, index=index, status=status, **fails))
    (folder / "test_generated.py").write_text("\n".join(parts))
    (folder / "pytest.ini").write_text(
        textwrap.dedent(
            f"""\
            [pytest]
            wippy_app = {APP}
            asyncio_default_fixture_loop_scope = function
            """
        )
    )


def pytest_seconds(folder: Path, *extra: str) -> float:
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    summary = out.stdout.strip().splitlines()[-3:]
    match = re.search(r"(\d+) passed.* in ([\d.]+)s", "\n".join(summary))
    if out.returncode != 0 or match is None:
        raise SystemExit(f"the generated suite did not pass:\n{out.stdout[-3000:]}\n{out.stderr[-2000:]}")
    return float(match.group(2))


def main() -> None:
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_suite(folder, total)
        pytest_seconds(folder, "--snapshot-update")
        runs = sorted(pytest_seconds(folder) for _ in range(3))
    print(f"{total} generated saga tests (mocks, 2 snapshots, strict replay check each)")
    print(f"pytest time: median {runs[1]:.2f} s (runs: {', '.join(f'{r:.2f}' for r in runs)}); goal < 10 s")


if __name__ == "__main__":
    main()
