"""Where the kiosk's SQLite files live and how they are opened: one policy for cache and journal.

* :func:`default_data_dir` — ``$CCCD_KIOSK_DATA_DIR`` when set (tests, kiosks with a
  dedicated volume), else the per-user data directory from platformdirs.
* :func:`check_key` / :func:`write_meta` — each database's ``meta`` table (``key_check``,
  ``index_version``): a wrong key is refused before anything is written.
* :func:`open_db` — a :class:`sqlite_utils.Database` in WAL mode (readers never block the
  writer, and a crash leaves the last committed transaction intact) with
  ``synchronous=FULL`` (a commit is on disk before it returns: a check-in acknowledged to
  the patient must survive a power cut) and a busy timeout, so a second process (the
  outbox, a staff export) waits for a lock instead of failing with "database is locked".
"""

from __future__ import annotations

import functools
import hmac
import os
import sqlite3
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import platformdirs
import sqlite_utils

from offline_cache.crypto import (
    Sealer,
    StorageBusy,
    StorageDamaged,
    StorageError,
    StorageFull,
    UnsafeDataFolder,
    WrongStorageKey,
)

DATA_DIR_ENV = "CCCD_KIOSK_DATA_DIR"
APP_NAME = "cccd-kiosk"
DEFAULT_BUSY_TIMEOUT_S = 5.0

_P = ParamSpec("_P")
_R = TypeVar("_R")
_BUSY = {"SQLITE_BUSY", "SQLITE_LOCKED"}
_FULL = {"SQLITE_FULL"}
_DAMAGED = {"SQLITE_CORRUPT", "SQLITE_NOTADB"}


def storage_error(exc: sqlite3.Error, path: Path) -> StorageError:
    """The storage error for an SQLite failure on ``path``, saying what to do next.

    By SQLite's primary result code (Python 3.11 gives its name), not by message text:
    a held lock → :class:`StorageBusy`, a full disk → :class:`StorageFull`, a damaged file →
    :class:`StorageDamaged`, anything else the base :class:`StorageError`. The text names
    the file and the code, never a row's content.
    """
    name = str(getattr(exc, "sqlite_errorname", "") or "")
    primary = "_".join(name.split("_")[:2])  # SQLITE_BUSY_SNAPSHOT → SQLITE_BUSY
    where = Path(path).name
    if primary in _BUSY:
        return StorageBusy(
            f"{where} is locked by another program past the busy timeout — close it (another "
            "kiosk process, a backup, a database viewer) and try again"
        )
    if primary in _FULL:
        return StorageFull(
            f"{where}: the disk is full — free space in the data folder; nothing was saved"
        )
    if primary in _DAMAGED:
        return StorageDamaged(
            f"{where} is damaged ({name or type(exc).__name__}) — restore it from a backup"
        )
    if primary == "SQLITE_IOERR":
        return StorageError(f"{where}: the disk failed to read or write ({name}) — check it")
    return StorageError(f"{where}: database error {name or type(exc).__name__}")


def map_errors(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Decorator for methods of objects with a ``db_path``: SQLite errors become storage
    errors (:func:`storage_error`), so a caller sees one family with a next step."""

    @functools.wraps(method)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(*args, **kwargs)
        except sqlite3.Error as exc:
            self: Any = args[0]
            raise storage_error(exc, self.db_path) from exc

    return wrapper


def default_data_dir() -> Path:
    """``$CCCD_KIOSK_DATA_DIR`` if set and non-empty, else ``user_data_dir("cccd-kiosk")``.

    Only computes the path; callers create it (with mode 0700) when they first write.
    """
    configured = os.environ.get(DATA_DIR_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME))


def open_db(
    path: Path,
    *,
    busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
    check_same_thread: bool = True,
) -> sqlite_utils.Database:
    """Open (creating if needed) the SQLite database at ``path`` for durable shared use.

    The parent directory is created with mode 0700 (the files hold sealed personal data;
    other local users have no business listing them). Raises :class:`StorageError` when
    the file cannot be opened or WAL mode cannot be enabled (e.g. a network filesystem).
    sqlite-utils plugins are not loaded: storage must not depend on what else is installed.
    ``check_same_thread=False`` lets an object that serialises its own access (a lock) use
    the connection from worker threads, as the check-in pipeline does.
    """
    # Absolute, so a folder named "file:…" is never read as an SQLite URI (this SQLite takes
    # "file:" names as URIs: "file:x.db?mode=memory" would silently keep nothing).
    path = Path(path).absolute()
    # The database, its WAL and SHM: owner-only from the start. The umask is the process's:
    # one lock, so two threads opening stores at once cannot leave it stuck at 077 (thread
    # A restoring 022 before thread B restores the 077 it saw).
    with _UMASK_LOCK:
        old_umask = os.umask(0o077)
        try:
            return _open_owner_only(path, busy_timeout_s, check_same_thread)
        finally:
            os.umask(old_umask)


def _open_owner_only(path: Path, busy_timeout_s: float, check_same_thread: bool) -> Any:
    """The body of :func:`open_database`, run under the owner-only umask."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        conn = sqlite3.connect(
            str(path), timeout=busy_timeout_s, check_same_thread=check_same_thread
        )
    except sqlite3.Error as exc:
        raise storage_error(exc, path) from exc
    except OSError as exc:
        raise StorageError(f"cannot open database {path}: {exc.strerror}") from exc
    return _configure(conn, path, busy_timeout_s)


#: Serialises the umask window of :func:`open_database` (see there).
_UMASK_LOCK = threading.Lock()


def _owner_only(path: Path) -> None:
    """Make the database and its WAL/SHM files 0600 (SQLite gives the WAL and SHM the
    database's mode; a file made before this rule is tightened on the next open)."""
    for name in (path.name, path.name + "-wal", path.name + "-shm"):
        part = path.with_name(name)
        try:
            st = part.lstat()
        except FileNotFoundError:
            continue
        if st.st_uid == os.getuid() and st.st_mode & 0o077:
            os.chmod(part, 0o600)


def _configure(
    conn: sqlite3.Connection, path: Path, busy_timeout_s: float
) -> sqlite_utils.Database:
    """WAL, ``synchronous=FULL``, foreign keys, owner-only files; the connection is closed
    on failure."""
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StorageError(f"database {path} cannot use WAL mode (got {mode!r})")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        _owner_only(path)
        return sqlite_utils.Database(conn, execute_plugins=False)
    except sqlite3.Error as exc:
        conn.close()
        raise storage_error(exc, path) from exc
    except OSError as exc:
        conn.close()
        raise StorageError(f"cannot make database {path} owner-only: {exc.strerror}") from exc
    except StorageError:
        conn.close()
        raise


def check_data_folder(folder: Path) -> None:
    """Refuse a data folder that is a symlink, not owned by the user running the kiosk, or
    writable by group or others (:class:`UnsafeDataFolder`): someone else could swap the
    databases or the key, or plant links in it."""
    try:
        st = folder.lstat()
    except OSError as exc:
        raise StorageError(f"cannot use the data folder {folder}: {exc.strerror}") from exc
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafeDataFolder(f"the data folder {folder} is not a folder (or is a link)")
    if st.st_uid != os.getuid():
        raise UnsafeDataFolder(
            f"the data folder {folder} belongs to another user (uid {st.st_uid}); "
            "give it to the kiosk's user (chown)"
        )
    if st.st_mode & 0o022:
        raise UnsafeDataFolder(
            f"others may write to the data folder {folder} (mode {st.st_mode & 0o777:o}); "
            "run: chmod 700 on it"
        )


#: The ``meta`` table every database keeps: the key's check value and the schema versions.
META_SCHEMA = "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
#: ``index_version``: 2 = one HMAC sub-key per table (1, or absent: the shared index key).
INDEX_VERSION = "2"


def read_meta(conn: sqlite3.Connection) -> dict[str, str]:
    """The ``meta`` rows of ``conn``'s database (empty when the table does not exist yet)."""
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
    ).fetchone()
    if found is None:
        return {}
    return {str(k): str(v) for k, v in conn.execute("SELECT name, value FROM meta")}


def check_key(
    conn: sqlite3.Connection,
    sealer: Sealer,
    path: Path,
    probe: Callable[[], bool | None],
) -> dict[str, str]:
    """Refuse a key that does not belong to this database, before anything is written.

    With a stored check value the key must match it. A database from before check values
    (none stored) is probed instead: ``probe`` tries a few sealed rows and returns True
    when one opens, False when rows exist and none does, None when there are none. Raises
    :class:`WrongStorageKey`; returns the ``meta`` rows.
    """
    meta = read_meta(conn)
    stored = meta.get("key_check")
    if stored is not None:
        ok: bool | None = hmac.compare_digest(stored, sealer.key_check())
    else:
        ok = probe()
    if ok is False:
        raise WrongStorageKey(
            f"the storage key does not open {path.name} in this data folder — restore the "
            "key this data was saved with; nothing was changed"
        )
    return meta


def write_meta(conn: sqlite3.Connection, sealer: Sealer, **values: str) -> None:
    """Create ``meta`` if needed, record the key's check value (once) and ``values``
    (inside the caller's transaction)."""
    conn.execute(META_SCHEMA)
    conn.execute(
        "INSERT OR IGNORE INTO meta (name, value) VALUES ('key_check', ?)", (sealer.key_check(),)
    )
    conn.executemany(
        "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", list(values.items())
    )
