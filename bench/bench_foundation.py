"""Foundation budgets (issue: app loader, dialect, sandbox).

Prints:
  - loading + compiling a generated 50-entry app (goal < 0.5 s), cold: caches cleared each round;
  - creating a sandbox and loading a 100-line typed workflow (goal < 0.5 ms median).
Run: python bench/bench_foundation.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wftest import load_app  # noqa: E402
from wftest.check import check_app  # noqa: E402
from wftest.lua import compiler  # noqa: E402
from wftest.lua.sandbox import Sandbox  # noqa: E402

STEP = """
    local r{i}, err{i} = call_step("{i}", {{id = input.id, n = {i}}})
    if err{i} then
        return nil, err{i}
    end
    total = total + (r{i}.value :: integer)
"""


def workflow_source(lines: int = 100) -> str:
    head = [
        "local json = require('json')",
        "type Input = {id: string, items: {string}?}",
        "type Step = {value: integer}",
        "local function call_step(name: string, args: {[string]: any}): (Step?, error?)",
        "    return {value = #name + args.n}, nil",
        "end",
        "local function main(input: Input): {total: integer}",
        "    local total: integer = 0",
    ]
    body: list[str] = []
    i = 0
    while len(head) + len(body) < lines - 3:
        body.extend(STEP.format(i=i).strip("\n").split("\n"))
        i += 1
    tail = ["    return {total = total}", "end", "return {main = main}"]
    return "\n".join(head + body + tail) + "\n"


def make_app(root: Path, entries: int = 50) -> None:
    (root / "_index.yaml").write_text(
        'version: "1.0"\nnamespace: app\nentries:\n'
        "  - name: client\n    kind: temporal.client\n    address: localhost:7233\n"
        "  - name: worker\n    kind: temporal.worker\n    client: client\n    task_queue: q\n"
    )
    yaml = ['version: "1.0"', "namespace: app.flows", "entries:"]
    for n in range(entries):
        (root / f"wf_{n}.lua").write_text(workflow_source())
        yaml += [
            f"  - name: wf_{n}",
            "    kind: workflow.lua",
            f"    source: file://wf_{n}.lua",
            "    modules: [json]",
            "    meta: {temporal: {workflow: {worker: app:worker}}}",
        ]
    (root / "flows.yaml").write_text("\n".join(yaml) + "\n")


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1e3


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_app(root)
        cold: list[float] = []
        for _ in range(5):
            compiler.compile_source.cache_clear()
            compiler.bytecode.cache_clear()
            t0 = time.perf_counter()
            report = check_app(root)
            cold.append(time.perf_counter() - t0)
            assert report.ok, report.problems
        print(f"load + compile 50-entry app (cold):        median {median_ms(cold):8.2f} ms   goal < 500 ms")

        app = load_app(root)
        entry = app.get("app.flows:wf_0")
        lines = entry.source_text.count("\n")
        Sandbox().load_entry(app, entry)  # warm the per-process compile caches
        warm: list[float] = []
        for _ in range(500):
            t0 = time.perf_counter()
            sb = Sandbox()
            sb.load_entry(app, entry)
            warm.append(time.perf_counter() - t0)
        print(f"new sandbox + load {lines}-line workflow:      median {median_ms(warm):8.3f} ms   goal < 0.5 ms")


if __name__ == "__main__":
    main()
