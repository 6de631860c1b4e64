"""`wftest check`: load an app and compile every Lua source in it, collecting every problem at once."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass

from wftest.app import App, AppLoadError, LuaEntry, load_app
from wftest.lua.compiler import CompileError, compile_entry, syntax_check
from wftest.lua.sandbox import module_problems


@dataclass(frozen=True)
class CheckReport:
    app: App | None
    problems: tuple[str, ...]  # each `file:LINE: message`
    counts: tuple[tuple[str, int], ...]  # entries per kind, sorted by kind

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        kinds = ", ".join(f"{n} {kind}" for kind, n in self.counts) or "no entries"
        total = sum(n for _, n in self.counts)
        return f"{total} entries ({kinds}): all Lua sources compile"


def check_app(path: str | os.PathLike[str]) -> CheckReport:
    """Load the app at `path` and compile every Lua entry; never raises for problems in the app."""
    try:
        app = load_app(path)
    except AppLoadError as exc:
        return CheckReport(None, tuple(str(e) for e in exc.errors), ())
    problems: list[str] = []
    for entry in app.entries.values():
        if not isinstance(entry, LuaEntry):
            continue
        try:
            syntax_check(compile_entry(entry))
        except CompileError as exc:
            problems.append(str(exc))
        problems.extend(module_problems(app, entry, entry.kind.startswith("workflow.")))
    counts = Counter(e.kind for e in app.entries.values())
    return CheckReport(app, tuple(problems), tuple(sorted(counts.items())))
