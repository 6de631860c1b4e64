"""The Python half of wftest's built-in `wippy.test:test` module, and where its case reports go.

The Lua half (`lib/wippy_test.lua`) reports each case as plain values through a host function. A runner
that wants them installs a `CaseRecorder` with `recording()` around the run; the module binds to the
recorder current when a test `require`s it, so the same app code also runs without any runner.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal

from wftest.lua.host_functions import LuaRaise
from wftest.lua.modules import lookup
from wftest.lua.sandbox import Sandbox, text

TEST_MODULE_ID = "wippy.test:test"

CaseStatus = Literal["passed", "failed", "skipped"]


@dataclass(frozen=True)
class CaseResult:
    """One `it` of a BDD suite: its name path (describe names, then the case), status and location.

    ``file``/``line`` are where the case was declared (the `it` call, relative to the app root);
    ``error_file``/``error_line`` where its failure was raised, when Lua knows it.
    """

    path: tuple[str, ...]
    status: CaseStatus
    file: str | None = None
    line: int | None = None
    message: str = ""
    error_file: str | None = None
    error_line: int | None = None

    @property
    def name(self) -> str:
        """The path as the report shows it: ``"describe > nested > it"``."""
        return " > ".join(self.path)

    def failure_text(self) -> str:
        """``file:line: message``: the failure's position when Lua knows it, else the case's."""
        file, line = (self.error_file, self.error_line) if self.error_file else (self.file, self.line)
        where = f"{file}:{line}" if file and line else ""
        return ": ".join(part for part in (where, self.message) if part)


class CaseRecorder:
    """Collects case results in the order the cases finish, and the case running now (if any)."""

    def __init__(self) -> None:
        self.cases: list[CaseResult] = []
        self.running: CaseResult | None = None

    def report(
        self,
        status: bytes,
        message: Any,
        file: Any,
        line: Any,
        error_file: Any,
        error_line: Any,
        *names: bytes,
    ) -> None:
        """The host function the Lua half calls: ``running`` when a case starts, its status when done."""
        state = text(status)
        case = CaseResult(
            path=tuple(text(n) for n in names),
            status=_STATUSES.get(state, "failed"),
            file=_optional_text(file),
            line=int(line) if line is not None else None,
            message=text(message) if message is not None else "",
            error_file=_optional_text(error_file),
            error_line=int(error_line) if error_line is not None else None,
        )
        if state == "running":
            self.running = case
            return
        self.running = None
        self.cases.append(case)


_STATUSES: dict[str, CaseStatus] = {"passed": "passed", "failed": "failed", "skipped": "skipped"}


def _optional_text(value: Any) -> str | None:
    return text(value) if value is not None else None


_RECORDER: ContextVar[CaseRecorder | None] = ContextVar("wftest_lua_case_recorder", default=None)


@contextmanager
def recording(recorder: CaseRecorder) -> Iterator[CaseRecorder]:
    """Send the case reports of every `wippy.test:test` opened inside this block to `recorder`."""
    token = _RECORDER.set(recorder)
    try:
        yield recorder
    finally:
        _RECORDER.reset(token)


def open_test_module(sb: Sandbox) -> Any:
    """The module table of `wippy.test:test` for one sandbox (served to `imports:` the app leaves open)."""
    recorder = _RECORDER.get()

    def report(*args: Any) -> None:
        if recorder is not None:
            recorder.report(*args)

    def module(name: bytes) -> Any:
        key = text(name)
        if lookup(key) is None and key not in sb.options.providers:
            return None, f"there is no global or module named '{key}'"
        try:
            return sb.open_module(key, TEST_MODULE_ID, None)
        except LuaRaise as exc:
            return None, str(exc)

    host = sb.lua.table_from({b"report": sb.host_function(report), b"module": sb.host_function(module)})
    return sb.run_library("wippy_test.lua", host)
