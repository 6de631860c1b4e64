"""`wftest check`: load an app, compile every Lua source and lint it, collecting every problem at once."""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass

from wftest.app import App, AppLoadError, LuaEntry, load_app
from wftest.lint import Problem, lint_app
from wftest.lua.compiler import CompileError, compile_entry, syntax_check
from wftest.lua.modules import module_problems

_LOCATED = re.compile(r"^(?P<file>[^\n]*?):(?P<line>\d+): (?P<message>.*)$", re.DOTALL)


def as_problem(text: str, code: str) -> Problem:
    """A `file:LINE: message` string from the loader or compiler as a Problem."""
    m = _LOCATED.match(text)
    if m is None:
        return Problem("", 0, text, "error", code)
    return Problem(m["file"], int(m["line"]), m["message"], "error", code)


@dataclass(frozen=True)
class CheckReport:
    app: App | None
    problems: tuple[Problem, ...]
    counts: tuple[tuple[str, int], ...]  # entries per kind, sorted by kind

    @property
    def ok(self) -> bool:
        """No errors (warnings alone do not fail a check)."""
        return not self.errors

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    def summary(self) -> str:
        kinds = ", ".join(f"{n} {kind}" for kind, n in self.counts) or "no entries"
        total = sum(n for _, n in self.counts)
        return f"{total} entries ({kinds}): all Lua sources compile"


def check_app(path: str | os.PathLike[str]) -> CheckReport:
    """Load the app at `path`, compile and lint every Lua entry; never raises for problems in the app."""
    try:
        app = load_app(path)
    except AppLoadError as exc:
        return CheckReport(None, tuple(as_problem(str(e), "load") for e in exc.errors), ())
    return check_loaded(app)


def check_loaded(app: App) -> CheckReport:
    """Compile and lint every Lua entry of an app already loaded."""
    problems: list[Problem] = []
    for entry in app.entries.values():
        if not isinstance(entry, LuaEntry):
            continue
        try:
            syntax_check(compile_entry(entry))
        except CompileError as exc:
            problems.append(as_problem(str(exc), "syntax"))
        workflow = entry.kind.startswith("workflow.")
        problems.extend(as_problem(p, "module") for p in module_problems(app, entry, workflow))
    seen = {(p.file, p.line, p.message) for p in problems}
    problems.extend(p for p in lint_app(app) if (p.file, p.line, p.message) not in seen)
    counts = Counter(e.kind for e in app.entries.values())
    return CheckReport(app, tuple(problems), tuple(sorted(counts.items())))
