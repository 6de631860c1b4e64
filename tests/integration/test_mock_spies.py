"""Mocks are spies: they see every call of their activity, also those the activity's own Lua served;
an activity whose Lua needs what wftest cannot provide fails the test, not the workflow."""

from __future__ import annotations

import pytest

from wftest.sim.activities import ActivityNeedsMock
from wftest.testing import Wippy

pytestmark = pytest.mark.wippy_app("../../examples/orders")

ORDER = {"id": "o-1", "total": 10, "customer_id": "c-7"}


async def test_a_mock_without_rules_watches_the_real_lua(wippy: Wippy) -> None:
    wippy.mock("app:charge_payment").returns({"id": "pay-1", "amount": 1000})
    wippy.mock("app:ship_order").fails("Unavailable", "no trucks", retryable=False)
    refund = wippy.mock("app:refund_payment")  # no rules: the app's Lua function serves it
    result = await wippy.execute("app:order_workflow", ORDER)
    assert result["status"] == "failed"
    refund.assert_called_once_with("pay-1")
    assert [c.args for c in refund.calls_made] == [("pay-1",)]
    assert wippy.calls.calls[-1].result is True  # what the Lua returned


async def test_runs_lua_lets_the_lua_serve_whatever_rules_were_given(wippy: Wippy) -> None:
    wippy.mock("app:charge_payment").returns({"id": "pay-2", "amount": 1000})
    wippy.mock("app:ship_order").fails("Unavailable", "no trucks", retryable=False)
    wippy.mock("app:refund_payment").returns("not used").runs_lua()
    await wippy.execute("app:order_workflow", ORDER)
    wippy.mock("app:refund_payment").assert_called_once_with("pay-2")
    assert wippy.calls.calls[-1].result is True


async def test_mocked_calls_are_recorded_once(wippy: Wippy) -> None:
    wippy.mock("app:charge_payment").fails("Unavailable", "busy").then_returns({"id": "p", "amount": 1})
    wippy.mock("app:ship_order").returns({"tracking_number": "T"})
    await wippy.execute("app:order_workflow", ORDER)
    assert wippy.mock("app:charge_payment").call_count == 2  # two attempts, each once
    assert [c.info.attempt for c in wippy.mock("app:charge_payment").calls_made] == [1, 2]


def test_every_rule_step_chains(wippy: Wippy) -> None:
    ship = wippy.mock("app:ship_order")
    rule = ship.returns({"tracking_number": "T"}).takes_between("1s", "1m").after("5s")
    assert rule.mock.served_as is not None and rule.mock.served_as.duration_bounds_ns == (10**9, 60 * 10**9)
    assert repr(rule) == "<rule fallback of mock 'app:ship_order': 1 step(s)>"
    assert repr(wippy.mock("app:ship_order")) == "<mock 'app:ship_order': rules: fallback; 0 call(s)>"
    assert repr(wippy.mock("app:refund_payment")) == "<mock 'app:refund_payment': runs its Lua; 0 call(s)>"


@pytest.mark.wippy_app("../../fixtures/needs_http")
async def test_an_activity_calling_an_address_nothing_serves_fails_the_test(wippy: Wippy) -> None:
    with pytest.raises(ActivityNeedsMock) as info:
        await wippy.execute("app:notify_flow", "o-1")
    message = str(info.value)
    assert "activity 'app:notify'" in message and "POST https://hooks.example.com/orders" in message
    assert "wippy.http_routes.add(...)" in message and "wippy.mock('app:notify').returns(...)" in message


@pytest.mark.wippy_app("../../fixtures/needs_http")
async def test_a_route_fake_serves_the_activity(wippy: Wippy) -> None:
    hook = wippy.http_routes.post("https://hooks.example.com/orders", json={"ok": True})
    assert await wippy.execute("app:notify_flow", "o-1") == {"notified": True}
    hook.assert_called_once()
    assert hook.calls[0].body == b"o-1"


@pytest.mark.wippy_app("../../fixtures/needs_http")
async def test_mocking_it_is_the_way_out(wippy: Wippy) -> None:
    wippy.mock("app:notify").returns({"sent": True})
    assert await wippy.execute("app:notify_flow", "o-1") == {"notified": True}
