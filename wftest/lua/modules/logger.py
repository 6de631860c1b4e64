"""Wippy's `logger` module: lines `LEVEL [name] message {fields}` into the sandbox's logs and its log
option (activities and processes only: workflows may not log this way)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from wftest.encoding.jsontext import EncodeError, bytes_to_text, encode_json_python
from wftest.lua.host_functions import LuaRaise
from wftest.lua.modules.base import check_string, check_table, lua_type, module

if TYPE_CHECKING:
    from wftest.lua.sandbox import Sandbox


LOG_LEVELS = ("debug", "info", "warn", "error")


def open_logger(sb: Sandbox) -> Any:
    """The root logger: no name, no fields."""
    return _logger(sb, "", {})


def _logger(sb: Sandbox, name: str, fields: dict[str, Any]) -> Any:
    def fields_of(value: Any, n: int, method: str) -> dict[str, Any]:
        if value is None:
            return {}
        check_table(value, n, method)
        try:
            found = sb.values.to_python(value)
        except EncodeError as exc:
            raise LuaRaise(f"bad argument #{n} to '{method}' (fields cannot be encoded: {exc})") from None
        if found == []:
            return {}
        if not isinstance(found, dict):
            raise LuaRaise(f"bad argument #{n} to '{method}' (fields must be a table with string keys)")
        return found

    def method_call(this: Any, method: str) -> None:
        if lua_type(this) != "table":
            raise LuaRaise(f"logger.{method} must be called as a method: logger:{method}(...)")

    def emitter(level: str) -> Callable[..., None]:
        def emit(this: Any = None, message: Any = None, extra: Any = None) -> None:
            method_call(this, level)
            text = bytes_to_text(check_string(message, 1, level))
            merged = {**fields, **fields_of(extra, 2, level)}
            prefix = f"[{name}] " if name else ""
            line = f"{level.upper()} {prefix}{text}"
            if merged:
                line += " " + encode_json_python(merged)
            sb.logs.append(line)
            if sb.options.log is not None:
                sb.options.log(line)

        return emit

    def with_fields(this: Any = None, extra: Any = None) -> Any:
        method_call(this, "with")
        return _logger(sb, name, {**fields, **fields_of(check_table(extra, 1, "with"), 1, "with")})

    def named(this: Any = None, child: Any = None) -> Any:
        method_call(this, "named")
        part = bytes_to_text(check_string(child, 1, "named"))
        if not part:
            raise LuaRaise("bad argument #1 to 'named' (name must not be empty)")
        return _logger(sb, f"{name}.{part}" if name else part, fields)

    functions: dict[str, Any] = {level: emitter(level) for level in LOG_LEVELS}
    return module(sb, {**functions, "with": with_fields, "named": named})
