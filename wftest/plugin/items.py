"""Items that are not Python tests: each Lua test entry of the apps (`--lua-workflows`) and each
recorded history under a directory (`--replay-histories`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wftest.app import AppError, AppLoadError
from wftest.history.jsonio import HistoryFormatError
from wftest.luatest import LuaTestSpec, collect_lua_tests, run_lua_test
from wftest.plugin.config import configured_apps, relative, seed_of
from wftest.plugin.state import RUNS_KEY, app_at
from wftest.replay import NondeterminismError, replay
from wftest.replay.batch import history_files


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[Any]) -> None:
    """`--lua-workflows` and `--replay-histories` add their items after the Python tests (before
    -k/-m selection), in a stable order, so xdist workers agree on the collection."""
    extra: list[pytest.Item] = []
    if config.getoption("lua_workflows"):
        apps = configured_apps(config)
        if not apps:
            raise pytest.UsageError("--lua-workflows needs an app: set wippy_app or pass --wippy-app PATH")
        for path in apps:
            extra.extend(_lua_items(session, path))
    for directory in config.getoption("replay_histories"):
        extra.extend(_history_items(session, config, Path(directory)))
    items.extend(extra)


def _lua_items(session: pytest.Session, path: Path) -> list[pytest.Item]:
    """The app's test items; an app that does not load is reported as a collection error (each problem
    at its file:line), as a Python file that does not import would be, and adds no items."""
    name = relative(session.config, path)
    collector = WippyAppNode.from_parent(session, name=name, path=path, nodeid=name)
    session.ihook.pytest_collectstart(collector=collector)
    report: pytest.CollectReport = session.ihook.pytest_make_collect_report(collector=collector)
    report.__dict__.pop("call", None)
    session.ihook.pytest_collectreport(report=report)
    if not report.passed:
        return []
    return [item for item in report.result if isinstance(item, pytest.Item)]


def _history_items(session: pytest.Session, config: pytest.Config, directory: Path) -> Iterator[pytest.Item]:
    root = (config.invocation_params.dir / directory).resolve()
    if not root.is_dir():
        raise pytest.UsageError(f"--replay-histories {directory}: not a directory")
    apps = configured_apps(config)
    if not apps:
        raise pytest.UsageError("--replay-histories needs an app: set wippy_app or pass --wippy-app PATH")
    name = relative(config, root)
    collector = HistoryDirNode.from_parent(session, name=name, path=root, nodeid=name)
    for file in map(Path, history_files([str(root)])):  # *.json and *.json.gz, in a stable order
        yield HistoryReplayItem.from_parent(
            collector, name=file.relative_to(root).as_posix(), history=file, app_path=apps[0]
        )


class WippyAppNode(pytest.Collector):
    """Groups the Lua tests of one app: loading the app is collecting it."""

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        try:
            app = app_at(self.config, self.path)
        except AppLoadError as exc:
            problems = "\n".join(self._located(error) for error in exc.errors)
            raise self.CollectError(f"Wippy app {self.name!r} does not load:\n{problems}") from None
        except AppError as exc:
            raise self.CollectError(f"Wippy app {self.name!r} does not load: {exc}") from None
        return [
            LuaTestItem.from_parent(self, name=spec.entry_id, app_path=self.path, spec=spec)
            for spec in collect_lua_tests(app)
        ]

    def _located(self, error: AppError) -> str:
        """A problem with its registry file given from where pytest runs (file paths are app-relative)."""
        return f"{self.name}/{error}" if error.file is not None else str(error)


class HistoryDirNode(pytest.Collector):
    """Groups the recorded histories of one `--replay-histories` directory."""

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        return []


class WippyTestFailure(Exception):
    """A Lua test or a history replay failed; the message is the whole report."""


class LuaTestItem(pytest.Item):
    """A Wippy test entry (`meta.type: test`), run as a process in a fresh world; each `it` of a
    `wippy.test:test` suite is listed in the report (and in `user_properties`, e.g. for JUnit XML)."""

    def __init__(self, *, app_path: Path, spec: LuaTestSpec, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.app_path = app_path
        self.spec = spec
        for word in (spec.suite, spec.name):
            if word:
                self.keywords[word] = True

    def runtest(self) -> None:
        outcome = run_lua_test(app_at(self.config, self.app_path), self.spec.entry_id, seed=seed_of(self))
        self.stash[RUNS_KEY] = list(outcome.runs)
        marks = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}
        lines = []
        for case in outcome.cases:
            self.user_properties.append((case.name, case.status))
            lines.append(f"{marks[case.status]} {case.name}")
        if lines:
            self.add_report_section("call", "wippy/test cases", "\n".join(lines))
        if not outcome.passed:
            raise WippyTestFailure(outcome.report())

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, WippyTestFailure):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        spec = self.spec
        return spec.app_root / spec.registry_file, spec.registry_line - 1, spec.display_name


class HistoryReplayItem(pytest.Item):
    """One recorded history, replayed with the Go SDK's rules against the app's current code."""

    def __init__(self, *, history: Path, app_path: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.history = history
        self.app_path = app_path

    def runtest(self) -> None:
        try:
            replay(app_at(self.config, self.app_path), self.history, strict=False)
        except (NondeterminismError, HistoryFormatError) as exc:
            raise WippyTestFailure(str(exc)) from exc

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, WippyTestFailure):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.history, None, f"replay {self.name}"
