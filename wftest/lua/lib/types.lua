--[[
Run-time side of Wippy's typed Lua. wftest/lua/dialect/ turns each `type`/`interface`
declaration into `Name = __wftype("Name", function(__t) return <descriptor> end)`; this chunk defines
`__wftype`, the descriptor constructors passed as `__t`, and the callable primitive types. Run it once in a
Lua state before any erased code. It captures the global `errors` when it runs: validation failures are
`errors.new({kind = "Invalid", message = ...})` objects, or plain strings when `errors` is nil.

A type value T (declared, or one of the globals `integer`, `number`, `boolean`) supports
  T(v)        v if it conforms, else raises the failure (primitive types convert instead, see below)
  T:is(v)     v, nil  or  nil, failure (never converts)
  T:name()    the declared name, or a rendering such as "{number}" or "string?"
  T:kind()    "record", "interface", "union", "intersection", "array", "map", "optional", "literal",
              "function", or the primitive's name; a declared type reports the kind of its definition
  T:fields()  iterator of (name, type) over the members of a record or interface, in declaration order
  T.field     the type of a member (the methods above win over members of the same name)
  T:elem()    element type of an array; T:key() and T:val() of a map; T:inner() of an optional;
  T:variants() iterator over the members of a union. Function types keep no parameter or result types:
  T:params() and T:ret() raise an error saying so

How deep validation goes:
  - primitives by type(): number, string, boolean, table, thread, userdata; integer = a Lua integer or a
    float with an integral value; nil; any and unknown accept everything (nil too), never nothing;
    error accepts tables, userdata and strings
  - literal types by ==; T? is nil or T; a union needs one member to match, an intersection all of them
  - record: a table; each declared field is checked recursively, a nil optional field is fine, keys not
    declared are allowed, and with a [K]: V indexer every undeclared key/value is checked against it
  - interface: a table or userdata whose members are present and conform (methods must be callable)
  - array {T}: a table whose keys are exactly 1..#t, each element a T; map {[K]: V}: every key and value
  - function types: a function or a value with a __call metamethod; parameters/results are not checked
  - validators: @min/@max on numbers, @min_len/@max_len on the length of strings and tables, @pattern on
    strings as a regular expression in Go's syntax (RE2), found anywhere unless anchored; other values
    skip them. Failures name the bound: "minimum", "maximum", "minimum length", "maximum length", "pattern"
  - a generic declaration is built with its arguments (`Box<string>` checks `value` as a string); a
    missing argument is the parameter's default, else any; `readonly T` is checked as T; a reference to
    another type is resolved on first use; a table already being checked against the same declared type
    is accepted (cycles)

Conversions when a primitive type is called (T:is never converts):
  integer(x)  integers; floats with an integral value; strings that tonumber() reads as an integral value
  number(x)   numbers; strings that tonumber() reads
  string(x)   strings; numbers via tostring (the string library gets a __call metamethod, nothing else)
  boolean(x)  booleans only
--]]

local type, pairs, ipairs, error, tostring, tonumber = type, pairs, ipairs, error, tostring, tonumber
local setmetatable, getmetatable = setmetatable, getmetatable
local math_type, tointeger = math.type, math.tointeger
local format, gsub, sub, match = string.format, string.gsub, string.sub, string.match
local concat, unpack = table.concat, table.unpack
local string_lib = string
local errors_lib = errors

-- The private key (every type value keeps its descriptor at t[D]) and the metatable of type values;
-- a host that makes type values before running this chunk passes its own. `regex_find(pattern, s)` is
-- the host's regular-expression search (Go's regexp syntax), which @pattern needs.
local D, TypeMT, regex_find = ...
D, TypeMT = D or {}, TypeMT or {}
local Type = {}     -- methods of type values
local CHECK = {}    -- tag -> function(t, d, v, path, seen): nil or a failure message
local T = {}        -- descriptor constructors, passed to declarations as __t

local function new(d)
  return setmetatable({[D] = d}, TypeMT)
end

local function failure(message)
  if errors_lib then
    return errors_lib.new({kind = "Invalid", message = message})
  end
  return message
end

local function show(v)
  local tv = type(v)
  if tv == "string" then
    if #v > 40 then v = sub(v, 1, 37) .. "..." end
    return "string " .. gsub(format("%q", v), "\\\n", "\\n")
  elseif tv == "number" then
    return math_type(v) .. " " .. tostring(v)
  elseif tv == "boolean" then
    return tostring(v)
  end
  return tv
end

local function key_path(path, key)
  if type(key) == "string" and match(key, "^[%a_][%w_]*$") then
    return path .. "." .. key
  end
  return path .. "[" .. (type(key) == "string" and format("%q", key) or tostring(key)) .. "]"
end

local function callable(v)
  if type(v) == "function" then return true end
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__call ~= nil
end

-- Declared types are resolved lazily: `build` may name types declared further down the block.
local function definition(d)
  local body = d.body
  if body == nil then
    body = d.build(T)
    d.body = body
  end
  return body
end

local describe

-- `Box<string>`: the generic declaration's build function called with the arguments. Instances are
-- kept per generic and argument values, so that `List<T>` inside List's own body is the instance being
-- checked (cyclic data then ends, as for any declared type).
local INSTANCE = {}

local function instantiate(generic, d)
  local args = d.args
  local node = generic.instances
  if node == nil then
    node = {}
    generic.instances = node
  end
  for _, arg in ipairs(args) do
    local next_node = node[arg]
    if next_node == nil then
      next_node = {}
      node[arg] = next_node
    end
    node = next_node
  end
  local instance = node[INSTANCE]
  if instance == nil then
    local shown = {}
    for i, arg in ipairs(args) do shown[i] = describe(arg) end
    local build = generic.build
    instance = new({
      tag = "named",
      name = d.name .. "<" .. concat(shown, ", ") .. ">",
      build = function(t) return build(t, unpack(args)) end,
    })
    node[INSTANCE] = instance
  end
  return instance
end

local function referent(d)
  local target = d.target
  if target == nil then
    target = d.get()
    if type(target) ~= "table" or getmetatable(target) ~= TypeMT then
      error(format("type '%s' is not defined", d.name), 0)
    end
    if d.args and target[D].tag == "named" then
      target = instantiate(target[D], d)
    end
    d.target = target
  end
  return target
end

-- The type behind names, references and validators (what :kind(), :fields() and T.field look at).
local function underlying(t)
  while true do
    local d = t[D]
    if d.tag == "named" then
      t = definition(d)
    elseif d.tag == "ref" then
      t = referent(d)
    elseif d.tag == "checked" then
      t = d.inner
    else
      return t, d
    end
  end
end

local function describe_list(items, sep)
  local out = {}
  for i, item in ipairs(items) do out[i] = describe(item) end
  return concat(out, sep)
end

local DESCRIBE = {
  prim = function(d) return d.name end,
  named = function(d) return d.name or describe(definition(d)) end,
  ref = function(d)
    if d.args == nil then return d.name end
    local shown = {}
    for i, arg in ipairs(d.args) do shown[i] = describe(arg) end
    return d.name .. "<" .. concat(shown, ", ") .. ">"
  end,
  literal = function(d)
    return type(d.value) == "string" and format("%q", d.value) or tostring(d.value)
  end,
  optional = function(d)
    local inner = describe(d.inner)
    local tag = d.inner[D].tag
    if tag == "union" or tag == "intersection" then inner = "(" .. inner .. ")" end
    return inner .. "?"
  end,
  union = function(d) return describe_list(d.items, " | ") end,
  intersection = function(d) return describe_list(d.items, " & ") end,
  array = function(d) return "{" .. describe(d.elem) .. "}" end,
  map = function(d) return "{[" .. describe(d.key) .. "]: " .. describe(d.value) .. "}" end,
  ["function"] = function() return "function" end,
  checked = function(d)
    local out = {describe(d.inner)}
    for i, c in ipairs(d.checks) do
      out[i + 1] = format(type(c[2]) == "string" and "@%s(%q)" or "@%s(%s)", c[1], c[2])
    end
    return concat(out, " ")
  end,
}

local function describe_members(d)
  local out = {}
  for i, f in ipairs(d.fields) do
    out[i] = (type(f.name) == "string" and f.name or tostring(f.name)) .. (f.optional and "?: " or ": ")
      .. describe(f.type)
  end
  if d.key then out[#out + 1] = "[" .. describe(d.key) .. "]: " .. describe(d.value) end
  return "{" .. concat(out, ", ") .. "}"
end
DESCRIBE.record = describe_members
DESCRIBE.interface = describe_members

describe = function(t)
  local d = t[D]
  return DESCRIBE[d.tag](d)
end

local function check(t, v, path, seen)
  local d = t[D]
  return CHECK[d.tag](t, d, v, path, seen)
end

local function mismatch(path, expected, v)
  return path .. ": expected " .. expected .. ", got " .. show(v)
end

CHECK.prim = function(_, d, v, path)
  if d.test(v) then return nil end
  return mismatch(path, d.name, v)
end

CHECK.literal = function(t, d, v, path)
  if v == d.value then return nil end
  return mismatch(path, describe(t), v)
end

CHECK.optional = function(_, d, v, path, seen)
  if v == nil then return nil end
  return check(d.inner, v, path, seen)
end

CHECK.union = function(t, d, v, path, seen)
  for _, item in ipairs(d.items) do
    if check(item, v, path, seen) == nil then return nil end
  end
  return mismatch(path, describe(t), v)
end

CHECK.intersection = function(_, d, v, path, seen)
  for _, item in ipairs(d.items) do
    local err = check(item, v, path, seen)
    if err then return err end
  end
  return nil
end

local function check_members(d, v, path, seen)
  for _, f in ipairs(d.fields) do
    local value = v[f.name]
    if value ~= nil or not f.optional then
      local err = check(f.type, value, key_path(path, f.name), seen)
      if err then return err end
    end
  end
  if d.key then
    for key, value in pairs(v) do
      if d.byname[key] == nil then
        local err = check(d.key, key, path .. " (key)", seen) or check(d.value, value, key_path(path, key), seen)
        if err then return err end
      end
    end
  end
  return nil
end

CHECK.record = function(_, d, v, path, seen)
  if type(v) ~= "table" then return mismatch(path, "table", v) end
  return check_members(d, v, path, seen)
end

CHECK.interface = function(_, d, v, path, seen)
  local tv = type(v)
  if tv ~= "table" and tv ~= "userdata" then return mismatch(path, "table or userdata", v) end
  return check_members(d, v, path, seen)
end

CHECK.array = function(_, d, v, path, seen)
  if type(v) ~= "table" then return mismatch(path, "table", v) end
  local n = #v
  for key in pairs(v) do
    if math_type(key) ~= "integer" or key < 1 or key > n then
      return path .. ": expected an array, got key " .. show(key)
    end
  end
  for i = 1, n do
    local err = check(d.elem, v[i], path .. "[" .. i .. "]", seen)
    if err then return err end
  end
  return nil
end

CHECK.map = function(_, d, v, path, seen)
  if type(v) ~= "table" then return mismatch(path, "table", v) end
  for key, value in pairs(v) do
    local err = check(d.key, key, path .. " (key)", seen) or check(d.value, value, key_path(path, key), seen)
    if err then return err end
  end
  return nil
end

CHECK["function"] = function(_, _, v, path)
  if callable(v) then return nil end
  return mismatch(path, "function", v)
end

local VALIDATE = {
  min = function(v, n)
    if type(v) == "number" and v < n then return format("%s is below the minimum %s", show(v), n) end
  end,
  max = function(v, n)
    if type(v) == "number" and v > n then return format("%s is above the maximum %s", show(v), n) end
  end,
  min_len = function(v, n)
    local tv = type(v)
    if (tv == "string" or tv == "table") and #v < n then
      return format("length %d is below the minimum length %s", #v, n)
    end
  end,
  max_len = function(v, n)
    local tv = type(v)
    if (tv == "string" or tv == "table") and #v > n then
      return format("length %d is above the maximum length %s", #v, n)
    end
  end,
  pattern = function(v, p)
    if type(v) ~= "string" then return nil end
    if regex_find == nil then error("@pattern needs the host's regular expressions", 0) end
    if not regex_find(p, v) then return format("%s does not match the pattern %q", show(v), p) end
  end,
}

CHECK.checked = function(_, d, v, path, seen)
  local err = check(d.inner, v, path, seen)
  if err then return err end
  for _, c in ipairs(d.checks) do
    err = VALIDATE[c[1]](v, c[2])
    if err then return path .. ": " .. err end
  end
  return nil
end

CHECK.ref = function(_, d, v, path, seen)
  return check(referent(d), v, path, seen)
end

CHECK.named = function(t, d, v, path, seen)
  local body = definition(d)
  if type(v) ~= "table" then return check(body, v, path, seen) end
  local active = seen[v]
  if active == nil then
    active = {}
    seen[v] = active
  end
  if active[t] then return nil end
  active[t] = true
  local err = check(body, v, path, seen)
  active[t] = nil
  return err
end

-- Methods and metamethods of type values.

function Type.is(self, v)
  local err = check(self, v, describe(self), {})
  if err == nil then return v, nil end
  return nil, failure(err)
end

function Type.name(self)
  return describe(self)
end

function Type.kind(self)
  local _, d = underlying(self)
  return d.tag == "prim" and d.name or d.tag
end

function Type.fields(self)
  local _, d = underlying(self)
  if d.tag ~= "record" and d.tag ~= "interface" then
    error(describe(self) .. " is not a record or interface", 2)
  end
  local i = 0
  return function()
    i = i + 1
    local f = d.fields[i]
    if f then return f.name, f.field_type end
  end
end

-- Reflection that only some kinds have, looked up by kind so that record fields of the same names
-- (`key`, `params`, ...) stay reachable as T.key.
local function part(name)
  return function(self)
    local _, d = underlying(self)
    return d[name]
  end
end

local function not_kept(what)
  return function(self)
    error(format("%s: wftest keeps no %s of function types (only that the value is callable)",
      describe(self), what), 2)
  end
end

local KIND_METHODS = {
  array = {elem = part("elem")},
  map = {key = part("key"), val = part("value")},
  optional = {inner = part("inner")},
  union = {
    variants = function(self)
      local _, d = underlying(self)
      local i = 0
      return function()
        i = i + 1
        return d.items[i]
      end
    end,
  },
  ["function"] = {params = not_kept("parameter types"), ret = not_kept("result types")},
}

TypeMT.__index = function(self, key)
  local method = Type[key]
  if method ~= nil then return method end
  local _, d = underlying(self)
  local by_kind = KIND_METHODS[d.tag]
  method = by_kind and by_kind[key]
  if method ~= nil then return method end
  local f = d.byname and d.byname[key]
  return f and f.field_type
end

-- T(v): the converted or checked value, or nil and a failure message.
local function conform(self, v)
  local d = self[D]
  if d.cast then return d.cast(v) end
  local err = check(self, v, describe(self), {})
  if err then return nil, err end
  return v
end

-- Not tail calls, so that level 2 is the caller's line.
TypeMT.__call = function(self, v)
  local out, err = conform(self, v)
  if err then error(failure(err), 2) end
  return out
end

-- Descriptor constructors (the `__t` of erased declarations).

local function cannot(v, to)
  return nil, format("cannot cast %s to %s", show(v), to)
end

local CASTS = {
  integer = function(v)
    local tv = type(v)
    local n = v
    if tv == "string" then n = tonumber(v) end
    if tv == "number" or (tv == "string" and n ~= nil) then
      local i = tointeger(n)
      if i ~= nil then return i end
    end
    return cannot(v, "integer")
  end,
  number = function(v)
    local tv = type(v)
    if tv == "number" then return v end
    if tv == "string" then
      local n = tonumber(v)
      if n ~= nil then return n end
    end
    return cannot(v, "number")
  end,
  string = function(v)
    local tv = type(v)
    if tv == "string" then return v end
    if tv == "number" then return tostring(v) end
    return cannot(v, "string")
  end,
  boolean = function(v)
    if type(v) == "boolean" then return v end
    return cannot(v, "boolean")
  end,
}

local TESTS = {
  any = function() return true end,
  unknown = function() return true end,
  never = function() return false end,
  ["nil"] = function(v) return v == nil end,
  integer = function(v)
    local mt = math_type(v)
    return mt == "integer" or (mt == "float" and tointeger(v) ~= nil)
  end,
  error = function(v)
    local tv = type(v)
    return tv == "table" or tv == "userdata" or tv == "string"
  end,
}
for _, name in ipairs({"number", "string", "boolean", "table", "thread", "userdata"}) do
  TESTS[name] = function(v) return type(v) == name end
end

local PRIMS = {}
for name, test in pairs(TESTS) do
  PRIMS[name] = new({tag = "prim", name = name, test = test, cast = CASTS[name]})
end
local FUNCTION = new({tag = "function"})

function T.p(name) return PRIMS[name] end
function T.lit(value) return new({tag = "literal", value = value}) end
function T.opt(inner) return new({tag = "optional", inner = inner}) end
function T.union(items) return new({tag = "union", items = items}) end
function T.inter(items) return new({tag = "intersection", items = items}) end
function T.array(elem) return new({tag = "array", elem = elem}) end
function T.map(key, value) return new({tag = "map", key = key, value = value}) end
function T.fn() return FUNCTION end
function T.check(inner, checks) return new({tag = "checked", inner = inner, checks = checks}) end
function T.ref(name, get, args) return new({tag = "ref", name = name, get = get, args = args}) end

local function members(tag, list, key, value)
  local fields, byname = {}, {}
  for i, f in ipairs(list) do
    local field = {name = f[1], type = f[2], optional = f[3] == true}
    field.field_type = field.optional and T.opt(f[2]) or f[2]
    fields[i] = field
    byname[f[1]] = field
  end
  return new({tag = tag, fields = fields, byname = byname, key = key, value = value})
end

function T.record(list, key, value) return members("record", list, key, value) end
function T.interface(list) return members("interface", list) end

-- Globals.

function __wftype(name, build)
  return new({tag = "named", name = name, build = build})
end

integer, number, boolean = PRIMS.integer, PRIMS.number, PRIMS.boolean

local string_type = PRIMS.string
local string_mt = getmetatable(string_lib)
if string_mt == nil then
  string_mt = {}
  setmetatable(string_lib, string_mt)
end
string_mt.__call = function(_, v)
  local out, err = conform(string_type, v)
  if err then error(failure(err), 2) end
  return out
end
