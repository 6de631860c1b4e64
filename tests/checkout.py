"""What many test files share: where the checkout's apps are (and a changed copy of one), and units of
virtual time."""

from __future__ import annotations

import shutil
from pathlib import Path

from wftest import load_app
from wftest.app import App

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
EXAMPLES = ROOT / "examples"

SECOND = 1_000_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE


def mutated_sim(tmp_path: Path, file: str, old: str, new: str) -> App:
    """A copy of the `fixtures/sim` app whose `workflows/<file>` has `old` replaced by `new`."""
    copy = tmp_path / "app"
    shutil.copytree(FIXTURES / "sim", copy)
    path = copy / "workflows" / file
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))
    return load_app(copy)
