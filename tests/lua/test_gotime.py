"""Go ``time`` semantics behind the Lua ``time`` module.

Expected values are Go's own: most tables mirror cases from Go's time package tests and examples
(time_test.go, format_test.go, example_test.go). Where those tests run with Local set to
America/Los_Angeles, the same zone is passed explicitly here, since the simulator's Local is UTC.
"""

from __future__ import annotations

import pytest

from wftest.lua import gotime as gt
from wftest.lua.gotime import (
    HOUR,
    LAYOUTS,
    LOCAL,
    LUA_LAYOUTS,
    MAX_DURATION,
    MICROSECOND,
    MILLISECOND,
    MIN_DURATION,
    MINUTE,
    SECOND,
    UTC,
    ZERO_TIME,
    GoTimeError,
    Location,
    date,
    fixed_zone,
    format_duration,
    load_location,
    parse,
    parse_duration,
    unix,
)


def _zone(name: str) -> Location:
    try:
        return load_location(name)
    except GoTimeError:
        pytest.skip(f"tz database has no {name}")


@pytest.fixture(scope="module")
def la() -> Location:
    return _zone("America/Los_Angeles")


@pytest.fixture(scope="module")
def ny() -> Location:
    return _zone("America/New_York")


# ---------------------------------------------------------------------------------------------------------
# Constants


def test_duration_units() -> None:
    assert (gt.NANOSECOND, MICROSECOND, MILLISECOND, SECOND) == (1, 10**3, 10**6, 10**9)
    assert (MINUTE, HOUR) == (60 * 10**9, 3600 * 10**9)
    assert (MIN_DURATION, MAX_DURATION) == (-(2**63), 2**63 - 1)


def test_layout_constants_match_go_and_lua_names() -> None:
    assert LAYOUTS["RFC3339"] == "2006-01-02T15:04:05Z07:00"
    assert LAYOUTS["RFC3339Nano"] == "2006-01-02T15:04:05.999999999Z07:00"
    assert LAYOUTS["UnixDate"] == "Mon Jan _2 15:04:05 MST 2006"
    assert LAYOUTS["Kitchen"] == "3:04PM"
    assert LUA_LAYOUTS["RFC3339NANO"] == LAYOUTS["RFC3339Nano"]
    assert LUA_LAYOUTS["DATE_TIME"] == "2006-01-02 15:04:05"
    assert LUA_LAYOUTS["DATE_ONLY"] == "2006-01-02"
    assert LUA_LAYOUTS["TIME_ONLY"] == "15:04:05"
    assert LUA_LAYOUTS["STAMP_NANO"] == "Jan _2 15:04:05.000000000"
    assert set(LUA_LAYOUTS.values()) <= set(LAYOUTS.values())


# ---------------------------------------------------------------------------------------------------------
# ParseDuration

PARSE_DURATION_OK = [
    ("0", 0),
    ("5s", 5 * SECOND),
    ("30s", 30 * SECOND),
    ("1478s", 1478 * SECOND),
    ("-5s", -5 * SECOND),
    ("+5s", 5 * SECOND),
    ("-0", 0),
    ("+0", 0),
    ("5.0s", 5 * SECOND),
    ("5.6s", 5 * SECOND + 600 * MILLISECOND),
    ("5.s", 5 * SECOND),
    (".5s", 500 * MILLISECOND),
    ("1.0s", SECOND),
    ("1.00s", SECOND),
    ("1.004s", SECOND + 4 * MILLISECOND),
    ("1.0040s", SECOND + 4 * MILLISECOND),
    ("100.00100s", 100 * SECOND + MILLISECOND),
    ("10ns", 10),
    ("11us", 11 * MICROSECOND),
    ("12\u00b5s", 12 * MICROSECOND),
    ("12\u03bcs", 12 * MICROSECOND),
    ("13ms", 13 * MILLISECOND),
    ("14s", 14 * SECOND),
    ("15m", 15 * MINUTE),
    ("16h", 16 * HOUR),
    ("3h30m", 3 * HOUR + 30 * MINUTE),
    ("10.5s4m", 4 * MINUTE + 10 * SECOND + 500 * MILLISECOND),
    ("-2m3.4s", -(2 * MINUTE + 3 * SECOND + 400 * MILLISECOND)),
    ("1h2m3s4ms5us6ns", HOUR + 2 * MINUTE + 3 * SECOND + 4 * MILLISECOND + 5 * MICROSECOND + 6),
    ("39h9m14.425s", 39 * HOUR + 9 * MINUTE + 14 * SECOND + 425 * MILLISECOND),
    ("52763797000ns", 52763797000),
    ("0.3333333333333333333h", 20 * MINUTE),
    ("9007199254740993ns", 2**53 + 1),
    ("9223372036854775807ns", MAX_DURATION),
    ("9223372036854775.807us", MAX_DURATION),
    ("9223372036s854ms775us807ns", MAX_DURATION),
    ("-9223372036854775808ns", MIN_DURATION),
    ("-9223372036854775.808us", MIN_DURATION),
    ("-9223372036s854ms775us808ns", MIN_DURATION),
    ("-2562047h47m16.854775808s", MIN_DURATION),
    ("0.100000000000000000000h", 6 * MINUTE),
    ("0.830103483285477580700h", 49 * MINUTE + 48 * SECOND + 372539827),
    ("1h30m45s500ms", 5445 * SECOND + 500 * MILLISECOND),
    # Go sums in a uint64, so two halves of 2**64 wrap to zero.
    ("9223372036854775808ns9223372036854775808ns", 0),
]


@pytest.mark.parametrize(("text", "want"), PARSE_DURATION_OK)
def test_parse_duration(text: str, want: int) -> None:
    assert parse_duration(text) == want


PARSE_DURATION_ERRORS = [
    ("", 'time: invalid duration ""'),
    ("3", 'time: missing unit in duration "3"'),
    ("-", 'time: invalid duration "-"'),
    ("s", 'time: invalid duration "s"'),
    (".", 'time: invalid duration "."'),
    ("-.", 'time: invalid duration "-."'),
    (".s", 'time: invalid duration ".s"'),
    ("+.s", 'time: invalid duration "+.s"'),
    ("1d", 'time: unknown unit "d" in duration "1d"'),
    ("1x", 'time: unknown unit "x" in duration "1x"'),
    ("1.5.5s", 'time: missing unit in duration "1.5.5s"'),
    ("1\u00b5", 'time: unknown unit "\\xc2\\xb5" in duration "1\\xc2\\xb5"'),
    ("1 s", 'time: unknown unit " s" in duration "1 s"'),
    ('1"\\', 'time: unknown unit "\\"\\\\" in duration "1\\"\\\\"'),
    ("\udc85\udc85", 'time: invalid duration "\\x85\\x85"'),
    ("hello \udcffff world", 'time: invalid duration "hello \\xffff world"'),
    ("\ufffd", 'time: invalid duration "\\xef\\xbf\\xbd"'),
    ("\ufffd hello \ufffd world", 'time: invalid duration "\\xef\\xbf\\xbd hello \\xef\\xbf\\xbd world"'),
    ("1\ts", 'time: unknown unit "\\x09s" in duration "1\\x09s"'),
    ("9223372036854775810ns", 'time: invalid duration "9223372036854775810ns"'),
    ("9223372036854775808ns", 'time: invalid duration "9223372036854775808ns"'),
    ("-9223372036854775809ns", 'time: invalid duration "-9223372036854775809ns"'),
    ("9223372036854776us", 'time: invalid duration "9223372036854776us"'),
    ("3000000h", 'time: invalid duration "3000000h"'),
    ("9223372036854775.808us", 'time: invalid duration "9223372036854775.808us"'),
    ("9223372036854ms775us808ns", 'time: invalid duration "9223372036854ms775us808ns"'),
    ("1d2h", 'time: unknown unit "d" in duration "1d2h"'),
]


@pytest.mark.parametrize(("text", "message"), PARSE_DURATION_ERRORS)
def test_parse_duration_errors(text: str, message: str) -> None:
    with pytest.raises(GoTimeError) as info:
        parse_duration(text)
    assert str(info.value) == message


def test_go_time_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_duration("nope")


# ---------------------------------------------------------------------------------------------------------
# Duration.String and the float/int accessors

DURATION_STRINGS = [
    (0, "0s"),
    (1, "1ns"),
    (999, "999ns"),
    (1100, "1.1\u00b5s"),
    (MICROSECOND, "1\u00b5s"),
    (2200 * MICROSECOND, "2.2ms"),
    (500 * MILLISECOND, "500ms"),
    (MILLISECOND + 1, "1.000001ms"),
    (3300 * MILLISECOND, "3.3s"),
    (1500 * MILLISECOND, "1.5s"),
    (4 * MINUTE + 5 * SECOND, "4m5s"),
    (4 * MINUTE + 5001 * MILLISECOND, "4m5.001s"),
    (5 * HOUR + 6 * MINUTE + 7001 * MILLISECOND, "5h6m7.001s"),
    (8 * MINUTE + 1, "8m0.000000001s"),
    (2 * HOUR + 1, "2h0m0.000000001s"),
    (HOUR + 30 * MINUTE, "1h30m0s"),
    (10 * HOUR, "10h0m0s"),
    (-(2 * MINUTE + 3500 * MILLISECOND), "-2m3.5s"),
    (-1, "-1ns"),
    (MAX_DURATION, "2562047h47m16.854775807s"),
    (MIN_DURATION, "-2562047h47m16.854775808s"),
]


@pytest.mark.parametrize(("ns", "text"), DURATION_STRINGS)
def test_format_duration(ns: int, text: str) -> None:
    assert format_duration(ns) == text


@pytest.mark.parametrize("ns", [MAX_DURATION + 1, MIN_DURATION - 1])
def test_format_duration_rejects_non_int64(ns: int) -> None:
    with pytest.raises(GoTimeError, match="out of int64 range"):
        format_duration(ns)


def test_integral_accessors_truncate_toward_zero() -> None:
    d = parse_duration("1h30m45s500ms")
    assert gt.duration_nanoseconds(d) == 5445500000000
    assert gt.duration_microseconds(d) == 5445500000
    assert gt.duration_milliseconds(d) == 5445500
    assert gt.duration_milliseconds(-1_999_999) == -1
    assert gt.duration_microseconds(-1999) == -1


FLOAT_ACCESSORS = [
    (gt.duration_seconds, 300000000, 0.3),
    (gt.duration_seconds, 5445500 * MILLISECOND, 5445.5),
    # whole + fraction/1e9 differs from ns/1e9 here (the latter would give 3708801759.493319)
    (gt.duration_seconds, 3708801759493319391, 3708801759.4933195),
    (gt.duration_minutes, -60000000000, -1.0),
    (gt.duration_minutes, -1, -1 / 60e9),
    (gt.duration_minutes, 1, 1 / 60e9),
    (gt.duration_minutes, 3000, 5e-8),
    (gt.duration_minutes, 5445500 * MILLISECOND, 90.75833333333334),
    (gt.duration_hours, -3600000000000, -1.0),
    (gt.duration_hours, -1, -1 / 3600e9),
    (gt.duration_hours, 1, 1 / 3600e9),
    (gt.duration_hours, 36, 1e-11),
    (gt.duration_hours, 3697772562109356286, 1027159.0450303768),
]


@pytest.mark.parametrize(("fn", "ns", "want"), FLOAT_ACCESSORS)
def test_float_accessors_use_gos_formula(fn: object, ns: int, want: float) -> None:
    assert callable(fn)
    assert fn(ns) == want


# ---------------------------------------------------------------------------------------------------------
# Locations


def test_builtin_locations() -> None:
    assert load_location("") is UTC
    assert load_location("UTC") is UTC
    assert load_location("Local") is LOCAL
    assert UTC.string() == "UTC"
    assert LOCAL.string() == "Local"
    assert LOCAL.lookup(1_700_000_000) == ("UTC", 0)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../etc/passwd", "time: invalid location name"),
        ("/etc/localtime", "time: invalid location name"),
        ("\\zone", "time: invalid location name"),
        ("Unknown/Zone", "unknown time zone Unknown/Zone"),
        ("America", "unknown time zone America"),
        ("utc", "unknown time zone utc"),
    ],
)
def test_load_location_errors(name: str, message: str) -> None:
    with pytest.raises(GoTimeError) as info:
        load_location(name)
    assert str(info.value) == message


def test_iana_location_keeps_requested_name(ny: Location) -> None:
    assert ny.string() == "America/New_York"
    table = ny.zone_table()
    assert ("EST", -18000) in table and ("EDT", -14400) in table and ("LMT", -17762) in table


def test_fixed_zone() -> None:
    ist = fixed_zone("IST", 5 * 3600 + 30 * 60)
    assert ist.string() == "IST"
    assert ist.lookup(0) == ("IST", 19800)
    assert date(2024, 1, 15, 12, 0, 0, 0, ist).string() == "2024-01-15 12:00:00 +0530 IST"
    assert date(2024, 1, 15, 12, 0, 0, 0, fixed_zone("", -8 * 3600)).string() == \
        "2024-01-15 12:00:00 -0800 -0800"


# ---------------------------------------------------------------------------------------------------------
# Constructing times


def test_zero_time() -> None:
    assert ZERO_TIME.is_zero()
    assert ZERO_TIME.string() == "0001-01-01 00:00:00 +0000 UTC"
    assert ZERO_TIME.unix() == -62135596800
    assert ZERO_TIME.unix_nano() == -6795364578871345152  # Go's int64 wrap-around
    assert ZERO_TIME.weekday() == 1
    assert ZERO_TIME.in_location(fixed_zone("X", 3600)).is_zero()
    assert not ZERO_TIME.add(1).is_zero()


def test_unix_is_in_local() -> None:
    t = unix(1703862245, 0)
    assert t.location() is LOCAL
    assert t.location().string() == "Local"
    assert t.string() == "2023-12-29 15:04:05 +0000 UTC"
    assert t.utc().format_rfc3339() == "2023-12-29T15:04:05Z"
    assert t.utc().location() is UTC
    assert unix(1703862245, 500000000).unix_nano() == 1703862245500000000


@pytest.mark.parametrize(
    ("sec", "nsec", "text"),
    [
        (0, -1, "1969-12-31 23:59:59.999999999 +0000 UTC"),
        (1, 1_500_000_000, "1970-01-01 00:00:02.5 +0000 UTC"),
        (0, 0, "1970-01-01 00:00:00 +0000 UTC"),
        (-1, 0, "1969-12-31 23:59:59 +0000 UTC"),
    ],
)
def test_unix_normalises_nanoseconds(sec: int, nsec: int, text: str) -> None:
    assert unix(sec, nsec).string() == text


# Go's dateTests (Local = America/Los_Angeles): many spellings of one instant.
DATE_TESTS = [
    (2011, 11, 6, 1, 0, 0, 0, 1320566400),  # 1:00:00 PDT (ambiguous hour: first one)
    (2011, 11, 6, 1, 59, 59, 0, 1320569999),
    (2011, 11, 6, 2, 0, 0, 0, 1320573600),  # 2:00:00 PST
    (2011, 3, 13, 1, 0, 0, 0, 1300006800),
    (2011, 3, 13, 1, 59, 59, 0, 1300010399),
    (2011, 3, 13, 3, 0, 0, 0, 1300010400),
    (2011, 3, 13, 2, 30, 0, 0, 1300008600),  # inside the gap: 2:30 PDT == 1:30 PST
    (2012, 12, 24, 0, 0, 0, 0, 1356336000),
    (2011, 11, 18, 7, 56, 35, 0, 1321631795),
    (2011, 11, 19, -17, 56, 35, 0, 1321631795),
    (2011, 11, 17, 31, 56, 35, 0, 1321631795),
    (2011, 11, 18, 6, 116, 35, 0, 1321631795),
    (2011, 10, 49, 7, 56, 35, 0, 1321631795),
    (2011, 11, 18, 7, 55, 95, 0, 1321631795),
    (2011, 11, 18, 7, 56, 34, 10**9, 1321631795),
    (2011, 12, -12, 7, 56, 35, 0, 1321631795),
    (2012, 1, -43, 7, 56, 35, 0, 1321631795),
    (2012, 1 - 2, 18, 7, 56, 35, 0, 1321631795),
    (2010, 12 + 11, 18, 7, 56, 35, 0, 1321631795),
    (1970, 1, 15297, 7, 56, 35, 0, 1321631795),
    (1970, 1, -25508, 0, 0, 0, 0, -2203948800),
]


@pytest.mark.parametrize(("y", "mo", "d", "h", "mi", "s", "ns", "want"), DATE_TESTS)
def test_date_normalisation_and_dst(la: Location, y: int, mo: int, d: int, h: int, mi: int, s: int,
                                    ns: int, want: int) -> None:
    assert date(y, mo, d, h, mi, s, ns, la).unix() == want


def test_date_month_overflow_into_year() -> None:
    assert date(2024, 13, 1, 0, 0, 0, 0, UTC).string() == "2025-01-01 00:00:00 +0000 UTC"
    assert date(2024, 0, 1, 0, 0, 0, 0, UTC).string() == "2023-12-01 00:00:00 +0000 UTC"
    assert date(2024, 2, 30, 0, 0, 0, 0, UTC).string() == "2024-03-01 00:00:00 +0000 UTC"
    assert date(2024, 1, 1, 0, 0, 0, -1, UTC).string() == "2023-12-31 23:59:59.999999999 +0000 UTC"


def test_date_defaults_to_local() -> None:
    t = date(2024, 1, 15, 12, 0, 0, 0)
    assert t.location() is LOCAL
    assert t.format_rfc3339() == "2024-01-15T12:00:00Z"


def test_date_in_dst_gap_with_zero_standard_offset() -> None:
    london = _zone("Europe/London")
    assert date(2024, 3, 31, 1, 30, 0, 0, london).string() == "2024-03-31 02:30:00 +0100 BST"
    assert date(2024, 10, 27, 1, 30, 0, 0, london).string() == "2024-10-27 01:30:00 +0000 GMT"


def test_far_past_and_future_zones(ny: Location) -> None:
    assert date(10024, 7, 1, 12, 0, 0, 0, ny).string() == "10024-07-01 12:00:00 -0400 EDT"
    assert date(10024, 1, 1, 12, 0, 0, 0, ny).string() == "10024-01-01 12:00:00 -0500 EST"
    old = date(-500, 1, 1, 0, 0, 0, 0, ny)
    assert old.string() == "-0500-01-01 00:00:00 -0456 LMT"
    assert old.format("-07:00:00 Z070000") == "-04:56:02 -045602"


# ---------------------------------------------------------------------------------------------------------
# Accessors and arithmetic


def test_components(la: Location) -> None:
    t = unix(0, 1233810057012345600).in_location(la)
    assert t.date() == (2009, 2, 4)
    assert t.clock() == (21, 0, 57)
    assert (t.year(), t.month(), t.day()) == (2009, 2, 4)
    assert (t.hour(), t.minute(), t.second(), t.nanosecond()) == (21, 0, 57, 12345600)
    assert t.weekday() == 3
    assert t.year_day() == 35
    assert t.utc().date() == (2009, 2, 5)
    assert t.utc().weekday() == 4


@pytest.mark.parametrize(
    ("y", "m", "d", "yday", "weekday"),
    [
        (2007, 1, 1, 1, 1),
        (2007, 12, 31, 365, 1),
        (2008, 12, 31, 366, 3),
        (2008, 3, 1, 61, 6),
        (2007, 3, 1, 60, 4),
        (1970, 1, 1, 1, 4),
        (2000, 2, 29, 60, 2),
        (1900, 12, 31, 365, 1),
        (0, 12, 31, 366, 0),
        (-1, 1, 1, 1, 5),
    ],
)
def test_year_day_and_weekday(y: int, m: int, d: int, yday: int, weekday: int) -> None:
    t = date(y, m, d, 12, 0, 0, 0, UTC)
    assert t.year_day() == yday
    assert t.weekday() == weekday


def test_add_and_sub() -> None:
    t = date(2024, 12, 29, 15, 4, 5, 0, UTC)
    tomorrow = t.add(parse_duration("24h"))
    assert tomorrow.string() == "2024-12-30 15:04:05 +0000 UTC"
    assert tomorrow.sub(t) == 24 * HOUR
    assert t.sub(tomorrow) == -24 * HOUR
    assert t.add(-1).string() == "2024-12-29 15:04:04.999999999 +0000 UTC"
    assert t.add(5 * MINUTE).location() is UTC


def test_sub_saturates_like_go() -> None:
    far = date(2300, 1, 1, 0, 0, 0, 0, UTC)
    assert ZERO_TIME.sub(far) == MIN_DURATION
    assert far.sub(ZERO_TIME) == MAX_DURATION


def test_add_rejects_non_int64_duration() -> None:
    with pytest.raises(GoTimeError, match="out of int64 range"):
        ZERO_TIME.add(MAX_DURATION + 1)


def test_comparisons_ignore_location() -> None:
    t1 = date(2024, 1, 1, 0, 0, 0, 0, UTC)
    t2 = date(2024, 1, 2, 0, 0, 0, 0, UTC)
    assert t1.before(t2) and t2.after(t1) and t1.equal(t1)
    assert not t1.after(t2) and not t2.before(t1) and not t1.equal(t2)
    shifted = t1.in_location(fixed_zone("X", 7200))
    assert t1.equal(shifted) and shifted != t1
    assert shifted.string() == "2024-01-01 02:00:00 +0200 X"


@pytest.mark.parametrize(
    ("start", "delta", "want"),
    [
        ((2011, 1, 31), (0, 1, 0), "2011-03-03 10:00:00 +0000 UTC"),
        ((2024, 1, 31), (0, 1, 0), "2024-03-02 10:00:00 +0000 UTC"),
        ((2024, 2, 29), (1, 0, 0), "2025-03-01 10:00:00 +0000 UTC"),
        ((2024, 2, 29), (-1, 0, 0), "2023-03-01 10:00:00 +0000 UTC"),
        ((2024, 3, 31), (0, -1, 0), "2024-03-02 10:00:00 +0000 UTC"),
        ((2024, 1, 1), (0, 0, -7), "2023-12-25 10:00:00 +0000 UTC"),
        ((2024, 12, 15), (0, 1, 20), "2025-02-04 10:00:00 +0000 UTC"),
        ((2023, 3, 25), (0, 0, 1), "2023-03-26 10:00:00 +0000 UTC"),
        ((2023, 3, 25), (0, 1, 0), "2023-04-25 10:00:00 +0000 UTC"),
        ((2023, 3, 25), (1, 0, 0), "2024-03-25 10:00:00 +0000 UTC"),
    ],
)
def test_add_date(start: tuple[int, int, int], delta: tuple[int, int, int], want: str) -> None:
    t = date(*start, 10, 0, 0, 0, UTC)
    assert t.add_date(*delta).string() == want


def test_add_date_keeps_wall_clock_across_dst() -> None:
    zurich = _zone("Europe/Zurich")
    start = date(2023, 3, 25, 12, 0, 0, 0, zurich)
    later = start.add_date(0, 0, 1)
    assert later.string() == "2023-03-26 12:00:00 +0200 CEST"
    assert format_duration(later.sub(start)) == "23h0m0s"


ROUND_BASE = date(0, 0, 0, 12, 15, 30, 918273645, UTC)
ROUND_CASES = [
    (1, "12:15:30.918273645", "12:15:30.918273645"),
    (MICROSECOND, "12:15:30.918274", "12:15:30.918273"),
    (MILLISECOND, "12:15:30.918", "12:15:30.918"),
    (SECOND, "12:15:31", "12:15:30"),
    (2 * SECOND, "12:15:30", "12:15:30"),
    (MINUTE, "12:16:00", "12:15:00"),
    (10 * MINUTE, "12:20:00", "12:10:00"),
    (HOUR, "12:00:00", "12:00:00"),
]


@pytest.mark.parametrize(("d", "rounded", "truncated"), ROUND_CASES)
def test_round_and_truncate(d: int, rounded: str, truncated: str) -> None:
    assert ROUND_BASE.round(d).format("15:04:05.999999999") == rounded
    assert ROUND_BASE.truncate(d).format("15:04:05.999999999") == truncated


def test_round_half_rounds_up_and_keeps_location() -> None:
    loc = fixed_zone("X", 3600)
    t = date(2012, 1, 1, 12, 15, 30, 500_000_000, loc)
    assert t.round(SECOND).string() == "2012-01-01 12:15:31 +0100 X"
    assert t.truncate(SECOND).string() == "2012-01-01 12:15:30 +0100 X"


def test_round_is_relative_to_zero_time() -> None:
    # Year 1 began on a Monday, so a week truncation lands on a Monday.
    t = date(2024, 1, 10, 15, 0, 0, 0, UTC)
    week = t.truncate(7 * 24 * HOUR)
    assert week.string() == "2024-01-08 00:00:00 +0000 UTC"
    assert week.weekday() == 1


def test_round_before_year_one() -> None:
    t = date(-1, 1, 1, 12, 15, 30, 500_000_000, UTC)
    assert t.round(SECOND).format(LAYOUTS["RFC3339Nano"]) == "-0001-01-01T12:15:31Z"
    assert t.truncate(SECOND).format(LAYOUTS["RFC3339Nano"]) == "-0001-01-01T12:15:30Z"
    since_zero = t.truncate(3).unix_ns - ZERO_TIME.unix_ns
    assert since_zero % 3 == 0 and 0 <= t.unix_ns - t.truncate(3).unix_ns < 3


@pytest.mark.parametrize("d", [0, -SECOND])
def test_round_with_non_positive_duration_is_identity(d: int) -> None:
    assert ROUND_BASE.round(d) == ROUND_BASE
    assert ROUND_BASE.truncate(d) == ROUND_BASE


# ---------------------------------------------------------------------------------------------------------
# Format

FORMAT_TESTS = [
    ("ANSIC", LAYOUTS["ANSIC"], "Wed Feb  4 21:00:57 2009"),
    ("UnixDate", LAYOUTS["UnixDate"], "Wed Feb  4 21:00:57 PST 2009"),
    ("RubyDate", LAYOUTS["RubyDate"], "Wed Feb 04 21:00:57 -0800 2009"),
    ("RFC822", LAYOUTS["RFC822"], "04 Feb 09 21:00 PST"),
    ("RFC822Z", LAYOUTS["RFC822Z"], "04 Feb 09 21:00 -0800"),
    ("RFC850", LAYOUTS["RFC850"], "Wednesday, 04-Feb-09 21:00:57 PST"),
    ("RFC1123", LAYOUTS["RFC1123"], "Wed, 04 Feb 2009 21:00:57 PST"),
    ("RFC1123Z", LAYOUTS["RFC1123Z"], "Wed, 04 Feb 2009 21:00:57 -0800"),
    ("RFC3339", LAYOUTS["RFC3339"], "2009-02-04T21:00:57-08:00"),
    ("RFC3339Nano", LAYOUTS["RFC3339Nano"], "2009-02-04T21:00:57.0123456-08:00"),
    ("Kitchen", LAYOUTS["Kitchen"], "9:00PM"),
    ("am/pm", "3pm", "9pm"),
    ("AM/PM", "3PM", "9PM"),
    ("two-digit year", "06 01 02", "09 02 04"),
    ("Janet", "Hi Janet, the Month is January", "Hi Janet, the Month is February"),
    ("Stamp", LAYOUTS["Stamp"], "Feb  4 21:00:57"),
    ("StampMilli", LAYOUTS["StampMilli"], "Feb  4 21:00:57.012"),
    ("StampMicro", LAYOUTS["StampMicro"], "Feb  4 21:00:57.012345"),
    ("StampNano", LAYOUTS["StampNano"], "Feb  4 21:00:57.012345600"),
    ("DateTime", LAYOUTS["DateTime"], "2009-02-04 21:00:57"),
    ("DateOnly", LAYOUTS["DateOnly"], "2009-02-04"),
    ("TimeOnly", LAYOUTS["TimeOnly"], "21:00:57"),
    ("YearDay", "Jan  2 002 __2 2", "Feb  4 035  35 4"),
    ("Year", "2006 6 06 _6 __6 ___6", "2009 6 09 _6 __6 ___6"),
    ("Month", "Jan January 1 01 _1", "Feb February 2 02 _2"),
    ("DayOfMonth", "2 02 _2 __2", "4 04  4  35"),
    ("DayOfWeek", "Mon Monday", "Wed Wednesday"),
    ("Hour", "15 3 03 _3", "21 9 09 _9"),
    ("Minute", "4 04 _4", "0 00 _0"),
    ("Second", "5 05 _5", "57 57 _57"),
    ("Layout", LAYOUTS["Layout"], "02/04 09:00:57PM '09 -0800"),
    ("comma fraction", "15:04:05,000", "21:00:57,012"),
    ("trimmed fraction", "05.999", "57.012"),
    ("short trimmed fraction", "05.9", "57"),
    ("underscore year", "_2006", "_2009"),
    ("Monsoon is not Mon", "Monsoon Janx", "Monsoon Janx"),
    ("numeric zones", "-07 -0700 -07:00 -070000 -07:00:00", "-08 -0800 -08:00 -080000 -08:00:00"),
    ("ISO zones", "Z07 Z0700 Z07:00 Z070000 Z07:00:00", "-08 -0800 -08:00 -080000 -08:00:00"),
    ("non-ASCII literals", "2006年01月02日", "2009年02月04日"),
]


@pytest.mark.parametrize(("name", "layout", "want"), FORMAT_TESTS, ids=[c[0] for c in FORMAT_TESTS])
def test_format(la: Location, name: str, layout: str, want: str) -> None:
    t = unix(0, 1233810057012345600).in_location(la)
    assert t.format(layout) == want
    assert gt.format(t, layout) == want


@pytest.mark.parametrize(
    ("nsec", "layout", "want"),
    [
        (120_000_000, ".999", ".12"),
        (0, ".999", ""),
        (0, ".000", ".000"),
        (50_000_000, ".9", ""),
        (100_000_000, ".9", ".1"),
        (1, ".999999999", ".000000001"),
        (123_456_789, ",99", ",12"),
        (123_456_789, "05.00000", "00.12345"),
        (123_400_000, "05.99999999", "00.1234"),
    ],
)
def test_fraction_elements(nsec: int, layout: str, want: str) -> None:
    assert date(2020, 1, 1, 0, 0, 0, nsec, UTC).format(layout) == want


@pytest.mark.parametrize(
    ("offset", "want"),
    [
        (0, "Z Z Z Z Z +00 +0000 +00:00 +000000 +00:00:00"),
        (-(3600 + 1800 + 15), "-01 -0130 -01:30 -013015 -01:30:15 -01 -0130 -01:30 -013015 -01:30:15"),
        (19800, "+05 +0530 +05:30 +053000 +05:30:00 +05 +0530 +05:30 +053000 +05:30:00"),
    ],
)
def test_zone_offset_elements(offset: int, want: str) -> None:
    layout = "Z07 Z0700 Z07:00 Z070000 Z07:00:00 -07 -0700 -07:00 -070000 -07:00:00"
    t = date(2020, 1, 1, 0, 0, 0, 0, fixed_zone("X", offset))
    assert t.format(layout) == want


def test_mst_without_zone_name_prints_offset() -> None:
    assert date(2020, 1, 1, 0, 0, 0, 0, fixed_zone("", 19800)).format("MST") == "+0530"
    assert date(2020, 1, 1, 0, 0, 0, 0, fixed_zone("", -3600)).format("MST") == "-0100"
    assert date(2020, 1, 1, 0, 0, 0, 0, UTC).format("MST") == "UTC"


@pytest.mark.parametrize(
    ("hour", "minute", "want"),
    [(0, 5, "12:05AM 12:05am"), (12, 0, "12:00PM 12:00pm"), (23, 59, "11:59PM 11:59pm"),
     (9, 7, "9:07AM 9:07am")],
)
def test_kitchen_clock(hour: int, minute: int, want: str) -> None:
    assert date(2020, 1, 1, hour, minute, 0, 0, UTC).format("3:04PM 3:04pm") == want


@pytest.mark.parametrize(
    "year",
    [-100001, -100000, -99999, -10001, -10000, -9999, -1001, -1000, -999, -101, -100, -99, -11, -10, -9,
     -1, 0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 1001, 9999, 10000, 10001, 99999, 100000, 100001],
)
def test_format_years_outside_four_digits(year: int) -> None:
    want = f"-{-year:04d}.01.01" if year < 0 else f"{year:04d}.01.01"
    assert date(year, 1, 1, 0, 0, 0, 0, UTC).format("2006.01.02") == want
    assert date(year, 1, 1, 0, 0, 0, 0, UTC).format("06") == f"{abs(year) % 100:02d}"


@pytest.mark.parametrize(
    ("t", "want"),
    [
        (date(2008, 9, 17, 20, 4, 26, 0, UTC), "2008-09-17T20:04:26Z"),
        (date(1994, 9, 17, 20, 4, 26, 0, fixed_zone("EST", -18000)), "1994-09-17T20:04:26-05:00"),
        (date(2000, 12, 26, 1, 15, 6, 0, fixed_zone("OTO", 15600)), "2000-12-26T01:15:06+04:20"),
        (date(2024, 12, 29, 15, 4, 5, 500, UTC), "2024-12-29T15:04:05Z"),
    ],
)
def test_format_rfc3339(t: gt.GoTime, want: str) -> None:
    assert t.format_rfc3339() == want


def test_string_forms(la: Location) -> None:
    assert date(2009, 11, 10, 23, 0, 0, 0, UTC).string() == "2009-11-10 23:00:00 +0000 UTC"
    assert str(date(2009, 11, 10, 23, 0, 0, 0, UTC).in_location(la)) == "2009-11-10 15:00:00 -0800 PST"
    assert date(2009, 11, 10, 23, 0, 0, 120, UTC).string() == "2009-11-10 23:00:00.00000012 +0000 UTC"
    assert date(2009, 11, 10, 23, 0, 0, 0, UTC).in_local().string() == "2009-11-10 23:00:00 +0000 UTC"


def test_shanghai_second_offsets() -> None:
    shanghai = _zone("Asia/Shanghai")
    t = date(2015, 2, 25, 19, 6, 39, 0, UTC).in_location(shanghai)
    assert t.format("2006-01-02T15:04:05 -070000") == "2015-02-26T03:06:39 +080000"
    assert t.format("2006-01-02T15:04:05 -07:00:00") == "2015-02-26T03:06:39 +08:00:00"


# ---------------------------------------------------------------------------------------------------------
# Parse

# (layout, value, nanoseconds expected) from Go's parseTests; all mean Thu Feb 4 21:00:57 PST 2010.
PARSE_TESTS = [
    (LAYOUTS["ANSIC"], "Thu Feb  4 21:00:57 2010", 0),
    (LAYOUTS["UnixDate"], "Thu Feb  4 21:00:57 PST 2010", 0),
    (LAYOUTS["RubyDate"], "Thu Feb 04 21:00:57 -0800 2010", 0),
    (LAYOUTS["RFC850"], "Thursday, 04-Feb-10 21:00:57 PST", 0),
    (LAYOUTS["RFC1123"], "Thu, 04 Feb 2010 21:00:57 PST", 0),
    (LAYOUTS["RFC1123"], "Thu, 04 Feb 2010 22:00:57 PDT", 0),
    (LAYOUTS["RFC1123Z"], "Thu, 04 Feb 2010 21:00:57 -0800", 0),
    (LAYOUTS["RFC3339"], "2010-02-04T21:00:57-08:00", 0),
    ("2006-01-02 15:04:05-07", "2010-02-04 21:00:57-08", 0),
    (LAYOUTS["ANSIC"], "Thu Feb  4 21:00:57.0 2010", 0),
    (LAYOUTS["ANSIC"], "Thu Feb  4 21:00:57.012 2010", 12_000_000),
    (LAYOUTS["ANSIC"], "Thu Feb  4 21:00:57.012345678 2010", 12_345_678),
    (LAYOUTS["ANSIC"], "Thu Feb  4 21:00:57,012 2010", 12_000_000),
    (LAYOUTS["RFC3339"], "2010-02-04T21:00:57.012345678-08:00", 12_345_678),
    (LAYOUTS["RFC3339Nano"], "2010-02-04T21:00:57.0123-08:00", 12_300_000),
    (LAYOUTS["RFC3339Nano"], "2010-02-04T21:00:57-08:00", 0),
    (LAYOUTS["ANSIC"], "Thu Feb 4 21:00:57 2010", 0),
    (LAYOUTS["ANSIC"], "Thu      Feb     4     21:00:57     2010", 0),
    (LAYOUTS["ANSIC"], "THU FEB 4 21:00:57 2010", 0),
    (LAYOUTS["ANSIC"], "thu feb 4 21:00:57 2010", 0),
    ("Mon Jan _2 15:04:05.000 2006", "Thu Feb  4 21:00:57.012 2010", 12_000_000),
    ("Mon Jan _2 15:04:05.000000 2006", "Thu Feb  4 21:00:57.012345 2010", 12_345_000),
    ("Mon Jan _2 15:04:05.000000000 2006", "Thu Feb  4 21:00:57.012345678 2010", 12_345_678),
    ("Mon Jan _2 15:04:05,000 2006", "Thu Feb  4 21:00:57.012 2010", 12_000_000),
    ("Mon Jan _2 15:04:05.999 2006", "Thu Feb  4 21:00:57.0123456789 2010", 12_345_678),
    ("2006.01.02.15.04.05.0", "2010.02.04.21.00.57.0", 0),
    ("2006.01.02.15.04.05.00", "2010.02.04.21.00.57.01", 10_000_000),
    ("Hi Janet, the Month is January: Jan _2 15:04:05 2006",
     "Hi Janet, the Month is February: Feb  4 21:00:57 2010", 0),
    ("Jan _2 002 2006 15:04:05", "Feb  4 035 2010 21:00:57", 0),
    ("__2 2006 15:04:05", " 35 2010 21:00:57", 0),
    (LAYOUTS["UnixDate"], "Fri Feb  5 05:00:57 GMT-8 2010", 0),
]


@pytest.mark.parametrize(("layout", "value", "nsec"), PARSE_TESTS)
def test_parse_in_location(la: Location, layout: str, value: str, nsec: int) -> None:
    t = parse(layout, value, la)
    assert t.format(LAYOUTS["DateTime"]) == "2010-02-04 21:00:57"
    assert t.nanosecond() == nsec
    assert t.loc.lookup(t.unix())[1] == -8 * 3600


@pytest.mark.parametrize(
    ("layout", "value", "want"),
    [
        (LAYOUTS["RFC3339"], "2024-12-29T15:04:05Z", "2024-12-29 15:04:05 +0000 UTC"),
        (LAYOUTS["RFC3339"], "2006-01-02T15:04:05+07:00", "2006-01-02 15:04:05 +0700 +0700"),
        (LAYOUTS["RFC3339"], "2024-12-29T15:04:05.5+01:00", "2024-12-29 15:04:05.5 +0100 +0100"),
        (LAYOUTS["RFC3339Nano"], "2024-12-29T15:04:05.123456789Z", "2024-12-29 15:04:05.123456789 +0000 UTC"),
        ("2006-Jan-02", "2013-Feb-03", "2013-02-03 00:00:00 +0000 UTC"),
        ("2006-01-02", "2024-12-29", "2024-12-29 00:00:00 +0000 UTC"),
        ("15:04:05", "14:30:00", "0000-01-01 14:30:00 +0000 UTC"),
        ("2006-01-02 15:04:05 MST", "2024-12-29 14:30:00 UTC", "2024-12-29 14:30:00 +0000 UTC"),
        # An unknown abbreviation gets a made-up zone with offset zero.
        ("2006-01-02 15:04:05 MST", "2024-12-29 14:30:00 EST", "2024-12-29 14:30:00 +0000 EST"),
        ("Jan 2, 2006 at 3:04pm (MST)", "Feb 3, 2013 at 7:54pm (PST)", "2013-02-03 19:54:00 +0000 PST"),
        ("2006-01-02 MST", "2024-01-01 +03", "2024-01-01 00:00:00 +0000 +03"),
        ("2006-01-02 MST", "2024-01-01 CEST", "2024-01-01 00:00:00 +0000 CEST"),
        # GMT+n keeps the clock reading as UTC and attaches the offset zone, as Go does.
        ("15:04 MST", "10:00 GMT+3", "0000-01-01 13:00:00 +0300 GMT+3"),
        ("3:04PM", "12:00AM", "0000-01-01 00:00:00 +0000 UTC"),
        ("3:04PM", "12:30PM", "0000-01-01 12:30:00 +0000 UTC"),
        ("3:04pm", "1:30pm", "0000-01-01 13:30:00 +0000 UTC"),
        ("06-01-02", "69-01-02", "1969-01-02 00:00:00 +0000 UTC"),
        ("06-01-02", "68-01-02", "2068-01-02 00:00:00 +0000 UTC"),
        ("2006-1-2 15:4:5", "2024-3-7 9:8:7", "2024-03-07 09:08:07 +0000 UTC"),
        # Time.String prints "-0700", so the seconds of the offset are not shown.
        ("2006-01-02T15:04:05 -07:00:00", "2024-01-01T00:00:00 +01:30:15", "2024-01-01 00:00:00 +0130 +0130"),
        ("2006-01-02 -0700", "2024-01-01 +2400", "2024-01-01 00:00:00 +2400 +2400"),
        ("2006年01月02日", "2024年12月29日", "2024-12-29 00:00:00 +0000 UTC"),
    ],
)
def test_parse_with_local_utc(layout: str, value: str, want: str) -> None:
    assert parse(layout, value).string() == want


def test_parse_offset_matching_local_uses_local() -> None:
    assert parse(LAYOUTS["RFC3339"], "2024-01-01T00:00:00+00:00").location() is LOCAL
    assert parse(LAYOUTS["RFC3339"], "2024-01-01T00:00:00Z").location() is UTC
    assert parse(LAYOUTS["RFC3339"], "2024-01-01T00:00:00+00:00", UTC).location() is UTC
    assert parse("2006-01-02", "2024-01-01").location() is UTC
    assert parse("2006-01-02", "2024-01-01", LOCAL).location() is LOCAL


def test_parse_in_location_zone_rules(ny: Location) -> None:
    assert parse(LAYOUTS["RFC3339"], "2024-01-15T09:00:00-05:00", ny).string() == \
        "2024-01-15 09:00:00 -0500 EST"
    assert parse(LAYOUTS["RFC3339"], "2024-01-15T09:00:00-04:00", ny).string() == \
        "2024-01-15 09:00:00 -0400 -0400"
    assert parse("2006-01-02 15:04", "2024-07-04 14:30", ny).string() == "2024-07-04 14:30:00 -0400 EDT"
    # An abbreviation the zone knows but is not in effect: its own offset is used.
    assert parse("Jan 02 2006 15:04 MST", "Jul 04 2013 12:00 EST", ny).string() == \
        "2013-07-04 13:00:00 -0400 EDT"
    assert parse("Jan 02 2006 15:04 MST", "Jul 04 2013 12:00 EDT", ny).string() == \
        "2013-07-04 12:00:00 -0400 EDT"


def test_parse_in_location_examples() -> None:
    berlin = _zone("Europe/Berlin")
    assert parse("Jan 2, 2006 at 3:04pm (MST)", "Jul 9, 2012 at 5:02am (CEST)", berlin).string() == \
        "2012-07-09 05:02:00 +0200 CEST"
    assert parse("2006-Jan-02", "2012-Jul-09", berlin).string() == "2012-07-09 00:00:00 +0200 CEST"
    blanc = _zone("America/Blanc-Sablon")
    t = parse("Jan 02 2006 MST", "Feb 01 2013 AST", blanc)
    assert t == date(2013, 2, 1, 0, 0, 0, 0, blanc)
    assert t.loc.lookup(t.unix())[1] == -4 * 3600


def test_parse_year_day_round_trip() -> None:
    for year, days in ((2020, 366), (2021, 365)):
        for yday in range(1, days + 1):
            t = parse("2006-002", f"{year}-{yday:03d}")
            assert (t.year(), t.year_day()) == (year, yday)
            assert t.format("2006-002") == f"{year}-{yday:03d}"


PARSE_ERRORS = [
    ("2006-01-02", "x", 'parsing time "x" as "2006-01-02": cannot parse "x" as "2006"'),
    (LAYOUTS["ANSIC"], "Feb  4 21:00:60 2010",
     'parsing time "Feb  4 21:00:60 2010" as "Mon Jan _2 15:04:05 2006":'
     ' cannot parse "Feb  4 21:00:60 2010" as "Mon"'),
    (LAYOUTS["ANSIC"], "Thu Feb  4 21:00:57 @2010",
     'parsing time "Thu Feb  4 21:00:57 @2010" as "Mon Jan _2 15:04:05 2006":'
     ' cannot parse "@2010" as "2006"'),
    (LAYOUTS["ANSIC"], "Thu Feb  4 21:00:60 2010",
     'parsing time "Thu Feb  4 21:00:60 2010": second out of range'),
    (LAYOUTS["ANSIC"], "Thu Feb  4 21:61:57 2010",
     'parsing time "Thu Feb  4 21:61:57 2010": minute out of range'),
    (LAYOUTS["ANSIC"], "Thu Feb  4 24:00:60 2010",
     'parsing time "Thu Feb  4 24:00:60 2010": hour out of range'),
    ("Mon Jan _2 15:04:05.000 2006", "Thu Feb  4 23:00:59x01 2010",
     'parsing time "Thu Feb  4 23:00:59x01 2010" as "Mon Jan _2 15:04:05.000 2006":'
     ' cannot parse "x01 2010" as ".000"'),
    ("Mon Jan _2 15:04:05.000 2006", "Thu Feb  4 23:00:59.xxx 2010",
     'parsing time "Thu Feb  4 23:00:59.xxx 2010" as "Mon Jan _2 15:04:05.000 2006":'
     ' cannot parse ".xxx 2010" as ".000"'),
    ("Mon Jan _2 15:04:05.000 2006", "Thu Feb  4 23:00:59.-123 2010",
     'parsing time "Thu Feb  4 23:00:59.-123 2010": fractional second out of range'),
    (LAYOUTS["StampNano"], "Dec  7 11:22:01.000000",
     'parsing time "Dec  7 11:22:01.000000" as "Jan _2 15:04:05.000000000": cannot parse ".000000" as '
     '".000000000"'),
    (LAYOUTS["StampNano"], "Dec  7 11:22:01.0000000000",
     'parsing time "Dec  7 11:22:01.0000000000": extra text: "0"'),
    (LAYOUTS["RFC3339"], "2006-01-02T15:04:05Z07:00",
     'parsing time "2006-01-02T15:04:05Z07:00": extra text: "07:00"'),
    (LAYOUTS["RFC3339"], "2006-01-02T15:04_abc",
     'parsing time "2006-01-02T15:04_abc" as "2006-01-02T15:04:05Z07:00": cannot parse "_abc" as ":"'),
    (LAYOUTS["RFC3339"], "2006-01-02T15:04:05_abc",
     'parsing time "2006-01-02T15:04:05_abc" as "2006-01-02T15:04:05Z07:00":'
     ' cannot parse "_abc" as "Z07:00"'),
    (LAYOUTS["RFC3339"], "2006-01-02T15:04:05Z_abc",
     'parsing time "2006-01-02T15:04:05Z_abc": extra text: "_abc"'),
    (LAYOUTS["RFC3339"], "2010-02-04T21:00:67.012345678-08:00",
     'parsing time "2010-02-04T21:00:67.012345678-08:00": second out of range'),
    (LAYOUTS["RFC3339"], "0000-01-01T00:00:.0+00:00",
     'parsing time "0000-01-01T00:00:.0+00:00" as "2006-01-02T15:04:05Z07:00":'
     ' cannot parse ".0+00:00" as "05"'),
    ("_2 Jan 06 15:04 MST", "4 --- 00 00:00 GMT",
     'parsing time "4 --- 00 00:00 GMT" as "_2 Jan 06 15:04 MST": cannot parse "--- 00 00:00 GMT" as "Jan"'),
    ("_2 January 06 15:04 MST", "4 --- 00 00:00 GMT",
     'parsing time "4 --- 00 00:00 GMT" as "_2 January 06 15:04 MST": cannot parse "--- 00 00:00 GMT" as '
     '"January"'),
    ("Jan _2 002 2006", "Feb  4 034 2006", 'parsing time "Feb  4 034 2006": day-of-year does not match day'),
    ("Jan _2 002 2006", "Feb  4 004 2006",
     'parsing time "Feb  4 004 2006": day-of-year does not match month'),
    ("2006-002", "2021-366", 'parsing time "2021-366": day-of-year out of range'),
    ('"2006-01-02T15:04:05Z07:00"', "0",
     'parsing time "0" as "\\"2006-01-02T15:04:05Z07:00\\"": cannot parse "0" as "\\""'),
    (LAYOUTS["RFC3339"], '"',
     'parsing time "\\"" as "2006-01-02T15:04:05Z07:00": cannot parse "\\"" as "2006"'),
    (LAYOUTS["RFC3339"], "0000-01-01T00:00:00+00:+0",
     'parsing time "0000-01-01T00:00:00+00:+0" as "2006-01-02T15:04:05Z07:00": cannot parse "+00:+0" as '
     '"Z07:00"'),
    (LAYOUTS["RFC3339"], "0000-01-01T00:00:00+-0:00",
     'parsing time "0000-01-01T00:00:00+-0:00" as "2006-01-02T15:04:05Z07:00": cannot parse "+-0:00" as '
     '"Z07:00"'),
    ("2006-01-02", "22-10-25", 'parsing time "22-10-25" as "2006-01-02": cannot parse "22-10-25" as "2006"'),
    ("06-01-02", "a2-10-25", 'parsing time "a2-10-25" as "06-01-02": cannot parse "a2-10-25" as "06"'),
    ("03:04PM", "12:03pM", 'parsing time "12:03pM" as "03:04PM": cannot parse "pM" as "PM"'),
    ("03:04pm", "12:03pM", 'parsing time "12:03pM" as "03:04pm": cannot parse "pM" as "pm"'),
    ("2006-01-02", "2024-13-01", 'parsing time "2024-13-01": month out of range'),
    ("2006-01-02", "2023-02-29", 'parsing time "2023-02-29": day out of range'),
    ("2006-01-02", "2024-04-31", 'parsing time "2024-04-31": day out of range'),
    ("2006-01-02", "2024-12-29 10:00", 'parsing time "2024-12-29 10:00": extra text: " 10:00"'),
    ("2006-01-02 -0700", "2024-01-01 +2500",
     'parsing time "2024-01-01 +2500": time zone offset hour out of range'),
    ("2006-01-02 -0700", "2024-01-01 +0061",
     'parsing time "2024-01-01 +0061": time zone offset minute out of range'),
    ("2006-01-02 -0700", "2024-01-01 *0100",
     'parsing time "2024-01-01 *0100" as "2006-01-02 -0700": cannot parse "*0100" as "-0700"'),
    ("2006-01-02 MST", "2024-01-01 Pacific",
     'parsing time "2024-01-01 Pacific" as "2006-01-02 MST": cannot parse "Pacific" as "MST"'),
    ("2006-01-02 MST", "2024-01-01 ABCDEF",
     'parsing time "2024-01-01 ABCDEF" as "2006-01-02 MST": cannot parse "ABCDEF" as "MST"'),
    ("2006-01-02", "2024\u5e74", 'parsing time "2024\\xe5\\xb9\\xb4" as "2006-01-02": cannot parse '
     '"\\xe5\\xb9\\xb4" as "-"'),
    ("Jan 2", "Foo 2", 'parsing time "Foo 2" as "Jan 2": cannot parse "Foo 2" as "Jan"'),
    ("15:04:05", "1:2:3", 'parsing time "1:2:3" as "15:04:05": cannot parse "2:3" as "04"'),
    (LAYOUTS["Kitchen"], "13:00PM", 'parsing time "13:00PM": hour out of range'),
    ("", "x", 'parsing time "x": extra text: "x"'),
]


@pytest.mark.parametrize(("layout", "value", "message"), PARSE_ERRORS)
def test_parse_errors(layout: str, value: str, message: str) -> None:
    with pytest.raises(GoTimeError) as info:
        parse(layout, value)
    assert str(info.value) == message


def test_parse_empty_layout_and_value() -> None:
    assert parse("", "").string() == "0000-01-01 00:00:00 +0000 UTC"
