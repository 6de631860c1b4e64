"""The order workflow of the Wippy docs: charge the customer, wait an hour, ship, and refund the payment
when shipping fails. Activities are mocked unless a test wants the app's own Lua functions."""

from datetime import timedelta

import pytest
from syrupy.assertion import SnapshotAssertion

from wftest.testing import Wippy, WorkflowFailed

pytestmark = pytest.mark.wippy_app("..")

ORDER = {"id": "o-1", "total": 49.99, "customer_id": "c-7"}


def mock_payments(wippy: Wippy) -> None:
    wippy.mock("app:charge_payment").returns({"id": "pay-1", "amount": 4999})
    wippy.mock("app:refund_payment").returns(True)


async def test_charges_then_ships_an_hour_later(wippy: Wippy) -> None:
    mock_payments(wippy)
    wippy.mock("app:ship_order").returns({"tracking_number": "TRK-1"})

    handle = await wippy.start("app:order_workflow", ORDER, id="order-1")
    result = await handle.result()

    assert result == {"status": "completed", "payment_id": "pay-1", "tracking": "TRK-1"}
    assert handle.elapsed == timedelta(hours=1)  # the one-hour sleep, in virtual time
    wippy.assert_call_order("app:charge_payment", "app:ship_order")
    # the total is sent in cents (lib/money.lua)
    wippy.mock("app:charge_payment").assert_called_once_with({"amount": 4999, "customer": "c-7"})
    wippy.mock("app:ship_order").assert_called_once_with({"order_id": "o-1"})
    wippy.mock("app:refund_payment").assert_not_called()


async def test_a_declined_payment_ends_the_order_at_once(wippy: Wippy) -> None:
    wippy.mock("app:charge_payment").fails("Invalid", "card declined", retryable=False)

    result = await wippy.execute("app:order_workflow", ORDER)

    assert result == {"status": "failed", "error": "card declined"}
    assert wippy.elapsed == timedelta(0)
    wippy.mock("app:ship_order").assert_not_called()


async def test_a_failed_shipment_refunds_the_payment(wippy: Wippy, snapshot: SnapshotAssertion) -> None:
    mock_payments(wippy)
    wippy.mock("app:ship_order").fails("Unavailable", "carrier down", retryable=False).after("20s")

    handle = await wippy.start("app:order_workflow", ORDER, id="order-1")
    result = await handle.result()

    assert result == {"status": "failed", "error": "carrier down"}
    wippy.assert_call_order("app:charge_payment", "app:ship_order", "app:refund_payment")
    wippy.mock("app:refund_payment").assert_called_once_with("pay-1")
    assert handle.elapsed == timedelta(hours=1, seconds=20)
    assert handle.history == snapshot  # the whole run: activities, the timer, the refund


async def test_a_retryable_shipping_error_is_retried_with_backoff(
    wippy: Wippy, snapshot: SnapshotAssertion
) -> None:
    mock_payments(wippy)
    ship = wippy.mock("app:ship_order")
    ship.fails("Unavailable", "carrier busy").then_fails("Unavailable", "carrier busy").then_returns(
        {"tracking_number": "TRK-3"}
    )

    result = await wippy.execute("app:order_workflow", ORDER)

    assert result["tracking"] == "TRK-3"
    assert [c.info.attempt for c in ship.calls_made] == [1, 2, 3]
    # Temporal's default retry policy: 1 s, then 2 s between attempts
    assert wippy.elapsed == timedelta(hours=1, seconds=3)
    assert wippy.calls == snapshot


async def test_runs_the_apps_own_lua_activities_when_nothing_is_mocked(wippy: Wippy) -> None:
    result = await wippy.execute("app:order_workflow", {"id": "o-9", "total": 5})

    assert result["status"] == "completed"
    assert result["tracking"] == "TRK-o-9"
    assert result["payment_id"].startswith("pay-")


async def test_the_lua_activity_rejects_a_non_positive_amount(wippy: Wippy) -> None:
    result = await wippy.execute("app:order_workflow", {"id": "o-9", "total": 0})

    assert result == {"status": "failed", "error": "amount must be positive"}


async def test_an_order_without_an_id_fails_the_workflow(wippy: Wippy) -> None:
    with pytest.raises(WorkflowFailed) as failed:
        await wippy.execute("app:order_workflow", {"total": 5})
    # the typed `Order(input)` cast in the workflow checks the input
    assert (failed.value.kind, failed.value.message) == ("Invalid", "Order.id: expected string, got nil")
