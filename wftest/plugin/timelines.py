"""The timeline of each run of a failing wftest test, as a self-contained HTML page beside the report."""

from __future__ import annotations

import re
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

import pytest

from wftest.plugin.state import HARNESS_KEY, RUNS_KEY
from wftest.sim import WorkflowRun
from wftest.timeline.html import render_html


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """A failing test that ran workflows gets each run's timeline as one HTML file, in `timelines/`
    beside the JUnit report when there is one, else in `.wftest/timelines/` under the rootdir."""
    report = yield
    if call.when != "call" or not report.failed:
        return report
    mode = item.config.getoption("wippy_timeline") or item.config.getini("wippy_timeline")
    harness = item.stash.get(HARNESS_KEY, None)
    processes = harness.world.processes_report() if harness is not None else []
    if processes:
        report.sections.append(("wftest processes", "\n".join(processes)))
    web = harness.world.resources.http if harness is not None else None
    if web is not None and (web.failures or web.routes.unrouted):
        lines = [f"handler failed: {f}" for f in web.failures] + [
            f"unrouted: {u}" for u in web.routes.unrouted
        ]
        report.sections.append(("wftest http", "\n".join(lines)))
    runs = harness.runs_with_code() if harness is not None else item.stash.get(RUNS_KEY, [])
    if mode == "off" or not runs:
        return report
    written = write_timelines(item, runs)
    report.sections.append(("wftest timeline", "\n".join(str(p) for p in written)))
    return report


def write_timelines(item: pytest.Item, runs: Sequence[WorkflowRun]) -> list[Path]:
    xml = item.config.getoption("xmlpath", None)
    base = Path(xml).resolve().parent if xml else item.config.rootpath / ".wftest"
    folder = base / "timelines" / re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid).strip("_")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for number, run in enumerate(runs, start=1):
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", run.workflow_id)
        path = folder / f"{number:02d}-{name}.html"
        path.write_text(render_html(run.history, title=f"{run.workflow_id} ({item.nodeid})"))
        written.append(path)
    return written
