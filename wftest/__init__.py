"""wftest: deterministic testing and simulation for Wippy Lua workflows."""

from wftest.app import App, AppError, AppLoadError, Entry, load_app
from wftest.errors import InternalError, RunOutcome, UserError, WftestError
from wftest.replay import NondeterminismError, ReplayResult, replay

__all__ = [
    "App",
    "AppError",
    "AppLoadError",
    "Entry",
    "InternalError",
    "RunOutcome",
    "UserError",
    "WftestError",
    "NondeterminismError",
    "ReplayResult",
    "load_app",
    "replay",
]
