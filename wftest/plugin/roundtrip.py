"""Round-trip mode in pytest: the option, and a summary of how many runs were replayed from their JSON
(summed over pytest-xdist workers) and the time that took."""

from __future__ import annotations

from typing import Any

import pytest

from wftest.replay import roundtrip

_KEY = "wftest_roundtrip"


def wanted(config: pytest.Config) -> bool:
    return (
        bool(config.getoption("wippy_roundtrip"))
        or bool(config.getini("wippy_roundtrip"))
        or (roundtrip.env_on())
    )


class RoundTripSummary:
    """Counts the runs replayed from JSON; the controller of an xdist run adds its workers' counts."""

    def __init__(self) -> None:
        self.runs = 0  # from xdist workers
        self.seconds = 0.0
        # Inner sessions (pytester) count into the same totals: report the growth during this session.
        self.base = (roundtrip.MODE.runs, roundtrip.MODE.seconds)

    def own(self) -> tuple[int, float]:
        return roundtrip.MODE.runs - self.base[0], roundtrip.MODE.seconds - self.base[1]

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        workeroutput = getattr(session.config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput[_KEY] = self.own()

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        runs, seconds = getattr(node, "workeroutput", {}).get(_KEY, (0, 0.0))
        self.runs += runs
        self.seconds += seconds

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        runs, seconds = self.own()
        runs, seconds = runs + self.runs, seconds + self.seconds
        terminalreporter.write_line(
            f"wftest round-trip: {runs} workflow runs replayed from their JSON history ({seconds:.2f} s)"
        )


def configure(config: pytest.Config) -> None:
    """Turn the mode on for this session when asked (and back off after it: inner sessions)."""
    if not wanted(config):
        return
    previous = roundtrip.MODE.forced
    roundtrip.MODE.forced = True
    config.pluginmanager.register(RoundTripSummary(), "wftest-roundtrip")
    config.add_cleanup(lambda: setattr(roundtrip.MODE, "forced", previous))
