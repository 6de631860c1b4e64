"""Scalars, enums, times and durations: JSON values checked and converted the way protobuf reads them."""

from __future__ import annotations

import base64
import re
import struct
from typing import Any

from google.protobuf.descriptor import EnumDescriptor, FieldDescriptor
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from wftest.history.fastread.base import _INT_RANGES, Convert, _Bad


class _Enum:
    """Names (full, and short legacy ones once seen) and numbers of one enum."""

    def __init__(self, enum: EnumDescriptor) -> None:
        self.names: dict[str, int] = {v.name: v.number for v in enum.values}
        self.numbers = frozenset(v.number for v in enum.values)
        self.prefix = enum.values[0].name.removesuffix("UNSPECIFIED")

    def value(self, raw: Any) -> int:
        number = self.names.get(raw) if type(raw) is str else None
        if number is not None:
            return number
        if type(raw) is str:
            # The legacy export's short name, e.g. `WorkflowExecutionStarted` for EVENT_TYPE_...
            snake = "".join("_" + c if c.isupper() and i else c for i, c in enumerate(raw)).upper()
            number = self.names.get(self.prefix + snake)
            if number is None:
                raise _Bad
            self.names[raw] = number
            return number
        if type(raw) is int and raw in self.numbers:
            return raw
        raise _Bad


_ENUMS: dict[str, _Enum] = {}


def _enum(enum: EnumDescriptor) -> _Enum:
    found = _ENUMS.get(enum.full_name)
    if found is None:
        found = _ENUMS[enum.full_name] = _Enum(enum)
    return found


def _int_converter(low: int, high: int) -> Convert:
    def convert(value: Any) -> int:
        kind = type(value)
        if kind is str and " " not in value:
            try:
                number = int(value)
            except ValueError:
                raise _Bad from None
        elif kind is int:
            number = value
        elif kind is float and value.is_integer():
            number = int(value)
        else:
            raise _Bad
        if number < low or number > high:
            raise _Bad
        return number

    return convert


def _str(value: Any) -> str:
    if type(value) is not str:
        raise _Bad
    return value


def _bool(value: Any) -> bool:
    if type(value) is not bool:
        raise _Bad
    return value


def _double(value: Any) -> float:
    if type(value) is float or type(value) is int:
        return float(value)
    raise _Bad


def _float32(value: Any) -> float:
    number = _double(value)
    try:
        rounded: float = struct.unpack("<f", struct.pack("<f", number))[0]
    except OverflowError:
        raise _Bad from None
    return rounded


_SHORT_BYTES: dict[str, bytes] = {}


def _bytes(value: Any) -> bytes:
    """protobuf's own reading of a bytes field: URL-safe or standard base64, padding optional."""
    if type(value) is not str:
        raise _Bad
    found = _SHORT_BYTES.get(value)
    if found is not None:
        return found
    encoded = value.encode()
    try:
        decoded = base64.urlsafe_b64decode(encoded + b"=" * (4 - len(encoded) % 4))
    except ValueError:
        raise _Bad from None
    if len(value) <= 24 and len(_SHORT_BYTES) < 1024:
        _SHORT_BYTES[value] = decoded  # metadata values ("json/plain", ...) repeat in every payload
    return decoded


_TIME_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?Z\Z"
)
_DAYS_BEFORE_MONTH = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)
_DAYS: dict[str, int] = {}  # "YYYY-MM-DD" → days since 1970-01-01


def _timestamp(value: Any) -> Timestamp:
    seconds, nanos = _time_parts(value)
    return Timestamp(seconds=seconds, nanos=nanos)


def _time_parts(value: Any) -> tuple[int, int]:
    """RFC 3339 in UTC (what Temporal writes) read directly; other spellings through protobuf."""
    if type(value) is not str:
        raise _Bad
    match = _TIME_RE.match(value)
    if match is None:
        stamp = Timestamp()
        try:
            stamp.FromJsonString(value)
        except ValueError:
            raise _Bad from None
        return stamp.seconds, stamp.nanos
    date = value[:10]
    days = _DAYS.get(date)
    if days is None:
        days = _days(int(value[:4]), int(value[5:7]), int(value[8:10]))
        if len(_DAYS) < 4096:
            _DAYS[date] = days
    hour, minute, second, fraction = match.group(4, 5, 6, 7)
    if hour > "23" or minute > "59" or second > "59":
        raise _Bad
    seconds = days * 86400 + int(hour) * 3600 + int(minute) * 60 + int(second)
    return seconds, int(fraction.ljust(9, "0")) if fraction else 0


def _days(year: int, month: int, day: int) -> int:
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    month_days = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    if year < 1 or not 1 <= month <= 12 or not 1 <= day <= month_days[month - 1]:
        raise _Bad
    years = year - 1
    days = years * 365 + years // 4 - years // 100 + years // 400 + _DAYS_BEFORE_MONTH[month - 1] + day - 1
    if month > 2 and leap:
        days += 1
    return days - 719162


_DURATION_RE = re.compile(r"([0-9]+)(?:\.([0-9]{1,9}))?s\Z")


def _duration(value: Any) -> Duration:
    if type(value) is not str:
        raise _Bad
    match = _DURATION_RE.match(value)
    if match is None:
        duration = Duration()
        try:
            duration.FromJsonString(value)
        except ValueError:
            raise _Bad from None
        return duration
    seconds, fraction = match.groups()
    if int(seconds) > 315_576_000_000:
        raise _Bad
    return Duration(seconds=int(seconds), nanos=int(fraction.ljust(9, "0")) if fraction else 0)


_GOOD_DATES: set[str] = set()


# The common spellings, ranges included (dates are checked once each): one pattern match per value.
_PLAIN_TIME = re.compile(
    r"[0-9]{4}-[0-9][0-9]-[0-9][0-9]T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?Z\Z"
)
_PLAIN_DURATION = re.compile(r"[0-9]{1,11}(\.[0-9]{1,9})?s\Z")


# Time and duration strings already checked: histories repeat them (a virtual clock's times, the same
# timeouts in every command), and a set lookup is much quicker than a pattern match.
_GOOD_TIMES: set[str] = set()
_GOOD_DURATIONS: set[str] = set()


def _known(good: set[str], value: str) -> None:
    """Remember a checked value. A full set starts afresh: distinct times still repeat nearby."""
    if len(good) >= 4096:
        good.clear()
    good.add(value)


def _check_time(value: Any) -> None:
    """`_time_parts` without the arithmetic."""
    if type(value) is not str:
        raise _Bad
    if _PLAIN_TIME.match(value) is None or value[:10] not in _GOOD_DATES:
        _time_parts(value)
        if _TIME_RE.match(value) is not None and len(_GOOD_DATES) < 4096:
            _GOOD_DATES.add(value[:10])
    _known(_GOOD_TIMES, value)


def _check_duration(value: Any) -> None:
    if type(value) is not str:
        raise _Bad
    if _PLAIN_DURATION.match(value) is None:
        _duration(value)
    _known(_GOOD_DURATIONS, value)


# Event ids, and the references to them.
_ID = _int_converter(*_INT_RANGES[FieldDescriptor.TYPE_INT64])
