-- The Lua half of Wippy's `time` module (spec §1.3): Time, Duration and Location objects and the
-- non-yielding module functions. Objects are plain tables tagged by their metatable's `__wippy`.
-- A Time keeps its instant as two Lua integers (`_sec` since 1970 UTC, `_nsec` in [0, 1e9)) so that Go's
-- whole range (year 1 and beyond) stays exact; instant arithmetic and comparisons happen here, and only
-- calendar and layout work crosses to Python through `py(op, ...)` (wftest.lua.modules.time, gotime).
-- Similar methods are made by small factories: fewer function prototypes load faster, and this file is
-- loaded once per sandbox. Returns the module table and the private constructors Python uses.
local host = ...

local getmetatable, setmetatable, error, type, select = getmetatable, setmetatable, error, type, select
local math_type, tointeger, floor, ceil = math.type, math.tointeger, math.floor, math.ceil
local maxinteger, mininteger = math.maxinteger, math.mininteger
local str_format = string.format
local new_error, py, now_ns = host.new_error, host.py, host.now_ns

local SECOND = 1000000000
local ZERO_SEC = -62135596800 -- Go's zero Time, January 1 of year 1 UTC

local TIME_MT = {__wippy = "time"}
local DURATION_MT = {__wippy = "duration"}
local LOCATION_MT = {__wippy = "location"}
local T, D, L = {}, {}, {}
TIME_MT.__index = T
DURATION_MT.__index = D
LOCATION_MT.__index = L
-- Lets Python recognise a Time from the table alone (wftest.lua.modules.time.time_to_ns).
T["\0time"] = true

---------------------------------------------------------------------------------------------------
-- Argument checks. Wrong types raise at the user's line: `bad_arg` is only ever called by a checker,
-- and checkers only directly by the function the user called (never as tail calls).

local function bad_arg(n, fname, what)
    if n == 0 then error(str_format("calling '%s' on bad self (%s)", fname, what), 4) end
    error(str_format("bad argument #%d to '%s' (%s)", n, fname, what), 4)
end

local function check(v, mt, n, fname)
    if getmetatable(v) ~= mt then bad_arg(n, fname, mt.__name .. " expected, got " .. type(v)) end
    return v
end
TIME_MT.__name, DURATION_MT.__name, LOCATION_MT.__name = "Time", "Duration", "Location"

-- Go converts a float to an integer by truncating toward zero; nil when there is no int64 for it.
local function trunc(x)
    if x ~= x then return nil end
    return tointeger(x >= 0 and floor(x) or ceil(x))
end

local function int_arg(v, n, fname)
    local kind = math_type(v)
    if kind == "integer" then return v end
    if kind == nil then bad_arg(n, fname, "number expected, got " .. type(v)) end
    local i = trunc(v)
    if i == nil then bad_arg(n, fname, "number has no integer representation") end
    return i
end

local function string_arg(v, n, fname)
    if type(v) ~= "string" then bad_arg(n, fname, "string expected, got " .. type(v)) end
    return v
end

-- Nanoseconds from a number (floats truncated), a Go duration string or a Duration; nil, message for a
-- bad value (the caller returns it as an Invalid error).
local function duration_arg(v, n, fname)
    if getmetatable(v) == DURATION_MT then return v._ns end
    local kind = math_type(v)
    if kind == "integer" then return v end
    if kind == "float" then
        local i = trunc(v)
        if i == nil then
            return nil, "time: duration out of range: " .. (v ~= v and "NaN" or str_format("%.17g", v))
        end
        return i
    end
    if type(v) ~= "string" then bad_arg(n, fname, "number, string or Duration expected, got " .. type(v)) end
    return py("parse_duration", v)
end

local function invalid(message)
    return new_error("Invalid", message, false, nil)
end

---------------------------------------------------------------------------------------------------
-- Objects. One Location table per location id, so the same zone always yields the same table.

local locations = {}
local function location(id, name)
    local loc = locations[id]
    if loc == nil then
        loc = setmetatable({_id = id, _name = name}, LOCATION_MT)
        locations[id] = loc
    end
    return loc
end
local UTC = location(1, "UTC")
local LOCAL = location(2, "Local")

function L:string()
    return check(self, LOCATION_MT, 0, "string")._name
end
LOCATION_MT.__tostring = function(loc) return loc._name end

local function new_time(sec, nsec, loc)
    return setmetatable({_sec = sec, _nsec = nsec, _loc = loc}, TIME_MT)
end

local function new_duration(ns)
    return setmetatable({_ns = ns}, DURATION_MT)
end

local function before(a, b)
    return a._sec < b._sec or (a._sec == b._sec and a._nsec < b._nsec)
end

---------------------------------------------------------------------------------------------------
-- Time methods

-- Go Time.Add: whole seconds and the nanosecond remainder separately, so nothing overflows.
function T:add(d)
    check(self, TIME_MT, 0, "add")
    local ns, err = duration_arg(d, 1, "add")
    if ns == nil then return nil, invalid(err) end
    local sec, nsec = self._sec + ns // SECOND, self._nsec + ns % SECOND
    if nsec >= SECOND then sec, nsec = sec + 1, nsec - SECOND end
    return new_time(sec, nsec, self._loc)
end

-- Go Time.Sub, saturating at the Duration limits like Go.
function T:sub(u)
    check(self, TIME_MT, 0, "sub")
    check(u, TIME_MT, 1, "sub")
    local ds, dn = self._sec - u._sec, self._nsec - u._nsec
    if dn < 0 then ds, dn = ds - 1, dn + SECOND end
    if ds > 9223372036 or (ds == 9223372036 and dn > 854775807) then return new_duration(maxinteger) end
    if ds < -9223372037 or (ds == -9223372037 and dn < 145224192) then return new_duration(mininteger) end
    return new_duration(ds * SECOND + dn) -- wraps back into range where ds * SECOND alone would not fit
end

function T:add_date(years, months, days)
    check(self, TIME_MT, 0, "add_date")
    local y = int_arg(years, 1, "add_date")
    local m = int_arg(months, 2, "add_date")
    local d = int_arg(days, 3, "add_date")
    local sec, nsec = py("add_date", self._sec, self._nsec, self._loc._id, y, m, d)
    return new_time(sec, nsec, self._loc)
end

-- after / before / equal: `test(self, other)` on two checked Times.
local function comparison(name, test)
    T[name] = function(self, u)
        check(self, TIME_MT, 0, name)
        check(u, TIME_MT, 1, name)
        return test(self, u)
    end
end
comparison("after", function(a, b) return before(b, a) end)
comparison("before", before)
comparison("equal", function(a, b) return a._sec == b._sec and a._nsec == b._nsec end)

function T:format(layout)
    check(self, TIME_MT, 0, "format")
    string_arg(layout, 1, "format")
    return py("format", self._sec, self._nsec, self._loc._id, layout)
end

local RFC3339 = host.layouts.RFC3339
function T:format_rfc3339()
    check(self, TIME_MT, 0, "format_rfc3339")
    return py("format", self._sec, self._nsec, self._loc._id, RFC3339)
end

function T:unix()
    return check(self, TIME_MT, 0, "unix")._sec
end

-- Go Time.UnixNano: int64 arithmetic that wraps outside 1678-2262, exactly as Lua integers do.
function T:unix_nano()
    check(self, TIME_MT, 0, "unix_nano")
    return self._sec * SECOND + self._nsec
end

function T:nanosecond()
    return check(self, TIME_MT, 0, "nanosecond")._nsec
end

function T:is_zero()
    check(self, TIME_MT, 0, "is_zero")
    return self._sec == ZERO_SEC and self._nsec == 0
end

function T:location()
    return check(self, TIME_MT, 0, "location")._loc
end

function T:in_location(loc)
    check(self, TIME_MT, 0, "in_location")
    check(loc, LOCATION_MT, 1, "in_location")
    return new_time(self._sec, self._nsec, loc)
end

-- Calendar fields, computed in the Time's zone by Python: `op` returns several values; `pick` selects
-- one of them (nil: the method returns them all).
local function calendar(name, op, pick)
    T[name] = function(self)
        check(self, TIME_MT, 0, name)
        if pick == nil then return py(op, self._sec, self._loc._id) end
        return (select(pick, py(op, self._sec, self._loc._id)))
    end
end
calendar("date", "date")
calendar("year", "date", 1)
calendar("month", "date", 2)
calendar("day", "date", 3)
calendar("clock", "clock")
calendar("hour", "clock", 1)
calendar("minute", "clock", 2)
calendar("second", "clock", 3)
calendar("weekday", "weekday")
calendar("year_day", "year_day")

local function in_zone(name, loc)
    T[name] = function(self)
        check(self, TIME_MT, 0, name)
        return new_time(self._sec, self._nsec, loc)
    end
end
in_zone("utc", UTC)
in_zone("in_local", LOCAL)

local function rounding(name, nearest)
    T[name] = function(self, d)
        check(self, TIME_MT, 0, name)
        check(d, DURATION_MT, 1, name)
        local sec, nsec = py("round", self._sec, self._nsec, d._ns, nearest)
        return new_time(sec, nsec, self._loc)
    end
end
rounding("round", true)
rounding("truncate", false)

---------------------------------------------------------------------------------------------------
-- Duration methods: Go's truncating integer conversions and whole-plus-remainder float conversions.

local function trunc_div(ns, unit)
    local q = ns // unit
    if q < 0 and q * unit ~= ns then q = q + 1 end
    return q
end

local function unit_method(name, unit, fractional)
    D[name] = function(self)
        local ns = check(self, DURATION_MT, 0, name)._ns
        local whole = trunc_div(ns, unit)
        if fractional then return whole + (ns - whole * unit) / unit end
        return whole
    end
end
unit_method("nanoseconds", 1, false)
unit_method("microseconds", 1000, false)
unit_method("milliseconds", 1000000, false)
unit_method("seconds", SECOND, true)
unit_method("minutes", 60 * SECOND, true)
unit_method("hours", 3600 * SECOND, true)

---------------------------------------------------------------------------------------------------
-- Metamethods: Go String() for tostring; Times compare as instants, Durations as lengths.

TIME_MT.__tostring = function(t) return py("string", t._sec, t._nsec, t._loc._id) end
DURATION_MT.__tostring = function(d) return py("format_duration", d._ns) end

-- `key(v)` orders values of metatable `mt`: two integers for a Time, one for a Duration.
local function comparable(mt, key)
    local function keys(a, b)
        if getmetatable(a) ~= mt or getmetatable(b) ~= mt then
            error(str_format("attempt to compare %s with %s", type(a), type(b)), 3)
        end
        local a1, a2 = key(a)
        local b1, b2 = key(b)
        return a1, a2, b1, b2
    end
    mt.__eq = function(a, b)
        if getmetatable(a) ~= mt or getmetatable(b) ~= mt then return false end
        local a1, a2, b1, b2 = keys(a, b)
        return a1 == b1 and a2 == b2
    end
    mt.__lt = function(a, b)
        local a1, a2, b1, b2 = keys(a, b)
        return a1 < b1 or (a1 == b1 and a2 < b2)
    end
    mt.__le = function(a, b)
        local a1, a2, b1, b2 = keys(a, b)
        return a1 < b1 or (a1 == b1 and a2 <= b2)
    end
end
comparable(TIME_MT, function(t) return t._sec, t._nsec end)
comparable(DURATION_MT, function(d) return d._ns, 0 end)

---------------------------------------------------------------------------------------------------
-- The module

local time = {
    NANOSECOND = 1.0, MICROSECOND = 1e3, MILLISECOND = 1e6, SECOND = 1e9, MINUTE = 6e10, HOUR = 3.6e12,
    JANUARY = 1, FEBRUARY = 2, MARCH = 3, APRIL = 4, MAY = 5, JUNE = 6, JULY = 7, AUGUST = 8,
    SEPTEMBER = 9, OCTOBER = 10, NOVEMBER = 11, DECEMBER = 12,
    SUNDAY = 0, MONDAY = 1, TUESDAY = 2, WEDNESDAY = 3, THURSDAY = 4, FRIDAY = 5, SATURDAY = 6,
    utc = UTC,
    localtz = LOCAL,
}
for name, layout in next, host.layouts do time[name] = layout end

function time.now()
    local ns = now_ns()
    return new_time(ns // SECOND, ns % SECOND, UTC)
end

function time.date(year, month, day, hour, min, sec, nsec, loc)
    local y = int_arg(year, 1, "date")
    local mo = int_arg(month, 2, "date")
    local d = int_arg(day, 3, "date")
    local h = int_arg(hour, 4, "date")
    local mi = int_arg(min, 5, "date")
    local s = int_arg(sec, 6, "date")
    local ns = int_arg(nsec, 7, "date")
    if loc == nil then loc = LOCAL else check(loc, LOCATION_MT, 8, "date") end
    local usec, unsec = py("date_of", y, mo, d, h, mi, s, ns, loc._id)
    return new_time(usec, unsec, loc)
end

-- Go time.Unix: an out-of-range nsec carries into the seconds; the result is in Local.
function time.unix(sec, nsec)
    local s = int_arg(sec, 1, "unix")
    local ns = int_arg(nsec, 2, "unix")
    return new_time(s + ns // SECOND, ns % SECOND, LOCAL)
end

function time.parse(layout, value, loc)
    string_arg(layout, 1, "parse")
    string_arg(value, 2, "parse")
    if loc ~= nil then check(loc, LOCATION_MT, 3, "parse") end
    local sec, nsec_or_err, id, zone = py("parse", layout, value, loc and loc._id)
    if sec == nil then return nil, invalid(nsec_or_err) end
    return new_time(sec, nsec_or_err, location(id, zone)), nil
end

function time.parse_duration(v)
    local ns, err = duration_arg(v, 1, "parse_duration")
    if ns == nil then return nil, invalid(err) end
    return new_duration(ns), nil
end

function time.load_location(name)
    string_arg(name, 1, "load_location")
    local id, zone_or_kind, message = py("load_location", name)
    if id == nil then return nil, new_error(zone_or_kind, message, false, nil) end
    return location(id, zone_or_kind), nil
end

function time.fixed_zone(name, offset)
    string_arg(name, 1, "fixed_zone")
    local off = int_arg(offset, 2, "fixed_zone")
    return location(py("fixed_zone", name, off), name)
end

return {
    module = time,
    new_time = function(sec, nsec) return new_time(sec, nsec, UTC) end,
    new_duration = new_duration,
    -- nanoseconds of a Duration object, or nil for anything else
    duration_of = function(v) return getmetatable(v) == DURATION_MT and v._ns or nil end,
}
