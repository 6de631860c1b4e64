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
from dataclasses import dataclass

from wftest.lua.dialect.descriptors import FN, Field, Record, Type
from wftest.lua.dialect.tokens import NEWLINE
from wftest.lua.dialect.typegrammar import TypeGrammar


@dataclass(frozen=True)
class Erased:
    """Plain Lua with the same line count as the input, and the names of the declared types in order."""

    lua: str
    types: tuple[str, ...]


def erase(source: str, chunkname: str = "?") -> Erased:
    """Return `source` with every type annotation blanked and every type declaration made Lua code."""
    parser = _Parser(source, chunkname)
    try:
        parser.block()
    except (_Stop, RecursionError):
        pass
    return parser.result()


_NOT_NEWLINE = re.compile(r"[^\r\n]+")
_BLOCK_END = frozenset({"end", "else", "elseif", "until", "eof"})
_UNARY = frozenset({"not", "-", "#", "~"})
_BINARY = frozenset("+ - * / // % ^ .. == ~= < <= > >= and or & | ~ << >>".split())
_SIMPLE = frozenset({"number", "string", "nil", "true", "false", "..."})


class _Stop(Exception):
    """Plain-Lua syntax error: stop erasing and let Lua's `load` report it."""


@dataclass
class _Decl:
    edit: int  # index into _Parser.edits
    name: str
    block: int
    code: str


class _Parser(TypeGrammar):
    """Walks the token stream once, recording the spans to blank and the declarations to replace."""

    def __init__(self, src: str, chunkname: str) -> None:
        super().__init__(src, chunkname)
        self.edits: list[tuple[int, int, str | None]] = []
        self.decls: list[_Decl] = []
        self.block_id = 0
        self.blocks = 0
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
                out.append(code + "".join(NEWLINE.findall(src, start, end)))
            pos = end
        out.append(src[pos:])
        types: list[str] = []
        for d in self.decls:
            if d.name not in types:
                types.append(d.name)
        return Erased("".join(out), tuple(types))

    def skip(self, kind: str) -> None:
        """Consume a token of plain-Lua grammar, or stop erasing."""
        if self.k[self.i] != kind:
            raise _Stop
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
                self.scopes[-1][self.v[self.i - 1]] = FN
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

    def names(self, attribs: bool) -> dict[str, Type | None]:
        """A `local`/`global`/`for` name list; each name may carry `: T` (and `<attrib>` if allowed).
        Returns each name with its type (None when not annotated)."""
        k = self.k
        declared: dict[str, Type | None] = {}
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
        params: dict[str, Type | None] = {}
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
        declared: Type | None = None
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
            if not isinstance(body, Record) or body.index is not None:
                raise self.error(f"interface {name} must list named members", open_at)
            fields = body.fields
        elif k[self.i] == "name":
            members: list[Field] = []
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
        self.declare(start, name, Record(fields, None, interface=True), params)

    def declare(self, start: int, name: str, body: Type, params: list[tuple[str, Type | None]]) -> None:
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
