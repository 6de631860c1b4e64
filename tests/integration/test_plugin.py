"""The pytest plugin, driven through pytester: configuration, the `wippy` fixture, mocks, the signal
timeline, snapshots, the replay check, and the errors a user meets."""

from __future__ import annotations

import concurrent.futures.process  # noqa: F401  (see below)
import textwrap
from pathlib import Path

import pytest
from checkout import ROOT

# Imported here once: pytester drops the modules its inner runs import, and a module imported twice
# breaks pickling of its classes later in the session (process pools in other tests).
import wftest.testing  # noqa: F401
import wftest.timeline.text  # noqa: F401

pytest_plugins = ["pytester"]

SIM_APP = ROOT / "fixtures" / "sim"

HELPERS = """
def mock_saga(wippy):
    wippy.mock("app.act:reserve").returns({"id": "r1"})
    wippy.mock("app.act:charge").returns({"id": "p1"})
    wippy.mock("app.act:refund").returns(True)
    wippy.mock("app.act:release").returns(True)
"""
SAGA_MOCKS = "from helpers import mock_saga; mock_saga(wippy)"
ORDER = '{"items": [1], "total": 10, "id": "o1"}'


def write_tests(pytester: pytest.Pytester, source: str, *, ini: str = "") -> None:
    pytester.makeini(
        f"[pytest]\nwippy_app = {SIM_APP}\nasyncio_default_fixture_loop_scope = function\n{ini}"
    )
    pytester.makepyfile(helpers=HELPERS, test_it=textwrap.dedent(source))
    pytester.syspathinsert()


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """An inner pytest session, in process (hypothesis's plugin is off: re-importing it costs ~0.5 s)."""
    return pytester.runpytest("-p", "no:cacheprovider", "-p", "no:hypothesispytest", *args)


def outcome_text(result: pytest.RunResult) -> str:
    return "\n".join(result.outlines)


# -- the fixture and the async API -------------------------------------------------------------------


def test_a_passing_and_a_failing_workflow_test(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        f"""
        async def test_ships(wippy):
            {SAGA_MOCKS}
            wippy.mock("app.act:ship").returns({{"tracking": "T1"}})
            result = await wippy.execute("app.wf:saga", {ORDER})
            assert result == {{"status": "completed", "tracking": "T1"}}
            assert wippy.elapsed.total_seconds() == 3600

        async def test_wrong_expectation(wippy):
            {SAGA_MOCKS}
            wippy.mock("app.act:ship").returns({{"tracking": "T1"}})
            result = await wippy.execute("app.wf:saga", {ORDER})
            assert result["tracking"] == "T2"
        """,
    )
    result = run(pytester)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*assert 'T1' == 'T2'*"])


def test_async_tests_run_in_pytest_asyncio_strict_mode_without_a_marker(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        async def test_hello(wippy):
            assert await wippy.execute("app.wf:hello", "Ann") is not None
        """,
        ini="asyncio_mode = strict",
    )
    run(pytester).assert_outcomes(passed=1)


def test_handle_reports_failure_status_and_error(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        import pytest
        from wftest.testing import WorkflowFailed

        async def test_failed(wippy):
            handle = await wippy.start("app.wf:failing", "object", id="f-1")
            with pytest.raises(WorkflowFailed) as info:
                await handle.result()
            assert info.value.status == "failed"
            assert handle.status == "failed"
            assert info.value.workflow_id == "f-1"
            assert (info.value.kind, info.value.message, info.value.details) == ("Invalid", "bad input", {"field": "x"})
        """,
    )
    run(pytester).assert_outcomes(passed=1)


def test_a_workflow_that_can_never_finish_fails_with_where_it_waits(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        async def test_waits_forever(wippy):
            handle = await wippy.start("app.wf:counter", {}, id="c-1")
            await handle.result()
        """,
    )
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*WorkflowBlocked: workflow c-1 can never close*", "*main waits on channel receive*"])


# -- mocks -------------------------------------------------------------------------------------------


def test_an_unmocked_activity_fails_the_test_and_lists_the_apps_activities(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        f"""
        async def test_unmocked(wippy):
            await wippy.execute("app.wf:saga", {ORDER})
        """,
    )
    result = run(pytester)
    result.assert_outcomes(failed=1)
    text = outcome_text(result)
    assert "called activity 'app.act:reserve', which has no mock" in text
    assert "Activities the app has: app.act:echo, app.act:flaky" in text
    assert "if it lives outside this app, mock it (wippy.mock('app.act:reserve').returns(...))" in text
    assert "wftest/sim/" not in text  # the simulator's frames are cut from the traceback


def test_a_misspelled_activity_gets_a_suggestion_not_advice_to_mock(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        async def test_typo(wippy):
            wippy.mock("app.act:echo")  # a watching mock: the Lua of app.act:echo serves its calls
            await wippy.execute("app.wf:probe_call", "app.act:ecko")
        """,
    )
    result = run(pytester)
    result.assert_outcomes(failed=1)
    assert "called activity 'app.act:ecko', which has no mock and no function entry in the app; " \
        "did you mean 'app.act:echo'?" in outcome_text(result)


def test_mock_sequences_matchers_durations_and_callables(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        f"""
        from datetime import datetime, timezone

        async def test_steps(wippy):
            {SAGA_MOCKS}
            seen = []

            def ship(order_id, info):
                seen.append((order_id, info.attempt, datetime.now(timezone.utc).isoformat()))
                return {{"tracking": "T-" + order_id}}

            wippy.mock("app.act:ship").fails("Unavailable", "down").after("10s").then_calls(ship)
            result = await wippy.execute("app.wf:saga", {ORDER})
            assert result == {{"status": "completed", "tracking": "T-o1"}}
            # attempt 1 failed after 10 s; the retry came 1 s later (Temporal's default backoff)
            assert seen == [("o1", 2, "2026-01-01T01:00:11+00:00")]
            wippy.mock("app.act:ship").assert_called_with("o1")
            assert wippy.mock("app.act:ship").call_count == 2

        async def test_matchers(wippy):
            wippy.mock("app.act:reserve").returns({{"id": "r1"}})
            wippy.mock("app.act:charge").when(10).fails("Invalid", "too small", retryable=False)
            wippy.mock("app.act:charge").when(lambda total: total > 100).returns({{"id": "big"}})
            wippy.mock("app.act:release").returns(True)
            assert (await wippy.execute("app.wf:saga", {ORDER})) == {{"status": "failed", "step": "charge"}}
            wippy.mock("app.act:release").assert_called_once_with("r1")
            wippy.mock("app.act:refund").assert_not_called()
        """,
    )
    run(pytester).assert_outcomes(passed=2)


def test_mock_assertion_and_mismatch_messages(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        f"""
        async def test_no_rule(wippy):
            wippy.mock("app.act:reserve").when([9]).returns({{"id": "r1"}})
            await wippy.execute("app.wf:saga", {ORDER})

        async def test_called_once_with(wippy):
            {SAGA_MOCKS}
            wippy.mock("app.act:ship").returns({{"tracking": "T1"}})
            await wippy.execute("app.wf:saga", {ORDER})
            wippy.mock("app.act:charge").assert_called_once_with(11)

        async def test_order(wippy):
            {SAGA_MOCKS}
            wippy.mock("app.act:ship").fails("Unavailable", "down", retryable=False)
            await wippy.execute("app.wf:saga", {ORDER})
            wippy.assert_call_order("app.act:reserve", "app.act:release", "app.act:refund")
        """,
    )
    result = run(pytester)
    result.assert_outcomes(failed=3)
    text = outcome_text(result)
    assert "mock 'app.act:reserve' has no rule for the call ([1])" in text
    assert "rules: when([9])" in text
    assert "expected 'app.act:charge' to be called once with (11); it was called 1 time(s):" in text
    assert "attempt 1 from saga-1: (10)" in text
    assert (
        "expected activity calls in the order ['app.act:reserve', 'app.act:release', 'app.act:refund'], "
        "got ['app.act:reserve', 'app.act:refund', 'app.act:release']" in text
    )


def test_python_exceptions_in_mocks_are_internal_failures(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        f"""
        async def test_bug_in_mock(wippy):
            {SAGA_MOCKS}
            wippy.mock("app.act:ship").calls(lambda order_id: 1 / 0).then_returns({{"tracking": "T1"}})
            result = await wippy.execute("app.wf:saga", {ORDER})
            assert result == {{"status": "completed", "tracking": "T1"}}
            failures = [c.error for c in wippy.calls.calls if c.error is not None]
            assert [(f.kind, f.message) for f in failures] == [("Internal", "ZeroDivisionError: division by zero")]
        """,
    )
    run(pytester).assert_outcomes(passed=1)


def test_child_workflow_mocks(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        async def test_children(wippy):
            child = wippy.mock_workflow("app.wf:child")
            child.when({"value": 21}).returns({"echo": 21, "doubled": 42}).after("5m")
            child.returns(None)
            child.when({"fail": "no such order"}).fails("NotFound", "no such order", retryable=False)
            result = await wippy.execute("app.wf:parent_exec")
            assert result["ok"] == 42
            assert result["kind"] == "NotFound"
            assert child.call_count == 2
            assert wippy.elapsed.total_seconds() == 300
        """,
    )
    run(pytester).assert_outcomes(passed=1)


# -- the timeline and time ---------------------------------------------------------------------------


def test_a_timeline_item_the_test_never_reached_fails_it(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        async def test_late_signal(wippy):
            handle = await wippy.start("app.wf:approval", "req-1", id="a-1")
            wippy.at("30m").signal(handle, "approve", {"by": "ann"})
            wippy.at("900h").signal(handle, "approve", {"by": "bob"})  # long after the workflow closed
            assert (await handle.result())["by"] == "ann"
        """,
    )
    result = run(pytester)
    result.assert_outcomes(failed=1)
    text = outcome_text(result)
    assert "signal 'approve' at +37d12h00m00s never happened: the test ended at +30m00s of virtual time" in text
    assert "every workflow had closed" in text


def test_a_blocked_workflow_names_its_lines_and_signals_nobody_hears(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        async def test_misspelled(wippy):
            handle = await wippy.start("app.wf:counter", {"initial": 1}, id="c-1")
            await handle.signal("add", 2)
            await handle.signal("finsh")
            await handle.result()
        """,
    )
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*WorkflowBlocked: workflow c-1 can never close*",
        "*main waits on channel receive at workflows/counter.lua:23; "
        "coroutine 2 waits on channel receive at workflows/counter.lua:8*",
        "*signal topic 'finsh' arrived, but nothing listens for it (did you mean 'finish'?)*",
    ])


def test_signal_timeline_query_update_and_call(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        from datetime import datetime, timezone

        async def test_approve_at_30m(wippy):
            handle = await wippy.start("app.wf:approval", "req-1", id="a-1")
            wippy.at("30m").signal(handle, "approve", {"by": "ann"})
            result = await handle.result()
            assert result["status"] == "approve" and result["by"] == "ann"
            assert handle.elapsed.total_seconds() == 1800

        async def test_times_out_without_a_signal(wippy):
            assert (await wippy.execute("app.wf:approval", "req-1"))["status"] == "timed_out"

        async def test_updates_and_queries(wippy):
            handle = await wippy.start("app.wf:updatable", 1, id="u-1")
            assert await handle.update("add", 4) == {"total": 5}
            later = wippy.at("1m").update("u-1", "add", 10)
            pid = wippy.at("1m").query(handle, "pid")
            stamps = []
            wippy.at("2m").call(lambda: stamps.append(datetime.now(timezone.utc).isoformat()))
            wippy.at("3m").signal(handle, "close")
            assert await handle.result() == 15
            assert later.result.result == {"total": 15}
            assert pid.result == "u-1"
            assert stamps == ["2026-01-01T00:02:00+00:00"]

        async def test_rejected_update(wippy):
            import pytest
            from wftest.testing import UpdateRejected, UpdateFailed
            handle = await wippy.start("app.wf:updatable", 1)
            with pytest.raises(UpdateRejected, match="amount must not be negative"):
                await handle.update("add", -1)
            with pytest.raises(UpdateFailed, match="cannot boom"):
                await handle.update("boom")
            await handle.terminate("done")
            assert handle.status == "terminated"

        async def test_sleep_and_now(wippy):
            await wippy.sleep("1h30m")
            assert wippy.now.isoformat() == "2026-01-01T01:30:00+00:00"
        """,
    )
    run(pytester).assert_outcomes(passed=5)


def test_timeline_errors_name_the_instant(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        async def test_signal_after_close(wippy):
            handle = await wippy.start("app.wf:approval", "req-1", id="a-1")
            wippy.at("2h").signal(handle, "approve", {"by": "ann"})
            await handle.result()
            await wippy.sleep("3h")

        async def test_in_the_past(wippy):
            await wippy.sleep("1h")
            wippy.at("30m")

        async def test_bad_duration(wippy):
            await wippy.sleep(60)
        """,
    )
    result = run(pytester)
    result.assert_outcomes(failed=3)
    text = outcome_text(result)
    assert "timeline at +2h00m00s: signal 'approve': workflow 'a-1' is not running" in text
    assert "at('30m') is in the past: the test is at +1h00m00s" in text
    assert "sleep must be a duration string like '30s' or a datetime.timedelta, not int" in text


def test_start_time_and_seed_come_from_the_ini(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        async def test_clock(wippy):
            assert wippy.now.isoformat() == "2030-05-01T12:00:00+00:00"
        """,
        ini="wippy_start_time = 2030-05-01T12:00:00Z\nwippy_seed = 7",
    )
    run(pytester).assert_outcomes(passed=1)


# -- snapshots ---------------------------------------------------------------------------------------


SNAPSHOT_TEST = f"""
    async def test_saga_history(wippy, snapshot):
        {SAGA_MOCKS}
        wippy.mock("app.act:ship").fails("Unavailable", "down", retryable=False)
        handle = await wippy.start("app.wf:saga", {ORDER}, id="o-1")
        await handle.result()
        assert handle.history == snapshot
        assert wippy.calls == snapshot
"""


def test_history_snapshots_create_compare_and_update(pytester: pytest.Pytester) -> None:
    write_tests(pytester, SNAPSHOT_TEST)
    run(pytester, "--snapshot-update").assert_outcomes(passed=1)
    stored = next(Path(pytester.path).rglob("*.ambr")).read_text()
    assert "scheduled   app.act:ship" in stored  # the history's timeline
    assert 'o-1 app.act:ship#1 ("o1") -> error Unavailable: down' in stored  # the call log
    assert "run_id" not in stored.lower()
    run(pytester).assert_outcomes(passed=1)
    # the code changes what it ships: the stored snapshot no longer matches, with a readable diff
    pytester.makepyfile(test_it=textwrap.dedent(SNAPSHOT_TEST.replace('"down"', '"carrier down"')))
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(['*- *app.act:ship*Unavailable*"down"*', '*+ *app.act:ship*Unavailable*"carrier down"*'])


def test_explored_runs_leave_snapshots_alone(pytester: pytest.Pytester) -> None:
    write_tests(pytester, SNAPSHOT_TEST)
    run(pytester, "--snapshot-update").assert_outcomes(passed=1)
    stored = next(Path(pytester.path).rglob("*.ambr"))
    before = stored.read_text()
    explored = run(pytester, "--lua-explore", "2")
    explored.assert_outcomes(passed=2)
    assert explored.ret == 0  # syrupy does not call the snapshots unused
    assert "snapshots are not compared in explored runs and are left as they are" in outcome_text(explored)
    run(pytester, "--lua-explore", "2", "--snapshot-update").assert_outcomes(passed=2)
    assert stored.exists() and stored.read_text() == before  # never deleted, never rewritten
    run(pytester).assert_outcomes(passed=1)


def test_a_user_project_runs_with_warnings_as_errors(pytester: pytest.Pytester) -> None:
    """A project that configures only `wippy_app`: no deprecation warning from any plugin wftest brings."""
    pytester.makeini(f"[pytest]\nwippy_app = {ROOT / 'examples' / 'counter'}\n")
    pytester.makepyfile(
        test_it="""
        async def test_count(wippy):
            handle = await wippy.start("app:counter", {"initial": 1})
            await handle.signal("finish")
            assert await handle.result() == {"final_counter": 1}
        """
    )
    result = run(pytester, "-W", "error")
    result.assert_outcomes(passed=1)
    assert result.ret == 0


def test_a_session_reports_what_wftest_check_finds(pytester: pytest.Pytester) -> None:
    write_tests(pytester, "def test_nothing():\n    pass\n")
    for extra in ((), ("-W", "error")):  # findings are never turned into errors that abort the session
        result = run(pytester, *extra)
        result.assert_outcomes(passed=1)
        assert result.ret == 0
        result.stdout.fnmatch_lines([
            "*wftest check*",
            "*/fixtures/sim/workflows/parent_exec.lua:6: workflow.exec('app.wf:nope'): "
            "no entry 'app.wf:nope' in this app*",
        ])


# -- the replay check --------------------------------------------------------------------------------


def test_the_replay_check_fails_a_test_whose_workflow_is_nondeterministic(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        import pytest

        async def test_dice(wippy):
            assert await wippy.execute("app.wf:dice") == "slept"

        @pytest.mark.wippy_no_replay_check
        async def test_dice_unchecked(wippy):
            assert await wippy.execute("app.wf:dice") == "slept"
        """,
    )
    result = run(pytester)
    result.assert_outcomes(passed=1, failed=1)
    text = outcome_text(result)
    assert "replaying this test's workflow history gave different commands" in text
    assert "dice.lua:5" in text
    assert "math.random" in text


def test_replay_check_off_in_the_ini(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        async def test_dice(wippy):
            assert await wippy.execute("app.wf:dice") == "slept"
        """,
        ini="wippy_replay_check = off",
    )
    run(pytester).assert_outcomes(passed=1)


# -- configuration errors ----------------------------------------------------------------------------


def test_no_app_configured_is_a_clear_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_it="""
        async def test_x(wippy):
            pass
        """
    )
    result = run(pytester)
    assert "no Wippy app configured" in outcome_text(result) + "\n".join(result.errlines)


def test_a_broken_app_names_file_and_line(pytester: pytest.Pytester) -> None:
    app = pytester.mkdir("app")
    (app / "_index.yaml").write_text("version: '1.0'\nnamespace: app\nentries:\n  - name: x\n    kind: [\n")
    pytester.makepyfile(
        test_it="""
        import pytest
        pytestmark = pytest.mark.wippy_app("app")

        async def test_x(wippy):
            pass
        """
    )
    result = run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*does not load*", "*_index.yaml:*"])


def test_marker_picks_an_app_relative_to_the_test_file(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_it=f"""
        import pytest
        pytestmark = pytest.mark.wippy_app({str(SIM_APP)!r})

        async def test_x(wippy):
            assert wippy.app.entries["app.wf:hello"].kind == "workflow.lua"
        """
    )
    run(pytester).assert_outcomes(passed=1)


def test_bad_ini_values_are_usage_errors(pytester: pytest.Pytester) -> None:
    write_tests(pytester, "def test_x():\n    pass\n", ini="wippy_replay_check = sometimes")
    result = run(pytester)
    assert "wippy_replay_check must be one of strict, go, off, not 'sometimes'" in "\n".join(result.errlines)


# -- exploration (issue #8) --------------------------------------------------------------------------

EXPLORE_APP = Path(__file__).resolve().parents[2] / "fixtures" / "explore"
COOLING_OFF = """
    import pytest
    from wftest.explore import ExplorationFailed

    async def cooling_off(wippy):
        # the lookup usually takes a minute; in the real world it may take up to ten
        wippy.mock("app.act:price").takes_between("10s", "10m").returns(7).after("1m")
        result = await wippy.execute("app.wf:cooling_off", {"sku": "A", "qty": 3})
        assert result == {"sku": "A", "total": 21}

    async def test_fixed_timing(wippy):
        await cooling_off(wippy)
"""


def write_explore_tests(pytester: pytest.Pytester, source: str) -> None:
    pytester.makeini(f"[pytest]\nwippy_app = {EXPLORE_APP}\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_it=textwrap.dedent(source))


def test_wippy_explore_finds_an_ordering_bug_the_fixed_timing_test_misses(pytester: pytest.Pytester) -> None:
    write_explore_tests(
        pytester,
        COOLING_OFF
        + """
    async def test_explored(wippy):
        await wippy.explore(cooling_off, seeds=20)
    """,
    )
    result = run(pytester)
    result.assert_outcomes(passed=1, failed=1)
    text = outcome_text(result)
    assert "ExplorationFailed" in text
    assert "cooling_off.lua:10" in text
    assert "pytest 'test_it.py::test_explored' --lua-explore-seed" in text
    seed = text.split("--lua-explore-seed ")[1].split()[0].strip("'\"")
    again = run(pytester, "test_it.py::test_explored", "--lua-explore-seed", seed)
    again.assert_outcomes(failed=1)
    assert f"seed {seed}" in outcome_text(again)


def test_lua_explore_makes_one_item_per_seed_with_a_reproduction(pytester: pytest.Pytester) -> None:
    write_explore_tests(pytester, COOLING_OFF)
    result = run(pytester, "--lua-explore", "12", "-v")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) + outcomes.get("failed", 0) == 12
    assert 0 < outcomes.get("failed", 0) < 12
    text = outcome_text(result)
    failing = [line for line in result.outlines if line.startswith("test_it.py::") and "FAILED" in line]
    seed = failing[0].split("[seed")[1].split("]")[0]
    assert f"reproduce: pytest 'test_it.py::test_fixed_timing' --lua-explore-seed {seed}" in text
    again = run(pytester, "--lua-explore-seed", seed)
    again.assert_outcomes(failed=1)


def test_lua_explore_budget_skips_later_seeds(pytester: pytest.Pytester) -> None:
    write_explore_tests(pytester, COOLING_OFF)
    result = run(pytester, "--lua-explore", "5", "--lua-explore-budget", "0", "-rs")
    outcomes = result.parseoutcomes()
    assert outcomes.get("skipped") == 4
    result.stdout.fnmatch_lines(["*exploration budget of 0s for this test is spent*"])


def test_lua_explore_with_faults_finds_a_missing_compensation(pytester: pytest.Pytester) -> None:
    write_explore_tests(
        pytester,
        """
        import pytest

        @pytest.mark.wippy_explore(faults=["app.act:reserve", "app.act:charge", "app.act:ship"])
        async def test_saga_compensates(wippy):
            made = {"reserve": 0, "release": 0}

            def reserve(items):
                made["reserve"] += 1
                return {"id": "r1"}

            def release(reservation_id):
                made["release"] += 1
                return True

            wippy.mock("app.act:reserve").calls(reserve)
            wippy.mock("app.act:charge").returns({"id": "p1"})
            wippy.mock("app.act:ship").returns({"tracking": "T1"})
            wippy.mock("app.act:refund").returns(True)
            wippy.mock("app.act:release").calls(release)
            order = {"items": [1], "total": 10, "id": "o1"}
            result = await wippy.execute("app.wf:leaky_saga", order)
            if result["status"] == "failed" and result["step"] != "reserve":
                assert made["release"] == made["reserve"], "a failed order must release its reservation"
        """,
    )
    result = run(pytester, "--lua-explore", "30")
    assert result.parseoutcomes().get("failed", 0) > 0
    assert "a failed order must release its reservation" in outcome_text(result)
    summary = [line for line in result.outlines if line.startswith("test_it.py::test_saga_compensates: ")]
    assert summary and "30 seeds" in summary[0] and "distinct histories" in summary[0]
    assert "faulted: app.act:charge, app.act:reserve, app.act:ship" in summary[0]
    assert "crashed after tasks: 1" in summary[0]


# -- --replay-histories ------------------------------------------------------------------------------


def test_replay_histories_makes_an_item_per_file(pytester: pytest.Pytester) -> None:
    from wftest import load_app
    from wftest.sim import World

    world = World(load_app(SIM_APP))
    world.mock("app.act:echo", {"ok": True})
    good = world.run_until_closed(world.start("app.wf:hello", "Ann"))
    histories = pytester.mkdir("histories")
    (histories / "hello.json").write_text(good.history_json())
    # a history from code that slept 2h where the current code sleeps 1h is still fine under go rules;
    # one recorded from a different workflow shape is not
    other = world.run_until_closed(world.start("app.wf:timers"))
    bad = json_with_type(other.history_json(), "app.wf:timers", "app.wf:hello")
    (histories / "nested").mkdir()
    (histories / "nested" / "changed.json").write_text(bad)
    (histories / "broken.json").write_text('{"events": [')
    pytester.makeini(f"[pytest]\nwippy_app = {SIM_APP}\nasyncio_default_fixture_loop_scope = function\n")
    result = run(pytester, "--replay-histories", "histories", "-v")
    result.assert_outcomes(passed=1, failed=2)
    text = outcome_text(result)
    assert "histories::hello.json PASSED" in text
    assert "histories::nested/changed.json FAILED" in text
    assert "nondeterminism in workflow task 1" in text
    assert "broken.json" in text and "truncated" in text.lower()


def json_with_type(history_json: str, old: str, new: str) -> str:
    return history_json.replace(f'"name": "{old}"', f'"name": "{new}"')


def test_replay_histories_needs_a_directory(pytester: pytest.Pytester) -> None:
    pytester.makeini(f"[pytest]\nwippy_app = {SIM_APP}\nasyncio_default_fixture_loop_scope = function\n")
    result = run(pytester, "--replay-histories", "nope")
    assert "--replay-histories nope: not a directory" in "\n".join(result.errlines)


# -- --lua-workflows ---------------------------------------------------------------------------------

LUA_APP = Path(__file__).resolve().parents[2] / "fixtures" / "luatests"


def test_lua_workflows_collects_and_runs_the_apps_lua_tests(pytester: pytest.Pytester) -> None:
    pytester.makeini(f"[pytest]\nwippy_app = {LUA_APP}\nasyncio_default_fixture_loop_scope = function\n")
    result = run(
        pytester, "--lua-workflows", "-v", "-rA", "-k", "passes or raises or returns_false or bdd or greets or aliases"
    )
    text = outcome_text(result)
    app = str(LUA_APP).lstrip("/")
    assert f"/{app}::app.test:passes PASSED" in text
    assert f"/{app}::app.test:greets PASSED" in text  # starts a workflow on a temporal.worker host
    assert f"FAILED /{app}::app.test:raises" in text
    assert "app.test:raises failed: test/simple.lua:10: boom" in text
    assert f"FAILED /{app}::app.test:returns_false" in text
    assert "app.test:returns_false failed: returned false" in text
    assert f"FAILED /{app}::app.test:bdd" in text  # a BDD suite with a failing case
    assert "Captured wippy/test cases call" in text and "FAIL " in text and "PASS " in text
    assert f"PASSED /{app}::app.test:aliases" in text  # a passing BDD suite
    result.assert_outcomes(passed=3, failed=3)


def test_lua_workflows_without_an_app_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_it="def test_x():\n    pass\n")
    result = run(pytester, "--lua-workflows")
    assert "--lua-workflows needs an app" in "\n".join(result.errlines)


# -- xdist -------------------------------------------------------------------------------------------


def test_runs_under_xdist(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    write_tests(
        pytester,
        """
        import pytest

        @pytest.mark.parametrize("who", ["a", "b", "c", "d"])
        async def test_hello(wippy, who):
            assert await wippy.execute("app.wf:hello", who) is not None
        """,
    )
    result = pytester.runpytest_subprocess("-p", "xdist", "-n", "2", "-p", "no:cacheprovider", "--wippy-roundtrip")
    result.assert_outcomes(passed=4)
    # the controller adds up what its workers replayed from JSON
    result.stdout.fnmatch_lines(["wftest round-trip: 4 workflow runs replayed from their JSON history (*s)"])


# -- timeline HTML of failing tests (issue #7) -------------------------------------------------------

FAILING_SAGA = f"""
    async def test_saga(wippy):
        {SAGA_MOCKS}
        wippy.mock("app.act:ship").returns({{"tracking": "T1"}})
        await wippy.execute("app.wf:saga", {ORDER}, id="order/1")
        assert False, "look at the timeline"

    async def test_passing(wippy):
        {SAGA_MOCKS}
        wippy.mock("app.act:ship").returns({{"tracking": "T1"}})
        await wippy.execute("app.wf:saga", {ORDER})
"""


def test_a_failing_test_writes_its_runs_timeline_html(pytester: pytest.Pytester) -> None:
    write_tests(pytester, FAILING_SAGA)
    result = run(pytester)
    result.assert_outcomes(passed=1, failed=1)
    pages = sorted((pytester.path / ".wftest" / "timelines").rglob("*.html"))
    assert [p.relative_to(pytester.path / ".wftest" / "timelines").as_posix() for p in pages] == [
        "test_it.py_test_saga/01-order_1.html"
    ]
    page = pages[0].read_text()
    assert page.startswith("<!DOCTYPE html>") and "app.act:ship" in page and "http" not in page
    assert "wftest timeline" in outcome_text(result) and str(pages[0]) in outcome_text(result)
    # beside the JUnit report when there is one
    run(pytester, "--junitxml", "reports/junit.xml")
    assert (pytester.path / "reports" / "timelines" / "test_it.py_test_saga" / "01-order_1.html").is_file()


def test_timeline_html_can_be_turned_off(pytester: pytest.Pytester) -> None:
    write_tests(pytester, FAILING_SAGA)
    run(pytester, "--wippy-timeline", "off").assert_outcomes(passed=1, failed=1)
    assert not (pytester.path / ".wftest").exists()


def test_lua_explore_self_checks_that_a_seed_reproduces(pytester: pytest.Pytester) -> None:
    write_explore_tests(
        pytester,
        """
        CALLS = {"n": 0}

        async def test_hidden_state(wippy, snapshot):
            CALLS["n"] += 1  # state that survives between runs: the same seed cannot give the same history
            wippy.mock("app.act:price").returns(CALLS["n"])
            handle = await wippy.start("app.wf:cooling_off", {"sku": "A", "qty": 1})
            await handle.result()

        async def test_clean(wippy, snapshot):
            wippy.mock("app.act:price").returns(2)
            handle = await wippy.start("app.wf:cooling_off", {"sku": "A", "qty": 1})
            assert await handle.result() == {"sku": "A", "total": 2}
            assert handle.history == snapshot
        """,
    )
    result = run(pytester, "--lua-explore", "2")  # snapshots are not compared in explored runs
    result.assert_outcomes(passed=3, failed=1)
    assert "exploration seed 0 is not reproducible: a rerun of the same seed gave different histories" in (
        outcome_text(result)
    )


# -- talking back to the test: mailboxes and plain processes -----------------------------------------

PROCESS_APP = Path(__file__).resolve().parents[2] / "fixtures" / "processes"


def test_a_mailbox_receives_what_workflows_send_back(pytester: pytest.Pytester) -> None:
    """A reply to a local PID is a SideEffect marker plus delivery; a signal with no sender
    gets NotFound ("could not resolve '' as PID or registered name"), not a Lua error."""
    write_tests(
        pytester,
        """
        async def test_replies(wippy):
            box = wippy.mailbox()
            handle = await wippy.start("app.wf:replier", id="r-1")
            await handle.signal("ping", {"n": 1}, sender=box)
            wippy.at("1m").signal(handle, "ping", {"n": 2}, sender=box.pid)
            wippy.at("2m").signal(handle, "ping", {"n": 3})
            wippy.at("3m").signal(handle, "stop")
            failures = await handle.result()
            assert [(m.topic, m.payload, m.sender) for m in box.messages] == [
                ("pong", {"n": 1}, wippy.world.pid_of("r-1")),
                ("pong", {"n": 2}, wippy.world.pid_of("r-1")),
            ]
            assert failures == ["NotFound: could not resolve '' as PID or registered name"]
        """,
    )
    run(pytester).assert_outcomes(passed=1)


def test_run_process_returns_the_result_or_raises(pytester: pytest.Pytester) -> None:
    pytester.makeini(f"[pytest]\nwippy_app = {PROCESS_APP}\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        test_it="""
        import pytest
        from wftest.testing import ProcessFailed

        async def test_exec(wippy):
            result = await wippy.run_process("app:exec_hello")
            assert result is not None
            assert wippy.world.runs[0].status == "completed"

        async def test_not_a_function(wippy):
            with pytest.raises(Exception, match="is not a function or process entry"):
                await wippy.run_process("app:hello")
        """
    )
    run(pytester).assert_outcomes(passed=2)


def test_run_process_failures_raise_process_failed(pytester: pytest.Pytester) -> None:
    pytester.makeini(f"[pytest]\nwippy_app = {LUA_APP}\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        test_it="""
        import pytest
        from wftest.testing import ProcessFailed

        async def test_raises(wippy):
            with pytest.raises(ProcessFailed, match="process app.test:raises failed: .*simple.lua:10: boom"):
                await wippy.run_process("app.test:raises")

        async def test_returns_error(wippy):
            with pytest.raises(ProcessFailed, match="process app.test:returns_error returned an error: bad input"):
                await wippy.run_process("app.test:returns_error")
        """
    )
    run(pytester).assert_outcomes(passed=2)
