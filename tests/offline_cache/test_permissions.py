"""Owner-only storage files: databases, WAL and SHM are 0600 whatever the umask; a data folder
others may write to, or another user's, is refused."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from offline_cache.cache import EligibilityCache
from offline_cache.crypto import Sealer, UnsafeDataFolder
from offline_cache.journal import Journal
from offline_cache.store import check_data_folder

KEY = bytes(range(32))
T0 = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The usual 022 umask of a login shell (files 0644 unless the code says otherwise)."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_databases_wal_and_shm_are_owner_only(tmp_path: Path, loose_umask: None) -> None:
    with (
        Journal(tmp_path / "journal.db", Sealer(KEY)) as j,
        EligibilityCache(tmp_path / "cache.db", Sealer(KEY)) as c,
    ):
        j.record(method="manual", chip_verified=False, holder={"id_number": "1"}, now=T0)
        c.put("1", {"status": "eligible"}, as_of=T0)
        files = [
            tmp_path / f"{db}{side}"
            for db in ("journal.db", "cache.db")
            for side in ("", "-wal", "-shm")
        ]
        assert all(p.exists() for p in files)
        assert {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}
    probe = tmp_path / "probe"
    probe.write_text("x")
    assert _mode(probe) == 0o644  # the umask really was loose


def test_an_older_world_readable_database_is_tightened(tmp_path: Path) -> None:
    Journal(tmp_path / "journal.db", Sealer(KEY)).close()
    os.chmod(tmp_path / "journal.db", 0o644)
    Journal(tmp_path / "journal.db", Sealer(KEY)).close()
    assert _mode(tmp_path / "journal.db") == 0o600


def test_a_folder_others_may_write_to_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir(mode=0o700)
    check_data_folder(folder)  # owner-only: fine
    os.chmod(folder, 0o770)
    with pytest.raises(UnsafeDataFolder, match="chmod 700"):
        check_data_folder(folder)
    os.chmod(folder, 0o707)
    with pytest.raises(UnsafeDataFolder):
        check_data_folder(folder)


def test_another_users_folder_or_a_link_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "data"
    folder.mkdir(mode=0o700)
    link = tmp_path / "link"
    link.symlink_to(folder)
    with pytest.raises(UnsafeDataFolder, match="link"):
        check_data_folder(link)
    owner = folder.stat().st_uid
    monkeypatch.setattr(os, "getuid", lambda: owner + 1)
    with pytest.raises(UnsafeDataFolder, match="another user"):
        check_data_folder(folder)


def test_opening_stores_from_many_threads_leaves_the_process_umask_alone(tmp_path: Path) -> None:
    """The owner-only umask is the process's: threads opening stores at once must restore
    it (unlocked, one thread could restore 022 before another restored the 077 it saw,
    leaving every later file of the process — a .deb built by a child — owner-only)."""
    import threading

    from offline_cache.store import open_db

    old = os.umask(0o022)
    try:

        def work(i: int) -> None:
            for j in range(25):
                open_db(tmp_path / f"t{i}" / f"{j}.db").close()

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert os.umask(0o022) == 0o022
        assert all((p.stat().st_mode & 0o777) == 0o600 for p in tmp_path.rglob("*.db"))
    finally:
        os.umask(old)
