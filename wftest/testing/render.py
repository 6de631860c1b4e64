"""Readable, stable text for test output and snapshots: compact values and the activity call log."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from wftest.lua.gotime import format_duration
from wftest.sim.activities import ServedCall

MAX_VALUE = 80


def compact(value: Any) -> str:
    """One-line JSON of a value (keys sorted), cut past MAX_VALUE characters with a visible marker."""
    try:
        out = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=repr)
    except ValueError:
        out = repr(value)
    return out if len(out) <= MAX_VALUE else out[: MAX_VALUE - 1] + "…"


def offset(ns: int) -> str:
    """Virtual time since the test's start, as a signed Go duration: `+0s`, `+1h30m0s`, `+1.5s`."""
    return ("-" if ns < 0 else "+") + format_duration(abs(ns))


def calls_text(calls: Sequence[ServedCall], start_ns: int) -> str:
    """One line per activity attempt: when, which workflow, which activity and attempt, in → out."""
    lines = []
    for c in calls:
        args = ", ".join(compact(a) for a in c.args)
        if c.error is not None:
            out = f"error {c.error.kind}: {c.error.message}"
        else:
            out = compact(c.result)
        lines.append(
            f"{offset(c.info.now_ns - start_ns)} {c.info.workflow_id} {c.activity_type}"
            f"#{c.info.attempt} ({args}) -> {out}"
        )
    return "\n".join(lines) + ("\n" if lines else "")
