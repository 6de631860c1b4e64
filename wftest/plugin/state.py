"""All the plugin keeps: one session's state on its config, and each test's world and runs on its item."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from wftest.app import App, load_app
from wftest.sim import WorkflowRun
from wftest.testing import Wippy

HARNESS_KEY = pytest.StashKey[Wippy]()  # the world of a test that uses the `wippy` fixture
RUNS_KEY = pytest.StashKey[list[WorkflowRun]]()  # the runs a Lua test item started


@dataclass
class SessionState:
    """One pytest session's state; under xdist the controller and each worker have their own."""

    apps: dict[Path, App] = field(default_factory=dict)
    """Each app is loaded once per session."""
    app_problems: list[str] = field(default_factory=list)
    """What checking the configured apps at the session's start found (the terminal summary shows it)."""
    explore_spent: dict[str, float] = field(default_factory=dict)
    """Wall seconds each explored test (its node id without the seed) has spent, for the budget."""
    explored: dict[str, dict[str, Any]] = field(default_factory=dict)
    """What each explored test's seeds covered: seeds, distinct histories, faulted, crashed."""
    roundtrip_base: tuple[int, float] = (0, 0.0)
    """The round-trip totals when this session began (inner pytester sessions count into the same)."""
    roundtrip_workers: tuple[int, float] = (0, 0.0)
    """Runs replayed from JSON and seconds spent by the xdist workers, added up on the controller."""


_SESSION_KEY = pytest.StashKey[SessionState]()


def start_session(config: pytest.Config) -> SessionState:
    """A fresh state for this config's session (at configure time, before any other hook needs it)."""
    state = config.stash[_SESSION_KEY] = SessionState()
    return state


def session_state(config: pytest.Config) -> SessionState:
    return config.stash[_SESSION_KEY]


def app_at(config: pytest.Config, path: Path) -> App:
    """The app at `path`, loaded once per session."""
    apps = session_state(config).apps
    if path not in apps:
        apps[path] = load_app(path)
    return apps[path]
