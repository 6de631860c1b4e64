"""The pytest plugin, registered through the `pytest11` entry point: the markers, the `wippy_app` and
`wippy` fixtures, and the hooks of its parts (wftest/plugin/): configuration, running tests with the
replay check, exploration, timelines of failing tests, and the items of `--lua-workflows` and
`--replay-histories`."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from wftest.app import App, AppError, AppLoadError
from wftest.check import check_loaded
from wftest.coverage import pytest_hooks as lua_coverage
from wftest.plugin import roundtrip
from wftest.plugin.config import check_ini, configured_apps, new_harness
from wftest.plugin.config import pytest_addoption as pytest_addoption
from wftest.plugin.explore import ExplorationCoverage, leave_snapshots_alone
from wftest.plugin.explore import pytest_generate_tests as pytest_generate_tests
from wftest.plugin.explore import pytest_runtest_setup as pytest_runtest_setup
from wftest.plugin.items import pytest_collection_modifyitems as pytest_collection_modifyitems
from wftest.plugin.running import pytest_pyfunc_call as pytest_pyfunc_call
from wftest.plugin.running import pytest_runtest_call as pytest_runtest_call
from wftest.plugin.state import HARNESS_KEY, app_at, session_state, start_session
from wftest.plugin.timelines import pytest_runtest_makereport as pytest_runtest_makereport
from wftest.testing import Wippy


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # wftest runs async tests itself and has no async fixtures of a wider scope, so pytest-asyncio's
    # notice about the default loop scope of async fixtures says nothing to a wftest user.
    warnings.filterwarnings(
        "ignore", message='The configuration option "asyncio_default_fixture_loop_scope" is unset'
    )
    config.addinivalue_line("markers", "wippy_app(path): the Wippy app (relative to the test file) to use")
    config.addinivalue_line("markers", "wippy_seed(n): the simulator's seed for this test")
    config.addinivalue_line("markers", "wippy_no_replay_check: skip the replay check after this test")
    config.addinivalue_line(
        "markers",
        "wippy_explore(faults=False, crashes=True): what --lua-explore may inject into this test "
        "(faults: True or a list of activity ids)",
    )
    start_session(config)
    if config.getoption("lua_explore") or config.getoption("lua_explore_seed") is not None:
        config.pluginmanager.register(ExplorationCoverage(config), "wftest-exploration-coverage")
        leave_snapshots_alone(config)
    check_ini(config)
    lua_coverage.configure(config)
    roundtrip.configure(config)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Check the configured apps once (what `wftest check` reports), so a misspelled entry id or a Lua
    syntax error shows in the session's report even before a test meets it."""
    config = session.config
    if hasattr(config, "workerinput"):
        return  # under xdist the controller reports
    lines: list[str] = []
    for path in configured_apps(config):
        try:
            app = app_at(config, path)  # loaded once per session: the tests use the same
        except (AppError, AppLoadError):
            continue  # a missing or broken app is reported where it is used
        for problem in check_loaded(app).problems:
            lines.append(f"{path / str(problem)}" if problem.file else f"{path}: {problem}")
    session_state(config).app_problems = lines


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    lines = session_state(config).app_problems
    if lines:
        terminalreporter.section("wftest check")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture
def wippy_app(request: pytest.FixtureRequest) -> App:
    """The app under test: the `wippy_app` marker, else `--wippy-app`, else the `wippy_app` ini option.
    Override this fixture in a conftest.py to pick an app in code."""
    marker = request.node.get_closest_marker("wippy_app")
    if marker is not None:
        path = (Path(request.node.path).parent / str(marker.args[0])).resolve()
    else:
        apps = configured_apps(request.config)
        if not apps:
            raise pytest.UsageError(
                "no Wippy app configured: set `wippy_app = path/to/app` in the pytest ini options, pass "
                "--wippy-app PATH, or mark the test with @pytest.mark.wippy_app('path')"
            )
        path = apps[0]
    try:
        return app_at(request.config, path)
    except AppLoadError as exc:
        pytest.fail(f"the Wippy app at {path} does not load:\n{exc}", pytrace=False)
    except AppError as exc:
        pytest.fail(f"the Wippy app at {path} does not load: {exc}", pytrace=False)


@pytest.fixture
def wippy_explore_seed(request: pytest.FixtureRequest) -> int | None:
    """The exploration seed of this item (None when not exploring); parametrized by --lua-explore."""
    return getattr(request, "param", None)


@pytest.fixture
def wippy(request: pytest.FixtureRequest, wippy_app: App, wippy_explore_seed: int | None) -> Wippy:
    """A fresh simulated world for this test: mocks, workflows, signals and a virtual clock."""
    harness = new_harness(request.node, wippy_app, wippy_explore_seed)
    if wippy_explore_seed is not None:
        command = harness.reproduction(wippy_explore_seed)
        request.node.add_report_section("call", "wftest exploration", f"reproduce: {command}")
    request.node.stash[HARNESS_KEY] = harness
    return harness
