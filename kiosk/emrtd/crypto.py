"""Symmetric primitives of ICAO 9303-11: key derivation, padding, 3DES, retail MAC, AES, CMAC.

Built on ``cryptography``. Two-key 3DES keys (16 bytes, ``k1||k2``) are
expanded to the 24-byte form ``k1||k2||k1`` before use, because the 16-byte
form is deprecated in ``cryptography``. Single DES (for the retail MAC) is
3DES with the same key three times.
"""

from __future__ import annotations

import hashlib
from enum import Enum

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from kiosk.emrtd.errors import SecureMessagingError

KDF_ENC = 1
KDF_MAC = 2
KDF_PACE = 3


class Cipherkind(Enum):
    """Symmetric algorithm family used by BAC / PACE / CA secure messaging."""

    DES3 = "3DES"
    AES = "AES"


def kdf(secret: bytes, counter: int, kind: Cipherkind, key_bits: int = 128) -> bytes:
    """ICAO 9303-11 §9.7.1 key derivation ``KDF(K, c)``.

    3DES and AES-128 use SHA-1; AES-192 and AES-256 use SHA-256. 3DES keys
    come back as 16 bytes (``k1||k2``) with DES parity bits set.
    """
    data = secret + counter.to_bytes(4, "big")
    if kind is Cipherkind.DES3:
        return adjust_parity(hashlib.sha1(data).digest()[:16])
    if key_bits == 128:
        return hashlib.sha1(data).digest()[:16]
    if key_bits in (192, 256):
        return hashlib.sha256(data).digest()[: key_bits // 8]
    raise ValueError(f"unsupported AES key size {key_bits}")


def adjust_parity(key: bytes) -> bytes:
    """Set the DES odd-parity bit (LSB) of every byte."""
    out = bytearray(key)
    for i, b in enumerate(out):
        hi = b & 0xFE
        out[i] = hi | ((bin(hi).count("1") + 1) & 1)
    return bytes(out)


def pad(data: bytes, block: int = 8) -> bytes:
    """ISO/IEC 9797-1 padding method 2: 0x80 then zeros to a block boundary."""
    n = block - (len(data) + 1) % block
    if n == block:
        n = 0
    return data + b"\x80" + bytes(n)


def unpad(data: bytes) -> bytes:
    """Remove ISO/IEC 9797-1 method 2 padding; :class:`SecureMessagingError` if absent."""
    i = len(data) - 1
    while i >= 0 and data[i] == 0:
        i -= 1
    if i < 0 or data[i] != 0x80:
        raise SecureMessagingError("bad ISO 9797-1 padding")
    return data[:i]


def des3_key24(key: bytes) -> bytes:
    """Expand a 16-byte two-key 3DES key to ``k1||k2||k1``; pass 24-byte keys through."""
    if len(key) == 16:
        return key + key[:8]
    if len(key) == 24:
        return key
    raise ValueError(f"3DES key of {len(key)} bytes")


def des3_cbc_encrypt(key: bytes, data: bytes, iv: bytes = bytes(8)) -> bytes:
    enc = Cipher(TripleDES(des3_key24(key)), modes.CBC(iv)).encryptor()
    return enc.update(data) + enc.finalize()


def des3_cbc_decrypt(key: bytes, data: bytes, iv: bytes = bytes(8)) -> bytes:
    if len(data) % 8:
        raise SecureMessagingError("3DES ciphertext is not a whole number of blocks")
    dec = Cipher(TripleDES(des3_key24(key)), modes.CBC(iv)).decryptor()
    return dec.update(data) + dec.finalize()


def _des_ecb(key8: bytes, block: bytes, encrypt: bool) -> bytes:
    c = Cipher(TripleDES(key8 * 3), modes.ECB())
    op = c.encryptor() if encrypt else c.decryptor()
    return op.update(block) + op.finalize()


def retail_mac(key: bytes, data: bytes) -> bytes:
    """ISO/IEC 9797-1 MAC algorithm 3 (retail MAC) with DES; ``data`` must be padded.

    Single-DES CBC under ``k1`` over all blocks, then decrypt with ``k2`` and
    encrypt with ``k1`` on the last block.
    """
    if len(data) % 8:
        raise ValueError("retail MAC input must be padded to 8 bytes")
    k1, k2 = key[:8], key[8:16]
    enc = Cipher(TripleDES(k1 * 3), modes.CBC(bytes(8))).encryptor()
    h = (enc.update(data) + enc.finalize())[-8:]
    h = _des_ecb(k2, h, encrypt=False)
    return _des_ecb(k1, h, encrypt=True)


def aes_cbc_encrypt(key: bytes, data: bytes, iv: bytes = bytes(16)) -> bytes:
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return enc.update(data) + enc.finalize()


def aes_cbc_decrypt(key: bytes, data: bytes, iv: bytes = bytes(16)) -> bytes:
    if len(data) % 16:
        raise SecureMessagingError("AES ciphertext is not a whole number of blocks")
    dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return dec.update(data) + dec.finalize()


def aes_ecb_encrypt(key: bytes, block: bytes) -> bytes:
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def aes_cmac(key: bytes, data: bytes, length: int = 8) -> bytes:
    """AES-CMAC (NIST SP 800-38B) truncated to ``length`` bytes (8 for ICAO SM and tokens)."""
    c = cmac.CMAC(algorithms.AES(key))
    c.update(data)
    return c.finalize()[:length]
