"""Histories the simulator writes, event for event, and their JSON form."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from checkout import SECOND
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory

from wftest.app import App, load_app
from wftest.sim import WorkflowRun, World

APP_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "sim"
WFT = ["WORKFLOW_TASK_SCHEDULED", "WORKFLOW_TASK_STARTED", "WORKFLOW_TASK_COMPLETED"]


@pytest.fixture(scope="module")
def app() -> App:
    return load_app(APP_DIR)


def run(app: App, workflow: str, *args: Any) -> WorkflowRun:
    world = World(app)
    return world.run_until_closed(world.start(workflow, *args))


def kinds(r: WorkflowRun) -> list[str]:
    return [EventType.Name(e.event_type).removeprefix("EVENT_TYPE_") for e in r.history.events]


def offset(r: WorkflowRun, event: HistoryEvent) -> int:
    """Virtual nanoseconds from the start of the run to the event."""
    return event.event_time.ToNanoseconds() - r.start_ns


def json_value(payload: Payload) -> Any:
    assert payload.metadata["encoding"] == b"json/plain"
    return json.loads(payload.data)


def test_sleep_then_return_shape(app: App) -> None:
    """hello: timer "5" of 0.1 s, fired 0.1 s later, then a second task that completes."""
    r = run(app, "app.wf:hello")
    assert kinds(r) == ["WORKFLOW_EXECUTION_STARTED", *WFT, "TIMER_STARTED", "TIMER_FIRED", *WFT,
                        "WORKFLOW_EXECUTION_COMPLETED"]
    events = r.history.events
    assert [e.event_id for e in events] == list(range(1, 11))
    started = events[4].timer_started_event_attributes
    assert started.timer_id == "5"
    assert started.start_to_fire_timeout.ToNanoseconds() == SECOND // 10
    assert started.workflow_task_completed_event_id == 4
    fired = events[5].timer_fired_event_attributes
    assert (fired.timer_id, fired.started_event_id) == ("5", 5)
    assert [offset(r, e) for e in events] == [0] * 5 + [SECOND // 10] * 5
    completed = events[9].workflow_execution_completed_event_attributes
    assert completed.workflow_task_completed_event_id == 9
    assert r.elapsed_ns == SECOND // 10


def test_hello_result_drops_the_timestamp_userdata(app: App) -> None:
    """The `timestamp` Time userdata disappears from the result object."""
    r = run(app, "app.wf:hello")
    payloads = r.history.events[-1].workflow_execution_completed_event_attributes.result.payloads
    assert len(payloads) == 1
    assert json_value(payloads[0]) == {"message": "Hello, Temporal!", "status": "completed"}
    assert r.result == {"message": "Hello, Temporal!", "status": "completed"}


def test_one_activity_shape(app: App) -> None:
    """Activity id "5", type = entry id, start-to-close 600 s; Started and Completed together."""
    r = run(app, "app.wf:one_activity", {"x": 1})
    assert kinds(r) == ["WORKFLOW_EXECUTION_STARTED", *WFT, "ACTIVITY_TASK_SCHEDULED",
                        "ACTIVITY_TASK_STARTED", "ACTIVITY_TASK_COMPLETED", *WFT,
                        "WORKFLOW_EXECUTION_COMPLETED"]
    events = r.history.events
    scheduled = events[4].activity_task_scheduled_event_attributes
    assert scheduled.activity_id == "5"
    assert scheduled.activity_type.name == "app.act:echo"
    assert scheduled.task_queue.name == "test-queue"
    assert scheduled.start_to_close_timeout.ToNanoseconds() == 600 * SECOND
    assert scheduled.schedule_to_close_timeout.ToNanoseconds() == 0
    assert [json_value(p) for p in scheduled.input.payloads] == [{"x": 1}]
    assert scheduled.workflow_task_completed_event_id == 4
    started = events[5].activity_task_started_event_attributes
    assert (started.scheduled_event_id, started.attempt) == (5, 1)
    done = events[6].activity_task_completed_event_attributes
    assert (done.scheduled_event_id, done.started_event_id) == (5, 6)
    assert [json_value(p) for p in done.result.payloads] == [{"x": 1}]
    assert events[10].event_id == 11
    assert r.result == {"x": 1}


def test_three_side_effects_shape(app: App) -> None:
    """Three SideEffect markers (ids 1, 2, 3, data = the uuids, summary
    `workflow.sideEffect`) and the completion, all in the first workflow task."""
    r = run(app, "app.wf:three_uuids")
    assert kinds(r) == ["WORKFLOW_EXECUTION_STARTED", *WFT, "MARKER_RECORDED", "MARKER_RECORDED",
                        "MARKER_RECORDED", "WORKFLOW_EXECUTION_COMPLETED"]
    markers = r.history.events[4:7]
    uuids = r.result
    assert isinstance(uuids, list) and len(set(uuids)) == 3
    for number, (event, value) in enumerate(zip(markers, uuids, strict=True), start=1):
        attributes = event.marker_recorded_event_attributes
        assert attributes.marker_name == "SideEffect"
        assert sorted(attributes.details) == ["data", "side-effect-id"]
        assert [json_value(p) for p in attributes.details["side-effect-id"].payloads] == [number]
        assert attributes.details["side-effect-id"].payloads[0].data == str(number).encode()
        assert [json_value(p) for p in attributes.details["data"].payloads] == [value]
        assert attributes.workflow_task_completed_event_id == 4
        assert json_value(event.user_metadata.summary) == "workflow.sideEffect"
    completed = r.history.events[7].workflow_execution_completed_event_attributes
    assert completed.workflow_task_completed_event_id == 4


def test_version_marker_and_change_version_upsert(app: App) -> None:
    """Version marker (change-id "c", version 3) then TemporalChangeVersion ["c-3"] without a
    `type`; the repeated call is answered from the cache, so the activity gets id "7"."""
    r = run(app, "app.wf:versioned")
    assert kinds(r) == ["WORKFLOW_EXECUTION_STARTED", *WFT, "MARKER_RECORDED",
                        "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES", "ACTIVITY_TASK_SCHEDULED",
                        "ACTIVITY_TASK_STARTED", "ACTIVITY_TASK_COMPLETED", *WFT,
                        "WORKFLOW_EXECUTION_COMPLETED"]
    events = r.history.events
    marker = events[4].marker_recorded_event_attributes
    assert marker.marker_name == "Version"
    assert sorted(marker.details) == ["change-id", "version"]
    assert [json_value(p) for p in marker.details["change-id"].payloads] == ["c"]
    assert marker.details["version"].payloads[0].data == b"3"
    upsert = events[5].upsert_workflow_search_attributes_event_attributes
    fields = upsert.search_attributes.indexed_fields
    assert list(fields) == ["TemporalChangeVersion"]
    assert json_value(fields["TemporalChangeVersion"]) == ["c-3"]
    assert "type" not in fields["TemporalChangeVersion"].metadata
    assert events[6].activity_task_scheduled_event_attributes.activity_id == "7"
    assert r.result == {"v": 3, "again": 3, "echoed": 3}


def test_side_effects_and_calls_interleave_depth_first(app: App) -> None:
    """Two coroutines each doing uuid.v4() then funcs.call give Marker, Scheduled(A),
    Marker, Scheduled(B), all in the first task; each activity carries its coroutine's uuid."""
    r = run(app, "app.wf:ordering")
    events = r.history.events
    assert kinds(r)[4:8] == ["MARKER_RECORDED", "ACTIVITY_TASK_SCHEDULED", "MARKER_RECORDED",
                             "ACTIVITY_TASK_SCHEDULED"]
    markers = [e.marker_recorded_event_attributes for e in (events[4], events[6])]
    assert [m.workflow_task_completed_event_id for m in markers] == [4, 4]
    assert [json_value(m.details["side-effect-id"].payloads[0]) for m in markers] == [1, 2]
    scheduled = [e.activity_task_scheduled_event_attributes for e in (events[5], events[7])]
    assert [s.activity_id for s in scheduled] == ["6", "8"]
    inputs = [json_value(s.input.payloads[0]) for s in scheduled]
    assert [i["name"] for i in inputs] == ["A", "B"]
    assert [i["id"] for i in inputs] == [json_value(m.details["data"].payloads[0]) for m in markers]
    assert r.result[:2] == ["A", "B"]


def test_events_are_numbered_and_task_ids_follow(app: App) -> None:
    """Event ids run 1..n; every command event points at the task completion that issued it."""
    r = run(app, "app.wf:timers")
    events = r.history.events
    assert [e.event_id for e in events] == list(range(1, len(events) + 1))
    completed = EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    completed_ids = {e.event_id for e in events if e.event_type == completed}
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            assert event.timer_started_event_attributes.workflow_task_completed_event_id in completed_ids
            assert event.timer_started_event_attributes.timer_id == str(event.event_id)


def test_task_completion_carries_go_sdk_metadata(app: App) -> None:
    """WorkflowTaskCompleted names the Go SDK (temporal-go 1.42.0)."""
    r = run(app, "app.wf:hello")
    metadata = r.history.events[3].workflow_task_completed_event_attributes.sdk_metadata
    assert (metadata.sdk_name, metadata.sdk_version) == ("temporal-go", "1.42.0")


def test_workflow_failure_is_wippy_sourced(app: App) -> None:
    """The top-level failure has source WippySDK, its Go cause GoSDK."""
    r = run(app, "app.wf:failing", "object")
    assert kinds(r)[-1] == "WORKFLOW_EXECUTION_FAILED"
    failure = r.history.events[-1].workflow_execution_failed_event_attributes.failure
    assert failure.source == "WippySDK"
    assert failure.cause.source == "GoSDK"


@pytest.mark.parametrize(
    ("workflow", "args"),
    [("app.wf:hello", ()), ("app.wf:ordering", ()), ("app.wf:timers", ()), ("app.wf:retry", (2,)),
     ("app.wf:failing", ("object",)), ("app.wf:versioned", ())],
)
def test_history_json_reads_back_with_the_temporal_sdk(app: App, workflow: str,
                                                       args: tuple[Any, ...]) -> None:
    """Architecture contract 3: the JSON is what `temporalio.client.WorkflowHistory.from_json` reads; the
    same events come back."""
    r = run(app, workflow, *args)
    history = WorkflowHistory.from_json(r.workflow_id, r.history_json())
    assert history.workflow_id == r.workflow_id
    assert list(history.events) == list(r.history.events)
