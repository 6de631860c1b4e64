"""Wippy's `json` module: encode/decode by the JSON rules of the sandbox's values, and validation."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from wftest.encoding.jsontext import DecodeError, EncodeError, bytes_to_text
from wftest.lua.modules.base import INTERNAL, INVALID, fail, lua_type, module
from wftest.lua.modules.schema import SchemaError, ValidationError, compile_schema, mark_empty, validate_data

if TYPE_CHECKING:
    from wftest.lua.sandbox import Sandbox


def open_json(sb: Sandbox) -> Any:
    """json.encode/decode by the JSON rules of `sb.values`; validate/validate_string on a schema subset.

    Error kinds and wording follow runtime/lua/modules/json (module.go, json.go): bad input is Invalid
    with Wippy's words, encoder/decoder failures are Internal "encode failed: ..." / "decode failed:
    ...", and validation answers `false, err(Invalid)`."""
    values = sb.values

    def encode(value: Any = None) -> tuple[Any, Any]:
        try:
            return values.encode_json(value), None
        except EncodeError as exc:
            return fail(sb, INTERNAL, f"encode failed: {exc}")

    def decode(text: Any = None) -> tuple[Any, Any]:
        if not isinstance(text, bytes):
            return fail(sb, INVALID, "string expected")
        if not text:
            return fail(sb, INVALID, "empty string is not valid JSON")
        try:
            return values.decode_json(text, sb.state.spare_memory()), None
        except DecodeError as exc:
            return fail(sb, INTERNAL, f"decode failed: {exc}")

    def refused(message: str) -> tuple[bool, Any]:
        return False, sb.error(INVALID, message, retryable=False)

    def checked(schema: Any, data: Callable[[], Any]) -> tuple[Any, Any]:
        try:
            compiled = _lua_schema(sb, schema)
        except SchemaError as exc:
            return refused(str(exc))
        try:
            return validate_data(compiled, data())
        except ValidationError as exc:
            return refused(f"validation failed: {exc}")

    def validate(schema: Any = None, data: Any = None) -> tuple[Any, Any]:
        if schema is None:
            return refused("schema is required")
        if data is None:
            return refused("data is required")
        return checked(schema, lambda: _from_lua(sb, data, "data"))

    def validate_string(schema: Any = None, text: Any = None) -> tuple[Any, Any]:
        if schema is None:
            return refused("schema is required")
        if not isinstance(text, bytes):
            return refused("data must be a JSON string")
        return checked(schema, lambda: parse_json(text, ValidationError))

    return module(
        sb, {"encode": encode, "decode": decode, "validate": validate, "validate_string": validate_string}
    )


def parse_json(text: bytes, error: type[Exception]) -> Any:
    """Strict JSON text → Python value; any problem raises `error` (the caller's error type)."""

    def reject(name: str) -> None:
        raise error(f"invalid JSON: {name} is not a JSON value")

    try:
        return json.loads(bytes_to_text(text), parse_constant=reject)
    except json.JSONDecodeError as exc:
        raise error(f"invalid JSON: {exc}") from None


def _from_lua(sb: Sandbox, v: Any, what: str) -> Any:
    try:
        return mark_empty(sb.values.to_python(v))
    except EncodeError as exc:
        if what == "schema":
            raise SchemaError(f"schema error: {exc}") from None
        raise ValidationError(f"the {what} cannot be exported: {exc}") from None


def _lua_schema(sb: Sandbox, schema: Any) -> Callable[[Any, str, list[str]], None]:
    """The schema compiled; SchemaError with Wippy's prefix ("schema error" for a schema that cannot be
    read, "compile schema" for one that is not a usable JSON Schema)."""
    if isinstance(schema, bytes):
        try:
            document = parse_json(schema, SchemaError)
        except SchemaError as exc:
            raise SchemaError(f"compile schema: {exc}") from None
    elif lua_type(schema) == "table":
        document = _from_lua(sb, schema, "schema")
    else:
        raise SchemaError("schema error: schema must be a string or table")
    try:
        return compile_schema(document)
    except SchemaError as exc:
        raise SchemaError(f"compile schema: {exc}") from None
