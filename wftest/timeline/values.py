"""History values as stable text: virtual offsets, payloads, failures and proto enum names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType, RetryState
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent

from wftest.encoding.jsontext import DecodeError, encode_json_python
from wftest.encoding.payloads import PayloadError, payload_to_python
from wftest.history.failures import error_from_failure, retry_state_string
from wftest.timeline.model import Field

SECOND = 1_000_000_000
_MINUTE = 60 * SECOND
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR


def format_offset(ns: int) -> str:
    """A virtual offset as `+0s`, `+0.25s`, `+5m03s`, `+1h00m00s` or `+2d01h00m00s`."""
    sign = "-" if ns < 0 else "+"
    ns = abs(ns)
    days, rest = divmod(ns, _DAY)
    hours, rest = divmod(rest, _HOUR)
    minutes, rest = divmod(rest, _MINUTE)
    seconds, fraction = divmod(rest, SECOND)
    tail = f".{fraction:09d}".rstrip("0") if fraction else ""
    if ns < _MINUTE:
        return f"{sign}{seconds}{tail}s"
    if ns < _HOUR:
        return f"{sign}{minutes}m{seconds:02d}{tail}s"
    if ns < _DAY:
        return f"{sign}{hours}h{minutes:02d}m{seconds:02d}{tail}s"
    return f"{sign}{days}d{hours:02d}h{minutes:02d}m{seconds:02d}{tail}s"


def payload_text(payload: Payload) -> str:
    """A payload as compact canonical JSON (Wippy's encoder); binary/null is `nil`, binary/plain is
    `bytes:<hex>`, anything undecodable a `<unreadable ...>` note instead of an error."""
    encoding = payload.metadata.get("encoding", b"")
    if encoding == b"binary/null":
        return "nil"
    try:
        value = payload_to_python(payload)
    except (DecodeError, PayloadError):
        name = encoding.decode("utf-8", "replace") or "no encoding"
        return f"<unreadable {name} payload, {len(payload.data)} bytes>"
    if isinstance(value, bytes):
        return "bytes:" + value.hex()
    return encode_json_python(value)


def payloads_text(payloads: Sequence[Payload]) -> str:
    """One payload as its value; several (one per Lua argument) as `(a, b)`."""
    if len(payloads) == 1:
        return payload_text(payloads[0])
    return "(" + ", ".join(payload_text(p) for p in payloads) + ")"


def failure_text(failure: Failure) -> str:
    """A failure as Lua sees the error: `Kind("message: cause message")`."""
    error = error_from_failure(failure)
    return f"{error.kind or 'Unknown'}({encode_json_python(error.full_message())})"


def enum_text(enum: Any, value: int, prefix: str) -> str:
    """A proto enum value in Go's `String()` form: `TIMEOUT_TYPE_START_TO_CLOSE` → `StartToClose`."""
    names: dict[int, str] = {number: name for name, number in enum.items()}
    if value not in names:
        return str(value)
    return "".join(word.capitalize() for word in names[value].removeprefix(prefix).split("_"))


def retry_state_fields(state: RetryState.ValueType) -> list[Field]:
    """The retry state of a failure, when there was a retry policy to speak of."""
    if state in (RetryState.RETRY_STATE_UNSPECIFIED, RetryState.RETRY_STATE_RETRY_POLICY_NOT_SET):
        return []
    return [("retry_state", retry_state_string(state))]


def type_name(event: HistoryEvent) -> str:
    """`EVENT_TYPE_TIMER_FIRED` → `TimerFired`."""
    return enum_text(EventType, event.event_type, "EVENT_TYPE_")


def json_object(payload: Payload) -> dict[str, Any]:
    """A JSON object payload as a dict; anything else (or unreadable) as an empty one."""
    try:
        value = payload_to_python(payload)
    except (DecodeError, PayloadError):
        return {}
    return value if isinstance(value, dict) else {}
