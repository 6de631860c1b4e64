"""Changing a workflow that has runs in flight: version 2 must replay the histories version 1 recorded
(Temporal's Go SDK rules: what a production worker would reject), and a careless version 2 does not."""

from pathlib import Path

import pytest

import wftest
from wftest.testing import Wippy

pytestmark = pytest.mark.wippy_app("../app")  # the app the `wippy` tests run: version 2

EXAMPLE = Path(__file__).resolve().parent.parent
HISTORIES = sorted((EXAMPLE / "histories").glob("*.json"))
NAMES = [path.stem for path in HISTORIES]


def test_the_histories_are_there() -> None:
    assert NAMES == ["v1-completed", "v1-declined", "v1-in-flight"]


@pytest.mark.parametrize("history", HISTORIES, ids=NAMES)
def test_the_histories_came_from_version_1(history: Path) -> None:
    # strict rules: the same code reproduces every command, input and result
    wftest.replay(wftest.load_app(EXAMPLE / "v1"), history, strict=True)


@pytest.mark.parametrize("history", HISTORIES, ids=NAMES)
def test_version_2_replays_the_version_1_histories(history: Path) -> None:
    result = wftest.replay(wftest.load_app(EXAMPLE / "app"), history)  # Go SDK rules by default
    # every workflow task of the history was replayed (the in-flight one is still asleep)
    tasks = {"v1-completed": 4, "v1-declined": 2, "v1-in-flight": 2}
    assert (result.workflow_type, result.workflow_tasks) == ("app:checkout", tasks[history.stem])


@pytest.mark.xfail(raises=wftest.NondeterminismError, strict=True, reason="the change is not versioned")
@pytest.mark.parametrize("history", HISTORIES, ids=NAMES)
def test_the_wrong_version_2_replays_the_version_1_histories(history: Path) -> None:
    wftest.replay(wftest.load_app(EXAMPLE / "wrong"), history)


def test_the_report_names_the_first_changed_command_and_its_line() -> None:
    with pytest.raises(wftest.NondeterminismError) as report:
        wftest.replay(wftest.load_app(EXAMPLE / "wrong"), EXAMPLE / "histories" / "v1-in-flight.json")
    assert "activity type 'app:check_fraud', history has 'app:charge_card'" in str(report.value)
    assert report.value.where == "checkout.lua:7"


async def test_a_new_order_takes_the_new_path(wippy: Wippy) -> None:
    wippy.mock("app:check_fraud").returns({"risky": False})
    wippy.mock("app:charge_card").returns({"id": "pay-1"})
    wippy.mock("app:send_receipt").returns(True)

    handle = await wippy.start("app:checkout", {"id": "o-2", "amount": 10}, id="order-2")

    assert await handle.result() == {"status": "paid", "payment": "pay-1"}
    wippy.assert_call_order("app:check_fraud", "app:charge_card", "app:send_receipt")
    assert 'change_id="fraud-check" version=1' in handle.history  # recorded for later replays


async def test_a_risky_order_is_held(wippy: Wippy) -> None:
    wippy.mock("app:check_fraud").returns({"risky": True, "reason": "amount over limit"})

    result = await wippy.execute("app:checkout", {"id": "o-3", "amount": 20000})

    assert result == {"status": "held", "reason": "amount over limit"}
    wippy.mock("app:charge_card").assert_not_called()
