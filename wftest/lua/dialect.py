"""Erase Wippy's Luau-style type syntax so typed workflow code runs on plain Lua 5.5.

Wippy's parser accepts Lua plus gradual types; lupa's Lua 5.5 does not, so every source goes through
`erase` before `load`. The output keeps every line where it was (same newlines; erased text becomes
spaces), so Lua's own error messages name the user's file and line.

How it works: one regex pass tokenises the source, then a recursive-descent walk over the tokens follows
the Lua 5.5 statement/expression grammar to know which context each token is in. Only these contexts hold
types, so ordinary Lua such as `obj:m()`, `a < b`, `::label::`, `type(x)` or `local type = 1` is never
touched:

- `: T` after a name in `local`/`global`/`for` name lists and in the parameter lists of function
  definitions (`...: T` too), `: R` after the `)` of those parameter lists (tuples `(A, B?)`, `...T`);
- `<T, E: Bound>` after the name of a function definition, or after `function` for anonymous functions;
- postfix `expr as T`, `expr :: T` (not `:: name ::`, which is a label) and the non-nil assertion `expr!`;
- statements beginning `type Name`, `export type Name` or `interface Name`.

Known ambiguities, resolved in favour of the typed reading: a type after `as`/`::` is greedy, so
`x as integer | 0xFF` is a union type (write `(x as integer) | 0xFF`); `as(`, `as{` and `as"..."` on the same
line as the end of an expression are casts, not calls of a global named `as`; generic arguments `Foo<T>`
need the `<` right after the name (so `local x: T <const>` keeps its attribute); after an expression,
`:: name ::` is a label unless another `name ::` follows (`y :: T ::top::`). A plain-Lua syntax error
stops the walk and leaves the rest of the file as written, so `load` reports it with the right line; a
malformed type raises `DialectError`.

Declarations: `[export] type Name<T> = T` and, since Wippy's docs show no interface syntax, both
`interface Name<T> { members }` and a block `interface Name <members> end`; members are `name: T`,
`name?: T` or methods `name(self, a: T): R`, separated by `,`/`;` (optional in the block form).

Types are values at run time. A declaration becomes, on the same lines,
`local A, B; A = __wftype("A", function(__t) return <descriptor> end);` (every type name of a block is
declared as a local at the block's first type declaration, so types may refer to each other in any order;
`export type` is handled the same way). `__wftype` and the descriptor constructors `__t.*` live in
`lib/types.lua` (path: `TYPES_RUNTIME`), which must run in the Lua state first. What it validates:

- primitives by `type()`: `number`, `string`, `boolean`, `table`, `thread`, `userdata`; `integer` accepts
  Lua integers and floats with an integral value; `nil`; `any`/`unknown` accept everything, `never` nothing;
  `error` accepts tables, userdata and strings;
- literal types by `==`; `T?` (nil or T); unions (any member); intersections (every member);
- records: a table whose declared fields are checked recursively (a missing optional field is fine, extra
  keys are allowed, a `[K]: V` indexer checks the remaining keys); arrays `{T}`: every key is in `1..#t`
  and every element is a T; maps `{[K]: V}`: every key and value;
- function types: the value is a function (parameters and results are not checked);
- interfaces: a table or userdata whose members are present (method members must be functions);
- validators: `@min`/`@max` on numbers, `@min_len`/`@max_len` on strings and tables (`#v`), `@pattern` on
  strings as a regular expression in Go's syntax (RE2, searched, so anchor it with `^...$`); a pattern
  RE2 cannot compile is a `DialectError` at its line;
- generics: `type Box<T> = ...` builds its body with the arguments of each use (`Box<string>` checks a
  string); a missing argument is the parameter's default (`<T = string>`), else `any`; type parameters of
  an enclosing generic function are `any`. A named type is checked against its definition, resolved on
  first use; cyclic data is checked once per (table, type).

Two forms exist only in types: `readonly T` (checked as T at run time: only the static checker, which
wftest does not have, tells reads from writes; `readonly name: T` in a table type likewise) and
`typeof(name)`, the annotated type of a local variable or parameter in scope. wftest does not infer
types, so `typeof` of a name declared without an annotation is a `DialectError`. In an expression,
`typeof(name)` of an annotated name becomes that type as a value (unless `typeof` is itself a local);
any other `typeof(...)` call is left as written.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import re2

from wftest.errors import UserError

TYPES_RUNTIME = Path(__file__).with_name("lib") / "types.lua"


@dataclass(frozen=True)
class Erased:
    """Plain Lua with the same line count as the input, and the names of the declared types in order."""

    lua: str
    types: tuple[str, ...]


class DialectError(UserError):
    """Malformed type syntax; the message starts with `chunkname:line:` like Lua's own errors."""

    def __init__(self, chunkname: str, line: int, message: str) -> None:
        super().__init__(f"{chunkname}:{line}: {message}")
        self.chunkname = chunkname
        self.line = line
        self.message = message


def erase(source: str, chunkname: str = "?") -> Erased:
    """Return `source` with every type annotation blanked and every type declaration made Lua code."""
    parser = _Parser(source, chunkname)
    try:
        parser.block()
    except (_Stop, RecursionError):
        pass
    return parser.result()


_TOKEN = re.compile(
    r"""(?:[ \t\n\r\f\v]+|--\[(?P<lc>=*)\[.*?\](?P=lc)\]|--(?!\[=*\[)[^\r\n]*)*
    (?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<op>\.\.\.?|::|->|[=~<>]=|<<|>>|//|[-+*/%^#&~|<>=(){}\];:,?!@]|\[(?!=*\[)|\.(?![0-9]))
    |(?P<number>0[xX](?:[0-9a-fA-F]+(?:\.[0-9a-fA-F]*)?|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?
       |(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
    |(?P<string>"(?:[^"\\\r\n]|\\z\s*|\\\r\n|\\\n\r|\\.)*"|'(?:[^'\\\r\n]|\\z\s*|\\\r\n|\\\n\r|\\.)*')
    |(?P<long>\[(?P<ls>=*)\[.*?\](?P=ls)\])
    |(?P<bad>--\[=*\[.*|\[=*\[.*|.))?""",
    re.VERBOSE | re.DOTALL | re.ASCII,
)
_NEWLINE = re.compile(r"\r\n|\n\r|\n|\r")
_NOT_NEWLINE = re.compile(r"[^\r\n]+")
_KEYWORDS = frozenset(
    "and break do else elseif end false for function goto if in local nil not or repeat return then true "
    "until while".split()
)
_GROUP_KIND: list[str | None] = [None] * (_TOKEN.groups + 1)
for _group, _index in _TOKEN.groupindex.items():
    _GROUP_KIND[_index] = {"lc": None, "ls": None, "long": "string"}.get(_group, _group)
_BLOCK_END = frozenset({"end", "else", "elseif", "until", "eof"})
_UNARY = frozenset({"not", "-", "#", "~"})
_BINARY = frozenset("+ - * / // % ^ .. == ~= < <= > >= and or & | ~ << >>".split())
_SIMPLE = frozenset({"number", "string", "nil", "true", "false", "..."})
_TYPE_START = frozenset({"name", "nil", "true", "false", "number", "string", "{", "(", "<", "-", "|", "&"})
_BUILTINS = frozenset(
    {"any", "unknown", "never", "number", "integer", "string", "boolean", "table", "thread", "userdata",
     "error"}
)
_READONLY_OPERAND = frozenset({"name", "{", "("})
_VALIDATORS = {"min": "number", "max": "number", "min_len": "number", "max_len": "number",
               "pattern": "string"}


_ESCAPES = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, '"': 34, "'": 39,
            "\n": 10, "\r": 10}
_ESCAPE = re.compile(
    r"\\(?:x([0-9a-fA-F]{2})|u\{([0-9a-fA-F]+)\}|([0-9]{1,3})|z\s*|(\r\n|\n\r|.))", re.DOTALL
)
_LONG_OPEN = re.compile(r"\[=*\[(?:\r\n|\n\r|\n|\r)?")


def lua_string_value(literal: str) -> bytes:
    """The bytes a Lua string literal (quoted or long bracket) stands for."""
    if literal[0] == "[":
        opening = _LONG_OPEN.match(literal)
        assert opening is not None
        level = opening.group().count("=")
        return literal[opening.end():len(literal) - level - 2].encode()
    out = bytearray()
    body = literal[1:-1]
    pos = 0
    for m in _ESCAPE.finditer(body):
        out += body[pos:m.start()].encode()
        pos = m.end()
        hexa, code, dec, char = m.groups()
        if hexa is not None:
            out.append(int(hexa, 16))
        elif code is not None:
            out += chr(min(int(code, 16), 0x10FFFF)).encode("utf-8", "surrogatepass")
        elif dec is not None:
            out.append(int(dec) & 0xFF)
        elif char is not None:
            out.append(_ESCAPES.get(char[0] if len(char) == 1 else "\n", ord(char[0])))
    out += body[pos:].encode()
    return bytes(out)


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


@lru_cache(maxsize=1024)
def _regex(pattern: bytes) -> Any:
    return re2.compile(pattern, _RE2_OPTIONS)


def pattern_error(pattern: bytes) -> str | None:
    """Why `pattern` is not a valid regular expression (RE2 syntax, as Go's regexp reads), or None."""
    try:
        _regex(pattern)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        return detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
    return None


def pattern_matches(pattern: bytes | str, value: bytes | str) -> bool:
    """`@pattern`: does the regular expression match anywhere in `value` (Go's `regexp.MatchString`)?

    Called from `lib/types.lua`; the pattern was checked when the source was erased."""
    if isinstance(pattern, str):
        pattern = pattern.encode()
    if isinstance(value, str):
        value = value.encode()
    return _regex(pattern).search(value) is not None


class _Stop(Exception):
    """Plain-Lua syntax error: stop erasing and let Lua's `load` report it."""


# Type descriptors: the parsed form of a type, rendered as a Lua expression over the runtime's `__t`.

class _Type(ABC):
    @abstractmethod
    def lua(self, params: Mapping[str, str]) -> str:
        """The Lua expression building this type; a name in `params` (a generic parameter in scope) becomes
        the Lua expression it maps to."""


@dataclass(frozen=True)
class _Prim(_Type):
    name: str

    def lua(self, params: Mapping[str, str]) -> str:
        return f'__t.p"{self.name}"'


@dataclass(frozen=True)
class _Ref(_Type):
    path: str
    args: tuple[_Type, ...] = ()  # generic arguments: `Box<string>`

    def lua(self, params: Mapping[str, str]) -> str:
        if self.path in params:
            return params[self.path]
        args = ""
        if self.args:
            args = ", {" + ", ".join(a.lua(params) for a in self.args) + "}"
        return f'__t.ref("{self.path}", function() return {self.path} end{args})'


@dataclass(frozen=True)
class _Lit(_Type):
    text: str

    def lua(self, params: Mapping[str, str]) -> str:
        return f"__t.lit({self.text})"


@dataclass(frozen=True)
class _Opt(_Type):
    inner: _Type

    def lua(self, params: Mapping[str, str]) -> str:
        return f"__t.opt({self.inner.lua(params)})"


@dataclass(frozen=True)
class _Combo(_Type):
    op: str  # "union" or "inter"
    items: tuple[_Type, ...]

    def lua(self, params: Mapping[str, str]) -> str:
        return f"__t.{self.op}({{{', '.join(t.lua(params) for t in self.items)}}})"


@dataclass(frozen=True)
class _Field:
    key: str  # a Lua string literal
    type: _Type
    optional: bool

    def lua(self, params: Mapping[str, str]) -> str:
        return f"{{{self.key}, {self.type.lua(params)}{', true' if self.optional else ''}}}"


@dataclass(frozen=True)
class _Record(_Type):
    fields: tuple[_Field, ...]
    index: tuple[_Type, _Type] | None
    interface: bool = False

    def lua(self, params: Mapping[str, str]) -> str:
        fields = f"{{{', '.join(f.lua(params) for f in self.fields)}}}"
        if self.interface:
            return f"__t.interface({fields})"
        if self.index is None:
            return f"__t.record({fields})"
        return f"__t.record({fields}, {self.index[0].lua(params)}, {self.index[1].lua(params)})"


@dataclass(frozen=True)
class _Array(_Type):
    elem: _Type

    def lua(self, params: Mapping[str, str]) -> str:
        return f"__t.array({self.elem.lua(params)})"


@dataclass(frozen=True)
class _Map(_Type):
    key: _Type
    value: _Type

    def lua(self, params: Mapping[str, str]) -> str:
        return f"__t.map({self.key.lua(params)}, {self.value.lua(params)})"


@dataclass(frozen=True)
class _Fn(_Type):
    def lua(self, params: Mapping[str, str]) -> str:
        return "__t.fn()"


@dataclass(frozen=True)
class _Checked(_Type):
    inner: _Type
    checks: tuple[tuple[str, str], ...]  # (validator, Lua literal argument)

    def lua(self, params: Mapping[str, str]) -> str:
        checks = ", ".join(f'{{"{name}", {arg}}}' for name, arg in self.checks)
        return f"__t.check({self.inner.lua(params)}, {{{checks}}})"


_FN = _Fn()


@dataclass
class _Decl:
    edit: int  # index into _Parser.edits
    name: str
    block: int
    code: str


class _Parser:
    """Walks the token stream once, recording the spans to blank and the declarations to replace."""

    def __init__(self, src: str, chunkname: str) -> None:
        self.src = src
        self.chunkname = chunkname
        k: list[str] = []
        v: list[str] = []
        s: list[int] = []
        e: list[int] = []
        keywords = _KEYWORDS
        for m in _TOKEN.finditer(src):
            group = m.lastindex or 0
            kind = _GROUP_KIND[group]
            if kind is None:
                continue
            start, end = m.span(group)
            text = src[start:end]
            if kind == "op" or (kind == "name" and text in keywords):
                kind = text
            k.append(kind)
            v.append(text)
            s.append(start)
            e.append(end)
        n = len(src)
        k += ["eof"] * 5
        v += [""] * 5
        s += [n] * 5
        e += [n] * 5
        self.k, self.v, self.s, self.e = k, v, s, e
        self.i = 0
        self.edits: list[tuple[int, int, str | None]] = []
        self.decls: list[_Decl] = []
        self.block_id = 0
        self.blocks = 0
        # Annotated locals and parameters in scope (innermost last), for `typeof(name)` in types; None
        # for a name declared without a type.
        self.scopes: list[dict[str, _Type | None]] = [{}]
        # Generic parameters of the enclosing function definitions: `any` in declared types' bodies.
        self.fn_generics: list[str] = []

    # -- results and errors

    def result(self) -> Erased:
        names_by_block: dict[int, list[str]] = {}
        for d in self.decls:
            names = names_by_block.setdefault(d.block, [])
            if d.name not in names:
                names.append(d.name)
        edits = list(self.edits)
        declared: set[int] = set()
        for d in self.decls:
            prefix = ""
            if d.block not in declared:
                declared.add(d.block)
                prefix = f"local {', '.join(names_by_block[d.block])}; "
            start, end, _ = edits[d.edit]
            edits[d.edit] = (start, end, f"{prefix}{d.name} = {d.code}")
        src = self.src
        out: list[str] = []
        pos = 0
        for start, end, code in edits:
            out.append(src[pos:start])
            if code is None:
                out.append(_NOT_NEWLINE.sub(lambda m: " " * len(m.group()), src[start:end]))
            else:
                out.append(code + "".join(_NEWLINE.findall(src, start, end)))
            pos = end
        out.append(src[pos:])
        types: list[str] = []
        for d in self.decls:
            if d.name not in types:
                types.append(d.name)
        return Erased("".join(out), tuple(types))

    def error(self, message: str, at: int | None = None) -> DialectError:
        pos = self.s[self.i if at is None else at]
        return DialectError(self.chunkname, self.line(pos), message)

    def line(self, pos: int) -> int:
        return len(_NEWLINE.findall(self.src, 0, pos)) + 1

    def what(self, i: int) -> str:
        return "end of file" if self.k[i] == "eof" else f"'{self.v[i]}'"

    def skip(self, kind: str) -> None:
        """Consume a token of plain-Lua grammar, or stop erasing."""
        if self.k[self.i] != kind:
            raise _Stop
        self.i += 1

    def expect(self, kind: str, context: str) -> None:
        """Consume a token of type grammar, or raise a DialectError."""
        if self.k[self.i] != kind:
            raise self.error(f"expected '{kind}' {context}, got {self.what(self.i)}")
        self.i += 1

    def blank(self, start: int) -> None:
        self.edits.append((start, self.e[self.i - 1], None))

    # -- statements

    def block(self) -> None:
        k = self.k
        saved = self.block_id
        self.blocks += 1
        self.block_id = self.blocks
        self.scopes.append({})
        while k[self.i] not in _BLOCK_END:
            if k[self.i] == "return":
                self.i += 1
                if k[self.i] not in _BLOCK_END and k[self.i] != ";":
                    self.exprlist()
                if k[self.i] == ";":
                    self.i += 1
                break
            self.statement()
        self.block_id = saved
        self.scopes.pop()

    def statement(self) -> None:
        k = self.k
        t = k[self.i]
        if t == "name" and self.declaration():
            return
        if t in ("name", "("):
            self.exprstat()
            return
        self.i += 1
        if t == ";" or t == "break":
            return
        if t == "local":
            if k[self.i] == "function":
                self.i += 1
                self.skip("name")
                self.scopes[-1][self.v[self.i - 1]] = _FN
                self.funcbody()
            else:
                declared = self.names(attribs=True)
                if k[self.i] == "=":
                    self.i += 1
                    self.exprlist()
                self.scopes[-1].update(declared)
        elif t == "function":
            self.skip("name")
            while k[self.i] == ".":
                self.i += 1
                self.skip("name")
            if k[self.i] == ":":
                self.i += 1
                self.skip("name")
            self.funcbody()
        elif t == "if":
            self.expr()
            self.skip("then")
            self.block()
            while k[self.i] == "elseif":
                self.i += 1
                self.expr()
                self.skip("then")
                self.block()
            if k[self.i] == "else":
                self.i += 1
                self.block()
            self.skip("end")
        elif t == "while":
            self.expr()
            self.skip("do")
            self.block()
            self.skip("end")
        elif t == "do":
            self.block()
            self.skip("end")
        elif t == "for":
            loop_vars = self.names(attribs=False)
            if k[self.i] == "=":
                self.i += 1
                self.exprlist()
            else:
                self.skip("in")
                self.exprlist()
            self.skip("do")
            self.scopes.append(loop_vars)
            self.block()
            self.scopes.pop()
            self.skip("end")
        elif t == "repeat":
            self.block()
            self.skip("until")
            self.expr()
        elif t == "::":
            self.skip("name")
            self.skip("::")
        elif t == "goto":
            self.skip("name")
        else:
            raise _Stop

    def declaration(self) -> bool:
        """Handle `type`, `export type`, `interface` and Lua 5.5 `global` statements; False if none."""
        k, v, i = self.k, self.v, self.i
        word = v[i]
        if word == "type" and k[i + 1] == "name":
            self.type_decl(i + 1)
        elif word == "export" and k[i + 1] == "name" and v[i + 1] == "type" and k[i + 2] == "name":
            self.type_decl(i + 2)
        elif word == "interface" and k[i + 1] == "name":
            self.interface_decl()
        elif word == "global" and k[i + 1] in ("name", "function", "<", "*"):
            self.i += 1
            if k[self.i] == "function":
                self.i += 1
                self.skip("name")
                self.funcbody()
                return True
            if k[self.i] == "<":
                self.attrib()
            if k[self.i] == "*":
                self.i += 1
                return True
            self.names(attribs=True)
            if k[self.i] == "=":
                self.i += 1
                self.exprlist()
        else:
            return False
        return True

    def names(self, attribs: bool) -> dict[str, _Type | None]:
        """A `local`/`global`/`for` name list; each name may carry `: T` (and `<attrib>` if allowed).
        Returns each name with its type (None when not annotated)."""
        k = self.k
        declared: dict[str, _Type | None] = {}
        if attribs and k[self.i] == "<":
            self.attrib()
        while True:
            self.skip("name")
            name = self.v[self.i - 1]
            declared[name] = None
            if attribs and k[self.i] == "<":
                self.attrib()
            if k[self.i] == ":":
                start = self.s[self.i]
                self.i += 1
                declared[name] = self.type_("after ':'")
                self.blank(start)
            if attribs and k[self.i] == "<":
                self.attrib()
            if k[self.i] != ",":
                return declared
            self.i += 1

    def attrib(self) -> None:
        self.i += 1
        self.skip("name")
        self.skip(">")

    def exprstat(self) -> None:
        k = self.k
        self.suffixedexp()
        if k[self.i] in ("=", ","):
            while k[self.i] == ",":
                self.i += 1
                self.suffixedexp()
            self.skip("=")
            self.exprlist()

    def funcbody(self) -> None:
        """`[<generics>] (params) [: returns] block end`, blanking the type parts."""
        k, s = self.k, self.s
        generics: list[str] = []
        if k[self.i] == "<":
            start = s[self.i]
            generics = [name for name, _ in self.generic_params()]
            self.blank(start)
        self.skip("(")
        params: dict[str, _Type | None] = {}
        if k[self.i] != ")":
            while True:
                if k[self.i] not in ("name", "..."):
                    raise _Stop
                name = self.v[self.i]
                params[name] = None
                self.i += 1
                if k[self.i] == ":":
                    start = s[self.i]
                    self.i += 1
                    params[name] = self.type_("after ':'")
                    self.blank(start)
                if k[self.i] != ",":
                    break
                self.i += 1
        self.skip(")")
        if k[self.i] == ":":
            start = s[self.i]
            self.i += 1
            self.return_type()
            self.blank(start)
        self.scopes.append(params)
        self.fn_generics += generics
        self.block()
        del self.fn_generics[len(self.fn_generics) - len(generics):]
        self.scopes.pop()
        self.skip("end")

    # -- expressions (precedence is irrelevant here: only where expressions end matters)

    def exprlist(self) -> None:
        self.expr()
        while self.k[self.i] == ",":
            self.i += 1
            self.expr()

    def expr(self) -> None:
        k = self.k
        while True:
            while k[self.i] in _UNARY:
                self.i += 1
            self.simpleexp()
            if k[self.i] not in _BINARY:
                return
            self.i += 1

    def simpleexp(self) -> None:
        k, v = self.k, self.v
        t = k[self.i]
        if t in _SIMPLE:
            self.i += 1
        elif t == "{":
            self.constructor()
        elif t == "function":
            self.i += 1
            self.funcbody()
        else:
            self.suffixedexp()
        while True:
            i = self.i
            if k[i] == "::":
                if k[i + 1] == "name" and k[i + 2] == "::" and not (k[i + 3] == "name" and k[i + 4] == "::"):
                    return  # a label starts the next statement (`:: T ::l::` is a cast, then a label)
            elif not (k[i] == "name" and v[i] == "as" and self.is_as_cast(i)):
                return
            self.i += 1
            self.type_(f"after '{v[i]}'")
            self.blank(self.s[i])

    def is_as_cast(self, i: int) -> bool:
        nxt = self.k[i + 1]
        if nxt in ("name", "nil", "true", "false", "number"):
            return True
        if nxt in ("(", "{", "string"):
            gap = self.src[self.e[i - 1]:self.s[i]]
            return "\n" not in gap and "\r" not in gap
        return False

    def suffixedexp(self) -> None:
        k = self.k
        t = k[self.i]
        if t == "name":
            if not (self.v[self.i] == "typeof" and self.typeof_value()):
                self.i += 1
        elif t == "(":
            self.i += 1
            self.expr()
            self.skip(")")
        else:
            raise _Stop
        while True:
            t = k[self.i]
            if t == ".":
                self.i += 1
                self.skip("name")
            elif t == "[":
                self.i += 1
                self.expr()
                self.skip("]")
            elif t == ":":
                self.i += 1
                self.skip("name")
                self.args()
            elif t in ("(", "string", "{"):
                self.args()
            elif t == "!":
                if k[self.i + 1] == "=" and self.e[self.i] == self.s[self.i + 1]:
                    raise self.error("'!=' is not Lua; use '~='")
                self.i += 1
                self.blank(self.s[self.i - 1])
            else:
                return

    def typeof_value(self) -> bool:
        """`typeof(x)` in an expression, x an annotated local or parameter (and `typeof` not a local):
        replaced by x's type as a value. Otherwise left alone (False), as a call of whatever `typeof` is."""
        k, v = self.k, self.v
        i = self.i
        if k[i + 1] != "(" or k[i + 2] != "name" or k[i + 3] != ")":
            return False
        declared: _Type | None = None
        for scope in reversed(self.scopes):
            if "typeof" in scope:
                return False
            if v[i + 2] in scope:
                declared = scope[v[i + 2]]
                break
        if declared is None:
            return False
        scope_params = {p: '__t.p"any"' for p in self.fn_generics}
        self.i = i + 4
        self.edits.append((self.s[i], self.e[i + 3],
                           f"__wftype(nil, function(__t) return {declared.lua(scope_params)} end)"))
        return True

    def args(self) -> None:
        t = self.k[self.i]
        if t == "string":
            self.i += 1
        elif t == "{":
            self.constructor()
        else:
            self.skip("(")
            if self.k[self.i] != ")":
                self.exprlist()
            self.skip(")")

    def constructor(self) -> None:
        k = self.k
        self.i += 1
        while k[self.i] != "}":
            if k[self.i] == "[":
                self.i += 1
                self.expr()
                self.skip("]")
                self.skip("=")
            elif k[self.i] == "name" and k[self.i + 1] == "=":
                self.i += 2
            self.expr()
            if k[self.i] not in (",", ";"):
                break
            self.i += 1
        self.skip("}")

    # -- declarations

    def type_decl(self, name_at: int) -> None:
        start = self.s[self.i]
        name = self.v[name_at]
        self.i = name_at + 1
        params = self.generic_params() if self.k[self.i] == "<" else []
        self.expect("=", f"after 'type {name}'")
        body = self.type_(f"after 'type {name} ='")
        self.declare(start, name, body, params)

    def interface_decl(self) -> None:
        k = self.k
        start = self.s[self.i]
        open_at = self.i
        name = self.v[self.i + 1]
        self.i += 2
        params = self.generic_params() if k[self.i] == "<" else []
        if k[self.i] == "{":
            body = self.table_type()
            if not isinstance(body, _Record) or body.index is not None:
                raise self.error(f"interface {name} must list named members", open_at)
            fields = body.fields
        elif k[self.i] == "name":
            members: list[_Field] = []
            while k[self.i] == "name":
                members.append(self.member())
                if k[self.i] in (",", ";"):
                    self.i += 1
            if k[self.i] != "end":
                raise self.error(f"expected 'end' to close interface {name} (line {self.line(start)}), "
                                 f"got {self.what(self.i)}")
            self.i += 1
            fields = tuple(members)
        else:
            raise self.error(f"expected '{{' or members after 'interface {name}', got {self.what(self.i)}")
        self.declare(start, name, _Record(fields, None, interface=True), params)

    def declare(self, start: int, name: str, body: _Type, params: list[tuple[str, _Type | None]]) -> None:
        """Replace the declaration with code making its type value. A generic type's build function
        takes its arguments after `__t`; a missing one is its default, else `any`."""
        scope = {p: '__t.p"any"' for p in self.fn_generics}
        prologue = ""
        for param, default in params:
            fallback = default.lua(scope) if default is not None else '__t.p"any"'
            prologue += f"{param} = {param} or {fallback}; "
            scope[param] = param
        args = "".join(f", {param}" for param, _ in params)
        code = f'__wftype("{name}", function(__t{args}) {prologue}return {body.lua(scope)} end);'
        self.decls.append(_Decl(len(self.edits), name, self.block_id, code))
        self.edits.append((start, self.e[self.i - 1], code))

    def generic_params(self) -> list[tuple[str, _Type | None]]:
        """`<T, E: Bound, D = Default>`; returns each parameter name with its default type."""
        k = self.k
        self.i += 1
        params: list[tuple[str, _Type | None]] = []
        while True:
            if k[self.i] != "name":
                raise self.error(f"expected a type parameter name, got {self.what(self.i)}")
            name = self.v[self.i]
            default: _Type | None = None
            self.i += 1
            if k[self.i] == "...":
                self.i += 1
            if k[self.i] == ":":
                self.i += 1
                self.type_("after ':'")
            if k[self.i] == "=":
                self.i += 1
                default = self.type_("after '='")
            params.append((name, default))
            if k[self.i] != ",":
                break
            self.i += 1
        self.close_angle()
        return params

    def close_angle(self) -> None:
        """Consume '>', splitting '>>' and '>=' tokens as nested generics need."""
        k, v, s, e, i = self.k, self.v, self.s, self.e, self.i
        if k[i] in (">>", ">="):
            rest = v[i][1:]
            k.insert(i + 1, rest)
            v.insert(i + 1, rest)
            s.insert(i + 1, s[i] + 1)
            e.insert(i + 1, e[i])
            k[i] = v[i] = ">"
            e[i] = s[i] + 1
        self.expect(">", "to close '<'")

    # -- types

    def type_(self, context: str) -> _Type:
        """A full type: `[|] A | B`, where each side is `[&] X & Y` of postfix types."""
        k = self.k
        if k[self.i] not in _TYPE_START:
            raise self.error(f"expected a type {context}, got {self.what(self.i)}")
        if k[self.i] == "|":
            self.i += 1
        items = [self.intersection()]
        while k[self.i] == "|":
            self.i += 1
            items.append(self.intersection())
        return items[0] if len(items) == 1 else _Combo("union", tuple(items))

    def intersection(self) -> _Type:
        k = self.k
        if k[self.i] == "&":
            self.i += 1
        items = [self.postfix()]
        while k[self.i] == "&":
            self.i += 1
            items.append(self.postfix())
        return items[0] if len(items) == 1 else _Combo("inter", tuple(items))

    def postfix(self) -> _Type:
        k = self.k
        t = self.primary()
        while True:
            if k[self.i] == "?":
                self.i += 1
                t = _Opt(t)
            elif k[self.i] == "@":
                t = self.validators(t)
            else:
                return t

    def validators(self, inner: _Type) -> _Type:
        k, v = self.k, self.v
        checks: list[tuple[str, str]] = []
        while k[self.i] == "@":
            self.i += 1
            name = v[self.i]
            if k[self.i] != "name":
                raise self.error(f"expected a validator name after '@', got {self.what(self.i)}")
            if name not in _VALIDATORS:
                known = ", ".join(f"@{n}" for n in sorted(_VALIDATORS))
                raise self.error(f"unknown validator '@{name}' (known: {known})")
            self.i += 1
            self.expect("(", f"after '@{name}'")
            arg = ""
            if k[self.i] == "-" and k[self.i + 1] == "number":
                arg = "-"
                self.i += 1
            if k[self.i] != _VALIDATORS[name]:
                raise self.error(f"@{name} takes a {_VALIDATORS[name]} literal, got {self.what(self.i)}")
            if name == "pattern":
                problem = pattern_error(lua_string_value(v[self.i]))
                if problem is not None:
                    raise self.error(f"@pattern: invalid regular expression: {problem}")
            checks.append((name, arg + self.literal()))
            self.expect(")", f"after the argument of '@{name}'")
        return _Checked(inner, tuple(checks))

    def literal(self) -> str:
        text = self.v[self.i]
        if "\n" in text or "\r" in text:
            raise self.error("a literal in a type must fit on one line")
        self.i += 1
        return text

    def primary(self) -> _Type:
        k, v = self.k, self.v
        t = k[self.i]
        if t == "name":
            if v[self.i] == "readonly" and k[self.i + 1] in _READONLY_OPERAND:
                # Read-only only narrows what the static checker allows; values are checked as the inner type.
                self.i += 1
                return self.primary()
            if v[self.i] == "typeof" and k[self.i + 1] == "(":
                return self.typeof()
            return self.named()
        if t == "nil":
            self.i += 1
            return _Prim("nil")
        if t in ("true", "false", "number", "string"):
            return _Lit(self.literal())
        if t == "-" and k[self.i + 1] == "number":
            self.i += 1
            return _Lit("-" + self.literal())
        if t == "{":
            return self.table_type()
        if t == "(":
            return self.paren_type()
        if t == "<":
            self.generic_params()
            if k[self.i] != "(":
                raise self.error(f"expected '(' after generic parameters, got {self.what(self.i)}")
            return self.paren_type()
        raise self.error(f"expected a type, got {self.what(self.i)}")

    def typeof(self) -> _Type:
        """`typeof(name)`: the declared type of a local variable or parameter in scope."""
        k, v = self.k, self.v
        at = self.i
        self.i += 2
        if k[self.i] != "name" or k[self.i + 1] != ")":
            raise self.error("typeof(...) in a type takes the name of a local variable", at)
        name = v[self.i]
        self.i += 2
        for scope in reversed(self.scopes):
            if name in scope:
                found = scope[name]
                if found is None:
                    raise self.error(f"typeof({name}): '{name}' has no type annotation (wftest takes the "
                                     f"type from the annotation and does not infer it)", at)
                return found
        raise self.error(f"typeof({name}): no local variable or parameter '{name}' is in scope", at)

    def named(self) -> _Type:
        k, v, s, e = self.k, self.v, self.s, self.e
        path = v[self.i]
        self.i += 1
        while k[self.i] == "." and k[self.i + 1] == "name":
            path += "." + v[self.i + 1]
            self.i += 2
        args: list[_Type] = []
        if k[self.i] == "<" and s[self.i] == e[self.i - 1]:
            self.i += 1
            args.append(self.type_("as a generic argument"))
            while k[self.i] == ",":
                self.i += 1
                args.append(self.type_("as a generic argument"))
            self.close_angle()
        return _Prim(path) if path in _BUILTINS else _Ref(path, tuple(args))

    def param_list(self) -> _Type | None:
        """`(T, name: T, ...: T)`; returns the type if the list is exactly one unnamed type."""
        k = self.k
        open_at = self.i
        self.i += 1
        count = 0
        single: _Type | None = None
        while k[self.i] != ")":
            if k[self.i] == "...":
                self.i += 1
                if k[self.i] == ":":
                    self.i += 1
                if k[self.i] not in (",", ")"):
                    self.type_("after '...'")
            elif k[self.i] == "name" and k[self.i + 1] == ":":
                self.i += 2
                self.type_(f"for parameter '{self.v[self.i - 2]}'")
            else:
                t = self.type_("in a parameter list")
                single = t if count == 0 else None
            count += 1
            if k[self.i] != ",":
                break
            self.i += 1
        if k[self.i] != ")":
            raise self.error(f"expected ')' to close '(' at line {self.line(self.s[open_at])}, "
                             f"got {self.what(self.i)}")
        self.i += 1
        return single if count == 1 else None

    def paren_type(self) -> _Type:
        """`(T)` (grouping) or a function type `(A, B) -> R`; a bare list is only a return type."""
        open_at = self.i
        single = self.param_list()
        if self.k[self.i] == "->":
            self.i += 1
            self.return_type()
            return _FN
        if single is None:
            raise self.error("a type list in parentheses must be followed by '->' (only return types may "
                             "be tuples)", open_at)
        return single

    def return_type(self) -> None:
        """A return annotation: a type, a tuple `(A, B?)`, `()` or a variadic `...T`."""
        k = self.k
        if k[self.i] == "...":
            self.i += 1
            if k[self.i] in _TYPE_START:
                self.type_("after '...'")
            return
        if k[self.i] == "(":
            start = self.i
            if self.param_list() is None and k[self.i] != "->":
                return
            self.i = start
        self.type_("as a return type")

    def table_type(self) -> _Type:
        """`{T}`, `{[K]: V}`, or a record `{a: T, b?: U, m(self): R, ["k"]: T, [K]: V}`."""
        k, v = self.k, self.v
        open_at = self.i
        self.i += 1
        fields: list[_Field] = []
        index: tuple[_Type, _Type] | None = None
        elems: list[_Type] = []
        while k[self.i] != "}":
            t = k[self.i]
            if t == "[" and k[self.i + 1] == "string" and k[self.i + 2] == "]":
                key = v[self.i + 1]
                self.i += 3
                optional = k[self.i] == "?"
                self.i += optional
                self.expect(":", f"after [{key}]")
                fields.append(_Field(key, self.type_(f"for field [{key}]"), optional))
            elif t == "[":
                if index is not None:
                    raise self.error("a table type can have only one '[K]: V' indexer")
                self.i += 1
                key_type = self.type_("as an index type")
                self.expect("]", "after the index type")
                self.expect(":", "after ']'")
                index = (key_type, self.type_("as an index value type"))
            elif (t == "name" or t in _KEYWORDS) and (
                k[self.i + 1] in (":", "(") or k[self.i + 1] == "?" and k[self.i + 2] == ":"
            ):
                fields.append(self.member())
            elif v[self.i] == "readonly" and (k[self.i + 1] == "name" or k[self.i + 1] in _KEYWORDS) and (
                k[self.i + 2] == ":" or k[self.i + 2] == "?" and k[self.i + 3] == ":"
            ):
                self.i += 1
                fields.append(self.member())
            else:
                elems.append(self.type_("in a table type"))
            if k[self.i] in (",", ";"):
                self.i += 1
            elif k[self.i] != "}":
                raise self.error(f"expected ',' or '}}' in the table type opened at line "
                                 f"{self.line(self.s[open_at])}, got {self.what(self.i)}")
        self.i += 1
        if elems:
            if len(elems) > 1 or fields or index is not None:
                raise self.error("an array type '{T}' takes exactly one element type and no fields", open_at)
            return _Array(elems[0])
        if index is not None and not fields:
            return _Map(*index)
        return _Record(tuple(fields), index)

    def member(self) -> _Field:
        """A record or interface member: `name: T`, `name?: T` or a method `name(params): R`."""
        k = self.k
        name = self.v[self.i]
        self.i += 1
        if k[self.i] == "(":
            self.param_list()
            if k[self.i] == ":":
                self.i += 1
                self.return_type()
            return _Field(f'"{name}"', _FN, False)
        optional = k[self.i] == "?"
        self.i += optional
        self.expect(":", f"after field name '{name}'")
        return _Field(f'"{name}"', self.type_(f"for field '{name}'"), optional)
