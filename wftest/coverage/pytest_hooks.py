"""`--lua-cov` in pytest: Lua line coverage into coverage.py's data, next to Python's.

With pytest-cov (`--cov`) or `coverage run -m pytest`, the lines go into the running coverage.py's
own data at the end of the session (on each xdist worker, which coverage then combines), and the Lua
file reporter is wired into pytest-cov's report. Alone, `--lua-cov` writes coverage.py's data file
itself (parallel files under xdist, combined at the end) and prints a short Lua table.
Under `--lua-explore` the exploration summary also lists the lines only explored seeds reached: each
test's first seed reruns its body once with the fixed timings, which gives the baseline.
"""

from __future__ import annotations

import io
from collections.abc import Generator
from typing import Any

import pytest

from wftest.coverage import PLUGIN_MODULE, PLUGIN_NAME
from wftest.lua import coverage as collector
from wftest.lua.coverage import Lines

LINES_PROPERTY = "wftest-lua-lines"  # a user property: an explored item's lines, from xdist workers too
_BASELINE_KEY = pytest.StashKey[Lines]()


def enabled(config: pytest.Config) -> bool:
    return bool(config.getoption("lua_cov") or config.getini("wippy_lua_cov"))


def _current_coverage() -> Any:
    import coverage

    return coverage.Coverage.current()


def _merge(into: Lines, more: Lines) -> None:
    for path, lines in more.items():
        into.setdefault(path, set()).update(lines)


def add_to_data(data: Any, lines: Lines) -> None:
    """Lua lines into a coverage.py `CoverageData`, each file marked as reported by the Lua plugin."""
    measured = {path: sorted(numbers) for path, numbers in lines.items() if numbers}
    if not measured:
        return
    data.add_lines(measured)
    data.add_file_tracers(dict.fromkeys(measured, PLUGIN_NAME))


def wire_plugin(cov: Any) -> None:
    """Name the Lua plugin in a coverage.py object that has not loaded its plugins yet."""
    plugins = list(cov.config.plugins)
    if PLUGIN_MODULE not in plugins:
        cov.set_option("run:plugins", [*plugins, PLUGIN_MODULE])


def line_ranges(lines: set[int]) -> str:
    """12, 14-16, 20"""
    out: list[str] = []
    ordered = sorted(lines)
    start = prev = ordered[0]
    for n in [*ordered[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        out.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(out)


class LuaCoverage:
    """The session's Lua line coverage (registered when --lua-cov or wippy_lua_cov is on)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.recorder = collector.start()
        self.worker = hasattr(config, "workerinput")
        self.own_data = False  # no coverage.py running: this plugin writes the data file
        self.explored: Lines = {}
        self.fixed: Lines = {}
        self.report_text = ""

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        collector.stop()

    # -- per test ----------------------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function) -> Generator[None, None, Any]:
        """Under exploration, the first seed of each test also runs once with the fixed timings (the
        baseline the summary compares explored seeds against); that run's outcome does not count."""
        result = yield
        from wftest.plugin.explore import explored, first_seed

        if not explored(pyfuncitem) or "wippy" not in pyfuncitem.fixturenames:
            return result
        if pyfuncitem.callspec.params.get("wippy_explore_seed") != first_seed(pyfuncitem.config):
            return result
        body = self.recorder.take()
        pyfuncitem.stash[_BASELINE_KEY] = self._baseline(pyfuncitem)
        self.recorder.recent = body
        return result

    def _baseline(self, item: pytest.Function) -> Lines:
        from wftest.plugin.config import new_harness
        from wftest.plugin.running import run_coroutine
        from wftest.plugin.state import HARNESS_KEY

        self.recorder.take()
        first = item.stash.get(HARNESS_KEY, None)
        arguments = {name: item.funcargs[name] for name in item._fixtureinfo.argnames}
        if first is None or "wippy" not in arguments:
            return {}
        fixed = new_harness(item, first.app, None)
        try:
            run_coroutine(item.obj(**{**arguments, "wippy": fixed}))
        except Exception:  # noqa: S110 - the plain run of this test reports its own failures
            pass
        return self.recorder.take()

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        """The replay check after the body (outside this wrapper) runs the lines the body ran again,
        on the same histories: its sandboxes go unmeasured, which saves most of the hooks' cost."""
        try:
            yield
        finally:
            collector.pause()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, None, None]:
        collector.resume()
        yield
        lines = self.recorder.take()  # every sandbox of the test is done: let go of their Lua states
        from wftest.plugin.explore import explored

        if explored(item):
            fixed = item.stash.get(_BASELINE_KEY, {})
            payload = {
                "explored": {p: sorted(n) for p, n in lines.items()},
                "fixed": {p: sorted(n) for p, n in fixed.items()},
            }
            item.user_properties.append((LINES_PROPERTY, payload))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "teardown":
            return
        for name, value in report.user_properties:
            if name == LINES_PROPERTY and isinstance(value, dict):
                _merge(self.explored, {p: set(n) for p, n in value["explored"].items()})
                _merge(self.fixed, {p: set(n) for p, n in value["fixed"].items()})

    # -- the end of the session --------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, None, Any]:
        """Runs inside pytest-cov's own wrapper, so the Lua lines are in coverage.py's data before
        pytest-cov saves, combines and reports it."""
        result = yield
        self.recorder.flush()
        lines = self.recorder.lines
        cov = _current_coverage()
        if cov is not None:
            add_to_data(cov.get_data(), lines)
        else:
            self.own_data = True
            if lines:
                self._write_parallel(lines)
        pytest_cov = session.config.pluginmanager.getplugin("_cov")
        combining = getattr(getattr(pytest_cov, "cov_controller", None), "combining_cov", None)
        if combining is not None:
            wire_plugin(combining)
        return result

    def _write_parallel(self, lines: Lines) -> None:
        import coverage
        from coverage.data import CoverageData

        data_file = coverage.Coverage(config_file=True).config.data_file
        data = CoverageData(basename=data_file, suffix=True)
        add_to_data(data, lines)
        data.write()

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Alone (no coverage.py running), combine the data files into coverage.py's data file."""
        if not self.own_data or self.worker:
            return
        import coverage
        from coverage.exceptions import CoverageException

        cov = coverage.Coverage(config_file=True)
        wire_plugin(cov)
        try:
            cov.combine(keep=False)
            cov.save()
            out = io.StringIO()
            cov.report(file=out, show_missing=True)
            self.report_text = out.getvalue()
        except CoverageException as exc:
            self.report_text = f"no Lua line ran, nothing to report ({exc})"

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """After the exploration summary, the lines only explored seeds reached; the table when alone."""
        self._explored_summary(terminalreporter)
        if self.report_text:
            terminalreporter.section("wftest Lua coverage")
            terminalreporter.write(self.report_text)

    def _explored_summary(self, terminalreporter: Any) -> None:
        gained = {
            path: lines - self.fixed.get(path, set())
            for path, lines in self.explored.items()
            if lines - self.fixed.get(path, set())
        }
        if self.explored:
            terminalreporter.section("wftest exploration: Lua lines")
            if not gained:
                terminalreporter.write_line("Lua lines reached only under explored seeds: none")
            else:
                terminalreporter.write_line("Lua lines reached only under explored seeds:")
                for path in sorted(gained):
                    terminalreporter.write_line(f"  {_shown(self.config, path)}: {line_ranges(gained[path])}")


def _shown(config: pytest.Config, path: str) -> str:
    from pathlib import Path

    from wftest.plugin.config import relative

    return relative(config, Path(path))


def erase_old_data(config: pytest.Config) -> None:
    """Alone, start from no data (as pytest-cov does): old parallel files would be combined in."""
    if hasattr(config, "workerinput") or _current_coverage() is not None:
        return
    if config.pluginmanager.getplugin("_cov") is not None:
        return
    import coverage

    coverage.Coverage(config_file=True).erase()


def configure(config: pytest.Config) -> None:
    """Register the Lua coverage plugin when it is asked for."""
    if not enabled(config):
        return
    try:
        import coverage  # noqa: F401
    except ImportError:
        raise pytest.UsageError(
            "--lua-cov writes coverage.py's data: install coverage (pip install coverage pytest-cov)"
        ) from None
    erase_old_data(config)
    config.pluginmanager.register(LuaCoverage(config), "wftest-lua-coverage")
