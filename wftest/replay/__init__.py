"""Replay recorded histories against the current code: the nondeterminism check."""

from wftest.replay.replayer import NondeterminismError, ReplayResult, replay, replay_history

__all__ = ["NondeterminismError", "ReplayResult", "replay", "replay_history"]
