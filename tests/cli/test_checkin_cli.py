"""``cccd-kiosk checkin`` / ``export`` (kiosk.checkin_cli) and the config sections they use."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from kiosk import cli
from kiosk.config import Config, ConfigValueError, UnknownConfigKey, parse_config
from kiosk.eligibility import bhxh
from tests.fixtures.gateway import set_kiosk_credentials

ROOT = Path(__file__).resolve().parents[2]
ELIGIBILITY_KEYS = {
    "status",
    "code",
    "message",
    "source",
    "as_of",
    "stale",
    "valid_from",
    "valid_to",
    "registered_clinic",
}


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run ``cccd-kiosk ARGV`` in this process."""
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse's own usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def run_env(
    argv: list[str], capsys: pytest.CaptureFixture[str], env: dict[str, str]
) -> tuple[int, str, str]:
    """:func:`run` with ``env`` set for the call only."""
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        return run(argv, capsys)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, clean_gateway: Any) -> Iterator[Any]:
    """The kiosk's gateway credentials in the environment (the only place they come from)."""
    set_kiosk_credentials(monkeypatch, clean_gateway)
    yield clean_gateway


def checkin(gw: Any, data: Path, *args: str) -> list[str]:
    return ["checkin", "--gateway", gw.url, "--data-dir", str(data), "--link-kbps", "0", *args]


def test_checkin_json_live_then_cache_then_export(
    env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = checkin(env, tmp_path, "--reader", "sim:default", "--can", "034517", "--json")
    code, out, _ = run(argv, capsys)
    assert code == 0
    doc = json.loads(out)
    assert doc["holder"]["id_number"] == "001088034517"
    assert doc["passive_auth"]["verdict"] == "verified"  # read --json's document
    assert set(doc["eligibility"]) >= ELIGIBILITY_KEYS
    el = doc["eligibility"]
    assert (el["status"], el["code"], el["source"], el["stale"]) == (
        "eligible",
        "000",
        "live",
        False,
    )
    assert el["registered_clinic"] == "01001"
    assert el["valid_to"] == f"{date.today().year}-12-31"
    assert doc["checkin_id"] and doc["chip_verified"] is True
    assert {p.name for p in tmp_path.iterdir()} >= {"cache.db", "journal.db", "storage.key"}

    env.stop()
    try:
        code, out, _ = run(argv, capsys)
    finally:
        env.start()
    assert code == 0
    cached = json.loads(out)["eligibility"]
    assert (cached["status"], cached["source"]) == ("eligible", "cache")
    assert cached["as_of"] == el["as_of"] and cached["stale"] is False

    day = doc["checkin_id"][:8]
    iso = f"{day[:4]}-{day[4:6]}-{day[6:]}"
    code, out, _ = run(
        ["export", "--date", iso, "--format", "csv", "--data-dir", str(tmp_path)], capsys
    )
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert len(rows) == 2  # header + one check-in: the second tap kept the first's number
    code, out, _ = run(
        ["export", "--date", iso, "--format", "json", "--data-dir", str(tmp_path)], capsys
    )
    assert code == 0 and len(json.loads(out)) == 1


def test_unknown_patient_offline_asks_staff(
    env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env.stop()
    try:
        code, out, _ = run(
            checkin(env, tmp_path, "--reader", "sim:teen", "--can", "004562", "--json"), capsys
        )
    finally:
        env.start()
    assert code == 0
    el = json.loads(out)["eligibility"]
    assert (el["status"], el["code"], el["source"]) == ("unknown", None, "live")
    assert "ask staff" in el["advice_en"]


@pytest.mark.parametrize(
    ("card", "key", "status", "code"),
    [
        ("bac-only", ["--id", "092079005136", "--dob", "1979-06-30"], "not_eligible", "010"),
        ("pace-only", ["--can", "003978"], "not_eligible", "050"),
    ],
)
def test_not_eligible_exits_0(
    env: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    card: str,
    key: list[str],
    status: str,
    code: str,
) -> None:
    rc, out, _ = run(checkin(env, tmp_path, "--reader", f"sim:{card}", *key, "--json"), capsys)
    assert rc == 0
    el = json.loads(out)["eligibility"]
    assert (el["status"], el["code"]) == (status, code)


def test_text_output(env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(checkin(env, tmp_path, "--reader", "sim:elder", "--can", "007283"), capsys)
    assert rc == 0
    assert "BHYT card valid" in out and "mã / code 001" in out and "Queue number" in out


def test_bhyt_qr_and_manual(env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    qr = "|".join(
        [
            *("DN4010188034517", "Trần Đức Minh".encode().hex(), "21/07/1988", "1", "-"),
            *("01 - 001", "01/01/2026", "31/12/2026", "01/01/2026", "$"),
        ]
    )
    rc, out, _ = run(checkin(env, tmp_path, "--bhyt-qr", qr, "--json"), capsys)
    assert rc == 0
    doc = json.loads(out)
    assert doc["method"] == "bhyt_qr" and doc["chip_verified"] is False
    assert doc["bhyt_card"]["registered_clinic"] == "01001"
    assert doc["eligibility"]["status"] == "eligible"
    manual = ["--manual", "--id", "001088034517", "--name", "Trần Đức Minh", "--dob", "1988-07-21"]
    rc, out, _ = run(checkin(env, tmp_path, *manual, "--json"), capsys)
    assert rc == 0
    doc = json.loads(out)
    assert doc["method"] == "manual" and doc["chip_verified"] is False
    assert doc["eligibility"]["code"] == "000"


@pytest.mark.parametrize(
    "args",
    [
        ["--manual", "--id", "001088034517", "--dob", "1988-07-21"],  # no --name
        ["--can", "034517", "--name", "X"],
        ["--id", "001088034517"],  # no --dob
        ["--bhyt-qr", "not a qr"],
        ["--bhyt-qr", "x", "--reader", "sim:default"],
        ["--manual", "--id", "123", "--name", "A", "--dob", "1988-07-21"],
        ["--can", "034517", "--gateway-kind", "nope"],
    ],
)
def test_usage_errors_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    rc, out, err = run(["checkin", "--data-dir", str(tmp_path), *args], capsys)
    assert rc == 2 and out == "" and "Traceback" not in err


def test_missing_credentials_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (bhxh.ENV_USERNAME, bhxh.ENV_PASSWORD):
        monkeypatch.delenv(name, raising=False)
    rc, _, err = run(
        [
            "checkin",
            "--gateway",
            "http://127.0.0.1:9",
            "--data-dir",
            str(tmp_path),
            "--can",
            "034517",
        ],
        capsys,
    )
    assert rc == 2 and bhxh.ENV_USERNAME in err


def test_wrong_can_exits_5(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rc, _, err = run(
        ["checkin", "--reader", "sim:default", "--can", "000000", "--data-dir", str(tmp_path)],
        capsys,
    )
    assert rc == 5 and "Wrong card access number" in err and "Kiểm tra 6 số cuối" in err


def test_no_gateway_configured_asks_staff(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real kiosk (PC/SC reader) with no [gateway] url: reception asks staff."""
    config = tmp_path / "kiosk.toml"
    config.write_text('[reader]\nname = "pcsc"\n', encoding="utf-8")
    rc, out, _ = run(
        [
            *("checkin", "--config", str(config), "--manual", "--id", "046196008821"),
            *("--name", "Nguyễn Thị Ánh Tuyết", "--dob", "1996-11-23"),
            *("--data-dir", str(tmp_path / "data"), "--json"),
        ],
        capsys,
    )
    doc = json.loads(out)
    assert rc == 0 and doc["eligibility"]["status"] == "unknown"
    assert doc["holder"]["full_name"] == "Nguyễn Thị Ánh Tuyết"


def test_the_demo_asks_the_gateway_simulator(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The simulated reader is the demo: with no gateway given it asks the simulator on
    loopback (made-up credentials, nothing from the environment) and keeps its data in the
    demo folder, never the real kiosk's."""
    data = tmp_path / "data"
    env = {"CCCD_KIOSK_DATA_DIR": str(data)}
    rc, out, _ = run_env(
        ["checkin", "--reader", "sim:default", "--can", "034517", "--json", "--link-kbps", "0"],
        capsys,
        env,
    )
    doc = json.loads(out)
    assert rc == 0 and doc["eligibility"]["status"] == "eligible"
    assert doc["eligibility"]["source"] == "live" and doc["queue_number"] == 1
    assert (data / "demo" / "journal.db").exists() and not (data / "journal.db").exists()
    from offline_cache.export import today

    day = today().isoformat()
    rc, out, _ = run_env(["export", "--date", day, "--format", "json"], capsys, env)
    assert rc == 0 and [r["full_name"] for r in json.loads(out)] == ["Trần Đức Minh"]


def test_export_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, _ = run(["export", "--date", "24/11/2026", "--data-dir", str(tmp_path)], capsys)
    assert rc == 2
    rc, _, err = run(["export", "--date", "2026-11-24", "--data-dir", str(tmp_path)], capsys)
    assert rc == 2 and "no check-in journal" in err


def test_process_end_to_end(env: Any, tmp_path: Path) -> None:
    """The real command in its own process: credentials only from the environment."""
    argv = [sys.executable, "-m", "kiosk.cli"]
    argv += checkin(env, tmp_path, "--reader", "sim:anh-tuyet", "--can", "008821", "--json")
    proc = subprocess.run(
        argv, cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["eligibility"]["status"] == "eligible"


# ---- configuration -----------------------------------------------------------------------


def test_new_sections_default_and_parse() -> None:
    assert Config().gateway.url is None and Config().storage.cache_ttl_hours == 24
    config = parse_config(
        '[gateway]\nurl = "https://egw.example.vn"\nkind = "fhir"\ntimeout_s = 3\n'
        '[storage]\ndata_dir = "/var/lib/k"\ncache_ttl_hours = 12\nmax_stale_days = 2\n'
        '[his]\nurl = "http://his.local/checkin"\nformat = "fhir"\n'
        '[reader]\nname = "sim:teen"\n'
    )
    assert config.gateway.kind == "fhir" and config.gateway.timeout_s == 3.0
    assert config.storage.max_stale_days == 2.0 and config.his.format == "fhir"
    assert config.reader.name == "sim:teen"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[gateway]\nurl = "ftp://x"\n', "gateway.url"),
        ('[gateway]\nkind = "soap"\n', "gateway.kind"),
        ('[gateway]\napi_version = "2020"\n', "gateway.api_version"),
        ("[gateway]\ntimeout_s = 0\n", "gateway.timeout_s"),
        ("[storage]\ncache_ttl_hours = 48\nmax_stale_days = 1\n", "storage.max_stale_days"),
        ('[his]\nformat = "hl7v2"\n', "his.format"),
        ('[storage]\nmax_stale_days = "7"\n', "storage.max_stale_days"),
    ],
)
def test_bad_values_name_the_key(text: str, key: str) -> None:
    with pytest.raises(ConfigValueError) as info:
        parse_config(text)
    assert info.value.key == key


def test_unknown_key_in_new_section() -> None:
    with pytest.raises(UnknownConfigKey) as info:
        parse_config("[gateway]\npassword = 'x'\n")
    assert info.value.key == "gateway.password"


def test_config_file_supplies_gateway_and_data_dir(
    env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    conf = tmp_path / "kiosk.toml"
    conf.write_text(
        f'[reader]\nname = "sim:teen"\n[gateway]\nurl = "{env.url}"\n'
        f'[storage]\ndata_dir = "{data}"\n',
        encoding="utf-8",
    )
    rc, out, _ = run(["checkin", "--config", str(conf), "--can", "004562", "--json"], capsys)
    assert rc == 0 and json.loads(out)["eligibility"]["code"] == "000"
    assert (data / "demo" / "journal.db").exists()  # a sim: reader is the demo: its own folder


def _dept_config(tmp_path: Path) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(
        '[reader]\nname = "pcsc"\n'
        f'[storage]\ndata_dir = "{tmp_path / "data"}"\n'
        '[[departments]]\ncode = "NOI"\nname_vi = "Khoa Nội"\nname_en = "Internal medicine"\n'
        'room = "203"\n'
        '[[departments]]\ncode = "RHM"\nname_vi = "Răng Hàm Mặt"\nroom = "105"\n',
        encoding="utf-8",
    )
    return path


TUYET_MANUAL = ["--manual", "--id", "046196008821", "--name", "Nguyễn Thị Ánh Tuyết"]
TUYET_MANUAL += ["--dob", "1996-11-23"]
MINH_MANUAL = ["--manual", "--id", "001088034517", "--name", "Trần Đức Minh", "--dob", "1988-03-04"]


def test_checkin_numbers_per_department(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`checkin --department` takes a number in that department's queue; the JSON names the
    department, its room and the number; the same patient again in the same department keeps
    the number, in another department gets that department's next one."""
    cfg = ["--config", str(_dept_config(tmp_path))]

    def go(*args: str) -> dict[str, Any]:
        rc, out, err = run(["checkin", *cfg, *args, "--json"], capsys)
        assert rc == 0, err
        doc: dict[str, Any] = json.loads(out)
        return doc

    a = go(*TUYET_MANUAL, "--department", "NOI")
    assert (a["department"], a["room"], a["queue_number"], a["repeat"]) == ("NOI", "203", 1, False)
    assert a["department_name"] == {"vi": "Khoa Nội", "en": "Internal medicine"}
    b = go(*MINH_MANUAL, "--department", "noi")
    assert (b["department"], b["queue_number"]) == ("NOI", 2)
    again = go(*TUYET_MANUAL, "--department", "NOI")
    assert again["repeat"] and again["checkin_id"] == a["checkin_id"]
    assert again["queue_number"] == 1
    c = go(*TUYET_MANUAL, "--department", "RHM")
    assert (c["department"], c["room"], c["queue_number"], c["repeat"]) == ("RHM", "105", 1, False)
    assert c["department_name"] == {"vi": "Răng Hàm Mặt", "en": "Răng Hàm Mặt"}

    # the text form says where to go
    rc, out, _ = run(["checkin", *cfg, *MINH_MANUAL, "--department", "RHM"], capsys)
    assert rc == 0 and "Răng Hàm Mặt — Phòng / Room 105" in out


def test_department_must_be_known_and_chosen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = ["--config", str(_dept_config(tmp_path))]
    rc, _, err = run(["checkin", *cfg, *TUYET_MANUAL], capsys)
    assert rc == 2 and "--department (NOI, RHM)" in err
    rc, _, err = run(["checkin", *cfg, *TUYET_MANUAL, "--department", "XYZ"], capsys)
    assert rc == 2 and "'XYZ'" in err and "known: NOI, RHM" in err
    # nothing was journaled by the refused attempts: the first real one is number 1
    rc, out, _ = run(["checkin", *cfg, *TUYET_MANUAL, "--department", "RHM", "--json"], capsys)
    assert rc == 0 and json.loads(out)["queue_number"] == 1
    from offline_cache.export import today

    rc, out, _ = run(["export", *cfg, "--date", today().isoformat(), "--format", "json"], capsys)
    rows = json.loads(out)
    assert [(r["department"], r["room"], r["queue_number"]) for r in rows] == [("RHM", "105", 1)]
