"""Privacy: the whole check-in flow for every sample card leaks no personal data to logs or
to the SQLite files.

Every logger runs at DEBUG (caplog plus a handler of our own on the root logger, so a
library logger that stops propagating is still seen); the flow is the real one — the
``cccd-kiosk checkin`` handler against the gateway simulator process, live and then with the
gateway stopped (cache path), BHYT QR and reception check-ins, the HIS outbox and the staff
export. Then every log record (message, arguments and formatted text) and every byte of the
database files (WAL included) is searched for the sample people's ID numbers, BHYT numbers,
names and addresses, in UTF-8 and in the ASCII forms the MRZ uses.
"""

from __future__ import annotations

import contextlib
import json
import logging
import tomllib
import unicodedata
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from kiosk import cli
from kiosk.app.storage import CACHE_DB, JOURNAL_DB
from offline_cache.crypto import Sealer, load_or_create_key
from simulators.card.profile import list_profiles, load_profile, mrz_name
from tests.fixtures.gateway import set_kiosk_credentials

ROOT = Path(__file__).resolve().parents[2]
INSURED = ROOT / "simulators" / "gateway" / "data" / "insured.toml"


def secrets_of_samples() -> set[str]:
    """Every personal value of the sample people (cards and the gateway's insured list)."""
    out: set[str] = set()
    for name in list_profiles():
        p = load_profile(name).person
        values = [
            p.id_number,
            p.full_name,
            p.place_of_origin,
            p.place_of_residence,
            p.father_name,
            p.mother_name,
            p.spouse_name,
            p.old_id_number,
            mrz_name(p.full_name).replace("<", " ").strip(),
        ]
        out.update(v for v in values if v)
    if INSURED.is_file():
        data = tomllib.loads(INSURED.read_text(encoding="utf-8"))
        for person in data.get("person", []):
            for key in ("cccd", "maThe", "maSoBHXH", "hoTen", "diaChi", "card_name"):
                if person.get(key):
                    out.add(str(person[key]))
    return {unicodedata.normalize("NFC", s) for s in out if len(s) >= 6}


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], list[logging.LogRecord]]]:
    """Every record at DEBUG from every logger, through caplog and a root handler."""
    caplog.set_level(logging.DEBUG)
    root = logging.getLogger()
    handler = _Collect()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    loggers = [logging.getLogger(n) for n in list(logging.root.manager.loggerDict)]
    levels = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    yield lambda: [*handler.records, *caplog.records]
    root.removeHandler(handler)
    root.setLevel(old)
    for lg, level in levels:
        lg.setLevel(level)


def _texts(record: logging.LogRecord) -> list[str]:
    out = [str(record.msg), repr(record.args)]
    with contextlib.suppress(Exception):
        out.append(record.getMessage())
    if record.exc_info and record.exc_info[1] is not None:
        out.append(repr(record.exc_info[1]))
    if record.exc_text:
        out.append(record.exc_text)
    return out


def _needles(secret: str) -> list[bytes]:
    forms = {secret, unicodedata.normalize("NFD", secret)}
    out = [f.encode("utf-8") for f in forms]
    if secret.isascii():
        out.append(secret.encode("utf-16-le"))
    return out


def test_secrets_list_is_meaningful() -> None:
    s = secrets_of_samples()
    assert "001088034517" in s and "Trần Đức Minh" in s
    assert len(s) >= 6 * len(list_profiles())


def test_checkin_flow_leaks_nothing(
    clean_gateway: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    all_logs: Callable[[], list[logging.LogRecord]],
) -> None:
    set_kiosk_credentials(monkeypatch, clean_gateway)
    data = tmp_path / "data"
    base = ["checkin", "--gateway", clean_gateway.url, "--data-dir", str(data)]
    base += ["--link-kbps", "0", "--json"]
    printed: list[str] = []

    def run(*args: str) -> None:
        assert cli.main([*base, *args]) == 0
        printed.append(capsys.readouterr().out)

    def every_card() -> None:
        for name in list_profiles():
            profile = load_profile(name)
            if profile.chip.mode == "bac":
                dob = profile.person.date_of_birth.isoformat()
                run("--reader", f"sim:{name}", "--id", profile.id_number, "--dob", dob)
            else:
                run("--reader", f"sim:{name}", "--can", profile.can)

    every_card()  # live
    qr = "|".join(
        [
            *("DN4010188034517", "Trần Đức Minh".encode().hex(), "21/07/1988", "1", "-"),
            *("01 - 001", "01/01/2026", "31/12/2026", "01/01/2026", "$"),
        ]
    )
    run("--bhyt-qr", qr)
    run("--manual", "--id", "046196008821", "--name", "Nguyễn Thị Ánh Tuyết", "--dob", "1996-11-23")
    clean_gateway.stop()
    try:
        every_card()  # from the cache
        run("--manual", "--id", "079212004562", "--name", "Phạm Gia Bảo", "--dob", "2012-03-18")
    finally:
        clean_gateway.start()

    # the HIS outbox and the staff export touch the same data
    from offline_cache.journal import VIETNAM_TZ, Journal
    from offline_cache.outbox import Outbox
    from tests.fixtures.his_receiver import HisReceiver

    sealer = Sealer(load_or_create_key(data))
    with HisReceiver() as his:
        outbox = Outbox(data / JOURNAL_DB, sealer, url=his.url)
        outbox.drain()
        outbox.close()
    today = datetime.now(VIETNAM_TZ).date()
    assert cli.main(["export", "--date", today.isoformat(), "--data-dir", str(data)]) == 0
    printed.append(capsys.readouterr().out)
    with Journal(data / JOURNAL_DB, sealer) as journal:
        assert (
            len(journal.day(today)) + len(journal.day(date.fromordinal(today.toordinal() - 1)))
            >= len(list_profiles()) + 1  # each patient once a day (a second pass keeps it)
        )

    secrets = secrets_of_samples()
    # The flow really handled the data (so not finding it below means something).
    assert "001088034517" in "".join(printed) and "Trần Đức Minh" in "".join(printed)

    records = all_logs()
    assert any(r.name.startswith("kiosk.") for r in records), "the capture is not working"
    leaks = [
        (r.name, s)
        for r in records
        for text in _texts(r)
        for s in secrets
        if unicodedata.normalize("NFC", s) in unicodedata.normalize("NFC", text)
    ]
    assert leaks == [], f"personal data in log records: {sorted(set(leaks))[:5]}"

    files = [p for p in data.iterdir() if p.is_file() and p.name != "storage.key"]
    assert any(p.name == JOURNAL_DB for p in files)
    assert any(p.name == CACHE_DB for p in files)
    found = [
        (p.name, s)
        for p in files
        for s in secrets
        for needle in _needles(s)
        if needle in p.read_bytes()
    ]
    assert found == [], f"personal data in clear in {sorted({f for f, _ in found})}"


def test_gateway_simulator_log_has_no_id_numbers(clean_gateway: Any) -> None:
    """The simulator's own stderr (it ran every check-in above in this worker, or others)."""
    text = clean_gateway.log()
    ids = {load_profile(n).id_number for n in list_profiles()}
    assert not [i for i in ids if i in text]


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_log_files_leak_nothing(
    fmt: str,
    clean_gateway: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The same flow with ``[logging]`` writing ``fmt`` lines at DEBUG to a rotated file:
    every byte of the file and its rotated copies is searched (NFC, NFD, ASCII forms)."""
    from kiosk.app.logs import configure_logging

    monkeypatch.delenv("CCCD_KIOSK_LOG_LEVEL", raising=False)
    set_kiosk_credentials(monkeypatch, clean_gateway)
    log_file = tmp_path / "logs" / "kiosk.log"
    config = tmp_path / "kiosk.toml"
    config.write_text(
        '[reader]\nname = "sim:default"\n'
        f'[logging]\nformat = "{fmt}"\nfile = "{log_file}"\nlevel = "DEBUG"\n'
        "max_bytes = 4096\nbackups = 50\n",
        encoding="utf-8",
    )
    base = ["checkin", "--config", str(config), "--gateway", clean_gateway.url]
    base += ["--data-dir", str(tmp_path / "data"), "--link-kbps", "0", "--json"]
    try:
        for gateway_up in (True, False):
            if not gateway_up:
                clean_gateway.stop()
            for name in list_profiles():
                profile = load_profile(name)
                if profile.chip.mode == "bac":
                    dob = profile.person.date_of_birth.isoformat()
                    args = ["--reader", f"sim:{name}", "--id", profile.id_number, "--dob", dob]
                else:
                    args = ["--reader", f"sim:{name}", "--can", profile.can]
                assert cli.main([*base, *args]) == 0
            manual = ["--manual", "--id", "079212004562", "--name", "Phạm Gia Bảo"]
            assert cli.main([*base, *manual, "--dob", "2012-03-18"]) == 0
        assert "001088034517" in capsys.readouterr().out  # the flow handled the data
    finally:
        clean_gateway.start()
        configure_logging()  # back to the default (the file handler closed)
    files = sorted(log_file.parent.iterdir())
    assert log_file in files and len(files) > 1, "the file was never rotated"
    assert all(f.stat().st_mode & 0o077 == 0 for f in files)
    text = b"".join(f.read_bytes() for f in files)
    lines = [ln for ln in text.decode("utf-8").splitlines() if ln]
    assert len(lines) > 20
    if fmt == "json":
        docs = [json.loads(ln) for ln in lines]
        assert {"ts", "level", "logger", "message"} <= set(docs[0])
        assert any(d["logger"].startswith("kiosk.") for d in docs)
    else:
        assert all(ln.startswith("cccd-kiosk ") for ln in lines)
    found = sorted({s for s in secrets_of_samples() for n in _needles(s) if n in text})
    assert found == [], f"personal data in the {fmt} log file: {found[:5]}"
