"""Typed Lua as Wippy's own type tests use it: `readonly`, `typeof`, Go regular expressions in
`@pattern`, and validation messages that name the bound ("minimum", "maximum", "length", "pattern").

Wippy's type system lives in its Lua fork (go-lua's `types` packages, which Wippy's runtime imports); the
behaviours pinned here are the ones its test app checks in `tests/app/src/test/types/runtime_is_*.lua`
and `readonly_types.lua`.
"""

from __future__ import annotations

from typing import Any

import pytest
from lupa import lua55

from wftest.lua.compiler import CompileError, compile_source
from wftest.lua.dialect import TYPES_RUNTIME, DialectError, erase, lua_string_value, pattern_matches
from wftest.lua.sandbox import Sandbox, SandboxOptions


@pytest.fixture
def lua() -> Any:
    lua = lua55.LuaRuntime()
    load_types = lua.eval("function(code, find) return load(code, '=types.lua')(nil, nil, find) end")
    load_types(TYPES_RUNTIME.read_text(), pattern_matches)
    return lua


def run(lua: Any, typed: str) -> Any:
    """Erase `typed`, run it as chunk `t.lua` and return its results."""
    return lua.eval("function(code) return assert(load(code, '@t.lua'))() end")(erase(typed, "t.lua").lua)


def is_(lua: Any, decls: str, type_name: str, value: str) -> tuple[bool, str | None]:
    """`T:is(value)` as (passed, failure message)."""
    ok, message = run(lua, decls + f"\nlocal v, err = {type_name}:is({value})\nreturn v ~= nil, err")
    return ok, message


# -- readonly (readonly_types.lua, runtime_is_readonly_optional.lua) --------------------------------


def test_readonly_annotations_erase_on_locals_parameters_and_returns() -> None:
    src = (
        "local function first(arr: readonly {number}): number?\n  return arr[1]\nend\n"
        "local scores: readonly {[string]: number} = {a = 1}\n"
        "return first({10}), scores.a"
    )
    out = erase(src).lua
    assert "readonly" not in out and out.count("\n") == src.count("\n")
    assert lua55.LuaRuntime().execute(out) == (10, 1)


def test_readonly_types_check_as_their_inner_type(lua: Any) -> None:
    decls = ("type RL = readonly {number}\ntype RM = readonly {[string]: number}\n"
             "type Config = {id: string, tags?: readonly {string}, meta?: readonly {[string]: string}}")
    assert is_(lua, decls, "RL", "{1, 2}") == (True, None)
    assert is_(lua, decls, "RL", '{"x"}') == (False, 'RL[1]: expected number, got string "x"')
    assert is_(lua, decls, "RM", '{a = "x"}') == (False, 'RM.a: expected number, got string "x"')
    assert is_(lua, decls, "Config", '{id = "c"}') == (True, None)
    assert is_(lua, decls, "Config", '{id = "c", tags = {1}}') == (
        False, "Config.tags[1]: expected string, got integer 1")
    assert is_(lua, decls, "Config", '{id = "c", meta = {env = 1}}') == (
        False, "Config.meta.env: expected string, got integer 1")


def test_readonly_field_modifier_and_a_type_named_readonly(lua: Any) -> None:
    decls = "type P = {readonly x: number, readonly y?: number}\n"
    decls += "type readonly = string\ntype Q = {r: readonly}"
    assert is_(lua, decls, "P", "{x = 1}") == (True, None)
    assert is_(lua, decls, "P", '{x = 1, y = "2"}') == (False, 'P.y: expected number, got string "2"')
    assert is_(lua, decls, "Q", "{r = 1}") == (False, "Q.r: expected string, got integer 1")


# -- typeof (runtime_is_typeof.lua) -----------------------------------------------------------------


def test_typeof_takes_the_declared_type_of_a_local(lua: Any) -> None:
    decls = (
        'local sample: {name: string, age: number} = {name = "Ada", age = 33}\n'
        "local nested: {meta: {active: boolean}, tags: {string}} = {meta = {active = true}, tags = {}}\n"
        "type Sample = typeof(sample)\ntype Nested = typeof(nested)"
    )
    assert is_(lua, decls, "Sample", '{name = "Bob", age = 1}') == (True, None)
    assert is_(lua, decls, "Sample", "{name = 123, age = 1}") == (
        False, "Sample.name: expected string, got integer 123")
    assert is_(lua, decls, "Sample", '{name = "Bob"}') == (False, "Sample.age: expected number, got nil")
    assert is_(lua, decls, "Nested", '{meta = {active = "yes"}, tags = {}}') == (
        False, 'Nested.meta.active: expected boolean, got string "yes"')


def test_typeof_sees_parameters_and_the_innermost_declaration(lua: Any) -> None:
    src = (
        "local v: string = 'x'\n"
        "local function f(v: number)\n  type P = typeof(v)\n  return P:is('s') == nil\nend\n"
        "do\n  local v: boolean = true\n  type B = typeof(v)\n  if B:is(1) then return 'wrong' end\nend\n"
        "type S = typeof(v)\nreturn f(1), (S:is('ok'))"
    )
    assert run(lua, src) == (True, "ok")


@pytest.mark.parametrize(
    ("src", "line", "message"),
    [
        ("local x = 1\n\ntype X = typeof(x)", 3, "typeof(x): 'x' has no type annotation"),
        ("type X = typeof(nope)", 1, "typeof(nope): no local variable or parameter 'nope' is in scope"),
        ("for i: integer = 1, 2 do end\ntype I = typeof(i)", 2, "no local variable or parameter 'i'"),
        ("do local y: number = 1 end\ntype Y = typeof(y)", 2, "no local variable or parameter 'y'"),
        ("type X = typeof(a.b)", 1, "typeof(...) in a type takes the name of a local variable"),
    ],
)
def test_typeof_without_a_declared_type_is_a_compile_error(src: str, line: int, message: str) -> None:
    with pytest.raises(DialectError) as info:
        erase(src, "wf.lua")
    assert info.value.line == line and message in info.value.message


# -- @pattern is a Go regular expression (runtime_is_annotations.lua, runtime_is_lib_stress.lua) ---


def test_pattern_uses_regular_expression_syntax(lua: Any) -> None:
    decls = 'type Email = string @pattern("^.+@.+\\\\..+$")\ntype Digits = string @pattern("[0-9]{3}")'
    assert is_(lua, decls, "Email", '"a@b.com"') == (True, None)
    assert is_(lua, decls, "Email", '"invalid"') == (
        False, 'Email: string "invalid" does not match the pattern "^.+@.+\\\\..+$"')
    assert is_(lua, decls, "Digits", '"ab1234"') == (True, None)  # unanchored: found anywhere
    assert is_(lua, decls, "Digits", '"12"')[0] is False


def test_pattern_dollar_is_the_end_of_the_text_as_in_go() -> None:
    assert pattern_matches(b"^a$", b"a")
    assert not pattern_matches(b"^a$", b"a\n")
    assert pattern_matches(b"^\\pL+$", "é".encode())


@pytest.mark.parametrize("pattern", ['"(?=x)"', '"a)"', '"x\\\\1"'])
def test_a_pattern_go_cannot_compile_is_a_compile_error_with_its_line(pattern: str) -> None:
    with pytest.raises(CompileError, match=r"^wf\.lua:2: @pattern: invalid regular expression: "):
        compile_source(f"local a = 1\ntype P = string @pattern({pattern})\n", "wf.lua")


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ('"a\\\\.b"', b"a\\.b"),
        ("'\\x41\\65\\u{e9}'", b"AA\xc3\xa9"),
        ('"a\\z   \n  b"', b"ab"),
        ("[[x\\d]]", b"x\\d"),
        ("[==[\n]]]==]", b"]]"),
    ],
)
def test_pattern_literals_read_as_lua_reads_them(literal: str, value: bytes) -> None:
    assert lua_string_value(literal) == value


def test_pattern_validation_in_a_sandbox() -> None:
    sb = Sandbox(SandboxOptions())
    chunk = compile_source('type Email = string @pattern("^.+@.+\\\\..+$")\n'
                           'return (Email:is("a@b.co")), select(2, Email:is("nope")):message()', "flow.lua")
    fn, err = sb.api.load_chunk(chunk.lua.encode(), b"flow.lua", None)
    assert fn is not None, err
    assert sb.call(fn) == (b"a@b.co", b'Email: string "nope" does not match the pattern "^.+@.+\\\\..+$"')


# -- messages name the bound (runtime_is_maps.lua, runtime_is_stress.lua) ------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{math = -1}", "Scores.math: integer -1 is below the minimum 0"),
        ("{math = 100.5}", "Scores.math: float 100.5 is above the maximum 100"),
    ],
)
def test_min_and_max_failures_say_minimum_and_maximum(lua: Any, value: str, message: str) -> None:
    decls = "type Score = number @min(0) @max(100)\ntype Scores = {[string]: Score}"
    assert is_(lua, decls, "Scores", value) == (False, message)


def test_length_failures_name_the_length(lua: Any) -> None:
    decls = "type User = {name: string @min_len(2), tags?: {string} @min_len(1) @max_len(2)}"
    assert is_(lua, decls, "User", '{name = "A"}') == (
        False, "User.name: length 1 is below the minimum length 2")
    assert is_(lua, decls, "User", '{name = "Ab", tags = {}}') == (
        False, "User.tags: length 0 is below the minimum length 1")
    assert is_(lua, decls, "User", '{name = "Ab", tags = {"a", "b", "c"}}') == (
        False, "User.tags: length 3 is above the maximum length 2")


# -- typeof(x) as a value, and reflection of its parts -------------------------------------------


def test_typeof_in_an_expression_is_the_declared_type_as_a_value(lua: Any) -> None:
    src = (
        "local arr: {number} = {1, 2, 3}\nlocal map: {[string]: integer} = {}\nlocal opt: number? = nil\n"
        "local ok = (typeof(arr):is({1}))\nlocal bad, err = typeof(arr):is({'x'})\n"
        "return typeof(arr):elem():kind(), typeof(map):key():kind(), typeof(map):val():kind(),\n"
        "  typeof(opt):kind(), typeof(opt):inner():kind(), typeof(arr):name(), ok[1], bad, err"
    )
    assert run(lua, src) == (
        "number", "string", "integer", "optional", "number", "{number}", 1, None,
        '{number}[1]: expected number, got string "x"')


def test_typeof_of_a_local_function_named_typeof_is_a_plain_call() -> None:
    src = "local arr: {number} = {}\nlocal function typeof(x) return 'mine' end\nreturn typeof(arr)"
    assert lua55.LuaRuntime().execute(erase(src).lua) == "mine"
    assert "typeof(x)" in erase("local y = typeof(x)").lua  # not annotated: left as written


def test_union_variants_and_kind_specific_methods_leave_fields_reachable(lua: Any) -> None:
    src = (
        'type Status = "pending" | "done"\ntype R = {key: string, elem: number, params: boolean}\n'
        "local names = {}\nfor variant in Status:variants() do names[#names + 1] = variant:name() end\n"
        "return table.concat(names, ','), R.key:kind(), R.elem:kind(), R.params:kind()"
    )
    assert run(lua, src) == ('"pending","done"', "string", "number", "boolean")


def test_function_types_say_they_keep_no_parameter_types(lua: Any) -> None:
    src = "type F = (number) -> string\nlocal ok, err = pcall(function() local p = F:params() end)\n"
    src += "return err"
    assert run(lua, src) == (
        "t.lua:2: F: wftest keeps no parameter types of function types (only that the value is callable)")


def test_recursive_generic_type_accepts_cyclic_data(lua: Any) -> None:
    decls = "type List<T> = {value: T, next: List<T>?}\ntype SL = List<{string}>\n"
    src = decls + 'local n = {value = {"a"}}\nn.next = n\n'
    src += 'return SL:is(n) == n, select(2, SL:is({value = {"a"}, next = {value = {1}}}))'
    assert run(lua, src) == (True, "SL.next.value[1]: expected string, got integer 1")
