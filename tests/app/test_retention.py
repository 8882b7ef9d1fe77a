"""Retention: ``[storage] retention_days`` for check-ins, ``max_stale_days`` for cached answers,
enforced at every kiosk start and by ``cccd-kiosk purge``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.app.kiosk import Kiosk
from kiosk.app.settings import Overrides, resolve
from kiosk.config import ConfigError, parse_config
from offline_cache.cache import EligibilityCache
from offline_cache.crypto import Sealer, load_or_create_key
from offline_cache.journal import Journal
from tests.cli.test_cli import run
from tests.offline_cache.test_quarantine import flip_byte

NOW = datetime.now(UTC)
OLD = NOW - timedelta(days=45)
MINH = {"id_number": "001088034517", "full_name": "Trần Đức Minh"}


def _journal_with(data: Path, *moments: datetime) -> list[str]:
    """Check-ins made at ``moments`` in the kiosk's own data folder (its key)."""
    sealer = Sealer(load_or_create_key(data))
    with Journal(data / "journal.db", sealer) as j:
        return [
            j.record(method="manual", chip_verified=False, holder=MINH, now=m).checkin_id
            for m in moments
        ]


def _ids(data: Path) -> list[str]:
    with Journal(data / "journal.db", Sealer(load_or_create_key(data))) as j:
        return [r[0] for r in j.db.conn.execute("SELECT checkin_id FROM checkins ORDER BY 1")]


def _kiosk(data: Path, config: Path | None = None) -> Kiosk:
    return Kiosk(resolve(config, Overrides(data_dir=data)), demo_gateway=False)


def test_retention_days_is_validated() -> None:
    assert parse_config("").storage.retention_days == 30
    assert parse_config("[storage]\nretention_days = 90\n").storage.retention_days == 90
    for bad in ("0", "4000", "1.5", '"30"'):
        with pytest.raises(ConfigError, match=r"storage\.retention_days"):
            parse_config(f"[storage]\nretention_days = {bad}\n")


def test_the_kiosk_purges_old_check_ins_at_start_without_a_his(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _, new = _journal_with(data, OLD, NOW)
    with _kiosk(data) as kiosk:
        assert [r["checkin_id"] for r in kiosk.today()] == [new]
    assert _ids(data) == [new]


def test_with_a_his_only_delivered_check_ins_go(tmp_path: Path) -> None:
    data = tmp_path / "data"
    config = tmp_path / "kiosk.toml"
    config.write_text('[his]\nurl = "http://127.0.0.1:9/checkins"\n[storage]\nretention_days = 7\n')
    delivered, waiting, recent = _journal_with(data, OLD, OLD, NOW)
    with Journal(data / "journal.db", Sealer(load_or_create_key(data))) as j:
        j.db.conn.execute(
            "UPDATE outbox SET state = 'delivered' WHERE checkin_id = ?", (delivered,)
        )
        j.db.conn.commit()
    with _kiosk(data, config) as kiosk:
        assert kiosk.purge(now=NOW).checkins == 0  # the start already did it
    assert _ids(data) == sorted([waiting, recent])  # never lose an undelivered check-in


def test_quarantined_rows_are_reported_then_purged(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ids = _journal_with(data, NOW, NOW)
    flip_byte(data / "journal.db", ids[0])
    with _kiosk(data) as kiosk:
        kiosk.today()
        first = kiosk.purge(now=NOW)
        assert (first.quarantined, first.quarantined_left) == (0, 1)  # kept, and said so
        later = kiosk.purge(now=NOW + timedelta(days=31))
        assert (later.checkins, later.quarantined, later.quarantined_left) == (1, 1, 0)
    assert _ids(data) == []


def test_cached_answers_past_max_stale_are_purged(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _journal_with(data, NOW)
    sealer = Sealer(load_or_create_key(data))
    with EligibilityCache(data / "cache.db", sealer) as c:
        c.put("001088034517", {"status": "eligible"}, as_of=NOW - timedelta(days=10))
        c.put("046196008821", {"status": "eligible"}, as_of=NOW)
    with _kiosk(data) as kiosk:
        assert len(kiosk.storage.cache) == 1  # purged at start (max_stale_days = 7)
        assert kiosk.purge(now=NOW + timedelta(days=8)).cached == 1


def test_purge_command(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _, new = _journal_with(data, OLD, NOW)
    proc = run("purge", "--data-dir", str(data))
    assert proc.returncode == 0, proc.stderr
    assert "deleted: 1 lượt đăng ký / check-ins older than 30 days" in proc.stdout
    assert _ids(data) == [new]
    nothing = run("purge", "--data-dir", str(tmp_path / "empty"))
    assert nothing.returncode == 2 and "no check-in journal" in nothing.stderr


def test_a_kiosk_left_running_purges_again_when_the_interval_has_passed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _journal_with(data, NOW)
    with _kiosk(data) as kiosk:
        kiosk.today()  # opened (and purged) at start
        old = _journal_with(data, OLD)[0]  # an old check-in appears while it runs
        kiosk.checkin_manual("079301000123", "Lê Văn Bình", datetime(1990, 1, 2).date())
        assert old in _ids(data)  # within the day: not yet
        kiosk.purge_interval_s = 0.0  # a day has passed
        kiosk.checkin_manual("079301000123", "Lê Văn Bình", datetime(1990, 1, 2).date())
        assert old not in _ids(data)
