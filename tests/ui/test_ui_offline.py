"""A reception kiosk on the shared database when the server goes away and comes back.

Through the application layer (:class:`kiosk.app.kiosk.Kiosk`) and a real PostgreSQL reached
over a cable the test pulls: check-ins go on with numbers of the kiosk's block, staff read
"Offline since HH:MM — N check-ins waiting to sync" in the header (a real Qt widget), and
after the server is back Today lists every check-in once with the number the patient holds.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pytestqt.qtbot import QtBot

from kiosk.app.kiosk import Kiosk
from kiosk.app.settings import Overrides, resolve
from kiosk.app.storage import DATABASE_URL_ENV
from offline_cache import spool as spool_module
from offline_cache.crypto import KEY_ENV
from offline_cache.spool import spool_waiting
from tests.fixtures.tcp_cut import Cable
from ui.header import Header, offline_notice

KEY_HEX = bytes(range(32)).hex()
BORN = date(1990, 5, 17)


def _gauges(kiosk: Kiosk) -> dict[str, float]:
    """The scrape's unlabelled gauges, parsed by prometheus_client's own parser."""
    text = kiosk.metrics.scrape().decode()
    return {
        f.name: f.samples[0].value
        for f in text_string_to_metric_families(text)
        if f.type == "gauge" and len(f.samples) == 1
    }


def _kiosk(folder: Path, desk: str) -> Kiosk:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    config = folder / "kiosk.toml"
    config.write_text(
        f'[reader]\nname = "pcsc"\n[display]\ndesk = "{desk}"\n'
        "[storage]\nconnect_timeout_s = 1.0\n",
        encoding="utf-8",
    )
    return Kiosk(resolve(config, Overrides(data_dir=folder)), demo_gateway=False)


@pytest.fixture
def through_cable(
    pg_url: str, cable: Cable, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Cable:
    """The hospital's environment, the database reached through ``cable``; schema upgraded."""
    from kiosk.app.storage import upgrade_schema
    from kiosk.config import StorageConfig

    monkeypatch.setenv(KEY_ENV, KEY_HEX)
    upgrade_schema(tmp_path / "owner", StorageConfig(), pg_url)
    monkeypatch.setenv(DATABASE_URL_ENV, cable.url(pg_url))
    monkeypatch.setattr(spool_module, "RETRY_S", 3600.0)  # the test probes itself
    monkeypatch.setattr(spool_module, "HEARTBEAT_S", 3600.0)
    return cable


def test_reception_checks_in_offline_and_sees_since_when(
    through_cable: Cable, tmp_path: Path, qtbot: QtBot
) -> None:
    kiosk = _kiosk(tmp_path / "desk", "Quầy 2")
    header = Header("Bệnh viện Đa khoa Tỉnh")
    qtbot.addWidget(header)
    header.status = lambda lang: offline_notice(kiosk.connection, lang)
    try:
        online = kiosk.checkin_manual("001190000123", "Nguyễn Thị Ánh Tuyết", BORN)
        assert online.outcome.queue_number == 1
        assert kiosk.connection is not None and kiosk.connection.online
        header.tick()
        assert header.notice.isHidden()

        through_cable.cut()
        offline = kiosk.checkin_manual("079085001234", "Lê Văn Đạt", BORN)
        block = kiosk.connection.block
        assert offline.outcome.queue_number == block * 1000 + 1
        connection = kiosk.connection
        assert connection.offline_since is not None and connection.waiting == 1
        header.tick()
        since = f"{connection.offline_since:%H:%M}"
        assert not header.notice.isHidden()
        assert header.notice.text() == f"Mất kết nối máy chủ từ {since} — 1 lượt chờ đồng bộ"
        header.set_language("en")
        assert header.notice.text() == f"Offline since {since} — 1 check-ins waiting to sync"
        gauges = _gauges(kiosk)
        assert gauges["cccd_kiosk_shared_database_up"] == 0.0
        assert gauges["cccd_kiosk_spool_waiting"] == 1.0
        assert kiosk.metrics.health()["shared_database"] == {"online": False, "spool_waiting": 1}
        assert spool_waiting(tmp_path / "desk") == 1  # what `cccd-kiosk doctor` reports
        # the ticket and Today carry the number the patient holds
        rows = kiosk.today()
        assert [r["queue_number"] for r in rows] == [offline.outcome.queue_number]

        through_cable.plug()
        spooling = kiosk.storage.spooling
        assert spooling is not None and spooling.probe()
        header.tick()
        assert header.notice.isHidden() and kiosk.connection.waiting == 0
        gauges = _gauges(kiosk)
        assert gauges["cccd_kiosk_shared_database_up"] == 1.0
        assert gauges["cccd_kiosk_spool_waiting"] == 0.0
        assert gauges["cccd_kiosk_outbox_pending"] == 2.0  # the hospital's, on the server
        assert spool_waiting(tmp_path / "desk") == 0
        rows = kiosk.today()
        assert sorted(r["queue_number"] for r in rows) == [1, offline.outcome.queue_number]
        names = sorted(r["full_name"] for r in rows)
        assert names == ["Lê Văn Đạt", "Nguyễn Thị Ánh Tuyết"]  # diacritics kept, NFC
    finally:
        kiosk.close()


def test_the_embedded_kiosk_has_no_connection_to_show(tmp_path: Path) -> None:
    kiosk = _kiosk(tmp_path / "solo", "Quầy 1")
    try:
        kiosk.checkin_manual("001190000123", "Nguyễn Thị Ánh Tuyết", BORN)
        assert kiosk.connection is None
        assert offline_notice(kiosk.connection, "vi") == ""
    finally:
        kiosk.close()
