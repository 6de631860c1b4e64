"""A saga: each forward step that succeeded is undone, newest first, when a later step fails."""

from collections import Counter
from collections.abc import Callable

import pytest
from syrupy.assertion import SnapshotAssertion

from wftest.testing import Wippy

pytestmark = pytest.mark.wippy_app("..")

ORDER = {
    "items": [{"sku": "mug", "qty": 2}],
    "payment": {"amount": 24.5, "card": "tok_visa"},
    "shipping": {"address": "1 Main St"},
}
STEPS = {"inventory": "app:reserve_inventory", "payment": "app:charge_payment", "shipping": "app:ship_order"}


def mock_services(wippy: Wippy) -> None:
    wippy.mock("app:reserve_inventory").returns({"id": "res-1"})
    wippy.mock("app:charge_payment").returns({"id": "pay-1"})
    wippy.mock("app:ship_order").returns({"tracking": "TRK-1"})
    wippy.mock("app:release_inventory").returns(True)
    wippy.mock("app:refund_payment").returns(True)


async def test_every_step_succeeds_and_nothing_is_undone(wippy: Wippy) -> None:
    mock_services(wippy)
    result = await wippy.execute("app:order_saga", ORDER)
    assert result == {"status": "completed", "tracking": "TRK-1"}
    wippy.mock("app:release_inventory").assert_not_called()
    wippy.mock("app:refund_payment").assert_not_called()


@pytest.mark.parametrize("failing", list(STEPS))
async def test_a_failing_step_runs_the_compensations_newest_first(
    wippy: Wippy, snapshot: SnapshotAssertion, failing: str
) -> None:
    mock_services(wippy)
    wippy.mock(STEPS[failing]).fails("Unavailable", f"{failing} service down")

    result = await wippy.execute("app:order_saga", ORDER, id="saga-1")

    assert result["status"] == "failed"
    assert result["step"] == failing
    # Which steps ran, their three attempts, and the compensations in the order they ran.
    assert wippy.calls == snapshot


async def test_a_failing_compensation_is_retried_until_it_succeeds(wippy: Wippy) -> None:
    mock_services(wippy)
    wippy.mock("app:ship_order").fails("Unavailable", "no couriers", retryable=False)
    refund = wippy.mock("app:refund_payment")
    refund.fails("Unavailable", "bank offline").then_fails("Unavailable", "bank offline").then_returns(True)

    result = await wippy.execute("app:order_saga", ORDER)

    assert result == {"status": "failed", "step": "shipping", "error": "no couriers"}
    assert refund.call_count == 3
    wippy.assert_call_order("app:ship_order", "app:refund_payment", "app:release_inventory")


async def shop_once(wippy: Wippy) -> str:
    """One order; each service counts what it did. Whatever the exploration injects, a failed order
    has undone everything that was done, and a completed one has undone nothing."""
    done: Counter[str] = Counter()

    def service(name: str, value: object) -> Callable[..., object]:
        def call(*args: object) -> object:
            done[name] += 1
            return value

        return call

    for name, value in [
        ("reserve_inventory", {"id": "res-1"}),
        ("charge_payment", {"id": "pay-1"}),
        ("ship_order", {"tracking": "TRK-1"}),
        ("release_inventory", True),
        ("refund_payment", True),
    ]:
        wippy.mock(f"app:{name}").takes_between("50ms", "20s").calls(service(name, value))

    result = await wippy.execute("app:order_saga", ORDER)

    if result["status"] == "completed":
        assert done["release_inventory"] == done["refund_payment"] == 0
    else:
        assert done["release_inventory"] == done["reserve_inventory"], result
        assert done["refund_payment"] == done["charge_payment"], result
    return str(result.get("step", result["status"]))


async def test_compensations_survive_faults_and_a_crash_after_every_workflow_task(wippy: Wippy) -> None:
    endings = set()

    async def scenario(wippy: Wippy) -> None:
        endings.add(await shop_once(wippy))

    # Faults hit the steps that leave something to undo, and the compensations themselves.
    flaky = {"app:charge_payment", "app:ship_order", "app:refund_payment", "app:release_inventory"}
    report = await wippy.explore(scenario, seeds=12, faults=flaky, crashes="every")

    assert report.ok  # explore raises ExplorationFailed, with a reproduction per failing seed, otherwise
    assert endings == {"completed", "payment", "shipping"}  # both compensation paths were explored
    assert report.crashed_tasks  # the worker crashed after every task; each run was recovered by replay
