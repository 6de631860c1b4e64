"""The `payload` module and global (Wippy's runtime/lua/modules/payload/module.go, and the transcoders of
runtime/lua/engine/payload: json.go, string.go, bytes.go, lua.go)."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from wftest.lua.modules.payload import go_float, new_payload
from wftest.lua.sandbox import LuaFailure, Sandbox


def run(sb: Sandbox, body: str, modules: tuple[str, ...] = ()) -> tuple[Any, ...]:
    code = textwrap.dedent(body).strip().encode()
    fn, err = sb.api.load_chunk(code, b"user.lua", sb.make_require("test", modules, {}, None), None)
    assert fn is not None, err
    return sb.call(fn)


@pytest.fixture
def sb() -> Sandbox:
    return Sandbox()


def test_format_constants_match_module_go(sb: Sandbox) -> None:
    got = run(
        sb,
        """
        local f = payload.format
        return f.JSON, f.YAML, f.STRING, f.BYTES, f.MSGPACK, f.LUA, f.GOLANG, f.ERROR
        """,
    )
    assert got == (
        b"json/plain",
        b"yaml/plain",
        b"text/plain",
        b"application/octet-stream",
        b"application/msgpack",
        b"lua/any",
        b"golang/any",
        b"golang/error",
    )


def test_global_and_require_are_the_same_module_without_listing_it(sb: Sandbox) -> None:
    # Wippy's require looks names up in the globals (engine/loadlib/loadlib.go); payload is one of them.
    assert run(sb, 'return require("payload") == payload, type(payload.new(1))') == (True, b"userdata")


def test_new_wraps_lua_values_and_data_returns_them_unchanged(sb: Sandbox) -> None:
    got = run(
        sb,
        """
        local t = {key = "value"}
        local p = payload.new(t)
        local n = select("#", p:data())
        return p:get_format(), p:data() == t, p:unmarshal() == t, n, payload.new(nil):data(),
            payload.new(123.456):data(), tostring(payload.new("x"))
        """,
    )
    assert got == (b"lua/any", True, True, 1, None, 123.456, b"payload{format=lua/any}")


def test_an_error_value_gets_the_error_format(sb: Sandbox) -> None:
    assert run(sb, 'return payload.new(errors.new("boom")):get_format()') == (b"golang/error",)


def test_transcode_to_json_and_back(sb: Sandbox) -> None:
    got = run(
        sb,
        """
        local j, err = payload.new({b = 2, a = {1, 2}}):transcode(payload.format.JSON)
        assert(err == nil)
        local back = j:data()
        return j:get_format(), back.b, back.a[2], tostring(j)
        """,
    )
    assert got == (b"json/plain", 2, 2, b"payload{format=json/plain}")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ('"hi"', b"hi"),
        ("42", b"42"),
        ("2.5", b"2.5"),
        ("1e6 + 0.0", b"1e+06"),
        ("true", b"true"),
        ("nil", b""),
        ("{1, 2}", b"[1 2]"),
        ('{b = "x", a = 1}', b"map[a:1 b:x]"),
    ],
)
def test_transcode_to_string_uses_go_formatting(sb: Sandbox, value: str, text: bytes) -> None:
    # engine/payload/string.go: %v of float64, %d of integers, %t of booleans, "" for nil.
    got = run(sb, f"local s = payload.new({value}):transcode(payload.format.STRING) return s:data()")
    assert got == (text,)


def test_transcode_between_two_encoded_formats_goes_through_lua(sb: Sandbox) -> None:
    got = run(
        sb,
        """
        local j = payload.new({n = 1}):transcode(payload.format.JSON)
        local y = j:transcode(payload.format.YAML)
        local again = y:transcode(payload.format.JSON)
        return y:get_format(), y:data().n, again:transcode(payload.format.STRING):data()
        """,
    )
    assert got == (b"yaml/plain", 1, b"map[n:1]")


def test_failed_transcode_is_a_non_retryable_internal_error(sb: Sandbox) -> None:
    bad = new_payload(sb, b"{not json", "json/plain")
    fn = sb.lua.eval(
        """function(bad)
        local v, err = bad:data()
        local m, merr = payload.new(1):transcode(payload.format.MSGPACK)
        local u, uerr = payload.new(1):transcode("no/such")
        return v, err:kind(), err:retryable(), err:message(), m, merr:kind(), uerr:message()
        end"""
    )
    got = sb.call(fn, bad)
    assert got[:3] == (None, b"Internal", False)
    assert got[3].startswith(b"transcode failed: failed to decode JSON")
    assert got[4:6] == (None, b"Internal")
    assert got[6] == b"transcode failed: no transcoder from lua/any to no/such"


def test_method_on_a_non_payload_raises(sb: Sandbox) -> None:
    with pytest.raises(LuaFailure, match=r"bad argument #1 to 'get_format' \(payload expected\)"):
        run(sb, "local p = payload.new(1)\nreturn p.get_format({})")
    with pytest.raises(LuaFailure, match=r"bad argument #2 to 'transcode' \(string expected, got no value\)"):
        run(sb, "return payload.new(1):transcode()")


def test_go_float_matches_strconv_shortest_g() -> None:
    assert [go_float(f) for f in (100000.0, 1e6, 123456789.0, 0.0001, 1e-5, -2.5)] == [
        "100000",
        "1e+06",
        "1.23456789e+08",
        "0.0001",
        "1e-05",
        "-2.5",
    ]
