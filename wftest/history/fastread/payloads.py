"""Payloads: checked when the history is read (json/plain data must be JSON), converted on first read."""

from __future__ import annotations

import json
from typing import Any

import orjson
from temporalio.api.common.v1 import Payload

from wftest.encoding.jsontext import MAX_DEPTH
from wftest.history.fastread.base import _ENCODINGS, _PAYLOAD_KEYS, _Bad
from wftest.history.fastread.scalars import _SHORT_BYTES, _bytes

# Metadata `encoding` values (base64) found to name an encoding the fast path reads, and whether it is
# json/plain (whose data must be JSON).
_GOOD_ENCODINGS: dict[object, bool] = {}
# json/plain data (base64) already found to be JSON: histories repeat payloads (the same input handed
# to every activity, `null` results), and a set lookup is much quicker than decoding and parsing.
_GOOD_JSON: set[str] = set()


def _check_payload(value: Any) -> None:
    if type(value) is not dict:
        return  # the CLI's shorthand: a JSON value, read as a json/plain payload
    # The usual payload, quickly: metadata of an encoding already seen, data already seen or checked.
    metadata = value.get("metadata")
    if (
        type(metadata) is dict
        and len(metadata) == 1
        and (is_json := _GOOD_ENCODINGS.get(metadata.get("encoding"))) is not None
        and (len(value) == 1 or (len(value) == 2 and "data" in value))
    ):
        data = value.get("data")
        if is_json:
            if data not in _GOOD_JSON:
                _check_json(data)
        elif data is not None and data not in _SHORT_BYTES:
            _bytes(data)
        return
    if "data" in value or "metadata" in value:
        if not value.keys() <= _PAYLOAD_KEYS:
            raise _Bad
        encoding = _metadata(metadata)[1]
        if encoding not in _ENCODINGS:
            raise _Bad
        data = value.get("data")
        if encoding == _JSON_PLAIN:
            _check_json(data)
        elif data is not None:
            _bytes(data)
        if type(metadata) is dict and metadata.keys() == {"encoding"} and len(_GOOD_ENCODINGS) < 64:
            _GOOD_ENCODINGS[metadata["encoding"]] = encoding == _JSON_PLAIN
    # Anything else is the CLI's shorthand.


_JSON_PLAIN = b"json/plain"


def _check_json(data: Any) -> None:
    """Raise `_Bad` unless json/plain `data` (base64) is surely JSON to the protobuf reader: no data (an
    empty payload) is not JSON, and data nested deeper than wftest nests JSON is left to it (its parser's
    depth limit depends on the caller's stack)."""
    if data is None:
        raise _Bad
    decoded = _bytes(data)
    try:
        parsed = orjson.loads(decoded)
    except orjson.JSONDecodeError:
        raise _Bad from None
    if len(decoded) > _DEEP and decoded.count(b"[") + decoded.count(b"{") > MAX_DEPTH:
        if _depth(parsed) > MAX_DEPTH:
            raise _Bad
    if len(_GOOD_JSON) >= 4096:  # `scalars._known`, inline: this runs for every new payload
        _GOOD_JSON.clear()
    _GOOD_JSON.add(data)


_DEEP = 2 * MAX_DEPTH  # data shorter than this cannot nest deeper than MAX_DEPTH


def _depth(value: Any) -> int:
    """How deeply `value` nests lists and objects (0 for a scalar)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if type(item) is dict:
            item = list(item.values())
        elif type(item) is not list:
            continue
        deepest = max(deepest, depth)
        stack.extend((each, depth + 1) for each in item)
    return deepest


def _varint(number: int) -> bytes:
    out = bytearray()
    while number > 0x7F:
        out.append(number & 0x7F | 0x80)
        number >>= 7
    out.append(number)
    return bytes(out)


def _wire(tag: int, data: bytes) -> bytes:
    size = len(data)
    if size < 0x80:
        return bytes((tag, size)) + data
    return bytes((tag,)) + _varint(size) + data


# Payload metadata as JSON object items → its serialized protobuf bytes and its encoding.
_METADATA: dict[tuple[tuple[str, Any], ...], tuple[bytes, bytes]] = {}


def _metadata(raw: Any) -> tuple[bytes, bytes]:
    if raw is None:
        return b"", b""
    if type(raw) is not dict:
        raise _Bad
    key = tuple(raw.items())
    found = _METADATA.get(key)
    if found is not None:
        return found
    wire = b"".join(_wire(0x0A, _wire(0x0A, k.encode()) + _wire(0x12, _bytes(v))) for k, v in raw.items())
    decoded = {k: _bytes(v) for k, v in raw.items()}
    found = (wire, decoded.get("encoding", b""))
    if len(_METADATA) < 256:
        _METADATA[key] = found
    return found


def _payload(value: Any) -> Payload:
    if type(value) is dict and ("data" in value or "metadata" in value):
        if not value.keys() <= _PAYLOAD_KEYS:
            raise _Bad
        wire, encoding = _metadata(value.get("metadata"))
        data = value.get("data")
        if data is not None:
            wire += _wire(0x12, _bytes(data))
        if encoding not in _ENCODINGS:
            raise _Bad
        return Payload.FromString(wire)
    # The CLI's shorthand: the payload written as the JSON value it holds (as `history_from_json`).
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return Payload(metadata={"encoding": b"json/plain"}, data=text.encode())
