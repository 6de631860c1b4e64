"""The README's commands and code run as written."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_python_example_runs() -> None:
    (code,) = [b for b in blocks("python") if "World(" in b]
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        exec(compile(code, "README.md", "exec"), {})  # noqa: S102 - the README's own example
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize("command", [c for b in blocks("bash") for c in [b.replace("\\\n", " ").strip()]
                                     if c.startswith("wftest ")])
def test_cli_commands_run(command: str, tmp_path: Path) -> None:
    argv = shlex.split(command)
    argv = [str(tmp_path / a) if a.endswith(".json") else a for a in argv]
    wftest = Path(sys.executable).with_name("wftest")
    result = subprocess.run([str(wftest), *argv[1:]], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
