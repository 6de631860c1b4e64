"""The pytest plugin (registered through the `pytest11` entry point): configuration, the `wippy`
fixture, the replay check after every test that ran workflows, and the items of `--lua-workflows`
and `--replay-histories`."""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import re
import time
from collections.abc import Generator, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from wftest.app import App, AppLoadError, load_app
from wftest.explore import ExploreSettings, workflow_runs
from wftest.history.jsonio import HistoryFormatError
from wftest.luatest import LuaTestSpec, collect_lua_tests, run_lua_test
from wftest.replay import NondeterminismError, replay
from wftest.sim import WorkflowRun
from wftest.testing import Wippy
from wftest.timeline.html import render_html

APPS_KEY = pytest.StashKey[dict[Path, App]]()
HARNESS_KEY = pytest.StashKey[Wippy]()
RUNS_KEY = pytest.StashKey[list[WorkflowRun]]()  # the runs a Lua test item started
BUDGET_KEY = pytest.StashKey[dict[str, float]]()  # wall seconds each explored test has spent
REPLAY_MODES = ("strict", "go", "off")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("wftest", "Wippy workflow testing (wftest)")
    group.addoption(
        "--wippy-app",
        action="append",
        default=[],
        metavar="PATH",
        help="a Wippy app directory the tests use (repeatable; the first is the default app)",
    )
    group.addoption("--wippy-seed", type=int, default=None, metavar="N", help="the simulator's seed")
    group.addoption(
        "--lua-workflows",
        action="store_true",
        help="also run the apps' Lua tests (function entries with meta.type: test)",
    )
    group.addoption(
        "--replay-histories",
        action="append",
        default=[],
        metavar="DIR",
        help="replay every history file under DIR against the current code (Go SDK rules)",
    )
    group.addoption(
        "--lua-explore",
        type=int,
        default=0,
        metavar="N",
        help="run every test that uses the wippy fixture under N exploration seeds (one item each)",
    )
    group.addoption(
        "--lua-explore-seed",
        type=int,
        default=None,
        metavar="SEED",
        help="run exploration seed SEED only (reproduces a failing seed; also narrows wippy.explore)",
    )
    group.addoption(
        "--lua-explore-budget",
        type=float,
        default=None,
        metavar="SECONDS",
        help="wall-clock seconds each test's exploration may take; later seeds are skipped",
    )
    group.addoption(
        "--wippy-timeline",
        choices=("on-failure", "off"),
        default=None,
        help="write each run's timeline HTML when a wftest test fails (default: on-failure)",
    )
    parser.addini(
        "wippy_timeline",
        "on-failure (default) or off: the timeline HTML of a failing test's runs",
        default="on-failure",
    )
    parser.addini("wippy_app", "Wippy app directories (relative to the rootdir)", type="linelist", default=[])
    parser.addini(
        "wippy_start_time",
        "virtual start time of every test (ISO 8601, UTC if no offset)",
        default="2026-01-01T00:00:00Z",
    )
    parser.addini("wippy_seed", "the simulator's seed", default="0")
    parser.addini(
        "wippy_replay_check",
        "replay every run after the test: strict (default), go, or off",
        default="strict",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "wippy_app(path): the Wippy app (relative to the test file) to use")
    config.addinivalue_line("markers", "wippy_seed(n): the simulator's seed for this test")
    config.addinivalue_line("markers", "wippy_no_replay_check: skip the replay check after this test")
    config.addinivalue_line(
        "markers",
        "wippy_explore(faults=False, crashes=True): what --lua-explore may inject into this test "
        "(faults: True or a list of activity ids)",
    )
    config.stash[BUDGET_KEY] = {}
    if config.getoption("lua_explore") or config.getoption("lua_explore_seed") is not None:
        config.pluginmanager.register(ExplorationCoverage(), "wftest-exploration-coverage")
    config.stash[APPS_KEY] = {}
    mode = config.getini("wippy_replay_check")
    if mode not in REPLAY_MODES:
        raise pytest.UsageError(f"wippy_replay_check must be one of {', '.join(REPLAY_MODES)}, not {mode!r}")
    start_time(config)


# -- configuration ---------------------------------------------------------------------------------


def start_time(config: pytest.Config) -> int:
    text = str(config.getini("wippy_start_time"))
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise pytest.UsageError(f"wippy_start_time {text!r} is not an ISO 8601 time") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000


def configured_apps(config: pytest.Config) -> list[Path]:
    """App directories from the command line (relative to the invocation dir), else from the ini file
    (relative to the rootdir)."""
    given = [Path(p) for p in config.getoption("wippy_app")]
    if given:
        return [(config.invocation_params.dir / p).resolve() for p in given]
    return [(config.rootpath / str(p)).resolve() for p in config.getini("wippy_app")]


def app_at(config: pytest.Config, path: Path) -> App:
    """Each app is loaded once per session."""
    apps = config.stash[APPS_KEY]
    if path not in apps:
        apps[path] = load_app(path)
    return apps[path]


def seed_of(item: pytest.Item) -> int:
    marker = item.get_closest_marker("wippy_seed")
    if marker is not None:
        return int(marker.args[0])
    option = item.config.getoption("wippy_seed")
    return int(option) if option is not None else int(item.config.getini("wippy_seed"))


# -- fixtures --------------------------------------------------------------------------------------


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


def new_harness(node: pytest.Item, app: App, explore_seed: int | None) -> Wippy:
    """The world of one test (of one exploration seed, when exploring)."""
    config = node.config
    start, seed = start_time(config), seed_of(node)
    base = _base_nodeid(node.nodeid)
    world = None
    if explore_seed is not None:
        marker = node.get_closest_marker("wippy_explore")
        settings = ExploreSettings(
            faults=marker.kwargs.get("faults", False) if marker else False,
            crashes=marker.kwargs.get("crashes", True) if marker else True,
            world_seed=seed,
            start_ns=start,
            strict_activities=True,
        )
        world = settings.world(app, explore_seed)
    return Wippy(
        app,
        start_ns=start,
        seed=seed,
        world=world,
        explore_seed=config.getoption("lua_explore_seed"),
        reproduce=lambda s: f"pytest '{base}' --lua-explore-seed {s}",
    )


def _base_nodeid(nodeid: str) -> str:
    """The node id without its exploration seed parameter."""
    head, bracket, params = nodeid.partition("[")
    if not bracket:
        return nodeid
    rest = [p for p in params.rstrip("]").split("-") if not p.startswith("seed")]
    return head + (f"[{'-'.join(rest)}]" if rest else "")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`--lua-explore N` makes one item per seed of every test that uses `wippy` (xdist spreads them);
    `--lua-explore-seed S` makes just that seed's item."""
    if "wippy" not in metafunc.fixturenames:
        return
    config = metafunc.config
    single = config.getoption("lua_explore_seed")
    count = config.getoption("lua_explore")
    if single is None and count <= 0:
        return
    seeds = [single] if single is not None else list(range(count))
    metafunc.parametrize("wippy_explore_seed", seeds, ids=[f"seed{s}" for s in seeds], indirect=True)


def _explored(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    return callspec is not None and "wippy_explore_seed" in callspec.params


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """`--lua-explore-budget`: once a test's seeds have used the budget, its later seeds are skipped
    (wall time decides only whether a seed runs, never what happens in it)."""
    budget = item.config.getoption("lua_explore_budget")
    if budget is None or not _explored(item):
        return
    spent = item.config.stash[BUDGET_KEY].get(_base_nodeid(item.nodeid))
    if spent is not None and spent >= budget:  # the first seed always runs
        pytest.skip(f"exploration budget of {budget:g}s for this test is spent")


# -- running tests ---------------------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Async tests that use `wippy` run even when pytest-asyncio is in strict mode or absent: the
    simulator never waits on real I/O, so a private event loop is enough. The first seed of an
    exploration runs twice: the same seed must give byte-identical histories (madsim's check)."""
    function = pyfuncitem.obj
    if not inspect.iscoroutinefunction(function) or "wippy" not in pyfuncitem.fixturenames:
        return None
    arguments = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    seed = pyfuncitem.callspec.params.get("wippy_explore_seed") if _explored(pyfuncitem) else None
    if seed is not None and "snapshot" in arguments:
        arguments["snapshot"] = _AnySnapshot()  # snapshots pin the fixed timings, not explored ones
    _run_coroutine(function(**arguments))
    if seed is not None and seed == _first_seed(pyfuncitem.config):
        _self_check(pyfuncitem, function, arguments, seed)
    return True


def _run_coroutine(coroutine: Any) -> None:
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(coroutine)
    finally:
        loop.close()


def _first_seed(config: pytest.Config) -> int:
    single = config.getoption("lua_explore_seed")
    return int(single) if single is not None else 0


class _AnySnapshot:
    """Stands in for syrupy's `snapshot` in explored runs: a snapshot pins the test's fixed timings."""

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = None  # type: ignore[assignment]


def _self_check(item: pytest.Function, function: Any, arguments: dict[str, Any], seed: int) -> None:
    first: Wippy = arguments["wippy"]
    again = new_harness(item, first.app, seed)
    rerun = {**arguments, "wippy": again}
    try:
        _run_coroutine(function(**rerun))
    except Exception as exc:
        pytest.fail(
            f"exploration seed {seed} is not reproducible: the test passed, then failed on a rerun "
            f"of the same seed ({type(exc).__name__}: {exc}); a mock or callback keeps state between runs?",
            pytrace=False,
        )
    if history_digest(first) != history_digest(again):
        pytest.fail(
            f"exploration seed {seed} is not reproducible: a rerun of the same seed gave different "
            "histories; a mock or callback keeps state between runs, or reads the real world?",
            pytrace=False,
        )


def history_digest(harness: Wippy) -> str:
    digest = hashlib.sha256()
    for run in workflow_runs(harness.world):
        digest.update(run.history_json().encode())
    return digest.hexdigest()


PACKAGE_DIR = str(Path(__file__).parent)
TESTING_DIR = str(Path(__file__).parent / "testing")


def hide_internal_frames(exc: BaseException) -> None:
    """Cut wftest's own frames out of a failing test's traceback: the user sees their test line and
    the message, not the simulator's insides."""
    kept, tb = [], exc.__traceback__
    while tb is not None:
        if not tb.tb_frame.f_code.co_filename.startswith(PACKAGE_DIR):
            kept.append(tb)
        tb = tb.tb_next
    if not kept:
        return
    for earlier, later in zip(kept, kept[1:], strict=False):
        earlier.tb_next = later
    kept[-1].tb_next = None
    exc.__traceback__ = kept[0]


def _meant_for_the_user(exc: BaseException) -> bool:
    """wftest's own exceptions and the test API's argument errors are messages to the user; anything
    else escaping the simulator is a bug in it, and keeps its whole traceback."""
    if type(exc).__module__.startswith("wftest.") or isinstance(exc, AssertionError):
        return True
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_code.co_filename.startswith(TESTING_DIR)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """After a passing test body, replay every run it started: the same code must give the same
    commands (strict), or the test fails with the nondeterminism report."""
    began = time.perf_counter()
    try:
        yield
    except BaseException as exc:
        if HARNESS_KEY in item.stash and _meant_for_the_user(exc):
            hide_internal_frames(exc)
        raise
    finally:
        if _explored(item):
            spent = item.config.stash[BUDGET_KEY]
            base = _base_nodeid(item.nodeid)
            spent[base] = spent.get(base, 0.0) + time.perf_counter() - began
            harness = item.stash.get(HARNESS_KEY, None)
            if harness is not None:
                item.user_properties.append((EXPLORED, explored_coverage(harness)))
    harness = item.stash.get(HARNESS_KEY, None)
    if harness is None or item.get_closest_marker("wippy_no_replay_check") is not None:
        return None
    mode = item.config.getini("wippy_replay_check")
    if mode == "off":
        return None
    try:
        harness.replay_all(strict=mode == "strict")
    except NondeterminismError as exc:
        pytest.fail(f"replaying this test's workflow history gave different commands:\n{exc}", pytrace=False)
    return None


# -- what an exploration covered -----------------------------------------------------------------

EXPLORED = "wftest-explored"  # a user property: travels with the report, also from xdist workers


def explored_coverage(harness: Wippy) -> dict[str, Any]:
    perturbation = harness.world.perturbation
    faulted = [f.activity_type for f in perturbation.faulted] if perturbation is not None else []
    crashed = [c.task for c in perturbation.crashed] if perturbation is not None else []
    return {"digest": history_digest(harness), "faulted": faulted, "crashed": crashed}


class ExplorationCoverage:
    """Collects what each explored test's seeds covered (on the xdist controller too) and reports it:
    seeds run, distinct histories, faulted activities, workflow tasks the worker crashed after."""

    def __init__(self) -> None:
        self.seen: dict[str, dict[str, Any]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        for name, value in report.user_properties:
            if name == EXPLORED and isinstance(value, dict):
                empty = {"seeds": 0, "digests": set(), "faulted": set(), "crashed": set()}
                test = self.seen.setdefault(_base_nodeid(report.nodeid), empty)
                test["seeds"] += 1
                test["digests"].add(value["digest"])
                test["faulted"].update(value["faulted"])
                test["crashed"].update(value["crashed"])

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.seen:
            return
        terminalreporter.section("wftest exploration")
        for nodeid in sorted(self.seen):
            test = self.seen[nodeid]
            terminalreporter.write_line(
                f"{nodeid}: {test['seeds']} seeds, {len(test['digests'])} distinct histories; "
                f"faulted: {', '.join(sorted(test['faulted'])) or 'none'}; "
                f"crashed after tasks: {', '.join(map(str, sorted(test['crashed']))) or 'none'}"
            )


# -- timelines of failing tests -------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """A failing test that ran workflows gets each run's timeline as one HTML file, in `timelines/`
    beside the JUnit report when there is one, else in `.wftest/timelines/` under the rootdir."""
    report = yield
    if call.when != "call" or not report.failed:
        return report
    mode = item.config.getoption("wippy_timeline") or item.config.getini("wippy_timeline")
    harness = item.stash.get(HARNESS_KEY, None)
    runs = harness.runs_with_code() if harness is not None else item.stash.get(RUNS_KEY, [])
    if mode == "off" or not runs:
        return report
    written = write_timelines(item, runs)
    report.sections.append(("wftest timeline", "\n".join(str(p) for p in written)))
    return report


def write_timelines(item: pytest.Item, runs: Sequence[WorkflowRun]) -> list[Path]:
    xml = item.config.getoption("xmlpath", None)
    base = Path(xml).resolve().parent if xml else item.config.rootpath / ".wftest"
    folder = base / "timelines" / re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid).strip("_")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for number, run in enumerate(runs, start=1):
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", run.workflow_id)
        path = folder / f"{number:02d}-{name}.html"
        path.write_text(render_html(run.history, title=f"{run.workflow_id} ({item.nodeid})"))
        written.append(path)
    return written


# -- collected items: Lua tests and recorded histories ---------------------------------------------


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


def _lua_items(session: pytest.Session, path: Path) -> Iterator[pytest.Item]:
    name = _relative(session.config, path)
    collector = WippyAppNode.from_parent(session, name=name, path=path, nodeid=name)
    app = app_at(session.config, path)
    for spec in collect_lua_tests(app):
        yield LuaTestItem.from_parent(collector, name=spec.entry_id, app_path=path, spec=spec)


def _history_items(session: pytest.Session, config: pytest.Config, directory: Path) -> Iterator[pytest.Item]:
    root = (config.invocation_params.dir / directory).resolve()
    if not root.is_dir():
        raise pytest.UsageError(f"--replay-histories {directory}: not a directory")
    apps = configured_apps(config)
    if not apps:
        raise pytest.UsageError("--replay-histories needs an app: set wippy_app or pass --wippy-app PATH")
    name = _relative(config, root)
    collector = HistoryDirNode.from_parent(session, name=name, path=root, nodeid=name)
    for file in sorted(p for p in root.rglob("*.json") if p.is_file()):
        yield HistoryReplayItem.from_parent(
            collector, name=file.relative_to(root).as_posix(), history=file, app_path=apps[0]
        )


def _relative(config: pytest.Config, path: Path) -> str:
    try:
        return path.relative_to(config.rootpath).as_posix()
    except ValueError:
        return path.as_posix()


class WippyAppNode(pytest.Collector):
    """Groups the Lua tests of one app (its items are made at collection time)."""

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        return []


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
