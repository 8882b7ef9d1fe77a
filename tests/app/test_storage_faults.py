"""The kiosk's storage under faults: a row that does not open, a damaged cache, a held lock,
a missing or wrong key — check-ins go on, or the error says what to do."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from kiosk.app.kiosk import Kiosk
from kiosk.app.settings import Overrides, resolve
from offline_cache.export import today
from tests.offline_cache.test_quarantine import flip_byte

PEOPLE = [
    ("001088034517", "Trần Đức Minh"),
    ("046196008821", "Nguyễn Thị Ánh Tuyết"),
    ("079301000123", "Lê Văn Bình"),
]


def kiosk_at(data: Path) -> Kiosk:
    """A kiosk on ``data`` without a gateway (manual check-ins answer "ask staff")."""
    return Kiosk(resolve(None, Overrides(data_dir=data)), demo_gateway=False)


def checkin_all(data: Path) -> list[str]:
    with kiosk_at(data) as kiosk:
        return [kiosk.checkin_manual(i, n, date(1990, 1, 2)).outcome.checkin_id for i, n in PEOPLE]


def test_today_and_export_skip_a_quarantined_row(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ids = checkin_all(data)
    flip_byte(data / "journal.db", ids[0])
    with kiosk_at(data) as kiosk:
        rows = kiosk.today()
        assert [r["checkin_id"] for r in rows] == ids[1:]
        assert kiosk.quarantined() == 1
        assert [r["full_name"] for r in kiosk.today("tuyet")] == ["Nguyễn Thị Ánh Tuyết"]
        csv = kiosk.export_day(today())
    assert "Lê Văn Bình" in csv and ids[0] not in csv


def test_a_missing_key_stops_the_kiosk_with_the_restore_message(tmp_path: Path) -> None:
    from kiosk.app.messages import message_for
    from offline_cache.crypto import KEY_FILE, StorageKeyMissing

    data = tmp_path / "data"
    checkin_all(data)
    (data / KEY_FILE).unlink()
    journal_before = (data / "journal.db").read_bytes()
    with kiosk_at(data) as kiosk:
        try:
            kiosk.checkin_manual(*PEOPLE[0], date(1990, 1, 2))
        except StorageKeyMissing as exc:
            msg = message_for(exc)
        else:
            raise AssertionError("checked in under a new key")
    assert msg.title_en == "The storage key for this data folder is missing"
    assert "restore" in msg.action_en
    assert not (data / KEY_FILE).exists()
    assert (data / "journal.db").read_bytes() == journal_before


def test_export_without_the_key_says_restore_it(tmp_path: Path) -> None:
    from offline_cache.crypto import KEY_FILE
    from tests.cli.test_cli import run

    data = tmp_path / "data"
    checkin_all(data)
    (data / KEY_FILE).unlink()
    proc = run("export", "--date", today().isoformat(), "--data-dir", str(data))
    assert proc.returncode != 0
    assert "storage key for this data folder is missing" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (data / KEY_FILE).exists()
