"""Temporal history JSON in its three export shapes: proto3 JSON, the legacy UI/tctl export (short enum
names) and the CLI's default shorthand payloads."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from wftest import load_app
from wftest.history.fastread import events_from_json
from wftest.history.jsonio import HistoryFormatError, history_from_json
from wftest.replay import replay_history
from wftest.sim import World

APP = load_app(Path(__file__).resolve().parents[2] / "fixtures" / "sim")


def recorded(workflow: str, *args: Any):  # type: ignore[no-untyped-def]
    world = World(APP)
    run = world.start(workflow, *args)
    world.run_until_closed(run)
    return run


def to_legacy(document: Any) -> Any:
    """Short enum names, as the old UI and tctl export them."""
    text = json.dumps(document)
    text = re.sub(r'"EVENT_TYPE_([A-Z_]+)"',
                  lambda m: '"' + "".join(w.capitalize() for w in m.group(1).split("_")) + '"', text)
    text = text.replace('"TASK_QUEUE_KIND_NORMAL"', '"Normal"')
    return json.loads(text)


def to_shorthand(value: Any) -> Any:
    """Every json/plain payload written as the JSON value it holds (the CLI's default)."""
    if isinstance(value, dict):
        if set(value) <= {"metadata", "data"} and "data" in value:
            encoding = base64.b64decode(value.get("metadata", {}).get("encoding", "")).decode()
            if encoding == "json/plain":
                return json.loads(base64.b64decode(value["data"]))
        return {k: to_shorthand(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_shorthand(v) for v in value]
    return value


@pytest.mark.parametrize("workflow", ["app.wf:one_activity", "app.wf:ordering", "app.wf:versioned"])
def test_legacy_export_reads_as_the_same_history(workflow: str) -> None:
    run = recorded(workflow, {"a": 1}) if workflow.endswith("one_activity") else recorded(workflow)
    legacy = to_legacy(json.loads(run.history_json()))
    assert legacy["events"][0]["eventType"] == "WorkflowExecutionStarted"
    assert history_from_json(json.dumps(legacy)) == run.history


def test_shorthand_payloads_become_json_plain_and_still_replay() -> None:
    run = recorded("app.wf:ordering")
    shorthand = to_shorthand(json.loads(run.history_json()))
    marker = shorthand["events"][4]["markerRecordedEventAttributes"]["details"]["side-effect-id"]["payloads"][0]
    assert marker == 1  # written as a plain value
    history = history_from_json(json.dumps(shorthand))
    data = history.events[4].marker_recorded_event_attributes.details["side-effect-id"].payloads[0]
    assert (data.metadata["encoding"], data.data) == (b"json/plain", b"1")
    replay_history(APP, history)  # go rules: payload bytes are not compared


def test_shorthand_and_legacy_together() -> None:
    run = recorded("app.wf:hello")
    both = to_legacy(to_shorthand(json.loads(run.history_json())))
    history = history_from_json(json.dumps(both))
    assert [e.event_type for e in history.events] == [e.event_type for e in run.history.events]
    replay_history(APP, history)


# Both readers: the protobuf one and replay's fast one must reject alike.
READERS = pytest.mark.parametrize("read", [history_from_json, events_from_json], ids=["proto", "fast"])


@READERS
def test_unknown_short_enum_names_the_event(read: Any) -> None:
    run = recorded("app.wf:hello")
    legacy = to_legacy(json.loads(run.history_json()))
    legacy["events"][2]["eventType"] = "WorkflowTaskBegun"
    message = "h.json: event 3: unknown EventType value 'WorkflowTaskBegun'"
    with pytest.raises(HistoryFormatError, match=message):
        read(json.dumps(legacy), source="h.json")


@READERS
def test_reference_to_a_missing_event_names_the_event(read: Any) -> None:
    run = recorded("app.wf:one_activity", {"a": 1})
    document = json.loads(run.history_json())
    completed = next(e for e in document["events"] if e["eventType"] == "EVENT_TYPE_ACTIVITY_TASK_COMPLETED")
    completed["activityTaskCompletedEventAttributes"]["scheduledEventId"] = "99"
    message = rf"h.json: event {completed['eventId']}: scheduled_event_id 99 does not name an earlier event"
    with pytest.raises(HistoryFormatError, match=message):
        read(json.dumps(document), source="h.json")


@READERS
def test_unsupported_payload_encoding_names_the_event(read: Any) -> None:
    """Only json/plain, binary/plain and binary/null are read."""
    run = recorded("app.wf:one_activity", {"a": 1})
    document = json.loads(run.history_json())
    payload = document["events"][0]["workflowExecutionStartedEventAttributes"]["input"]["payloads"][0]
    payload["metadata"]["encoding"] = base64.b64encode(b"json/protobuf").decode()
    with pytest.raises(HistoryFormatError, match="h.json: event 1: unsupported temporal payload encoding "
                                                 "'json/protobuf'"):
        read(json.dumps(document), source="h.json")
