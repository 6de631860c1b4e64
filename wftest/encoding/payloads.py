"""Temporal payloads of Python values by Wippy's rules: json/plain, binary/plain and binary/null."""

from __future__ import annotations

from typing import Final, cast

from temporalio.api.common.v1 import Payload

from wftest.encoding.jsontext import GO_NIL, JSONValue, bytes_to_text, encode_json_python, loads
from wftest.errors import UserError

ENCODING_JSON: Final = b"json/plain"
ENCODING_BINARY: Final = b"binary/plain"
ENCODING_NULL: Final = b"binary/null"


class PayloadError(UserError):
    """A payload in an encoding Wippy does not accept (only json/plain, binary/plain and binary/null)."""


_JSON_METADATA = Payload(metadata={"encoding": ENCODING_JSON}).SerializeToString()


def json_payload(data: bytes) -> Payload:
    """A json/plain payload holding `data`: parsed from its wire form, several times quicker than
    building the metadata map field by field (every activity input and result is one)."""
    size = len(data)
    length = bytearray()
    while size > 0x7F:
        length.append(size & 0x7F | 0x80)
        size >>= 7
    length.append(size)
    return Payload.FromString(_JSON_METADATA + b"\x12" + length + data)


def unsupported_encoding(encoding: bytes | None) -> PayloadError:
    """The refusal of a payload whose encoding metadata is `encoding`."""
    name = "<missing>" if encoding is None else bytes_to_text(encoding)
    return PayloadError(f"unsupported temporal payload encoding: {name}")


def python_to_payload(v: object) -> Payload:
    """Python value → payload: GO_NIL → binary/null, bytes → binary/plain, anything else → json/plain."""
    if v is GO_NIL:
        return Payload(metadata={"encoding": ENCODING_NULL})
    if isinstance(v, (bytes, bytearray, memoryview)):
        return Payload(metadata={"encoding": ENCODING_BINARY}, data=bytes(v))
    return json_payload(encode_json_python(cast(JSONValue, v)).encode())


def payload_to_python(p: Payload) -> JSONValue | bytes:
    """Payload → Python value: binary/null → None, binary/plain → bytes, json/plain → decoded (ints exact)."""
    encoding = p.metadata.get("encoding")
    if encoding == ENCODING_JSON:
        value: JSONValue = loads(p.data)
        return value
    if encoding == ENCODING_BINARY:
        return p.data
    if encoding == ENCODING_NULL:
        return None
    raise unsupported_encoding(encoding)
