"""Recording which Lua lines ran, per process, while line coverage is on.

`start()` turns coverage on for every sandbox made afterwards: each gets Lua line hooks (see
`lib/prelude.lua`) and a `Tracker` here that knows which chunk name is which file. A sandbox's lines
are read when it is released, and those of sandboxes still alive when `flush()` runs (at the end of
each test). Lines are kept by absolute file path, ready for coverage.py's data file.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

Lines = dict[str, set[int]]  # absolute .lua path -> line numbers


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


@lru_cache(maxsize=4096)
def _resolved(root: Path, chunkname: str) -> str:
    """The absolute path of a chunk (every sandbox loads its entries again: no disk look-up each time)."""
    return str((root / chunkname).resolve())


class Tracker:
    """One sandbox's side: its chunk names (`@path` relative to its app) and the Lua function that
    reports the lines its hooks saw."""

    __slots__ = ("recorder", "read", "paths")

    def __init__(self, recorder: Recorder, read: Callable[[], Any]) -> None:
        self.recorder = recorder
        self.read: Callable[[], Any] | None = read
        self.paths: dict[str, str] = {}

    def source(self, chunkname: str, root: Path) -> None:
        """Chunk `@chunkname` is the file `root / chunkname`."""
        self.paths["@" + chunkname] = _resolved(root, chunkname)

    def flush(self, final: bool = True) -> None:
        """Hand the lines seen so far to the recorder; `final` once the sandbox is done (or its test
        is), which lets go of the sandbox's Lua state."""
        read = self.read
        if read is None:
            return
        if final:
            self.read = None
            self.recorder.pending.discard(self)
        dump = read()
        if not dump:
            return
        for row in _text(dump).split("\n"):
            source, _, numbers = row.partition("\t")
            path = self.paths.get(source)
            if path is None or not numbers:
                continue  # inline source in an _index.yaml: no file of its own to report
            self.recorder.add(path, (int(n) for n in numbers.split(",")))


class Recorder:
    """The process's Lua line data: everything recorded (`lines`) and what came since `take()`."""

    def __init__(self) -> None:
        self.lines: Lines = {}
        self.recent: Lines = {}
        self.pending: set[Tracker] = set()

    def track(self, read: Callable[[], Any]) -> Tracker:
        tracker = Tracker(self, read)
        self.pending.add(tracker)
        return tracker

    def add(self, path: str, lines: Any) -> None:
        new = set(lines)
        self.lines.setdefault(path, set()).update(new)
        self.recent.setdefault(path, set()).update(new)

    def flush(self, final: bool = True) -> None:
        """Read every sandbox still alive (and, `final`, let go of them: at the end of a test)."""
        for tracker in list(self.pending):
            tracker.flush(final)

    def take(self, final: bool = True) -> Lines:
        """Flush, and return the lines recorded since the last `take()`."""
        self.flush(final)
        recent, self.recent = self.recent, {}
        return recent


ACTIVE: Recorder | None = None
_PAUSED: Recorder | None = None


def start() -> Recorder:
    """Turn line coverage on for sandboxes made from now on (idempotent)."""
    global ACTIVE
    if ACTIVE is None:
        ACTIVE = Recorder()
    return ACTIVE


def pause() -> None:
    """Sandboxes made from now on get no line hooks (those alive keep theirs) until `resume()`."""
    global ACTIVE, _PAUSED
    if ACTIVE is not None:
        _PAUSED, ACTIVE = ACTIVE, None


def resume() -> None:
    global ACTIVE, _PAUSED
    if _PAUSED is not None:
        ACTIVE, _PAUSED = _PAUSED, None


def stop() -> Lines:
    """Turn it off; every line recorded."""
    global ACTIVE, _PAUSED
    recorder, ACTIVE, _PAUSED = ACTIVE or _PAUSED, None, None
    if recorder is None:
        return {}
    recorder.flush()
    return recorder.lines
