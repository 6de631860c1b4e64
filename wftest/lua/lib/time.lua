-- The Lua half of Wippy's `time` module: Time, Duration and Location objects and the
-- non-yielding module functions. Objects are plain tables tagged by their metatable's `__wippy`.
-- A Time keeps its instant as two Lua integers (`_sec` since 1970 UTC, `_nsec` in [0, 1e9)) so that Go's
-- whole range (year 1 and beyond) stays exact; instant arithmetic and comparisons happen here, and only
-- calendar and layout work crosses to Python through `py(op, ...)` (wftest.lua.modules.time, gotime).
-- This file runs once per sandbox and its cost grows with the number of function prototypes, so
-- methods of the same shape come from small factories. Arguments: the host table, then the layout
-- constants as name, layout pairs. Returns the module table and what the Python side needs (see the end).
local host = ...

local getmetatable, setmetatable, error, type, select = getmetatable, setmetatable, error, type, select
local math_type, tointeger, floor, ceil = math.type, math.tointeger, math.floor, math.ceil
local maxinteger, mininteger = math.maxinteger, math.mininteger
local str_format = string.format
local new_error, py, now_ns = host.new_error, host.py, host.now_ns

local SECOND = 1000000000
local ZERO_SEC = -62135596800 -- Go's zero Time, January 1 of year 1 UTC

local TIME_MT = {__wippy = "time", __name = "Time"}
local DURATION_MT = {__wippy = "duration", __name = "Duration"}
local LOCATION_MT = {__wippy = "location", __name = "Location"}
local T, D, L = {}, {}, {}
TIME_MT.__index, DURATION_MT.__index, LOCATION_MT.__index = T, D, L
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

local parsed, n_parsed = {}, 0 -- duration strings parsed so far (up to 256): loops repeat the same ones

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
    local ns = parsed[v]
    if ns ~= nil then return ns end
    local err
    ns, err = py("parse_duration", v)
    if ns ~= nil and n_parsed < 256 then
        parsed[v], n_parsed = ns, n_parsed + 1
    end
    return ns, err
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

local function new_time(sec, nsec, loc)
    return setmetatable({_sec = sec, _nsec = nsec, _loc = loc}, TIME_MT)
end

local function new_duration(ns)
    return setmetatable({_ns = ns}, DURATION_MT)
end

-- -1, 0 or 1 as `a` orders before, with or after `b`, by field `f1` then `f2`.
local function order(a, b, f1, f2)
    local x, y = a[f1], b[f1]
    if x == y then x, y = a[f2], b[f2] end
    if x < y then return -1 end
    return x == y and 0 or 1
end

-- Methods that read one field of a checked self.
local function getter(methods, mt, name, field)
    methods[name] = function(self) return check(self, mt, 0, name)[field] end
end
getter(T, TIME_MT, "unix", "_sec")
getter(T, TIME_MT, "nanosecond", "_nsec")
getter(T, TIME_MT, "location", "_loc")
getter(D, DURATION_MT, "nanoseconds", "_ns")
getter(L, LOCATION_MT, "string", "_name")
LOCATION_MT.__tostring = L.string

---------------------------------------------------------------------------------------------------
-- Time methods

-- Go Time.Add: whole seconds and the nanosecond remainder separately, so nothing overflows.
function T:add(d)
    check(self, TIME_MT, 0, "add")
    local ns, err = duration_arg(d, 1, "add")
    if ns == nil then return nil, new_error("Invalid", err, false, nil) end
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

-- Go Time.UnixNano: int64 arithmetic that wraps outside 1678-2262, exactly as Lua integers do.
function T:unix_nano()
    check(self, TIME_MT, 0, "unix_nano")
    return self._sec * SECOND + self._nsec
end

function T:is_zero()
    check(self, TIME_MT, 0, "is_zero")
    return self._sec == ZERO_SEC and self._nsec == 0
end

function T:format(layout)
    check(self, TIME_MT, 0, "format")
    string_arg(layout, 1, "format")
    return py("format", self._sec, self._nsec, self._loc._id, layout)
end

-- after / before / equal: whether `self` orders `want` (-1, 0, 1) against another Time.
local function comparison(name, want)
    T[name] = function(self, u)
        check(self, TIME_MT, 0, name)
        check(u, TIME_MT, 1, name)
        return order(self, u, "_sec", "_nsec") == want
    end
end
comparison("before", -1)
comparison("equal", 0)
comparison("after", 1)

-- The same instant in another location: `loc`, or the method's argument when nil (in_location).
local function relocate(name, loc)
    T[name] = function(self, arg)
        check(self, TIME_MT, 0, name)
        return new_time(self._sec, self._nsec, loc or check(arg, LOCATION_MT, 1, name))
    end
end
relocate("utc", UTC)
relocate("in_local", LOCAL)
relocate("in_location", nil)

-- Calendar fields, computed in the Time's zone by Python op `op`, which returns several values; `pick`
-- selects one of them (nil: the method returns them all).
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

-- round / truncate: a Duration only (as in Wippy), measured from Go's zero time.
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

TIME_MT.__tostring = function(t) return py("string", t._sec, t._nsec, t._loc._id) end

---------------------------------------------------------------------------------------------------
-- Duration methods: Go's truncating integer conversions and whole-plus-remainder float conversions.

local function unit_method(name, unit, fractional)
    D[name] = function(self)
        local ns = check(self, DURATION_MT, 0, name)._ns
        local whole = ns // unit
        if whole < 0 and whole * unit ~= ns then whole = whole + 1 end -- Go's `/` truncates toward zero
        if fractional then return whole + (ns - whole * unit) / unit end
        return whole
    end
end
unit_method("microseconds", 1000, false)
unit_method("milliseconds", 1000000, false)
unit_method("seconds", SECOND, true)
unit_method("minutes", 60 * SECOND, true)
unit_method("hours", 3600 * SECOND, true)

DURATION_MT.__tostring = function(d) return py("format_duration", d._ns) end

---------------------------------------------------------------------------------------------------
-- Comparison operators: Times compare as instants, Durations as lengths; `==` with anything else is
-- false, `<`/`<=` with anything else is an error as for plain Lua values.

local function relation(mt, f1, f2, lo, hi, is_eq)
    return function(a, b)
        if getmetatable(a) ~= mt or getmetatable(b) ~= mt then
            if is_eq then return false end
            error(str_format("attempt to compare %s with %s", type(a), type(b)), 2)
        end
        local o = order(a, b, f1, f2)
        return o == lo or o == hi
    end
end
TIME_MT.__eq = relation(TIME_MT, "_sec", "_nsec", 0, 0, true)
TIME_MT.__lt = relation(TIME_MT, "_sec", "_nsec", -1, -1, false)
TIME_MT.__le = relation(TIME_MT, "_sec", "_nsec", -1, 0, false)
DURATION_MT.__eq = relation(DURATION_MT, "_ns", "_ns", 0, 0, true)
DURATION_MT.__lt = relation(DURATION_MT, "_ns", "_ns", -1, -1, false)
DURATION_MT.__le = relation(DURATION_MT, "_ns", "_ns", -1, 0, false)

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
for i = 2, select("#", ...), 2 do
    local name, layout = select(i, ...)
    time[name] = layout
end

local RFC3339 = time.RFC3339
function T:format_rfc3339()
    check(self, TIME_MT, 0, "format_rfc3339")
    return py("format", self._sec, self._nsec, self._loc._id, RFC3339)
end

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
    if sec == nil then return nil, new_error("Invalid", nsec_or_err, false, nil) end
    return new_time(sec, nsec_or_err, location(id, zone)), nil
end

function time.parse_duration(v)
    local ns, err = duration_arg(v, 1, "parse_duration")
    if ns == nil then return nil, new_error("Invalid", err, false, nil) end
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

-- module, the UTC Location, new_time(sec, nsec, loc), new_duration(ns), and duration_of(v): the
-- nanoseconds of a Duration object, or nil and the (Wippy) type name of anything else.
return time, UTC, new_time, new_duration, function(v)
    if getmetatable(v) == DURATION_MT then return v._ns, nil end
    return nil, type(v)
end
