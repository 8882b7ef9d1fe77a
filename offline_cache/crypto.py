"""Keys and sealing for everything the kiosk stores: personal data is never written in clear.

* :func:`load_or_create_key` — the 32-byte storage key: from ``CCCD_KIOSK_STORAGE_KEY``
  (hex or base64) or configuration when given, else a key file created once with mode 0600
  in the data directory (refused if others can read it). Never in the repository. The key
  file next to the data protects against copies of the database alone; a deployment that
  wants more keeps the key elsewhere (environment, secret store) and leaves no key file.
* :class:`Sealer` — AES-256-GCM with a fresh 96-bit nonce per record; the associated data
  binds a ciphertext to its row (table and key), so rows cannot be swapped unnoticed.
* :meth:`Sealer.index` — HMAC-SHA256 of an identifier (ID number, BHYT card number) under a
  sub-key of its own per table, the only form in which an identifier is ever used as a
  lookup key (the cache's key and the journal's ID index differ for the same patient, so one
  file alone does not link a patient's visits to their cached answer).
* :meth:`Sealer.key_check` — a check value of the key (HMAC of a constant), stored in each
  database's ``meta`` table, so a wrong key is refused before anything is written.

A key is created only for a new data folder (no databases yet). When databases exist and
the key file is gone, :class:`StorageKeyMissing` says so: a new key would silently orphan
every sealed row, so the old one must be restored instead.
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
KEY_CHECK_LABEL = b"cccd-kiosk storage key check v1"


class StorageError(Exception):
    """Base of the offline store's errors."""


class StorageKeyError(StorageError):
    """The storage key is missing, malformed or unreadable."""


class StorageKeyMissing(StorageKeyError):
    """The data folder holds databases but no storage key: restore it, never replace it."""


class WrongStorageKey(StorageKeyError):
    """The storage key given does not open this data folder's databases (check value differs)."""


class UnsafeKeyFile(StorageKeyError):
    """The key file is readable by others or not owned by the user running the kiosk."""


class UnsafeDataFolder(StorageError):
    """The data folder is not owned by the user running the kiosk, or others may write to it."""


class StorageBusy(StorageError):
    """Another program held a database lock past the busy timeout (a stuck kiosk process,
    a backup or a viewer holding the file open)."""


class StorageFull(StorageError):
    """The disk (or the database's size limit) is full: the write did not happen."""


class StorageDamaged(StorageError):
    """A database file is damaged (a bad page, not an SQLite file at all)."""


class StorageUnreachable(StorageError):
    """The shared database server (PostgreSQL) cannot be reached: down, restarting, the
    network or the TLS handshake failed, or no connection came free in time."""


class StorageRefused(StorageError):
    """The database server refused the kiosk's role (wrong password or certificate, or a
    statement the role has no grant for)."""


class SchemaTooNew(StorageError):
    """The database's schema is newer than this kiosk's code: update the kiosk software."""


class SchemaOutdated(StorageError):
    """The shared database's schema is older than this kiosk's code (or not made yet): run
    ``cccd-kiosk db upgrade`` as the owner role."""


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


def has_databases(data_dir: Path) -> bool:
    """Whether ``data_dir`` already holds SQLite databases (``*.db``): data sealed under a key."""
    try:
        return any(p.is_file() for p in data_dir.glob("*.db"))
    except OSError:
        return False


def load_or_create_key(data_dir: Path, configured: str | None = None) -> bytes:
    """The storage key: configured value, else ``$CCCD_KIOSK_STORAGE_KEY``, else the key file.

    The key file (``storage.key`` in ``data_dir``) is created with mode 0600 only when the
    folder holds no databases yet, atomically, so two processes starting together agree on
    one key. With databases and no key file: :class:`StorageKeyMissing`, nothing touched.
    A key file readable by others or owned by another user: :class:`UnsafeKeyFile`.
    """
    text = configured or os.environ.get(KEY_ENV)
    if text:
        return _decode_key(text)
    path = data_dir / KEY_FILE
    if not path.exists() and has_databases(data_dir):
        raise StorageKeyMissing(
            f"the storage key for this data folder is missing — restore it ({path}, or "
            f"${KEY_ENV}); a new key would make every saved check-in unreadable"
        )
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
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
        st = path.stat()
        mode = st.st_mode & 0o777
        if mode & 0o077:
            raise UnsafeKeyFile(
                f"the storage key {path} is readable by others (mode {mode:o}); "
                "run: chmod 600 on it"
            )
        if st.st_uid != os.getuid():
            raise UnsafeKeyFile(
                f"the storage key {path} belongs to another user (uid {st.st_uid}); "
                "give it to the kiosk's user (chown) or restore the right one"
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
        self._index_root = hashlib.sha256(b"cccd-kiosk index\x00" + key).digest()
        self._index_keys: dict[str, bytes] = {}
        self._check = hmac.new(
            hashlib.sha256(b"cccd-kiosk check\x00" + key).digest(), KEY_CHECK_LABEL, "sha256"
        ).hexdigest()

    def key_check(self) -> str:
        """The key's check value (hex): stored with the data, compared before any write."""
        return self._check

    def index(self, identifier: str, table: str) -> str:
        """HMAC-SHA256 (hex) of an identifier under ``table``'s own sub-key: the only form an
        identifier takes as a lookup key, and different in every table."""
        key = self._index_keys.get(table)
        if key is None:
            key = hmac.new(self._index_root, table.encode("ascii"), hashlib.sha256).digest()
            self._index_keys[table] = key
        return hmac.new(key, identifier.encode("utf-8"), hashlib.sha256).hexdigest()

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
