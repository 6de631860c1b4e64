"""coverage.py plugin for the Lua files wftest measures (`pytest --lua-cov`): it lets `coverage
report/html/xml/json/lcov` show them next to Python files.

Name it in the coverage configuration (`.coveragerc` or `[tool.coverage.run]`):

    [run]
    plugins = wftest.coverage_plugin

`pytest --cov --lua-cov` wires it into pytest-cov's report by itself. The plugin measures nothing: the
lines come from the Lua line hooks wftest runs, and this only reads the `.lua` files back for reports.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from coverage import CoveragePlugin, FileReporter

from wftest.coverage.lines import source_lines


class LuaFileReporter(FileReporter):
    """A Lua source in a report: its executable lines come from the compiled chunk."""

    def __init__(self, filename: str) -> None:
        super().__init__(filename)
        self._source: str | None = None

    def source(self) -> str:
        if self._source is None:
            self._source = Path(self.filename).read_text(encoding="utf-8", errors="replace")
        return self._source

    def lines(self) -> set[int]:
        return set(source_lines(self.filename))


class LuaPlugin(CoveragePlugin):
    """Reports `.lua` files; registered as a configurer, so it never slows down Python's tracing."""

    def configure(self, config: Any) -> None:
        """Nothing to configure: being registered is what reports need."""

    def file_reporter(self, filename: str) -> FileReporter | str:
        return LuaFileReporter(filename)

    def sys_info(self) -> list[tuple[str, Any]]:
        return [("measures", "Lua lines recorded by wftest --lua-cov")]


def coverage_init(reg: Any, options: dict[str, str]) -> None:
    """coverage.py's entry point for plugins named in its configuration."""
    reg.add_configurer(LuaPlugin())
