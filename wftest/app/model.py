"""The immutable registry of a Wippy app: entries by id, typed views of the kinds wftest runs."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .errors import UnknownEntryError

WORKFLOW_LUA = "workflow.lua"
FUNCTION_LUA = "function.lua"
PROCESS_LUA = "process.lua"
LIBRARY_LUA = "library.lua"
TEMPORAL_WORKER = "temporal.worker"
TEMPORAL_CLIENT = "temporal.client"

#: Kinds whose entries carry Lua source that later layers compile and run.
LUA_KINDS = frozenset({WORKFLOW_LUA, FUNCTION_LUA, PROCESS_LUA, LIBRARY_LUA})


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


def is_workflow_kind(kind: str) -> bool:
    """Wippy's workflow listener considers every kind in the ``workflow.`` family."""
    return kind.startswith("workflow.")


def is_activity_kind(kind: str) -> bool:
    """Wippy's activity listener considers every ``function.`` and ``process.`` kind."""
    return kind.startswith(("function.", "process."))


@dataclass(frozen=True)
class WorkflowMeta:
    """``meta.temporal.workflow``: the worker that registers the workflow and its Temporal type name.

    ``name`` is the custom type name if one was given; ``type_name`` is what Temporal sees (the entry id
    otherwise). Wippy's own callers always use the entry id.
    """

    worker: str
    name: str | None
    type_name: str


@dataclass(frozen=True)
class ActivityMeta:
    """``meta.temporal.activity``: the worker that registers the activity; ``local`` is parsed only."""

    worker: str
    local: bool = False


@dataclass(frozen=True)
class TestMeta:
    """``meta.type: test`` with the optional runner fields of Wippy's test convention."""

    __test__ = False  # not a pytest test class, whatever its name

    suite: str | None = None
    name: str | None = None
    description: str | None = None
    order: int | float | None = None


@dataclass(frozen=True, eq=False, kw_only=True)
class Entry:
    """One registry entry. Identity equality, so entries can key caches of compiled code.

    ``file`` is the registry file relative to the app root (POSIX separators), ``line`` the 1-based line
    where the entry starts. ``meta`` and ``config`` are read-only mappings of read-only data (tuples for
    lists). ``config`` holds every field of the entry but ``name``, ``kind`` and ``meta``: for kinds wftest
    does not run (``db.sql.sqlite``, ``http.service``, ``store.memory``, ...) the entry is kept as it is,
    and ``config`` is how code that gives such kinds a meaning reads them. ``call_options`` is
    ``meta.options``, the default call options for ``funcs.call``.
    """

    id: str
    namespace: str
    name: str
    kind: str
    meta: Mapping[str, Any] = field(default_factory=_empty)
    config: Mapping[str, Any] = field(default_factory=_empty)
    file: str
    line: int
    workflow: WorkflowMeta | None = None
    activity: ActivityMeta | None = None
    test: TestMeta | None = None
    call_options: Mapping[str, Any] = field(default_factory=_empty)


@dataclass(frozen=True, eq=False, kw_only=True)
class LuaEntry(Entry):
    """A ``workflow.lua``/``function.lua``/``process.lua``/``library.lua`` entry with its source read in.

    ``source_path`` is the Lua file relative to the app root, or ``None`` for inline source. ``method`` is
    ``None`` only for libraries that name none. ``imports`` maps a ``require`` alias to an entry id.
    """

    source_path: str | None
    source_text: str
    method: str | None
    modules: tuple[str, ...] = ()
    imports: Mapping[str, str] = field(default_factory=_empty)


@dataclass(frozen=True, eq=False, kw_only=True)
class WorkerEntry(Entry):
    """A ``temporal.worker``: ``client`` is the id of its ``temporal.client`` entry."""

    client: str
    task_queue: str
    worker_options: Mapping[str, Any] = field(default_factory=_empty)


@dataclass(frozen=True, eq=False, kw_only=True)
class ClientEntry(Entry):
    """A ``temporal.client``; ``temporal_namespace`` is the Temporal namespace, not the registry one."""

    address: str
    temporal_namespace: str = "default"
    tq_prefix: str = ""


@dataclass(frozen=True, eq=False)
class App:
    """A loaded app: safe to share between threads because nothing in it can change."""

    root: Path
    entries: Mapping[str, Entry]

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))
        ordered = {entry_id: self.entries[entry_id] for entry_id in sorted(self.entries)}
        object.__setattr__(self, "entries", MappingProxyType(ordered))

    def get(self, entry_id: str) -> Entry:
        """The entry with this id; an unknown id raises ``UnknownEntryError`` naming the closest ids."""
        try:
            return self.entries[entry_id]
        except KeyError:
            close = difflib.get_close_matches(entry_id, list(self.entries), n=3)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise UnknownEntryError(f"unknown entry {entry_id!r}{hint}", entry_id=entry_id) from None

    def by_kind(self, kind: str) -> tuple[Entry, ...]:
        """Entries of exactly this kind, in id order."""
        return tuple(entry for entry in self.entries.values() if entry.kind == kind)

    def workflows(self) -> tuple[LuaEntry, ...]:
        return self._lua(WORKFLOW_LUA)

    def functions(self) -> tuple[LuaEntry, ...]:
        return self._lua(FUNCTION_LUA)

    def libraries(self) -> tuple[LuaEntry, ...]:
        return self._lua(LIBRARY_LUA)

    def workers(self) -> tuple[WorkerEntry, ...]:
        return tuple(entry for entry in self.entries.values() if isinstance(entry, WorkerEntry))

    def clients(self) -> tuple[ClientEntry, ...]:
        return tuple(entry for entry in self.entries.values() if isinstance(entry, ClientEntry))

    def activities(self) -> tuple[Entry, ...]:
        """Function and process entries registered as Temporal activities, in id order."""
        return tuple(entry for entry in self.entries.values() if entry.activity is not None)

    def tests(self) -> tuple[Entry, ...]:
        """Entries with ``meta.type: test``, ordered by suite, then ``order`` (missing = 0), then id."""
        keyed = [
            ((test.suite or "", test.order if test.order is not None else 0, entry.id), entry)
            for entry in self.entries.values()
            if (test := entry.test) is not None
        ]
        return tuple(entry for _, entry in sorted(keyed, key=lambda pair: pair[0]))

    def _lua(self, kind: str) -> tuple[LuaEntry, ...]:
        return tuple(e for e in self.entries.values() if isinstance(e, LuaEntry) and e.kind == kind)
