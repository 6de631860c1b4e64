"""The README's commands and code run as written."""

from __future__ import annotations

import importlib
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from checkout import ROOT

pytest_plugins = ["pytester"]

README = (ROOT / "README.md").read_text()


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def commands(program: str) -> list[str]:
    """Every line of the bash blocks that runs `program` (continuation lines joined)."""
    lines = [line.strip() for b in blocks("bash") for line in b.replace("\\\n", " ").splitlines()]
    return [line for line in lines if line.startswith(program + " ")]


def test_python_example_runs() -> None:
    (code,) = [b for b in blocks("python") if "World(" in b]
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        exec(compile(code, "README.md", "exec"), {})  # noqa: S102 - the README's own example
    finally:
        os.chdir(cwd)


def test_quick_start_passes(pytester: pytest.Pytester) -> None:
    (code,) = [b for b in blocks("python") if b.startswith("# tests/test_order.py")]
    pytester.makeini(f"[pytest]\nwippy_app = {ROOT / 'examples' / 'orders'}\n")  # nothing else, as a new user
    pytester.makepyfile(test_order=code)
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-W", "error")
    result.assert_outcomes(passed=2)


@pytest.mark.parametrize("command", commands("wftest"))
def test_cli_commands_run(command: str, tmp_path: Path) -> None:
    argv = shlex.split(command)
    argv = [str(tmp_path / a) if a.endswith(".json") and not (ROOT / a).exists() else a for a in argv]
    wftest = Path(sys.executable).with_name("wftest")
    result = subprocess.run([str(wftest), *argv[1:]], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


@pytest.mark.parametrize("command", commands("pytest"))
def test_pytest_commands_run(command: str) -> None:
    argv = shlex.split(command)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *argv[1:], "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout


def test_every_python_name_the_readme_gives_exists() -> None:
    """`wftest.timeline.render_text/render_html` and the like: each name resolves, from the longest
    importable module down."""
    names = set(re.findall(r"(?<![\w./-])(wftest(?:\.[A-Za-z_]\w*)+(?:/[A-Za-z_]\w*)*)", README))
    assert "wftest.sim.World" in names
    for name in sorted(names):
        first, *others = name.split("/")
        parent, _, last = first.rpartition(".")
        for full in [first, *(f"{parent}.{other}" for other in others)]:
            parts = full.split(".")
            for cut in range(len(parts), 0, -1):
                try:
                    found: object = importlib.import_module(".".join(parts[:cut]))
                except ImportError:
                    continue
                for attribute in parts[cut:]:
                    assert hasattr(found, attribute), f"the README names {full}, which does not exist"
                    found = getattr(found, attribute)
                break
        assert last
