"""Typed-Lua erasure and the run-time type values."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from functools import cache
from types import FrameType
from typing import Any

import pytest
from dialect_corpus import CASES, Case
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lupa import lua55

from wftest.lua.dialect import TYPES_RUNTIME, DialectError, Erased, erase, pattern_matches

ERRORS_STAND_IN = """
errors = {new = function(t)
  return setmetatable({kind = t.kind, message = t.message}, {__tostring = function(e) return e.message end})
end}
"""


LOAD_ONLY = "function(code, name) local chunk, err = load(code, name); return chunk ~= nil, err end"


@pytest.fixture(scope="module")
def compiler() -> Any:
    """`(ok, err)` of `load(code, name)` in a bare Lua 5.5 state: compiles without running."""
    return lua55.LuaRuntime().eval(LOAD_ONLY)


def new_state(with_errors: bool = True) -> Any:
    lua = lua55.LuaRuntime()
    if with_errors:
        lua.execute(ERRORS_STAND_IN)
    load_types = lua.eval("function(code, find) return load(code, '=types.lua')(nil, nil, find) end")
    load_types(TYPES_RUNTIME.read_text(), pattern_matches)
    return lua


@pytest.fixture
def lua() -> Any:
    return new_state()


def run(lua: Any, typed: str) -> Any:
    """Erase `typed`, then run it as chunk `t.lua` and return its results."""
    ok, err = lua.eval(LOAD_ONLY)(erase(typed, "t.lua").lua, "@t.lua")
    assert ok, err
    return lua.eval("load")(erase(typed, "t.lua").lua, "@t.lua")()


# -- the corpus


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 60
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_case(case: Case, compiler: Any) -> None:
    out = erase(case.typed, "corpus.lua").lua
    assert out == case.lua
    assert out.count("\n") == case.typed.count("\n")
    assert out.count("\r") == case.typed.count("\r")
    ok, err = compiler(out, "=corpus")
    assert ok, err


def test_erase_returns_declared_type_names_in_order_once() -> None:
    src = "type B = number\ninterface Shape { area: (self) -> number }\nexport type A = B\n"
    src += "do type B = string end"
    assert erase(src) == Erased(lua=erase(src).lua, types=("B", "Shape", "A"))
    assert erase("local type = 1").types == ()


def test_chunk_without_types_is_returned_unchanged() -> None:
    src = "local t = {}\nfunction t:m(a, b) return a < b end\nreturn t\n"
    assert erase(src).lua == src


# -- plain Lua is byte-identical (property)

NAMES = ["a", "b", "obj", "t", "type", "interface", "export", "as", "global"]
ATOMS = [
    "1", "0x1F", "3.5", "1e3", "nil", "true", "false",
    '"a: b"', "'x :: T'", r'"q\" :"', r"'it\'s'", r'"\\"', "[[long as T]]", "[==[ ]] x: y ]==]",
    '"\\z\n   z"', '"type X = number"',
]
BINARY = ["+", "-", "*", "/", "//", "%", "^", "..", "==", "~=", "<", "<=", ">", ">=", "and", "or",
          "&", "|", "~", "<<", ">>"]
UNARY = ["not", "-", "#", "~"]
COMMENTS = ["-- c: x as T", "--[[ a: b\n :: c ]]", "--[==[ ]] type X = Y ]==]", "--"]
names = st.sampled_from(NAMES)


@cache
def expr(depth: int) -> st.SearchStrategy[str]:
    base = st.one_of(names, st.sampled_from(ATOMS))
    if depth == 0:
        return base
    sub = expr(depth - 1)
    return st.one_of(
        base,
        prefix(depth - 1),
        st.tuples(sub, st.sampled_from(BINARY), sub).map(" ".join),
        st.tuples(st.sampled_from(UNARY), sub).map(" ".join),
        st.tuples(names, names, names, names, names).map(lambda n: f"{n[0]}({n[1]}<{n[2]}, {n[3]}>{n[4]})"),
        table(depth - 1),
        block(depth - 1).map(lambda b: f"function(p, q)\n{b}\nreturn p end"),
    )


@cache
def table(depth: int) -> st.SearchStrategy[str]:
    field = st.one_of(
        expr(depth),
        st.tuples(names, expr(depth)).map(lambda f: f"{f[0]} = {f[1]}"),
        st.tuples(expr(depth), expr(depth)).map(lambda f: f"[ {f[0]} ] = {f[1]}"),
    )
    return st.tuples(st.lists(field, max_size=3), st.sampled_from([", ", "; "])).map(
        lambda t: "{" + t[1].join(t[0]) + "}"
    )


@cache
def prefix(depth: int) -> st.SearchStrategy[str]:
    if depth == 0:
        return names
    return st.one_of(
        names,
        expr(depth - 1).map(lambda e: f"({e})"),
        st.tuples(prefix(depth - 1), names).map(lambda p: f"{p[0]}.{p[1]}"),
        st.tuples(prefix(depth - 1), expr(depth - 1)).map(lambda p: f"{p[0]}[ {p[1]} ]"),
        call(depth),
    )


@cache
def call(depth: int) -> st.SearchStrategy[str]:
    args = st.one_of(
        st.lists(expr(depth - 1), max_size=3).map(lambda a: "(" + ", ".join(a) + ")"),
        st.sampled_from(['"s"', " 'a: b'", "[[x as T]]"]),
        table(depth - 1),
    )
    method = st.one_of(st.just(""), names.map(lambda n: ":" + n))
    return st.tuples(prefix(depth - 1), method, args).map("".join)


@cache
def statement(depth: int) -> st.SearchStrategy[str]:
    e = expr(depth)
    simple = [
        st.tuples(st.lists(names, min_size=1, max_size=2), st.lists(e, min_size=1, max_size=2)).map(
            lambda t: f"local {', '.join(t[0])} = {', '.join(t[1])}"),
        e.map(lambda x: f"local konst <const> = {x}"),
        st.tuples(names, e).map(lambda t: f"{t[0]} = {t[1]}"),
        st.tuples(names, names, e).map(lambda t: f"{t[0]}.{t[1]} = {t[2]}"),
        st.sampled_from(COMMENTS),
        st.just("do goto @L end ::@L::"),
        st.just(";"),
    ]
    if depth == 0:
        return st.one_of(*simple)
    b = block(depth - 1)
    return st.one_of(
        *simple,
        call(depth),
        b.map(lambda x: f"do\n{x}\nend"),
        st.tuples(e, b).map(lambda t: f"while {t[0]} do\n{t[1]}\nend"),
        st.tuples(e, b, e, b, b).map(
            lambda t: f"if {t[0]} then\n{t[1]}\nelseif {t[2]} then {t[3]}\nelse {t[4]}\nend"),
        st.tuples(e, e, b).map(lambda t: f"for i = {t[0]}, {t[1]} do\n{t[2]}\nend"),
        st.tuples(e, b).map(lambda t: f"for k, v in pairs({t[0]}) do\n{t[1]}\ngoto @L\n::@L::\nend"),
        st.tuples(b, e).map(lambda t: f"repeat\n{t[0]}\nuntil {t[1]}"),
        st.tuples(names, b).map(lambda t: f"local function {t[0]}(p, ...)\n{t[1]}\nreturn ...\nend"),
        st.tuples(names, names, names, b).map(lambda t: f"function {t[0]}.{t[1]}:{t[2]}(p)\n{t[3]}\nend"),
    )


@cache
def block(depth: int) -> st.SearchStrategy[str]:
    return st.lists(statement(depth), max_size=3).map("\n".join)


def numbered_labels(program: str) -> str:
    """Give every `@L` placeholder pair its own label name (labels may not repeat in a function)."""
    parts = program.split("@L")
    out = [parts[0]]
    for n, part in enumerate(parts[1:]):
        out.append(f"lbl{n // 2}{part}")
    return "".join(out)


SENTINEL = "\nlocal zz_sentinel: number = 1"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(block(3).map(numbered_labels))
def test_plain_lua_passes_through_unchanged(program: str) -> None:
    ok, err = lua55.LuaRuntime().eval(LOAD_ONLY)(program, "=gen")
    assert ok, f"generator made invalid Lua: {err}\n{program}"
    assert erase(program).lua == program
    # The whole program was walked: a typed line after it is still erased.
    assert erase(program + SENTINEL).lua == program + "\nlocal zz_sentinel         = 1"


# -- malformed types


@pytest.mark.parametrize(
    ("src", "line", "message"),
    [
        ("local x: = 1", 1, "expected a type after ':', got '='"),
        ("local a = 1\n\ntype X =", 3, "expected a type after 'type X =', got end of file"),
        ("type User = {\n  name: string,\n  age: number\n\nlocal x = 1", 5,
         "expected ',' or '}' in the table type opened at line 1, got 'local'"),
        ("type X {a: string}", 1, "expected '=' after 'type X', got '{'"),
        ("local s: string @foo(1) = ''", 1,
         "unknown validator '@foo' (known: @max, @max_len, @min, @min_len, @pattern)"),
        ("local s: string @min('a')", 1, "@min takes a number literal, got ''a''"),
        ("local s: string @pattern(1)", 1, "@pattern takes a string literal, got '1'"),
        ("local s: string @ = 1", 1, "expected a validator name after '@', got '='"),
        ("local s: string @max(1 = 1", 1, "expected ')' after the argument of '@max', got '='"),
        ("x = 1\nif a != b then end", 2, "'!=' is not Lua; use '~='"),
        ("local t: (number, string) = x", 1, "a type list in parentheses must be followed by '->'"),
        ("local t: {number, string} = x", 1,
         "an array type '{T}' takes exactly one element type and no fields"),
        ("local t: {number, a: string} = x", 1, "an array type '{T}' takes exactly one element type"),
        ("local function f<>() end", 1, "expected a type parameter name, got '>'"),
        ("local m: Map<string, number = x", 1, "expected '>' to close '<', got '='"),
        ("interface Shape\n  area(self): number\n", 3,
         "expected 'end' to close interface Shape (line 1), got end of file"),
        ("interface Shape = {}", 1, "expected '{' or members after 'interface Shape', got '='"),
        ("interface I { [string]: number }", 1, "interface I must list named members"),
        ("local x = y ::\n", 2, "expected a type after '::', got end of file"),
        ('type L = "a\\\nb"', 1, "a literal in a type must fit on one line"),
        ("local f: (number -> string", 1, "expected ')' to close '(' at line 1, got '->'"),
        ("type X = {[string]: number, [number]: string}", 1, "only one '[K]: V' indexer"),
        ("local x: <T> = 1", 1, "expected '(' after generic parameters, got '='"),
        ("local x: {a: number b: string}", 1, "expected ',' or '}' in the table type opened at line 1"),
        ("local x: {a number}", 1, "expected ',' or '}' in the table type opened at line 1, got 'number'"),
        ("type R = {name string}", 1, "got 'string'"),
        ("local a = 1\r\nlocal b: = 2", 2, "expected a type after ':'"),
    ],
)
def test_malformed_types_raise_with_line(src: str, line: int, message: str) -> None:
    with pytest.raises(DialectError) as info:
        erase(src, "wf.lua")
    assert info.value.line == line
    assert message in info.value.message
    assert info.value.chunkname == "wf.lua"
    assert str(info.value) == f"wf.lua:{line}: {info.value.message}"


# -- line numbers reach Lua's own messages


def test_lua_syntax_error_reports_the_source_line(compiler: Any) -> None:
    src = ("type User = {\n    name: string,\n    age: number,\n}\n"
           "local function f(u: User): string\n    return u.name\nend\nlocal = 3\n")
    ok, err = compiler(erase(src, "file.lua").lua, "@file.lua")
    assert not ok
    assert err.startswith("file.lua:8:")


def test_plain_lua_error_leaves_the_rest_for_lua_to_report(compiler: Any) -> None:
    src = "local a: number = 1\nlocal = 2\nlocal b: string = ''"
    out = erase(src).lua
    assert out.startswith("local a         = 1\n")
    ok, err = compiler(out, "@file.lua")
    assert not ok and err.startswith("file.lua:2:")


def test_runtime_error_reports_the_source_line(lua: Any) -> None:
    src = "type A = {\n  a: number,\n}\nlocal x: A = A({a = 1})\nerror('boom')\n"
    with pytest.raises(lua55.LuaError, match="t.lua:5: boom"):
        run(lua, src)


# -- run-time types (types.lua)


USER = """
type Address = {city: string, zip?: string @pattern("^[0-9]{5}$")}
type User = {
    name: string @min_len(1) @max_len(20),
    age?: integer @min(0) @max(150),
    address: Address,
    tags: {string},
}
"""


def check(lua: Any, decls: str, expr: str) -> tuple[Any, Any]:
    """Run `decls`, then return `ok, err_message` of `pcall(function() return <expr> end)`."""
    result: tuple[Any, Any] = run(lua, decls + f"""
local ok, err = pcall(function() return {expr} end)
if ok then return true, err end
return false, type(err) == "table" and (err.kind .. ": " .. err.message) or err
""")
    return result


def test_valid_record_is_returned_as_is(lua: Any) -> None:
    assert run(lua, USER + """
local data = {name = "ann", address = {city = "Oslo"}, tags = {"a", "b"}}
return User(data) == data, User:is(data) == data, select(2, User:is(data)) == nil
""") == (True, True, True)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('{address = {city = "x"}, tags = {}}', "User.name: expected string, got nil"),
        ('{name = "", address = {city = "x"}, tags = {}}',
         "User.name: length 0 is below the minimum length 1"),
        ('{name = string.rep("x", 21), address = {city = "x"}, tags = {}}',
         "User.name: length 21 is above the maximum length 20"),
        ('{name = "a", age = 1.5, address = {city = "x"}, tags = {}}',
         "User.age: expected integer, got float 1.5"),
        ('{name = "a", age = -1, address = {city = "x"}, tags = {}}',
         "User.age: integer -1 is below the minimum 0"),
        ('{name = "a", age = 151, address = {city = "x"}, tags = {}}',
         "User.age: integer 151 is above the maximum 150"),
        ('{name = "a", address = {city = 5}, tags = {}}',
         "User.address.city: expected string, got integer 5"),
        ('{name = "a", address = {city = "x", zip = "12"}, tags = {}}',
         'User.address.zip: string "12" does not match the pattern "^[0-9]{5}$"'),
        ('{name = "a", address = {city = "x"}, tags = {"a", 3}}',
         "User.tags[2]: expected string, got integer 3"),
        ('{name = "a", address = {city = "x"}, tags = {x = "a"}}',
         'User.tags: expected an array, got key string "x"'),
        ('"ann"', 'User: expected table, got string "ann"'),
    ],
)
def test_invalid_record_raises_invalid_error(lua: Any, value: str, message: str) -> None:
    assert check(lua, USER, f"User({value})") == (False, f"Invalid: {message}")
    assert run(lua, USER + f"local v, err = User:is({value}); return v, err.kind, err.message") == (
        None, "Invalid", message)


def test_optional_fields_may_be_absent_but_not_wrong(lua: Any) -> None:
    decl = "type C = {host: string, port?: number, debug?: boolean}\n"
    assert check(lua, decl, 'C({host = "h"}) ~= nil') == (True, True)
    assert check(lua, decl, 'C({host = "h", port = "80"})') == (
        False, 'Invalid: C.port: expected number, got string "80"')


def test_unions_and_literal_unions(lua: Any) -> None:
    decls = 'type V = number | string\ntype Status = "pending" | "active" | "done"\n'
    assert check(lua, decls, 'V(1) == 1 and V("a") == "a"') == (True, True)
    assert check(lua, decls, "V(false)") == (False, "Invalid: V: expected number | string, got false")
    assert check(lua, decls, 'Status("done")') == (True, "done")
    assert check(lua, decls, 'Status("x")') == (
        False, 'Invalid: Status: expected "pending" | "active" | "done", got string "x"')


def test_tagged_union_of_records(lua: Any) -> None:
    decls = 'type Load = {status: "loading"} | {status: "loaded", data: {number}}\n'
    assert check(lua, decls, 'Load({status = "loaded", data = {1, 2}}).status') == (True, "loaded")
    assert check(lua, decls, 'Load({status = "loaded", data = {"x"}})') == (
        False, 'Invalid: Load: expected {status: "loading"} | {status: "loaded", data: {number}}, got table')


def test_maps_and_indexers(lua: Any) -> None:
    decls = 'type Scores = {[string]: number}\ntype H = {id: integer, [string]: string}\n'
    assert check(lua, decls, "Scores({ann = 1, bob = 2.5}) ~= nil") == (True, True)
    assert check(lua, decls, 'Scores({bob = "x"})') == (
        False, 'Invalid: Scores.bob: expected number, got string "x"')
    assert check(lua, decls, "Scores({[1] = 1})") == (
        False, "Invalid: Scores (key): expected string, got integer 1")
    assert check(lua, "type M = {[integer]: string}\n", 'M({"a", 2})') == (
        False, "Invalid: M[2]: expected string, got integer 2")
    assert check(lua, decls, 'Scores({["a b"] = true})') == (
        False, 'Invalid: Scores["a b"]: expected number, got true')
    assert check(lua, decls, 'H({id = 1, a = "b"}) ~= nil') == (True, True)
    assert check(lua, decls, 'H({id = 1, a = 2})') == (False, "Invalid: H.a: expected string, got integer 2")


def test_nested_and_forward_references(lua: Any) -> None:
    decls = "type Order = {items: {Item}, owner: models.User}\n"
    decls += "type Item = {sku: string, qty: integer @min(1)}\n"
    decls += "models = {}\ntype Person = {name: string}\nmodels.User = Person\n"
    good = 'Order({items = {{sku = "a", qty = 1}}, owner = {name = "n"}})'
    assert check(lua, decls, f"{good} ~= nil") == (True, True)
    assert check(lua, decls, 'Order({items = {{sku = "a", qty = 0}}, owner = {name = "n"}})') == (
        False, "Invalid: Order.items[1].qty: integer 0 is below the minimum 1")


def test_undefined_type_reference_is_an_error(lua: Any) -> None:
    ok, message = check(lua, "type A = {b: Missing}\n", "A({b = 1})")
    assert not ok and "type 'Missing' is not defined" in message


def test_recursive_type_accepts_cyclic_data(lua: Any) -> None:
    decls = "type Node = {value: number, next: Node?}\n"
    assert check(lua, decls, "(function() local n = {value = 1}; n.next = n; return Node(n) == n end)()") == (
        True, True)
    assert check(lua, decls, 'Node({value = 1, next = {value = "x"}})') == (
        False, 'Invalid: Node.next.value: expected number, got string "x"')


def test_primitive_types_in_records(lua: Any) -> None:
    decls = "type P = {i: integer, n: number, a: any, u: unknown, z: nil, e: error?, t: table,\n"
    decls += "  f: (number) -> ()}\n"
    good = '{i = 3.0, n = 1, a = nil, z = nil, e = "oops", t = {}, f = print}'
    assert check(lua, decls, f"P({good}) ~= nil") == (True, True)
    assert check(lua, decls, 'P({i = 1, n = 1, z = 1, t = {}, f = print})') == (
        False, "Invalid: P.z: expected nil, got integer 1")
    assert check(lua, decls, "P({i = 1, n = 1, e = true, t = {}, f = print})") == (
        False, "Invalid: P.e: expected error, got true")
    callable_table = "setmetatable({}, {__call = print})"
    assert check(lua, decls, f"P({{i = 1, n = 1, t = {{}}, f = {callable_table}}}) ~= nil") == (True, True)
    assert check(lua, decls, "P({i = 1, n = 1, t = {}, f = 1})") == (
        False, "Invalid: P.f: expected function, got integer 1")
    assert check(lua, "type N = never\n", "N(1)") == (False, "Invalid: N: expected never, got integer 1")


# Wippy's runtime_is_generics test (tests/app/src/test/types): `Box<string>` checks `value` as a string.
def test_generic_arguments_are_checked(lua: Any) -> None:
    decls = "type Result<T, E> = {ok: true, value: T} | {ok: false, error: E}\n"
    decls += "type R = Result<number, string>\ntype Box<T> = {value: T}\ntype SB = Box<string>\n"
    decls += "type User = {id: string @min_len(2)}\ntype UB = Box<User>\n"
    assert check(lua, decls, 'R({ok = false, error = "e"}).ok') == (True, False)
    assert check(lua, decls, 'R({ok = false, error = {1}})') == (
        False, "Invalid: R: expected {ok: true, value: number} | {ok: false, error: string}, got table")
    assert check(lua, decls, 'SB({value = "x"}).value') == (True, "x")
    assert check(lua, decls, "SB({value = 1})") == (
        False, "Invalid: SB.value: expected string, got integer 1")
    assert check(lua, decls, 'UB({value = {id = "a"}})') == (
        False, "Invalid: UB.value.id: length 1 is below the minimum length 2")
    assert run(lua, decls + "return SB:name(), SB:kind(), SB.value:name(), Box.value:name()") == (
        "SB", "record", "string", "any")


def test_generic_parameters_without_arguments_are_any_or_their_default(lua: Any) -> None:
    decls = "type Box<T> = {value: T}\ntype Pair<A = string, B = A> = {a: A, b: B}\n"
    decls += "type P2 = Pair<number>\n"
    assert check(lua, decls, "Box({value = {}}) ~= nil") == (True, True)
    assert check(lua, decls, 'Pair({a = "x", b = "y"}) ~= nil') == (True, True)
    assert check(lua, decls, 'Pair({a = "x", b = 1})') == (
        False, "Invalid: Pair.b: expected string, got integer 1")
    assert check(lua, decls, "P2({a = 1, b = 2}) ~= nil") == (True, True)
    assert check(lua, decls, 'P2({a = 1, b = "x"})') == (
        False, 'Invalid: P2.b: expected number, got string "x"')


def test_generic_instance_inside_a_record_names_its_arguments(lua: Any) -> None:
    decls = "type Box<T> = {value: T}\ntype Holder = {box: Box<integer>}\n"
    assert run(lua, decls + "return Holder.box:name(), Holder.box:kind()") == ("Box<integer>", "record")
    assert check(lua, decls, "Holder({box = {value = 1.5}})") == (
        False, "Invalid: Holder.box.value: expected integer, got float 1.5")


def test_type_parameters_of_an_enclosing_generic_function_are_any(lua: Any) -> None:
    src = "local function f<T>(x: T)\n  type Wrap = {v: T}\n  return Wrap({v = x}).v\nend\nreturn f(true)"
    assert run(lua, src) is True


def test_interface_checks_members_through_metatables(lua: Any) -> None:
    decls = """
interface Shape
    area(self): number
    name: string
end
local Square = {}
Square.__index = Square
function Square:area() return 4 end
local sq = setmetatable({name = "sq"}, Square)
"""
    assert check(lua, decls, "Shape(sq) == sq") == (True, True)
    assert check(lua, decls, 'Shape({name = "x"})') == (
        False, "Invalid: Shape.area: expected function, got nil")
    assert check(lua, decls, "Shape(1)") == (
        False, "Invalid: Shape: expected table or userdata, got integer 1")
    assert run(lua, decls + "return Shape:kind(), Shape:name()") == ("interface", "Shape")


def test_reflection_name_kind_fields(lua: Any) -> None:
    result = run(lua, USER + """
local out = {}
for name, t in User:fields() do out[#out + 1] = name .. "=" .. t:kind() end
type S = string?
type L = {number}
type M = {[string]: User}
type Lit = "a"
type I = A & B
type F = (number) -> ()
type U = number | nil
type W = {m: {[string]: User}, r: {a: number, b?: L}}
return table.concat(out, " "), User:name(), User:kind(), User.address:name(), User.age:kind(),
  S:kind(), L:kind(), M:kind(), Lit:kind(), I:kind(), F:kind(), U:kind(), L:name(), W.m:name(),
  integer:kind(), integer:name(), User.tags:name(), W.r:name()
""")
    assert result == (
        "name=string age=optional address=record tags=array", "User", "record", "Address", "optional",
        "optional", "array", "map", "literal", "intersection", "function", "union", "L", "{[string]: User}",
        "integer", "integer", "{string}", "{a: number, b?: L}",
    )


def test_methods_win_over_fields_of_the_same_name(lua: Any) -> None:
    src = "type R = {name: number, kind: string, x: boolean}\nreturn R:name(), R.x:kind(), R.missing"
    assert run(lua, src) == ("R", "boolean", None)


def test_fields_of_a_non_record_is_an_error(lua: Any) -> None:
    ok, message = check(lua, "type V = number | string\n", "V:fields()")
    assert not ok and "V is not a record or interface" in message


def test_names_of_validated_and_optional_unions(lua: Any) -> None:
    decl = 'type R = {p: (number | string)? @min_len(2), q: string @pattern("^a"), s: "x" | -1}\n'
    assert run(lua, decl + "return R.p:name(), R.q:name(), R.s:name()") == (
        '(number | string)? @min_len(2)', 'string @pattern("^a")', '"x" | -1')


@pytest.mark.parametrize(
    ("expr", "result"),
    [
        ('integer("42")', 42),
        ("integer(4.0)", 4),
        ("math.type(integer(4.0))", "integer"),
        ('integer(" 0x10 ")', 16),
        ("number(7)", 7),
        ('number("1.5")', 1.5),
        ("string(5)", "5"),
        ("string(1.5)", "1.5"),
        ('string("s")', "s"),
        ("boolean(false)", False),
        ('string.upper("a") .. ("b"):upper()', "AB"),
    ],
)
def test_casts_convert(lua: Any, expr: str, result: object) -> None:
    assert check(lua, "", expr) == (True, result)


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ('integer("4.5")', 'cannot cast string "4.5" to integer'),
        ("integer(4.5)", "cannot cast float 4.5 to integer"),
        ("integer(true)", "cannot cast true to integer"),
        ('number("x")', 'cannot cast string "x" to number'),
        ("number(nil)", "cannot cast nil to number"),
        ("string(true)", "cannot cast true to string"),
        ("string({})", "cannot cast table to string"),
        ('boolean("true")', 'cannot cast string "true" to boolean'),
        ("boolean(0)", "cannot cast integer 0 to boolean"),
        ('integer(string.rep("x", 50))', 'cannot cast string "' + "x" * 37 + '..." to integer'),
        ('number("a\\nb")', 'cannot cast string "a\\nb" to number'),
    ],
)
def test_casts_reject(lua: Any, expr: str, message: str) -> None:
    assert check(lua, "", expr) == (False, f"Invalid: {message}")


def test_is_never_converts(lua: Any) -> None:
    src = 'local v, err = integer:is("42"); return v, err.message, integer:is(42), (number:is(1.5))'
    assert run(lua, src) == (None, 'integer: expected integer, got string "42"', 42, 1.5)


def test_without_errors_global_failures_are_strings_at_the_callers_line() -> None:
    lua = new_state(with_errors=False)
    src = 'type N = number\nlocal ok, err = pcall(N, "x")\n'
    src += "local ok2, err2 = pcall(function()\n  local s = string(true)\nend)\n"
    src += 'local v, msg = N:is("x")\nreturn err, err2, v, msg'
    assert run(lua, src) == (
        'N: expected number, got string "x"', "t.lua:4: cannot cast true to string", None,
        'N: expected number, got string "x"')
    src = 'type N = number\nlocal ok, err = pcall(function()\n  local n = N("x")\nend)\nreturn err'
    assert run(lua, src) == 't.lua:3: N: expected number, got string "x"'


def test_intersection_needs_every_member(lua: Any) -> None:
    decls = "type Named = {name: string}\ntype Aged = {age: number}\ntype Person = Named & Aged\n"
    assert check(lua, decls, 'Person({name = "a", age = 1}).age') == (True, 1)
    assert check(lua, decls, 'Person({name = "a"})') == (
        False, "Invalid: Person.age: expected number, got nil")


def test_length_validators_apply_to_arrays(lua: Any) -> None:
    decls = "type Few = {number} @min_len(1) @max_len(2)\n"
    assert check(lua, decls, "#Few({1, 2})") == (True, 2)
    assert check(lua, decls, "Few({1, 2, 3})") == (
        False, "Invalid: Few: length 3 is above the maximum length 2")
    assert check(lua, decls, "Few({})") == (False, "Invalid: Few: length 0 is below the minimum length 1")


def test_existing_string_metatable_is_kept() -> None:
    lua = lua55.LuaRuntime()
    lua.execute("setmetatable(string, {marker = true})")
    lua.execute(TYPES_RUNTIME.read_text())
    assert lua.execute("return getmetatable(string).marker, string(5)") == (True, "5")


def test_deep_nesting_is_left_for_lua_to_reject() -> None:
    nested = "(" * 3000 + "1" + ")" * 3000
    assert erase("local x: number = " + nested).lua == "local x         = " + nested


def test_declared_type_is_local_to_its_scope(lua: Any) -> None:
    assert run(lua, "do type Inner = number end\nreturn Inner, __wftype ~= nil") == (None, True)


# -- cost grows linearly with the source


def count_calls(src: str) -> int:
    calls = 0

    def profile(frame: FrameType, event: str, arg: object) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(profile)
    try:
        erase(src)
    finally:
        sys.setprofile(None)
    return calls


def corpus_source() -> Iterator[str]:
    for case in CASES:
        if case.name.startswith(("type_", "local_", "generic", "interface")):
            yield case.typed


def test_work_is_linear_in_source_length() -> None:
    unit = "\n".join(f"do\n{src}\nend" for src in corpus_source()) + "\n"
    small, large = count_calls(unit * 2), count_calls(unit * 16)
    assert large < small * 8 * 1.1
