"""Wippy's `uuid` (spec §1.8) and `crypto` (§1.9) modules.

Random ids, random bytes/strings and encryption (whose nonce is random) are side effects (§2.4): their
Lua functions first validate the arguments in Python (a bad call raises or returns `nil, err` without
recording anything), then go through `sb.api.side_effect`, which in a workflow becomes a SideEffect
command and elsewhere asks `effects.produce` for the value. Everything else is a plain deterministic
function. The clock-based ids (v1, v7) and `jwt.verify` read the sandbox's virtual clock.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from wftest.lua.modules.data import (
    INTERNAL,
    INVALID,
    bad_argument,
    check_integer,
    check_string,
    check_table,
    fail,
    lua_arguments,
    lua_type,
    module,
    optional_string,
    parse_json,
)
from wftest.lua.modules.effects import GREGORIAN_OFFSET, NONCE_SIZE
from wftest.lua.sandbox import LuaRaise
from wftest.lua.values import EncodeError, encode_json_python

if TYPE_CHECKING:
    from wftest.lua.sandbox import Sandbox

MAX_RANDOM = 1024 * 1024
MAX_ITERATIONS = 10_000_000
MAX_KEY_LENGTH = 1024 * 1024
TAG_SIZE = 16

Check = Callable[..., tuple[Any, ...]]


def _side_effects(sb: Sandbox) -> Callable[[str, Check], Any]:
    """A maker of Lua functions that validate with `check` and then issue side effect `name`."""
    make = sb.run_library("side_effects.lua", sb.api.side_effect)

    def side_effect(name: str, check: Check) -> Any:
        checked = lua_arguments(check)

        def verdict(*args: Any) -> tuple[Any, ...]:
            try:
                return checked(*args)  # type: ignore[no-any-return]
            except LuaRaise as exc:
                return "raise", str(exc)

        return make(name.encode(), sb.host_function(verdict))

    return side_effect


# ---------------------------------------------------------------------------------------------------
# uuid


_HEX32 = re.compile(rb"[0-9a-fA-F]{32}")
FORMATS = ("standard", "simple", "urn")


def parse_uuid(s: bytes) -> uuid.UUID | None:
    """The forms Go's uuid.Parse accepts: standard (36 chars), `urn:uuid:` prefixed, `{braced}`, 32 hex."""
    if len(s) == 45 and s[:9].lower() == b"urn:uuid:":
        s = s[9:]
    elif len(s) == 38 and s[:1] == b"{" and s[-1:] == b"}":
        s = s[1:-1]
    if len(s) == 36:
        if any(s[i : i + 1] != b"-" for i in (8, 13, 18, 23)):
            return None
        s = s.replace(b"-", b"")
    if _HEX32.fullmatch(s) is None:
        return None
    return uuid.UUID(hex=s.decode("ascii"))


def variant_name(u: uuid.UUID) -> str:
    """Variant names as Go's uuid package gives them (the NCS range is "Reserved")."""
    octet = u.bytes[8]
    if octet & 0xC0 == 0x80:
        return "RFC4122"
    if octet & 0xE0 == 0xC0:
        return "Microsoft"
    if octet & 0xE0 == 0xE0:
        return "Future"
    return "Reserved"


def describe_uuid(u: uuid.UUID) -> dict[str, Any]:
    """`uuid.parse` fields: version, variant; Unix seconds for v1/v7; the node (12 hex digits) for v1."""
    version = (u.int >> 76) & 0xF
    info: dict[str, Any] = {"version": version, "variant": variant_name(u)}
    if version == 1:
        ticks = (u.time_hi_version & 0x0FFF) << 48 | u.time_mid << 32 | u.time_low
        info["timestamp"] = (ticks - GREGORIAN_OFFSET) // 10_000_000
        info["node"] = f"{u.node:012x}"
    elif version == 7:
        info["timestamp"] = (u.int >> 80) // 1000
    return info


def _quoted(s: bytes) -> str:
    return repr(s.decode("utf-8", "replace"))


def open_uuid(sb: Sandbox) -> Any:
    side_effect = _side_effects(sb)

    def now() -> tuple[Any, ...]:
        return "ok", sb.options.clock_ns()

    def parsed(fname: str, s: Any) -> uuid.UUID | tuple[None, Any]:
        if not isinstance(s, bytes):
            return fail(sb, INVALID, f"uuid.{fname}: expected a UUID string, got {lua_type(s)}")
        u = parse_uuid(s)
        if u is None:
            return fail(sb, INVALID, f"uuid.{fname}: invalid UUID format {_quoted(s)}")
        return u

    def name_based(version: int, digest: Callable[[bytes], Any]) -> Callable[..., tuple[Any, Any]]:
        def run(namespace: Any = None, name: Any = None) -> tuple[Any, Any]:
            ns = parsed(f"v{version}", namespace)
            if isinstance(ns, tuple):
                return ns
            if not isinstance(name, bytes):
                return fail(sb, INVALID, f"uuid.v{version}: name must be a string, got {lua_type(name)}")
            raw = digest(ns.bytes + name).digest()[:16]
            return str(uuid.UUID(bytes=raw, version=version)), None

        return run

    def validate(s: Any = None) -> bool:
        return isinstance(s, bytes) and parse_uuid(s) is not None

    def version(s: Any = None) -> tuple[Any, Any]:
        u = parsed("version", s)
        return u if isinstance(u, tuple) else (describe_uuid(u)["version"], None)

    def variant(s: Any = None) -> tuple[Any, Any]:
        u = parsed("variant", s)
        return u if isinstance(u, tuple) else (variant_name(u), None)

    def parse(s: Any = None) -> tuple[Any, Any]:
        u = parsed("parse", s)
        return u if isinstance(u, tuple) else (sb.table(describe_uuid(u)), None)

    def format_uuid(s: Any = None, style: Any = None) -> tuple[Any, Any]:
        u = parsed("format", s)
        if isinstance(u, tuple):
            return u
        if style is not None and not isinstance(style, bytes):
            return fail(sb, INVALID, f"uuid.format: format must be a string, got {lua_type(style)}")
        name = "standard" if style is None else style.decode("utf-8", "replace")
        if name not in FORMATS:
            return fail(sb, INVALID, f"uuid.format: unsupported format {name!r} (use {', '.join(FORMATS)})")
        return {"standard": str(u), "simple": u.hex, "urn": u.urn}[name], None

    return module(
        sb,
        {
            "v1": side_effect("uuid.v1", now),
            "v4": side_effect("uuid.v4", lambda *_: ("ok",)),
            "v7": side_effect("uuid.v7", now),
            "v3": name_based(3, hashlib.md5),
            "v5": name_based(5, hashlib.sha1),
            "validate": validate,
            "version": version,
            "variant": variant,
            "parse": parse,
            "format": format_uuid,
        },
    )


# ---------------------------------------------------------------------------------------------------
# crypto


class _Cipher:
    """An AEAD cipher as the crypto module offers it: its key sizes and its Python implementation."""

    def __init__(self, label: str, key_sizes: tuple[int, ...], impl: Callable[[bytes], Any]) -> None:
        self.label = label
        self.key_sizes = key_sizes
        self.impl = impl

    def key_problem(self, key: bytes) -> str | None:
        if not key:
            return "key must not be empty"
        if len(key) not in self.key_sizes:
            sizes = ", ".join(map(str, self.key_sizes[:-1])) + " or " if len(self.key_sizes) > 1 else ""
            return f"invalid key size {len(key)}: {self.label} needs a {sizes}{self.key_sizes[-1]} byte key"
        return None


CIPHERS = {
    "aes": _Cipher("AES-GCM", (16, 24, 32), AESGCM),
    "chacha20": _Cipher("ChaCha20-Poly1305", (32,), ChaCha20Poly1305),
}
JWT_ALGORITHMS: dict[str, Callable[..., Any]] = {
    "HS256": hashlib.sha256,
    "HS384": hashlib.sha384,
    "HS512": hashlib.sha512,
}
PBKDF2_HASHES = ("sha256", "sha512")


def _b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _unb64url(data: bytes) -> bytes:
    return base64.b64decode(data + b"=" * (-len(data) % 4), altchars=b"-_", validate=True)


def _length_problem(fname: str, n: int) -> str | None:
    if 1 <= n <= MAX_RANDOM:
        return None
    return f"crypto.random.{fname}: length must be between 1 and {MAX_RANDOM}, got {n}"


def open_crypto(sb: Sandbox) -> Any:
    side_effect = _side_effects(sb)

    def random_bytes(n: Any = None) -> tuple[Any, ...]:
        count = check_integer(n, 1, "bytes")
        problem = _length_problem("bytes", count)
        return ("fail", sb.error(INVALID, problem, False)) if problem else ("ok", count)

    def random_string(n: Any = None, charset: Any = None) -> tuple[Any, ...]:
        count = check_integer(n, 1, "string")
        chars = optional_string(charset, 2, "string")
        problem = _length_problem("string", count)
        if problem:
            return "fail", sb.error(INVALID, problem, False)
        if chars is None:
            return "ok", count
        try:
            chars.decode("utf-8")
        except UnicodeDecodeError:
            return "fail", sb.error(INVALID, "crypto.random.string: charset is not valid UTF-8", False)
        if not chars:
            return "fail", sb.error(INVALID, "crypto.random.string: charset must not be empty", False)
        return "ok", count, chars

    def encrypt(name: str) -> Check:
        cipher = CIPHERS[name]

        def check(data: Any = None, key: Any = None, aad: Any = None) -> tuple[Any, ...]:
            plain = check_string(data, 1, name)
            secret = check_string(key, 2, name)
            extra = optional_string(aad, 3, name)
            problem = cipher.key_problem(secret)
            if problem:
                return "fail", sb.error(INVALID, f"crypto.encrypt.{name}: {problem}", False)
            return ("ok", plain, secret) if extra is None else ("ok", plain, secret, extra)

        return check

    def decrypt(name: str) -> Callable[..., tuple[Any, Any]]:
        cipher = CIPHERS[name]

        def run(data: Any = None, key: Any = None, aad: Any = None) -> tuple[Any, Any]:
            sealed = check_string(data, 1, name)
            secret = check_string(key, 2, name)
            extra = optional_string(aad, 3, name)
            problem = cipher.key_problem(secret)
            if problem:
                return fail(sb, INVALID, f"crypto.decrypt.{name}: {problem}")
            if len(sealed) < NONCE_SIZE + TAG_SIZE:
                return fail(
                    sb, INTERNAL, f"crypto.decrypt.{name}: decryption failed: ciphertext is too short"
                )
            try:
                return cipher.impl(secret).decrypt(sealed[:NONCE_SIZE], sealed[NONCE_SIZE:], extra), None
            except InvalidTag:
                return fail(
                    sb,
                    INTERNAL,
                    f"crypto.decrypt.{name}: decryption failed: message authentication failed"
                    " (wrong key, wrong aad or corrupted data)",
                )

        return run

    def mac(name: str) -> Callable[..., tuple[Any, Any]]:
        def run(key: Any = None, data: Any = None) -> tuple[Any, Any]:
            secret = check_string(key, 1, name)
            message = check_string(data, 2, name)
            if not secret:
                return fail(sb, INVALID, f"crypto.hmac.{name}: key must not be empty")
            return hmac.new(secret, message, name).hexdigest(), None

        return run

    def pbkdf2(
        password: Any = None, salt: Any = None, iterations: Any = None, keylen: Any = None, algo: Any = None
    ) -> tuple[Any, Any]:
        secret = check_string(password, 1, "pbkdf2")
        salt_bytes = check_string(salt, 2, "pbkdf2")
        rounds = check_integer(iterations, 3, "pbkdf2")
        length = check_integer(keylen, 4, "pbkdf2")
        digest = (optional_string(algo, 5, "pbkdf2") or b"sha256").decode("utf-8", "replace")
        if not 1 <= rounds <= MAX_ITERATIONS:
            return fail(
                sb, INVALID, f"crypto.pbkdf2: iterations must be between 1 and {MAX_ITERATIONS}, got {rounds}"
            )
        if not 1 <= length <= MAX_KEY_LENGTH:
            return fail(
                sb, INVALID, f"crypto.pbkdf2: key length must be between 1 and {MAX_KEY_LENGTH}, got {length}"
            )
        if digest not in PBKDF2_HASHES:
            return fail(sb, INVALID, f"crypto.pbkdf2: unsupported hash {digest!r} (use sha256 or sha512)")
        return hashlib.pbkdf2_hmac(digest, secret, salt_bytes, rounds, length), None

    def constant_time_compare(a: Any = None, b: Any = None) -> bool:
        return hmac.compare_digest(
            check_string(a, 1, "constant_time_compare"), check_string(b, 2, "constant_time_compare")
        )

    return module(
        sb,
        {
            "random": module(
                sb,
                {
                    "bytes": side_effect("crypto.random.bytes", random_bytes),
                    "string": side_effect("crypto.random.string", random_string),
                    "uuid": side_effect("crypto.random.uuid", lambda *_: ("ok",)),
                },
            ),
            "encrypt": module(sb, {n: side_effect(f"crypto.encrypt.{n}", encrypt(n)) for n in CIPHERS}),
            "decrypt": module(sb, {n: decrypt(n) for n in CIPHERS}),
            "hmac": module(sb, {"sha256": mac("sha256"), "sha512": mac("sha512")}),
            "pbkdf2": pbkdf2,
            "constant_time_compare": constant_time_compare,
            "jwt": _jwt(sb),
        },
    )


def _jwt_algorithm(sb: Sandbox, fname: str, alg: Any, n: int) -> str | tuple[None, Any]:
    name = (optional_string(alg, n, fname) or b"HS256").decode("utf-8", "replace")
    if name not in JWT_ALGORITHMS:
        return fail(
            sb,
            INVALID,
            f"crypto.jwt.{fname}: unsupported algorithm {name!r} (use {', '.join(JWT_ALGORITHMS)})",
        )
    return name


def _jwt(sb: Sandbox) -> Any:
    """HMAC JWTs (HS256/384/512). Header and claims are canonical JSON (sorted keys), so a token is a pure
    function of its payload; `_header` in the payload adds header fields."""

    def sign(alg: str, secret: bytes, signing_input: bytes) -> bytes:
        return hmac.new(secret, signing_input, JWT_ALGORITHMS[alg]).digest()

    def encode(payload: Any = None, secret: Any = None, alg: Any = None) -> tuple[Any, Any]:
        check_table(payload, 1, "encode")
        key = check_string(secret, 2, "encode")
        name = _jwt_algorithm(sb, "encode", alg, 3)
        if isinstance(name, tuple):
            return name
        if not key:
            return fail(sb, INVALID, "crypto.jwt.encode: secret must not be empty")
        try:
            claims = sb.values.to_python(payload)
        except EncodeError as exc:
            return fail(sb, INTERNAL, f"crypto.jwt.encode: payload cannot be encoded: {exc}")
        claims = {} if claims == [] else claims
        if not isinstance(claims, dict):
            return fail(sb, INVALID, "crypto.jwt.encode: payload must be a table of claims (string keys)")
        extra = claims.pop("_header", {})
        extra = {} if extra == [] else extra
        if not isinstance(extra, dict):
            return fail(sb, INVALID, "crypto.jwt.encode: _header must be a table of header fields")
        header = {"typ": "JWT", **extra, "alg": name}
        signing_input = b".".join(_b64url(encode_json_python(part).encode()) for part in (header, claims))
        return (signing_input + b"." + _b64url(sign(name, key, signing_input))), None

    def verify(
        token: Any = None, secret: Any = None, alg: Any = None, require_exp: Any = None
    ) -> tuple[Any, Any]:
        raw = check_string(token, 1, "verify")
        key = check_string(secret, 2, "verify")
        name = _jwt_algorithm(sb, "verify", alg, 3)
        if require_exp is not None and not isinstance(require_exp, bool):
            raise bad_argument(4, "verify", "boolean", require_exp)
        if isinstance(name, tuple):
            return name
        if not key:
            return fail(sb, INVALID, "crypto.jwt.verify: secret must not be empty")
        parts = raw.split(b".")
        if len(parts) != 3:
            return fail(sb, INVALID, "crypto.jwt.verify: malformed token (expected header.payload.signature)")
        try:
            header = parse_json(_unb64url(parts[0]), ValueError)
            claims = parse_json(_unb64url(parts[1]), ValueError)
            signature = _unb64url(parts[2])
        except (binascii.Error, ValueError) as exc:
            return fail(sb, INVALID, f"crypto.jwt.verify: malformed token: {exc}")
        if not isinstance(header, dict) or not isinstance(claims, dict):
            return fail(
                sb, INVALID, "crypto.jwt.verify: malformed token: header and claims must be JSON objects"
            )
        if header.get("alg") != name:
            return fail(
                sb,
                INTERNAL,
                f"crypto.jwt.verify: token is signed with {header.get('alg')!r}, expected {name}",
            )
        if not hmac.compare_digest(signature, sign(name, key, parts[0] + b"." + parts[1])):
            return fail(sb, INTERNAL, "crypto.jwt.verify: signature is invalid")
        problem = _time_problem(claims, sb.options.clock_ns() / 1e9, require_exp is not False)
        if problem:
            return fail(sb, INTERNAL, f"crypto.jwt.verify: {problem}")
        return sb.table(claims), None

    return module(sb, {"encode": encode, "verify": verify})


def _time_problem(claims: dict[str, Any], now: float, require_exp: bool) -> str | None:
    """Why the claims are not valid at `now` (Unix seconds): exp (valid while now < exp) and nbf."""
    exp, nbf = claims.get("exp"), claims.get("nbf")
    for claim, value in (("exp", exp), ("nbf", nbf)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            return f"{claim} claim must be a number"
    if exp is None:
        if require_exp:
            return "token is missing required claim: exp"
    elif now >= exp:
        return "token has expired"
    if nbf is not None and now < nbf:
        return "token is not valid yet"
    return None
