"""offline_cache.crypto: the storage key, sealing with row binding, HMAC index keys."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from offline_cache.crypto import (
    KEY_ENV,
    Sealer,
    SealError,
    StorageKeyError,
    load_or_create_key,
)


def test_key_file_created_once_owner_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    key = load_or_create_key(tmp_path / "data")
    assert len(key) == 32
    path = tmp_path / "data" / "storage.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(tmp_path / "data") == key


def test_key_from_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "11" * 32)
    assert load_or_create_key(tmp_path) == bytes([0x11]) * 32
    assert not (tmp_path / "storage.key").exists()
    monkeypatch.setenv(KEY_ENV, "too-short")
    with pytest.raises(StorageKeyError):
        load_or_create_key(tmp_path)


def test_seal_round_trip_and_binding() -> None:
    s = Sealer(os.urandom(32))
    name = "Nguyễn Thị Ánh Tuyết".encode()
    sealed = s.seal(name, b"journal:1")
    assert name not in sealed
    assert s.open(sealed, b"journal:1") == name
    with pytest.raises(SealError):
        s.open(sealed, b"journal:2")  # moved to another row
    flipped = bytearray(sealed)
    flipped[-1] ^= 1
    with pytest.raises(SealError):
        s.open(bytes(flipped), b"journal:1")
    with pytest.raises(SealError):
        Sealer(os.urandom(32)).open(sealed, b"journal:1")
    assert s.seal(name, b"x") != s.seal(name, b"x")  # fresh nonce


def test_index_is_keyed_and_stable() -> None:
    key = os.urandom(32)
    a, b = Sealer(key), Sealer(os.urandom(32))
    assert a.index("001088034517", "t") == Sealer(key).index("001088034517", "t")
    assert a.index("001088034517", "t") != b.index("001088034517", "t")
    assert a.index("001088034517", "t") != a.index("001088034517", "u")
    assert "001088034517" not in a.index("001088034517", "t")
    assert len(a.index("x", "t")) == 64


def test_key_file_readable_by_others_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    load_or_create_key(tmp_path)
    (tmp_path / "storage.key").chmod(0o644)
    with pytest.raises(StorageKeyError, match="readable by others"):
        load_or_create_key(tmp_path)
