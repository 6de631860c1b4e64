"""The plugin's configuration: its options and ini values, and the world each test gets from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from wftest.app import App
from wftest.explore import ExploreSettings
from wftest.sim.timing import parse_start_time
from wftest.testing import Wippy

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
    group.addoption(
        "--wippy-roundtrip",
        action="store_true",
        help="replay every workflow run from its Temporal JSON history in a fresh Lua state, strictly "
        "(also WFTEST_ROUNDTRIP=1)",
    )
    group.addoption(
        "--lua-cov",
        action="store_true",
        help="record line coverage of the Lua code the tests run into coverage.py's data "
        "(with --cov: in pytest-cov's report)",
    )
    parser.addini("wippy_lua_cov", "record Lua line coverage (as --lua-cov)", type="bool", default=False)
    parser.addini(
        "wippy_roundtrip",
        "replay every run from its JSON history (strict) after each test",
        type="bool",
        default=False,
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


def check_ini(config: pytest.Config) -> None:
    """Bad ini values stop the session at once, with the value and what is allowed."""
    mode = config.getini("wippy_replay_check")
    if mode not in REPLAY_MODES:
        raise pytest.UsageError(f"wippy_replay_check must be one of {', '.join(REPLAY_MODES)}, not {mode!r}")
    start_time(config)


def start_time(config: pytest.Config) -> int:
    text = str(config.getini("wippy_start_time"))
    try:
        return parse_start_time(text, naive_is_utc=True)
    except ValueError as exc:
        raise pytest.UsageError(f"wippy_start_time: {exc}") from None


def configured_apps(config: pytest.Config) -> list[Path]:
    """App directories from the command line (relative to the invocation dir), else from the ini file
    (relative to the rootdir)."""
    given = [Path(p) for p in config.getoption("wippy_app")]
    if given:
        return [(config.invocation_params.dir / p).resolve() for p in given]
    return [(config.rootpath / str(p)).resolve() for p in config.getini("wippy_app")]


def seed_of(item: pytest.Item) -> int:
    marker = item.get_closest_marker("wippy_seed")
    if marker is not None:
        return int(marker.args[0])
    option = item.config.getoption("wippy_seed")
    return int(option) if option is not None else int(item.config.getini("wippy_seed"))


def new_harness(node: pytest.Item, app: App, explore_seed: int | None) -> Wippy:
    """The world of one test (of one exploration seed, when exploring)."""
    config = node.config
    start, seed = start_time(config), seed_of(node)
    base = base_nodeid(node.nodeid)
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


def base_nodeid(nodeid: str) -> str:
    """The node id without its exploration seed parameter."""
    head, bracket, params = nodeid.partition("[")
    if not bracket:
        return nodeid
    rest = [p for p in params.rstrip("]").split("-") if not p.startswith("seed")]
    return head + (f"[{'-'.join(rest)}]" if rest else "")


def relative(config: pytest.Config, path: Path) -> str:
    try:
        return path.relative_to(config.rootpath).as_posix()
    except ValueError:
        return path.as_posix()
