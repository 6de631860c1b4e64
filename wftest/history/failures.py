"""Wippy errors as Temporal failures and back again.

`wippy_failure` is Wippy's failure converter (what a workflow failure or a Lua activity's error looks like
on the wire); `error_from_failure` is Wippy's `FromTemporalError` (what Lua code sees when an activity or
child fails). The wrapper builders produce the Failure form of the Go SDK's ActivityError /
ChildWorkflowExecutionError and of the SDK's timeout, canceled and terminated errors.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from temporalio.api.common.v1 import ActivityType, Payload, Payloads
from temporalio.api.enums.v1 import RetryState, TimeoutType
from temporalio.api.failure.v1 import (
    ActivityFailureInfo,
    ApplicationFailureInfo,
    CanceledFailureInfo,
    ChildWorkflowExecutionFailureInfo,
    Failure,
    TerminatedFailureInfo,
    TimeoutFailureInfo,
)

from wftest.history.builder.fields import ExecutionRef, child_fields

WIPPY_SOURCE = "WippySDK"
GO_SDK_SOURCE = "GoSDK"
SERVER_SOURCE = "Server"
DEFAULT_GO_ERROR_TYPE = "Error"
"""Go type name the SDK records for the Go error under Wippy's ApplicationFailure (go-lua's `*lua.Error`)."""

_NOT_FOUND_TYPES = frozenset(
    {
        "NotFound",
        "ActivityNotRegisteredError",
        "ActivityNotRegistered",
        "WorkflowNotRegisteredError",
        "NamespaceNotFoundError",
    }
)
_SAME_NAME_KINDS = frozenset(
    {
        "AlreadyExists",
        "Invalid",
        "PermissionDenied",
        "Unavailable",
        "Internal",
        "Canceled",
        "Conflict",
        "Timeout",
        "RateLimited",
    }
)
_PANIC_TYPE = "PanicError"


@dataclass(frozen=True)
class ErrorInfo:
    """A Wippy error as Lua sees it: `kind`, `message` (without cause text), `retryable` (None =
    unspecified), `details`, `stack` and the wrapped `cause`."""

    kind: str
    message: str
    retryable: bool | None = None
    details: dict[str, Any] | None = None
    stack: list[str] | None = None
    cause: ErrorInfo | None = None

    def chain(self) -> Iterator[ErrorInfo]:
        """This error, then its causes, outermost first."""
        error: ErrorInfo | None = self
        while error is not None:
            yield error
            error = error.cause

    def full_message(self) -> str:
        """The Go `Error()` string: this message, then `": "` and each cause's message."""
        return ": ".join(error.message for error in self.chain() if error.message)


# -- Wippy error → Failure ------------------------------------------------------------------------------


def wippy_failure(error: ErrorInfo, *, go_type: str = DEFAULT_GO_ERROR_TYPE) -> Failure:
    """Wippy's `ToApplicationError` plus the SDK conversion: an ApplicationFailure of the outermost error
    with the whole chain in one json/plain details payload, and the Go error chain as `cause`."""
    kind = error.kind if error.kind not in ("", "Unknown") else "Internal"
    info = ApplicationFailureInfo(
        type=kind,
        non_retryable=error.retryable is False,
        details=Payloads(payloads=[_json_payload(chain_json(error))]),
    )
    return Failure(
        message=error.message,
        source=WIPPY_SOURCE,
        application_failure_info=info,
        cause=_go_error_failure(error, go_type),
    )


def chain_json(error: ErrorInfo) -> bytes:
    """`{"errors":[...]}` exactly as Go's encoding/json writes Wippy's chain struct: fields in struct
    order msg, kind, retry, details, stack (empty ones omitted), map keys sorted, HTML characters escaped."""
    entries = []
    for link in error.chain():
        fields = [("msg", _go_json(link.message))]
        if link.kind:
            fields.append(("kind", _go_json(link.kind)))
        if link.retryable is not None:
            fields.append(("retry", _go_json(link.retryable)))
        if link.details:
            fields.append(("details", _go_json(link.details)))
        if link.stack:
            fields.append(("stack", _go_json(link.stack)))
        entries.append("{" + ",".join(f'"{name}":{value}' for name, value in fields) + "}")
    return ('{"errors":[' + ",".join(entries) + "]}").encode()


def _go_error_failure(error: ErrorInfo, go_type: str) -> Failure:
    """The SDK's default conversion of a plain Go error: retryable ApplicationFailure named after the Go
    type, message = full `Error()` text, cause = the unwrapped error."""
    return Failure(
        message=error.full_message(),
        source=GO_SDK_SOURCE,
        application_failure_info=ApplicationFailureInfo(type=go_type),
        cause=None if error.cause is None else _go_error_failure(error.cause, go_type),
    )


def _json_payload(data: bytes) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=data)


def _go_json(value: Any) -> str:
    """Go encoding/json for JSON-like Python values (maps with sorted keys, Go float formatting)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, str):
        return _go_string(value)
    if isinstance(value, dict):
        items = sorted(((str(key), item) for key, item in value.items()), key=lambda pair: pair[0])
        return "{" + ",".join(f"{_go_string(key)}:{_go_json(item)}" for key, item in items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_go_json(item) for item in value) + "]"
    raise TypeError(f"cannot encode {type(value).__name__} value {value!r} in error details")


def _go_string(text: str) -> str:
    quoted = json.dumps(text, ensure_ascii=False)
    for char, escape in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        quoted = quoted.replace(char, escape)
    return quoted


def _go_float(value: float) -> str:
    """strconv shortest formatting as encoding/json uses it: plain decimals, exponent form (`1e+21`,
    `1e-7`) below 1e-6 and from 1e21."""
    if not math.isfinite(value):
        raise ValueError(f"cannot encode {value} in error details (Go's encoding/json rejects it)")
    number = Decimal(repr(value)).normalize()
    magnitude = abs(value)
    if magnitude == 0 or 1e-6 <= magnitude < 1e21:
        return format(number, "f")
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    mantissa = str(digits[0]) + ("." + "".join(map(str, digits[1:])) if len(digits) > 1 else "")
    power = exponent + len(digits) - 1
    suffix = f"e-{-power}" if power < 0 else f"e+{power:02d}"
    return ("-" if sign else "") + mantissa + suffix


# -- Go SDK error wrappers as failures ------------------------------------------------------------------


def activity_failure(
    cause: Failure,
    *,
    scheduled_event_id: int,
    started_event_id: int,
    identity: str,
    activity_type: str,
    activity_id: str,
    retry_state: RetryState.ValueType,
) -> Failure:
    """The Go SDK's ActivityError around an activity's failure."""
    info = ActivityFailureInfo(
        scheduled_event_id=scheduled_event_id,
        started_event_id=started_event_id,
        identity=identity,
        activity_type=ActivityType(name=activity_type),
        activity_id=activity_id,
        retry_state=retry_state,
    )
    return Failure(message="activity error", source=GO_SDK_SOURCE, activity_failure_info=info, cause=cause)


def child_failure(
    cause: Failure,
    *,
    namespace: str,
    workflow_id: str,
    run_id: str,
    workflow_type: str,
    initiated_event_id: int,
    started_event_id: int,
    retry_state: RetryState.ValueType,
) -> Failure:
    """The Go SDK's ChildWorkflowExecutionError around a child's failure."""
    info = ChildWorkflowExecutionFailureInfo(
        **child_fields(ExecutionRef(namespace, workflow_id, run_id), workflow_type, initiated_event_id),
        started_event_id=started_event_id,
        retry_state=retry_state,
    )
    return Failure(
        message="child workflow execution error",
        source=GO_SDK_SOURCE,
        child_workflow_execution_failure_info=info,
        cause=cause,
    )


def timeout_failure(
    timeout_type: TimeoutType.ValueType,
    last_heartbeat_details: Sequence[Payload] | None = None,
    *,
    message: str | None = None,
) -> Failure:
    """A timeout as the server records it in ActivityTaskTimedOut; the default message is the server's
    `activity <TimeoutType> timeout`."""
    info = TimeoutFailureInfo(
        timeout_type=timeout_type,
        last_heartbeat_details=None
        if last_heartbeat_details is None
        else Payloads(payloads=last_heartbeat_details),
    )
    text = f"activity {_go_enum_string(TimeoutType, timeout_type, 'TIMEOUT_TYPE_')} timeout"
    return Failure(
        message=text if message is None else message, source=SERVER_SOURCE, timeout_failure_info=info
    )


def canceled_failure(details: Sequence[Payload] = (), *, identity: str = "") -> Failure:
    """The Go SDK's CanceledError (a canceled activity or child)."""
    info = CanceledFailureInfo(details=Payloads(payloads=details) if details else None, identity=identity)
    return Failure(message="canceled", source=GO_SDK_SOURCE, canceled_failure_info=info)


def terminated_failure(*, identity: str = "") -> Failure:
    """The Go SDK's TerminatedError (a terminated child)."""
    return Failure(
        message="terminated",
        source=GO_SDK_SOURCE,
        terminated_failure_info=TerminatedFailureInfo(identity=identity),
    )


# -- Failure → Wippy error ------------------------------------------------------------------------------


def error_from_failure(failure: Failure) -> ErrorInfo:
    """Wippy's `FromTemporalError`: unwrap an activity/child wrapper into `_wrapper` details, then rebuild
    the error from the chain JSON or map the failure type to a kind.

    `_retry_state` uses the Go `String()` of the enum, e.g. "MaximumAttemptsReached" (spelling
    unverified). Decoded detail values keep their JSON types (integers stay integers).
    """
    wrapper: dict[str, Any] = {}
    if failure.HasField("activity_failure_info"):
        activity = failure.activity_failure_info
        wrapper = {
            "_wrapper": "activity",
            "_activity_id": activity.activity_id,
            "_retry_state": retry_state_string(activity.retry_state),
        }
    elif failure.HasField("child_workflow_execution_failure_info"):
        child = failure.child_workflow_execution_failure_info
        wrapper = {
            "_wrapper": "child_workflow",
            "_workflow_id": child.workflow_execution.workflow_id,
            "_workflow_type": child.workflow_type.name,
            "_run_id": child.workflow_execution.run_id,
            "_retry_state": retry_state_string(child.retry_state),
        }
    if wrapper and failure.HasField("cause"):
        failure = failure.cause
    error = _error_from_unwrapped(failure)
    if not wrapper:
        return error
    return ErrorInfo(
        kind=error.kind,
        message=error.message,
        retryable=error.retryable,
        details={**(error.details or {}), **wrapper},
        stack=error.stack,
        cause=error.cause,
    )


def retry_state_string(state: RetryState.ValueType) -> str:
    """Go `String()` of a RetryState, e.g. `RETRY_STATE_NON_RETRYABLE_FAILURE` → "NonRetryableFailure"."""
    return _go_enum_string(RetryState, state, "RETRY_STATE_")


def _error_from_unwrapped(failure: Failure) -> ErrorInfo:
    info = failure.WhichOneof("failure_info")
    if info == "application_failure_info":
        application = failure.application_failure_info
        if application.type == _PANIC_TYPE:
            return ErrorInfo("Internal", failure.message, retryable=False)
        rebuilt = _rebuild_chain(application.details)
        if rebuilt is not None:
            return rebuilt
        return ErrorInfo(
            _kind_of_type(application.type), failure.message, retryable=not application.non_retryable
        )
    if info == "canceled_failure_info":
        return ErrorInfo("Canceled", "operation canceled", retryable=False)
    if info == "timeout_failure_info":
        timeout_type = failure.timeout_failure_info.timeout_type
        details = (
            {"timeout_type": _go_enum_name(TimeoutType, timeout_type, "TIMEOUT_TYPE_").lower()}
            if timeout_type != TimeoutType.TIMEOUT_TYPE_UNSPECIFIED
            else None
        )
        return ErrorInfo("Timeout", failure.message, retryable=False, details=details)
    if info == "terminated_failure_info":
        return ErrorInfo("Canceled", "workflow terminated", retryable=False)
    return ErrorInfo("Internal", failure.message)


def _kind_of_type(failure_type: str) -> str:
    if failure_type in _NOT_FOUND_TYPES:
        return "NotFound"
    if failure_type in _SAME_NAME_KINDS:
        return failure_type
    return "Unknown"


def _rebuild_chain(details: Payloads) -> ErrorInfo | None:
    """The error chain from a Wippy details payload, or None when the details are something else."""
    if len(details.payloads) != 1 or details.payloads[0].metadata.get("encoding") != b"json/plain":
        return None
    try:
        document = json.loads(details.payloads[0].data)
    except ValueError:
        return None
    entries = document.get("errors") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not entries or not all(_is_chain_entry(entry) for entry in entries):
        return None
    error: ErrorInfo | None = None
    for entry in reversed(entries):
        error = ErrorInfo(
            kind=entry.get("kind", ""),
            message=entry["msg"],
            retryable=entry.get("retry"),
            details=entry.get("details") or None,
            stack=entry.get("stack") or None,
            cause=error,
        )
    return error


def _is_chain_entry(entry: object) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("msg"), str)
        and isinstance(entry.get("kind", ""), str)
        and isinstance(entry.get("retry", False), bool)
        and isinstance(entry.get("details", {}), dict)
        and isinstance(entry.get("stack", []), list)
        and all(isinstance(line, str) for line in entry.get("stack", []))
    )


def _go_enum_name(enum: Any, value: int, prefix: str) -> str:
    names: dict[int, str] = {number: name for name, number in enum.items()}
    return names[value].removeprefix(prefix) if value in names else str(value)


def _go_enum_string(enum: Any, value: int, prefix: str) -> str:
    """Temporal's Go enums print as PascalCase without the prefix; unknown numbers print as digits."""
    name = _go_enum_name(enum, value, prefix)
    return name if name.isdigit() else "".join(word.capitalize() for word in name.split("_"))
