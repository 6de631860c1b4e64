"""Round-trip mode: every run a test makes is written to Temporal JSON, read back, and strictly replayed
in a fresh Lua state. It checks what a user's CI check relies on: an exported history, replayed in
another process that knows only the file, gives the very same commands and values.

On with `WFTEST_ROUNDTRIP=1`, the `--wippy-roundtrip` option or the `wippy_roundtrip` ini option."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from temporalio.api.history.v1 import History

from wftest.app import App
from wftest.history.jsonio import history_to_json
from wftest.replay.replayer import ReplayResult, load_history, replay_history

ENV = "WFTEST_ROUNDTRIP"


@dataclass
class _Mode:
    forced: bool | None = None  # set by the pytest plugin; None: the environment decides
    runs: int = 0  # runs replayed from JSON in this process
    seconds: float = 0.0  # time they took


MODE = _Mode()


def env_on() -> bool:
    """The environment asks for round-trip mode."""
    return os.environ.get(ENV, "").strip().lower() in ("1", "true", "yes", "on")


def enabled() -> bool:
    if MODE.forced is not None:
        return MODE.forced
    return env_on()


def replay_via_json(
    app: App, history: History, *, workflow: str | None = None, seed: int = 1
) -> ReplayResult:
    """Strict replay of `history` after a trip through its JSON text: the workflow id and everything
    else the replay uses come from what the JSON holds."""
    began = time.perf_counter()
    try:
        # read back as `wftest replay` reads an exported file: the fast reader, the id from the JSON
        loaded, _, _ = load_history("<round-trip JSON>", text=history_to_json(history))
        return replay_history(app, loaded, strict=True, workflow=workflow, seed=seed)
    finally:
        MODE.runs += 1
        MODE.seconds += time.perf_counter() - began
