"""Durations in the test API: Wippy/Go strings ("1h30m", "250ms") or `timedelta`, as nanoseconds."""

from __future__ import annotations

from datetime import timedelta

from wftest.lua.gotime import GoTimeError, parse_duration

Duration = str | timedelta


def to_ns(value: Duration, *, what: str = "duration") -> int:
    """Nanoseconds of `value`. Bare numbers are refused: seconds or nanoseconds would be a guess."""
    if isinstance(value, timedelta):
        return (value // timedelta(microseconds=1)) * 1000
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except GoTimeError as exc:
            raise ValueError(f"{what} {value!r} is not a duration like '30s', '1h30m' or '250ms'") from exc
    raise TypeError(
        f"{what} must be a duration string like '30s' or a datetime.timedelta, not {type(value).__name__}"
    )
