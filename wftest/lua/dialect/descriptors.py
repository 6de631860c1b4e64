"""Type descriptors: the parsed form of a type, rendered as the Lua expression that builds it over the
run-time's `__t` (`lib/types.lua`, path `TYPES_RUNTIME`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

TYPES_RUNTIME = Path(__file__).parent.parent / "lib" / "types.lua"


class Type(ABC):
    """A parsed type; `lua` renders the expression that builds its run-time value."""

    @abstractmethod
    def lua(self, params: Mapping[str, str]) -> str:
        """The Lua expression building this type; a name in `params` (a generic parameter in scope) becomes
        the Lua expression it maps to."""


@dataclass(frozen=True)
class Prim(Type):
    """A built-in type by name (`number`, `integer`, `any`...), checked by `type()` at run time."""

    name: str

    def lua(self, params: Mapping[str, str]) -> str:
        return f'__t.p"{self.name}"'


@dataclass(frozen=True)
class Ref(Type):
    """A named type, looked up when first used so declarations may come in any order."""

    path: str
    args: tuple[Type, ...] = ()  # generic arguments: `Box<string>`

    def lua(self, params: Mapping[str, str]) -> str:
        if self.path in params:
            return params[self.path]
        args = ""
        if self.args:
            args = ", {" + ", ".join(a.lua(params) for a in self.args) + "}"
        return f'__t.ref("{self.path}", function() return {self.path} end{args})'


@dataclass(frozen=True)
class Lit(Type):
    """A literal type (`"open"`, `42`, `true`), checked by `==`."""

    text: str

    def lua(self, params: Mapping[str, str]) -> str:
        return f"__t.lit({self.text})"


@dataclass(frozen=True)
class Combo(Type):
    """A union (`A | B`) or intersection (`A & B`)."""

    op: str  # "union" or "inter"
    items: tuple[Type, ...]

    def lua(self, params: Mapping[str, str]) -> str:
        return f"__t.{self.op}({{{', '.join(t.lua(params) for t in self.items)}}})"


@dataclass(frozen=True)
class Field:
    """One member of a record or interface."""

    key: str  # a Lua string literal
    type: Type
    optional: bool

    def lua(self, params: Mapping[str, str]) -> str:
        return f"{{{self.key}, {self.type.lua(params)}{', true' if self.optional else ''}}}"


@dataclass(frozen=True)
class Record(Type):
    """A record (with an optional `[K]: V` indexer) or an interface."""

    fields: tuple[Field, ...]
    index: tuple[Type, Type] | None
    interface: bool = False

    def lua(self, params: Mapping[str, str]) -> str:
        fields = f"{{{', '.join(f.lua(params) for f in self.fields)}}}"
        if self.interface:
            return f"__t.interface({fields})"
        if self.index is None:
            return f"__t.record({fields})"
        return f"__t.record({fields}, {self.index[0].lua(params)}, {self.index[1].lua(params)})"


@dataclass(frozen=True)
class Checked(Type):
    """A type with `@min`/`@max`/`@min_len`/`@max_len`/`@pattern` validators."""

    inner: Type
    checks: tuple[tuple[str, str], ...]  # (validator, Lua literal argument)

    def lua(self, params: Mapping[str, str]) -> str:
        checks = ", ".join(f'{{"{name}", {arg}}}' for name, arg in self.checks)
        return f"__t.check({self.inner.lua(params)}, {{{checks}}})"


@dataclass(frozen=True)
class Call(Type):
    """A run-time constructor over other types: `__t.opt(T)`, `__t.array(T)`, `__t.map(K, V)`, `__t.fn()`."""

    fn: str
    args: tuple[Type, ...] = ()

    def lua(self, params: Mapping[str, str]) -> str:
        return f"__t.{self.fn}({', '.join(a.lua(params) for a in self.args)})"


FN = Call("fn")
"""Function types: the value must be a function (parameters and results are not checked)."""
