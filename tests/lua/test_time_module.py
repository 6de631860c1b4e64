"""The Lua ``time`` module, non-yielding half.

Expected strings are what Go's time package prints for the same calls (Time.String, Duration.String,
Format layouts, ParseDuration / Parse error texts); the simulator's Local zone is UTC under the name
"Local". Lua snippets run as a file chunk named ``flow.lua`` whose line 1 is ``local time = require("time")``,
so argument errors can be checked for the user's line.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wftest.lua import gotime
from wftest.lua.host_functions import LuaRaise
from wftest.lua.modules.time import duration_ns, new_duration, new_time, open_time, time_to_ns
from wftest.lua.sandbox import LuaFailure, Sandbox, SandboxOptions

JAN_2026 = 1_767_225_600 * 10**9  # the sandbox's default clock: 2026-01-01T00:00:00Z
INT64_MAX = (1 << 63) - 1
INT64_MIN = -(1 << 63)


def chunk(sb: Sandbox, body: str) -> tuple[Any, ...]:
    """Run ``body`` as the file chunk flow.lua, after a first line that requires the module."""
    require = sb.make_require("test", ["time"], {}, None)
    source = 'local time = require("time")\n' + body
    fn, err = sb.api.load_chunk(source.encode(), b"flow.lua", require, b"t")
    assert fn is not None, err
    return sb.call(fn)


def lua(body: str, sb: Sandbox | None = None) -> tuple[Any, ...]:
    return chunk(sb or Sandbox(), body)


def one(expr: str, sb: Sandbox | None = None) -> Any:
    """The value of one Lua expression."""
    (value,) = lua(f"return {expr}", sb)
    return value


def raises(body: str, sb: Sandbox | None = None) -> LuaFailure:
    with pytest.raises(LuaFailure) as info:
        lua(body, sb)
    return info.value


# -- module table -----------------------------------------------------------------------


def test_duration_constants_are_float_nanoseconds() -> None:
    """Wippy exports the unit constants as float-typed numbers."""
    names = ("NANOSECOND", "MICROSECOND", "MILLISECOND", "SECOND", "MINUTE", "HOUR")
    values = lua("return " + ", ".join(f"time.{n}, math.type(time.{n})" for n in names))
    assert values == (1.0, b"float", 1e3, b"float", 1e6, b"float", 1e9, b"float", 6e10, b"float",
                      3.6e12, b"float")
    assert one("time.SECOND == 1e9 and time.HOUR == 60 * time.MINUTE")


def test_month_and_weekday_constants() -> None:
    months = ("JANUARY FEBRUARY MARCH APRIL MAY JUNE JULY AUGUST SEPTEMBER OCTOBER NOVEMBER DECEMBER").split()
    days = "SUNDAY MONDAY TUESDAY WEDNESDAY THURSDAY FRIDAY SATURDAY".split()
    assert lua("return " + ", ".join(f"time.{m}" for m in months)) == tuple(range(1, 13))
    assert lua("return " + ", ".join(f"time.{d}" for d in days)) == tuple(range(7))


@pytest.mark.parametrize("name", sorted(gotime.LUA_LAYOUTS))
def test_layout_constants(name: str) -> None:
    assert one(f"time.{name}") == gotime.LUA_LAYOUTS[name].encode()


def test_layout_constant_examples() -> None:
    assert lua("return time.RFC3339, time.DATE_TIME, time.KITCHEN") == (
        b"2006-01-02T15:04:05Z07:00", b"2006-01-02 15:04:05", b"3:04PM")


def test_builtin_locations() -> None:
    assert lua("return tostring(time.utc), time.localtz:string(), type(time.utc), type(time.localtz)") == (
        b"UTC", b"Local", b"userdata", b"userdata")


def test_module_is_built_once_per_sandbox() -> None:
    sb = Sandbox()
    same = sb.lua.eval("rawequal")
    assert same(open_time(sb), open_time(sb))
    assert one('rawequal(time, require("time"))', sb)
    other = Sandbox()
    assert other.lua.eval("rawequal")(open_time(other), open_time(other))


def test_time_values_are_dropped_from_json_like_userdata() -> None:
    """A Time or Duration in a result silently disappears from the payload."""
    sb = Sandbox()
    (result,) = lua('return {status = "ok", at = time.now(), took = time.parse_duration("1s")}', sb)
    assert sb.values.encode_json(result) == '{"status":"ok"}'


def test_yielding_half_is_left_to_the_runtime() -> None:
    """sleep/after/timer/ticker are added by the workflow runtime, not by this module."""
    assert lua("return time.sleep, time.after, time.timer, time.ticker") == (None, None, None, None)


# -- time.now -----------------------------------------------------------------------------


def test_now_is_a_userdata_time_at_the_sandbox_clock_in_utc() -> None:
    assert lua("local t = time.now(); return type(t), tostring(t), t:location():string()") == (
        b"userdata", b"2026-01-01 00:00:00 +0000 UTC", b"UTC")


def test_now_follows_a_fake_clock() -> None:
    clock = {"ns": JAN_2026 + 123_456_789}
    sb = Sandbox(SandboxOptions(clock_ns=lambda: clock["ns"]))
    first = lua("local t = time.now(); return t:unix_nano(), t:nanosecond(), tostring(t)", sb)
    assert first == (JAN_2026 + 123_456_789, 123_456_789, b"2026-01-01 00:00:00.123456789 +0000 UTC")
    clock["ns"] = JAN_2026 + 90 * 60 * 10**9
    assert one("tostring(time.now())", sb) == b"2026-01-01 01:30:00 +0000 UTC"


def test_elapsed_time_between_two_now_calls() -> None:
    ticks = iter([JAN_2026, JAN_2026 + 1_500_000_000])
    sb = Sandbox(SandboxOptions(clock_ns=lambda: next(ticks)))
    assert lua("local a = time.now(); local d = time.now():sub(a); return d:milliseconds(), tostring(d)",
               sb) == (1500, b"1.5s")


# -- constructors --------------------------------------------------------------------------------


def test_date_in_utc() -> None:
    body = "local t = time.date(2024, time.DECEMBER, 25, 10, 30, 0, 0, time.utc)\n" \
           "return tostring(t), t:format_rfc3339(), t:location():string()"
    assert lua(body) == (b"2024-12-25 10:30:00 +0000 UTC", b"2024-12-25T10:30:00Z", b"UTC")


def test_date_defaults_to_local_which_is_utc() -> None:
    body = "local t = time.date(2024, 1, 15, 12, 0, 0, 0); return tostring(t), tostring(t:location())"
    assert lua(body) == (b"2024-01-15 12:00:00 +0000 UTC", b"Local")


def test_date_normalises_out_of_range_fields_like_go() -> None:
    assert lua("""
        return time.date(2024, 13, 1, 0, 0, 0, 0, time.utc):format(time.DATE_ONLY),
               time.date(2023, 2, 29, 0, 0, 0, 0, time.utc):format(time.DATE_ONLY),
               time.date(2024, 3, 0, 25, 61, 0, 0, time.utc):format(time.DATE_TIME),
               tostring(time.date(2024, 1, 1, 0, 0, 0, 1500000000, time.utc))
    """) == (b"2025-01-01", b"2023-03-01", b"2024-03-01 02:01:00", b"2024-01-01 00:00:01.5 +0000 UTC")


def test_date_in_a_named_zone_follows_daylight_saving() -> None:
    assert lua("""
        local ny = time.load_location("America/New_York")
        return tostring(time.date(2024, 1, 15, 14, 0, 0, 0, ny)),
               tostring(time.date(2024, 7, 1, 14, 0, 0, 0, ny))
    """) == (b"2024-01-15 14:00:00 -0500 EST", b"2024-07-01 14:00:00 -0400 EDT")


def test_date_truncates_float_arguments() -> None:
    assert one("tostring(time.date(2024.9, 2.5, 3.99, 4.1, 5.7, 6.2, 7.9, time.utc))") == \
        b"2024-02-03 04:05:06.000000007 +0000 UTC"


def test_zero_time_and_years_outside_int64_nanoseconds() -> None:
    """Go's zero Time (year 1) is far outside the int64 nanosecond range; it stays exact."""
    assert lua("""
        local z = time.date(1, 1, 1, 0, 0, 0, 0, time.utc)
        local far = time.date(9999, 12, 31, 23, 59, 59, 999999999, time.utc)
        return z:is_zero(), z:unix(), tostring(z), far:year(), tostring(far:add(1)), time.now():is_zero()
    """) == (True, -62_135_596_800, b"0001-01-01 00:00:00 +0000 UTC", 9999, b"10000-01-01 00:00:00 +0000 UTC",
             False)


def test_unix_constructor() -> None:
    assert lua("""
        local t = time.unix(1703862245, 0)
        local js = 1703862245123
        local m = time.unix(js // 1000, (js % 1000) * 1000000)
        return t:utc():format_rfc3339(), t:location():string(), m:nanosecond(), m:format(time.STAMP_MILLI)
    """) == (b"2023-12-29T15:04:05Z", b"Local", 123_000_000, b"Dec 29 15:04:05.123")


def test_unix_carries_nanoseconds_outside_one_second() -> None:
    assert lua("""
        local a, b = time.unix(1, 1500000000), time.unix(1, -1)
        return a:unix(), a:nanosecond(), b:unix(), b:nanosecond()
    """) == (2, 500_000_000, 0, 999_999_999)


# -- time.parse ----------------------------------------------------------------------------------


def test_parse_rfc3339_in_utc() -> None:
    assert lua("""
        local t, err = time.parse(time.RFC3339, "2024-12-29T15:04:05Z")
        return tostring(t), err, rawequal(t:location(), time.utc), t:unix()
    """) == (b"2024-12-29 15:04:05 +0000 UTC", None, True, 1_735_484_645)


def test_parse_keeps_a_numeric_offset() -> None:
    assert lua("""
        local t = time.parse(time.RFC3339, "2024-12-29T15:04:05+05:30")
        return tostring(t), t:utc():format(time.DATE_TIME), t:hour()
    """) == (b"2024-12-29 15:04:05 +0530 +0530", b"2024-12-29 09:34:05", 15)


def test_parse_custom_layouts() -> None:
    assert lua("""
        return tostring(time.parse("2006-01-02", "2024-12-29")),
               tostring(time.parse("15:04:05", "14:30:00")),
               tostring(time.parse(time.RFC3339NANO, "2024-12-29T15:04:05.123456789Z")),
               tostring(time.parse("Jan _2 3:04PM 2006", "Feb  3 4:05PM 2025"))
    """) == (b"2024-12-29 00:00:00 +0000 UTC", b"0000-01-01 14:30:00 +0000 UTC",
             b"2024-12-29 15:04:05.123456789 +0000 UTC", b"2025-02-03 16:05:00 +0000 UTC")


def test_parse_in_a_location() -> None:
    assert lua("""
        local ny = time.load_location("America/New_York")
        local t = time.parse("2006-01-02 15:04", "2024-12-29 14:30", ny)
        return tostring(t), rawequal(t:location(), ny)
    """) == (b"2024-12-29 14:30:00 -0500 EST", True)


def test_parse_failure_returns_nil_and_an_invalid_error() -> None:
    assert lua("""
        local t, err = time.parse(time.RFC3339, "invalid")
        return t, err:kind(), err:message(), err:retryable(), errors.is(err, errors.INVALID)
    """) == (None, b"Invalid",
             b'parsing time "invalid" as "2006-01-02T15:04:05Z07:00": cannot parse "invalid" as "2006"',
             False, True)


def test_parse_range_error_text() -> None:
    assert one('select(2, time.parse(time.DATE_ONLY, "2024-02-30")):message()') == \
        b'parsing time "2024-02-30": day out of range'


# -- durations -----------------------------------------------------------------------------------


def test_parse_duration_and_its_methods() -> None:
    assert lua("""
        local d, err = time.parse_duration("1h30m45s500ms")
        return tostring(d), err, d:hours(), d:minutes(), d:seconds(), d:milliseconds(), d:microseconds(),
               d:nanoseconds(), math.type(d:milliseconds()), math.type(d:seconds()), type(d)
    """) == (b"1h30m45.5s", None, 5445.5 / 3600, 5445.5 / 60, 5445.5, 5_445_500, 5_445_500_000,
             5_445_500_000_000, b"integer", b"float", b"userdata")


@pytest.mark.parametrize(
    ("expr", "text"),
    [
        ("0", "0s"),
        ("1", "1ns"),
        ("1500", "1.5µs"),
        ("1.5 * time.MILLISECOND", "1.5ms"),
        ("time.SECOND", "1s"),
        ("5 * time.MINUTE", "5m0s"),
        ("-time.HOUR", "-1h0m0s"),
        ("1.9", "1ns"),
        ("-1.9", "-1ns"),
        ('"1h30m"', "1h30m0s"),
        ('"-1.5s"', "-1.5s"),
        ('"300us"', "300µs"),
        ('"2h45m"', "2h45m0s"),
        ("math.maxinteger", "2562047h47m16.854775807s"),
    ],
)
def test_duration_string_matches_go(expr: str, text: str) -> None:
    assert one(f"tostring(time.parse_duration({expr}))") == text.encode()


def test_repeated_duration_strings_give_the_same_results() -> None:
    assert lua("""
        local out = {}
        for i = 1, 300 do out[#out + 1] = time.parse_duration(i .. "ms"):nanoseconds() end
        local a, b = time.parse_duration("1m"), time.parse_duration("1m")
        local _, e1 = time.parse_duration("1x")
        local _, e2 = time.parse_duration("1x")
        return out[1], out[300], #out, a == b, e1:message() == e2:message(), time.now():add("1m"):minute()
    """) == (1_000_000, 300_000_000, 300, True, True, 1)


def test_parse_duration_accepts_a_duration() -> None:
    assert one('time.parse_duration(time.parse_duration("2s")):nanoseconds()') == 2 * 10**9


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ('"abc"', 'time: invalid duration "abc"'),
        ('""', 'time: invalid duration ""'),
        ('"10"', 'time: missing unit in duration "10"'),
        ('"1d"', 'time: unknown unit "d" in duration "1d"'),
        ("1e19", "time: duration out of range: 1e+19"),
        ("0/0", "time: duration out of range: NaN"),
    ],
)
def test_bad_duration_returns_nil_and_an_invalid_error(arg: str, message: str) -> None:
    assert lua(f"local d, err = time.parse_duration({arg}); return d, err:kind(), err:message()") == (
        None, b"Invalid", message.encode())


def test_negative_duration_conversions_truncate_toward_zero() -> None:
    assert lua("""
        local d = time.parse_duration(-1500001)
        return d:microseconds(), d:milliseconds(), d:seconds()
    """) == (-1500, -1, -0.001500001)


@pytest.mark.parametrize(
    "ns", [0, 1, -1, 999_999_999, 5_445_500_000_000, -7_654_321_987_654, INT64_MAX, INT64_MIN]
)
def test_duration_float_methods_match_go(ns: int) -> None:
    assert lua(f"local d = time.parse_duration({ns}); return d:seconds(), d:minutes(), d:hours()") == (
        gotime.duration_seconds(ns), gotime.duration_minutes(ns), gotime.duration_hours(ns))


def test_duration_comparisons() -> None:
    assert lua("""
        local a, b = time.parse_duration("1s"), time.parse_duration(1000000000)
        local c = time.parse_duration("2s")
        return a == b, a < c, c <= a, a <= b, a == time.now(), rawequal(a, b)
    """) == (True, True, False, True, False, False)


# -- Time methods --------------------------------------------------------------------------------

T0 = "time.date(2024, 12, 29, 15, 4, 5, 0, time.utc)"  # a Sunday


def test_add_accepts_number_string_and_duration() -> None:
    assert lua(f"""
        local t = {T0}
        return tostring(t:add("24h")), tostring(t:add(5 * time.MINUTE)),
               tostring(t:add(time.parse_duration("-1h30m"))), tostring(t:add(1.9)),
               rawequal(t:add(0):location(), t:location())
    """) == (b"2024-12-30 15:04:05 +0000 UTC", b"2024-12-29 15:09:05 +0000 UTC",
             b"2024-12-29 13:34:05 +0000 UTC", b"2024-12-29 15:04:05.000000001 +0000 UTC", True)


def test_add_crosses_second_boundaries_both_ways() -> None:
    assert lua("""
        local t = time.unix(10, 100)
        local a, b = t:add(-200), t:add(999999950)
        return a:unix(), a:nanosecond(), b:unix(), b:nanosecond()
    """) == (9, 999_999_900, 11, 50)


def test_add_with_a_bad_duration_returns_an_invalid_error() -> None:
    assert lua(f'local t, err = {T0}:add("soon"); return t, err:kind(), err:message()') == (
        None, b"Invalid", b'time: invalid duration "soon"')


def test_sub_returns_a_duration() -> None:
    assert lua(f"""
        local t = {T0}
        local d = t:add("24h"):sub(t)
        return type(d), d:hours(), tostring(d), tostring(t:sub(t:add("1.5s")))
    """) == (b"userdata", 24.0, b"24h0m0s", b"-1.5s")


def test_sub_saturates_like_go() -> None:
    assert lua("""
        local a, b = time.date(1, 1, 1, 0, 0, 0, 0, time.utc), time.date(2300, 1, 1, 0, 0, 0, 0, time.utc)
        return b:sub(a):nanoseconds(), a:sub(b):nanoseconds()
    """) == (INT64_MAX, INT64_MIN)


@pytest.mark.parametrize(
    ("sec", "nsec"),
    [(9_223_372_036, 854_775_807), (9_223_372_036, 854_775_808), (9_223_372_037, 0),
     (-9_223_372_037, 145_224_192), (-9_223_372_037, 145_224_191), (-9_223_372_038, 999_999_999)],
)
def test_sub_at_the_int64_boundaries(sec: int, nsec: int) -> None:
    expected = gotime.unix(sec, nsec).sub(gotime.unix(0, 0))
    assert expected in (INT64_MAX, INT64_MIN) or abs(expected) > 9 * 10**18
    assert one(f"time.unix({sec}, {nsec}):sub(time.unix(0, 0)):nanoseconds()") == expected


def test_add_date_handles_month_ends_like_go() -> None:
    assert lua("""
        local t = time.date(2024, 1, 31, 8, 0, 0, 0, time.utc)
        return t:add_date(0, 1, 0):format(time.DATE_ONLY), t:add_date(1, 0, 0):format(time.DATE_ONLY),
               t:add_date(0, 0, -7):format(time.DATE_TIME), t:add_date(0, -2, 1):format(time.DATE_ONLY)
    """) == (b"2024-03-02", b"2025-01-31", b"2024-01-24 08:00:00", b"2023-12-02")


def test_add_date_keeps_the_wall_clock_across_dst() -> None:
    assert one("""(function()
        local ny = time.load_location("America/New_York")
        return tostring(time.date(2024, 3, 9, 12, 0, 0, 0, ny):add_date(0, 0, 1))
    end)()""") == b"2024-03-10 12:00:00 -0400 EDT"


def test_before_after_equal() -> None:
    assert lua("""
        local t1 = time.date(2024, 1, 1, 0, 0, 0, 0, time.utc)
        local t2 = time.date(2024, 1, 2, 0, 0, 0, 0, time.utc)
        return t1:before(t2), t2:before(t1), t2:after(t1), t1:after(t2), t1:equal(t1), t1:equal(t2)
    """) == (True, False, True, False, True, False)


def test_equal_and_operators_compare_instants_across_locations() -> None:
    assert lua("""
        local t = time.date(2024, 1, 1, 12, 0, 0, 5, time.utc)
        local ny = t:in_location(time.load_location("America/New_York"))
        local later = t:add(1)
        return t:equal(ny), t == ny, t < later, later < t, t <= ny, later <= t, t ~= later, t == 5
    """) == (True, True, True, False, True, False, True, False)


def test_ordering_a_time_against_another_type_raises() -> None:
    failure = raises(f"local t = {T0}\nreturn t < 5")
    assert failure.message == "flow.lua:3: attempt to compare userdata with number"
    assert failure.line == 3


@pytest.mark.parametrize(
    ("layout", "text"),
    [
        ("time.RFC3339", "2024-12-29T15:04:05Z"),
        ("time.RFC3339NANO", "2024-12-29T15:04:05.5Z"),
        ("time.RFC822", "29 Dec 24 15:04 UTC"),
        ("time.RFC822Z", "29 Dec 24 15:04 +0000"),
        ("time.RFC850", "Sunday, 29-Dec-24 15:04:05 UTC"),
        ("time.RFC1123", "Sun, 29 Dec 2024 15:04:05 UTC"),
        ("time.RFC1123Z", "Sun, 29 Dec 2024 15:04:05 +0000"),
        ("time.DATE_TIME", "2024-12-29 15:04:05"),
        ("time.DATE_ONLY", "2024-12-29"),
        ("time.TIME_ONLY", "15:04:05"),
        ("time.KITCHEN", "3:04PM"),
        ("time.STAMP", "Dec 29 15:04:05"),
        ("time.STAMP_MILLI", "Dec 29 15:04:05.500"),
        ("time.STAMP_MICRO", "Dec 29 15:04:05.500000"),
        ("time.STAMP_NANO", "Dec 29 15:04:05.500000000"),
        ('"Mon Jan 2, 2006"', "Sun Dec 29, 2024"),
        ('"Monday 02/01/06 pm .000 __2"', "Sunday 29/12/24 pm .500 364"),
    ],
)
def test_format_layouts(layout: str, text: str) -> None:
    assert one(f"{T0}:add(500 * time.MILLISECOND):format({layout})") == text.encode()


def test_format_rfc3339_uses_the_location_offset() -> None:
    assert one(f'{T0}:in_location(time.load_location("America/New_York")):format_rfc3339()') == \
        b"2024-12-29T10:04:05-05:00"


def test_format_rfc3339_ignores_a_reassigned_module_constant() -> None:
    assert one(f'(function() time.RFC3339 = "nope"; return {T0}:format_rfc3339() end)()') == \
        b"2024-12-29T15:04:05Z"


def test_calendar_accessors() -> None:
    assert lua(f"""
        local t = {T0}:add(123456789)
        local y, mo, d = t:date()
        local h, mi, s = t:clock()
        return y, mo, d, h, mi, s, t:year(), t:month(), t:day(), t:hour(), t:minute(), t:second(),
               t:nanosecond(), t:weekday(), t:year_day(), t:weekday() == time.SUNDAY,
               t:month() == time.DECEMBER
    """) == (2024, 12, 29, 15, 4, 5, 2024, 12, 29, 15, 4, 5, 123_456_789, 0, 364, True, True)


def test_calendar_accessors_use_the_time_location() -> None:
    assert lua("""
        local la = time.load_location("America/Los_Angeles")
        local t = time.date(2025, 1, 1, 3, 0, 0, 0, time.utc):in_location(la)
        return t:year(), t:month(), t:day(), t:hour(), t:weekday(), t:year_day()
    """) == (2024, 12, 31, 19, 2, 366)


def test_unix_and_unix_nano() -> None:
    assert lua(f"local t = {T0}:add(7); return t:unix(), t:unix_nano(), math.type(t:unix())") == (
        1_735_484_645, 1_735_484_645_000_000_007, b"integer")


def test_unix_nano_wraps_like_go_outside_int64() -> None:
    assert one("time.date(1, 1, 1, 0, 0, 0, 0, time.utc):unix_nano()") == \
        gotime.date(1, 1, 1, 0, 0, 0, 0, gotime.UTC).unix_nano()


def test_location_conversions() -> None:
    assert lua(f"""
        local ny = time.load_location("America/New_York")
        local t = {T0}
        local there = t:in_location(ny)
        return tostring(there), rawequal(there:location(), ny), there:location():string(),
               tostring(there:utc()), tostring(t:in_local()), rawequal(t:in_local():location(), time.localtz)
    """) == (b"2024-12-29 10:04:05 -0500 EST", True, b"America/New_York", b"2024-12-29 15:04:05 +0000 UTC",
             b"2024-12-29 15:04:05 +0000 UTC", True)


def test_round_and_truncate() -> None:
    assert lua("""
        local t = time.date(2024, 12, 29, 10, 37, 45, 500000000, time.utc)
        local hour, quarter = time.parse_duration("1h"), time.parse_duration("15m")
        return tostring(t:round(hour)), tostring(t:truncate(quarter)),
               tostring(t:round(time.parse_duration("1s"))), tostring(t:truncate(time.parse_duration(0))),
               tostring(t:round(time.parse_duration(-5)))
    """) == (b"2024-12-29 11:00:00 +0000 UTC", b"2024-12-29 10:30:00 +0000 UTC",
             b"2024-12-29 10:37:46 +0000 UTC", b"2024-12-29 10:37:45.5 +0000 UTC",
             b"2024-12-29 10:37:45.5 +0000 UTC")


def test_round_measures_absolute_time_and_keeps_the_location() -> None:
    """Go rounds the instant (since the zero time), not the wall clock: 10:40+00:30 is 10:10 UTC."""
    body = 'return time.date(2024, 1, 1, 10, 40, 0, 0, time.fixed_zone("X", 1800))' \
           ':round(time.parse_duration("1h")):format(time.RFC3339)'
    assert lua(body) == (b"2024-01-01T10:30:00+00:30",)


# -- locations -----------------------------------------------------------------------------------


def test_load_location_returns_one_object_per_zone() -> None:
    assert lua("""
        local a, err = time.load_location("Asia/Tokyo")
        local b = time.load_location("Asia/Tokyo")
        return rawequal(a, b), err, tostring(a), type(a), rawequal(time.load_location("UTC"), time.utc),
               rawequal(time.load_location("Local"), time.localtz)
    """) == (True, None, b"Asia/Tokyo", b"userdata", True, True)


def test_load_location_errors() -> None:
    assert lua("""
        local a, e1 = time.load_location("")
        local b, e2 = time.load_location("Unknown/Zone")
        return a, e1:kind(), b, e2:kind(), e2:message(), e2:retryable(), errors.is(e2, errors.NOT_FOUND)
    """) == (None, b"Invalid", None, b"NotFound", b"unknown time zone Unknown/Zone", False, True)


def test_fixed_zone() -> None:
    assert lua("""
        local ist = time.fixed_zone("IST", 5 * 3600 + 30 * 60)
        local t = time.date(2024, 1, 15, 12, 0, 0, 0, ist)
        return tostring(ist), tostring(t), t:utc():format(time.TIME_ONLY),
               rawequal(ist, time.fixed_zone("IST", 19800)),
               tostring(time.date(2024, 1, 15, 12, 0, 0, 0, time.fixed_zone("PST", -8 * 3600)))
    """) == (b"IST", b"2024-01-15 12:00:00 +0530 IST", b"06:30:00", True, b"2024-01-15 12:00:00 -0800 PST")


# -- argument types raise at the caller's line ---------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("t:add({})", "bad argument #1 to 'add' (number, string or Duration expected, got table)"),
        ("t:add(true)", "bad argument #1 to 'add' (number, string or Duration expected, got boolean)"),
        ("t:sub(5)", "bad argument #1 to 'sub' (Time expected, got number)"),
        ("t:sub(time.parse_duration(5))", "bad argument #1 to 'sub' (Time expected, got userdata)"),
        ("t:after(nil)", "bad argument #1 to 'after' (Time expected, got nil)"),
        ("t:equal('x')", "bad argument #1 to 'equal' (Time expected, got string)"),
        ("t:add_date(1, '2', 3)", "bad argument #2 to 'add_date' (number expected, got string)"),
        ("t:format()", "bad argument #1 to 'format' (string expected, got nil)"),
        ("t:in_location('UTC')", "bad argument #1 to 'in_location' (Location expected, got string)"),
        ("t:round(1000)", "bad argument #1 to 'round' (Duration expected, got number)"),
        ("t:truncate('1h')", "bad argument #1 to 'truncate' (Duration expected, got string)"),
        ("t.year()", "calling 'year' on bad self (Time expected, got nil)"),
        ("t.add(5, 1)", "calling 'add' on bad self (Time expected, got number)"),
        ("time.parse_duration(nil)",
         "bad argument #1 to 'parse_duration' (number, string or Duration expected, got nil)"),
        ("time.date(2024, 1, 1)", "bad argument #4 to 'date' (number expected, got nil)"),
        ("time.date(2024, 1, 1, 0, 0, 0, 0, 'UTC')",
         "bad argument #8 to 'date' (Location expected, got string)"),
        ("time.date(1e300, 1, 1, 0, 0, 0, 0)",
         "bad argument #1 to 'date' (number has no integer representation)"),
        ("time.unix('1', 0)", "bad argument #1 to 'unix' (number expected, got string)"),
        ("time.parse(1, 'x')", "bad argument #1 to 'parse' (string expected, got number)"),
        ("time.parse('x', 'x', 'UTC')", "bad argument #3 to 'parse' (Location expected, got string)"),
        ("time.load_location(nil)", "bad argument #1 to 'load_location' (string expected, got nil)"),
        ("time.fixed_zone('X', '60')", "bad argument #2 to 'fixed_zone' (number expected, got string)"),
        ("time.utc.string({})", "calling 'string' on bad self (Location expected, got table)"),
    ],
)
def test_wrong_argument_types_raise_at_the_lua_line(call: str, message: str) -> None:
    failure = raises(f"local t = {T0}\n\nlocal r = {call}\nreturn r")
    assert failure.message == f"flow.lua:4: {message}"
    assert (failure.file, failure.line) == ("flow.lua", 4)


def test_duration_method_on_bad_self() -> None:
    failure = raises("local d = time.parse_duration(1)\nlocal s = d.seconds(time.now())\nreturn s")
    assert failure.message == "flow.lua:3: calling 'seconds' on bad self (Duration expected, got userdata)"


# -- Python helpers for the runtime ---------------------------------------------------------------


def test_duration_ns_numbers_and_strings() -> None:
    sb = Sandbox()
    assert duration_ns(sb, 5) == 5
    assert duration_ns(sb, 1.9) == 1
    assert duration_ns(sb, -1.9) == -1
    assert duration_ns(sb, 1e9) == 10**9
    assert duration_ns(sb, b"1h30m") == 90 * 60 * 10**9
    assert duration_ns(sb, "1.5s") == 1_500_000_000
    assert duration_ns(sb, b"2\xc2\xb5s") == 2_000  # "µs"


def test_duration_ns_of_a_duration_object() -> None:
    sb = Sandbox()
    d, _ = lua('return time.parse_duration("2m")', sb)
    assert duration_ns(sb, d) == 120 * 10**9


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (b"abc", 'time: invalid duration "abc"'),
        (b"1d", 'time: unknown unit "d" in duration "1d"'),
        (float("nan"), "time: duration out of range: NaN"),
        (1e19, "time: duration out of range: 1e+19"),
        (1 << 63, "time: duration out of range: 9223372036854775808"),
    ],
)
def test_duration_ns_bad_values_raise_value_error(value: Any, message: str) -> None:
    with pytest.raises(ValueError) as info:
        duration_ns(Sandbox(), value)
    assert str(info.value) == message


def test_duration_ns_wrong_types_raise_lua_raise() -> None:
    sb = Sandbox()
    (t, table) = lua("return time.now(), {}", sb)
    for value, name in ((None, "nil"), (True, "boolean"), (t, "userdata"), (table, "table")):
        with pytest.raises(LuaRaise) as info:
            duration_ns(sb, value)
        assert str(info.value) == f"duration expected (number, string or Duration), got {name}"


def test_duration_ns_inside_a_host_function_raises_at_the_lua_line() -> None:
    """The runtime calls it from host functions while a coroutine runs (timer:reset, sleep)."""
    sb = Sandbox()
    to_ns = sb.host_function(lambda v: duration_ns(sb, v))
    require = sb.make_require("test", ["time"], {}, None)
    source = b"\n".join([
        b"local to_ns = ...",
        b'local time = require("time")',
        b'local a = to_ns((time.parse_duration("3s")))',
        b'local b = to_ns("250ms")',
        b"return a, b, to_ns({})",
    ])
    chunk_fn, _ = sb.api.load_chunk(source, b"flow.lua", require, b"t")
    with pytest.raises(LuaFailure) as info:
        sb.call(chunk_fn, to_ns)
    assert info.value.line == 5
    assert "got table" in info.value.message
    chunk_fn, _ = sb.api.load_chunk(source.replace(b", to_ns({})", b""), b"flow.lua", require, b"t")
    assert sb.call(chunk_fn, to_ns) == (3 * 10**9, 250 * 10**6)


def test_time_to_ns() -> None:
    sb = Sandbox()
    values = lua("""
        return time.now():add(5), time.date(1, 1, 1, 0, 0, 0, 0, time.utc), time.parse_duration(1),
               {_sec = 1, _nsec = 2}, setmetatable({}, {__index = function() error("boom") end})
    """, sb)
    now, zero, duration, lookalike, hostile = values
    assert time_to_ns(now) == JAN_2026 + 5
    assert time_to_ns(zero) == -62_135_596_800 * 10**9
    assert [time_to_ns(v) for v in (duration, lookalike, hostile, 5, b"x", None)] == [None] * 6


def test_new_time_is_a_utc_time_of_this_sandbox() -> None:
    sb = Sandbox()
    t = new_time(sb, JAN_2026 + 1)  # before the module is opened
    before_epoch = new_time(sb, -1)
    fn = sb.lua.eval("function(time, t, b) return tostring(t), t:equal(time.now():add(1)), "
                     "rawequal(t:location(), time.utc), tostring(b), b:unix(), type(t) end")
    assert sb.call(fn, open_time(sb), t, before_epoch) == (
        b"2026-01-01 00:00:00.000000001 +0000 UTC", True, True,
        b"1969-12-31 23:59:59.999999999 +0000 UTC", -1, b"userdata")
    assert time_to_ns(t) == JAN_2026 + 1


def test_new_duration() -> None:
    sb = Sandbox()
    d = new_duration(sb, 90 * 60 * 10**9)
    assert sb.call(sb.lua.eval("function(d) return tostring(d), d:minutes(), type(d) end"), d) == (
        b"1h30m0s", 90.0, b"userdata")
    assert duration_ns(sb, d) == 90 * 60 * 10**9
    with pytest.raises(ValueError, match="out of range"):
        new_duration(sb, 1 << 63)


# -- Lua-side arithmetic agrees with the Go reference (gotime) ------------------------------------

_SB = Sandbox()
_ARITH = _SB.lua.eval("""function(time, sec, nsec, d, sec2, nsec2)
    local t, u = time.unix(sec, nsec), time.unix(sec2, nsec2)
    local a = t:add(d)
    return a:unix(), a:nanosecond(), t:sub(u):nanoseconds(), t:before(u), t:after(u), t:equal(u),
           t < u, t <= u, t:unix_nano()
end""")
_SECONDS = st.integers(min_value=-70_000_000_000, max_value=300_000_000_000)
_NANOS = st.integers(min_value=0, max_value=999_999_999)


@settings(max_examples=300, deadline=None)
@given(_SECONDS, _NANOS, st.integers(min_value=INT64_MIN, max_value=INT64_MAX), _SECONDS, _NANOS)
def test_instant_arithmetic_matches_go(sec: int, nsec: int, d: int, sec2: int, nsec2: int) -> None:
    t, u = gotime.unix(sec, nsec), gotime.unix(sec2, nsec2)
    added = t.add(d)
    expected = (added.unix(), added.nanosecond(), t.sub(u), t.before(u), t.after(u), t.equal(u), t.before(u),
                not t.after(u), t.unix_nano())
    assert _SB.call(_ARITH, open_time(_SB), sec, nsec, d, sec2, nsec2) == expected
