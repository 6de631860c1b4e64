"""Wippy errors ↔ Temporal failures, with the activity and child workflow wrappers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.enums.v1 import RetryState, TimeoutType
from temporalio.api.failure.v1 import ApplicationFailureInfo, Failure, ServerFailureInfo

from wftest.history import (
    ErrorInfo,
    activity_failure,
    canceled_failure,
    chain_json,
    child_failure,
    error_from_failure,
    retry_state_string,
    terminated_failure,
    timeout_failure,
    wippy_failure,
)


def in_activity(
    cause: Failure, retry_state: RetryState.ValueType = RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE
) -> Failure:
    return activity_failure(
        cause,
        scheduled_event_id=5,
        started_event_id=6,
        identity="worker@host",
        activity_type="app.test.temporal.activities:echo_activity",
        activity_id="5",
        retry_state=retry_state,
    )


def in_child(
    cause: Failure, retry_state: RetryState.ValueType = RetryState.RETRY_STATE_RETRY_POLICY_NOT_SET
) -> Failure:
    return child_failure(
        cause,
        namespace="default",
        workflow_id="run-1_7",
        run_id="child-run",
        workflow_type="app:child",
        initiated_event_id=7,
        started_event_id=8,
        retry_state=retry_state,
    )


def application(
    failure_type: str,
    message: str = "went wrong",
    non_retryable: bool = False,
    details: Payloads | None = None,
) -> Failure:
    info = ApplicationFailureInfo(type=failure_type, non_retryable=non_retryable, details=details)
    return Failure(message=message, source="GoSDK", application_failure_info=info)


def json_details(text: bytes) -> Payloads:
    return Payloads(payloads=[Payload(metadata={"encoding": b"json/plain"}, data=text)])


NESTED = ErrorInfo(
    "Invalid",
    "order rejected",
    retryable=False,
    details={"order": {"total": 12.5, "id": "o-1", "lines": [1, 2.0]}, "code": 42},
    stack=["workflow.lua:12", "workflow.lua:3"],
    cause=ErrorInfo("NotFound", "customer missing", retryable=True, cause=ErrorInfo("", "sql: no rows")),
)


# -- encoding ------------------------------------------------------------------------------------------------


def test_wippy_failure_shape() -> None:
    failure = wippy_failure(NESTED)
    assert failure.message == "order rejected"
    assert failure.source == "WippySDK"
    assert failure.WhichOneof("failure_info") == "application_failure_info"
    info = failure.application_failure_info
    assert (info.type, info.non_retryable) == ("Invalid", True)
    [payload] = info.details.payloads
    assert dict(payload.metadata) == {"encoding": b"json/plain"}
    assert payload.data == (
        b'{"errors":['
        b'{"msg":"order rejected","kind":"Invalid","retry":false,'
        b'"details":{"code":42,"order":{"id":"o-1","lines":[1,2],"total":12.5}},'
        b'"stack":["workflow.lua:12","workflow.lua:3"]},'
        b'{"msg":"customer missing","kind":"NotFound","retry":true},'
        b'{"msg":"sql: no rows"}]}'
    )


def test_cause_is_the_go_error_chain_from_the_go_sdk() -> None:
    """Nested causes keep source GoSDK, type = Go type name, message = full Error() text."""
    cause = wippy_failure(NESTED).cause
    messages, sources, types, retryable = [], [], [], []
    while cause.ByteSize():
        messages.append(cause.message)
        sources.append(cause.source)
        types.append(cause.application_failure_info.type)
        retryable.append(not cause.application_failure_info.non_retryable)
        cause = cause.cause
    assert messages == [
        "order rejected: customer missing: sql: no rows",
        "customer missing: sql: no rows",
        "sql: no rows",
    ]
    assert sources == ["GoSDK"] * 3
    assert types == ["Error"] * 3
    assert retryable == [True] * 3
    assert wippy_failure(NESTED, go_type="RichError").cause.application_failure_info.type == "RichError"


@pytest.mark.parametrize(
    ("kind", "failure_type"),
    [
        ("", "Internal"),
        ("Unknown", "Internal"),
        ("Internal", "Internal"),
        ("Timeout", "Timeout"),
        ("Custom", "Custom"),
    ],
)
def test_failure_type_is_the_kind_with_internal_default(kind: str, failure_type: str) -> None:
    assert wippy_failure(ErrorInfo(kind, "x")).application_failure_info.type == failure_type


def test_kind_omitted_from_chain_when_empty_even_though_type_defaults() -> None:
    assert chain_json(ErrorInfo("", "x")) == b'{"errors":[{"msg":"x"}]}'
    assert chain_json(ErrorInfo("Unknown", "x")) == b'{"errors":[{"msg":"x","kind":"Unknown"}]}'


@pytest.mark.parametrize(
    ("retryable", "non_retryable", "retry_json"),
    [(None, False, b""), (True, False, b',"retry":true'), (False, True, b',"retry":false')],
)
def test_retryable_maps_to_non_retryable_only_when_false(
    retryable: bool | None, non_retryable: bool, retry_json: bytes
) -> None:
    failure = wippy_failure(ErrorInfo("Invalid", "x", retryable=retryable))
    assert failure.application_failure_info.non_retryable is non_retryable
    assert failure.application_failure_info.details.payloads[0].data == (
        b'{"errors":[{"msg":"x","kind":"Invalid"' + retry_json + b"}]}"
    )


def test_empty_details_and_stack_are_omitted() -> None:
    assert chain_json(ErrorInfo("Invalid", "x", details={}, stack=[])) == (
        b'{"errors":[{"msg":"x","kind":"Invalid"}]}'
    )


def test_strings_escape_like_go_encoding_json() -> None:
    """Go escapes <, >, & and U+2028/U+2029, keeps other non-ASCII text as UTF-8."""
    error = ErrorInfo("Invalid", 'a<b>&"c"\n\u2028\u2029 é ✓', details={"k<": "v&"})
    assert chain_json(error) == (
        b'{"errors":[{"msg":"a\\u003cb\\u003e\\u0026\\"c\\"\\n\\u2028\\u2029 '
        + "é ✓".encode()
        + b'","kind":"Invalid","details":{"k\\u003c":"v\\u0026"}}]}'
    )


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (2.0, "2"),
        (0.1, "0.1"),
        (-0.0, "-0"),
        (1e-6, "0.000001"),
        (1.234e-6, "0.000001234"),
        (1e-7, "1e-7"),
        (1.5e-7, "1.5e-7"),
        (1e-10, "1e-10"),
        (1e20, "100000000000000000000"),
        (12345678901234567890.0, "12345678901234567000"),
        (1e21, "1e+21"),
        (-2.5e300, "-2.5e+300"),
        (123456789.125, "123456789.125"),
        (7, "7"),
        (True, "true"),
        (None, "null"),
        ((1, "a"), '[1,"a"]'),
    ],
)
def test_detail_values_encode_like_go(value: Any, encoded: str) -> None:
    assert chain_json(ErrorInfo("Invalid", "x", details={"v": value})) == (
        b'{"errors":[{"msg":"x","kind":"Invalid","details":{"v":' + encoded.encode() + b"}}]}"
    )


def test_details_that_go_cannot_encode_are_errors() -> None:
    with pytest.raises(ValueError, match="cannot encode nan in error details"):
        wippy_failure(ErrorInfo("Invalid", "x", details={"v": float("nan")}))
    with pytest.raises(TypeError, match="cannot encode set value"):
        wippy_failure(ErrorInfo("Invalid", "x", details={"v": {1}}))


def test_full_message_joins_the_chain() -> None:
    """`:message()` of a rebuilt error is the Go Error() string of the whole chain."""
    assert NESTED.full_message() == "order rejected: customer missing: sql: no rows"
    assert ErrorInfo("Internal", "", cause=ErrorInfo("", "inner")).full_message() == "inner"
    assert [error.message for error in NESTED.chain()] == [
        "order rejected",
        "customer missing",
        "sql: no rows",
    ]


# -- wrappers ------------------------------------------------------------------------------------------------


def test_activity_failure_wrapper() -> None:
    inner = wippy_failure(ErrorInfo("Invalid", "x"))
    failure = in_activity(inner, RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED)
    assert (failure.message, failure.source) == ("activity error", "GoSDK")
    info = failure.activity_failure_info
    assert (info.scheduled_event_id, info.started_event_id, info.identity) == (5, 6, "worker@host")
    assert (info.activity_type.name, info.activity_id) == ("app.test.temporal.activities:echo_activity", "5")
    assert info.retry_state == RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED
    assert failure.cause == inner


def test_child_failure_wrapper() -> None:
    inner = wippy_failure(ErrorInfo("Invalid", "x"))
    failure = in_child(inner)
    assert (failure.message, failure.source) == ("child workflow execution error", "GoSDK")
    info = failure.child_workflow_execution_failure_info
    assert info.namespace == "default"
    assert (info.workflow_execution.workflow_id, info.workflow_execution.run_id) == ("run-1_7", "child-run")
    assert (info.workflow_type.name, info.initiated_event_id, info.started_event_id) == ("app:child", 7, 8)
    assert info.retry_state == RetryState.RETRY_STATE_RETRY_POLICY_NOT_SET
    assert failure.cause == inner


@pytest.mark.parametrize(
    ("timeout_type", "message"),
    [
        (TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE, "activity StartToClose timeout"),
        (TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START, "activity ScheduleToStart timeout"),
        (TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE, "activity ScheduleToClose timeout"),
        (TimeoutType.TIMEOUT_TYPE_HEARTBEAT, "activity Heartbeat timeout"),
    ],
)
def test_timeout_failure_as_the_server_writes_it(timeout_type: TimeoutType.ValueType, message: str) -> None:
    failure = timeout_failure(timeout_type)
    assert (failure.message, failure.source) == (message, "Server")
    assert failure.timeout_failure_info.timeout_type == timeout_type
    assert not failure.timeout_failure_info.HasField("last_heartbeat_details")


def test_timeout_failure_with_heartbeat_details_and_message() -> None:
    beat = Payload(metadata={"encoding": b"json/plain"}, data=b"3")
    failure = timeout_failure(TimeoutType.TIMEOUT_TYPE_HEARTBEAT, [beat], message="workflow timeout")
    assert failure.message == "workflow timeout"
    assert list(failure.timeout_failure_info.last_heartbeat_details.payloads) == [beat]


def test_canceled_and_terminated_failures() -> None:
    detail = Payload(metadata={"encoding": b"json/plain"}, data=b'"stop"')
    canceled = canceled_failure([detail], identity="cli")
    assert (canceled.message, canceled.source) == ("canceled", "GoSDK")
    assert list(canceled.canceled_failure_info.details.payloads) == [detail]
    assert canceled.canceled_failure_info.identity == "cli"
    assert canceled_failure().HasField("canceled_failure_info")
    assert not canceled_failure().canceled_failure_info.HasField("details")
    terminated = terminated_failure(identity="cli")
    assert (terminated.message, terminated.source) == ("terminated", "GoSDK")
    assert terminated.terminated_failure_info.identity == "cli"


@pytest.mark.parametrize(
    ("state", "text"),
    [
        (RetryState.RETRY_STATE_UNSPECIFIED, "Unspecified"),
        (RetryState.RETRY_STATE_IN_PROGRESS, "InProgress"),
        (RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE, "NonRetryableFailure"),
        (RetryState.RETRY_STATE_TIMEOUT, "Timeout"),
        (RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED, "MaximumAttemptsReached"),
        (RetryState.RETRY_STATE_RETRY_POLICY_NOT_SET, "RetryPolicyNotSet"),
        (RetryState.RETRY_STATE_INTERNAL_SERVER_ERROR, "InternalServerError"),
        (RetryState.RETRY_STATE_CANCEL_REQUESTED, "CancelRequested"),
        (RetryState.ValueType(99), "99"),
    ],
)
def test_retry_state_go_string(state: RetryState.ValueType, text: str) -> None:
    """Spelling follows the Go enum String(); unverified against a live Wippy."""
    assert retry_state_string(state) == text


# -- decoding ------------------------------------------------------------------------------------------------


def test_round_trip_through_an_activity_failure() -> None:
    error = error_from_failure(in_activity(wippy_failure(NESTED)))
    assert (error.kind, error.message, error.retryable) == ("Invalid", "order rejected", False)
    assert error.details == {
        "order": {"total": 12.5, "id": "o-1", "lines": [1, 2]},
        "code": 42,
        "_wrapper": "activity",
        "_activity_id": "5",
        "_retry_state": "NonRetryableFailure",
    }
    assert error.stack == ["workflow.lua:12", "workflow.lua:3"]
    assert error.cause == ErrorInfo(
        "NotFound", "customer missing", retryable=True, cause=ErrorInfo("", "sql: no rows")
    )
    assert error.full_message() == "order rejected: customer missing: sql: no rows"


def test_round_trip_keeps_unspecified_retryable_and_no_details() -> None:
    error = error_from_failure(in_activity(wippy_failure(ErrorInfo("Unavailable", "busy"))))
    assert (error.kind, error.retryable, error.cause) == ("Unavailable", None, None)
    assert error.details == {
        "_wrapper": "activity",
        "_activity_id": "5",
        "_retry_state": "NonRetryableFailure",
    }


def test_round_trip_through_a_child_failure() -> None:
    error = error_from_failure(
        in_child(
            wippy_failure(ErrorInfo("NotFound", "no such user", retryable=False)),
            RetryState.RETRY_STATE_TIMEOUT,
        )
    )
    assert (error.kind, error.message, error.retryable) == ("NotFound", "no such user", False)
    assert error.details == {
        "_wrapper": "child_workflow",
        "_workflow_id": "run-1_7",
        "_workflow_type": "app:child",
        "_run_id": "child-run",
        "_retry_state": "Timeout",
    }


def test_unwrapped_wippy_failure_decodes_without_wrapper_details() -> None:
    error = error_from_failure(wippy_failure(ErrorInfo("Conflict", "busy", details={"n": 1})))
    assert error == ErrorInfo("Conflict", "busy", details={"n": 1})


@pytest.mark.parametrize(
    ("failure_type", "kind"),
    [
        ("NotFound", "NotFound"),
        ("ActivityNotRegisteredError", "NotFound"),
        ("ActivityNotRegistered", "NotFound"),
        ("WorkflowNotRegisteredError", "NotFound"),
        ("NamespaceNotFoundError", "NotFound"),
        ("AlreadyExists", "AlreadyExists"),
        ("Invalid", "Invalid"),
        ("PermissionDenied", "PermissionDenied"),
        ("Unavailable", "Unavailable"),
        ("Internal", "Internal"),
        ("Canceled", "Canceled"),
        ("Conflict", "Conflict"),
        ("Timeout", "Timeout"),
        ("RateLimited", "RateLimited"),
        ("ValueError", "Unknown"),
        ("", "Unknown"),
    ],
)
def test_other_application_failures_map_type_to_kind(failure_type: str, kind: str) -> None:
    error = error_from_failure(in_activity(application(failure_type)))
    assert (error.kind, error.message, error.retryable) == (kind, "went wrong", True)
    assert error.cause is None


def test_non_retryable_application_failure() -> None:
    error = error_from_failure(application("Invalid", non_retryable=True))
    assert error == ErrorInfo("Invalid", "went wrong", retryable=False)


@pytest.mark.parametrize(
    "details",
    [
        json_details(b'{"errors":[]}'),
        json_details(b'{"errors":[{"kind":"Invalid"}]}'),
        json_details(b'{"errors":[{"msg":"x","retry":"yes"}]}'),
        json_details(b'{"errors":[{"msg":"x","details":[1]}]}'),
        json_details(b'{"errors":[{"msg":"x","stack":[1]}]}'),
        json_details(b'{"errors":[{"msg":"x","kind":5}]}'),
        json_details(b'{"errors":{"msg":"x"}}'),
        json_details(b'["errors"]'),
        json_details(b"{not json"),
        Payloads(
            payloads=[Payload(metadata={"encoding": b"binary/plain"}, data=b'{"errors":[{"msg":"x"}]}')]
        ),
        Payloads(payloads=[json_details(b'{"errors":[{"msg":"x"}]}').payloads[0]] * 2),
    ],
)
def test_details_that_are_not_a_chain_fall_back_to_the_type(details: Payloads) -> None:
    error = error_from_failure(application("PermissionDenied", "denied", details=details))
    assert error == ErrorInfo("PermissionDenied", "denied", retryable=True)


def test_python_activity_failure_readable_by_wippy() -> None:
    """ApplicationFailure(type=kind, non_retryable, details=[chain]) from a non-Wippy activity."""
    details = json_details(
        json.dumps({"errors": [{"msg": "no stock", "kind": "Conflict", "retry": False}]}).encode()
    )
    error = error_from_failure(
        in_activity(application("Conflict", "no stock", non_retryable=True, details=details))
    )
    assert (error.kind, error.message, error.retryable) == ("Conflict", "no stock", False)


def test_panic_is_internal() -> None:
    error = error_from_failure(in_activity(application("PanicError", "runtime error: index out of range")))
    assert (error.kind, error.message, error.retryable) == (
        "Internal",
        "runtime error: index out of range",
        False,
    )


def test_canceled_activity() -> None:
    error = error_from_failure(in_activity(canceled_failure(), RetryState.RETRY_STATE_CANCEL_REQUESTED))
    assert (error.kind, error.message, error.retryable) == ("Canceled", "operation canceled", False)
    assert error.details == {"_wrapper": "activity", "_activity_id": "5", "_retry_state": "CancelRequested"}


@pytest.mark.parametrize(
    ("timeout_type", "name"),
    [
        (TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE, "start_to_close"),
        (TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START, "schedule_to_start"),
        (TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE, "schedule_to_close"),
        (TimeoutType.TIMEOUT_TYPE_HEARTBEAT, "heartbeat"),
    ],
)
def test_timed_out_activity(timeout_type: TimeoutType.ValueType, name: str) -> None:
    error = error_from_failure(in_activity(timeout_failure(timeout_type), RetryState.RETRY_STATE_TIMEOUT))
    assert (error.kind, error.retryable) == ("Timeout", False)
    assert error.message == timeout_failure(timeout_type).message
    assert error.details == {
        "timeout_type": name,
        "_wrapper": "activity",
        "_activity_id": "5",
        "_retry_state": "Timeout",
    }


def test_timeout_without_type_has_no_timeout_type_detail() -> None:
    error = error_from_failure(timeout_failure(TimeoutType.TIMEOUT_TYPE_UNSPECIFIED, message="timed out"))
    assert error == ErrorInfo("Timeout", "timed out", retryable=False)


def test_terminated_child_is_canceled() -> None:
    error = error_from_failure(in_child(terminated_failure()))
    assert (error.kind, error.message, error.retryable) == ("Canceled", "workflow terminated", False)
    assert error.details is not None and error.details["_wrapper"] == "child_workflow"


def test_other_failures_are_internal_with_their_text() -> None:
    server = Failure(message="namespace rate limit exceeded", server_failure_info=ServerFailureInfo())
    assert error_from_failure(server) == ErrorInfo("Internal", "namespace rate limit exceeded")
    assert error_from_failure(Failure(message="odd")) == ErrorInfo("Internal", "odd")


def test_wrapper_without_cause_is_internal_with_wrapper_details() -> None:
    bare = in_activity(Failure(), RetryState.RETRY_STATE_TIMEOUT)
    bare.ClearField("cause")
    error = error_from_failure(bare)
    assert (error.kind, error.message) == ("Internal", "activity error")
    assert error.details == {"_wrapper": "activity", "_activity_id": "5", "_retry_state": "Timeout"}
