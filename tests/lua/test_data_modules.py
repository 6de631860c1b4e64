"""The data modules json, base64, hash, yaml, ctx and logger.

"""

from __future__ import annotations

import hashlib
import hmac
import textwrap
from typing import Any

import pytest

from wftest.lua.modules.context import context_value
from wftest.lua.modules.schema import EMPTY, SUPPORTED_KEYWORDS, SchemaError, compile_schema
from wftest.lua.sandbox import LuaFailure, Sandbox, SandboxOptions

MODULES = ["json", "base64", "hash", "yaml", "ctx", "logger"]


def run(sb: Sandbox, body: str, *args: Any) -> tuple[Any, ...]:
    """Run `body` as a user chunk named user.lua that may require the data modules."""
    code = textwrap.dedent(body).strip().encode()
    fn, err = sb.api.load_chunk(code, b"user.lua", sb.make_require("test", MODULES, {}, None), None)
    assert fn is not None, err
    return sb.call(fn, *args)


def err_of(sb: Sandbox, call: str) -> tuple[Any, ...]:
    """`call` must return nil, err: the error's kind, message and retryable flag."""
    return run(
        sb,
        f"""
        local json, base64, hash, yaml, ctx = require("json"), require("base64"), require("hash"),
            require("yaml"), require("ctx")
        local value, err = {call}
        assert(value == nil, "expected nil, got " .. tostring(value))
        return err:kind(), err:message(), err:retryable()
        """,
    )


def raises(sb: Sandbox, call: str) -> LuaFailure:
    """`call` (on line 3 of user.lua) must raise a Lua error; the failure."""
    with pytest.raises(LuaFailure) as info:
        run(
            sb,
            f"""
            local json, base64, hash = require("json"), require("base64"), require("hash")
            local yaml, ctx, logger = require("yaml"), require("ctx"), require("logger")
            local r = {call}
            return r
            """,
        )
    return info.value


@pytest.fixture
def sb() -> Sandbox:
    return Sandbox()


# -- json ----------------------------------------------------------------------------


def test_json_encode_is_canonical_and_follows_the_export_rules(sb: Sandbox) -> None:
    assert run(
        sb,
        """
        local json = require("json")
        return json.encode(nil), json.encode("hi<"), json.encode(2.0),
            json.encode({b = 1, a = {1, 2.5, true}}), json.encode({})
        """,
    ) == (b"null", b'"hi\\u003c"', b"2", b'{"a":[1,2.5,true],"b":1}', b"[]", None)


def test_json_encode_with_no_argument_is_null(sb: Sandbox) -> None:
    assert run(sb, "local json = require('json') return json.encode()") == (b"null", None)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("local t = {}; t.self = t", "cycle detected"),
        ("local t = {1, x = 2}", "mixed-key table"),
        ("local t = {1, nil, 3}", "sparse array"),
    ],
)
def test_json_encode_failure_is_internal_with_the_encoder_message(
    sb: Sandbox, setup: str, message: str
) -> None:
    kind, msg, retryable = run(
        sb,
        f"""
        local json = require("json")
        {setup}
        local s, err = json.encode(t)
        assert(s == nil)
        return err:kind(), err:message(), err:retryable()
        """,
    )
    assert (kind, msg, retryable) == (b"Internal", b"encode failed: " + message.encode(), False)


def test_json_decode_keeps_integers_and_floats_apart_and_drops_nulls(sb: Sandbox) -> None:
    assert run(
        sb,
        """
        local json = require("json")
        local v, err = json.decode('{"i": 1, "f": 1.5, "g": 2.0, "n": null, "a": [1, "x"], "t": true}')
        return err, math.type(v.i), math.type(v.f), math.type(v.g), v.n, v.a[2], v.t
        """,
    ) == (None, b"integer", b"float", b"float", None, b"x", True)


def test_json_decode_of_null_is_nil_without_error(sb: Sandbox) -> None:
    assert run(sb, "local json = require('json') local v, e = json.decode('null') return v == nil, e") == (
        True,
        None,
    )


@pytest.mark.parametrize(
    ("call", "kind", "message"),
    [
        ("json.decode(42)", b"Invalid", b"string expected"),
        ("json.decode()", b"Invalid", b"string expected"),
        ("json.decode('')", b"Invalid", b"empty string is not valid JSON"),
        ("json.decode('{')", b"Internal", b"decode failed: invalid JSON: Expecting property name"),
        ("json.decode('[NaN]')", b"Internal", b"decode failed: invalid JSON: NaN is not a JSON value"),
    ],
)
def test_json_decode_errors(sb: Sandbox, call: str, kind: bytes, message: bytes) -> None:
    got_kind, got_message, _ = err_of(sb, call)
    assert got_kind == kind
    assert got_message.startswith(message)


def test_json_round_trip(sb: Sandbox) -> None:
    text = b'{"a":[1,2.5,"\\u003c\\u0026"],"b":{"c":true,"d":"\xc3\xa9"},"e":-7}'
    assert run(sb, "local json = require('json') return json.encode(json.decode(...))", text) == (text, None)


# -- json.validate / validate_string ----------------------------------------------------------------

USER_SCHEMA = """{
    type = "object",
    properties = {
        name = {type = "string", minLength = 1},
        email = {type = "string", format = "email"},
        age = {type = "integer", minimum = 0, maximum = 150},
    },
    required = {"name", "email"},
}"""


def validate(sb: Sandbox, schema: str, data: str, fn: str = "validate") -> tuple[Any, ...]:
    return run(
        sb,
        f"""
        local json = require("json")
        local ok, err = json.{fn}({schema}, {data})
        if err == nil then return ok, nil, nil end
        return ok, err:kind(), err:message()
        """,
    )


def test_validate_accepts_valid_data(sb: Sandbox) -> None:
    assert validate(sb, USER_SCHEMA, '{name = "Alice", email = "a@example.com", age = 30}') == (
        True,
        None,
        None,
    )


def test_validate_reports_every_problem_with_its_path(sb: Sandbox) -> None:
    assert validate(sb, USER_SCHEMA, '{name = "", age = 200.5}') == (
        False,
        b"Invalid",
        b"validation failed: #/age: 200.5 is greater than the maximum 150; "
        b"#/age: expected integer, got number; #/name: 0 characters, fewer than minLength 1; "
        b"#: missing required property 'email'",
    )


def test_validate_takes_the_schema_as_a_json_string(sb: Sandbox) -> None:
    assert validate(sb, '\'{"type":"number","minimum":0}\'', "42") == (True, None, None)
    assert validate(sb, '\'{"type":"number","minimum":0}\'', "-1")[2] == (
        b"validation failed: #: -1 is less than the minimum 0"
    )


def test_validate_treats_an_empty_lua_table_as_object_and_array(sb: Sandbox) -> None:
    # An empty table has no JSON shape of its own, so it satisfies both.
    assert validate(sb, '{type = "object", properties = {}}', "{}") == (True, None, None)
    assert validate(sb, '{type = "array"}', "{}") == (True, None, None)
    assert validate(sb, "{}", "'anything'") == (True, None, None)


def test_validate_string_parses_the_data(sb: Sandbox) -> None:
    schema = '{type = "object", properties = {action = {enum = {"create", "update"}}}, required = {"action"}}'
    assert validate(sb, schema, """'{"action":"create","data":{}}'""", "validate_string") == (
        True,
        None,
        None,
    )
    assert validate(sb, schema, """'{"action":"drop"}'""", "validate_string") == (
        False,
        b"Invalid",
        b'validation failed: #/action: "drop" is not one of ["create","update"]',
    )
    # In JSON text [] and {} are distinct.
    assert validate(sb, '{type = "object"}', "'[]'", "validate_string")[2] == (
        b"validation failed: #: expected object, got array"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("'{'", b"validation failed: invalid JSON: Expecting property name"),
        ("42", b"data must be a JSON string"),
    ],
)
def test_validate_string_rejects_bad_text(sb: Sandbox, data: str, message: bytes) -> None:
    ok, kind, msg = validate(sb, "{}", data, "validate_string")
    assert (ok, kind) == (False, b"Invalid")
    assert msg.startswith(message)


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ('{type = "text"}', b"compile schema: #/type: must be one of null, boolean, integer"),
        (
            "{properties = {a = 5}}",
            b"compile schema: #/properties/a: a schema must be an object or a boolean",
        ),
        ('{pattern = "("}', b"compile schema: #/pattern: bad regular expression '('"),
        (
            '{["$ref"] = "#/defs/x"}',
            b"compile schema: #: keyword '$ref' is not supported (wftest implements: type",
        ),
        ("'{'", b"compile schema: invalid JSON"),
        ("42", b"schema error: schema must be a string or table"),
        ("{minLength = -1}", b"compile schema: #/minLength: must be a non-negative integer"),
        ("{anyOf = {}}", b"compile schema: #/anyOf: must be a non-empty array of schemas"),
    ],
)
def test_validate_rejects_unusable_schemas_as_invalid(sb: Sandbox, schema: str, message: bytes) -> None:
    ok, kind, msg = validate(sb, schema, "1")
    assert (ok, kind) == (False, b"Invalid")
    assert msg.startswith(message), msg


@pytest.mark.parametrize(
    ("call", "message"),
    [
        # runtime/lua/modules/json/json.go: missing arguments are refused before anything else.
        ("json.validate(nil, {})", b"schema is required"),
        ("json.validate({}, nil)", b"data is required"),
        ("json.validate({})", b"data is required"),
        ("json.validate_string(nil, '{}')", b"schema is required"),
        ("json.validate_string({}, 42)", b"data must be a JSON string"),
        ("json.validate(true, 1)", b"schema error: schema must be a string or table"),
    ],
)
def test_validate_refuses_missing_arguments_with_wippys_words(sb: Sandbox, call: str, message: bytes) -> None:
    assert run(
        sb,
        f"local json = require('json') local ok, err = {call}"
        " return ok, err:kind(), err:message(), err:retryable()",
    ) == (False, b"Invalid", message, False)


def test_validate_reports_data_that_cannot_be_exported(sb: Sandbox) -> None:
    ok, kind, msg = run(
        sb,
        """
        local json = require("json")
        local t = {}; t.t = t
        local ok, err = json.validate({}, t)
        return ok, err:kind(), err:message()
        """,
    )
    assert (ok, kind, msg) == (
        False,
        b"Invalid",
        b"validation failed: the data cannot be exported: cycle detected",
    )


def problems(schema: Any, data: Any) -> list[str]:
    found: list[str] = []
    compile_schema(schema)(data, "#", found)
    return found


@pytest.mark.parametrize(
    ("schema", "good", "bad", "message"),
    [
        ({"type": ["string", "null"]}, None, 1, "#: expected string or null, got integer"),
        ({"type": "integer"}, 3.0, 3.5, "#: expected integer, got number"),
        ({"type": "boolean"}, True, 1, "#: expected boolean, got integer"),
        ({"const": 1}, 1.0, True, "#: true is not 1"),
        ({"enum": [[1, 2], {"a": 1}]}, {"a": 1}, [2, 1], '#: [2,1] is not one of [[1,2],{"a":1}]'),
        (
            {"additionalProperties": False, "properties": {"a": {}}},
            {"a": 1},
            {"b": 1},
            "#: property 'b' is not allowed",
        ),
        (
            {"additionalProperties": {"type": "string"}},
            {"b": "x"},
            {"b": 1},
            "#/b: expected string, got integer",
        ),
        ({"minProperties": 1}, {"a": 1}, {}, "#: 0 properties, fewer than minProperties 1"),
        ({"maxProperties": 1}, {"a": 1}, {"a": 1, "b": 2}, "#: 2 properties, more than maxProperties 1"),
        ({"items": {"type": "integer"}}, [1, 2], [1, "x"], "#/1: expected integer, got string"),
        ({"minItems": 2}, [1, 2], [1], "#: 1 items, fewer than minItems 2"),
        ({"maxItems": 1}, [1], [1, 2], "#: 2 items, more than maxItems 1"),
        ({"uniqueItems": True}, [1, "1"], [1, 1.0], "#: item 1 is a duplicate"),
        ({"exclusiveMinimum": 0}, 0.5, 0, "#: 0 is not greater than the exclusive minimum 0"),
        ({"exclusiveMaximum": 1}, 0.5, 1, "#: 1 is not less than the exclusive maximum 1"),
        ({"multipleOf": 0.1}, 0.3, 0.35, "#: 0.35 is not a multiple of 0.1"),
        ({"maxLength": 2}, "éé", "abc", "#: 3 characters, more than maxLength 2"),
        ({"pattern": "^a+$"}, "aa", "ab", "#: \"ab\" does not match pattern '^a+$'"),
        ({"allOf": [{"minimum": 0}, {"maximum": 5}]}, 3, 6, "#: 6 is greater than the maximum 5"),
        ({"anyOf": [{"type": "string"}, {"minimum": 5}]}, 6, 1, "#: does not match any schema of anyOf"),
        (
            {"oneOf": [{"minimum": 0}, {"maximum": 5}]},
            6,
            3,
            "#: matches 2 schemas of oneOf, expected exactly 1",
        ),
        ({"not": {"type": "null"}}, 0, None, "#: must not match the schema of not"),
        (False, None, None, "#: no value is allowed here"),
    ],
)
def test_schema_keywords(schema: Any, good: Any, bad: Any, message: str) -> None:
    if schema is not False:
        assert problems(schema, good) == []
    assert problems(schema, bad) == [message]


def test_schema_ignores_annotations_and_checks_only_matching_types() -> None:
    schema = {
        "title": "t",
        "format": "email",
        "$schema": "x",
        "minimum": 3,
        "minLength": 2,
        "required": ["a"],
    }
    assert problems(schema, "no") == []
    assert problems(schema, [1]) == []
    assert problems({"properties": {"a": {"type": "string"}}}, {"a": "x", "b": 1}) == []
    assert problems({"type": "object"}, EMPTY) == []


def test_schema_error_messages_list_the_supported_keywords() -> None:
    with pytest.raises(SchemaError) as info:
        compile_schema({"if": {}})
    assert (
        str(info.value)
        == f"#: keyword 'if' is not supported (wftest implements: {', '.join(SUPPORTED_KEYWORDS)})"
    )
    with pytest.raises(SchemaError, match="the array form of items is not supported"):
        compile_schema({"items": [{}]})
    with pytest.raises(SchemaError, match=r"#/multipleOf: must be greater than 0"):
        compile_schema({"multipleOf": 0})


# -- base64 ----------------------------------------------------------------------------------------


def test_base64_encodes_with_the_standard_padded_alphabet(sb: Sandbox) -> None:
    assert run(
        sb,
        """
        local base64 = require("base64")
        return base64.encode("Hello, World!"), base64.encode(""), base64.encode("\\255\\254\\253")
        """,
    ) == (b"SGVsbG8sIFdvcmxkIQ==", b"", b"//79")


def test_base64_round_trips_binary(sb: Sandbox) -> None:
    # Success is one value, as runtime/lua/modules/base64/module.go returns it.
    data = bytes(range(256))
    assert run(sb, "local b = require('base64') return b.decode(b.encode(...))", data) == (data,)


def test_base64_decode_skips_line_breaks(sb: Sandbox) -> None:
    assert run(sb, "local b = require('base64') return b.decode('SGVs\\r\\nbG8=')") == (b"Hello",)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("base64.decode('SGVsbG8')", b"decode failed: illegal base64 data: "),
        ("base64.decode('SG$sbG8=')", b"decode failed: illegal base64 data: "),
        ("base64.decode('SGVs-G8=')", b"decode failed: illegal base64 data: "),
        ("base64.decode(true)", b"string expected"),
        ("base64.encode({})", b"string expected"),
    ],
)
def test_base64_errors_are_invalid(sb: Sandbox, call: str, message: bytes) -> None:
    kind, msg, _ = err_of(sb, call)
    assert kind == b"Invalid"
    assert msg.startswith(message)


# -- hash (follows runtime/lua/modules/hash/module.go) ----------------------------------------------


@pytest.mark.parametrize(
    ("fn", "data", "digest"),
    [
        ("md5", b"abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("sha1", b"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ("sha256", b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("sha512", b"abc", hashlib.sha512(b"abc").hexdigest()),
    ],
)
def test_hash_digests_are_lowercase_hex_or_raw_bytes(sb: Sandbox, fn: str, data: bytes, digest: str) -> None:
    hexed, raw, also_raw = run(
        sb,
        f"local hash = require('hash') return hash.{fn}(...), hash.{fn}(..., true), (hash.{fn}(..., 0))",
        data,
    )
    assert hexed == digest.encode()
    assert raw == also_raw == bytes.fromhex(digest)


@pytest.mark.parametrize(
    ("fn", "data", "value"),
    [
        # FNV-1 (Go's fnv.New32/New64), returned as a float like Wippy's lua.LNumber.
        ("fnv32", b"", 0x811C9DC5),
        ("fnv32", b"a", 0x050C5D7E),
        ("fnv32", b"foobar", 0x31F0B262),
        ("fnv64", b"", float(0xCBF29CE484222325)),
        ("fnv64", b"a", float(0xAF63BD4C8601B7BE)),
        ("fnv64", b"foobar", float(0x340D8765A4DDA9C2)),
    ],
)
def test_hash_fnv_gives_a_float(sb: Sandbox, fn: str, data: bytes, value: float) -> None:
    result, err, kind = run(
        sb, f"local hash = require('hash') local v, e = hash.{fn}(...) return v, e, math.type(v)", data
    )
    assert (result, err, kind) == (value, None, b"float")


@pytest.mark.parametrize("digest", ["md5", "sha1", "sha256", "sha512"])
def test_hash_hmac_takes_data_then_secret(sb: Sandbox, digest: str) -> None:
    expected = hmac.new(b"key", b"message", digest).digest()
    hexed, raw = run(
        sb,
        f"local hash = require('hash') local f = hash.hmac_{digest}"
        " return f('message', 'key'), (f('message', 'key', true))",
    )
    assert (hexed, raw) == (expected.hex().encode(), expected)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("hash.sha256(42)", b"data must be a string"),
        ("hash.md5()", b"data must be a string"),
        ("hash.fnv64({})", b"data must be a string"),
        ("hash.hmac_md5(1, 'k')", b"data must be a string"),
        ("hash.hmac_sha256('d', nil)", b"secret must be a string"),
    ],
)
def test_hash_bad_arguments_are_invalid_errors(sb: Sandbox, call: str, message: bytes) -> None:
    assert err_of(sb, call) == (b"Invalid", message, False)


def test_hash_has_exactly_wippys_functions(sb: Sandbox) -> None:
    (names,) = run(
        sb,
        "local t = {} for k in pairs(require('hash')) do t[#t + 1] = k end"
        " table.sort(t) return table.concat(t, ' ')",
    )
    assert names.split() == sorted(
        b"md5 sha1 sha256 sha512 fnv32 fnv64 hmac_sha256 hmac_sha512 hmac_sha1 hmac_md5".split()
    )


# -- yaml ------------------------------------------------------------------------------------------


def test_yaml_encode_lays_out_like_yaml_v3(sb: Sandbox) -> None:
    # runtime/lua/modules/yaml/module.go: yaml.Marshal (keys in natural order, 4-space indent,
    # sequences indented under their key); integral floats are written as integers.
    assert run(
        sb,
        """
        local yaml = require("yaml")
        return yaml.encode({b = 1, a = {1, 2.0, "x"}, c = {d = 1.5}, a10 = 1, a2 = 2})
        """,
    ) == (b"a:\n    - 1\n    - 2\n    - x\na2: 2\na10: 1\nb: 1\nc:\n    d: 1.5\n", None)


def test_yaml_encode_options_order_fields_and_indent_by_two(sb: Sandbox) -> None:
    assert run(
        sb,
        """
        local yaml = require("yaml")
        local t = {z = 1, b = {y = 1, a = 2}, m = 3, a = 4}
        local sorted = yaml.encode(t, {field_order = {"m"}, sort_unordered = true})
        return yaml.encode(t, {field_order = {"m", "z"}}), sorted
        """,
    ) == (b"m: 3\nz: 1\na: 4\nb:\n  a: 2\n  y: 1\n", b"m: 3\na: 4\nb:\n  a: 2\n  y: 1\nz: 1\n")


def test_yaml_encode_converts_tables_as_wippy_does(sb: Sandbox) -> None:
    # runtime/lua/engine/value ToGoAny: an array part makes a list (other keys dropped), any other
    # table is a map, the empty one too; multi-line strings are literal blocks.
    assert run(
        sb,
        """
        local yaml = require("yaml")
        return yaml.encode({items = {}, mixed = {1, x = 2}, text = "a\\nb", [5] = "five"})
        """,
    ) == (b"'5': five\nitems: {}\nmixed:\n    - 1\ntext: |-\n    a\n    b\n", None)


@pytest.mark.parametrize("value", ["7", "nil", "'text'", "true"])
def test_yaml_encode_refuses_what_is_not_a_table(sb: Sandbox, value: str) -> None:
    assert err_of(sb, f"yaml.encode({value})") == (b"Invalid", b"table expected", False)


def test_yaml_decode_gives_lua_values(sb: Sandbox) -> None:
    assert run(
        sb,
        """
        local yaml = require("yaml")
        local v, err = yaml.decode("a: [1, 2.5]\\nwhen: 2024-01-02\\nnested:\\n  ok: true\\n  none: null\\n")
        return err, math.type(v.a[1]), v.a[2], v.when, v.nested.ok, v.nested.none
        """,
    ) == (None, b"integer", 2.5, b"2024-01-02", True, None)


def test_yaml_decode_reads_plain_scalars_as_yaml_v3_does(sb: Sandbox) -> None:
    # yaml.v3 (runtime/lua/modules/yaml/module.go decodes into Go's any): YAML 1.1 words like yes/on
    # and base-60 numbers are strings, timestamps keep their text, "09" is a float.
    assert run(
        sb,
        """
        local yaml = require("yaml")
        local v = yaml.decode("a: yes\\nb: on\\nc: True\\nd: 2001-12-14t21:59:43.10-05:00\\n"
            .. "e: 1:20\\nf: 0x1F\\ng: 09\\nh: 1e3")
        return v.a, v.b, v.c, v.d, v.e, v.f, v.g, math.type(v.g), v.h
        """,
    ) == (b"yes", b"on", True, b"2001-12-14t21:59:43.10-05:00", b"1:20", 31, 9.0, b"float", 1000.0)


def test_yaml_round_trip(sb: Sandbox) -> None:
    assert run(
        sb,
        """
        local yaml = require("yaml")
        local v = yaml.decode(yaml.encode({name = "é", list = {1, 2, 3}, deep = {x = {y = "z"}}}))
        return v.name, #v.list, v.deep.x.y
        """,
    ) == ("é".encode(), 3, b"z")


@pytest.mark.parametrize(
    ("call", "kind", "message"),
    [
        ("yaml.decode(1)", b"Invalid", b"string expected"),
        ("yaml.decode('')", b"Invalid", b"input cannot be empty"),
        ("yaml.decode('a: [1, 2')", b"Internal", b"decode failed: while parsing a flow sequence"),
        ("yaml.decode('? [1]\\n: x')", b"Internal", b"decode failed: while constructing a mapping"),
        ("yaml.decode('~: 1')", b"Internal", b"convert to Lua failed: the document has no Lua form"),
        ("yaml.decode('a: &x [*x]')", b"Internal", b"decode failed: line 1: alias *x refers to a node that contains it"),
        (
            "(function() local t = {} t.t = t return yaml.encode(t) end)()",
            b"Internal",
            b"encode failed: tables nested",
        ),
    ],
)
def test_yaml_errors(sb: Sandbox, call: str, kind: bytes, message: bytes) -> None:
    got_kind, msg, _ = err_of(sb, call)
    assert got_kind == kind
    assert msg.startswith(message), msg


# -- ctx ------------------------------------------------------------------------------


def ctx_sandbox(context: dict[str, Any]) -> Sandbox:
    return Sandbox(SandboxOptions(context=context))


def test_ctx_get_returns_values_with_numbers_as_floats() -> None:
    sb = ctx_sandbox({"user": "u-1", "n": 3, "flag": True, "nested": {"ids": [1, 2]}})
    assert run(
        sb,
        """
        local ctx = require("ctx")
        local user, e1 = ctx.get("user")
        local n = ctx.get("n")
        local nested = ctx.get("nested")
        return user, e1, n, math.type(n), ctx.get("flag"), math.type(nested.ids[2])
        """,
    ) == (b"u-1", None, 3.0, b"float", True, b"float")


def test_ctx_all_returns_every_value() -> None:
    sb = ctx_sandbox({"a": 1, "b": "x", "dropped": object()})
    assert run(sb, "local ctx = require('ctx') return require('json').encode(ctx.all())") == (
        b'{"a":1,"b":"x"}',
        None,
    )
    assert run(Sandbox(), "local ctx = require('ctx') local t, e = ctx.all() return next(t), e") == (
        None,
        None,
    )


def test_ctx_context_value_rules() -> None:
    assert context_value({"i": 1, "l": [1, None, "s"], "t": (2,), "b": False, 3: 4.5}) == {
        "i": 1.0,
        "l": [1.0, "s"],
        "t": [2.0],
        "b": False,
        "3": 4.5,
    }


def test_ctx_get_errors() -> None:
    sb = ctx_sandbox({"a": 1})
    assert err_of(sb, "ctx.get('missing')") == (
        b"NotFound",
        b"ctx.get: context key 'missing' not found",
        False,
    )
    assert err_of(sb, "ctx.get('')") == (b"Invalid", b"ctx.get: key must not be empty", False)
    assert (
        str(raises(sb, "ctx.get(1)")) == "user.lua:3: bad argument #1 to 'get' (string expected, got number)"
    )


# -- logger ----------------------------------------------------------------------------------------


def test_logger_writes_level_message_and_fields() -> None:
    lines: list[str] = []
    sb = Sandbox(SandboxOptions(log=lines.append))
    run(
        sb,
        """
        local logger = require("logger")
        logger:info("started", {order = "o-1", n = 2})
        logger:debug("plain")
        local child = logger:with({svc = "pay"}):named("billing"):named("card")
        child:warn("slow", {ms = 1.5})
        child:error("failed", {svc = "override"})
        logger:info("not affected by with", {})
        """,
    )
    expected = [
        'INFO started {"n":2,"order":"o-1"}',
        "DEBUG plain",
        'WARN [billing.card] slow {"ms":1.5,"svc":"pay"}',
        'ERROR [billing.card] failed {"svc":"override"}',
        "INFO not affected by with",
    ]
    assert sb.logs == expected
    assert lines == expected


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("logger.info('x')", "logger.info must be called as a method: logger:info(...)"),
        ("logger:info(1)", "bad argument #1 to 'info' (string expected, got number)"),
        ("logger:info('x', 'y')", "bad argument #2 to 'info' (table expected, got string)"),
        ("logger:info('x', {1, 2})", "bad argument #2 to 'info' (fields must be a table with string keys)"),
        ("logger:with(nil)", "bad argument #1 to 'with' (table expected, got nil)"),
        ("logger:named('')", "bad argument #1 to 'named' (name must not be empty)"),
    ],
)
def test_logger_argument_errors_raise(sb: Sandbox, call: str, message: str) -> None:
    assert str(raises(sb, call)) == f"user.lua:3: {message}"


def test_logger_fields_that_cannot_be_encoded_raise(sb: Sandbox) -> None:
    with pytest.raises(LuaFailure, match="fields cannot be encoded: cycle detected"):
        run(sb, "local logger = require('logger') local t = {} t.t = t logger:info('x', t)")
