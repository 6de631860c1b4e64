"""The uuid and crypto modules and the side-effect producers behind them.

they are, and that text results are str and binary results bytes).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import re
import textwrap
import uuid
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from wftest.lua.modules.effects import DEFAULT_CHARSET, PRODUCERS, UnknownSideEffect, produce
from wftest.lua.sandbox import Command, Failed, Finished, LuaFailure, Sandbox, SandboxOptions

MODULES = ["uuid", "crypto"]
NOW_NS = 1_767_225_600 * 10**9 + 123_456_789  # 2026-01-01T00:00:00.123456789Z
UUID_RE = re.compile(rb"^[0-9a-f]{8}-[0-9a-f]{4}-([0-9a-f])[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
NS_DNS = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
KEY32 = bytes(range(32))


def sandbox(seed: int = 0, deterministic: bool = False, now_ns: int = NOW_NS) -> Sandbox:
    return Sandbox(SandboxOptions(seed=seed, deterministic=deterministic, clock_ns=lambda: now_ns))


def chunk(sb: Sandbox, body: str) -> Any:
    """`body` as a user chunk (user.lua, body from line 2) with `uuid` and `crypto` as locals."""
    code = 'local uuid, crypto = require("uuid"), require("crypto")\n' + textwrap.dedent(body).strip()
    fn, err = sb.api.load_chunk(code.encode(), b"user.lua", sb.make_require("test", MODULES, {}, None), None)
    assert fn is not None, err
    return fn


def run(sb: Sandbox, body: str, *args: Any) -> tuple[Any, ...]:
    return sb.call(chunk(sb, body), *args)


def err_of(sb: Sandbox, call: str, *args: Any) -> tuple[Any, Any]:
    """`call` must return nil, err: the error's kind and message. Keys `k16`, `k32` are in scope."""
    value, kind, message = run(
        sb,
        f"""
        local k16, k32 = string.rep("k", 16), string.rep("k", 32)
        local v, err = {call}
        return v, err:kind(), err:message()
        """,
        *args,
    )
    assert value is None
    return kind, message


def raised(sb: Sandbox, call: str, *args: Any) -> str:
    """`call` (on line 2 of user.lua) must raise; the error text."""
    with pytest.raises(LuaFailure) as info:
        run(sb, f"local r = {call}\nreturn r", *args)
    return str(info.value)


@pytest.fixture
def sb() -> Sandbox:
    return sandbox()


# -- producers ------------------------------------------------------------------------------

PRODUCER_ARGS: dict[str, tuple[Any, ...]] = {
    "uuid.v1": (NOW_NS,),
    "uuid.v4": (),
    "uuid.v7": (NOW_NS,),
    "crypto.random.bytes": (16,),
    "crypto.random.string": (12,),
    "crypto.random.uuid": (),
    "crypto.encrypt.aes": (b"data", KEY32[:16]),
    "crypto.encrypt.chacha20": (b"data", KEY32, b"aad"),
}


def test_every_producer_has_test_arguments() -> None:
    assert sorted(PRODUCERS) == sorted(PRODUCER_ARGS)


@pytest.mark.parametrize("name", sorted(PRODUCER_ARGS))
def test_producers_are_deterministic_per_seed(name: str) -> None:
    def draw(seed: int) -> list[Any]:
        rng = random.Random(seed)
        return [produce(name, rng, PRODUCER_ARGS[name]) for _ in range(3)]

    assert draw(1) == draw(1)
    assert draw(1) != draw(2)
    assert len(set(draw(1))) == 3


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("uuid.v4", str),
        ("crypto.random.string", str),
        ("crypto.random.bytes", bytes),
        ("crypto.encrypt.aes", bytes),
    ],
)
def test_producers_return_text_as_str_and_binary_as_bytes(name: str, kind: type) -> None:
    assert type(produce(name, random.Random(0), PRODUCER_ARGS[name])) is kind


def test_producers_accept_text_arguments_from_a_driver() -> None:
    sealed = produce("crypto.encrypt.aes", random.Random(0), ("data", "k" * 16, "aad"))
    assert AESGCM(b"k" * 16).decrypt(sealed[:12], sealed[12:], b"aad") == b"data"
    assert produce("crypto.random.string", random.Random(0), (5, "é")) == "ééééé"


def test_encryption_producers_prepend_the_nonce() -> None:
    sealed = produce("crypto.encrypt.chacha20", random.Random(0), (b"secret", KEY32, None))
    assert len(sealed) == 12 + len(b"secret") + 16
    assert ChaCha20Poly1305(KEY32).decrypt(sealed[:12], sealed[12:], None) == b"secret"


def test_uuid_producers_embed_the_time_they_are_given() -> None:
    v1 = uuid.UUID(produce("uuid.v1", random.Random(0), (NOW_NS,)))
    assert (v1.version, v1.variant) == (1, uuid.RFC_4122)
    assert v1.time == NOW_NS // 100 + 0x01B21DD213814000
    assert v1.node & (1 << 40)  # a random node carries the multicast bit
    v7 = uuid.UUID(produce("uuid.v7", random.Random(0), (NOW_NS,)))
    assert (v7.int >> 76 & 0xF, v7.int >> 62 & 0x3) == (7, 0b10)
    assert v7.int >> 80 == NOW_NS // 1_000_000


def test_unknown_side_effect() -> None:
    with pytest.raises(
        UnknownSideEffect, match=r"no producer for side effect 'uuid.v9' \(known: crypto.encrypt.aes"
    ):
        produce("uuid.v9", random.Random(0), ())


# -- side-effect routing --------------------------------------------------------------------


def test_in_a_workflow_uuid_v4_is_a_side_effect_command() -> None:
    sb = sandbox(deterministic=True)
    handle = sb.spawn(chunk(sb, "local id, err = uuid.v4()\nreturn id, err"))
    turn = sb.resume(handle)
    assert isinstance(turn, Command)
    table = turn.table
    assert (table.kind, table.name, table.args.n, table.where) == (
        b"side_effect",
        b"uuid.v4",
        0,
        b"user.lua:2",
    )
    assert sb.resume(handle, b"recorded-id", None) == Finished((b"recorded-id", None))


@pytest.mark.parametrize(
    ("call", "name", "args"),
    [
        ("uuid.v1()", b"uuid.v1", (NOW_NS,)),
        ("uuid.v7()", b"uuid.v7", (NOW_NS,)),
        ("crypto.random.bytes(8)", b"crypto.random.bytes", (8,)),
        ("crypto.random.string(4)", b"crypto.random.string", (4,)),
        ("crypto.random.string(4, 'ab')", b"crypto.random.string", (4, b"ab")),
        ("crypto.random.uuid()", b"crypto.random.uuid", ()),
        ("crypto.encrypt.aes('d', string.rep('k', 16))", b"crypto.encrypt.aes", (b"d", b"k" * 16)),
        ("crypto.encrypt.aes('d', string.rep('k', 16), 'a')", b"crypto.encrypt.aes", (b"d", b"k" * 16, b"a")),
        ("crypto.encrypt.chacha20('d', string.rep('k', 32))", b"crypto.encrypt.chacha20", (b"d", b"k" * 32)),
    ],
)
def test_side_effect_commands_carry_their_arguments(call: str, name: bytes, args: tuple[Any, ...]) -> None:
    sb = sandbox(deterministic=True)
    turn = sb.resume(sb.spawn(chunk(sb, f"return {call}")))
    assert isinstance(turn, Command)
    got = tuple(turn.table.args[i] for i in range(1, turn.table.args.n + 1))
    assert (turn.table.kind, turn.table.name, got) == (b"side_effect", name, args)


def test_bad_arguments_do_not_issue_a_side_effect() -> None:
    sb = sandbox(deterministic=True)
    turn = sb.resume(sb.spawn(chunk(sb, "local v, err = crypto.random.bytes(0)\nreturn v, err:kind()")))
    assert turn == Finished((None, b"Invalid"))
    turn = sb.resume(sb.spawn(chunk(sb, "local v = crypto.encrypt.aes('d', 5)\nreturn v")))
    assert isinstance(turn, Failed)
    assert str(turn.failure) == "user.lua:2: bad argument #2 to 'aes' (string expected, got number)"


def test_outside_a_workflow_side_effects_return_values_directly(sb: Sandbox) -> None:
    v4, v1, v7, rand = run(sb, "return uuid.v4(), uuid.v1(), uuid.v7(), crypto.random.uuid()")
    assert [UUID_RE.match(u).group(1) for u in (v4, v1, v7, rand)] == [b"4", b"1", b"7", b"4"]  # type: ignore[union-attr]


def test_extra_arguments_are_ignored_as_in_lua(sb: Sandbox) -> None:
    v1, v4, valid = run(sb, "return uuid.v1('x'), uuid.v4(1, 2), (uuid.validate(uuid.v7(), 'extra'))")
    assert (v1[14:15], v4[14:15], valid) == (b"1", b"4", True)


def test_same_seed_same_ids_different_seed_different_ids() -> None:
    body = "return uuid.v4(), uuid.v4(), uuid.v7(), crypto.random.string(8)"
    assert run(sandbox(seed=7), body) == run(sandbox(seed=7), body)
    assert run(sandbox(seed=7), body) != run(sandbox(seed=8), body)


# -- uuid -----------------------------------------------------------------------------------


def test_uuid_v3_and_v5_are_the_rfc_name_based_ids(sb: Sandbox) -> None:
    assert run(sb, f"return uuid.v3('{NS_DNS}', 'python.org'), uuid.v5('{NS_DNS}', 'python.org')") == (
        str(uuid.uuid3(uuid.NAMESPACE_DNS, "python.org")).encode(),
        str(uuid.uuid5(uuid.NAMESPACE_DNS, "python.org")).encode(),
        None,
    )


def test_uuid_v5_hashes_binary_names(sb: Sandbox) -> None:
    expected = hashlib.sha1(uuid.NAMESPACE_URL.bytes + b"\xff\x00").digest()[:16]
    (got, _) = run(sb, "return uuid.v5('6ba7b811-9dad-11d1-80b4-00c04fd430c8', ...)", b"\xff\x00")
    assert got == str(uuid.UUID(bytes=expected, version=5)).encode()


# Wording follows runtime/lua/modules/uuid/module.go.
@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("uuid.v5('nope', 'x')", b"invalid namespace UUID"),
        ("uuid.v3(1, 'x')", b"namespace and name must be strings"),
        (f"uuid.v5('{NS_DNS}', nil)", b"namespace and name must be strings"),
        ("uuid.version('x')", b"invalid UUID format"),
        ("uuid.variant({})", b"input must be a string"),
        ("uuid.parse('')", b"invalid UUID format"),
        (f"uuid.format('{NS_DNS}', 'braces')", b"unsupported format"),
        ("uuid.format('x', 'braces')", b"invalid UUID format"),
        ("uuid.format(nil)", b"input must be a string"),
    ],
)
def test_uuid_errors_are_invalid(sb: Sandbox, call: str, message: bytes) -> None:
    assert err_of(sb, call) == (b"Invalid", message)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        (NS_DNS, True),
        (NS_DNS.upper(), True),
        ("urn:uuid:" + NS_DNS, True),
        ("URN:UUID:" + NS_DNS, True),
        ("{" + NS_DNS + "}", True),
        (NS_DNS.replace("-", ""), True),
        (NS_DNS[:-1], False),
        (NS_DNS[:8] + NS_DNS[9:13] + "-" + NS_DNS[13:], False),  # misplaced hyphen
        (NS_DNS.replace("b", "g"), False),
        ("{" + NS_DNS, False),
    ],
)
def test_uuid_validate(sb: Sandbox, value: str, valid: bool) -> None:
    assert run(sb, "return uuid.validate(...)", value.encode()) == (valid, None)


def test_uuid_validate_of_a_non_string_is_false(sb: Sandbox) -> None:
    assert run(sb, "return uuid.validate(42), uuid.validate(nil), uuid.validate({})") == (
        False,
        False,
        False,
        None,
    )


@pytest.mark.parametrize(
    ("value", "version", "variant"),
    [
        ("6ba7b810-9dad-11d1-80b4-00c04fd430c8", 1, b"RFC4122"),
        ("886313e1-3b8a-5372-9b90-0c9aee199e5d", 5, b"RFC4122"),
        ("00000000-0000-0000-0000-000000000000", 0, b"Reserved"),
        ("00000000-0000-4000-c000-000000000000", 4, b"Microsoft"),
        ("00000000-0000-4000-e000-000000000000", 4, b"Future"),
    ],
)
def test_uuid_version_and_variant(sb: Sandbox, value: str, version: int, variant: bytes) -> None:
    assert run(sb, "local v = uuid.version(...) return v, uuid.variant(...)", value.encode()) == (
        version,
        variant,
        None,
    )


def test_uuid_parse_of_v1_gives_timestamp_and_node(sb: Sandbox) -> None:
    # 6ba7b810-9dad-11d1-...: the RFC 4122 DNS namespace id, minted 1998-02-04.
    assert run(
        sb, f"local p, err = uuid.parse('{NS_DNS}') return p.version, p.variant, p.timestamp, p.node, err"
    ) == (1, b"RFC4122", 886630433, bytes.fromhex("00c04fd430c8"), None)


def test_uuid_numbers_are_floats(sb: Sandbox) -> None:
    # Wippy pushes version and timestamp as lua.LNumber.
    assert run(
        sb,
        f"local p = uuid.parse('{NS_DNS}') local v = uuid.version('{NS_DNS}')"
        " return math.type(v), math.type(p.timestamp)",
    ) == (b"float", b"float")


def test_uuid_format_treats_a_style_that_is_not_a_string_as_standard(sb: Sandbox) -> None:
    assert run(sb, f"return uuid.format('{NS_DNS.upper()}', 1)") == (NS_DNS.encode(), None)


def test_uuid_parse_of_generated_ids(sb: Sandbox) -> None:
    assert run(
        sb,
        """
        local p1, p7, p4 = uuid.parse(uuid.v1()), uuid.parse(uuid.v7()), uuid.parse(uuid.v4())
        return p1.timestamp, p7.timestamp, p7.node, p4.version, p4.timestamp
        """,
    ) == (NOW_NS // 10**9, NOW_NS // 10**9, None, 4, None)


def test_uuid_v7_sorts_by_time() -> None:
    ids = [run(sandbox(seed=s, now_ns=NOW_NS + s * 10**6), "return uuid.v7()")[0] for s in range(5)]
    assert ids == sorted(ids)


def test_uuid_format(sb: Sandbox) -> None:
    upper = NS_DNS.upper()
    assert run(
        sb,
        f"""
        local a = uuid.format('{upper}')
        local b = uuid.format('{upper}', 'simple')
        return a, b, uuid.format('{{{NS_DNS}}}', 'urn')
        """,
    ) == (NS_DNS.encode(), NS_DNS.replace("-", "").encode(), f"urn:uuid:{NS_DNS}".encode(), None)


# -- crypto.random --------------------------------------------------------------------------


def test_random_bytes_and_string(sb: Sandbox) -> None:
    data, text, custom = run(
        sb, "return crypto.random.bytes(32), crypto.random.string(40), (crypto.random.string(30, 'xy'))"
    )
    assert isinstance(data, bytes) and len(data) == 32
    assert len(text) == 40 and set(text.decode()) <= set(DEFAULT_CHARSET)
    assert len(custom) == 30 and set(custom) == set(b"xy")


def test_random_string_draws_whole_characters(sb: Sandbox) -> None:
    (text,) = run(sb, "return (crypto.random.string(6, 'éü'))")
    assert len(text.decode("utf-8")) == 6


def test_random_accepts_integral_floats(sb: Sandbox) -> None:
    assert len(run(sb, "return (crypto.random.bytes(4.0))")[0]) == 4


# Wording and order of checks follow runtime/lua/modules/crypto/module.go.


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("crypto.random.bytes(0)", b"length must be a positive integer"),
        ("crypto.random.bytes(1048577)", b"length exceeds maximum allowed size (1MB)"),
        ("crypto.random.string(-1)", b"length must be a positive integer"),
        ("crypto.random.string(3, '')", b"charset cannot be empty"),
        ("crypto.random.string(3, '\\255')", b"charset is not valid UTF-8 (wftest needs UTF-8)"),
    ],
)
def test_random_errors_are_invalid(sb: Sandbox, call: str, message: bytes) -> None:
    assert err_of(sb, call) == (b"Invalid", message)


def test_optional_arguments_of_another_type_are_ignored(sb: Sandbox) -> None:
    # Go reads the charset and the aad only when they are strings.
    text, sealed = run(
        sb, "return crypto.random.string(8, 7), (crypto.encrypt.aes('d', string.rep('k', 16), {}))"
    )
    assert len(text) == 8 and set(text.decode()) <= set(DEFAULT_CHARSET)
    assert AESGCM(b"k" * 16).decrypt(sealed[:12], sealed[12:], None) == b"d"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("crypto.random.bytes('8')", "bad argument #1 to 'bytes' (number expected, got string)"),
        ("crypto.random.bytes(1.5)", "bad argument #1 to 'bytes' (number has no integer representation)"),
        ("crypto.encrypt.chacha20(nil, 'k')", "bad argument #1 to 'chacha20' (string expected, got nil)"),
    ],
)
def test_random_and_encrypt_argument_types_raise_at_the_caller(sb: Sandbox, call: str, message: str) -> None:
    assert raised(sb, call) == f"user.lua:2: {message}"


# -- encryption ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("cipher", "size"), [("aes", 16), ("aes", 24), ("aes", 32), ("chacha20", 32)])
def test_encrypt_decrypt_round_trip(sb: Sandbox, cipher: str, size: int) -> None:
    key = bytes(range(size))
    plain = bytes(range(256)) * 3
    sealed, plain_back, err = run(
        sb,
        f"""
        local key, data = ...
        local sealed = crypto.encrypt.{cipher}(data, key, "aad")
        return sealed, crypto.decrypt.{cipher}(sealed, key, "aad")
        """,
        key,
        plain,
    )
    assert (plain_back, err) == (plain, None)
    assert len(sealed) == 12 + len(plain) + 16
    impl = AESGCM(key) if cipher == "aes" else ChaCha20Poly1305(key)
    assert impl.decrypt(sealed[:12], sealed[12:], b"aad") == plain


def test_two_encryptions_use_different_nonces(sb: Sandbox) -> None:
    a, b = run(
        sb, "local k = string.rep('k', 16) return crypto.encrypt.aes('x', k), (crypto.encrypt.aes('x', k))"
    )
    assert a[:12] != b[:12]


AES_SIZE = b"key must be 16, 24, or 32 bytes"


@pytest.mark.parametrize(
    ("call", "kind", "message"),
    [
        ("crypto.encrypt.aes('d', 'short')", b"Invalid", AES_SIZE),
        ("crypto.encrypt.aes('d', '')", b"Invalid", AES_SIZE),
        ("crypto.encrypt.chacha20('d', k16)", b"Invalid", b"key must be 32 bytes"),
        ("crypto.decrypt.aes(string.rep('x', 40), 'short')", b"Invalid", AES_SIZE),
        ("crypto.decrypt.chacha20('x', k16)", b"Invalid", b"key must be 32 bytes"),
        ("crypto.decrypt.aes('tiny', k16)", b"Invalid", b"encrypted data too short"),
        (
            "crypto.decrypt.aes(string.rep('x', 20), k16)",
            b"Internal",
            b"decrypt: cipher: message authentication failed",
        ),
        (
            "crypto.decrypt.chacha20(crypto.encrypt.chacha20('d', k32), string.rep('j', 32))",
            b"Internal",
            b"decrypt: chacha20poly1305: message authentication failed",
        ),
        (
            "crypto.decrypt.aes(crypto.encrypt.aes('d', k16, 'a'), k16, 'b')",
            b"Internal",
            b"decrypt: cipher: message authentication failed",
        ),
    ],
)
def test_encryption_errors(sb: Sandbox, call: str, kind: bytes, message: bytes) -> None:
    assert err_of(sb, call) == (kind, message)


# -- hmac, pbkdf2, constant_time_compare -----------------------------------------------------------


def test_hmac_gives_lowercase_hex(sb: Sandbox) -> None:
    # RFC 4231 test case 2.
    key, data = b"Jefe", b"what do ya want for nothing?"
    assert run(
        sb, "local k, d = ... return crypto.hmac.sha256(k, d), (crypto.hmac.sha512(k, d))", key, data
    ) == (
        b"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        hmac.new(key, data, "sha512").hexdigest().encode(),
    )


def test_hmac_errors(sb: Sandbox) -> None:
    assert err_of(sb, "crypto.hmac.sha256('', 'data')") == (b"Invalid", b"key cannot be empty")
    assert raised(sb, "crypto.hmac.sha512('k', 1)") == (
        "user.lua:2: bad argument #2 to 'sha512' (string expected, got number)"
    )


def test_pbkdf2_derives_raw_bytes(sb: Sandbox) -> None:
    assert run(
        sb, "return crypto.pbkdf2('pw', 'salt', 1000, 32), (crypto.pbkdf2('pw', 'salt', 10, 20, 'sha512'))"
    ) == (
        hashlib.pbkdf2_hmac("sha256", b"pw", b"salt", 1000, 32),
        hashlib.pbkdf2_hmac("sha512", b"pw", b"salt", 10, 20),
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("crypto.pbkdf2('', 's', 1, 32)", b"password cannot be empty"),
        ("crypto.pbkdf2('', '', 0, 0)", b"password cannot be empty"),
        ("crypto.pbkdf2('p', '', 1, 32)", b"salt cannot be empty"),
        ("crypto.pbkdf2('p', 's', 0, 32)", b"iterations must be positive"),
        ("crypto.pbkdf2('p', 's', -5, 0)", b"iterations must be positive"),
        ("crypto.pbkdf2('p', 's', 10000001, 32)", b"iterations exceeds maximum (10000000)"),
        ("crypto.pbkdf2('p', 's', 1, 0)", b"key length must be positive"),
        ("crypto.pbkdf2('p', 's', 1, 8, 'md5')", b"unsupported hash function: md5"),
        ("crypto.pbkdf2('p', 's', 1, 1048577)", b"key length exceeds wftest's maximum (1048576)"),
    ],
)
def test_pbkdf2_errors(sb: Sandbox, call: str, message: bytes) -> None:
    assert err_of(sb, call) == (b"Invalid", message)


def test_pbkdf2_ignores_a_hash_name_that_is_not_a_string(sb: Sandbox) -> None:
    assert run(sb, "return crypto.pbkdf2('pw', 'salt', 10, 16, 5)") == (
        hashlib.pbkdf2_hmac("sha256", b"pw", b"salt", 10, 16),
        None,
    )


def test_pbkdf2_argument_types_raise(sb: Sandbox) -> None:
    assert raised(sb, "crypto.pbkdf2('p', 's', '10', 8)") == (
        "user.lua:2: bad argument #3 to 'pbkdf2' (number expected, got string)"
    )


def test_constant_time_compare(sb: Sandbox) -> None:
    assert run(
        sb, "return crypto.constant_time_compare('abc', 'abc'), crypto.constant_time_compare('abc', 'abd')"
    ) == (
        True,
        False,
    )
    assert raised(sb, "crypto.constant_time_compare('a')") == (
        "user.lua:2: bad argument #2 to 'constant_time_compare' (string expected, got nil)"
    )


# -- jwt -------------------------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def expected_token(header: dict[str, Any], claims: dict[str, Any], secret: bytes, digest: str) -> bytes:
    parts = [b64url(json.dumps(p, sort_keys=True, separators=(",", ":")).encode()) for p in (header, claims)]
    signing_input = ".".join(parts).encode()
    return signing_input + b"." + b64url(hmac.new(secret, signing_input, digest).digest()).encode()


def test_jwt_encode_is_a_pure_function_of_the_payload(sb: Sandbox) -> None:
    token, err = run(sb, "return crypto.jwt.encode({sub = 'u1', exp = 1900000000, roles = {'a'}}, 'secret')")
    claims = {"exp": 1900000000, "roles": ["a"], "sub": "u1"}
    assert (token, err) == (expected_token({"alg": "HS256", "typ": "JWT"}, claims, b"secret", "sha256"), None)


def test_jwt_encode_with_hs512_and_custom_header(sb: Sandbox) -> None:
    (token, _) = run(sb, "return crypto.jwt.encode({n = 1, _header = {kid = 'k1'}}, 's', 'HS512')")
    assert token == expected_token({"alg": "HS512", "kid": "k1", "typ": "JWT"}, {"n": 1}, b"s", "sha512")


def test_jwt_round_trip(sb: Sandbox) -> None:
    assert run(
        sb,
        """
        local token = crypto.jwt.encode({sub = "u1", exp = 1900000000, n = 2.5}, "secret", "HS384")
        local claims, err = crypto.jwt.verify(token, "secret", "HS384")
        return claims.sub, claims.exp, claims.n, err
        """,
    ) == (b"u1", 1900000000, 2.5, None)


def test_jwt_verify_without_exp_when_not_required(sb: Sandbox) -> None:
    assert run(
        sb, "local c, e = crypto.jwt.verify(crypto.jwt.encode({a = 1}, 'k'), 'k', nil, false) return c.a, e"
    ) == (1, None)


EXP_NOW = NOW_NS // 10**9


def token(claims: str, alg: str = "HS256") -> str:
    return f"crypto.jwt.encode({{{claims}}}, 'k', '{alg}')"


# Messages follow runtime/lua/modules/crypto/module.go: every verification failure is Internal
# "verify token: ..." with golang-jwt v5's wording.
MALFORMED = b"token is malformed: "
CLAIMS = b"token has invalid claims: "


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (f"{token('exp = 1900000000')}, 'other'", b"token signature is invalid: signature is invalid"),
        (
            f"{token('exp = 1900000000', 'HS512')}, 'k'",
            b"token signature is invalid: signing method HS512 is invalid",
        ),
        (f"{token(f'exp = {EXP_NOW}')}, 'k'", CLAIMS + b"token is expired"),
        (f"{token(f'exp = {EXP_NOW - 60}')}, 'k'", CLAIMS + b"token is expired"),
        (f"{token('a = 1')}, 'k'", CLAIMS + b"token is missing required claim: exp claim is required"),
        (f"{token(f'nbf = {EXP_NOW + 60}')}, 'k', nil, false", CLAIMS + b"token is not valid yet"),
        (
            f"{token(f'exp = {EXP_NOW - 1}, nbf = {EXP_NOW + 60}')}, 'k'",
            CLAIMS + b"token is expired\ntoken is not valid yet",
        ),
        (f"{token('exp = true')}, 'k'", CLAIMS + b"invalid type for claim: exp is invalid"),
        ("'a.b', 'k'", MALFORMED + b"token contains an invalid number of segments"),
        ("'!!.e30.x', 'k'", MALFORMED + b"could not base64 decode header"),
        ("'e30.!!.x', 'k'", MALFORMED + b"could not base64 decode claim"),
        ("'bnVsbA.e30.xx', 'k'", MALFORMED + b"could not JSON decode claim"),
        ("'e30.e30.x', 'k'", b"token is unverifiable: signing method (alg) is unspecified"),
        (f"{token('exp = 1900000000')}, ''", b"token signature is invalid: key is invalid"),
        (
            "'eyJhbGciOiJSUzI1NiJ9.e30.eA', 'k', 'RS256'",
            b"token is unverifiable: error while executing keyfunc: "
            b"failed to parse PEM block containing public key",
        ),
    ],
)
def test_jwt_verify_errors(sb: Sandbox, call: str, message: bytes) -> None:
    assert err_of(sb, f"crypto.jwt.verify({call})") == (b"Internal", b"verify token: " + message)


def test_jwt_claims_come_back_as_floats(sb: Sandbox) -> None:
    # Wippy decodes claims into a Go map: JSON numbers are float64.
    assert run(
        sb,
        "local c = crypto.jwt.verify(crypto.jwt.encode({n = 3}, 'k'), 'k', nil, false) return math.type(c.n)",
    ) == (b"float",)


def test_jwt_with_an_unknown_algorithm_signs_with_hs256(sb: Sandbox) -> None:
    (token_none, _), (token_hs256, _) = (
        run(sb, "return crypto.jwt.encode({a = 1}, 'k', 'none')"),
        run(sb, "return crypto.jwt.encode({a = 1}, 'k')"),
    )
    assert token_none == token_hs256


def test_jwt_rs256_round_trip(sb: Sandbox) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    other = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    sub, err, bad_kind, bad_message = run(
        sb,
        """
        local private, public, other = ...
        local token = crypto.jwt.encode({sub = "u1", exp = 1900000000}, private, "RS256")
        local claims, err = crypto.jwt.verify(token, public, "RS256")
        local _, bad = crypto.jwt.verify(token, other, "RS256")
        return claims.sub, err, bad:kind(), bad:message()
        """,
        private,
        public,
        other,
    )
    assert (sub, err, bad_kind) == (b"u1", None, b"Internal")
    assert bad_message == b"verify token: token signature is invalid: crypto/rsa: verification error"
    assert err_of(sb, "crypto.jwt.encode({a = 1}, 'not a key', 'RS256')") == (
        b"Invalid",
        b"invalid RSA private key: failed to parse PEM block containing private key",
    )


@pytest.mark.parametrize(
    ("call", "kind", "message"),
    [
        ("{a = 1}, ''", b"Internal", b"sign token: key is invalid"),
        ("{1, 2}, 'k'", b"Invalid", b"failed to convert payload to map"),
    ],
)
def test_jwt_encode_errors(sb: Sandbox, call: str, kind: bytes, message: bytes) -> None:
    assert err_of(sb, f"crypto.jwt.encode({call})") == (kind, message)


def test_jwt_encode_keeps_a_header_that_is_not_a_table_as_a_claim(sb: Sandbox) -> None:
    assert run(
        sb,
        "local t = crypto.jwt.encode({_header = 'x'}, 'k')"
        " return crypto.jwt.verify(t, 'k', nil, false)._header",
    ) == (b"x",)


def test_jwt_encode_of_an_unexportable_payload_is_internal(sb: Sandbox) -> None:
    assert run(
        sb,
        "local t = {} t.t = t local v, err = crypto.jwt.encode(t, 'k') return v, err:kind(), err:message()",
    ) == (
        None,
        b"Internal",
        b"sign token: payload cannot be encoded: tables nested deeper than 200 levels (a cycle?)",
    )


def test_jwt_encode_reads_the_payload_as_wippy_does(sb: Sandbox) -> None:
    # ToGoAny: a table with an array part is a list, so it is not a payload; its other keys are dropped.
    assert err_of(sb, "crypto.jwt.encode({1, x = 2}, 'k')") == (
        b"Invalid",
        b"failed to convert payload to map",
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("crypto.jwt.encode('x', 'k')", "bad argument #1 to 'encode' (table expected, got string)"),
        (
            "crypto.jwt.verify('t', 'k', nil, 'yes')",
            "bad argument #4 to 'verify' (boolean expected, got string)",
        ),
        ("crypto.jwt.verify(1, 'k')", "bad argument #1 to 'verify' (string expected, got number)"),
    ],
)
def test_jwt_argument_types_raise(sb: Sandbox, call: str, message: str) -> None:
    assert raised(sb, call) == f"user.lua:2: {message}"
