"""Two kiosks on one PostgreSQL through the application layer, and ``cccd-kiosk db``.

Real parts: the worker's private PostgreSQL (tests/fixtures/postgres.py), two :class:`Kiosk`
objects with their own data folders sharing the hospital's storage key, the real command
line. A check-in at one kiosk is seen at the other (one queue: the numbers continue), an
insurance answer cached by one serves the other, and a database whose schema is older or
newer than the code is refused with the error table's words.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest

from kiosk.app.kiosk import Kiosk
from kiosk.app.messages import message_for
from kiosk.app.settings import Overrides, resolve
from kiosk.app.storage import DATABASE_URL_ENV
from kiosk.cli import main
from offline_cache.crypto import KEY_ENV, SchemaOutdated, SchemaTooNew, Sealer, WrongStorageKey
from offline_cache.export import today
from offline_cache.journal import Journal
from offline_cache.pg.schema import TARGET

KEY_HEX = bytes(range(32)).hex()


def _config(folder: Path, desk: str = "Quầy 1") -> Path:
    """A real kiosk's configuration file (a PC/SC reader, not the demo) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    config = folder / "kiosk.toml"
    config.write_text(f'[reader]\nname = "pcsc"\n[display]\ndesk = "{desk}"\n', encoding="utf-8")
    return config


def _kiosk(folder: Path) -> Kiosk:
    """A real kiosk on its own data folder; manual check-ins never touch the reader, and
    with no gateway the answer is "ask staff"."""
    return Kiosk(resolve(_config(folder), Overrides(data_dir=folder)), demo_gateway=False)


@pytest.fixture
def shared(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The environment of a hospital's kiosk: the shared database and the hospital's key."""
    monkeypatch.setenv(DATABASE_URL_ENV, pg_url)
    monkeypatch.setenv(KEY_ENV, KEY_HEX)
    return pg_url


def test_db_upgrade_then_status_on_postgresql(
    shared: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "status", "--data-dir", str(tmp_path), "--json"]) == 1
    assert json.loads(capsys.readouterr().out) == {
        "adapter": "postgresql",
        "current": 0,
        "target": TARGET,
        "up_to_date": False,
    }
    assert main(["db", "upgrade", "--data-dir", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["applied"] == TARGET  # every migration
    assert main(["db", "upgrade", "--data-dir", str(tmp_path)]) == 0  # idempotent
    assert f"applied 0 migration(s); postgresql: schema version {TARGET}" in capsys.readouterr().out


def test_db_status_and_upgrade_on_sqlite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    monkeypatch.setenv(KEY_ENV, KEY_HEX)
    assert main(["db", "upgrade", "--data-dir", str(tmp_path)]) == 0  # no journal: left alone
    assert not (tmp_path / "journal.db").exists()
    with Journal(tmp_path / "journal.db", Sealer(bytes(range(32)))) as j:  # one from before
        j.db.conn.execute("DROP TABLE schema_version")  # schema versions existed
        j.db.conn.commit()
    capsys.readouterr()
    assert main(["db", "status", "--data-dir", str(tmp_path)]) == 1
    assert "sqlite: schema version 0 (this kiosk needs 1)" in capsys.readouterr().out
    assert (
        main(
            [
                "--config",
                str(_config(tmp_path)),
                "db",
                "upgrade",
                "--data-dir",
                str(tmp_path),
                "--json",
            ]
        )
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc == {"adapter": "sqlite", "current": 1, "target": 1, "up_to_date": True, "applied": 1}
    with Journal(tmp_path / "journal.db", Sealer(bytes(range(32)))) as j:  # and newer: refused
        j.db.conn.execute("UPDATE schema_version SET version = 7")
        j.db.conn.commit()
    assert main(["db", "upgrade", "--data-dir", str(tmp_path)]) == 1
    assert "newer than this kiosk's software" in capsys.readouterr().err


def test_two_kiosks_share_one_queue_and_one_cache(shared: str, tmp_path: Path) -> None:
    assert main(["db", "upgrade", "--data-dir", str(tmp_path / "admin")]) == 0
    with _kiosk(tmp_path / "a") as a, _kiosk(tmp_path / "b") as b:
        first = a.checkin_manual("001088034517", "Trần Đức Minh", date(1988, 3, 4))
        second = b.checkin_manual("046196008821", "Nguyễn Thị Ánh Tuyết", date(1996, 7, 15))
        assert (first.outcome.queue_number, second.outcome.queue_number) == (1, 2)
        # the desk at kiosk b sees kiosk a's patient (search ignores diacritics)
        assert [r["full_name"] for r in b.today("tran duc")] == ["Trần Đức Minh"]
        assert len(a.today()) == 2
        assert a.storage.is_shared
        local = tmp_path / "a" / "journal.db"  # only the kiosk's own audit trail, if any
        if local.exists():
            with sqlite3.connect(local) as conn:
                tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
                if "checkins" in tables:
                    assert conn.execute("SELECT count(*) FROM checkins").fetchone() == (0,)
        # an answer kiosk a got from the gateway serves kiosk b while the gateway is down
        a.storage.cache.put("001088034517", {"status": "eligible"}, as_of=datetime.now(UTC))
        got = b.storage.cache.get("001088034517")
        assert got is not None and got.payload == {"status": "eligible"}
        record = b.storage.journal.get(first.outcome.checkin_id)
        assert record is not None and record.holder["full_name"] == "Trần Đức Minh"
        assert [r.queue_number for r in a.storage.journal.day(today())] == [1, 2]


def test_a_kiosk_refuses_an_old_schema_until_db_upgrade(shared: str, tmp_path: Path) -> None:
    with _kiosk(tmp_path / "a") as a, pytest.raises(SchemaOutdated) as info:
        a.checkin_manual("001088034517", "Trần Đức Minh", date(1988, 3, 4))
    assert "cccd-kiosk db upgrade" in message_for(info.value).action_en


def test_a_kiosk_refuses_a_newer_schema(shared: str, tmp_path: Path) -> None:
    assert main(["db", "upgrade", "--data-dir", str(tmp_path / "admin")]) == 0
    with psycopg.connect(shared, autocommit=True) as conn:
        conn.execute("INSERT INTO cccd.schema_version (version) VALUES (%s)", (TARGET + 1,))
    with _kiosk(tmp_path / "a") as a, pytest.raises(SchemaTooNew) as info:
        a.checkin_manual("001088034517", "Trần Đức Minh", date(1988, 3, 4))
    assert "update the kiosk software" in message_for(info.value).action_en
    assert main(["db", "upgrade", "--data-dir", str(tmp_path / "admin")]) == 1  # refused too


def test_a_kiosk_with_another_key_is_refused_before_writing(
    shared: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["db", "upgrade", "--data-dir", str(tmp_path / "admin")]) == 0
    monkeypatch.setenv(KEY_ENV, bytes(range(1, 33)).hex())
    with _kiosk(tmp_path / "a") as a, pytest.raises(WrongStorageKey):
        a.checkin_manual("001088034517", "Trần Đức Minh", date(1988, 3, 4))
    with psycopg.connect(shared) as conn:
        assert conn.execute("SELECT count(*) FROM cccd.checkins").fetchone() == (0,)


def test_the_demo_never_uses_the_shared_database(
    shared: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CCCD_KIOSK_DATA_DIR", str(tmp_path))
    demo = Kiosk(resolve(None, Overrides()), demo_gateway=False)
    try:
        assert demo.settings.demo
        assert not demo.storage.is_shared
    finally:
        demo.close()


def test_doctor_reports_the_shared_databases_schema(shared: str, tmp_path: Path) -> None:
    from kiosk.app.doctor import Context, check_journal

    settings = resolve(_config(tmp_path / "a"), Overrides(data_dir=tmp_path / "a"))
    before = check_journal(Context(settings, None))
    assert before.status == "fail" and "db upgrade" in before.fix_en
    assert "postgres@" not in before.detail  # no user name or password in the report
    assert main(["db", "upgrade", "--data-dir", str(tmp_path / "admin")]) == 0
    after = check_journal(Context(settings, None))
    assert (after.status, after.detail.endswith(f"schema version {TARGET}")) == ("ok", True)


def test_desks_on_two_kiosks_call_from_one_shared_queue(shared: str, tmp_path: Path) -> None:
    assert main(["db", "upgrade", "--data-dir", str(tmp_path / "admin")]) == 0
    one = Kiosk(
        resolve(_config(tmp_path / "a", "Quầy 1"), Overrides(data_dir=tmp_path / "a")),
        demo_gateway=False,
    )
    two = Kiosk(
        resolve(_config(tmp_path / "b", "Quầy 2"), Overrides(data_dir=tmp_path / "b")),
        demo_gateway=False,
    )
    with one, two:
        for i, name in enumerate(("Trần Đức Minh", "Nguyễn Thị Ánh Tuyết", "Võ Minh Khôi")):
            (one if i % 2 else two).checkin_manual(f"00108803451{i}", name, date(1990, 1, 2))
        version = two.board_version()
        first = one.call_next()
        second = two.call_next()
        assert first is not None and second is not None
        assert (first.number, first.desk, second.number, second.desk) == (1, "Quầy 1", 2, "Quầy 2")
        assert two.board_version() != version
        doc = one.board()
        assert "Minh" not in json.dumps(doc, ensure_ascii=False)  # numbers and rooms only
        assert two.mark_served(1) and not one.mark_served(1)  # any desk closes it, once
        assert one.call_next() is not None and one.call_next() is None  # 3, then nobody
