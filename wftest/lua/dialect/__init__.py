"""Wippy's typed Lua made plain Lua 5.5: `erase` blanks type annotations and turns type declarations into
run-time type values (see `wftest.lua.dialect.eraser` for the dialect wftest reads)."""

from wftest.lua.dialect.descriptors import TYPES_RUNTIME
from wftest.lua.dialect.eraser import Erased, erase
from wftest.lua.dialect.patterns import pattern_error, pattern_matches
from wftest.lua.dialect.tokens import DialectError, lua_string_value

__all__ = [
    "TYPES_RUNTIME", "DialectError", "Erased", "erase", "lua_string_value", "pattern_error",
    "pattern_matches",
]
