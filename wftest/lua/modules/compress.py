"""Wippy's `compress` module: gzip, deflate, zlib, brotli and zstd (with dictionaries).

The codecs are the standard ones: stdlib `zlib` for gzip/deflate/zlib, the `brotli` package and the
`zstandard` package (plus the system libzstd for `zstd.inspect_dict`, which needs a dictionary's header
size). Function names, options, limits, error kinds and wording follow Wippy's Go module
(runtime/lua/modules/compress/module.go). Compressed bytes need not equal Wippy's byte for byte; what
either side writes, the other reads.

Every decoder is bounded: it stops as soon as the output passes the limit (`max_size`, as in Wippy, and
never more than the Lua state's memory limit), so a small bomb cannot make a large string.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import zlib
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

import brotli
import zstandard

from wftest.lua.modules.base import INTERNAL, INVALID, fail, lua_arguments, lua_type, module

if TYPE_CHECKING:
    from wftest.lua.sandbox import Sandbox

DEFAULT_LEVEL = 6
ZSTD_DEFAULT_LEVEL = 3
DEFAULT_MAX_SIZE = 128 * 1024 * 1024
ABSOLUTE_MAX_SIZE = 1024 * 1024 * 1024
DICT_MIN_SIZE = 256
DICT_DEFAULT_SIZE = 112 * 1024
DICT_MAX_SIZE = 1 << 20
UINT32_MAX = 0xFFFFFFFF

# Wippy maps zstd levels 1-22 onto four encoder speeds; these zstd levels are the nearest equivalents.
_ZSTD_SPEEDS = ((3, 1), (6, 3), (9, 7), (22, 11))
_INPUT_STEP = 64 * 1024


class _Refused(Exception):
    """A call Wippy answers with `nil, err`: the kind and the message."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class _TooLarge(Exception):
    """The decompressed output passed the limit."""


def _invalid(message: str) -> _Refused:
    return _Refused(INVALID, message)


def _internal(context: str, detail: object) -> _Refused:
    return _Refused(INTERNAL, f"{context}: {detail}")


def _zstd_level(level: int) -> int:
    return next(z for upto, z in _ZSTD_SPEEDS if level <= upto)


# ---------------------------------------------------------------------------------------------------
# Arguments and options, read as Wippy reads them: only a table in position 2 counts as options, and an
# option of the wrong type is ignored (except `dict`, which must be a non-empty string when given).


def _input(data: Any) -> bytes:
    if not isinstance(data, bytes):
        raise _invalid("string expected")
    if not data:
        raise _invalid("input data cannot be empty")
    return data


def _options(opts: Any) -> Any:
    return opts if lua_type(opts) == "table" else None


def _number(opts: Any, name: str) -> int | None:
    if opts is None:
        return None
    v = opts[name.encode()]
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return int(v)


def _level(opts: Any, default: int, lowest: int, highest: int, problem: str) -> int:
    level = _number(opts, "level")
    if level is None:
        return default
    if not lowest <= level <= highest:
        raise _invalid(problem)
    return level


def _dict(opts: Any) -> bytes | None:
    value = None if opts is None else opts[b"dict"]
    if value is None:
        return None
    if not isinstance(value, bytes) or not value:
        raise _invalid("dict must be a non-empty string")
    return value


class _Limit:
    """How much a decoder may produce: `max_size` (Wippy's rule) capped by the Lua memory limit."""

    def __init__(self, sb: Sandbox, opts: Any) -> None:
        wanted = _number(opts, "max_size")
        self.size = wanted if wanted is not None and 0 < wanted <= ABSOLUTE_MAX_SIZE else DEFAULT_MAX_SIZE
        self.why = "decompressed size exceeds limit"
        memory = sb.options.memory_limit
        if memory is not None and memory < self.size:
            self.size = memory
            self.why = f"decompressed size exceeds the Lua memory limit ({memory} bytes)"

    def check(self, produced: int) -> None:
        if produced > self.size:
            raise _TooLarge(self.why)


# ---------------------------------------------------------------------------------------------------
# gzip, deflate, zlib (stdlib zlib)

_GZIP_WBITS = 16 + zlib.MAX_WBITS
_RAW_WBITS = -zlib.MAX_WBITS


def _deflate_encode(data: bytes, level: int, wbits: int) -> bytes:
    c = zlib.compressobj(level, zlib.DEFLATED, wbits)
    return c.compress(data) + c.flush()


def _inflate(data: bytes, wbits: int, limit: _Limit, room: int) -> tuple[bytes, bytes]:
    """One stream: its output (at most `room` + 1 bytes are ever made) and the bytes after it."""
    d = zlib.decompressobj(wbits)
    out = d.decompress(data, room + 1)
    limit.check(limit.size - room + len(out))
    if not d.eof:
        raise zlib.error("unexpected EOF")
    return out, d.unused_data


def _gzip_header_ok(data: bytes) -> bool:
    return len(data) >= 10 and data[0] == 0x1F and data[1] == 0x8B and data[2] == 8


def _gzip_decode(data: bytes, limit: _Limit) -> bytes:
    # Wippy's reader checks the first header before reading (bad: "invalid gzip data"); later
    # problems, including a bad header of a following member, are decode failures.
    if not _gzip_header_ok(data):
        raise _invalid("invalid gzip data")
    parts: list[bytes] = []
    rest, produced = data, 0
    try:
        while rest:
            if not _gzip_header_ok(rest):
                raise zlib.error("gzip: invalid header")
            out, rest = _inflate(rest, _GZIP_WBITS, limit, limit.size - produced)
            parts.append(out)
            produced += len(out)
    except (zlib.error, _TooLarge) as exc:
        raise _internal("gzip decode failed", exc) from None
    return b"".join(parts)


def _deflate_decode(data: bytes, limit: _Limit) -> bytes:
    try:
        return _inflate(data, _RAW_WBITS, limit, limit.size)[0]
    except (zlib.error, _TooLarge):
        raise _invalid("invalid deflate data") from None


def _zlib_header_ok(data: bytes) -> bool:
    """What Wippy's zlib reader checks before reading: method 8, window <= 32K, check bits, no
    preset dictionary."""
    if len(data) < 2:
        return False
    cmf, flg = data[0], data[1]
    return cmf & 0x0F == 8 and cmf >> 4 <= 7 and (cmf << 8 | flg) % 31 == 0 and not flg & 0x20


def _zlib_decode(data: bytes, limit: _Limit) -> bytes:
    if not _zlib_header_ok(data):
        raise _invalid("invalid zlib data")
    try:
        return _inflate(data, zlib.MAX_WBITS, limit, limit.size)[0]
    except (zlib.error, _TooLarge) as exc:
        raise _internal("zlib decode failed", exc) from None


# ---------------------------------------------------------------------------------------------------
# brotli (the `brotli` package)


def _brotli_decode(data: bytes, limit: _Limit) -> bytes:
    # Wippy reports every brotli problem (bad data, truncation, trailing bytes, size) as invalid data.
    d = brotli.Decompressor()
    parts: list[bytes] = []
    produced = 0
    try:
        chunk = d.process(data, output_buffer_limit=limit.size + 1)
        while True:
            parts.append(chunk)
            produced += len(chunk)
            limit.check(produced)
            if d.can_accept_more_data() or not chunk:
                break
            chunk = d.process(b"", output_buffer_limit=limit.size + 1 - produced)
    except (brotli.error, _TooLarge):
        raise _invalid("invalid brotli data") from None
    if not d.is_finished():
        raise _invalid("invalid brotli data")
    return b"".join(parts)


# ---------------------------------------------------------------------------------------------------
# zstd (the `zstandard` package)


def _zstd_decoder(dictionary: bytes | None) -> zstandard.ZstdDecompressor:
    if dictionary is None:
        return zstandard.ZstdDecompressor()
    try:
        d = zstandard.ZstdCompressionDict(dictionary, dict_type=zstandard.DICT_TYPE_FULLDICT)
        decoder = zstandard.ZstdDecompressor(dict_data=d)
        decoder.decompressobj()
    except zstandard.ZstdError:
        raise _invalid("invalid zstd data") from None
    return decoder


def _zstd_decode(data: bytes, dictionary: bytes | None, limit: _Limit) -> bytes:
    decoder = _zstd_decoder(dictionary)
    parts: list[bytes] = []
    rest, produced = data, 0
    try:
        while rest:
            # A bounded pass first (it stops at the limit), then the checked pass, which makes the same
            # output and tells a truncated frame and the bytes after the frame.
            seen = produced
            for chunk in decoder.read_to_iter(rest, read_size=_INPUT_STEP):
                seen += len(chunk)
                limit.check(seen)
            frame = decoder.decompressobj()
            out = frame.decompress(rest)
            if not frame.eof:
                raise zstandard.ZstdError("unexpected EOF")
            parts.append(out)
            produced += len(out)
            rest = frame.unused_data
    except (zstandard.ZstdError, _TooLarge) as exc:
        raise _internal("zstd decode failed", exc) from None
    return b"".join(parts)


def _zstd_encode(data: bytes, level: int, dictionary: bytes | None) -> bytes:
    try:
        if dictionary is None:
            encoder = zstandard.ZstdCompressor(level=_zstd_level(level), write_checksum=True)
        else:
            d = zstandard.ZstdCompressionDict(dictionary, dict_type=zstandard.DICT_TYPE_FULLDICT)
            encoder = zstandard.ZstdCompressor(level=_zstd_level(level), dict_data=d, write_checksum=True)
        return encoder.compress(data)
    except zstandard.ZstdError as exc:
        raise _internal("zstd encode failed", exc) from None


def _train_samples(samples: Any) -> list[bytes | bytearray | memoryview[int]]:
    if lua_type(samples) != "table":
        raise _invalid("samples must be a table of strings")
    n = len(samples)
    if n == 0:
        raise _invalid("samples table cannot be empty")
    found: list[bytes | bytearray | memoryview[int]] = []
    for i in range(1, n + 1):
        v = samples[i]
        if not isinstance(v, bytes):
            raise _invalid("samples entries must be strings")
        if not v:
            raise _invalid("samples entries cannot be empty")
        found.append(v)
    if all(len(v) < 8 for v in found):
        raise _invalid("at least one sample must be 8 bytes or longer")
    return found


def _train_dict(samples: Any, opts: Any) -> bytes:
    found = _train_samples(samples)
    opts = _options(opts)
    size = _number(opts, "size")
    if size is not None and not DICT_MIN_SIZE <= size <= DICT_MAX_SIZE:
        raise _invalid("dict size must be between 256 and 1048576")
    dict_id = _number(opts, "id")
    if dict_id is not None and not 0 <= dict_id <= UINT32_MAX:
        raise _invalid("dict id must fit in uint32")
    level = _number(opts, "level")
    if level is not None and not 1 <= level <= 22:
        raise _invalid("level must be between 1 and 22")
    try:
        trained = zstandard.train_dictionary(
            DICT_DEFAULT_SIZE if size is None else size,
            found,
            dict_id=dict_id or 0,
            level=0 if level is None else _zstd_level(level),
        )
    except zstandard.ZstdError as exc:
        raise _internal("zstd dict training failed", exc) from None
    return trained.as_bytes()


@cache
def _libzstd() -> Any:
    """The system zstd library, for ZDICT_getDictHeaderSize (python-zstandard does not offer it)."""
    name = ctypes.util.find_library("zstd")
    if name is None:
        return None
    lib = ctypes.CDLL(name)
    lib.ZDICT_getDictHeaderSize.restype = ctypes.c_size_t
    lib.ZDICT_getDictHeaderSize.argtypes = (ctypes.c_char_p, ctypes.c_size_t)
    lib.ZDICT_isError.restype = ctypes.c_uint
    lib.ZDICT_isError.argtypes = (ctypes.c_size_t,)
    lib.ZDICT_getDictID.restype = ctypes.c_uint
    lib.ZDICT_getDictID.argtypes = (ctypes.c_char_p, ctypes.c_size_t)
    return lib


def _inspect_dict(data: Any) -> dict[str, float]:
    if not isinstance(data, bytes):
        raise _invalid("dictionary must be a string")
    if not data:
        raise _invalid("dictionary cannot be empty")
    lib = _libzstd()
    if lib is None:
        raise _Refused(
            INTERNAL,
            "compress.zstd.inspect_dict needs the system zstd library (libzstd), which wftest could not find",
        )
    header = lib.ZDICT_getDictHeaderSize(data, len(data))
    if lib.ZDICT_isError(header) or header > len(data):
        raise _invalid("invalid zstd dictionary")
    # Wippy returns both as Lua floats.
    return {"id": float(lib.ZDICT_getDictID(data, len(data))), "content_size": float(len(data) - header)}


# ---------------------------------------------------------------------------------------------------


def open_compress(sb: Sandbox) -> Any:
    def lua_call(fn: Callable[..., Any]) -> Callable[..., tuple[Any, Any]]:
        call = lua_arguments(fn)

        def run(*args: Any) -> tuple[Any, Any]:
            try:
                return call(*args), None
            except _Refused as exc:
                return fail(sb, exc.kind, str(exc))

        return run

    def deflate_family(
        wbits: int, decode: Callable[[bytes, _Limit], bytes]
    ) -> dict[str, Callable[..., tuple[Any, Any]]]:
        def encode(data: Any = None, opts: Any = None) -> bytes:
            raw = _input(data)
            level = _level(_options(opts), DEFAULT_LEVEL, 1, 9, "compression level must be between 1 and 9")
            return _deflate_encode(raw, level, wbits)

        def decode_call(data: Any = None, opts: Any = None) -> bytes:
            raw = _input(data)
            return decode(raw, _Limit(sb, _options(opts)))

        return {"encode": lua_call(encode), "decode": lua_call(decode_call)}

    def brotli_encode(data: Any = None, opts: Any = None) -> bytes:
        raw = _input(data)
        quality = _level(_options(opts), DEFAULT_LEVEL, 0, 11, "brotli quality must be between 0 and 11")
        return bytes(brotli.compress(raw, quality=quality))

    def brotli_decode(data: Any = None, opts: Any = None) -> bytes:
        raw = _input(data)
        return _brotli_decode(raw, _Limit(sb, _options(opts)))

    def zstd_encode(data: Any = None, opts: Any = None) -> bytes:
        raw = _input(data)
        options = _options(opts)
        level = _level(options, ZSTD_DEFAULT_LEVEL, 1, 22, "zstd level must be between 1 and 22")
        return _zstd_encode(raw, level, _dict(options))

    def zstd_decode(data: Any = None, opts: Any = None) -> bytes:
        raw = _input(data)
        options = _options(opts)
        limit = _Limit(sb, options)
        return _zstd_decode(raw, _dict(options), limit)

    def train_dict(samples: Any = None, opts: Any = None) -> bytes:
        return _train_dict(samples, opts)

    def inspect_dict(data: Any = None) -> Any:
        return sb.table(_inspect_dict(data))

    return module(
        sb,
        {
            "gzip": module(sb, deflate_family(_GZIP_WBITS, _gzip_decode)),
            "deflate": module(sb, deflate_family(_RAW_WBITS, _deflate_decode)),
            "zlib": module(sb, deflate_family(zlib.MAX_WBITS, _zlib_decode)),
            "brotli": module(sb, {"encode": lua_call(brotli_encode), "decode": lua_call(brotli_decode)}),
            "zstd": module(
                sb,
                {
                    "encode": lua_call(zstd_encode),
                    "decode": lua_call(zstd_decode),
                    "train_dict": lua_call(train_dict),
                    "inspect_dict": lua_call(inspect_dict),
                },
            ),
        },
    )
