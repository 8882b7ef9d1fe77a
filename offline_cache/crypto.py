"""Keys and sealing for everything the kiosk stores: personal data is never written in clear.

* :func:`load_or_create_key` — the 32-byte storage key: from ``CCCD_KIOSK_STORAGE_KEY``
  (hex or base64) or configuration when given, else a key file created once with mode 0600
  in the data directory (refused if others can read it). Never in the repository. The key
  file next to the data protects against copies of the database alone; a deployment that
  wants more keeps the key elsewhere (environment, secret store) and leaves no key file.
* :class:`Sealer` — AES-256-GCM with a fresh 96-bit nonce per record; the associated data
  binds a ciphertext to its row (table and key), so rows cannot be swapped unnoticed.
* :meth:`Sealer.index` — HMAC-SHA256 of an identifier (ID number, BHYT card number) under a
  sub-key, the only form in which an identifier is ever used as a lookup key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_ENV = "CCCD_KIOSK_STORAGE_KEY"
KEY_FILE = "storage.key"
KEY_LEN = 32
NONCE_LEN = 12
_VERSION = b"\x01"


class StorageError(Exception):
    """Base of the offline store's errors."""


class StorageKeyError(StorageError):
    """The storage key is missing, malformed or unreadable."""


class SealError(StorageError):
    """A sealed record does not open: wrong key, tampered bytes or swapped row."""


def _decode_key(text: str) -> bytes:
    text = text.strip()
    for decode in (bytes.fromhex, base64.b64decode):
        try:
            key = decode(text)
        except (ValueError, binascii.Error):
            continue
        if len(key) == KEY_LEN:
            return key
    raise StorageKeyError(f"the storage key must be {KEY_LEN} bytes as hex or base64")


def load_or_create_key(data_dir: Path, configured: str | None = None) -> bytes:
    """The storage key: configured value, else ``$CCCD_KIOSK_STORAGE_KEY``, else the key file.

    The key file (``storage.key`` in ``data_dir``) is created with mode 0600 on
    first use, atomically, so two processes starting together agree on one key.
    """
    text = configured or os.environ.get(KEY_ENV)
    if text:
        return _decode_key(text)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = data_dir / KEY_FILE
    try:
        if not path.exists():
            tmp = data_dir / f".{KEY_FILE}.{os.getpid()}.{os.urandom(4).hex()}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(os.urandom(KEY_LEN).hex())
            try:
                os.link(tmp, path)  # fails if another process won the race: use theirs
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise StorageKeyError(
                f"the storage key {path} is readable by others (mode {mode:o}); "
                "run: chmod 600 on it"
            )
        return _decode_key(path.read_text())
    except OSError as exc:
        raise StorageKeyError(f"cannot use the storage key {path}: {exc.strerror}") from exc


class Sealer:
    """Seals and opens records under one storage key; derives the HMAC index key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_LEN:
            raise StorageKeyError(f"the storage key must be {KEY_LEN} bytes")
        self._aead = AESGCM(hashlib.sha256(b"cccd-kiosk seal\x00" + key).digest())
        self._index_key = hashlib.sha256(b"cccd-kiosk index\x00" + key).digest()

    def index(self, identifier: str) -> str:
        """HMAC-SHA256 (hex) of an identifier: the only form it takes as a lookup key."""
        return hmac.new(self._index_key, identifier.encode("utf-8"), hashlib.sha256).hexdigest()

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        """AES-256-GCM: version byte, 12-byte random nonce, ciphertext with tag."""
        nonce = os.urandom(NONCE_LEN)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, aad)

    def open(self, sealed: bytes, aad: bytes) -> bytes:
        """Open a sealed record; :class:`SealError` when it was altered or belongs elsewhere."""
        if len(sealed) < 1 + NONCE_LEN + 16 or sealed[:1] != _VERSION:
            raise SealError("not a sealed record")
        nonce = sealed[1 : 1 + NONCE_LEN]
        try:
            return self._aead.decrypt(nonce, sealed[1 + NONCE_LEN :], aad)
        except InvalidTag as exc:
            raise SealError("sealed record does not open (wrong key or altered)") from exc
