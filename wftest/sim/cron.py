"""Cron schedules for `cron_schedule` start options: the standard five fields (minute hour day-of-month
month day-of-week) with `*`, lists, ranges and steps, plus the `@hourly`-style macros, in UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from wftest.errors import UserError

_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))  # weekday 7 = Sunday, as 0
_NAMES = ("minute", "hour", "day of month", "month", "day of week")
_NS = 1_000_000_000


class CronError(UserError, ValueError):
    """A cron expression that cannot be parsed."""


def _field(text: str, index: int) -> frozenset[int]:
    low, high = _BOUNDS[index]
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if base == "*":
                start, stop = low, high
            elif "-" in base:
                first, last = base.split("-", 1)
                start, stop = int(first), int(last)
            else:
                start = stop = int(base)
                if step_text:
                    stop = high
        except ValueError:
            raise CronError(f"bad {_NAMES[index]} field {text!r}") from None
        if step <= 0 or start < low or stop > high or start > stop:
            raise CronError(f"{_NAMES[index]} field {text!r} is out of range {low}-{high}")
        values.update(range(start, stop + 1, step))
    if index == 4 and 7 in values:
        values.add(0)
    return frozenset(values)


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool
    any_weekday: bool

    def _day_matches(self, moment: datetime) -> bool:
        dom = moment.day in self.days
        dow = (moment.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return dom and dow
        return dom or dow  # cron's rule when both are restricted

    def next_after(self, after_ns: int) -> int:
        """The first matching minute strictly after `after_ns` (Unix ns), as Unix ns."""
        moment = datetime.fromtimestamp(after_ns // _NS, tz=timezone.utc).replace(second=0) + timedelta(
            minutes=1
        )
        for _ in range(366 * 5):
            if moment.month in self.months and self._day_matches(moment):
                for hour in sorted(h for h in self.hours if h >= moment.hour):
                    for minute in sorted(self.minutes):
                        if hour == moment.hour and minute < moment.minute:
                            continue
                        found = moment.replace(hour=hour, minute=minute)
                        return int(found.timestamp()) * _NS
            moment = (moment + timedelta(days=1)).replace(hour=0, minute=0)
        raise CronError("the schedule never fires")


def parse_cron(expression: str) -> Cron:
    text = _MACROS.get(expression.strip(), expression.strip())
    fields = text.split()
    if len(fields) != 5:
        raise CronError(f"cron_schedule {expression!r} needs 5 fields (minute hour day month weekday)")
    minutes, hours, days, months, weekdays = (_field(f, i) for i, f in enumerate(fields))
    return Cron(
        minutes, hours, days, months, weekdays, any_day=fields[2] == "*", any_weekday=fields[4] == "*"
    )
