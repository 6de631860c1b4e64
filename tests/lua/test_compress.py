"""The compress module: codecs, levels, options, limits and errors as runtime/lua/modules/compress/module.go
has them (function names, option names, error kinds and wording)."""

from __future__ import annotations

import gzip
import textwrap
import zlib
from typing import Any

import brotli
import pytest
import zstandard

from wftest.lua.modules import CATALOGUE, DETERMINISTIC
from wftest.lua.sandbox import Sandbox, SandboxOptions

TEXT = b"Hello, World! " * 100
CODECS = ("gzip", "deflate", "zlib", "brotli", "zstd")


def run(sb: Sandbox, body: str, *args: Any) -> tuple[Any, ...]:
    code = 'local compress = require("compress")\n' + textwrap.dedent(body).strip()
    fn, err = sb.api.load_chunk(
        code.encode(), b"user.lua", sb.make_require("test", ["compress"], {}, None), None
    )
    assert fn is not None, err
    return sb.call(fn, *args)


def err_of(sb: Sandbox, call: str, *args: Any) -> tuple[Any, ...]:
    """`call` must return nil, err: the error's kind, message and retryable flag."""
    value, kind, message, retryable = run(
        sb, f"local v, err = {call} return v, err:kind(), err:message(), err:retryable()", *args
    )
    assert value is None
    return kind, message, retryable


@pytest.fixture
def sb() -> Sandbox:
    return Sandbox()


def test_compress_is_a_deterministic_module() -> None:
    assert CATALOGUE["compress"].wippy_class == DETERMINISTIC


def test_compress_has_wippys_functions(sb: Sandbox) -> None:
    (names,) = run(
        sb,
        """
        local found = {}
        for codec, fns in pairs(compress) do
            for name in pairs(fns) do found[#found + 1] = codec .. "." .. name end
        end
        table.sort(found)
        return table.concat(found, " ")
        """,
    )
    assert names.split() == sorted(
        [f"{c}.{f}".encode() for c in CODECS for f in ("encode", "decode")]
        + [b"zstd.train_dict", b"zstd.inspect_dict"]
    )


@pytest.mark.parametrize("codec", CODECS)
def test_round_trip_at_the_default_level(sb: Sandbox, codec: str) -> None:
    encoded, back, err = run(
        sb, f"local e = compress.{codec}.encode(...) return e, compress.{codec}.decode(e)", TEXT
    )
    assert (back, err) == (TEXT, None)
    assert len(encoded) < len(TEXT)


def test_output_is_what_the_standard_codecs_read(sb: Sandbox) -> None:
    gz, raw, zl, br, zs = run(
        sb,
        """
        local t = ...
        return compress.gzip.encode(t), compress.deflate.encode(t), compress.zlib.encode(t),
            compress.brotli.encode(t), (compress.zstd.encode(t))
        """,
        TEXT,
    )
    assert gzip.decompress(gz) == TEXT
    assert zlib.decompress(raw, -15) == TEXT
    assert zlib.decompress(zl) == TEXT
    assert brotli.decompress(br) == TEXT
    assert zstandard.ZstdDecompressor().decompressobj().decompress(zs) == TEXT


def test_decoders_read_what_the_standard_codecs_write(sb: Sandbox) -> None:
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)
    inputs = (
        gzip.compress(TEXT, mtime=0)
        + gzip.compress(b"second member", mtime=0),  # Go's reader reads every member
        raw.compress(TEXT) + raw.flush(),
        zlib.compress(TEXT),
        brotli.compress(TEXT),
        zstandard.ZstdCompressor().compress(TEXT) + zstandard.ZstdCompressor().compress(b"!"),
    )
    results = run(
        sb,
        """
        local a, b, c, d, e = ...
        return compress.gzip.decode(a), compress.deflate.decode(b), compress.zlib.decode(c),
            compress.brotli.decode(d), (compress.zstd.decode(e))
        """,
        *inputs,
    )
    assert results == (TEXT + b"second member", TEXT, TEXT, TEXT, TEXT + b"!")


@pytest.mark.parametrize(
    ("codec", "good", "bad", "message"),
    [
        ("gzip", (1, 9), (0, 10), b"compression level must be between 1 and 9"),
        ("deflate", (1, 9), (0, 10), b"compression level must be between 1 and 9"),
        ("zlib", (1, 9), (0, 10), b"compression level must be between 1 and 9"),
        ("brotli", (0, 11), (-1, 12), b"brotli quality must be between 0 and 11"),
        ("zstd", (1, 22), (0, 23), b"zstd level must be between 1 and 22"),
    ],
)
def test_levels(sb: Sandbox, codec: str, good: tuple[int, int], bad: tuple[int, int], message: bytes) -> None:
    low, high, back = run(
        sb,
        f"""
        local t, low, high = ...
        local a, b = compress.{codec}.encode(t, {{level = low}}), compress.{codec}.encode(t, {{level = high}})
        return a, b, (compress.{codec}.decode(b))
        """,
        TEXT,
        *good,
    )
    assert len(high) <= len(low) and back == TEXT
    for level in bad:
        assert err_of(sb, f"compress.{codec}.encode(..., {{level = {level}}})", TEXT) == (
            b"Invalid",
            message,
            False,
        )


def test_options_of_the_wrong_type_are_ignored(sb: Sandbox) -> None:
    # Go reads options only from a table, and a level only when it is a number.
    a, b, c = run(
        sb,
        """
        local t = ...
        local a, b = compress.gzip.encode(t, "fast"), compress.gzip.encode(t, {level = "9"})
        return a, b, (compress.gzip.encode(t))
        """,
        TEXT,
    )
    assert a == b == c


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("fn", ["encode", "decode"])
def test_input_must_be_a_non_empty_string(sb: Sandbox, codec: str, fn: str) -> None:
    assert err_of(sb, f"compress.{codec}.{fn}('')") == (b"Invalid", b"input data cannot be empty", False)
    assert err_of(sb, f"compress.{codec}.{fn}(42)") == (b"Invalid", b"string expected", False)
    assert err_of(sb, f"compress.{codec}.{fn}()") == (b"Invalid", b"string expected", False)


@pytest.mark.parametrize(
    ("codec", "data", "kind", "message"),
    [
        # A bad header is Invalid; a stream that goes wrong later is an Internal decode failure.
        ("gzip", b"not valid gzip data", b"Invalid", b"invalid gzip data"),
        ("gzip", gzip.compress(TEXT, mtime=0)[:-12], b"Internal", b"gzip decode failed: "),
        (
            "gzip",
            gzip.compress(TEXT, mtime=0) + b"trailing!!",
            b"Internal",
            b"gzip decode failed: gzip: invalid header",
        ),
        ("zlib", b"not valid zlib data", b"Invalid", b"invalid zlib data"),
        ("zlib", zlib.compress(TEXT)[:-2] + b"xx", b"Internal", b"zlib decode failed: "),
        ("deflate", b"not valid deflate data", b"Invalid", b"invalid deflate data"),
        ("deflate", zlib.compress(TEXT)[2:-8], b"Invalid", b"invalid deflate data"),
        ("brotli", b"not valid brotli data", b"Invalid", b"invalid brotli data"),
        ("brotli", brotli.compress(TEXT)[:-3], b"Invalid", b"invalid brotli data"),
        ("brotli", brotli.compress(TEXT) + b"xyz", b"Invalid", b"invalid brotli data"),
        ("zstd", b"not valid zstd data", b"Internal", b"zstd decode failed: "),
        ("zstd", zstandard.ZstdCompressor().compress(TEXT)[:-5], b"Internal", b"zstd decode failed: "),
    ],
    ids=[
        *("gzip-header", "gzip-truncated", "gzip-trailing", "zlib-header", "zlib-checksum"),
        *("deflate-garbage", "deflate-truncated", "brotli-garbage", "brotli-truncated", "brotli-trailing"),
        *("zstd-garbage", "zstd-truncated"),
    ],
)
def test_bad_data(sb: Sandbox, codec: str, data: bytes, kind: bytes, message: bytes) -> None:
    got_kind, got_message, retryable = err_of(sb, f"compress.{codec}.decode(...)", data)
    assert (got_kind, retryable) == (kind, False)
    assert got_message.startswith(message), got_message


BOMB = b"\0" * (3 * 1024 * 1024)


@pytest.mark.parametrize(
    ("codec", "bomb", "kind", "message"),
    [
        (
            "gzip",
            gzip.compress(BOMB, mtime=0),
            b"Internal",
            b"gzip decode failed: decompressed size exceeds limit",
        ),
        ("zlib", zlib.compress(BOMB), b"Internal", b"zlib decode failed: decompressed size exceeds limit"),
        ("deflate", zlib.compress(BOMB)[2:-4], b"Invalid", b"invalid deflate data"),
        ("brotli", brotli.compress(BOMB), b"Invalid", b"invalid brotli data"),
        (
            "zstd",
            zstandard.ZstdCompressor().compress(BOMB),
            b"Internal",
            b"zstd decode failed: decompressed size exceeds limit",
        ),
    ],
    ids=["gzip", "zlib", "deflate", "brotli", "zstd"],
)
def test_decoders_stop_at_max_size(sb: Sandbox, codec: str, bomb: bytes, kind: bytes, message: bytes) -> None:
    assert err_of(sb, f"compress.{codec}.decode(..., {{max_size = 1024 * 1024}})", bomb) == (
        kind,
        message,
        False,
    )
    # The limit is inclusive, and a max_size outside 1 byte .. 1 GiB means the default (128 MiB).
    exact, ignored = run(
        sb,
        f"""
        local bomb, n = ...
        local exact = compress.{codec}.decode(bomb, {{max_size = n}})
        return #exact, #compress.{codec}.decode(bomb, {{max_size = -1}})
        """,
        bomb,
        len(BOMB),
    )
    assert exact == ignored == len(BOMB)


def test_the_lua_memory_limit_caps_the_output() -> None:
    sb = Sandbox(SandboxOptions(memory_limit=8 * 1024 * 1024))
    bomb = gzip.compress(b"\0" * (9 * 1024 * 1024), mtime=0)
    assert err_of(sb, "compress.gzip.decode(...)", bomb) == (
        b"Internal",
        b"gzip decode failed: decompressed size exceeds the Lua memory limit (8388608 bytes)",
        False,
    )


# -- zstd dictionaries ---------------------------------------------------------------------------


def samples(prefix: str) -> list[bytes]:
    return [
        f'{{"event":"{prefix}","user_id":{i},"session":"sess-{i:04d}","ts":17000000{i % 100:02d}}}'.encode()
        for i in range(1, 81)
    ]


def train(sb: Sandbox, prefix: str, opts: str = "nil") -> bytes:
    (found,) = run(sb, f"return (compress.zstd.train_dict({{...}}, {opts}))", *samples(prefix))
    assert isinstance(found, bytes)
    return found


def test_train_dict_is_deterministic_and_made_by_zstd(sb: Sandbox) -> None:
    d = train(sb, "click")
    assert d == train(sb, "click")
    assert d[:4] == b"\x37\xa4\x30\xec"
    assert zstandard.ZstdCompressionDict(d, dict_type=zstandard.DICT_TYPE_FULLDICT).dict_id() > 0


def test_train_dict_options(sb: Sandbox) -> None:
    d = train(sb, "click", "{id = 4242, size = 1024, level = 9}")
    assert len(d) <= 1024
    assert zstandard.ZstdCompressionDict(d, dict_type=zstandard.DICT_TYPE_FULLDICT).dict_id() == 4242


def test_dictionary_round_trip_and_mismatch(sb: Sandbox) -> None:
    d, other = train(sb, "click"), train(sb, "purchase")
    payload = b'{"event":"click","user_id":4242,"session":"sess-4242","ts":1700000099}'
    enc, dec, plain = run(
        sb,
        """
        local payload, d = ...
        local enc = compress.zstd.encode(payload, {dict = d, level = 5})
        return enc, compress.zstd.decode(enc, {dict = d}), (compress.zstd.encode(payload))
        """,
        payload,
        d,
    )
    assert dec == payload and len(enc) < len(plain)
    assert (
        zstandard.ZstdDecompressor(
            dict_data=zstandard.ZstdCompressionDict(d, dict_type=zstandard.DICT_TYPE_FULLDICT)
        ).decompress(enc)
        == payload
    )
    for call in ("compress.zstd.decode(...)", "compress.zstd.decode(..., {dict = select(2, ...)})"):
        kind, message, _ = err_of(sb, call, enc, other)
        assert kind == b"Internal" and message.startswith(b"zstd decode failed: ")


def test_inspect_dict(sb: Sandbox) -> None:
    d = train(sb, "click", "{id = 77}")
    info_id, size, kind = run(
        sb,
        "local info = compress.zstd.inspect_dict(...) return info.id, info.content_size, math.type(info.id)",
        d,
    )
    assert (info_id, kind) == (77.0, b"float")
    assert 0 < size < len(d)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("compress.zstd.train_dict('x')", b"samples must be a table of strings"),
        ("compress.zstd.train_dict({})", b"samples table cannot be empty"),
        ("compress.zstd.train_dict({'abcdefgh', 5})", b"samples entries must be strings"),
        ("compress.zstd.train_dict({'abcdefgh', ''})", b"samples entries cannot be empty"),
        ("compress.zstd.train_dict({'ab', 'cd'})", b"at least one sample must be 8 bytes or longer"),
        (
            "compress.zstd.train_dict({'abcdefgh'}, {size = 255})",
            b"dict size must be between 256 and 1048576",
        ),
        ("compress.zstd.train_dict({'abcdefgh'}, {id = -1})", b"dict id must fit in uint32"),
        ("compress.zstd.train_dict({'abcdefgh'}, {level = 23})", b"level must be between 1 and 22"),
        ("compress.zstd.inspect_dict(5)", b"dictionary must be a string"),
        ("compress.zstd.inspect_dict('')", b"dictionary cannot be empty"),
        ("compress.zstd.inspect_dict('not a dictionary')", b"invalid zstd dictionary"),
        ("compress.zstd.encode('data', {dict = ''})", b"dict must be a non-empty string"),
        ("compress.zstd.decode('data', {dict = 5})", b"dict must be a non-empty string"),
        ("compress.zstd.decode('data', {dict = 'not a dictionary'})", b"invalid zstd data"),
    ],
)
def test_dictionary_errors_are_invalid(sb: Sandbox, call: str, message: bytes) -> None:
    assert err_of(sb, call) == (b"Invalid", message, False)


def test_encoding_with_a_bad_dictionary_is_an_internal_failure(sb: Sandbox) -> None:
    kind, message, _ = err_of(sb, "compress.zstd.encode('data', {dict = 'not a dictionary'})")
    assert kind == b"Internal" and message.startswith(b"zstd encode failed: ")
