"""The values behind Wippy's side effects: `uuid.v1/v4/v7`, `crypto.random.*`, `crypto.encrypt.*`.

Each producer is a pure function of a seeded `random.Random` and the call's arguments, so a run with a
fixed seed yields the same ids and ciphertexts every time. In a workflow the driver calls `produce` once
per SideEffect marker and records the value; on replay the recorded value is used instead. Text results
are `str` (recorded as json/plain), binary results are `bytes` (recorded as binary/plain).

Arguments arrive as the Lua module passed them, already validated: strings as `bytes` (a `str` is
accepted too, for drivers that decoded them), counts as numbers, the current time as Unix nanoseconds.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from wftest.errors import UserError

Producer = Callable[[random.Random, Sequence[Any]], Any]

NONCE_SIZE = 12
DEFAULT_CHARSET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
# 100 ns intervals between the Gregorian epoch of UUIDv1 (1582-10-15) and the Unix epoch.
GREGORIAN_OFFSET = 0x01B21DD213814000
_MULTICAST_BIT = 1 << 40


class UnknownSideEffect(UserError, LookupError):
    """No producer is registered under the name a side effect asked for."""


def _binary(v: Any) -> bytes:
    return v.encode("utf-8") if isinstance(v, str) else bytes(v)


def _optional_binary(args: Sequence[Any], i: int) -> bytes | None:
    return _binary(args[i]) if len(args) > i and args[i] is not None else None


def _stamped(value: int, version: int) -> str:
    """A 128-bit value as a UUID string with the version nibble and the RFC 9562 variant bits set."""
    value = (value & ~(0xF << 76) & ~(0x3 << 62)) | version << 76 | 0x2 << 62
    return str(uuid.UUID(int=value))


def uuid_v1(rng: random.Random, args: Sequence[Any]) -> str:
    """Time-based UUID for the time in args[0] (Unix ns); clock sequence and node (a random multicast
    node, RFC 9562 §6.10, since there is no hardware address to use) come from the rng."""
    ticks = int(args[0]) // 100 + GREGORIAN_OFFSET
    clock_seq = rng.getrandbits(14)
    node = rng.getrandbits(48) | _MULTICAST_BIT
    time_fields = (ticks & 0xFFFFFFFF) << 96 | ((ticks >> 32) & 0xFFFF) << 80 | ((ticks >> 48) & 0x0FFF) << 64
    return _stamped(time_fields | clock_seq << 48 | node, 1)


def uuid_v4(rng: random.Random, args: Sequence[Any]) -> str:
    """Random UUID: 122 bits from the rng."""
    return _stamped(rng.getrandbits(128), 4)


def uuid_v7(rng: random.Random, args: Sequence[Any]) -> str:
    """Time-ordered UUID: Unix milliseconds of args[0] (Unix ns), then 74 random bits."""
    millis = int(args[0]) // 1_000_000
    value = (millis & (2**48 - 1)) << 80 | rng.getrandbits(80)
    return _stamped(value, 7)


def random_bytes(rng: random.Random, args: Sequence[Any]) -> bytes:
    """args: (n,) → n random bytes."""
    return rng.randbytes(int(args[0]))


def random_string(rng: random.Random, args: Sequence[Any]) -> str:
    """args: (n[, charset]) → n characters drawn from the charset's characters (UTF-8 code points)."""
    charset = _optional_binary(args, 1)
    chars = DEFAULT_CHARSET if charset is None else charset.decode("utf-8")
    return "".join(rng.choices(chars, k=int(args[0])))


def encrypt_aes(rng: random.Random, args: Sequence[Any]) -> bytes:
    """args: (data, key[, aad]) → nonce(12) + AES-GCM ciphertext and tag."""
    nonce = rng.randbytes(NONCE_SIZE)
    return nonce + AESGCM(_binary(args[1])).encrypt(nonce, _binary(args[0]), _optional_binary(args, 2))


def encrypt_chacha20(rng: random.Random, args: Sequence[Any]) -> bytes:
    """args: (data, key32[, aad]) → nonce(12) + ChaCha20-Poly1305 ciphertext and tag."""
    nonce = rng.randbytes(NONCE_SIZE)
    cipher = ChaCha20Poly1305(_binary(args[1]))
    return nonce + cipher.encrypt(nonce, _binary(args[0]), _optional_binary(args, 2))


PRODUCERS: dict[str, Producer] = {
    "uuid.v1": uuid_v1,
    "uuid.v4": uuid_v4,
    "uuid.v7": uuid_v7,
    "crypto.random.bytes": random_bytes,
    "crypto.random.string": random_string,
    "crypto.random.uuid": uuid_v4,
    "crypto.encrypt.aes": encrypt_aes,
    "crypto.encrypt.chacha20": encrypt_chacha20,
}


def produce(name: str, rng: random.Random, args: Sequence[Any]) -> Any:
    """The value of side effect `name` for these arguments, drawn from `rng`."""
    producer = PRODUCERS.get(name)
    if producer is None:
        raise UnknownSideEffect(
            f"no producer for side effect '{name}' (known: {', '.join(sorted(PRODUCERS))})"
        )
    return producer(rng, args)
