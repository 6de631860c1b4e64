"""Lua values ↔ Python values, JSON text and payloads, by Wippy's rules, for one Lua runtime.

Lua → JSON walks a table tree once inside Lua (cycle, depth, mixed-key and sparse checks, dropping of
functions, userdata and Wippy objects, ``__export`` hooks) and hands Python a flat token tuple in a
single call; Python then formats numbers and strings the way Go does (`wftest.encoding.jsontext`). Crossing
the lupa boundary once per value instead of once per key is what keeps an activity call's payload in the
microsecond range.

Known approximations of Wippy's JSON rules: an empty table always encodes as ``[]`` (Lua 5.5 cannot tell
whether a table once had hash storage); a table reachable twice on different paths is fine, only a table
nested inside itself is a cycle.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from operator import itemgetter
from typing import Any, Final

from temporalio.api.common.v1 import Payload

from wftest.encoding.jsontext import (
    DEPTH_MESSAGE,
    GO_NIL,
    GO_UTF8,
    MAX_DEPTH,
    SCALAR_JSON,
    DecodeError,
    EncodeError,
    JSONValue,
    bytes_to_text,
    format_float,
    format_key_float,
    loads,
    quote_bytes,
)
from wftest.encoding.payloads import (
    ENCODING_BINARY,
    ENCODING_JSON,
    ENCODING_NULL,
    json_payload,
    unsupported_encoding,
)
from wftest.lua.engine import LuaError

_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
# Tokens crossing the lupa boundary in one call; Lua's stack holds about a million values.
_CHUNK: Final = 100_000


class _Mark:
    """Container header inside a token stream: followed by n >= 0 for an array, -(n + 1) for an object."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<container>"


_MARK: Final = _Mark()


# ---------------------------------------------------------------------------------------------------
# Lua side: one walk per table tree, applying the JSON export rules

_LUA_HELPERS: Final = """
local MARK, MAX_DEPTH, CHUNK = ...
local type, next, rawlen, rawget, pcall, error, tostring = type, next, rawlen, rawget, pcall, error, tostring
local mathtype, unpack = math.type, table.unpack
local create = table.create or function() return {} end
local getmt = (debug and debug.getmetatable) or getmetatable
if type(setmetatable({}, {__wippy = "probe"})) ~= "table" then
  error("wftest.lua.values.Values must be created before the sandbox replaces type()", 0)
end

-- What a table exports as: itself, the result of its metatable's __export (Wippy objects that have
-- one, e.g. errors), or nil (other Wippy objects). An __export result that is a Wippy object is nil.
local function export_table(x)
  local mt = getmt(x)
  if mt == nil or rawget(mt, "__wippy") == nil then return x end
  local ex = rawget(mt, "__export")
  if type(ex) ~= "function" then return nil end
  x = ex(x)
  if type(x) == "table" then
    mt = getmt(x)
    if mt ~= nil and rawget(mt, "__wippy") ~= nil then return nil end
  end
  return x
end

-- Token buffer of the walk in progress; a spare one is kept between walks to avoid regrowing it.
local out, n, path
local spare_out, spare_path
local walk

-- Appends the tokens of any Lua value; false when the value exports as nil (nothing appended).
local function put(v, depth)
  local tv = type(v)
  if tv == "table" then
    v = export_table(v)
    tv = type(v)
    if tv == "table" then walk(v, depth); return true end
    if v == nil then return false end
  end
  if tv == "function" or tv == "userdata" or tv == "thread" then return false end
  n = n + 1; out[n] = v
  return true
end

-- Full classification, for tables the single-pass walk could not settle: raises for mixed keys and
-- gaps, or re-emits a valid array whose integer keys were not stored in order.
local function walk_slow(x, depth, len)
  local ints, others = 0, 0
  for k in next, x do
    if mathtype(k) == "integer" then
      if k >= 1 and k <= len then ints = ints + 1 else ints = ints + len + 1 end
    else
      local tk = type(k)
      if tk ~= "string" and tk ~= "number" and tk ~= "boolean" then
        error("unsupported table key type: " .. tk, 0)
      end
      others = others + 1
    end
  end
  if others ~= 0 then error("mixed-key table", 0) end
  if ints ~= len then error("sparse array", 0) end
  n = n + 1; out[n] = len
  for i = 1, len do
    if not put(x[i], depth) then n = n + 1; out[n] = nil end
  end
end

walk = function(x, depth)
  if depth > MAX_DEPTH then error("nesting depth exceeds " .. MAX_DEPTH, 0) end
  if path[x] then error("cycle detected", 0) end
  path[x] = true
  n = n + 1; out[n] = MARK
  local start = n
  depth = depth + 1
  local len = rawlen(x)
  if len > 0 then
    -- An array: keys come out of next() as 1..len in order (array part first).
    n = n + 1; out[n] = len
    local expect = 1
    for k, v in next, x do
      if k ~= expect then
        n = start
        walk_slow(x, depth, len)
        path[x] = nil
        return
      end
      if not put(v, depth) then n = n + 1; out[n] = nil end
      expect = expect + 1
    end
  else
    -- An object (or an empty table): any integer key means a mixed or sparse table.
    n = n + 1
    local slot, keys, entries = n, 0, 0
    for k, v in next, x do
      if mathtype(k) == "integer" then walk_slow(x, depth, 0) end
      keys = keys + 1
      n = n + 1; out[n] = k
      if put(v, depth) then entries = entries + 1 else n = n - 1 end
    end
    out[slot] = keys == 0 and 0 or -1 - entries
  end
  path[x] = nil
end

local function walk_top(v)
  if not put(v, 1) then n = n + 1; out[n] = nil end
end

-- Returns n, token1..tokenN; or 0, message on failure; or -n, tokens-table when n is too big to unpack.
-- Re-entrant: an __export function may itself export values.
local function export(v)
  local saved_out, saved_n, saved_path = out, n, path
  out, n, path = spare_out or create(64), 0, spare_path or {}
  spare_out, spare_path = nil, nil
  local ok, err = pcall(walk_top, v)
  local tokens, count = out, n
  if ok then spare_path = path end
  out, n, path = saved_out, saved_n, saved_path
  if not ok then return 0, tostring(err) end
  if count <= CHUNK then
    if count <= 4096 then spare_out = tokens end
    return count, unpack(tokens, 1, count)
  end
  return -count, tokens
end

local function slice(t, i, j) return unpack(t, i, j) end

return export, slice
"""


# ---------------------------------------------------------------------------------------------------
# Export token streams → Python values / JSON text


def _key_text(k: Any) -> bytes:
    """An object key as the bytes of its JSON name (strings as is, floats and booleans stringified)."""
    if type(k) is bytes:
        return k
    if type(k) is bool:
        return b"true" if k else b"false"
    if type(k) is float:
        return format_key_float(k).encode()
    kind = type(k).__name__.lstrip("_")
    raise EncodeError(f"unsupported table key type: {kind[3:].lower() if kind.startswith('Lua') else kind}")


def _read_tokens(
    nxt: Callable[[], Any],
    scalars: Mapping[type, Callable[[Any], Any]],
    array: Callable[[list[Any]], Any],
    obj: Callable[[list[tuple[bytes, Any]]], Any],
) -> Any:
    """One value read from an export token stream through ``nxt``: a scalar token made by the function
    `scalars` holds for its type, an array by `array` from its items, an object by `obj` from its
    (key bytes, value) entries sorted by key."""

    def container() -> Any:
        size = nxt()
        if size >= 0:
            items: list[Any] = []
            add = items.append
            for _ in range(size):
                tok = nxt()
                add(container() if tok is _MARK else scalars[type(tok)](tok))
            return array(items)
        entries: list[tuple[bytes, Any]] = []
        add_entry = entries.append
        for _ in range(-1 - size):
            key = nxt()
            tok = nxt()
            add_entry((_key_text(key), container() if tok is _MARK else scalars[type(tok)](tok)))
        if len(entries) > 1:
            entries.sort(key=itemgetter(0))
        return obj(entries)

    tok = nxt()
    return container() if tok is _MARK else scalars[type(tok)](tok)


def _json_array(items: list[str]) -> str:
    return "[" + ",".join(items) + "]"


def _json_object(entries: list[tuple[bytes, str]]) -> str:
    return "{" + ",".join([quote_bytes(k) + ":" + v for k, v in entries]) + "}"


def _tokens_to_json(nxt: Callable[[], Any]) -> str:
    """JSON text of one value read from an export token stream through ``nxt``."""
    text: str = _read_tokens(nxt, SCALAR_JSON, _json_array, _json_object)
    return text


def _same(tok: Any) -> Any:
    return tok


def _python_float(f: float) -> float | None:
    return None if f != f or f in (math.inf, -math.inf) else f


# Python value of each scalar token type: what its JSON would decode to (NaN and ±Inf are null).
_SCALAR_PYTHON: Final[dict[type, Callable[[Any], Any]]] = {
    bytes: bytes_to_text,
    int: _same,
    float: _python_float,
    bool: _same,
    type(None): _same,
}


def _python_object(entries: list[tuple[bytes, JSONValue]]) -> JSONValue:
    return {bytes_to_text(k): v for k, v in entries}


def _tokens_to_python(nxt: Callable[[], Any]) -> JSONValue:
    """Python value (what its JSON would decode to) of one value read from an export token stream."""
    value: JSONValue = _read_tokens(nxt, _SCALAR_PYTHON, _same, _python_object)
    return value


def _lua_ready(v: Any, depth: int, lua_object: type) -> object:
    """A copy of a Python value that ``table_from`` turns into the right Lua value (see ``Values.to_lua``)."""
    t = type(v)
    if t is str:
        return v.encode("utf-8", GO_UTF8)
    if t is int:
        return v if _INT64_MIN <= v <= _INT64_MAX else float(v)
    if t is dict:
        if depth > MAX_DEPTH:
            raise _TooDeep
        depth += 1
        table = {}
        for k, x in v.items():
            if x is not None and x is not GO_NIL:
                key = k.encode("utf-8", GO_UTF8) if type(k) is str else _lua_key(k)
                table[key] = _lua_ready(x, depth, lua_object)
        return table
    if t is list or t is tuple:
        if depth > MAX_DEPTH:
            raise _TooDeep
        depth += 1
        return [_lua_ready(x, depth, lua_object) for x in v]
    if t is float or t is bool or t is bytes or v is None or isinstance(v, lua_object):
        return v
    if v is GO_NIL:
        return None
    if t is bytearray or t is memoryview:
        return bytes(v)
    raise TypeError(f"cannot convert a Python {t.__name__} to a Lua value")


def _lua_key(k: Any) -> object:
    """A Python dict key as a Lua table key (only strings, bytes, numbers and booleans are accepted)."""
    if type(k) is int:
        return k if _INT64_MIN <= k <= _INT64_MAX else float(k)
    if type(k) is float and k != k:
        raise TypeError("cannot use NaN as a Lua table key")
    if type(k) in (bytes, float, bool):
        return k
    raise TypeError(f"cannot use a Python {type(k).__name__} as a Lua table key")


class _TooDeep(Exception):
    """Raised by the Python walks past MAX_DEPTH; callers turn it into Encode/DecodeError."""




# ---------------------------------------------------------------------------------------------------
# The converter bound to one Lua runtime


@lru_cache(maxsize=1)
def _helpers_bytecode() -> bytes:
    from wftest.lua.compiler import bytecode

    return bytecode(_LUA_HELPERS.encode(), "=values")


_LUPA_TYPES: list[tuple[type, type]] = []


def _lupa_types(lua: Any) -> tuple[type, type]:
    """lupa's Lua table class and the base class of all its Lua object wrappers (found once)."""
    if not _LUPA_TYPES:
        table_type = type(lua.table())
        _LUPA_TYPES.append((table_type, table_type.__mro__[1]))
    return _LUPA_TYPES[0]


def helpers_chunk() -> tuple[bytes, tuple[Any, ...]]:
    """The bytecode of the Lua helpers of `Values` and the arguments their chunk is called with; it
    returns (export, slice). For hosts that load the helpers themselves (`Values(lua, helpers=...)`)."""
    return _helpers_bytecode(), (_MARK, MAX_DEPTH, _CHUNK)


class Values:
    """Converts values of one LuaRuntime (``encoding=None``) to and from Python values, JSON and payloads.

    Create it on the fresh runtime, before any prelude replaces globals: its Lua helpers keep the
    original ``type``, ``next``, ``rawget``... so user code cannot change how values are exported.
    A host may pass `helpers`, the (export, slice) functions of `helpers_chunk()` run against the
    original globals (it may do that on their first call)."""

    def __init__(self, lua: Any, helpers: tuple[Any, Any] | None = None) -> None:
        self._lua = lua
        if helpers is None:
            chunk = lua.globals()[b"load"](_helpers_bytecode(), b"=values", b"b")
            helpers = chunk(_MARK, MAX_DEPTH, _CHUNK)
        self._export, self._slice = helpers
        self._table_type, self._lua_object = _lupa_types(lua)

    # -- Lua → Python -------------------------------------------------------------------------------

    def _tokens(self, table: object) -> Callable[[], Any]:
        """Runs the Lua export walk over a table; returns the ``__next__`` of an iterator over its tokens."""
        try:
            res = self._export(table)
        except LuaError as exc:  # a user metamethod reached while exporting failed or ran out of budget
            reason = exc.args[0] if exc.args else b""
            raise EncodeError(bytes_to_text(reason) if type(reason) is bytes else str(exc)) from None
        count = res[0]
        if count > 0:
            it = iter(res)
            next(it)
            step: Callable[[], Any] = it.__next__
            return step
        if count == 0:
            raise EncodeError(bytes_to_text(res[1]) if type(res[1]) is bytes else str(res[1]))
        tokens, total = res[1], -count
        chunks: list[object] = []
        for start in range(1, total + 1, _CHUNK):
            part = self._slice(tokens, start, min(start + _CHUNK - 1, total))
            chunks.extend(part if type(part) is tuple else (part,))
        return iter(chunks).__next__

    def to_python(self, v: Any) -> JSONValue:
        """Lua value → the Python value its JSON would decode to (floats keep their type)."""
        t = type(v)
        if t is bytes:
            return bytes_to_text(v)
        if t is int or t is bool or v is None:
            scalar: JSONValue = v
            return scalar
        if t is float:
            return None if v != v or v in (math.inf, -math.inf) else v
        if t is self._table_type:
            return _tokens_to_python(self._tokens(v))
        return None

    def encode_json(self, v: Any) -> str:
        """Lua value → compact canonical JSON text; raises EncodeError like Wippy's encoder."""
        t = type(v)
        if t is bytes:
            return quote_bytes(v)
        if t is int:
            return int.__repr__(v)
        if t is float:
            return format_float(v)
        if t is self._table_type:
            return _tokens_to_json(self._tokens(v))
        if v is True:
            return "true"
        if v is False:
            return "false"
        return "null"

    # -- Python → Lua -------------------------------------------------------------------------------

    def to_lua(self, v: object) -> object:
        """Python value → Lua value: str → UTF-8 bytes, dict → table (None values omitted), list → sequence
        (None leaves a hole), ints beyond int64 → float. Lua objects inside are passed through."""
        try:
            return self._to_lua(v)
        except _TooDeep:
            raise EncodeError(DEPTH_MESSAGE) from None
        except TypeError as e:
            raise EncodeError(str(e)) from None

    def _to_lua(self, v: object) -> object:
        t = type(v)
        if t is dict or t is list or t is tuple:
            return self._lua.table_from(_lua_ready(v, 1, self._lua_object), recursive=True)
        return _lua_ready(v, 1, self._lua_object)

    def decode_json(self, text: str | bytes, max_bytes: int | None = None) -> object:
        """JSON text → Lua value: integers stay integers (beyond int64 → float), null → nil.
        With `max_bytes`, a value that would take more Lua memory than that is refused (DecodeError)."""
        try:
            value = loads(text)
            if max_bytes is not None and lua_size_over(value, max_bytes):
                raise DecodeError(f"the decoded value would take more than {max_bytes} bytes of Lua memory")
            return self._to_lua(value)
        except _TooDeep:
            raise DecodeError(DEPTH_MESSAGE) from None

    # -- payloads -----------------------------------------------------------------------------------

    def to_payload(self, v: object) -> Payload:
        """Lua value → json/plain payload; a nil value is the JSON ``null``, not binary/null."""
        return json_payload(self.encode_json(v).encode())

    def to_payloads(self, args: Sequence[object]) -> list[Payload]:
        """One payload per Lua argument; explicit nil arguments become ``null`` payloads."""
        return [self.to_payload(a) for a in args]

    def from_payload(self, p: Payload) -> object:
        """Payload → Lua value: binary/null → nil, binary/plain → Lua string, json/plain → decoded JSON."""
        encoding = p.metadata.get("encoding")
        if encoding == ENCODING_JSON:
            return self.decode_json(p.data)
        if encoding == ENCODING_BINARY:
            return p.data
        if encoding == ENCODING_NULL:
            return None
        raise unsupported_encoding(encoding)


def lua_size_over(value: object, limit: int) -> bool:
    """Whether a decoded Python value would take more than `limit` bytes as Lua values (roughly: a
    table or slot per container and item, plus string lengths). Iterative, and stops at the limit, so
    shared sub-values (YAML aliases) cannot make it run long."""
    total = 0
    pending = [value]
    while pending:
        v = pending.pop()
        total += 48
        if isinstance(v, (str, bytes)):
            total += len(v)
        elif isinstance(v, dict):
            total += 16 * len(v)
            pending.extend(v.keys())
            pending.extend(v.values())
        elif isinstance(v, (list, tuple)):
            total += 16 * len(v)
            pending.extend(v)
        if total > limit:
            return True
    return False
