"""``cccd-kiosk outbox``: waiting check-ins reach the hospital system exactly once, and a
check-in drains the outbox itself when ``[his] url`` is configured."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import run
from tests.fixtures.his_receiver import HisReceiver


def _manual(data: Path, *extra: str) -> None:
    proc = run(
        "checkin",
        "--manual",
        "--id",
        "046196008821",
        "--name",
        "Nguyễn Thị Ánh Tuyết",
        "--dob",
        "1996-11-23",
        "--data-dir",
        str(data),
        *extra,
    )
    assert proc.returncode == 0, proc.stderr


def test_outbox_delivers_each_check_in_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _manual(data)
    _manual(data, "--id", "079212004562", "--name", "Phạm Gia Bảo", "--dob", "2012-03-18")
    with HisReceiver() as his:
        first = run("outbox", "--url", his.url, "--data-dir", str(data))
        assert first.returncode == 0, first.stderr
        assert "delivered 2" in first.stdout and "waiting 0" in first.stdout
        again = run("outbox", "--url", his.url, "--data-dir", str(data))
        assert "delivered 0" in again.stdout
        stats = his.stats()
        assert stats["unique"] == 2 and stats["max_per_key"] == 1
        body = next(iter(his.bodies.values()))
        assert body["ho_ten"] == "Nguyễn Thị Ánh Tuyết" and body["so_cccd"] == "046196008821"


def test_unreachable_his_keeps_them_waiting(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _manual(data)
    proc = run("outbox", "--url", "http://127.0.0.1:9/checkins", "--data-dir", str(data))
    assert proc.returncode == 1
    assert "waiting 1" in proc.stdout


def test_check_in_drains_when_the_config_names_the_his(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with HisReceiver() as his:
        config = tmp_path / "kiosk.toml"
        config.write_text(f'[his]\nurl = "{his.url}"\nformat = "fhir"\n')
        _manual(data, "--config", str(config))
        assert his.stats()["unique"] == 1
        bundle = json.loads(json.dumps(next(iter(his.bodies.values()))))
        assert bundle["resourceType"] == "Bundle"


def test_outbox_without_an_address_is_a_usage_error(tmp_path: Path) -> None:
    proc = run("outbox", "--data-dir", str(tmp_path))
    assert proc.returncode == 2 and "--url" in proc.stderr


def test_plain_http_his_is_refused_unless_the_lab_switch_is_set(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _manual(data)
    proc = run("outbox", "--url", "http://his.example/checkins", "--data-dir", str(data))
    assert proc.returncode == 2, proc.stderr
    assert "The hospital system address is not encrypted" in proc.stderr
    assert "https" in proc.stderr
    config = tmp_path / "kiosk.toml"
    config.write_text('[his]\nurl = "http://127.0.0.1:9/x"\nallow_insecure_http = true\n')
    lab = run("outbox", "--config", str(config), "--data-dir", str(data))
    assert lab.returncode == 1 and "waiting 1" in lab.stdout  # accepted, HIS down
