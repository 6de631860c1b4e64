"""History building in the Go SDK shape and proto3 JSON in and out."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from checkout import SECOND
from temporalio.api.common.v1 import Payload, RetryPolicy
from temporalio.api.enums.v1 import (
    CancelExternalWorkflowExecutionFailedCause,
    ContinueAsNewInitiator,
    EventType,
    ParentClosePolicy,
    RetryState,
    SignalExternalWorkflowExecutionFailedCause,
    StartChildWorkflowExecutionFailedCause,
    TaskQueueKind,
    TimeoutType,
    WorkflowIdReusePolicy,
    WorkflowTaskFailedCause,
)
from temporalio.api.history.v1 import History, HistoryEvent
from temporalio.client import WorkflowHistory

from wftest.history import (
    ErrorInfo,
    ExecutionRef,
    HistoryBuilder,
    HistoryFormatError,
    history_from_json,
    history_to_json,
    timeout_failure,
    wippy_failure,
)

T0 = 1_700_000_000_000_000_000
MS = 1_000_000
RUN_ID = "2a7c3f51-0d4e-4b9a-9f0e-5c1d2b3a4e6f"
QUEUE = "test-queue"


def jp(value: object) -> Payload:
    """A json/plain payload as Go's encoding/json writes it."""
    return Payload(
        metadata={"encoding": b"json/plain"}, data=json.dumps(value, separators=(",", ":")).encode()
    )


def types(history: History | HistoryBuilder) -> list[str]:
    return [EventType.Name(event.event_type).removeprefix("EVENT_TYPE_") for event in history.events]


def start(b: HistoryBuilder, time_ns: int = T0, header: Mapping[str, Payload] = MappingProxyType({})) -> None:
    """Events 1-4: the start of a run and its first workflow task."""
    b.workflow_execution_started(
        time_ns, workflow_type="app:wf", task_queue=QUEUE, run_id=RUN_ID, input=[jp({"n": 1})], header=header
    )
    b.workflow_task_scheduled(time_ns, task_queue=QUEUE)
    b.workflow_task_started(time_ns + MS, scheduled_event_id=2)
    b.workflow_task_completed(time_ns + 2 * MS, scheduled_event_id=2, started_event_id=3)


def task(b: HistoryBuilder, time_ns: int) -> int:
    """One more workflow task (scheduled, started, completed); returns the completed event id."""
    scheduled = b.workflow_task_scheduled(time_ns, task_queue=QUEUE)
    started = b.workflow_task_started(time_ns + MS, scheduled_event_id=scheduled)
    return b.workflow_task_completed(time_ns + 2 * MS, scheduled_event_id=scheduled, started_event_id=started)


# -- shapes -------------------------------------------------------------------------------------------


def test_sleep_then_return_shape() -> None:
    """hello_workflow: timer "5" for 0.1 s, fired, second task, completed with one result payload."""
    b = HistoryBuilder()
    start(b)
    timer = b.timer_started(T0 + 2 * MS, start_to_fire_ns=100 * MS, workflow_task_completed_event_id=4)
    fired = b.timer_fired(T0 + 102 * MS, timer_id="5", started_event_id=timer)
    completed = task(b, T0 + 102 * MS)
    result = jp({"message": "Hello, Temporal!", "status": "completed"})
    last = b.workflow_execution_completed(
        T0 + 105 * MS, workflow_task_completed_event_id=completed, result=[result]
    )
    assert (timer, fired, completed, last) == (5, 6, 9, 10)
    assert types(b) == [
        "WORKFLOW_EXECUTION_STARTED",
        "WORKFLOW_TASK_SCHEDULED",
        "WORKFLOW_TASK_STARTED",
        "WORKFLOW_TASK_COMPLETED",
        "TIMER_STARTED",
        "TIMER_FIRED",
        "WORKFLOW_TASK_SCHEDULED",
        "WORKFLOW_TASK_STARTED",
        "WORKFLOW_TASK_COMPLETED",
        "WORKFLOW_EXECUTION_COMPLETED",
    ]
    started = b.events[4].timer_started_event_attributes
    assert started.timer_id == "5"
    assert started.start_to_fire_timeout.ToNanoseconds() == 100 * MS
    assert started.workflow_task_completed_event_id == 4
    assert b.events[5].timer_fired_event_attributes.started_event_id == 5
    done = b.events[9].workflow_execution_completed_event_attributes
    assert list(done.result.payloads) == [result]
    assert done.workflow_task_completed_event_id == 9


def test_one_activity_shape() -> None:
    """Activity id "5", type `ns:name`, start-to-close 600 s, other timeouts present as 0s."""
    b = HistoryBuilder()
    start(b)
    scheduled = b.activity_task_scheduled(
        T0 + 2 * MS,
        activity_type="app.test.temporal.activities:echo_activity",
        task_queue=QUEUE,
        workflow_task_completed_event_id=4,
        input=[jp("hi")],
        header={"wippy-context": jp({"user": "u1"})},
        start_to_close_ns=600 * SECOND,
    )
    started = b.activity_task_started(T0 + 3 * MS, scheduled_event_id=scheduled)
    b.activity_task_completed(
        T0 + 4 * MS, scheduled_event_id=scheduled, started_event_id=started, result=[jp("hi")]
    )
    completed = task(b, T0 + 4 * MS)
    b.workflow_execution_completed(T0 + 7 * MS, workflow_task_completed_event_id=completed, result=[jp("hi")])
    assert types(b)[4:] == [
        "ACTIVITY_TASK_SCHEDULED",
        "ACTIVITY_TASK_STARTED",
        "ACTIVITY_TASK_COMPLETED",
        "WORKFLOW_TASK_SCHEDULED",
        "WORKFLOW_TASK_STARTED",
        "WORKFLOW_TASK_COMPLETED",
        "WORKFLOW_EXECUTION_COMPLETED",
    ]
    attrs = b.events[4].activity_task_scheduled_event_attributes
    assert attrs.activity_id == "5"
    assert attrs.activity_type.name == "app.test.temporal.activities:echo_activity"
    assert (attrs.task_queue.name, attrs.task_queue.kind) == (QUEUE, TaskQueueKind.TASK_QUEUE_KIND_NORMAL)
    assert attrs.start_to_close_timeout.ToNanoseconds() == 600 * SECOND
    for name in ("schedule_to_close_timeout", "schedule_to_start_timeout", "heartbeat_timeout"):
        assert attrs.HasField(name)
        assert getattr(attrs, name).ToNanoseconds() == 0
    assert not attrs.HasField("retry_policy")
    assert attrs.use_workflow_build_id
    assert attrs.header.fields["wippy-context"] == jp({"user": "u1"})
    assert list(attrs.input.payloads) == [jp("hi")]
    assert attrs.workflow_task_completed_event_id == 4
    activity_started = b.events[5].activity_task_started_event_attributes
    assert (activity_started.scheduled_event_id, activity_started.attempt) == (5, 1)
    assert not activity_started.HasField("last_failure")
    activity_completed = b.events[6].activity_task_completed_event_attributes
    assert (activity_completed.scheduled_event_id, activity_completed.started_event_id) == (5, 6)


def test_three_side_effects_in_first_task() -> None:
    """Three SideEffect markers (ids 1-3, summary "workflow.sideEffect"), then completion."""
    b = HistoryBuilder()
    start(b)
    summary = jp("workflow.sideEffect")
    for number in (1, 2, 3):
        b.marker_recorded(
            T0 + 2 * MS,
            marker_name="SideEffect",
            details={"side-effect-id": [jp(number)], "data": [jp(f"uuid-{number}")]},
            workflow_task_completed_event_id=4,
            summary=summary,
        )
    b.workflow_execution_completed(T0 + 2 * MS, workflow_task_completed_event_id=4, result=[jp(None)])
    assert types(b)[4:] == ["MARKER_RECORDED"] * 3 + ["WORKFLOW_EXECUTION_COMPLETED"]
    for number, event in enumerate(b.events[4:7], 1):
        marker = event.marker_recorded_event_attributes
        assert marker.marker_name == "SideEffect"
        assert list(marker.details["side-effect-id"].payloads) == [jp(number)]
        assert list(marker.details["data"].payloads) == [jp(f"uuid-{number}")]
        assert marker.workflow_task_completed_event_id == 4
        assert event.user_metadata.summary == summary
        assert not event.user_metadata.HasField("details")
    assert b.events[7].workflow_execution_completed_event_attributes.result.payloads[0].data == b"null"


def test_version_then_child_shape() -> None:
    """Version marker, TemporalChangeVersion upsert, child `<runId>_7`, started, completed."""
    b = HistoryBuilder()
    start(b)
    b.marker_recorded(
        T0 + 2 * MS,
        marker_name="Version",
        details={"change-id": [jp("c")], "version": [jp(3)]},
        workflow_task_completed_event_id=4,
    )
    keyword_list = Payload(metadata={"encoding": b"json/plain"}, data=b'["c-3"]')
    b.upsert_workflow_search_attributes(
        T0 + 2 * MS,
        search_attributes={"TemporalChangeVersion": keyword_list},
        workflow_task_completed_event_id=4,
    )
    initiated = b.start_child_workflow_execution_initiated(
        T0 + 2 * MS,
        namespace="default",
        workflow_type="app:child",
        task_queue=QUEUE,
        workflow_task_completed_event_id=4,
    )
    child = ExecutionRef("default", f"{RUN_ID}_7", "child-run")
    child_started = b.child_workflow_execution_started(
        T0 + 3 * MS, child=child, workflow_type="app:child", initiated_event_id=initiated
    )
    completed = task(b, T0 + 3 * MS)
    child_done = b.child_workflow_execution_completed(
        T0 + 9 * MS,
        child=child,
        workflow_type="app:child",
        initiated_event_id=initiated,
        started_event_id=child_started,
        result=[jp(42)],
    )
    assert (initiated, child_started, completed, child_done) == (7, 8, 11, 12)
    assert types(b)[4:8] == [
        "MARKER_RECORDED",
        "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES",
        "START_CHILD_WORKFLOW_EXECUTION_INITIATED",
        "CHILD_WORKFLOW_EXECUTION_STARTED",
    ]
    upsert = b.events[5].upsert_workflow_search_attributes_event_attributes
    assert upsert.search_attributes.indexed_fields["TemporalChangeVersion"].data == b'["c-3"]'
    attrs = b.events[6].start_child_workflow_execution_initiated_event_attributes
    assert attrs.workflow_id == f"{RUN_ID}_7"
    assert (attrs.namespace, attrs.workflow_type.name, attrs.task_queue.name) == (
        "default",
        "app:child",
        QUEUE,
    )
    assert attrs.parent_close_policy == ParentClosePolicy.PARENT_CLOSE_POLICY_TERMINATE
    assert attrs.workflow_id_reuse_policy == WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE
    assert attrs.workflow_task_timeout.ToNanoseconds() == 10 * SECOND
    assert attrs.workflow_execution_timeout.ToNanoseconds() == 0
    assert not attrs.HasField("input")
    assert attrs.HasField("header")
    started = b.events[7].child_workflow_execution_started_event_attributes
    assert (started.initiated_event_id, started.workflow_execution.run_id) == (7, "child-run")
    done = b.events[11].child_workflow_execution_completed_event_attributes
    assert (done.initiated_event_id, done.started_event_id, done.workflow_execution.workflow_id) == (
        7,
        8,
        f"{RUN_ID}_7",
    )


# -- event basics -------------------------------------------------------------------------------------------


def test_ids_task_ids_and_exact_nanosecond_times() -> None:
    b = HistoryBuilder()
    start(b, T0 + 123)
    assert b.last_event_id == 4
    assert [event.event_id for event in b.events] == [1, 2, 3, 4]
    assert [event.task_id for event in b.events] == [1, 2, 3, 4]
    assert [event.event_time.ToNanoseconds() for event in b.events] == [
        T0 + 123,
        T0 + 123,
        T0 + 123 + MS,
        T0 + 123 + 2 * MS,
    ]
    assert HistoryBuilder().last_event_id == 0


def test_activity_started_keeps_its_start_time_when_written_later() -> None:
    """The server records ActivityTaskStarted at close time with the attempt's start time."""
    b = HistoryBuilder()
    start(b)
    b.activity_task_scheduled(
        T0 + 2 * MS, activity_type="app:a", task_queue=QUEUE, workflow_task_completed_event_id=4
    )
    b.timer_fired(T0 + SECOND, timer_id="9", started_event_id=9)
    started = b.activity_task_started(T0 + 3 * MS, scheduled_event_id=5)
    b.activity_task_completed(T0 + 2 * SECOND, scheduled_event_id=5, started_event_id=started)
    assert [event.event_time.ToNanoseconds() for event in b.events[4:]] == [
        T0 + 2 * MS,
        T0 + SECOND,
        T0 + 3 * MS,
        T0 + 2 * SECOND,
    ]


def test_workflow_execution_started_attributes() -> None:
    b = HistoryBuilder(identity="worker-1")
    b.workflow_execution_started(
        T0,
        workflow_type="app:wf",
        task_queue=QUEUE,
        run_id=RUN_ID,
        header={"wippy-context": jp({"k": "v"})},
        memo={"m": jp(1)},
        search_attributes={"CustomKeywordField": jp("x")},
        workflow_run_timeout_ns=3600 * SECOND,
    )
    event = b.events[0]
    attrs = event.workflow_execution_started_event_attributes
    assert attrs.workflow_type.name == "app:wf"
    assert (attrs.task_queue.name, attrs.task_queue.kind) == (QUEUE, TaskQueueKind.TASK_QUEUE_KIND_NORMAL)
    assert attrs.original_execution_run_id == attrs.first_execution_run_id == RUN_ID
    assert attrs.workflow_id == ""
    assert attrs.attempt == 1
    assert attrs.identity == "worker-1"
    assert attrs.workflow_execution_timeout.ToNanoseconds() == 0
    assert attrs.workflow_run_timeout.ToNanoseconds() == 3600 * SECOND
    assert attrs.workflow_task_timeout.ToNanoseconds() == 10 * SECOND
    assert attrs.HasField("first_workflow_task_backoff")
    assert not attrs.HasField("input")
    assert not attrs.HasField("parent_workflow_execution")
    assert attrs.header.fields["wippy-context"] == jp({"k": "v"})
    assert attrs.memo.fields["m"] == jp(1)
    assert attrs.search_attributes.indexed_fields["CustomKeywordField"] == jp("x")


def test_started_as_child_and_as_continuation() -> None:
    b = HistoryBuilder()
    b.workflow_execution_started(
        T0,
        workflow_type="app:wf",
        task_queue=QUEUE,
        run_id="run-2",
        first_execution_run_id="run-1",
        continued_execution_run_id="run-1",
        initiator=ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_WORKFLOW,
        parent=ExecutionRef("default", "parent-wf", "parent-run"),
        parent_initiated_event_id=7,
        retry_policy=RetryPolicy(maximum_attempts=1),
        identity="client",
        attempt=2,
    )
    attrs = b.events[0].workflow_execution_started_event_attributes
    assert (attrs.original_execution_run_id, attrs.first_execution_run_id) == ("run-2", "run-1")
    assert attrs.continued_execution_run_id == "run-1"
    assert attrs.initiator == ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_WORKFLOW
    assert attrs.parent_workflow_namespace == "default"
    assert (attrs.parent_workflow_execution.workflow_id, attrs.parent_workflow_execution.run_id) == (
        "parent-wf",
        "parent-run",
    )
    assert attrs.parent_initiated_event_id == 7
    assert attrs.retry_policy.maximum_attempts == 1
    assert (attrs.identity, attrs.attempt) == ("client", 2)


def test_go_sdk_metadata_on_workflow_task_completed() -> None:
    """Name/version and flag 3 only on the first completed task; later tasks carry empty metadata."""
    b = HistoryBuilder()
    start(b)
    second = task(b, T0 + SECOND)
    third = b.workflow_task_completed(
        T0 + 2 * SECOND, scheduled_event_id=5, started_event_id=6, sdk_flags=[1]
    )
    first_attrs = b.events[3].workflow_task_completed_event_attributes
    assert first_attrs.sdk_metadata.sdk_name == "temporal-go"
    assert first_attrs.sdk_metadata.sdk_version == "1.42.0"
    assert list(first_attrs.sdk_metadata.lang_used_flags) == [3]
    assert first_attrs.HasField("metering_metadata")
    assert first_attrs.binary_checksum == ""
    assert (first_attrs.scheduled_event_id, first_attrs.started_event_id, first_attrs.identity) == (
        2,
        3,
        "wftest",
    )
    later = b.events[second - 1].workflow_task_completed_event_attributes
    assert later.HasField("sdk_metadata")
    assert later.sdk_metadata == type(later.sdk_metadata)()
    flagged = b.events[third - 1].workflow_task_completed_event_attributes.sdk_metadata
    assert (list(flagged.lang_used_flags), flagged.sdk_name) == ([1], "")


def test_first_completed_task_with_explicit_flags() -> None:
    b = HistoryBuilder()
    b.workflow_task_completed(T0, scheduled_event_id=2, started_event_id=3, sdk_flags=[3, 1])
    metadata = b.events[0].workflow_task_completed_event_attributes.sdk_metadata
    assert (list(metadata.lang_used_flags), metadata.sdk_name) == ([3, 1], "temporal-go")


def test_workflow_task_started_request_id_and_history_size() -> None:
    b = HistoryBuilder()
    start(b)
    attrs = b.events[2].workflow_task_started_event_attributes
    assert attrs.request_id == "00000000-0000-0000-0000-000000000003"
    assert attrs.history_size_bytes == b.events[0].ByteSize() + b.events[1].ByteSize()
    assert attrs.identity == "wftest"
    task(b, T0 + SECOND)
    size = b.events[5].workflow_task_started_event_attributes.history_size_bytes
    assert size == sum(event.ByteSize() for event in b.events[:5])
    b.workflow_task_started(T0 + 2 * SECOND, scheduled_event_id=5, history_size_bytes=77, identity="other")
    explicit = b.events[-1].workflow_task_started_event_attributes
    assert (explicit.history_size_bytes, explicit.identity) == (77, "other")


def test_same_calls_give_equal_histories() -> None:
    first, second = HistoryBuilder(), HistoryBuilder()
    for b in (first, second):
        start(b)
        b.activity_task_scheduled(
            T0 + 2 * MS, activity_type="app:a", task_queue=QUEUE, workflow_task_completed_event_id=4
        )
        b.activity_task_started(T0 + 3 * MS, scheduled_event_id=5)
    assert first.build() == second.build()
    assert first.events[5].activity_task_started_event_attributes.request_id == (
        "00000000-0000-0000-0000-000000000006"
    )


def test_sdk_default_ids_and_explicit_overrides() -> None:
    """Activity/timer ids and signal/cancel `control` default to the event id; options override them."""
    b = HistoryBuilder()
    start(b)
    target = ExecutionRef("", "other-wf")
    b.activity_task_scheduled(
        T0 + 2 * MS,
        activity_type="app:a",
        task_queue=QUEUE,
        workflow_task_completed_event_id=4,
        activity_id="c1",
    )
    b.timer_started(T0 + 2 * MS, start_to_fire_ns=SECOND, workflow_task_completed_event_id=4, timer_id="t")
    b.signal_external_workflow_execution_initiated(
        T0 + 2 * MS, target=target, signal_name="go", workflow_task_completed_event_id=4
    )
    b.request_cancel_external_workflow_execution_initiated(
        T0 + 2 * MS, target=target, workflow_task_completed_event_id=4
    )
    b.signal_external_workflow_execution_initiated(
        T0 + 2 * MS, target=target, signal_name="go", workflow_task_completed_event_id=4, control="c"
    )
    b.start_child_workflow_execution_initiated(
        T0 + 2 * MS,
        namespace="default",
        workflow_type="app:child",
        task_queue=QUEUE,
        workflow_task_completed_event_id=4,
        workflow_id="named-child",
    )
    events = b.events
    assert events[4].activity_task_scheduled_event_attributes.activity_id == "c1"
    assert events[5].timer_started_event_attributes.timer_id == "t"
    assert events[6].signal_external_workflow_execution_initiated_event_attributes.control == "7"
    assert events[7].request_cancel_external_workflow_execution_initiated_event_attributes.control == "8"
    assert events[8].signal_external_workflow_execution_initiated_event_attributes.control == "c"
    assert events[9].start_child_workflow_execution_initiated_event_attributes.workflow_id == "named-child"


def test_default_child_workflow_id_needs_a_started_event() -> None:
    b = HistoryBuilder()
    with pytest.raises(ValueError, match="default child workflow id needs the run id"):
        b.start_child_workflow_execution_initiated(
            T0,
            namespace="default",
            workflow_type="app:c",
            task_queue=QUEUE,
            workflow_task_completed_event_id=4,
        )
    assert b.last_event_id == 0


def test_empty_payload_lists_leave_the_field_unset() -> None:
    """`return` with no values → no result payloads at all; no args → no input."""
    b = HistoryBuilder()
    start(b)
    b.activity_task_scheduled(
        T0 + 2 * MS, activity_type="app:a", task_queue=QUEUE, workflow_task_completed_event_id=4
    )
    b.workflow_execution_completed(T0 + 2 * MS, workflow_task_completed_event_id=4)
    assert not b.events[4].activity_task_scheduled_event_attributes.HasField("input")
    assert b.events[4].activity_task_scheduled_event_attributes.HasField("header")
    assert not b.events[5].workflow_execution_completed_event_attributes.HasField("result")


def test_events_view_is_read_only_and_live() -> None:
    b = HistoryBuilder()
    view = b.events
    assert len(view) == 0
    start(b)
    assert len(view) == 4
    assert view[-1].event_id == 4
    assert [event.event_id for event in view[1:3]] == [2, 3]
    assert isinstance(view[1:3], tuple)
    assert not hasattr(view, "append")
    with pytest.raises(TypeError):
        view[0] = HistoryEvent()  # type: ignore[index]


def test_build_returns_an_independent_copy() -> None:
    b = HistoryBuilder()
    start(b)
    history = b.build()
    history.events[0].event_id = 99
    del history.events[1]
    assert [event.event_id for event in b.events] == [1, 2, 3, 4]
    assert len(b.build().events) == 4


def test_failure_and_retry_state_defaults() -> None:
    """A workflow without retry policy fails/times out with RETRY_POLICY_NOT_SET recorded."""
    b = HistoryBuilder()
    start(b)
    failure = wippy_failure(ErrorInfo("Internal", "boom"))
    b.workflow_execution_failed(T0 + 2 * MS, failure=failure, workflow_task_completed_event_id=4)
    b.workflow_execution_timed_out(T0 + 2 * MS)
    failed = b.events[4].workflow_execution_failed_event_attributes
    assert failed.retry_state == RetryState.RETRY_STATE_RETRY_POLICY_NOT_SET
    assert failed.failure == failure
    assert failed.workflow_task_completed_event_id == 4
    timed_out = b.events[5].workflow_execution_timed_out_event_attributes
    assert timed_out.retry_state == RetryState.RETRY_STATE_RETRY_POLICY_NOT_SET


def test_activity_retry_attempt_and_timeout_events() -> None:
    b = HistoryBuilder()
    start(b)
    policy = RetryPolicy(maximum_attempts=3)
    b.activity_task_scheduled(
        T0 + 2 * MS,
        activity_type="app:a",
        task_queue=QUEUE,
        workflow_task_completed_event_id=4,
        retry_policy=policy,
        heartbeat_ns=5 * SECOND,
        schedule_to_close_ns=60 * SECOND,
        schedule_to_start_ns=7,
    )
    previous = wippy_failure(ErrorInfo("Unavailable", "flaky"))
    b.activity_task_started(
        T0 + 3 * MS, scheduled_event_id=5, attempt=3, last_failure=previous, identity="w2"
    )
    timeout = timeout_failure(TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE)
    b.activity_task_timed_out(
        T0 + 4 * MS,
        scheduled_event_id=5,
        started_event_id=6,
        failure=timeout,
        retry_state=RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED,
    )
    scheduled = b.events[4].activity_task_scheduled_event_attributes
    assert scheduled.retry_policy == policy
    assert scheduled.heartbeat_timeout.ToNanoseconds() == 5 * SECOND
    assert scheduled.schedule_to_close_timeout.ToNanoseconds() == 60 * SECOND
    assert scheduled.schedule_to_start_timeout.ToNanoseconds() == 7
    started = b.events[5].activity_task_started_event_attributes
    assert (started.attempt, started.last_failure, started.identity) == (3, previous, "w2")
    timed_out = b.events[6].activity_task_timed_out_event_attributes
    assert (timed_out.failure, timed_out.retry_state) == (
        timeout,
        RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED,
    )


# -- every event type ---------------------------------------------------------------------------------------


def every_event(b: HistoryBuilder) -> None:
    """Calls every builder method not used by `start` once, events 5-44."""
    child = ExecutionRef("default", f"{RUN_ID}_9", "child-run")
    target = ExecutionRef("default", "other-wf", "other-run")
    failure = wippy_failure(ErrorInfo("Invalid", "bad input", retryable=False, details={"field": "x"}))
    t = T0 + SECOND
    b.workflow_task_failed(
        t,
        scheduled_event_id=2,
        started_event_id=3,
        failure=failure,
        cause=WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE,
    )
    b.workflow_task_timed_out(t, scheduled_event_id=2, started_event_id=3)
    b.activity_task_scheduled(t, activity_type="app:a", task_queue=QUEUE, workflow_task_completed_event_id=4)
    b.activity_task_started(t, scheduled_event_id=7)
    b.activity_task_failed(
        t,
        scheduled_event_id=7,
        started_event_id=8,
        failure=failure,
        retry_state=RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE,
    )
    b.start_child_workflow_execution_initiated(
        t,
        namespace="default",
        workflow_type="app:child",
        task_queue=QUEUE,
        workflow_task_completed_event_id=4,
        input=[jp(1)],
        memo={"m": jp(1)},
        search_attributes={"s": jp("v")},
    )
    b.activity_task_cancel_requested(t, scheduled_event_id=7, workflow_task_completed_event_id=4)
    b.activity_task_canceled(
        t, scheduled_event_id=7, started_event_id=8, latest_cancel_requested_event_id=11, details=[jp("why")]
    )
    b.activity_task_timed_out(
        t,
        scheduled_event_id=7,
        started_event_id=8,
        failure=timeout_failure(TimeoutType.TIMEOUT_TYPE_HEARTBEAT),
        retry_state=RetryState.RETRY_STATE_TIMEOUT,
    )
    b.activity_task_completed(t, scheduled_event_id=7, started_event_id=8, result=[jp("ok")])
    b.timer_started(t, start_to_fire_ns=1500 * MS, workflow_task_completed_event_id=4)
    b.timer_fired(t, timer_id="15", started_event_id=15)
    b.timer_canceled(t, timer_id="15", started_event_id=15, workflow_task_completed_event_id=4)
    b.marker_recorded(
        t,
        marker_name="SideEffect",
        details={"side-effect-id": [jp(1)], "data": [jp(2)]},
        workflow_task_completed_event_id=4,
        summary=jp("process.send"),
    )
    b.upsert_workflow_search_attributes(
        t, search_attributes={"b": jp(1), "a": jp(2)}, workflow_task_completed_event_id=4
    )
    b.workflow_properties_modified(t, upserted_memo={"note": jp("x")}, workflow_task_completed_event_id=4)
    b.start_child_workflow_execution_failed(
        t,
        namespace="default",
        workflow_id="dup",
        workflow_type="app:child",
        initiated_event_id=12,
        workflow_task_completed_event_id=4,
        cause=StartChildWorkflowExecutionFailedCause.START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_WORKFLOW_ALREADY_EXISTS,
    )
    b.child_workflow_execution_started(
        t, child=child, workflow_type="app:child", initiated_event_id=12, header={"wippy-context": jp({})}
    )

    def close_child(method: Callable[..., int], **extra: Any) -> None:
        method(t, child=child, workflow_type="app:child", initiated_event_id=12, started_event_id=22, **extra)

    close_child(b.child_workflow_execution_completed, result=[jp(1)])
    close_child(b.child_workflow_execution_failed, failure=failure)
    close_child(b.child_workflow_execution_canceled)
    close_child(b.child_workflow_execution_terminated)
    close_child(b.child_workflow_execution_timed_out)
    b.signal_external_workflow_execution_initiated(
        t,
        target=target,
        signal_name="topic",
        workflow_task_completed_event_id=4,
        input=[jp(1)],
        header={"wippy-context": jp({"temporal.signal.from": "{c@w|wf}"})},
    )
    b.external_workflow_execution_signaled(t, target=target, initiated_event_id=28, control="28")
    b.signal_external_workflow_execution_failed(
        t,
        target=target,
        initiated_event_id=28,
        workflow_task_completed_event_id=4,
        control="28",
        cause=SignalExternalWorkflowExecutionFailedCause.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND,
    )
    b.request_cancel_external_workflow_execution_initiated(
        t, target=target, workflow_task_completed_event_id=4
    )
    b.external_workflow_execution_cancel_requested(t, target=target, initiated_event_id=31)
    b.request_cancel_external_workflow_execution_failed(
        t,
        target=target,
        initiated_event_id=31,
        workflow_task_completed_event_id=4,
        control="31",
        cause=CancelExternalWorkflowExecutionFailedCause.CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND,
    )
    b.workflow_execution_signaled(
        t,
        signal_name="topic",
        input=[jp("a"), jp("b")],
        identity="cli",
        header={"wippy-context": jp({"temporal.signal.from": "{c@w|x}"})},
    )
    b.workflow_execution_cancel_requested(
        t, cause="why", identity="cli", external_initiated_event_id=31, external_execution=target
    )
    b.workflow_execution_terminated(t, reason="process.terminate", details=[jp("d")], identity="cli")
    b.workflow_execution_canceled(t, workflow_task_completed_event_id=4, details=[jp("d")])
    b.workflow_execution_continued_as_new(
        t,
        new_execution_run_id="run-next",
        workflow_type="app:wf",
        task_queue=QUEUE,
        workflow_task_completed_event_id=4,
        input=[jp(2)],
        header={"wippy-context": jp({})},
    )
    b.workflow_execution_failed(t, failure=failure, workflow_task_completed_event_id=4)
    b.workflow_execution_timed_out(t)
    b.workflow_execution_completed(t, workflow_task_completed_event_id=4, result=[jp(None)])
    accepted = b.workflow_execution_update_accepted(
        t, update_id="u-1", name="add", args=[jp(1)], sequencing_event_id=2, identity="cli"
    )
    b.workflow_execution_update_completed(t, update_id="u-1", accepted_event_id=accepted, result=[jp(2)])


def test_every_event_type_gets_its_type_and_attributes() -> None:
    """Each method appends the event type it is named after, with that type's attributes."""
    b = HistoryBuilder()
    start(b)
    every_event(b)
    names = [EventType.Name(event.event_type).removeprefix("EVENT_TYPE_").lower() for event in b.events]
    methods = {name for name in vars(HistoryBuilder) if not name.startswith("_")} - {
        "build",
        "events",
        "last_event_id",
    }
    assert set(names) == methods
    assert len(names) == len(methods) == b.last_event_id
    for name, event in zip(names, b.events, strict=True):
        assert event.WhichOneof("attributes") == name + "_event_attributes"
    by_name = dict(zip(names, b.events, strict=True))
    assert by_name["timer_started"].timer_started_event_attributes.timer_id == "15"
    child_failed = by_name["child_workflow_execution_failed"].child_workflow_execution_failed_event_attributes
    assert child_failed.retry_state == RetryState.RETRY_STATE_RETRY_POLICY_NOT_SET
    continued = by_name[
        "workflow_execution_continued_as_new"
    ].workflow_execution_continued_as_new_event_attributes
    assert continued.initiator == ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_WORKFLOW
    assert continued.workflow_task_timeout.ToNanoseconds() == 10 * SECOND
    assert continued.HasField("backoff_start_interval")
    signaled = by_name["workflow_execution_signaled"].workflow_execution_signaled_event_attributes
    assert [payload.data for payload in signaled.input.payloads] == [b'"a"', b'"b"']
    assert "temporal.signal.from" in signaled.header.fields["wippy-context"].data.decode()
    failed_task = by_name["workflow_task_failed"].workflow_task_failed_event_attributes
    assert failed_task.identity == "wftest"
    timed_out_task = by_name["workflow_task_timed_out"].workflow_task_timed_out_event_attributes
    assert timed_out_task.timeout_type == TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE
    cancel = by_name["request_cancel_external_workflow_execution_initiated"]
    cancel_attrs = cancel.request_cancel_external_workflow_execution_initiated_event_attributes
    assert (cancel_attrs.control, cancel_attrs.reason, cancel_attrs.child_workflow_only) == ("31", "", False)
    assert cancel_attrs.workflow_execution.workflow_id == "other-wf"
    canceled = by_name["activity_task_canceled"].activity_task_canceled_event_attributes
    assert (
        canceled.scheduled_event_id,
        canceled.started_event_id,
        canceled.latest_cancel_requested_event_id,
    ) == (
        7,
        8,
        11,
    )
    assert list(canceled.details.payloads) == [jp("why")]
    timer_canceled = by_name["timer_canceled"].timer_canceled_event_attributes
    assert (timer_canceled.timer_id, timer_canceled.started_event_id, timer_canceled.identity) == (
        "15",
        15,
        "wftest",
    )
    memo = by_name["workflow_properties_modified"].workflow_properties_modified_event_attributes.upserted_memo
    assert dict(memo.fields) == {"note": jp("x")}
    child_start_failed = by_name["start_child_workflow_execution_failed"]
    cause = child_start_failed.start_child_workflow_execution_failed_event_attributes.cause
    assert StartChildWorkflowExecutionFailedCause.Name(cause).endswith("_WORKFLOW_ALREADY_EXISTS")
    child_started = by_name[
        "child_workflow_execution_started"
    ].child_workflow_execution_started_event_attributes
    assert dict(child_started.header.fields) == {"wippy-context": jp({})}
    signaled_external = by_name["external_workflow_execution_signaled"]
    external = signaled_external.external_workflow_execution_signaled_event_attributes
    assert (external.initiated_event_id, external.control, external.workflow_execution.run_id) == (
        28,
        "28",
        "other-run",
    )
    requested = by_name[
        "workflow_execution_cancel_requested"
    ].workflow_execution_cancel_requested_event_attributes
    assert (requested.cause, requested.identity, requested.external_initiated_event_id) == ("why", "cli", 31)
    assert requested.external_workflow_execution.workflow_id == "other-wf"
    terminated = by_name["workflow_execution_terminated"].workflow_execution_terminated_event_attributes
    assert (terminated.reason, terminated.identity) == ("process.terminate", "cli")
    failed_activity = by_name["activity_task_failed"].activity_task_failed_event_attributes
    assert failed_activity.retry_state == RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE
    assert failed_activity.failure.application_failure_info.type == "Invalid"


def test_signaled_event_without_header() -> None:
    b = HistoryBuilder()
    b.workflow_execution_signaled(T0, signal_name="s")
    attrs = b.events[0].workflow_execution_signaled_event_attributes
    assert not attrs.HasField("header")
    assert not attrs.HasField("input")


# -- JSON ---------------------------------------------------------------------------------------------------


def full_history() -> History:
    b = HistoryBuilder()
    start(b, header={"wippy-context": jp({"tenant": "t1"})})
    every_event(b)
    return b.build()


def test_json_is_what_temporalio_writes() -> None:
    """Byte-identical to `WorkflowHistory.to_json()` (plus a newline) when maps have a single entry."""
    b = HistoryBuilder()
    start(b, header={"wippy-context": jp({"a": 1})})
    b.timer_started(T0 + 2 * MS, start_to_fire_ns=100 * MS + 7, workflow_task_completed_event_id=4)
    history = b.build()
    text = history_to_json(history)
    assert text == WorkflowHistory("wf", history.events).to_json() + "\n"
    assert '"startToFireTimeout": "0.100000007s"' in text
    assert '"eventType": "EVENT_TYPE_TIMER_STARTED"' in text


def test_temporalio_reads_our_json_back_equal() -> None:
    history = full_history()
    parsed = WorkflowHistory.from_json("wf", history_to_json(history))
    assert list(parsed.events) == list(history.events)
    assert parsed.run_id == RUN_ID


def test_history_from_json_round_trip() -> None:
    history = full_history()
    text = history_to_json(history)
    assert history_from_json(text) == history
    assert history_from_json(text.encode()) == history
    assert history_from_json(WorkflowHistory("wf", history.events).to_json()) == history


def test_json_sorts_map_keys_whatever_the_insertion_order() -> None:
    def build(order: list[str]) -> str:
        b = HistoryBuilder()
        b.marker_recorded(
            T0, marker_name="M", details={key: [jp(key)] for key in order}, workflow_task_completed_event_id=4
        )
        b.upsert_workflow_search_attributes(
            T0, search_attributes={key: jp(1) for key in order}, workflow_task_completed_event_id=4
        )
        b.activity_task_scheduled(
            T0,
            activity_type="app:a",
            task_queue=QUEUE,
            workflow_task_completed_event_id=4,
            input=[Payload(metadata={key: b"x" for key in order}, data=b"1")],
        )
        return history_to_json(b.build())

    forward, backward = build(["b", "a", "c"]), build(["c", "a", "b"])
    assert forward == backward
    details = json.loads(forward)["events"][0]["markerRecordedEventAttributes"]["details"]
    assert list(details) == ["a", "b", "c"]
    fields = json.loads(forward)["events"][1]["upsertWorkflowSearchAttributesEventAttributes"]
    assert list(fields["searchAttributes"]["indexedFields"]) == ["a", "b", "c"]
    scheduled = json.loads(forward)["events"][2]["activityTaskScheduledEventAttributes"]
    assert list(scheduled["input"]["payloads"][0]["metadata"]) == ["a", "b", "c"]


def test_json_bytes_are_the_same_in_another_process(tmp_path: Path) -> None:
    text = history_to_json(full_history())
    script = (
        "import sys\n"
        f"sys.path[:0] = [{str(Path(__file__).parent)!r}, {str(Path(__file__).parents[1])!r}]\n"
        "from test_history_builder import full_history\n"
        "from wftest.history import history_to_json\n"
        "sys.stdout.write(history_to_json(full_history()))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    other = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    assert other.stdout == text
    assert text.endswith("}\n")


def read_error(text: str | bytes, source: str = "h.json") -> HistoryFormatError:
    """The protobuf reader's error; replay's fast reader must raise the very same one."""
    from wftest.history.fastread import events_from_json

    with pytest.raises(HistoryFormatError) as caught:
        history_from_json(text, source=source)
    with pytest.raises(HistoryFormatError) as fast:
        events_from_json(text, source=source)
    assert (str(fast.value), fast.value.event_id) == (str(caught.value), caught.value.event_id)
    return caught.value


def event_dicts() -> list[dict[str, object]]:
    b = HistoryBuilder()
    start(b)
    events: list[dict[str, object]] = json.loads(history_to_json(b.build()))["events"]
    return events


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("events: []", "h.json: not valid JSON: Expecting value (line 1 column 1)"),
        ('{"events": [] } x', "h.json: not valid JSON: Extra data (line 1 column 17)"),
        ('{"events": [', "h.json: truncated JSON: the text ends inside a value (line 1 column 13)"),
        (
            '{"events": [{"eventId": "1"',
            "h.json: truncated JSON: the text ends inside a value (line 1 column 28)",
        ),
        (
            '{"events": [{"eventId": "1',
            "h.json: truncated JSON: the text ends inside a value (line 1 column 25)",
        ),
        ("", "h.json: truncated JSON: the text ends inside a value (line 1 column 1)"),
        ("[]", 'h.json: not a history: expected a JSON object with an "events" list'),
        ('{"history": []}', 'h.json: not a history: expected a JSON object with an "events" list'),
        ('{"events": {}}', 'h.json: not a history: expected a JSON object with an "events" list'),
        ('{"events": []}', "h.json: history has no events"),
        ('{"events": [1]}', "h.json: event 1: expected a JSON object, found int"),
    ],
)
def test_unreadable_documents(text: str, message: str) -> None:
    error = read_error(text)
    assert str(error) == message
    assert error.source == "h.json"


def test_error_without_source_uses_placeholder_and_fields() -> None:
    with pytest.raises(HistoryFormatError) as caught:
        history_from_json('{"events": []}')
    assert str(caught.value) == "<history>: history has no events"
    assert (caught.value.source, caught.value.event_id, caught.value.message) == (
        "<history>",
        None,
        "history has no events",
    )
    assert isinstance(caught.value, ValueError)
    copy = pickle.loads(pickle.dumps(caught.value))
    assert (str(copy), copy.event_id) == (str(caught.value), None)


def test_not_utf8_bytes() -> None:
    assert (
        str(read_error(b'{"events": ["\xff"]}')) == "h.json: not UTF-8 text (invalid start byte at byte 13)"
    )


@pytest.mark.parametrize(
    ("event_type", "message"),
    [
        ("WorkflowTaskBegun", "h.json: event 3: unknown EventType value 'WorkflowTaskBegun'"),
        ("EVENT_TYPE_UNSPECIFIED", "h.json: event 3: unknown eventType 'EVENT_TYPE_UNSPECIFIED'"),
        (999, "h.json: event 3: unknown eventType 999"),
        (None, "h.json: event 3: missing eventType"),
        (
            "EVENT_TYPE_TIMER_FIRED",
            "h.json: event 3: EVENT_TYPE_TIMER_FIRED event without timerFiredEventAttributes",
        ),
    ],
)
def test_event_type_must_be_known_and_match_the_attributes(event_type: object, message: str) -> None:
    events = event_dicts()
    if event_type is None:
        del events[2]["eventType"]
    else:
        events[2]["eventType"] = event_type
    error = read_error(json.dumps({"events": events}))
    assert (str(error), error.event_id) == (message, 3)


def test_numeric_event_type_is_accepted() -> None:
    events = event_dicts()
    events[2]["eventType"] = EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED
    assert history_from_json(json.dumps({"events": events})).events[2].event_type == (
        EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED
    )


def test_bad_field_value_names_the_event() -> None:
    events = event_dicts()
    events[1]["eventTime"] = "yesterday"
    error = read_error(json.dumps({"events": events}))
    assert str(error).startswith("h.json: event 2: Failed to parse eventTime field")


def test_bad_event_without_readable_id_uses_its_position() -> None:
    events = event_dicts()
    events[1]["eventId"] = "two"
    assert read_error(json.dumps({"events": events})).event_id == 2


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        (
            ["1", "2", "4", "5"],
            "h.json: event 4: expected event id 3 here: event ids must run 1, 2, 3, ... without gaps",
        ),
        (
            ["1", "2", "2", "3"],
            "h.json: event 2: expected event id 3 here: event ids must run 1, 2, 3, ... without gaps",
        ),
        (
            ["2", "3", "4", "5"],
            "h.json: event 2: expected event id 1 here: event ids must run 1, 2, 3, ... without gaps",
        ),
        ([None, "2", "3", "4"], "h.json: event 1: missing eventId"),
    ],
)
def test_event_ids_must_be_consecutive_from_one(ids: list[str | None], message: str) -> None:
    events = event_dicts()
    for event, event_id in zip(events, ids, strict=True):
        if event_id is None:
            del event["eventId"]
        else:
            event["eventId"] = event_id
    assert str(read_error(json.dumps({"events": events}))) == message


def test_unknown_fields_are_ignored_and_numeric_ids_accepted() -> None:
    events = event_dicts()
    events[0]["someFutureField"] = {"x": 1}
    events[1]["eventId"] = 2
    history = history_from_json(json.dumps({"events": events, "nextPageToken": ""}))
    assert [event.event_id for event in history.events] == [1, 2, 3, 4]
