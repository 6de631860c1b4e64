"""The grammar of Wippy's types, parsed from the tokens into type descriptors."""

from __future__ import annotations

from collections.abc import Callable

from wftest.lua.dialect.descriptors import FN, Call, Checked, Combo, Field, Lit, Prim, Record, Ref, Type
from wftest.lua.dialect.patterns import pattern_error
from wftest.lua.dialect.tokens import KEYWORDS, Cursor, lua_string_value

_TYPE_START = frozenset({"name", "nil", "true", "false", "number", "string", "{", "(", "<", "-", "|", "&"})
_BUILTINS = frozenset(
    {"any", "unknown", "never", "number", "integer", "string", "boolean", "table", "thread", "userdata",
     "error"}
)
_READONLY_OPERAND = frozenset({"name", "{", "("})
_VALIDATORS = {"min": "number", "max": "number", "min_len": "number", "max_len": "number",
               "pattern": "string"}


class TypeGrammar(Cursor):
    """Parses types at the cursor; the statement walk built on it keeps `scopes` current."""

    def __init__(self, src: str, chunkname: str) -> None:
        super().__init__(src, chunkname)
        # Annotated locals and parameters in scope (innermost last), for `typeof(name)` in types; None
        # for a name declared without a type.
        self.scopes: list[dict[str, Type | None]] = [{}]

    def generic_params(self) -> list[tuple[str, Type | None]]:
        """`<T, E: Bound, D = Default>`; returns each parameter name with its default type."""
        k = self.k
        self.i += 1
        params: list[tuple[str, Type | None]] = []
        while True:
            if k[self.i] != "name":
                raise self.error(f"expected a type parameter name, got {self.what(self.i)}")
            name = self.v[self.i]
            default: Type | None = None
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

    def type_(self, context: str) -> Type:
        """A full type: `[|] A | B`, where each side is `[&] X & Y` of postfix types."""
        if self.k[self.i] not in _TYPE_START:
            raise self.error(f"expected a type {context}, got {self.what(self.i)}")
        return self.combo("|", "union", self.intersection)

    def intersection(self) -> Type:
        return self.combo("&", "inter", self.postfix)

    def combo(self, sep: str, op: str, part: Callable[[], Type]) -> Type:
        """`[sep] X sep Y ...`: the single part, or the union/intersection `op` of them all."""
        k = self.k
        if k[self.i] == sep:
            self.i += 1
        items = [part()]
        while k[self.i] == sep:
            self.i += 1
            items.append(part())
        return items[0] if len(items) == 1 else Combo(op, tuple(items))

    def postfix(self) -> Type:
        k = self.k
        t = self.primary()
        while True:
            if k[self.i] == "?":
                self.i += 1
                t = Call("opt", (t,))
            elif k[self.i] == "@":
                t = self.validators(t)
            else:
                return t

    def validators(self, inner: Type) -> Type:
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
        return Checked(inner, tuple(checks))

    def literal(self) -> str:
        text = self.v[self.i]
        if "\n" in text or "\r" in text:
            raise self.error("a literal in a type must fit on one line")
        self.i += 1
        return text

    def primary(self) -> Type:
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
            return Prim("nil")
        if t in ("true", "false", "number", "string"):
            return Lit(self.literal())
        if t == "-" and k[self.i + 1] == "number":
            self.i += 1
            return Lit("-" + self.literal())
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

    def typeof(self) -> Type:
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

    def named(self) -> Type:
        k, v, s, e = self.k, self.v, self.s, self.e
        path = v[self.i]
        self.i += 1
        while k[self.i] == "." and k[self.i + 1] == "name":
            path += "." + v[self.i + 1]
            self.i += 2
        args: list[Type] = []
        if k[self.i] == "<" and s[self.i] == e[self.i - 1]:
            self.i += 1
            args.append(self.type_("as a generic argument"))
            while k[self.i] == ",":
                self.i += 1
                args.append(self.type_("as a generic argument"))
            self.close_angle()
        return Prim(path) if path in _BUILTINS else Ref(path, tuple(args))

    def param_list(self) -> Type | None:
        """`(T, name: T, ...: T)`; returns the type if the list is exactly one unnamed type."""
        k = self.k
        open_at = self.i
        self.i += 1
        count = 0
        single: Type | None = None
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

    def paren_type(self) -> Type:
        """`(T)` (grouping) or a function type `(A, B) -> R`; a bare list is only a return type."""
        open_at = self.i
        single = self.param_list()
        if self.k[self.i] == "->":
            self.i += 1
            self.return_type()
            return FN
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

    def table_type(self) -> Type:
        """`{T}`, `{[K]: V}`, or a record `{a: T, b?: U, m(self): R, ["k"]: T, [K]: V}`."""
        k, v = self.k, self.v
        open_at = self.i
        self.i += 1
        fields: list[Field] = []
        index: tuple[Type, Type] | None = None
        elems: list[Type] = []
        while k[self.i] != "}":
            t = k[self.i]
            if t == "[" and k[self.i + 1] == "string" and k[self.i + 2] == "]":
                key = v[self.i + 1]
                self.i += 3
                optional = k[self.i] == "?"
                self.i += optional
                self.expect(":", f"after [{key}]")
                fields.append(Field(key, self.type_(f"for field [{key}]"), optional))
            elif t == "[":
                if index is not None:
                    raise self.error("a table type can have only one '[K]: V' indexer")
                self.i += 1
                key_type = self.type_("as an index type")
                self.expect("]", "after the index type")
                self.expect(":", "after ']'")
                index = (key_type, self.type_("as an index value type"))
            elif (t == "name" or t in KEYWORDS) and (
                k[self.i + 1] in (":", "(") or k[self.i + 1] == "?" and k[self.i + 2] == ":"
            ):
                fields.append(self.member())
            elif v[self.i] == "readonly" and (k[self.i + 1] == "name" or k[self.i + 1] in KEYWORDS) and (
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
            return Call("array", (elems[0],))
        if index is not None and not fields:
            return Call("map", index)
        return Record(tuple(fields), index)

    def member(self) -> Field:
        """A record or interface member: `name: T`, `name?: T` or a method `name(params): R`."""
        k = self.k
        name = self.v[self.i]
        self.i += 1
        if k[self.i] == "(":
            self.param_list()
            if k[self.i] == ":":
                self.i += 1
                self.return_type()
            return Field(f'"{name}"', FN, False)
        optional = k[self.i] == "?"
        self.i += optional
        self.expect(":", f"after field name '{name}'")
        return Field(f'"{name}"', self.type_(f"for field '{name}'"), optional)
