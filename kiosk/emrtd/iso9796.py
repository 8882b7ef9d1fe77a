"""ISO/IEC 9796-2 signature scheme 1 (message recovery), as RSA Active Authentication uses it.

ICAO 9303-11 §6.1.2.2: the chip signs ``M = M1 || M2`` where ``M1`` is its own
nonce filling the signature's capacity and ``M2`` is the reader's 8-byte
challenge (RND.IFD). The signature carries ``M1`` (recoverable part) but not
``M2``. Opening the signature with the public key gives the message
representative

``F = header || M1 || H(M1 || M2) || trailer``

* header: the top two bits ``01``, then the *more-data* bit (1 = partial
  recovery, i.e. a non-recoverable ``M2`` exists), then padding nibbles —
  ``0x6A`` when ``M1`` fills the capacity (ISO/IEC 9796-2 B.6, what ICAO says
  chips SHOULD do), or ``0x6B BB … BA`` when ``M1`` is shorter (B.4);
* trailer: ``BC`` — *option 1*, implicit hash (SHA-1 for AA) — or
  ``<hash id> CC`` — *option 2*: ``38CC`` SHA-224, ``34CC`` SHA-256,
  ``36CC`` SHA-384, ``35CC`` SHA-512 (ICAO 9303-11 table in §6.1.2.2; ``33CC``
  SHA-1 and ``31CC`` RIPEMD-160 from ISO/IEC 10118-3 are accepted too).

:func:`recover` opens a signature and splits ``F``; :func:`verify` also
checks the hash over ``M1 || M2``; :func:`sign` is the chip side (simulator
and tests). For an odd public exponent the representative ``n − J`` is
accepted as well (ISO/IEC 9796-2's alternative of signing ``min(J, n − J)``);
it is exactly as hard to forge as ``J`` since ``(n − s)^e ≡ −s^e (mod n)``.

Anything that does not decode is :class:`ISO9796Error` with a reason a log can
show; for Active Authentication that means "the chip does not hold the key".
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from kiosk.emrtd.errors import EmrtdError

__all__ = [
    "HASH_IDS",
    "ISO9796Error",
    "Recovered",
    "capacity",
    "recover",
    "representative",
    "sign",
    "verify",
]

#: Trailer option 1: the hash is implicit (SHA-1 for ICAO Active Authentication).
TRAILER_IMPLICIT = 0xBC
#: Trailer option 2 ends with this byte, preceded by the hash function identifier.
TRAILER_EXPLICIT = 0xCC
#: Hash function identifiers of ISO/IEC 10118-3 used in trailer option 2 (hashlib names).
HASH_IDS: dict[int, str] = {
    0x31: "ripemd160",
    0x32: "ripemd128",
    0x33: "sha1",
    0x34: "sha256",
    0x35: "sha512",
    0x36: "sha384",
    0x38: "sha224",
}
_ID_FOR_HASH = {name: hid for hid, name in HASH_IDS.items()}


class ISO9796Error(EmrtdError):
    """A signature that does not open to a well-formed ISO/IEC 9796-2 scheme 1 representative."""


@dataclass(frozen=True)
class Recovered:
    """An opened signature: the hash it names, the recovered ``M1`` and the hash field."""

    hash_name: str
    partial: bool
    m1: bytes
    digest: bytes
    explicit_trailer: bool


#: Digest sizes of hashes ``hashlib`` may lack (RIPEMD-128: recovery works, verifying cannot).
_SIZES = {"ripemd128": 16, "ripemd160": 20}


def _digest_size(name: str) -> int:
    if name in _SIZES:
        return _SIZES[name]
    return hashlib.new(name).digest_size


def _hash(name: str, data: bytes) -> bytes:
    try:
        return hashlib.new(name, data).digest()
    except ValueError:
        raise ISO9796Error(f"hash {name} is not available here") from None


def _rep_len(n: int) -> int:
    """Bytes of the representative: it has one bit fewer than the modulus."""
    return (n.bit_length() - 1 + 7) // 8


def capacity(n: int, hash_name: str = "sha1") -> int:
    """Bytes of ``M1`` that fill a representative (B.6: header ``6A`` and no padding).

    ICAO 9303-11 §6.1.2.2: ``c = k − Lh − 8t − 4`` bits and ``M1`` is ``c − 4`` bits.
    """
    t = 1 if hash_name == "sha1" else 2
    return _rep_len(n) - 1 - _digest_size(hash_name) - t


def representative(m1: bytes, m2: bytes, n: int, hash_name: str = "sha1") -> bytes:
    """``F = 6A || M1 || H(M1 || M2) || trailer`` (``6B BB … BA`` padding when ``M1`` is short).

    SHA-1 uses the implicit trailer ``BC`` (option 1), everything else option 2,
    as ICAO 9303-11 §6.1.2.2 requires. ``M2`` non-empty means partial recovery.
    """
    if hash_name not in _ID_FOR_HASH:
        raise ISO9796Error(f"hash {hash_name} has no ISO/IEC 10118-3 identifier")
    room = capacity(n, hash_name)
    if len(m1) > room or room < 0:
        raise ISO9796Error(f"M1 of {len(m1)} bytes exceeds the capacity of {room}")
    header = 0x60 if m2 else 0x40
    digest = _hash(hash_name, m1 + m2)
    trailer = (
        bytes((TRAILER_IMPLICIT,))
        if hash_name == "sha1"
        else bytes((_ID_FOR_HASH[hash_name], TRAILER_EXPLICIT))
    )
    pad = room - len(m1)
    if pad == 0:
        head = bytes((header | 0x0A,))
    else:
        head = bytes((header | 0x0B,)) + b"\xbb" * (pad - 1) + b"\xba"
    return head + m1 + digest + trailer


def sign(d: int, n: int, m1: bytes, m2: bytes, hash_name: str = "sha1") -> bytes:
    """The chip side: ``F^d mod n`` as big-endian bytes the length of the modulus."""
    f = int.from_bytes(representative(m1, m2, n, hash_name), "big")
    return pow(f, d, n).to_bytes((n.bit_length() + 7) // 8, "big")


def _split(f: bytes, implicit_hash: str) -> Recovered:
    if len(f) < 3 or f[0] & 0xC0 != 0x40 or f[0] & 0x10:
        raise ISO9796Error(f"representative header {f[:1].hex().upper()} is not 01x0 (scheme 1)")
    partial = bool(f[0] & 0x20)
    nibble = f[0] & 0x0F
    if nibble == 0x0A:
        start = 1
    elif nibble == 0x0B:
        start = 1
        while start < len(f) and f[start] == 0xBB:
            start += 1
        if start >= len(f) or f[start] != 0xBA:
            raise ISO9796Error("padding nibbles B…BA not terminated")
        start += 1
    else:
        raise ISO9796Error(f"representative padding nibble {nibble:X} is neither A nor B")
    if f[-1] == TRAILER_IMPLICIT:
        name, t, explicit = implicit_hash, 1, False
    elif f[-1] == TRAILER_EXPLICIT:
        name = HASH_IDS.get(f[-2], "")
        if not name:
            raise ISO9796Error(f"unknown hash identifier {f[-2]:02X} in trailer {f[-2]:02X}CC")
        t, explicit = 2, True
    else:
        raise ISO9796Error(f"trailer {f[-1]:02X} is neither BC nor xxCC")
    hlen = _digest_size(name)
    end = len(f) - t - hlen
    if end < start:
        raise ISO9796Error("representative too short for its hash")
    return Recovered(name, partial, f[start:end], f[end : end + hlen], explicit)


def recover(signature: bytes, n: int, e: int, *, implicit_hash: str = "sha1") -> Recovered:
    """Open ``signature`` with the RSA public key ``(n, e)`` and split the representative.

    ``implicit_hash`` is the hash that trailer ``BC`` stands for (SHA-1 in ICAO AA).
    Raises :class:`ISO9796Error` for a signature out of range or a malformed
    representative (neither ``J`` nor ``n − J`` decodes).
    """
    s = int.from_bytes(signature, "big")
    if not signature or not 0 < s < n or len(signature) > (n.bit_length() + 7) // 8:
        raise ISO9796Error("signature is empty or not below the modulus")
    j = pow(s, e, n)
    size = _rep_len(n)
    candidates = [j]
    if e & 1:
        candidates.append(n - j)
    first_error: ISO9796Error | None = None
    for value in candidates:
        if value.bit_length() > size * 8:
            continue
        try:
            return _split(value.to_bytes(size, "big"), implicit_hash)
        except ISO9796Error as exc:
            first_error = first_error or exc
    raise first_error or ISO9796Error("representative longer than the modulus allows")


def verify(
    signature: bytes, n: int, e: int, m2: bytes, *, implicit_hash: str = "sha1"
) -> Recovered:
    """:func:`recover`, then check ``H(M1 || M2)`` against the hash field.

    A non-empty ``M2`` needs the more-data bit (partial recovery). Raises
    :class:`ISO9796Error` when anything does not hold; returns the recovered parts.
    """
    rec = recover(signature, n, e, implicit_hash=implicit_hash)
    if bool(m2) != rec.partial:
        raise ISO9796Error(
            "the representative claims "
            + ("partial" if rec.partial else "total")
            + " recovery, which does not fit the message"
        )
    expected = _hash(rec.hash_name, rec.m1 + m2)
    if not hmac.compare_digest(expected, rec.digest):
        raise ISO9796Error(f"{rec.hash_name.upper()} over M1 || M2 does not match the signature")
    return rec
