"""Replay recorded histories against the current code: the nondeterminism check."""

from wftest.replay.replayer import (
    ID_SOURCES,
    NondeterminismError,
    ReplayResult,
    load_history,
    replay,
    replay_history,
)

__all__ = ["ID_SOURCES", "NondeterminismError", "ReplayResult", "load_history", "replay", "replay_history"]
