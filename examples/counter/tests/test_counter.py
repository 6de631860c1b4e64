"""A counter workflow with one handler coroutine per request topic, replies to the sender, startup
messages and the queries Wippy answers."""

import pytest

from wftest.testing import UpdateRejected, Wippy

pytestmark = pytest.mark.wippy_app("..")


async def test_startup_messages_are_applied_before_later_signals(wippy: Wippy) -> None:
    handle = await wippy.start(
        "app:counter",
        {"initial": 10},
        signals=[("increment", {"amount": 2}), ("increment", {"amount": 1}), ("decrement", {"amount": 4})],
    )
    await handle.signal("finish")
    assert await handle.result() == {"final_counter": 9}


async def test_each_request_is_acknowledged_then_answered(wippy: Wippy) -> None:
    # An update is a request whose sender is the update itself: "ack" accepts it, "ok" is its result,
    # "nak" rejects it.
    handle = await wippy.start("app:counter", {"initial": 0}, id="counter-1")
    assert await handle.update("increment", {"amount": 5}) == {"value": 5}
    assert await handle.update("decrement", {"amount": 2}) == {"value": 3}
    with pytest.raises(UpdateRejected, match="would result in negative value"):
        await handle.update("decrement", {"amount": 4})
    with pytest.raises(UpdateRejected, match="amount must be a number"):
        await handle.update("increment", {"amount": "lots"})
    with pytest.raises(UpdateRejected, match="amount must be a number"):
        await handle.update("increment")
    assert await handle.update("finish") == {"message": "finishing"}
    assert await handle.result() == {"final_counter": 3}


async def test_queries(wippy: Wippy) -> None:
    # Wippy answers two queries: "pid" (the workflow id) and "state" (always empty); the counter's
    # value is read with a request instead.
    handle = await wippy.start("app:counter", {"initial": 0}, id="counter-1")
    assert await handle.query("pid") == "counter-1"
    assert await handle.query("state") == {}
    assert handle.pid == "{app:temporal_client@app:worker|counter-1}"
    await handle.terminate("test over")
    assert handle.status == "terminated"


async def test_a_wippy_service_talks_to_the_counter(wippy: Wippy) -> None:
    # The client is a plain Lua process of the app; the replies go back to its inbox.
    client = wippy.world.run_process("app:counter_client", {"name": "counter-7", "initial": 0})
    wippy.world.run_until_idle()

    assert client.status == "finished", client.failure
    assert client.result == {
        "answers": [
            {"acked": True, "topic": "ok", "data": {"value": 2}},  # the startup messages
            {"acked": True, "topic": "ok", "data": {"value": 7}},
            {"acked": False, "topic": "nak", "data": "would result in negative value"},
            {"acked": True, "topic": "ok", "data": {"value": 4}},
            {"acked": True, "topic": "ok", "data": {"message": "finishing"}},
        ],
        "final": 4,
    }
    assert wippy.get("counter-7").status == "completed"
