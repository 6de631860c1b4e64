"""Round-trip mode in pytest: the option, and a summary of how many runs were replayed from their JSON
(summed over pytest-xdist workers) and the time that took."""

from __future__ import annotations

from typing import Any

import pytest

from wftest.plugin.state import session_state
from wftest.replay import roundtrip

_KEY = "wftest_roundtrip"


def wanted(config: pytest.Config) -> bool:
    return (
        bool(config.getoption("wippy_roundtrip"))
        or bool(config.getini("wippy_roundtrip"))
        or (roundtrip.env_on())
    )


def _own(config: pytest.Config) -> tuple[int, float]:
    """The runs this process replayed from JSON during this session, and the seconds that took."""
    runs, seconds = session_state(config).roundtrip_base
    return roundtrip.MODE.runs - runs, roundtrip.MODE.seconds - seconds


class RoundTripSummary:
    """Counts the runs replayed from JSON; the controller of an xdist run adds its workers' counts."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        workeroutput = getattr(session.config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput[_KEY] = _own(self.config)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        runs, seconds = getattr(node, "workeroutput", {}).get(_KEY, (0, 0.0))
        state = session_state(self.config)
        state.roundtrip_workers = (state.roundtrip_workers[0] + runs, state.roundtrip_workers[1] + seconds)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        runs, seconds = _own(self.config)
        worker_runs, worker_seconds = session_state(self.config).roundtrip_workers
        runs, seconds = runs + worker_runs, seconds + worker_seconds
        terminalreporter.write_line(
            f"wftest round-trip: {runs} workflow runs replayed from their JSON history ({seconds:.2f} s)"
        )


def configure(config: pytest.Config) -> None:
    """Turn the mode on for this session when asked (and back off after it: inner sessions)."""
    if not wanted(config):
        return
    session_state(config).roundtrip_base = (roundtrip.MODE.runs, roundtrip.MODE.seconds)
    previous = roundtrip.MODE.forced
    roundtrip.MODE.forced = True
    config.pluginmanager.register(RoundTripSummary(config), "wftest-roundtrip")
    config.add_cleanup(lambda: setattr(roundtrip.MODE, "forced", previous))
