"""Wippy's `uuid` and `crypto` modules.

Random ids, random bytes/strings and encryption (whose nonce is random) are side effects: their
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

from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from wftest.encoding.jsontext import EncodeError, encode_json_python
from wftest.lua.host_functions import LuaRaise
from wftest.lua.modules.base import (
    INTERNAL,
    INVALID,
    bad_argument,
    check_integer,
    check_string,
    check_table,
    fail,
    go_value,
    lua_arguments,
    module,
    optional_string,
)
from wftest.lua.modules.effects import GREGORIAN_OFFSET, NONCE_SIZE
from wftest.lua.modules.json_codec import parse_json

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
    """`uuid.parse` fields as Wippy gives them (runtime/lua/modules/uuid/module.go): version and Unix
    seconds as floats, the variant name, and for v1 the node as its 6 raw bytes (Go's NodeID())."""
    version = (u.int >> 76) & 0xF
    info: dict[str, Any] = {"version": float(version), "variant": variant_name(u)}
    if version == 1:
        ticks = (u.time_hi_version & 0x0FFF) << 48 | u.time_mid << 32 | u.time_low
        info["timestamp"] = float((ticks - GREGORIAN_OFFSET) // 10_000_000)
        info["node"] = u.bytes[10:]
    elif version == 7:
        info["timestamp"] = float((u.int >> 80) // 1000)
    return info


def open_uuid(sb: Sandbox) -> Any:
    side_effect = _side_effects(sb)

    def now() -> tuple[Any, ...]:
        return "ok", sb.options.clock_ns()

    def parsed(s: Any) -> uuid.UUID | tuple[None, Any]:
        if not isinstance(s, bytes):
            return fail(sb, INVALID, "input must be a string")
        u = parse_uuid(s)
        if u is None:
            return fail(sb, INVALID, "invalid UUID format")
        return u

    def name_based(version: int, digest: Callable[[bytes], Any]) -> Callable[..., tuple[Any, Any]]:
        def run(namespace: Any = None, name: Any = None) -> tuple[Any, Any]:
            if not isinstance(namespace, bytes) or not isinstance(name, bytes):
                return fail(sb, INVALID, "namespace and name must be strings")
            ns = parse_uuid(namespace)
            if ns is None:
                return fail(sb, INVALID, "invalid namespace UUID")
            raw = digest(ns.bytes + name).digest()[:16]
            return str(uuid.UUID(bytes=raw, version=version)), None

        return run

    def validate(s: Any = None) -> tuple[bool, None]:
        return isinstance(s, bytes) and parse_uuid(s) is not None, None

    def version(s: Any = None) -> tuple[Any, Any]:
        u = parsed(s)
        return u if isinstance(u, tuple) else (describe_uuid(u)["version"], None)

    def variant(s: Any = None) -> tuple[Any, Any]:
        u = parsed(s)
        return u if isinstance(u, tuple) else (variant_name(u), None)

    def parse(s: Any = None) -> tuple[Any, Any]:
        u = parsed(s)
        return u if isinstance(u, tuple) else (sb.table(describe_uuid(u)), None)

    def format_uuid(s: Any = None, style: Any = None) -> tuple[Any, Any]:
        # A style that is not a string means "standard"; the id is checked before the style.
        u = parsed(s)
        if isinstance(u, tuple):
            return u
        name = style.decode("utf-8", "replace") if isinstance(style, bytes) else "standard"
        if name not in FORMATS:
            return fail(sb, INVALID, "unsupported format")
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
# crypto (runtime/lua/modules/crypto/module.go): argument checks, error kinds and wording as Wippy's.
# Strings and counts are checked like Go's CheckString/CheckInt (a wrong type raises at the caller);
# optional arguments of the wrong type (aad, charset, the pbkdf2 hash name) are ignored, as in Go.


class _Cipher:
    """An AEAD cipher as the crypto module offers it: its key sizes and its Python implementation."""

    def __init__(self, key_sizes: tuple[int, ...], problem: str, impl: Callable[[bytes], Any]) -> None:
        self.key_sizes = key_sizes
        self.problem = problem
        self.impl = impl


CIPHERS = {
    "aes": _Cipher((16, 24, 32), "key must be 16, 24, or 32 bytes", AESGCM),
    "chacha20": _Cipher((32,), "key must be 32 bytes", ChaCha20Poly1305),
}
JWT_ALGORITHMS: dict[str, Callable[..., Any]] = {
    "HS256": hashlib.sha256,
    "HS384": hashlib.sha384,
    "HS512": hashlib.sha512,
}
RS256 = "RS256"
PBKDF2_HASHES = ("sha256", "sha512")


def _b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _unb64url(data: bytes) -> bytes:
    if len(data) % 4 == 1:
        raise binascii.Error("invalid length")
    return base64.b64decode(data + b"=" * (-len(data) % 4), altchars=b"-_", validate=True)


def _length_problem(n: int) -> str | None:
    if n <= 0:
        return "length must be a positive integer"
    if n > MAX_RANDOM:
        return "length exceeds maximum allowed size (1MB)"
    return None


def _text(v: bytes) -> str:
    return v.decode("utf-8", "replace")


def open_crypto(sb: Sandbox) -> Any:
    side_effect = _side_effects(sb)

    def random_bytes(n: Any = None) -> tuple[Any, ...]:
        count = check_integer(n, 1, "bytes")
        problem = _length_problem(count)
        return ("fail", sb.error(INVALID, problem, False)) if problem else ("ok", count)

    def random_string(n: Any = None, charset: Any = None) -> tuple[Any, ...]:
        count = check_integer(n, 1, "string")
        problem = _length_problem(count)
        if problem:
            return "fail", sb.error(INVALID, problem, False)
        if not isinstance(charset, bytes):
            return "ok", count
        if not charset:
            return "fail", sb.error(INVALID, "charset cannot be empty", False)
        try:
            charset.decode("utf-8")
        except UnicodeDecodeError:
            # wftest draws whole UTF-8 characters, so it needs a charset it can split into them.
            return "fail", sb.error(INVALID, "charset is not valid UTF-8 (wftest needs UTF-8)", False)
        return "ok", count, charset

    def aad_of(aad: Any) -> bytes | None:
        return aad if isinstance(aad, bytes) else None

    def encrypt(name: str) -> Check:
        cipher = CIPHERS[name]

        def check(data: Any = None, key: Any = None, aad: Any = None) -> tuple[Any, ...]:
            plain = check_string(data, 1, name)
            secret = check_string(key, 2, name)
            extra = aad_of(aad)
            if len(secret) not in cipher.key_sizes:
                return "fail", sb.error(INVALID, cipher.problem, False)
            return ("ok", plain, secret) if extra is None else ("ok", plain, secret, extra)

        return check

    def decrypt(name: str) -> Callable[..., tuple[Any, Any]]:
        cipher = CIPHERS[name]
        failure = "cipher" if name == "aes" else "chacha20poly1305"

        def run(data: Any = None, key: Any = None, aad: Any = None) -> tuple[Any, Any]:
            sealed = check_string(data, 1, name)
            secret = check_string(key, 2, name)
            extra = aad_of(aad)
            if len(secret) not in cipher.key_sizes:
                return fail(sb, INVALID, cipher.problem)
            if len(sealed) < NONCE_SIZE:
                return fail(sb, INVALID, "encrypted data too short")
            try:
                if len(sealed) < NONCE_SIZE + TAG_SIZE:
                    raise InvalidTag
                return cipher.impl(secret).decrypt(sealed[:NONCE_SIZE], sealed[NONCE_SIZE:], extra), None
            except InvalidTag:
                return fail(sb, INTERNAL, f"decrypt: {failure}: message authentication failed")

        return run

    def mac(name: str) -> Callable[..., tuple[Any, Any]]:
        def run(key: Any = None, data: Any = None) -> tuple[Any, Any]:
            secret = check_string(key, 1, name)
            message = check_string(data, 2, name)
            if not secret:
                return fail(sb, INVALID, "key cannot be empty")
            return hmac.new(secret, message, name).hexdigest(), None

        return run

    def pbkdf2(
        password: Any = None, salt: Any = None, iterations: Any = None, keylen: Any = None, algo: Any = None
    ) -> tuple[Any, Any]:
        secret = check_string(password, 1, "pbkdf2")
        salt_bytes = check_string(salt, 2, "pbkdf2")
        rounds = check_integer(iterations, 3, "pbkdf2")
        length = check_integer(keylen, 4, "pbkdf2")
        if not secret:
            return fail(sb, INVALID, "password cannot be empty")
        if not salt_bytes:
            return fail(sb, INVALID, "salt cannot be empty")
        if rounds <= 0:
            return fail(sb, INVALID, "iterations must be positive")
        if rounds > MAX_ITERATIONS:
            return fail(sb, INVALID, f"iterations exceeds maximum ({MAX_ITERATIONS})")
        if length <= 0:
            return fail(sb, INVALID, "key length must be positive")
        digest = _text(algo) if isinstance(algo, bytes) else "sha256"
        if digest not in PBKDF2_HASHES:
            return fail(sb, INVALID, f"unsupported hash function: {digest}")
        if length > MAX_KEY_LENGTH:
            return fail(sb, INVALID, f"key length exceeds wftest's maximum ({MAX_KEY_LENGTH})")
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


# -- jwt: HS256/384/512 and RS256, messages worded as golang-jwt v5 words them ---------------------


class _JwtError(Exception):
    """A token problem: golang-jwt's category ("token is malformed", ...) and the detail."""


def _jwt_error(category: str, *details: str) -> _JwtError:
    return _JwtError(": ".join((category, *[d for d in details if d])))


_MALFORMED = "token is malformed"
_UNVERIFIABLE = "token is unverifiable"
_BAD_SIGNATURE = "token signature is invalid"
_BAD_CLAIMS = "token has invalid claims"


def _pem_der(pem: bytes, what: str) -> bytes:
    """The bytes of the first PEM block in `pem` (Go's pem.Decode)."""
    match = re.search(rb"-----BEGIN ([^-\r\n]*)-----\r?\n(.*?)-----END \1-----", pem, re.S)
    if match is None:
        raise ValueError(f"failed to parse PEM block containing {what}")
    body = b"".join(line for line in match.group(2).splitlines() if b":" not in line)
    try:
        return base64.b64decode(body, validate=False)
    except binascii.Error:
        raise ValueError(f"failed to parse PEM block containing {what}") from None


def _rsa_private_key(pem: bytes) -> rsa.RSAPrivateKey:
    der = _pem_der(pem, "private key")
    try:
        key = serialization.load_der_private_key(der, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ValueError(f"failed to parse private key: {exc}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("key is not an RSA private key")
    return key


def _rsa_public_key(pem: bytes) -> rsa.RSAPublicKey:
    der = _pem_der(pem, "public key")
    try:
        certificate_key = x509.load_der_x509_certificate(der).public_key()
    except ValueError:
        pass
    else:
        if not isinstance(certificate_key, rsa.RSAPublicKey):
            raise ValueError("certificate does not contain an RSA public key")
        return certificate_key
    try:
        key = serialization.load_der_public_key(der)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ValueError(f"failed to parse public key: {exc}") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("key is not an RSA public key")
    return key


def _jwt(sb: Sandbox) -> Any:
    """JWTs as Wippy makes them. Header and claims are canonical JSON (sorted keys), so a token is a pure
    function of its payload; `_header` (a table) in the payload adds header fields. An unknown algorithm
    name signs with HS256, as Wippy's does."""

    def encode(payload: Any = None, secret: Any = None, alg: Any = None) -> tuple[Any, Any]:
        check_table(payload, 1, "encode")
        key = check_string(secret, 2, "encode")
        name = _text(optional_string(alg, 3, "encode") or b"HS256")
        method = name if name in JWT_ALGORITHMS or name == RS256 else "HS256"
        try:
            claims = go_value(payload)
        except EncodeError as exc:
            return fail(sb, INTERNAL, f"sign token: payload cannot be encoded: {exc}")
        if not isinstance(claims, dict):
            return fail(sb, INVALID, "failed to convert payload to map")
        header: dict[str, Any] = {"alg": method, "typ": "JWT"}
        extra = claims.get("_header")
        if isinstance(extra, dict):
            header.update(extra)
            del claims["_header"]
        signing_input = b".".join(_b64url(encode_json_python(part).encode()) for part in (header, claims))
        if method == RS256:
            try:
                private = _rsa_private_key(key)
            except ValueError as exc:
                return fail(sb, INVALID, f"invalid RSA private key: {exc}")
            signature = private.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        else:
            if not key:
                return fail(sb, INTERNAL, "sign token: key is invalid")
            signature = hmac.new(key, signing_input, JWT_ALGORITHMS[method]).digest()
        return signing_input + b"." + _b64url(signature), None

    def verify(
        token: Any = None, secret: Any = None, alg: Any = None, require_exp: Any = None
    ) -> tuple[Any, Any]:
        raw = check_string(token, 1, "verify")
        key = check_string(secret, 2, "verify")
        name = _text(optional_string(alg, 3, "verify") or b"HS256")
        if require_exp is not None and not isinstance(require_exp, bool):
            raise bad_argument(4, "verify", "boolean", require_exp)
        try:
            claims = _verified_claims(raw, key, name, sb.options.clock_ns() / 1e9, require_exp is not False)
        except _JwtError as exc:
            return fail(sb, INTERNAL, f"verify token: {exc}")
        return sb.table(claims), None

    return module(sb, {"encode": encode, "verify": verify})


def _json_part(data: bytes, what: str) -> Any:
    try:
        decoded = _unb64url(data)
    except (binascii.Error, ValueError):
        raise _jwt_error(_MALFORMED, f"could not base64 decode {what}") from None
    try:
        return parse_json(decoded, ValueError)
    except ValueError:
        raise _jwt_error(_MALFORMED, f"could not JSON decode {what}") from None


def _as_floats(v: Any) -> Any:
    """Claims as Wippy hands them to Lua: JSON numbers decoded as float64."""
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return float(v)
    if isinstance(v, list):
        return [_as_floats(x) for x in v]
    if isinstance(v, dict):
        return {k: _as_floats(x) for k, x in v.items()}
    return v


def _verified_claims(raw: bytes, key: bytes, alg: str, now: float, require_exp: bool) -> Any:
    parts = raw.split(b".")
    if len(parts) != 3:
        raise _jwt_error(_MALFORMED, "token contains an invalid number of segments")
    header = _json_part(parts[0], "header")
    claims = _json_part(parts[1], "claim")
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise _jwt_error(_MALFORMED, "could not JSON decode claim")
    method = header.get("alg")
    if not isinstance(method, str):
        raise _jwt_error(_UNVERIFIABLE, "signing method (alg) is unspecified")
    if method not in JWT_ALGORITHMS and method != RS256:
        raise _jwt_error(_UNVERIFIABLE, "signing method (alg) is unavailable")
    try:
        signature = _unb64url(parts[2])
    except (binascii.Error, ValueError):
        raise _jwt_error(_MALFORMED, "could not base64 decode signature") from None
    if method != alg:
        raise _jwt_error(_BAD_SIGNATURE, f"signing method {method} is invalid")
    signing_input = parts[0] + b"." + parts[1]
    if method == RS256:
        try:
            public = _rsa_public_key(key)
        except ValueError as exc:
            raise _jwt_error(_UNVERIFIABLE, "error while executing keyfunc", str(exc)) from None
        try:
            public.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise _jwt_error(_BAD_SIGNATURE, "crypto/rsa: verification error") from None
    else:
        if not key:
            raise _jwt_error(_BAD_SIGNATURE, "key is invalid")
        if not hmac.compare_digest(signature, hmac.new(key, signing_input, JWT_ALGORITHMS[method]).digest()):
            raise _jwt_error(_BAD_SIGNATURE, "signature is invalid")
    problems = _time_problems(claims, now, require_exp)
    if problems:
        raise _jwt_error(_BAD_CLAIMS, "\n".join(problems))
    return _as_floats(claims)


def _time_problems(claims: dict[str, Any], now: float, require_exp: bool) -> list[str]:
    """Why the claims are not valid at `now` (Unix seconds): exp (valid while now < exp), then nbf."""
    problems: list[str] = []
    for claim in ("exp", "nbf"):
        value = claims.get(claim)
        if value is None:
            if claim == "exp" and require_exp:
                problems.append("token is missing required claim: exp claim is required")
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(f"invalid type for claim: {claim} is invalid")
        elif claim == "exp" and now >= value:
            problems.append("token is expired")
        elif claim == "nbf" and now < value:
            problems.append("token is not valid yet")
    return problems
