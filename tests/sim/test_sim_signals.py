"""Signals, subscriptions, process.send between workflows and cancel requests."""

from __future__ import annotations

from pathlib import Path

import pytest
from checkout import MINUTE
from temporalio.api.enums.v1 import EventType

from wftest import load_app
from wftest.sim import SimulationError, World

APP = load_app(Path(__file__).resolve().parents[2] / "fixtures" / "sim")


def event_types(run) -> list[str]:  # type: ignore[no-untyped-def]
    return [EventType.Name(e.event_type).removeprefix("EVENT_TYPE_") for e in run.history.events]


def test_inbox_message_with_topic_payload_and_sender() -> None:
    """A signal is a message (topic = name); the sender PID comes from the wippy-context header."""
    world = World(APP)
    run = world.start("app.wf:approval", {"n": 1})
    world.advance(30 * MINUTE)
    world.signal(run, "approve", {"by": "ann"}, sender="{app:client@app:worker|boss}")
    world.run_until_closed(run)
    assert run.result == {"status": "approve", "by": "ann", "from": "{app:client@app:worker|boss}",
                          "request": {"n": 1}}
    assert run.elapsed_ns == 30 * MINUTE
    assert "WORKFLOW_EXECUTION_SIGNALED" in event_types(run)


def test_message_without_sender_has_empty_from() -> None:
    """No `temporal.signal.from` → msg:from() is ""."""
    world = World(APP)
    run = world.start("app.wf:approval", {})
    world.signal(run, "reject", {"by": "bob"})
    world.run_until_closed(run)
    assert run.result["from"] == ""


def test_timeout_path_when_no_signal_comes() -> None:
    world = World(APP)
    run = world.start("app.wf:approval", {})
    world.run_until_closed(run)
    assert run.result == {"status": "timed_out"}
    assert run.elapsed_ns == 60 * MINUTE


def test_listen_raw_values_and_message_objects_in_order() -> None:
    """Listen gives raw values by default and Message objects with {message = true}; order is kept."""
    world = World(APP)
    run = world.start("app.wf:counter", {"initial": 10})
    world.signal(run, "add", 3)
    world.signal(run, "sub", 2)
    world.signal(run, "add", 1)
    world.signal(run, "finish")
    world.run_until_closed(run)
    assert run.result == {"total": 12, "seen": "add:3,sub:2,add:1"}


def test_messages_queue_until_someone_subscribes() -> None:
    """Signals that arrive before the subscription are kept and delivered in order."""
    world = World(APP)
    run = world.start("app.wf:late_listener")
    for n in (1, 2, 3):
        world.signal(run, "item", n)
    world.signal(run, "go")
    world.run_until_closed(run)
    assert run.result == [1, 2, 3]


def test_send_to_workflow_signals_it_and_reports_unknown_targets() -> None:
    """Send to a Temporal PID → SignalExternalWorkflowExecution; unknown target → Internal error;
    not a PID → NotFound; to self → true without a command."""
    world = World(APP)
    target = world.start("app.wf:counter", {"initial": 0}, workflow_id="target")
    pinger = world.start("app.wf:pinger", "target")
    world.run_until_closed(pinger)
    assert {k: pinger.result.get(k) for k in ("ok", "ok2", "err", "err2", "err3", "self_ok", "id")} == {
        "ok": True, "ok2": None, "err": None, "err2": "Internal", "err3": "NotFound", "self_ok": True,
        "id": "app.wf:pinger"}
    assert pinger.result["pid"] == f"{{app:client@app:worker|{pinger.workflow_id}}}"
    types = event_types(pinger)
    assert types.count("SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED") == 2
    assert "EXTERNAL_WORKFLOW_EXECUTION_SIGNALED" in types
    assert "SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED" in types
    initiated = next(e for e in pinger.history.events
                     if e.event_type == EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED)
    attrs = initiated.signal_external_workflow_execution_initiated_event_attributes
    assert (attrs.workflow_execution.workflow_id, attrs.signal_name, attrs.control) == (
        "target", "add", str(initiated.event_id))
    assert b"temporal.signal.from" in attrs.header.fields["wippy-context"].data
    world.signal(target, "finish")
    world.run_until_closed(target)
    assert target.result == {"total": 5, "seen": "add:5"}


def test_cancel_request_is_an_event_not_a_stop() -> None:
    """A cancel request becomes a CANCEL event; the workflow completes normally."""
    world = World(APP)
    run = world.start("app.wf:cancellable")
    world.advance(MINUTE)
    world.request_cancel(run, "user asked")
    world.run_until_closed(run)
    assert run.status == "completed"
    assert run.result == {"stopped": True, "kind": "pid.cancel", "from": "{|topology}",
                          "at": "2026-01-01T00:01:00Z"}
    assert "WORKFLOW_EXECUTION_CANCEL_REQUESTED" in event_types(run)


def test_monitor_and_link_are_unsupported_in_workflows() -> None:
    """Monitor/link in workflows return an Internal error."""
    world = World(APP)
    run = world.start("app.wf:unsupported")
    world.run_until_closed(run)
    assert run.result == ["Internal", "Internal", "Internal", "Internal", True, False]


def test_signalling_a_closed_workflow_is_an_error() -> None:
    world = World(APP)
    run = world.start("app.wf:three_uuids")
    world.run_until_closed(run)
    with pytest.raises(SimulationError, match="is not running"):
        world.signal(run, "x")


def test_queries_pid_state_and_unknown() -> None:
    """Query `pid` → the workflow id; `state` → {}; anything else is an error; history untouched."""
    from wftest.sim import QueryError

    world = World(APP)
    run = world.start("app.wf:approval", {})
    before = len(run.history.events)
    assert world.query(run, "pid") == run.workflow_id
    assert world.query(run.workflow_id, "state") == {}
    with pytest.raises(QueryError, match="unknown query type: status"):
        world.query(run, "status")
    assert len(run.history.events) == before


def test_updates_accept_complete_reject_and_error() -> None:
    """An update is a message from `{update|<id>}`; `ack` → UpdateAccepted, `ok` → UpdateCompleted
    with the result, `nak` → rejected with its reason and no event, `error` → completed with a failure."""
    world = World(APP)
    run = world.start("app.wf:updatable", 10)
    added = world.update(run, "add", 5)
    refused = world.update(run, "add", -1)
    broken = world.update(run, "boom")
    assert (added.status, added.result) == ("completed", {"total": 15})
    assert (refused.status, refused.reason) == ("rejected", "amount must not be negative")
    assert broken.status == "completed" and broken.failure is not None
    assert broken.failure.message == "cannot boom"
    world.signal(run, "close")
    world.run_until_closed(run)
    assert run.result == 15
    types = event_types(run)
    assert types.count("WORKFLOW_EXECUTION_UPDATE_ACCEPTED") == 2
    assert types.count("WORKFLOW_EXECUTION_UPDATE_COMPLETED") == 2
    accepted = next(e for e in run.history.events
                    if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)
    attrs = accepted.workflow_execution_update_accepted_event_attributes
    assert (attrs.protocol_instance_id, attrs.accepted_request.input.name) == (added.update_id, "add")
    completed = next(e for e in run.history.events
                     if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED)
    assert completed.workflow_execution_update_completed_event_attributes.accepted_event_id == accepted.event_id
