"""Running a wftest test: async tests without pytest-asyncio's help, the first explored seed twice,
tracebacks without the simulator's frames, and the replay check after the body."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from wftest.errors import InternalError, WftestError
from wftest.plugin.config import new_harness
from wftest.plugin.explore import AnySnapshot, explored, first_seed, history_digest, record
from wftest.plugin.state import HARNESS_KEY
from wftest.replay import NondeterminismError
from wftest.testing import Wippy

PACKAGE_DIR = str(Path(__file__).parent.parent)
TESTING_DIR = str(Path(__file__).parent.parent / "testing")


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Async tests that use `wippy` run even when pytest-asyncio is in strict mode or absent: the
    simulator never waits on real I/O, so a private event loop is enough. The first seed of an
    exploration runs twice: the same seed must give byte-identical histories (madsim's check)."""
    function = pyfuncitem.obj
    if not inspect.iscoroutinefunction(function) or "wippy" not in pyfuncitem.fixturenames:
        return None
    arguments = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    seed = pyfuncitem.callspec.params.get("wippy_explore_seed") if explored(pyfuncitem) else None
    if seed is not None and "snapshot" in arguments:
        arguments["snapshot"] = AnySnapshot()  # snapshots pin the fixed timings, not explored ones
    run_coroutine(function(**arguments))
    if seed is not None and seed == first_seed(pyfuncitem.config):
        self_check(pyfuncitem, function, arguments, seed)
    return True


def run_coroutine(coroutine: Any) -> None:
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(coroutine)
    finally:
        loop.close()


def self_check(item: pytest.Function, function: Any, arguments: dict[str, Any], seed: int) -> None:
    """Rerun the test body under the same seed in a fresh world: the histories must be identical."""
    first: Wippy = arguments["wippy"]
    again = new_harness(item, first.app, seed)
    try:
        run_coroutine(function(**{**arguments, "wippy": again}))
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


def meant_for_the_user(exc: BaseException) -> bool:
    """wftest's own exceptions and the test API's argument errors are messages to the user; anything
    else escaping the simulator is a bug in it, and keeps its whole traceback."""
    if isinstance(exc, WftestError):
        return not isinstance(exc, InternalError)
    if isinstance(exc, AssertionError):
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
        if HARNESS_KEY in item.stash and meant_for_the_user(exc):
            hide_internal_frames(exc)
        raise
    finally:
        if explored(item):
            record(item, began)
    harness = item.stash.get(HARNESS_KEY, None)
    if harness is None:
        return None
    unsent = harness.unsent_timeline()
    if unsent:
        pytest.fail("the test's timeline has items that never happened:\n" + "\n".join(unsent), pytrace=False)
    if item.get_closest_marker("wippy_no_replay_check") is not None:
        return None
    mode = item.config.getini("wippy_replay_check")
    if mode == "off":
        return None
    try:
        harness.replay_all(strict=mode == "strict")
    except NondeterminismError as exc:
        pytest.fail(f"replaying this test's workflow history gave different commands:\n{exc}", pytrace=False)
    return None
