"""Wippy's Lua tests run in a simulated world, and the built-in `wippy.test:test` module."""

from __future__ import annotations

from pathlib import Path

import pytest
from checkout import HOUR

from wftest import load_app
from wftest.luatest import (
    DEFAULT_LIMIT_NS,
    CaseResult,
    LuaTestError,
    LuaTestOutcome,
    LuaTestSpec,
    collect_lua_tests,
    run_lua_test,
)
from wftest.sim import World

ROOT = Path(__file__).resolve().parents[2] / "fixtures" / "luatests"
APP = load_app(ROOT)


def run(name: str, *, seed: int = 0, limit_ns: int = DEFAULT_LIMIT_NS) -> LuaTestOutcome:
    return run_lua_test(APP, f"app.test:{name}", seed=seed, limit_ns=limit_ns)


def summary(cases: tuple[CaseResult, ...]) -> list[tuple[str, str, str]]:
    return [(case.name, case.status, case.failure_text()) for case in cases]


# -- collection ------------------------------------------------------------------------------------


def test_collects_function_entries_with_meta_type_test_sorted_by_id() -> None:
    """Every function.lua entry with meta.type: test (app.test:helper has none), by entry id."""
    specs = collect_lua_tests(APP)
    assert [s.entry_id for s in specs] == [
        "app.test:aliases",
        "app.test:assertions",
        "app.test:bdd",
        "app.test:greets",
        "app.test:hooks",
        "app.test:linked",
        "app.test:missing_method",
        "app.test:mocks",
        "app.test:never_ends",
        "app.test:outside",
        "app.test:passes",
        "app.test:quiet",
        "app.test:raises",
        "app.test:retries_forever",
        "app.test:returns_error",
        "app.test:returns_false",
        "app.test:rolls",
        "app.test:sleeps",
        "app.test:stuck",
        "app.test:unknown_module",
    ]
    by_id = {s.entry_id: s for s in specs}
    assert by_id["app.test:passes"] == LuaTestSpec(
        entry_id="app.test:passes",
        suite="simple",
        name="Passes",
        description=None,
        source_file="test/simple.lua",
        registry_file="test/_index.yaml",
        registry_line=5,
        app_root=ROOT,
        bdd=False,
    )
    bdd = by_id["app.test:bdd"]
    assert (bdd.bdd, bdd.display_name, bdd.registry_line) == (True, "BDD suite", 61)
    assert by_id["app.test:raises"].display_name == "app.test:raises"


# -- Wippy's verdict ----------------------------------------------------------------------------


def test_a_simple_test_that_returns_true_passes() -> None:
    outcome = run("passes")
    assert (outcome.passed, outcome.status, outcome.reason, outcome.message) == (True, "passed", None, "")
    assert outcome.result is True
    assert outcome.logs == ("checking arithmetic",)
    assert outcome.report() == ""


def test_a_raised_error_fails_with_its_position_and_traceback() -> None:
    outcome = run("raises")
    assert (outcome.status, outcome.reason) == ("failed", "error")
    assert outcome.message == "test/simple.lua:10: boom"
    assert "test/simple.lua:10: in function" in outcome.traceback
    assert outcome.report().startswith("app.test:raises failed: test/simple.lua:10: boom\nstack traceback:")


def test_returning_nil_and_an_error_fails() -> None:
    outcome = run("returns_error")
    assert (outcome.reason, outcome.message) == ("returned_error", "returned an error: bad input")


def test_returning_false_fails() -> None:
    outcome = run("returns_false")
    assert (outcome.reason, outcome.message, outcome.result) == ("returned_false", "returned false", False)


def test_load_problems_fail_the_test_instead_of_raising() -> None:
    """An unknown module or a missing method is the test's problem, reported as its failure."""
    unknown = run("unknown_module")
    assert (unknown.reason, unknown.message) == (
        "load",
        "test/_index.yaml:131: app.test:unknown_module: unknown module 'nosuch'",
    )
    missing = run("missing_method")
    assert (missing.reason, missing.message) == (
        "load",
        "test/simple.lua: app.test:missing_method: "
        "method 'nosuch' not found in the table the script returned",
    )


# -- bounded runs ------------------------------------------------------------------------------------


def test_a_test_that_never_finishes_fails_at_the_limit_with_where_it_waits() -> None:
    outcome = run("never_ends", limit_ns=3 * HOUR)
    assert (outcome.reason, outcome.elapsed_ns) == ("timeout", 3 * HOUR)
    assert outcome.message == (
        "did not finish within 3h0m0s of virtual time; main waits on timer.sleep at test/simple.lua:24"
    )


def test_a_stuck_bdd_case_fails_at_once_naming_the_case() -> None:
    """Nothing is due and nothing can wake it: no need to wait for the limit."""
    outcome = run("stuck")
    assert (outcome.reason, outcome.elapsed_ns) == ("timeout", 0)
    assert outcome.message == (
        "is stuck in case 'waits forever': nothing can wake it (after 0s of virtual time); "
        "main waits on channel receive at test/more.lua:21"
    )
    assert summary(outcome.cases) == [
        ("finishes", "passed", "test/more.lua:20"),
        ("waits forever", "failed", "test/more.lua:21: did not finish: nothing can wake it"),
    ]


def test_a_case_cut_short_by_the_process_failing_is_reported() -> None:
    """A linked workflow that is terminated takes the test process down in the middle of a case, with the
    error Wippy's process engine gives a process that does not trap links (runtime/lua/engine/process.go)."""
    outcome = run("linked")
    assert outcome.reason == "error"
    assert outcome.message == "linked process failed"
    assert summary(outcome.cases) == [
        ("loses its linked workflow", "failed", "test/more.lua:26: did not finish: the test stopped")
    ]


def test_a_simulation_error_fails_the_test() -> None:
    outcome = run("retries_forever")
    assert outcome.reason == "simulation"
    assert outcome.message.startswith("activity app:always_fails (id 5) of workflow ")
    assert "failed 100 times" in outcome.message


# -- workflows started by a test -------------------------------------------------------------------


def test_a_test_drives_a_workflow_on_a_worker_host_and_it_is_replay_checked() -> None:
    """process.exec on a temporal.worker host; the run is replayed (strict) after the test."""
    outcome = run("greets")
    assert outcome.passed, outcome.report()
    (wf,) = outcome.runs
    assert (wf.entry.id if wf.entry else None, wf.status, wf.result) == (
        "app:greet",
        "completed",
        {"greeting": "hello ADA"},
    )
    assert outcome.elapsed_ns == 10**9 and outcome.replay_failures == ()


def test_virtual_time_passes_for_sleeping_tests() -> None:
    outcome = run("sleeps")
    assert (outcome.passed, outcome.elapsed_ns) == (True, 90 * 10**9)


def test_a_workflow_that_does_not_replay_fails_the_test_with_the_report() -> None:
    """The dice workflow sleeps for math.random seconds, which replay reseeds."""
    outcome = run("rolls")
    assert outcome.reason == "nondeterminism"
    (failure,) = outcome.replay_failures
    assert (failure.workflow_id, failure.run_id) == (outcome.runs[0].workflow_id, outcome.runs[0].run_id)
    assert outcome.message == f"replay of a workflow it started differs: {failure.workflow_id}"
    assert "timer duration differs" in failure.report and "workflows/dice.lua:5" in failure.report
    assert f"replay of workflow {failure.workflow_id} (run {failure.run_id}):" in outcome.report()


def test_the_seed_decides_the_world_and_a_rerun_is_identical() -> None:
    first, again, other = run("greets"), run("greets"), run("greets", seed=1)
    assert first.runs[0].workflow_id == again.runs[0].workflow_id != other.runs[0].workflow_id
    assert first.runs[0].history == again.runs[0].history


# -- the BDD module --------------------------------------------------------------------------------


def test_bdd_suite_reports_every_case_with_hooks_in_order() -> None:
    """Nested describes, it/it_skip, parent before_each first, child after_each first, test.mock
    restored after its case; the test raises at the end as the docs' pattern does."""
    outcome = run("bdd")
    assert (outcome.reason, outcome.message) == ("error", "test/bdd.lua:49: tests failed: 2")
    assert summary(outcome.cases) == [
        ("greeting > shouts through the activity", "passed", "test/bdd.lua:11"),
        ("greeting > uses a mocked activity call", "passed", "test/bdd.lua:16"),
        ("greeting > sees the real call again", "passed", "test/bdd.lua:21"),
        ("greeting > nested > fails an assertion", "failed", "test/bdd.lua:30: sum: expected 3, got 2"),
        ("greeting > nested > is not ready", "skipped", "test/bdd.lua:33"),
        ("raises a plain error", "failed", "test/bdd.lua:40: kaboom"),
    ]
    failing = outcome.cases[3]
    assert (failing.path, failing.file, failing.line, failing.error_file, failing.error_line) == (
        ("greeting", "nested", "fails an assertion"),
        "test/bdd.lua",
        29,
        "test/bdd.lua",
        30,
    )
    each = ("before_each greeting", "after_each greeting")
    assert outcome.logs == (
        "before_all greeting",
        *each,
        *each,
        *each,
        "before_each greeting",
        "before_each nested",
        "after_each nested",
        "after_each greeting",
        "after_all greeting",
    )
    assert (
        "failed cases:\n"
        "  greeting > nested > fails an assertion: test/bdd.lua:30: sum: expected 3, got 2\n"
        "  raises a plain error: test/bdd.lua:40: kaboom\n"
    ) in outcome.report()


def test_a_failed_case_fails_a_test_that_returns_normally() -> None:
    outcome = run("quiet")
    assert (outcome.reason, outcome.message) == ("cases", "1 of 2 cases failed")
    assert outcome.result == {"total_tests": 2, "passed_tests": 1, "failed_tests": 1, "skipped_tests": 0}


def test_spec_and_context_are_describe() -> None:
    outcome = run("aliases")
    assert outcome.passed
    assert summary(outcome.cases) == [("spec > context > passes", "passed", "test/more.lua:14")]


def test_declaring_a_case_outside_run_cases_is_an_error_at_the_call() -> None:
    outcome = run("outside")
    assert (outcome.reason, outcome.message) == (
        "error",
        "test/more.lua:34: test.it must be called inside the function given to test.run_cases",
    )


def test_hook_failures_fail_the_cases_they_guard() -> None:
    outcome = run("hooks")
    assert summary(outcome.cases) == [
        ("before_each fails > never runs its body", "failed", "test/more.lua:39: before_each: setup broke"),
        ("after_each fails > passes its body", "failed", "test/more.lua:44: after_each: teardown broke"),
        ("before_all fails > first", "failed", "test/more.lua:48: before_all: no database"),
        ("before_all fails > inner > second", "failed", "test/more.lua:48: before_all: no database"),
        ("before_all fails > skipped", "skipped", "test/more.lua:55"),
        ("after_all fails > passes", "passed", "test/more.lua:59"),
        ("after_all fails > after_all", "failed", "test/more.lua:58: after_all: cleanup broke"),
        ("only skipped > later", "skipped", "test/more.lua:63"),
    ]
    # after_each runs after a failed before_each; a suite with nothing to run runs no hooks.
    assert outcome.logs == ("after_each still runs", "after_all after a failed before_all")


def test_mocks_replace_fields_for_one_case() -> None:
    """test.mock/mock_process on globals and on modules (also ones not required yet), restore_mock,
    restore_all_mocks, and clear errors for paths that cannot be mocked."""
    outcome = run("mocks")
    assert summary(outcome.cases) == [
        ("process > mock_process replaces a process function", "passed", "test/more.lua:69"),
        ("process > the next case sees the original", "passed", "test/more.lua:75"),
        ("restore > restore_mock puts one field back", "passed", "test/more.lua:82"),
        ("restore > restore_all_mocks puts every field back", "passed", "test/more.lua:90"),
        ("modules > a module the test has not required yet", "passed", "test/more.lua:99"),
        ("modules > is restored too", "passed", "test/more.lua:103"),
        (
            "bad paths > empty segment",
            "failed",
            'test/more.lua:108: test.mock: path must be dotted names like "process.send", got "errors..is"',
        ),
        (
            "bad paths > not a string",
            "failed",
            'test/more.lua:109: test.mock: path must be dotted names like "process.send", got 42',
        ),
        (
            "bad paths > unknown root",
            "failed",
            "test/more.lua:110: test.mock: cannot mock 'nosuch.fn': "
            "there is no global or module named 'nosuch'",
        ),
        (
            "bad paths > unavailable module",
            "failed",
            "test/more.lua:111: test.mock: cannot mock 'fs.get': module 'fs' is not available: "
            "it reaches the outside world; mock the activity that uses it",
        ),
        (
            "bad paths > through a non-table",
            "failed",
            "test/more.lua:112: test.mock: cannot mock 'errors.NOT_FOUND.x': "
            "'errors.NOT_FOUND' is not a table",
        ),
    ]


ASSERTION_MESSAGES = {
    "eq": 'expected "b", got "a"',
    "eq tables": 'expected {}, got {1, 2, [true] = 1, x = {y = "z\\n"}}',
    "eq message": "total: expected 2, got 1",
    "neq": "expected a value other than 1",
    "ok": "needs a value: expected a truthy value, got nil",
    "fail": "stop here",
    "fail default": "test.fail called",
    "is_nil": "expected nil, got 0",
    "not_nil": "expected a non-nil value, got nil",
    "is_true": "expected true, got 1",
    "is_false": "expected false, got nil",
    "is_string": "expected a string, got 5",
    "is_number": 'expected a number, got "5"',
    "is_table": 'expected a table, got error("e")',
    "is_function": "expected a function, got {}",
    "is_boolean": "expected a boolean, got nil",
    "contains": 'expected "hello" to contain "xyz"',
    "contains non-string": 'expected two strings, got {} and "x"',
    "matches": 'expected "abc" to match pattern "^%d"',
    "has_key": 'expected {a = 1} to have key "b"',
    "has_key non-table": 'expected a table, got "s"',
    "len": "expected length 2, got 1",
    "len non-table": "expected a table or a string, got 5",
    "gt": "expected 1 to be greater than 2",
    "gte": "expected 1 to be greater than or equal to 2",
    "lt": "expected 2 to be less than 1",
    "lte": "expected 2 to be less than or equal to 1",
    "throws": "expected an error, got none",
    "throws non-function": "expected a function, got nil",
    "has_error": "expected an error, got none",
    "has_error value": "expected nil with the error, got 1",
    "no_error": 'expected no error, got "went wrong"',
    "error object": "gone",
    "wrapped error": "outer: inner",
    "table error": "(error object is a table value)",
}


def test_assertions_pass_and_fail_with_their_messages_at_the_callers_line() -> None:
    """Wippy's assertion set; each failing case is one line, so the failure is raised on the `it` line
    (a table error has no position and falls back to the case's)."""
    outcome = run("assertions")
    passing, *failing = outcome.cases
    assert (passing.name, passing.status) == ("every assertion holds", "passed")
    assert {case.path[-1]: case.message for case in failing} == ASSERTION_MESSAGES
    assert all(
        case.status == "failed" and case.failure_text().startswith(f"test/assertions.lua:{case.line}: ")
        for case in failing
    )
    assert [case.error_line == case.line for case in failing].count(False) == 1  # the table error


def test_the_module_works_without_a_runner() -> None:
    """World.run_process on a BDD test: no case reports are collected, the counts are returned."""
    world = World(APP)
    process = world.run_process("app.test:quiet")
    world.run_until_idle()
    assert process.result == {"total_tests": 2, "passed_tests": 1, "failed_tests": 1, "skipped_tests": 0}


def test_an_app_that_defines_wippy_test_itself_keeps_its_own(tmp_path: Path) -> None:
    (tmp_path / "_index.yaml").write_text(
        "version: '1.0'\nnamespace: wippy.test\nentries:\n"
        "  - {name: test, kind: library.lua, source: 'return {own = true}'}\n"
    )
    (tmp_path / "app.yaml").write_text(
        "version: '1.0'\nnamespace: app\nentries:\n"
        "  - name: t\n    kind: function.lua\n    meta: {type: test}\n"
        "    source: 'return function() return require(\"test\").own end'\n"
        "    imports: {test: wippy.test:test}\n"
    )
    outcome = run_lua_test(load_app(tmp_path), "app:t")
    assert (outcome.passed, outcome.result) == (True, True)


# -- bad input -------------------------------------------------------------------------------------


def test_running_something_that_is_not_a_lua_test_is_a_clear_error() -> None:
    with pytest.raises(
        LuaTestError,
        match=r"^'app.test:nope' is not an entry of this app \(the app's Lua tests: "
        r"app.test:aliases, ",
    ):
        run("nope")
    with pytest.raises(
        LuaTestError, match=r"^'app.test:helper' is a function.lua entry without meta.type: test"
    ):
        run("helper")
    with pytest.raises(LuaTestError, match=r"^'app:greet' is a workflow.lua entry without meta.type: test"):
        run_lua_test(APP, "app:greet")
    with pytest.raises(LuaTestError, match=r"^limit_ns must be positive, got 0$"):
        run("passes", limit_ns=0)


def test_a_non_function_entry_marked_as_test_is_not_a_lua_test(tmp_path: Path) -> None:
    (tmp_path / "_index.yaml").write_text(
        "version: '1.0'\nnamespace: app\nentries:\n"
        "  - {name: lib, kind: library.lua, meta: {type: test}, source: 'return {}'}\n"
    )
    app = load_app(tmp_path)
    assert collect_lua_tests(app) == []
    with pytest.raises(
        LuaTestError,
        match=r"^'app:lib' is a library.lua entry; Lua tests are function.lua "
        r"entries \(the app's Lua tests: none\)$",
    ):
        run_lua_test(app, "app:lib")
