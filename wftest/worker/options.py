"""Activity call options: `activity.*` and legacy `temporal.activity.*` keys, durations as Go
strings or milliseconds, retry policies with camelCase and case-insensitive aliases."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wftest.errors import UserError
from wftest.lua.gotime import GoTimeError, parse_duration
from wftest.worker.commands import DEFAULT_START_TO_CLOSE_NS, ActivityOptions, RetryPolicy

_PREFIXES = ("activity.", "temporal.activity.")
_MS = 1_000_000


class OptionError(UserError, ValueError):
    """Invalid options: the call returns `nil, err(Invalid)` without any command."""


def duration_option(name: str, value: Any) -> int:
    """A duration option in nanoseconds: Go duration string, or a number of milliseconds (rounded)."""
    if isinstance(value, bool):
        raise OptionError(f"option {name}: expected a duration, got a boolean")
    if isinstance(value, (int, float)):
        return int(round(value)) * _MS
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except GoTimeError as exc:
            raise OptionError(f"option {name}: {exc}") from None
    raise OptionError(
        f"option {name}: expected a duration string or milliseconds, got {type(value).__name__}"
    )


def _norm(key: str) -> str:
    return key.replace("_", "").lower()


_RETRY_KEYS = {
    "initialinterval": "initial_interval",
    "backoffcoefficient": "backoff_coefficient",
    "maximuminterval": "maximum_interval",
    "maxinterval": "maximum_interval",
    "maximumattempts": "maximum_attempts",
    "maxattempts": "maximum_attempts",
    "nonretryableerrortypes": "non_retryable_error_types",
}


def retry_policy(value: Any) -> RetryPolicy:
    if not isinstance(value, Mapping):
        raise OptionError("option retry_policy: expected a table")
    fields: dict[str, Any] = {}
    for raw_key, raw in value.items():
        key = _RETRY_KEYS.get(_norm(str(raw_key)))
        if key is None:
            raise OptionError(f"option retry_policy: unknown key {raw_key!r}")
        fields[key] = raw
    initial = duration_option("retry_policy.initial_interval", fields.get("initial_interval", 0))
    maximum = duration_option("retry_policy.maximum_interval", fields.get("maximum_interval", 0))
    coefficient = fields.get("backoff_coefficient", 0.0)
    attempts = fields.get("maximum_attempts", 0)
    if isinstance(coefficient, bool) or not isinstance(coefficient, (int, float)):
        raise OptionError("option retry_policy.backoff_coefficient: expected a number")
    if isinstance(attempts, bool) or not isinstance(attempts, (int, float)):
        raise OptionError("option retry_policy.maximum_attempts: expected a number")
    types = fields.get("non_retryable_error_types", [])
    if isinstance(types, str):
        types = [types]
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise OptionError("option retry_policy.non_retryable_error_types: expected a list of strings")
    return RetryPolicy(
        initial_interval_ns=max(initial, 0),
        backoff_coefficient=float(coefficient),
        maximum_interval_ns=max(maximum, 0),
        maximum_attempts=int(attempts),
        non_retryable_error_types=tuple(types),
    )


_MERGED: dict[tuple[Any, ...], tuple[ActivityOptions, str | None]] = {}


def activity_options(
    task_queue: str, *layers: Mapping[str, Any] | None
) -> tuple[ActivityOptions, str | None]:
    """Merge option layers (later wins) into ActivityOptions; also returns an explicit `activity.id`.
    Layers of plain values are merged once (a workflow calls the same activity with the same options
    over and over); the result is immutable."""
    key: tuple[Any, ...] | None = (task_queue,) + tuple(
        tuple((k, type(v), v) for k, v in layer.items()) if layer else () for layer in layers
    )
    try:
        found = _MERGED.get(key)  # type: ignore[arg-type]
    except TypeError:  # a value is a table: merged every time
        found = key = None
    if found is not None:
        return found
    result = _activity_options(task_queue, layers)
    if key is not None and len(_MERGED) < 1024:
        _MERGED[key] = result
    return result


def _activity_options(
    task_queue: str, layers: tuple[Mapping[str, Any] | None, ...]
) -> tuple[ActivityOptions, str | None]:
    merged: dict[str, Any] = {}
    for layer in layers:
        for key, value in (layer or {}).items():
            for prefix in _PREFIXES:
                if isinstance(key, str) and key.startswith(prefix):
                    merged[key[len(prefix) :]] = value
    opts: dict[str, Any] = {"task_queue": task_queue}
    activity_id: str | None = None
    for key in sorted(merged):
        value = merged[key]
        if key == "id":
            activity_id = str(value)
        elif key == "task_queue":
            if not isinstance(value, str) or not value:
                raise OptionError("option task_queue: expected a non-empty string")
            opts["task_queue"] = value
        elif key in (
            "schedule_to_close_timeout",
            "schedule_to_start_timeout",
            "start_to_close_timeout",
            "heartbeat_timeout",
        ):
            field = {
                "schedule_to_close_timeout": "schedule_to_close_ns",
                "schedule_to_start_timeout": "schedule_to_start_ns",
                "start_to_close_timeout": "start_to_close_ns",
                "heartbeat_timeout": "heartbeat_ns",
            }[key]
            opts[field] = duration_option(key, value)
        elif key == "retry_policy":
            opts["retry_policy"] = retry_policy(value)
        elif key in ("wait_for_cancellation", "disable_eager_execution"):
            if not isinstance(value, bool):
                raise OptionError(f"option {key}: expected a boolean")
            opts[key] = value
        elif key == "summary":
            opts["summary"] = str(value)
        elif key in ("versioning_intent", "priority"):
            continue  # accepted; no effect in the simulator
        else:
            raise OptionError(f"unknown activity option '{key}'")
    if opts.get("start_to_close_ns", 0) <= 0 and opts.get("schedule_to_close_ns", 0) <= 0:
        opts["start_to_close_ns"] = DEFAULT_START_TO_CLOSE_NS
    return ActivityOptions(**opts), activity_id


_CHILD_PREFIXES = ("workflow.", "temporal.workflow.")
_POLICIES = {"terminate", "abandon", "request_cancel"}


def child_options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """Spawner `with_options` for a child workflow as StartChildWorkflowExecution fields.
    Options the simulator has no use for (memo, search attributes, retry policy, ...) are accepted."""
    out: dict[str, Any] = {}
    for raw_key, value in sorted((options or {}).items()):
        key = next((raw_key[len(p) :] for p in _CHILD_PREFIXES if str(raw_key).startswith(p)), None)
        if key is None:
            continue
        if key == "id":
            if not isinstance(value, str) or not value:
                raise OptionError("option workflow.id: expected a non-empty string")
            out["workflow_id"] = value
        elif key in ("execution_timeout", "run_timeout", "task_timeout"):
            out[f"{key}_ns"] = duration_option(key, value)
        elif key == "parent_close_policy":
            policy = str(value).lower().replace("-", "_")
            if policy not in _POLICIES:
                raise OptionError(f"option parent_close_policy: unknown policy {value!r}")
            out["parent_close_policy"] = policy
    return out
