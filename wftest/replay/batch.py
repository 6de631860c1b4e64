"""Replaying a corpus of history files (`wftest replay APP DIR...`): streamed, in worker processes that
load the app once each, split into shards for a CI matrix, summarised and written as JUnit XML.

Memory stays flat however many files there are: paths are walked lazily, at most a few chunks of files
are in flight, and only per-group counts are kept; each verdict is handed to the caller as it comes.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape, quoteattr

from wftest.app import App, load_app
from wftest.history.jsonio import HistoryFormatError
from wftest.replay.replayer import ID_SOURCES, NondeterminismError, load_history, replay_history

OK, FAIL, BAD = "ok", "fail", "bad"
HISTORY_SUFFIXES = (".json", ".json.gz")


@dataclass(frozen=True)
class Verdict:
    """The outcome of one history file."""

    status: str  # OK, FAIL or BAD
    path: str
    workflow_type: str
    where: str  # the first differing Lua line of a nondeterministic replay ("" when unknown)
    text: str  # the line(s) to show
    seconds: float


# -- which files -------------------------------------------------------------------------------------


def parse_shard(text: str) -> tuple[int, int]:
    """`K/N` (1 <= K <= N) → (K, N)."""
    k, slash, n = text.partition("/")
    try:
        shard, count = int(k), int(n)
    except ValueError:
        shard = count = 0
    if not slash or count < 1 or not 1 <= shard <= count:
        raise ValueError(f"expected K/N with 1 <= K <= N, got {text!r}")
    return shard, count


def in_shard(key: str, shard: tuple[int, int]) -> bool:
    """Whether a file belongs to shard K of N: a stable hash of its path relative to the directory it
    was found under, so every machine of a CI matrix splits the same corpus the same way."""
    k, n = shard
    return n == 1 or zlib.crc32(key.encode()) % n == k - 1


def history_files(roots: Iterable[str], shard: tuple[int, int] = (1, 1)) -> Iterator[str]:
    """History files (`*.json`, `*.json.gz`) under each root in a stable order (a file root is itself),
    those of `shard` only; walked lazily."""
    for root in roots:
        if not os.path.isdir(root):
            if in_shard(Path(root).name, shard):
                yield root
            continue
        for path, key in _walk(root, ""):
            if in_shard(key, shard):
                yield path


def _walk(directory: str, prefix: str) -> Iterator[tuple[str, str]]:
    """(path, the path relative to the root as `a/b.json`) of the history files under `directory`."""
    with os.scandir(directory) as scan:
        entries = sorted((entry.name, entry.is_dir()) for entry in scan)
    for name, is_dir in entries:
        path = os.path.join(directory, name)
        if is_dir:
            yield from _walk(path, f"{prefix}{name}/")
        elif name.endswith(HISTORY_SUFFIXES):
            yield path, prefix + name


# -- replaying ---------------------------------------------------------------------------------------

_WORKER: dict[str, object] = {}


def _load_worker(
    app_path: str, strict: bool, workflow: str | None, workflow_id: str | None, app: App | None = None
) -> None:
    """Each worker process has the app once: loaded here, or inherited from the process that forked it
    (which loaded it for this very batch just before)."""
    if app is None:
        inherited = _WORKER.get("app")
        forked = _WORKER.get("forking") and _WORKER.get("path") == app_path
        app = inherited if forked and isinstance(inherited, App) else load_app(app_path)
    _WORKER.update(path=app_path, app=app, strict=strict, workflow=workflow, workflow_id=workflow_id)


def replay_file(
    app: App, path: str, *, strict: bool, workflow: str | None, workflow_id: str | None = None
) -> Verdict:
    """One file's verdict; never raises for a bad file (the batch goes on). The workflow id is the
    history's own; where it has none: `workflow_id`, else what the file carries (see `load_history`)."""
    started = time.perf_counter()
    workflow_type = workflow or ""
    try:
        history, carried, source = load_history(path)
        if workflow_id:
            carried, source = workflow_id, "caller"
        first = history.events[0]
        workflow_type = workflow or first.workflow_execution_started_event_attributes.workflow_type.name
        result = replay_history(
            app, history, strict=strict, workflow=workflow, workflow_id=carried, workflow_id_source=source
        )
    except NondeterminismError as exc:
        where = exc.lua_location
        return Verdict(FAIL, path, workflow_type, where, f"FAIL {path}\n{exc}", _since(started))
    except (HistoryFormatError, ValueError) as exc:
        return Verdict(BAD, path, workflow_type, "", f"BAD  {path}: {exc}", _since(started))
    except Exception as exc:  # noqa: BLE001 - one broken history must not stop the batch
        message = f"BAD  {path}: replay stopped with {type(exc).__name__}: {exc}"
        return Verdict(BAD, path, workflow_type, "", message, _since(started))
    identity = ""
    if result.workflow_id_source != "history":
        identity = f", workflow id {result.workflow_id}: {ID_SOURCES[result.workflow_id_source]}"
    counts = f"{result.workflow_tasks} tasks, {result.rules} rules{identity}"
    line = f"ok   {path} ({result.workflow_type}, {counts})"
    return Verdict(OK, path, result.workflow_type, "", line, _since(started))


def _since(started: float) -> float:
    return time.perf_counter() - started


def _replay_chunk(paths: list[str]) -> list[Verdict]:
    app, workflow, workflow_id = _WORKER["app"], _WORKER["workflow"], _WORKER["workflow_id"]
    assert isinstance(app, App)
    assert workflow is None or isinstance(workflow, str)
    assert workflow_id is None or isinstance(workflow_id, str)
    strict = bool(_WORKER["strict"])
    return [
        replay_file(app, path, strict=strict, workflow=workflow, workflow_id=workflow_id) for path in paths
    ]


def replay_files(
    app_path: str,
    paths: Iterable[str],
    *,
    strict: bool = False,
    workflow: str | None = None,
    workflow_id: str | None = None,
    jobs: int = 1,
    chunk: int = 64,
    app: App | None = None,
) -> Iterator[Verdict]:
    """The verdict of each file, in the order of `paths`; with `jobs` > 1 in that many processes (started
    by this call), `chunk` files at a time. `app`, when the caller has loaded it already, saves loading
    it again."""
    if jobs <= 1:
        return _serial(app_path, paths, strict, workflow, workflow_id, app)
    # Forked workers inherit the app loaded here (and every chunk compiled since) instead of loading it.
    _load_worker(app_path, strict, workflow, workflow_id, app)
    _WORKER["forking"] = True
    # The workers start now, before the caller draws a progress bar (a thread) that they need not copy.
    pool = _Pool(
        lambda: ProcessPoolExecutor(
            jobs,
            mp_context=_CONTEXT,
            initializer=_load_worker,
            initargs=(app_path, strict, workflow, workflow_id),
        )
    )
    try:
        pool.executor.submit(int).result()
    finally:
        _WORKER["forking"] = False
    return _parallel(pool, paths, jobs, chunk)


# Workers are forked where the platform can: they start at once with wftest already imported.
_CONTEXT = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)


def _serial(
    app_path: str,
    paths: Iterable[str],
    strict: bool,
    workflow: str | None,
    workflow_id: str | None,
    app: App | None,
) -> Iterator[Verdict]:
    _load_worker(app_path, strict, workflow, workflow_id, app)
    for path in paths:
        yield _replay_chunk([path])[0]


def _chunks(paths: Iterable[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for path in paths:
        batch.append(path)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class _Pool:
    """A process pool that can be replaced when one of its workers dies."""

    def __init__(self, make: Callable[[], ProcessPoolExecutor]) -> None:
        self.make = make
        self.executor = make()

    def restart(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.executor = self.make()


def _parallel(pool: _Pool, paths: Iterable[str], jobs: int, chunk: int) -> Iterator[Verdict]:
    in_flight: list[tuple[list[str], Future[list[Verdict]]]] = []
    chunks = _chunks(paths, chunk)
    try:
        while True:
            while len(in_flight) < jobs * 4:
                batch = next(chunks, None)
                if batch is None:
                    break
                in_flight.append((batch, pool.executor.submit(_replay_chunk, batch)))
            if not in_flight:
                return
            batch, future = in_flight.pop(0)
            try:
                verdicts = future.result()
            except BrokenProcessPool:
                # A worker died (killed for memory, say): the files in flight are replayed one by one
                # in a fresh pool; a file that kills its worker again is unreadable.
                retry = [path for b in [batch, *(b for b, _ in in_flight)] for path in b]
                in_flight = []
                pool.restart()
                for path in retry:
                    try:
                        yield pool.executor.submit(_replay_chunk, [path]).result()[0]
                    except BrokenProcessPool:
                        pool.restart()
                        yield Verdict(BAD, path, "", "", f"BAD  {path}: the replay process died", 0.0)
                continue
            yield from verdicts
    finally:
        pool.executor.shutdown(wait=True, cancel_futures=True)


# -- reporting ---------------------------------------------------------------------------------------


@dataclass
class _Group:
    count: int
    first: str


@dataclass
class Summary:
    """Counts, and nondeterministic histories grouped by workflow type and first differing Lua line."""

    ok: int = 0
    failed: int = 0
    bad: int = 0
    groups: dict[tuple[str, str], _Group] = field(default_factory=dict)

    def add(self, verdict: Verdict) -> None:
        if verdict.status == OK:
            self.ok += 1
        elif verdict.status == BAD:
            self.bad += 1
        else:
            self.failed += 1
            key = (verdict.workflow_type, verdict.where)
            group = self.groups.get(key)
            if group is None:
                self.groups[key] = _Group(1, verdict.path)
            else:
                group.count += 1

    def lines(self) -> list[str]:
        out: list[str] = []
        if self.groups:
            out.append("nondeterministic histories by workflow type and first differing line:")
            for (workflow_type, where), group in sorted(
                self.groups.items(), key=lambda item: (-item[1].count, item[0])
            ):
                shown = where or "(no replayed command)"
                out.append(f"  {group.count:>6}  {workflow_type}  at {shown}  (e.g. {group.first})")
        out.append(f"{self.ok} replayed, {self.failed} nondeterministic, {self.bad} unreadable")
        return out


class JUnitWriter:
    """JUnit XML, one testcase per history; test cases go to a side file as they come, so memory stays
    flat, and the document is put together at the end (the suite element needs the counts)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.body_path = path + ".cases"
        self.body: IO[str] = open(self.body_path, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self.summary = Summary()
        self.seconds = 0.0

    def add(self, verdict: Verdict) -> None:
        self.summary.add(verdict)
        self.seconds += verdict.seconds
        classname = verdict.workflow_type or "unreadable"
        self.body.write(
            f"  <testcase classname={quoteattr(classname)} name={quoteattr(verdict.path)}"
            f' time="{verdict.seconds:.6f}"'
        )
        if verdict.status == OK:
            self.body.write("/>\n")
            return
        element = "failure" if verdict.status == FAIL else "error"
        lines = verdict.text.splitlines()
        headline = (lines[1] if verdict.status == FAIL and len(lines) > 1 else lines[0]).strip()
        self.body.write(
            f">\n    <{element} message={quoteattr(headline)}>{escape(_xml_text(verdict.text))}</{element}>\n"
            "  </testcase>\n"
        )

    def close(self) -> None:
        self.body.close()
        s = self.summary
        with open(self.path, "w", encoding="utf-8") as out, open(self.body_path, encoding="utf-8") as body:
            out.write('<?xml version="1.0" encoding="utf-8"?>\n<testsuites>\n')
            out.write(
                f'<testsuite name="wftest replay" tests="{s.ok + s.failed + s.bad}" failures="{s.failed}"'
                f' errors="{s.bad}" skipped="0" time="{self.seconds:.3f}">\n'
            )
            while block := body.read(1 << 16):
                out.write(block)
            out.write("</testsuite>\n</testsuites>\n")
        os.unlink(self.body_path)


_XML_BAD_CHARS = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13))


def _xml_text(text: str) -> str:
    """Drop the control characters XML 1.0 cannot hold."""
    return text.translate(_XML_BAD_CHARS)
