"""Lua ↔ Python ↔ JSON ↔ Temporal payload conversion.

"""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from temporalio.api.common.v1 import Payload

from wftest.encoding.jsontext import GO_NIL, DecodeError, EncodeError, JSONValue, encode_json_python
from wftest.encoding.payloads import PayloadError, payload_to_python, python_to_payload
from wftest.lua import engine
from wftest.lua.values import Values


@pytest.fixture(scope="module")
def lua() -> Any:
    return engine.new_runtime(None)


@pytest.fixture(scope="module")
def values(lua: Any) -> Values:
    return Values(lua)


# Number of keys of t, and t.a[1..3].
KEY_COUNT_AND_A = """function(t)
    local n = 0
    for _ in next, t do n = n + 1 end
    return n, t.a[1], t.a[2], t.a[3]
end"""


def enc(lua: Any, values: Values, src: str) -> str:
    return values.encode_json(lua.eval(src))


def nested_tables(lua: Any, depth: int) -> Any:
    return lua.eval(f"(function() local t = {{}} for _ = 2, {depth} do t = {{t}} end return t end)()")


# -- tables: arrays vs objects ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("{1, 2, 3}", "[1,2,3]"),
        ('{"a", true, false}', '["a",true,false]'),
        ('{name = "x", n = 1}', '{"n":1,"name":"x"}'),
        ("{}", "[]"),
        ("{list = {{x = 1}, {}}, m = {k = {}}}", '{"list":[{"x":1},[]],"m":{"k":[]}}'),
        ("{[1.0] = 'a', [2.0] = 'b'}", '["a","b"]'),
        ("(function() local t = {} t[3] = 'c' t[1] = 'a' t[2] = 'b' return t end)()", '["a","b","c"]'),
        ("{[1.5] = 1, [true] = 2, [false] = 3}", '{"1.5":1,"false":3,"true":2}'),
        ("{[1/0] = 1, [-1/0] = 2}", '{"+Inf":1,"-Inf":2}'),
        ("{math.maxinteger, math.mininteger}", "[9223372036854775807,-9223372036854775808]"),
    ],
)
def test_tables_encode_as_arrays_or_objects(lua: Any, values: Values, src: str, expected: str) -> None:
    """1..n keys → array, string keys → object, literal {} → [], non-string keys stringified."""
    assert enc(lua, values, src) == expected


@pytest.mark.parametrize(
    ("src", "expected"),
    [("nil", "null"), ("true", "true"), ("false", "false"), ("42", "42"), ("-7", "-7"), ('"hi"', '"hi"')],
)
def test_top_level_scalars(lua: Any, values: Values, src: str, expected: str) -> None:
    """json.encode(nil) is "null"; scalars encode on their own."""
    assert enc(lua, values, src) == expected


def test_object_keys_are_sorted_by_utf8_bytes_whatever_the_insertion_order(lua: Any, values: Values) -> None:
    """Wippy leaves key order unspecified; wftest sorts by bytes (Go encoding/json order) for determinism."""
    a = lua.eval('{["é"] = 1, z = 2, A = 3, ["_"] = 4, a = 5}')
    b = lua.eval("(function() local t = {} t.a = 5 t._ = 4 t.A = 3 t.z = 2 t['é'] = 1 return t end)()")
    expected = '{"A":3,"_":4,"a":5,"z":2,"é":1}'
    assert values.encode_json(a) == expected
    assert values.encode_json(b) == expected
    assert list(values.to_python(a)) == ["A", "_", "a", "z", "é"]  # type: ignore[arg-type]


# -- numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("2.0", "2"),
        ("-3.0", "-3"),
        ("-0.0", "0"),
        ("0.1", "0.1"),
        ("-1.5", "-1.5"),
        ("1/3", "0.3333333333333333"),
        ("0.1 + 0.2", "0.30000000000000004"),
        ("1e-7", "0.0000001"),
        ("1.5e-10", "0.00000000015"),
        ("1e21", "1000000000000000000000"),
        ("2.0^60", "1152921504606847000"),
        ("1e300", "1" + "0" * 300),
        ("0/0", "null"),
        ("1/0", "null"),
        ("-1/0", "null"),
    ],
)
def test_float_format(lua: Any, values: Values, src: str, expected: str) -> None:
    """Integral floats print as integers, others shortest decimal without exponent, NaN/Inf → null."""
    assert enc(lua, values, src) == expected
    assert enc(lua, values, f"{{{src}}}") == f"[{expected}]"


def test_non_finite_numbers_become_null_in_python_values(lua: Any, values: Values) -> None:
    assert values.to_python(lua.eval("{0/0, 1/0, -1/0}")) == [None, None, None]
    assert values.to_python(lua.eval("1/0")) is None


def test_to_python_keeps_integral_floats_as_floats(lua: Any, values: Values) -> None:
    """The float type survives to_python; only the JSON text drops the ".0"."""
    got = values.to_python(lua.eval('{a = {1, 2.0, "x"}, b = true, c = 0.5}'))
    assert got == {"a": [1, 2.0, "x"], "b": True, "c": 0.5}
    assert isinstance(got, dict) and isinstance(got["a"], list)
    assert type(got["a"][0]) is int and type(got["a"][1]) is float


# -- strings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lua_string", "expected"),
    [
        (r'"<a href=\"x\">&</a>"', r'"\u003ca href=\"x\"\u003e\u0026\u003c/a\u003e"'),
        (r'"q\"b\\n\nr\rt\tb\bf\f\1\31\127"', '"q\\"b\\\\n\\nr\\rt\\tb\\bf\\f\\u0001\\u001f\x7f"'),
        ('"héllo 日本 😀"', '"héllo 日本 😀"'),
        (r'"line\u{2028}para\u{2029}"', r'"line\u2028para\u2029"'),
        (r'"\xff"', r'"\ufffd"'),
        (r'"\xe2\x82a"', r'"\ufffd\ufffda"'),
        (r'"\xed\xa0\x80"', r'"\ufffd\ufffd\ufffd"'),
        (r'"ok\u{FFFD}"', '"ok\ufffd"'),
    ],
)
def test_string_escaping_like_go(lua: Any, values: Values, lua_string: str, expected: str) -> None:
    """Go's escaper (<, >, & and U+2028/9 as \\u escapes), non-ASCII kept, invalid bytes → \\ufffd."""
    assert enc(lua, values, lua_string) == expected
    assert enc(lua, values, f"{{k = {lua_string}}}") == '{"k":' + expected + "}"
    assert json.loads(expected) == values.to_python(lua.eval(lua_string))


def test_object_keys_are_escaped_too(lua: Any, values: Values) -> None:
    assert enc(lua, values, r'{["a<b"] = 1, ["\xff"] = 2}') == r'{"a\u003cb":1,"\ufffd":2}'


def test_invalid_utf8_becomes_replacement_characters_in_python(lua: Any, values: Values) -> None:
    assert values.to_python(lua.eval(r'"a\xffb\xe2\x82"')) == "a\ufffdb\ufffd\ufffd"


# -- encode errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "message"),
    [
        ("{1, x = 2}", "mixed-key table"),
        ("{x = 1, [1] = 2}", "mixed-key table"),
        ("{x = 1, [5] = 2}", "mixed-key table"),
        ("{1, nil, 3}", "sparse array"),
        ("{[2] = 1}", "sparse array"),
        ("{[0] = 'a'}", "sparse array"),
        ("{1, 2, [4] = 4}", "sparse array"),
        ("{ok = {{1, y = 2}}}", "mixed-key table"),
        ("(function() local t = {} t.self = t return t end)()", "cycle detected"),
        ("(function() local a = {b = {}} a.b.a = a return {a} end)()", "cycle detected"),
        ("{[{}] = 1}", "unsupported table key type: table"),
        ("{[print] = 1}", "unsupported table key type: function"),
    ],
)
def test_encode_errors(lua: Any, values: Values, src: str, message: str) -> None:
    table = lua.eval(src)
    with pytest.raises(EncodeError, match=f"^{message}$"):
        values.encode_json(table)
    with pytest.raises(EncodeError, match=f"^{message}$"):
        values.to_python(table)


def test_shared_subtable_is_not_a_cycle(lua: Any, values: Values) -> None:
    assert enc(lua, values, "(function() local s = {1} return {a = s, b = {s, s}} end)()") == (
        '{"a":[1],"b":[[1],[1]]}'
    )


def test_depth_limit_is_128(lua: Any, values: Values) -> None:
    """Nesting deeper than 128 fails."""
    assert values.encode_json(nested_tables(lua, 128)) == "[" * 127 + "[]" + "]" * 127
    with pytest.raises(EncodeError, match="^nesting depth exceeds 128$"):
        values.encode_json(nested_tables(lua, 129))


def test_the_converter_is_usable_after_an_error(lua: Any, values: Values) -> None:
    with pytest.raises(EncodeError):
        values.encode_json(lua.eval("{1, x = 2}"))
    assert enc(lua, values, "{a = {b = {1}}}") == '{"a":{"b":[1]}}'


# -- userdata and Wippy objects ------------------------------------------------


def test_functions_threads_and_wippy_objects_disappear_from_objects(lua: Any, values: Values) -> None:
    src = """{a = 1, f = print, co = coroutine.create(print),
              t = setmetatable({sec = 1}, {__wippy = "time"}), plain = setmetatable({x = 1}, {})}"""
    assert enc(lua, values, src) == '{"a":1,"plain":{"x":1}}'


def test_dropped_values_are_null_in_arrays(lua: Any, values: Values) -> None:
    assert enc(lua, values, '{1, print, setmetatable({}, {__wippy = "channel"}), 4}') == "[1,null,null,4]"
    assert values.to_python(lua.eval("{print, 2}")) == [None, 2]


def test_an_object_whose_values_all_disappear_stays_an_object(lua: Any, values: Values) -> None:
    assert enc(lua, values, "{f = print}") == "{}"
    assert values.to_python(lua.eval("{f = print}")) == {}


def test_top_level_dropped_values_are_null(lua: Any, values: Values) -> None:
    assert enc(lua, values, "print") == "null"
    assert enc(lua, values, 'setmetatable({}, {__wippy = "future"})') == "null"
    assert values.encode_json(object()) == "null"
    assert values.to_python(lua.eval("print")) is None


def test_python_objects_inside_lua_tables_are_userdata(lua: Any, values: Values) -> None:
    table = lua.eval("function(o) return {o = o, k = 1, list = {o}} end")(object())
    assert values.encode_json(table) == '{"k":1,"list":[null]}'


def test_export_hook_gives_the_value(lua: Any, values: Values) -> None:
    """Errors are kept and encode as their Error() string, through the metatable's __export."""
    src = """(function()
        local E = {__wippy = "error", __export = function(e) return "ctx: " .. e.msg end}
        local err = setmetatable({msg = "boom"}, E)
        return {e = err, list = {err}}
    end)()"""
    assert enc(lua, values, src) == '{"e":"ctx: boom","list":["ctx: boom"]}'


def test_export_hook_returning_nil_or_a_wippy_object_drops_the_value(lua: Any, values: Values) -> None:
    src = """(function()
        local inner = setmetatable({}, {__wippy = "time"})
        local a = setmetatable({}, {__wippy = "x", __export = function() return nil end})
        local b = setmetatable({}, {__wippy = "x", __export = function() return inner end})
        local c = setmetatable({}, {__wippy = "x", __export = function() return {1, 2} end})
        return {a = a, b = b, c = c}
    end)()"""
    assert enc(lua, values, src) == '{"c":[1,2]}'


def test_protected_metatables_are_still_seen(lua: Any, values: Values) -> None:
    src = '{t = setmetatable({}, {__wippy = "time", __metatable = false}), a = 1}'
    assert enc(lua, values, src) == '{"a":1}'


def test_export_hook_errors_become_encode_errors(lua: Any, values: Values) -> None:
    src = '{e = setmetatable({}, {__wippy = "x", __export = function() error("bad export", 0) end})}'
    with pytest.raises(EncodeError, match="^bad export$"):
        enc(lua, values, src)


def test_export_hook_may_encode_other_values(lua: Any, values: Values) -> None:
    """The export walk is re-entrant: an __export that itself encodes JSON works."""
    make = lua.eval("""function(encode)
        local inner = {1, {k = "v"}}
        local obj = setmetatable({}, {__wippy = "payload", __export = function() return encode(inner) end})
        return {a = 1, p = obj, z = {2}}
    end""")
    table = make(lambda t: values.encode_json(t).encode())
    assert values.encode_json(table) == '{"a":1,"p":"[1,{\\"k\\":\\"v\\"}]","z":[2]}'


def test_wippy_objects_need_a_pristine_type_function() -> None:
    lua = engine.new_runtime(None)
    lua.execute('local raw = type; function type(v) return getmetatable(v) and "userdata" or raw(v) end')
    with pytest.raises(engine.LuaError, match="before the sandbox replaces type"):
        Values(lua)


# -- big values cross the boundary in chunks ------------------------------------------------------


def test_large_values(lua: Any, values: Values) -> None:
    table = lua.eval("(function() local t = {} for i = 1, 150000 do t[i] = i end return t end)()")
    assert values.encode_json(table) == "[" + ",".join(str(i) for i in range(1, 150001)) + "]"
    assert values.to_python(table) == list(range(1, 150001))
    back = values.to_lua(list(range(150000)))
    assert lua.eval("function(t) return #t, t[1], t[150000] end")(back) == (150000, 0, 149999)


# -- Python → Lua --------------------------------------------------------------------------------------


def test_to_lua_builds_tables_with_byte_string_keys(lua: Any, values: Values) -> None:
    t = values.to_lua({"name": "Ann", "tags": ["a", "b"], "n": 1, "x": 1.5, "ok": True, "raw": b"\x00\xff"})
    probe = lua.eval("""function(t)
        return type(t.name), t.name, #t.tags, t.tags[2], math.type(t.n), math.type(t.x), t.ok, t.raw
    end""")
    assert probe(t) == (b"string", b"Ann", 2, b"b", b"integer", b"float", True, b"\x00\xff")


def test_to_lua_strings_are_never_userdata(lua: Any, values: Values) -> None:
    lua_type = lua.eval("type")
    assert values.to_lua("x") == b"x"
    assert lua_type(values.to_lua("x")) == b"string"
    key_types = lua.eval("function(t) return type(next(t)), type(next(t.a)), type(t.a.b) end")
    assert key_types(values.to_lua({"a": {"b": "c"}})) == (b"string", b"string", b"string")


def test_to_lua_none_makes_holes_and_omits_keys(lua: Any, values: Values) -> None:
    t = values.to_lua({"a": [1, None, 3], "b": None, "c": GO_NIL, "d": 1})
    probe = lua.eval(KEY_COUNT_AND_A)
    assert probe(t) == (2, 1, None, 3)


def test_to_lua_scalars(lua: Any, values: Values) -> None:
    math_type = lua.eval("math.type")
    assert values.to_lua(None) is None
    assert values.to_lua(GO_NIL) is None
    assert values.to_lua(True) is True
    assert math_type(values.to_lua(7)) == b"integer"
    assert math_type(values.to_lua(2**70)) == b"float"
    assert values.to_lua(2**70) == float(2**70)
    assert values.to_lua(bytearray(b"ab")) == b"ab"
    assert values.to_lua("a\ud800b") == "a\ufffdb".encode()


def test_to_lua_tuples_non_string_keys_and_lua_objects(lua: Any, values: Values) -> None:
    inner = lua.eval("{1, 2}")
    t = values.to_lua({"t": (1, (2, 3)), 5: "five", 1.5: "x", True: "yes", "lua": inner})
    probe = lua.eval("function(t, inner) return t.t[2][2], t[5], t[1.5], t[true], rawequal(t.lua, inner) end")
    assert probe(t, inner) == (3, b"five", b"x", b"yes", True)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({1, 2}, "cannot convert a Python set to a Lua value"),
        ({"a": object()}, "cannot convert a Python object to a Lua value"),
        ({None: 1}, "cannot use a Python NoneType as a Lua table key"),
        ({float("nan"): 1}, "cannot use NaN as a Lua table key"),
    ],
)
def test_to_lua_rejects_what_lua_cannot_hold(values: Values, value: object, message: str) -> None:
    with pytest.raises(EncodeError, match=f"^{message}$"):
        values.to_lua(value)


def test_to_lua_depth_limit(values: Values) -> None:
    deep: list[Any] = []
    for _ in range(128):
        deep = [deep]
    with pytest.raises(EncodeError, match="^nesting depth exceeds 128$"):
        values.to_lua(deep)


def test_to_lua_and_back(values: Values) -> None:
    v = {"a": [1, 2.5, "x", {"b": False}], "c": "é"}
    assert values.to_python(values.to_lua(v)) == v


# -- JSON decoding -------------------------------------------------------------------------------


def test_decode_numbers_keep_integer_and_float_kinds(lua: Any, values: Values) -> None:
    math_type = lua.eval("math.type")
    t: Any = values.decode_json('{"i": 1, "f": 1.0, "e": 1e2, "n": -0, "big": 18446744073709551616}')
    assert [math_type(t[k]) for k in (b"i", b"f", b"e", b"n", b"big")] == [
        b"integer", b"float", b"float", b"integer", b"float"
    ]
    assert t[b"big"] == 2.0**64
    assert values.encode_json(t) == '{"big":18446744073709552000,"e":100,"f":1,"i":1,"n":0}'


def test_decode_null_makes_holes_and_removes_keys(lua: Any, values: Values) -> None:
    t = values.decode_json('{"a": [1, null, 3], "b": null, "c": "x"}')
    probe = lua.eval(KEY_COUNT_AND_A)
    assert probe(t) == (2, 1, None, 3)
    with pytest.raises(EncodeError, match="sparse array"):
        values.encode_json(t)


def test_decode_scalars_and_strings(values: Values) -> None:
    assert values.decode_json("null") is None
    assert values.decode_json('"h\\u00e9\\u003c"') == "hé<".encode()
    assert values.decode_json(b'"\xffa"') == "\ufffda".encode()
    assert values.decode_json('"\\ud800"') == "\ufffd".encode()
    assert values.decode_json(" true ") is True


def test_decoded_empty_object_encodes_as_array(values: Values) -> None:
    """An empty table encodes as []; wftest cannot tell a decoded {} from a literal one."""
    assert values.encode_json(values.decode_json('{"a": {}}')) == '{"a":[]}'


def test_decode_depth_limit(values: Values) -> None:
    assert values.encode_json(values.decode_json("[" * 128 + "]" * 128)) == "[" * 127 + "[]" + "]" * 127
    with pytest.raises(DecodeError, match="^nesting depth exceeds 128$"):
        values.decode_json("[" * 129 + "]" * 129)
    with pytest.raises(DecodeError, match="^nesting depth exceeds 128$"):
        values.decode_json("[" * 5000 + "]" * 5000)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a":', "invalid JSON: Expecting value"),
        ("", "invalid JSON: Expecting value"),
        ("[1] x", "invalid JSON: Extra data"),
        ("NaN", "invalid JSON: NaN is not a JSON value"),
        ("[-Infinity]", "invalid JSON: -Infinity is not a JSON value"),
        ("1e400", "invalid JSON: number 1e400 is out of range"),
    ],
)
def test_decode_errors(values: Values, text: str, message: str) -> None:
    with pytest.raises(DecodeError, match=f"^{message}"):
        values.decode_json(text)


# -- payloads ----------------------------------------------------------------------------------


def test_to_payload_is_json_plain(lua: Any, values: Values) -> None:
    p = values.to_payload(lua.eval('{id = "o-1", total = 50.0}'))
    assert dict(p.metadata) == {"encoding": b"json/plain"}
    assert p.data == b'{"id":"o-1","total":50}'
    assert values.to_payload(None).data == b"null"


def test_to_payloads_one_per_argument_with_explicit_nils(lua: Any, values: Values) -> None:
    args = lua.eval('function() return 1, nil, "x", {} end')()
    payloads = values.to_payloads(args)
    assert [p.data for p in payloads] == [b"1", b"null", b'"x"', b"[]"]
    assert all(p.metadata["encoding"] == b"json/plain" for p in payloads)
    assert values.to_payloads(()) == []


def test_from_payload_three_encodings(lua: Any, values: Values) -> None:
    t = values.from_payload(Payload(metadata={"encoding": b"json/plain"}, data=b'{"a":[1,2]}'))
    assert lua.eval("function(t) return t.a[2] end")(t) == 2
    raw = Payload(metadata={"encoding": b"binary/plain"}, data=b"\x00\xff")
    assert values.from_payload(raw) == b"\x00\xff"
    assert values.from_payload(Payload(metadata={"encoding": b"binary/null"})) is None


@pytest.mark.parametrize(
    ("metadata", "name"),
    [({"encoding": b"json/protobuf"}, "json/protobuf"), ({}, "<missing>")],
)
def test_unsupported_payload_encoding(values: Values, metadata: dict[str, bytes], name: str) -> None:
    p = Payload(metadata=metadata, data=b"{}")
    with pytest.raises(PayloadError, match=f"^unsupported temporal payload encoding: {name}$"):
        values.from_payload(p)
    with pytest.raises(PayloadError, match=f"^unsupported temporal payload encoding: {name}$"):
        payload_to_python(p)


def test_payload_round_trips_through_lua(lua: Any, values: Values) -> None:
    for p in (
        python_to_payload({"a": [1, "é"]}),
        python_to_payload(b"\x01\x02"),
        python_to_payload(GO_NIL),
    ):
        back = values.to_payload(values.from_payload(p))
        expected = {b"json/plain": p.data, b"binary/plain": b'"\\u0001\\u0002"', b"binary/null": b"null"}
        assert back.data == expected[p.metadata["encoding"]]


# -- Python side ------------------------------------------------------------------------------------


def test_python_to_payload_encodings() -> None:
    null = python_to_payload(GO_NIL)
    assert dict(null.metadata) == {"encoding": b"binary/null"} and null.data == b""
    raw = python_to_payload(b"\x00\xff")
    assert dict(raw.metadata) == {"encoding": b"binary/plain"} and raw.data == b"\x00\xff"
    js = python_to_payload({"b": 2.0, "a": None, "c": "<"})
    assert dict(js.metadata) == {"encoding": b"json/plain"} and js.data == b'{"a":null,"b":2,"c":"\\u003c"}'
    assert python_to_payload(None).data == b"null"


def test_payload_to_python() -> None:
    assert payload_to_python(python_to_payload(GO_NIL)) is None
    assert payload_to_python(python_to_payload(b"\x00")) == b"\x00"
    assert payload_to_python(python_to_payload({"n": 2**70, "x": [1.5]})) == {"n": 2**70, "x": [1.5]}


def test_encode_json_python_matches_the_lua_side() -> None:
    v: JSONValue = {"z": [1, 2.0, 1e-7, 1e21, float("nan")], "a": {"k": "日本<>&\u2028\n"}, "m": True}
    assert encode_json_python(v) == (
        '{"a":{"k":"日本\\u003c\\u003e\\u0026\\u2028\\n"},"m":true,"z":[1,2,0.0000001,1000000000000000000000,null]}'
    )
    assert encode_json_python("a\ud800") == '"a\ufffd"'
    pair: Any = (1, 2)
    assert encode_json_python(pair) == "[1,2]"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({1: "a"}, "JSON object keys must be str, got int"),
        ({"a": {1, 2}}, "cannot encode a Python set as JSON"),
        (b"x", "cannot encode a Python bytes as JSON"),
        (GO_NIL, "GO_NIL has no JSON form; python_to_payload sends it as binary/null"),
    ],
)
def test_encode_json_python_errors(value: Any, message: str) -> None:
    with pytest.raises(EncodeError, match=f"^{message}$"):
        encode_json_python(value)


def test_encode_json_python_depth_limit() -> None:
    deep: list[Any] = []
    for _ in range(127):
        deep = [deep]
    assert encode_json_python(deep) == "[" * 127 + "[]" + "]" * 127
    with pytest.raises(EncodeError, match="^nesting depth exceeds 128$"):
        encode_json_python([deep])


def test_go_nil_is_a_singleton() -> None:
    assert copy.deepcopy(GO_NIL) is GO_NIL
    assert pickle.loads(pickle.dumps(GO_NIL)) is GO_NIL
    assert repr(GO_NIL) == "GO_NIL"


# -- properties -----------------------------------------------------------------------------------

# Integral floats beyond 2**53 come back as ints that differ from int(f); the float test below covers them.
_floats = st.floats(allow_nan=False, allow_infinity=False).filter(
    lambda f: not f.is_integer() or abs(f) < 2**53
)
_scalars = (
    st.integers(min_value=-(2**63), max_value=2**63 - 1) | _floats | st.text(max_size=8) | st.booleans()
)


def _json_like(min_dict_size: int) -> st.SearchStrategy[JSONValue]:
    return st.recursive(
        _scalars,
        lambda inner: st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=6), inner, min_size=min_dict_size, max_size=4),
        max_leaves=12,
    )


def _after_round_trip(v: JSONValue) -> JSONValue:
    """What a value looks like after Lua and JSON: integral floats → ints, {} → []."""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, list):
        return [_after_round_trip(x) for x in v]
    if isinstance(v, dict):
        return {k: _after_round_trip(x) for k, x in v.items()} if v else []
    return v


@settings(max_examples=150, deadline=None)
@given(_json_like(0))
def test_payload_round_trip_property(values: Values, v: JSONValue) -> None:
    assert payload_to_python(values.to_payload(values.to_lua(v))) == _after_round_trip(v)
    assert values.to_python(values.decode_json(values.encode_json(values.to_lua(v)))) == _after_round_trip(v)


@settings(max_examples=150, deadline=None)
@given(_json_like(1))
def test_python_and_lua_sides_write_the_same_text(values: Values, v: JSONValue) -> None:
    assert values.encode_json(values.to_lua(v)) == encode_json_python(v)


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_text_is_exact_and_exponent_free(f: float) -> None:
    text = encode_json_python(f)
    assert "e" not in text and "E" not in text
    assert float(text) == f
