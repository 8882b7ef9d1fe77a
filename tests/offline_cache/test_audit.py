"""The audit trail's table: append-only through SQLite, HMAC-chained so an edit made around
the triggers (another program, the sqlite3 shell) is found by ``verify``."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from offline_cache.audit import AuditLog
from offline_cache.crypto import Sealer, WrongStorageKey
from offline_cache.journal import Journal

KEY = bytes(range(32))


def trail(tmp_path: Path, key: bytes = KEY) -> AuditLog:
    db = tmp_path / "journal.db"
    Journal(db, Sealer(key)).close()  # the journal's file, with its key check value
    return AuditLog(db, Sealer(key), kiosk="desk-1")


def three(log: AuditLog) -> None:
    log.record("pin.failed", actor="operator", detail={"tries_left": 2})
    log.record("export", actor="reception", target="2026-12-03", detail={"format": "csv"})
    log.record("settings.mode", actor="operator", target="ui.mode", detail={"to": "reception"})


def raw(tmp_path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(tmp_path / "journal.db")
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("DROP TRIGGER audit_no_delete")
    return conn


def test_rows_chain_and_verify(tmp_path: Path) -> None:
    with trail(tmp_path) as log:
        three(log)
        entries = log.entries()
        assert [(e.seq, e.action, e.actor, e.kiosk) for e in entries] == [
            (1, "pin.failed", "operator", "desk-1"),
            (2, "export", "reception", "desk-1"),
            (3, "settings.mode", "operator", "desk-1"),
        ]
        assert entries[1].target == "2026-12-03" and entries[1].detail == {"format": "csv"}
        v = log.verify()
        assert v.ok and v.rows == 3 and v.head_seq == 3 and v.head_mac == entries[2].mac


def test_the_table_refuses_updates_and_deletes(tmp_path: Path) -> None:
    with trail(tmp_path) as log:
        three(log)
    conn = sqlite3.connect(tmp_path / "journal.db")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE audit SET actor = 'nobody' WHERE seq = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM audit WHERE seq = 2")
    conn.close()


@pytest.mark.parametrize(
    ("edit", "bad"),
    [
        ('UPDATE audit SET detail = \'{"format": "json"}\' WHERE seq = 2', 2),
        ("UPDATE audit SET at = '2020-01-01T00:00:00+00:00' WHERE seq = 1", 1),
        ("UPDATE audit SET actor = 'reception' WHERE seq = 3", 3),
        ("DELETE FROM audit WHERE seq = 2", 3),
    ],
)
def test_an_edit_around_the_triggers_breaks_the_chain(tmp_path: Path, edit: str, bad: int) -> None:
    with trail(tmp_path) as log:
        three(log)
    conn = raw(tmp_path)
    conn.execute(edit)
    conn.commit()
    conn.close()
    with AuditLog(tmp_path / "journal.db", Sealer(KEY)) as log:
        v = log.verify()
    assert not v.ok and v.first_bad == bad


def test_a_chain_rewritten_under_another_key_does_not_verify(tmp_path: Path) -> None:
    """Recomputing the macs needs the storage key: a forger without it cannot re-chain."""
    with trail(tmp_path) as log:
        three(log)
    other = tmp_path / "other"
    other.mkdir()
    with trail(other, key=bytes(32)) as forged:
        three(forged)
    conn = raw(tmp_path)
    conn.execute("DELETE FROM audit")
    conn.execute(f"ATTACH '{other / 'journal.db'}' AS o")
    conn.execute("INSERT INTO audit SELECT * FROM o.audit")
    conn.commit()
    conn.close()
    with AuditLog(tmp_path / "journal.db", Sealer(KEY)) as log:
        assert log.verify().first_bad == 1
    with pytest.raises(WrongStorageKey):
        AuditLog(tmp_path / "journal.db", Sealer(bytes(32)))


def test_no_id_number_and_no_unknown_action(tmp_path: Path) -> None:
    with trail(tmp_path) as log:
        with pytest.raises(ValueError, match="ID number"):
            log.record("export", actor="reception", detail={"search": "001088034517"})
        with pytest.raises(ValueError, match="ID number"):
            log.record("ticket.reprint", actor="reception", target="001088034517")
        with pytest.raises(ValueError, match="unknown audit action"):
            log.record("coffee", actor="operator")
        assert log.entries() == []
