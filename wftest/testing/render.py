"""Readable, stable text for test output and snapshots: compact values and the activity call log, in
the same offset and clipping style as the history timeline."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from wftest.sim.activities import ServedCall
from wftest.timeline.text import clip
from wftest.timeline.values import format_offset as offset

__all__ = ["calls_text", "compact", "offset"]


def compact(value: Any) -> str:
    """One-line JSON of a Python value (keys sorted), clipped like the timeline's values."""
    try:
        out = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):
        out = repr(value)
    return clip(out)


def calls_text(calls: Sequence[ServedCall], start_ns: int) -> str:
    """One line per activity attempt: when, which workflow, which activity and attempt, in -> out."""
    lines = []
    for c in calls:
        args = ", ".join(compact(a) for a in c.args)
        out = compact(c.result) if c.error is None else f"error {c.error.kind}: {c.error.message}"
        lines.append(
            f"{offset(c.info.now_ns - start_ns)} {c.info.workflow_id} {c.activity_type}"
            f"#{c.info.attempt} ({args}) -> {out}"
        )
    return "".join(line + "\n" for line in lines)
