"""Wippy's own test app, run under `pytest --lua-workflows`, against the outcomes we expect of it.

Set ``WFTEST_WIPPY_TESTS`` to a copy of Wippy's ``tests/app`` (the folder holding ``src/``). The app is
copied to a temporary folder, run once per session, and each of its tests is compared with
``expectations.txt``: a test listed ``pass`` must pass, one listed ``fail`` must fail (its line says why),
and a test the file does not list fails the run. With ``WFTEST_WIPPY_TESTS_UPDATE=1`` the file is
rewritten from the run instead (reasons of lines that keep failing are kept).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

EXPECTATIONS = Path(__file__).with_name("expectations.txt")
APP_VAR = "WFTEST_WIPPY_TESTS"
UPDATE_VAR = "WFTEST_WIPPY_TESTS_UPDATE"


def read_expectations(path: Path = EXPECTATIONS) -> dict[str, tuple[str, str]]:
    """``test id -> (outcome, reason)`` from lines ``ID  pass|fail  [reason]``; ``#`` starts a comment."""
    out: dict[str, tuple[str, str]] = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split(None, 2)
        if len(parts) < 2 or parts[1] not in ("pass", "fail"):
            raise ValueError(f"{path}:{n}: expected 'TEST_ID pass|fail [reason]', got {line!r}")
        if parts[1] == "fail" and len(parts) < 3:
            raise ValueError(f"{path}:{n}: an expected failure needs a reason")
        out[parts[0]] = (parts[1], parts[2] if len(parts) > 2 else "")
    return out


def run_app(source: Path, workdir: Path) -> dict[str, tuple[str, str]]:
    """Runs the app's Lua tests in a copy under ``workdir``: ``test id -> (outcome, first failure line)``."""
    app = workdir / "wippy-app"
    shutil.copytree(source, app)
    report = workdir / "report.xml"
    cmd = [sys.executable, "-m", "pytest", "--lua-workflows", "--wippy-app", "src", "src", "-q",
           "-p", "no:cacheprovider", f"--junitxml={report}"]
    proc = subprocess.run(cmd, cwd=app, capture_output=True, text=True, timeout=600)
    if not report.exists():
        raise AssertionError(f"the conformance run produced no report:\n{proc.stdout}\n{proc.stderr}")
    outcomes: dict[str, tuple[str, str]] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        problems = [c for c in case if c.tag in ("failure", "error")]
        message = (problems[0].get("message") or "").splitlines()[0] if problems else ""
        message = message.split(" failed: ", 1)[-1]
        skipped = any(c.tag == "skipped" for c in case)
        outcomes[case.get("name", "")] = ("fail" if problems or skipped else "pass", message)
    if not outcomes:
        raise AssertionError(f"the conformance run collected no tests:\n{proc.stdout}\n{proc.stderr}")
    return outcomes


def write_expectations(actual: dict[str, tuple[str, str]], old: dict[str, tuple[str, str]]) -> None:
    lines = [
        "# Wippy's own test app under `pytest --lua-workflows`: TEST_ID  pass|fail  [why it fails]",
        "# Checked by tests/conformance/test_wippy_app.py when WFTEST_WIPPY_TESTS names the app.",
    ]
    width = max(len(k) for k in actual)
    for test_id in sorted(actual):
        outcome, message = actual[test_id]
        reason = ""
        if outcome == "fail":
            kept = old.get(test_id)
            reason = kept[1] if kept and kept[0] == "fail" else message or "fails"
        lines.append(f"{test_id.ljust(width)}  {outcome}  {reason}".rstrip())
    EXPECTATIONS.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="session")
def conformance(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, str]]:
    source = os.environ.get(APP_VAR)
    if not source:
        pytest.skip(f"set {APP_VAR} to a copy of Wippy's tests/app to run the conformance suite")
    if not (Path(source) / "src").is_dir():
        pytest.fail(f"{APP_VAR}={source}: no src/ folder there (point it at Wippy's tests/app)")
    actual = run_app(Path(source), tmp_path_factory.mktemp("conformance"))
    if os.environ.get(UPDATE_VAR):
        write_expectations(actual, read_expectations() if EXPECTATIONS.exists() else {})
    return actual


EXPECTED = read_expectations()


@pytest.mark.parametrize("test_id", sorted(EXPECTED))
def test_wippy_app_test(conformance: dict[str, tuple[str, str]], test_id: str) -> None:
    expected, reason = EXPECTED[test_id]
    if test_id not in conformance:
        pytest.fail(f"{test_id} is listed in expectations.txt but the app has no such test")
    actual, message = conformance[test_id]
    if expected == "pass":
        assert actual == "pass", f"{test_id} is expected to pass, but failed: {message}"
    else:
        assert actual == "fail", f"{test_id} now passes: mark it 'pass' in expectations.txt (was: {reason})"


def test_every_wippy_app_test_is_listed(conformance: dict[str, tuple[str, str]]) -> None:
    unlisted = sorted(set(conformance) - set(EXPECTED))
    assert not unlisted, f"tests missing from expectations.txt: {', '.join(unlisted)}"


def test_expectations_file_is_well_formed(tmp_path: Path) -> None:
    bad = tmp_path / "e.txt"
    bad.write_text("app.test:x  fail\n")
    with pytest.raises(ValueError, match=r"e.txt:1: an expected failure needs a reason"):
        read_expectations(bad)
    bad.write_text("app.test:x  maybe\n")
    with pytest.raises(ValueError, match=r"e.txt:1: expected"):
        read_expectations(bad)
