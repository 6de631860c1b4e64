"""Cron schedules for the `cron_schedule` start option (UTC, minute resolution)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from wftest.sim.cron import CronError, parse_cron


def ns(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()) * 10**9


def nxt(expr: str, after: str) -> str:
    moment = datetime.fromtimestamp(parse_cron(expr).next_after(ns(after)) // 10**9, tz=timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("expr", "after", "expected"),
    [
        ("0 */6 * * *", "2026-01-01 00:00:00", "2026-01-01 06:00"),
        ("0 */6 * * *", "2026-01-01 05:59:59", "2026-01-01 06:00"),
        ("*/15 * * * *", "2026-01-01 00:14:30", "2026-01-01 00:15"),
        ("30 9 * * 1-5", "2026-01-02 10:00:00", "2026-01-05 09:30"),  # Friday after 9:30 -> Monday
        ("0 0 1 * *", "2026-01-15 00:00:00", "2026-02-01 00:00"),
        ("0 12 13 * 5", "2026-01-01 00:00:00", "2026-01-02 12:00"),  # day 13 OR Friday
        ("5,10 8 * * *", "2026-01-01 08:07:00", "2026-01-01 08:10"),
        ("@daily", "2026-01-01 00:00:00", "2026-01-02 00:00"),
        ("@hourly", "2026-01-01 00:59:00", "2026-01-01 01:00"),
        ("0 0 29 2 *", "2026-03-01 00:00:00", "2028-02-29 00:00"),
        ("0 0 * * 7", "2026-01-01 00:00:00", "2026-01-04 00:00"),  # 7 is Sunday too
    ],
)
def test_next_matching_minute(expr: str, after: str, expected: str) -> None:
    assert nxt(expr, after) == expected


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("* * *", "needs 5 fields"),
        ("61 * * * *", "minute field '61' is out of range 0-59"),
        ("x * * * *", "bad minute field 'x'"),
        ("*/0 * * * *", "out of range"),
        ("0 0 31 2 *", "never fires"),
    ],
)
def test_bad_expressions(expr: str, message: str) -> None:
    with pytest.raises(CronError, match=message):
        parse_cron(expr).next_after(ns("2026-01-01 00:00:00"))
