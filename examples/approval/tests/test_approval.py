"""An expense approval driven by signals: approve, reject, or let the deadline pass. `wippy.at(...)`
places each signal on the test's virtual timeline."""

from datetime import timedelta

import pytest
from syrupy.assertion import SnapshotAssertion

from wftest.testing import Wippy

pytestmark = pytest.mark.wippy_app("..")

EXPENSE = {"id": "exp-7", "amount": 120.0, "requester": "rita", "approvers": ["ann", "bob"]}


@pytest.fixture(autouse=True)
def mock_notify(wippy: Wippy) -> None:
    """Every test: the notification service answers at once."""
    wippy.mock("app:notify").returns({"sent": 1})


def messages(wippy: Wippy) -> list[tuple[list[str], str]]:
    """Who was told what, in order."""
    return [(c.args[0]["to"], c.args[0]["text"]) for c in wippy.mock("app:notify").calls_made]


async def test_approved_after_thirty_minutes(wippy: Wippy) -> None:
    handle = await wippy.start("app:expense_approval", EXPENSE, id="exp-7")
    wippy.at("30m").signal(handle, "approve", {"by": "ann"})

    assert await handle.result() == {"status": "approved", "by": "ann"}
    assert handle.elapsed == timedelta(minutes=30)
    assert messages(wippy) == [
        (["ann", "bob"], "please review expense exp-7"),
        (["rita"], "expense exp-7 approved"),
    ]


async def test_rejected_with_a_reason(wippy: Wippy) -> None:
    handle = await wippy.start("app:expense_approval", EXPENSE)
    wippy.at("10m").signal(handle, "reject", {"by": "bob", "reason": "no receipt"})

    assert await handle.result() == {"status": "rejected", "by": "bob", "reason": "no receipt"}
    assert handle.elapsed == timedelta(minutes=10)


async def test_expires_when_nobody_answers_by_the_deadline(wippy: Wippy) -> None:
    handle = await wippy.start("app:expense_approval", EXPENSE)

    assert await handle.result() == {"status": "expired"}
    assert handle.elapsed == timedelta(hours=24)  # a day of virtual time, in milliseconds
    assert messages(wippy)[-1] == (["rita"], "expense exp-7 expired")


async def test_a_custom_deadline(wippy: Wippy) -> None:
    handle = await wippy.start("app:expense_approval", {**EXPENSE, "deadline": "2h"})

    assert await handle.result() == {"status": "expired"}
    assert handle.elapsed == timedelta(hours=2)


async def test_a_signal_from_someone_else_is_ignored(wippy: Wippy, snapshot: SnapshotAssertion) -> None:
    handle = await wippy.start("app:expense_approval", EXPENSE, id="exp-7")
    wippy.at("5m").signal(handle, "approve", {"by": "mallory"})
    wippy.at("40m").signal(handle, "approve", {"by": "bob"})

    assert await handle.result() == {"status": "approved", "by": "bob"}
    assert handle.elapsed == timedelta(minutes=40)
    assert handle.history == snapshot  # both signals, the timer that never fired, the notifications


async def test_a_signal_sent_before_the_workflow_listens_waits_for_it(wippy: Wippy) -> None:
    # A start-time signal arrives before `process.listen` runs; it is kept until someone subscribes.
    handle = await wippy.start("app:expense_approval", EXPENSE, signals=[("approve", {"by": "ann"})])

    assert await handle.result() == {"status": "approved", "by": "ann"}
    assert handle.elapsed == timedelta(0)
