"""wftest: deterministic testing and simulation for Wippy Lua workflows."""

from wftest.app import App, AppError, AppLoadError, Entry, load_app

__all__ = ["App", "AppError", "AppLoadError", "Entry", "load_app"]
