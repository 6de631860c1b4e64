"""A transfer between two accounts, written to SQLite by a Lua activity. Every test has its own empty
database (the app's `db` entry names a file; wftest gives each test a fresh in-memory one), so the tests
seed accounts with `wippy.run_activity` and read balances back the same way."""

from datetime import timedelta

import pytest

from wftest.testing import ActivityFailed, Wippy

pytestmark = pytest.mark.wippy_app("..")

TRANSFER = {"id": "t-1", "from": "alice", "to": "bob", "amount": 30}


async def open_accounts(wippy: Wippy, alice: int = 100, bob: int = 0) -> None:
    assert await wippy.run_activity("app:open_account", "alice", alice) is True
    assert await wippy.run_activity("app:open_account", "bob", bob) is True


async def balances(wippy: Wippy) -> tuple[int, int]:
    return await wippy.run_activity("app:balance", "alice"), await wippy.run_activity("app:balance", "bob")


async def test_the_activity_moves_money_in_one_transaction(wippy: Wippy) -> None:
    await open_accounts(wippy)
    assert await wippy.run_activity("app:post_transfer", TRANSFER) == {"id": "t-1", "duplicate": False}
    assert await balances(wippy) == (70, 30)


async def test_a_retried_attempt_does_not_move_the_money_twice(wippy: Wippy) -> None:
    await open_accounts(wippy)
    await wippy.run_activity("app:post_transfer", TRANSFER)
    again = await wippy.run_activity("app:post_transfer", TRANSFER, attempt=2)
    assert again == {"id": "t-1", "duplicate": True}
    assert await balances(wippy) == (70, 30)


async def test_insufficient_funds_is_a_non_retryable_failure(wippy: Wippy) -> None:
    await open_accounts(wippy, alice=10)
    with pytest.raises(ActivityFailed) as failed:
        await wippy.run_activity("app:post_transfer", TRANSFER)
    assert (failed.value.kind, failed.value.retryable) == ("Invalid", False)
    assert failed.value.message == "insufficient funds in alice"
    assert await balances(wippy) == (10, 0)  # the transaction was rolled back


async def test_the_workflow_posts_through_the_real_activity(wippy: Wippy) -> None:
    await open_accounts(wippy)
    result = await wippy.execute("app:transfer_workflow", TRANSFER)
    assert result == {"status": "posted", "id": "t-1", "attempts": 1}
    assert await balances(wippy) == (70, 30)
    # the test can read the database directly too
    db = wippy.sql_connection("app:db")
    rows = db.execute("SELECT id, from_id, to_id, amount FROM transfers").fetchall()
    assert rows == [("t-1", "alice", "bob", 30)]


async def test_a_short_payer_is_retried_daily_until_funds_arrive(wippy: Wippy) -> None:
    await open_accounts(wippy, alice=10)
    handle = await wippy.start("app:transfer_workflow", TRANSFER)
    # A deposit lands 30 hours in: the second daily attempt (at 24 h) still fails, the third succeeds.
    deposit = "UPDATE accounts SET balance = 100 WHERE id = 'alice'"
    wippy.at("30h").call(lambda: wippy.sql_connection("app:db").execute(deposit))
    assert await handle.result() == {"status": "posted", "id": "t-1", "attempts": 3}
    assert handle.elapsed == timedelta(hours=48)
    assert await balances(wippy) == (70, 30)


async def test_the_workflow_alone_with_the_activity_mocked(wippy: Wippy) -> None:
    wippy.mock("app:post_transfer").fails("Invalid", "insufficient funds", retryable=False)
    result = await wippy.execute("app:transfer_workflow", TRANSFER)
    assert result == {"status": "rejected", "id": "t-1"}
    assert wippy.mock("app:post_transfer").call_count == 3
    assert wippy.elapsed == timedelta(hours=48)
