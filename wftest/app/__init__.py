"""The Wippy app registry: load an app directory into immutable, typed entries (no Lua runs here)."""

from .errors import AppError, AppLoadError, UnknownEntryError
from .loader import load_app
from .model import (
    ActivityMeta,
    App,
    ClientEntry,
    Entry,
    LuaEntry,
    TestMeta,
    WorkerEntry,
    WorkflowMeta,
)

__all__ = [
    "ActivityMeta",
    "App",
    "AppError",
    "AppLoadError",
    "ClientEntry",
    "Entry",
    "LuaEntry",
    "TestMeta",
    "UnknownEntryError",
    "WorkerEntry",
    "WorkflowMeta",
    "load_app",
]
