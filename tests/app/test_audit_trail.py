"""The operator audit trail through the kiosk and the command line: each event recorded once
with who, what and on what; ``cccd-kiosk audit --verify`` finds a modified row; no personal
data in the table."""

from __future__ import annotations

import io
import json
import sqlite3
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from kiosk import cli
from kiosk.app.kiosk import Kiosk, local_today
from kiosk.app.settings import Overrides, resolve
from kiosk.config import PrinterConfig
from tests.app.test_privacy import secrets_of_samples
from tests.fixtures.escpos_printer import EscposPrinter

TUYET = ("046196008821", "Nguyễn Thị Ánh Tuyết", date(1996, 11, 23))


@pytest.fixture
def printer(tmp_path: Path) -> Iterator[EscposPrinter]:
    p = EscposPrinter(tmp_path / "printed")
    try:
        yield p
    finally:
        p.close()


def kiosk_at(data: Path, printer: EscposPrinter) -> Kiosk:
    import dataclasses

    settings = resolve(None, Overrides(data_dir=data))
    config = dataclasses.replace(settings.config, printer=PrinterConfig(url=printer.url))
    return Kiosk(dataclasses.replace(settings, config=config), demo_gateway=False)


def audit_json(data: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> list[Any]:
    assert cli.main(["audit", "--data-dir", str(data), "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_each_event_is_recorded_once_and_verifies(
    tmp_path: Path,
    printer: EscposPrinter,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = tmp_path / "data"
    with kiosk_at(data, printer) as kiosk:
        kiosk.actor = "reception"
        report = kiosk.checkin_manual(*TUYET)
        checkin_id = report.outcome.checkin_id
        kiosk.print_ticket(checkin_id)  # the first ticket: not a reprint
        kiosk.print_ticket(checkin_id, reprint=True)
        kiosk.write_export(tmp_path / "today.csv", local_today())
        kiosk.audit("settings.mode", actor="operator", target="ui.mode", to="reception")
    monkeypatch.setattr(sys, "stdin", io.StringIO("482915\n482915\n"))
    assert cli.main(["set-pin", "--data-dir", str(data)]) == 0
    capsys.readouterr()

    rows = audit_json(data, capsys)
    got = [(r["seq"], r["actor"], r["action"], r["target"], r["detail"]) for r in rows]
    assert got[:4] == [
        (1, "reception", "checkin.manual", checkin_id, {}),
        (2, "reception", "ticket.reprint", checkin_id, {}),
        (3, "reception", "export", local_today().isoformat(), {"format": "csv"}),
        (4, "operator", "settings.mode", "ui.mode", {"to": "reception"}),
    ]
    assert got[4][1].startswith("user:") and got[4][2:4] == ("settings.pin", "operator_pin")
    assert len(rows) == 5 and all(r["kiosk"] for r in rows)
    assert audit_json(data, capsys, "--since", "2999-01-01") == []

    assert cli.main(["audit", "--data-dir", str(data), "--verify"]) == 0
    assert capsys.readouterr().out.startswith("ok: 5 rows")

    # no personal data: every value of every row, against the sample people and this patient
    conn = sqlite3.connect(data / "journal.db")
    cells = " ".join(str(c) for row in conn.execute("SELECT * FROM audit") for c in row)
    secrets = secrets_of_samples() | {TUYET[0], TUYET[1], "1996-11-23", "23/11/1996"}
    assert [s for s in secrets if s in cells] == []

    # a modified row: --verify exits 1 naming it
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET actor = 'operator' WHERE seq = 2")
    conn.commit()
    conn.close()
    assert cli.main(["audit", "--data-dir", str(data), "--verify"]) == 1
    assert "BROKEN at row 2" in capsys.readouterr().out


def test_audit_needs_a_journal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["audit", "--data-dir", str(tmp_path / "none")]) == 2
    assert "no check-in journal" in capsys.readouterr().err


def test_trust_and_pin_commands_audit_only_into_an_existing_journal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``trust add``/``remove`` are audited with the fingerprint (hex: not an ID number);
    ``set-pin`` on a fresh folder creates no storage just to audit itself."""
    import hashlib

    from simulators.card.pki import demo_trust_paths

    fresh = tmp_path / "fresh"
    monkeypatch.setattr(sys, "stdin", io.StringIO("482915\n482915\n"))
    assert cli.main(["set-pin", "--data-dir", str(fresh)]) == 0
    assert not (fresh / "journal.db").exists() and not (fresh / "storage.key").exists()

    data = tmp_path / "data"
    with Kiosk(resolve(None, Overrides(data_dir=data)), demo_gateway=False) as kiosk:
        kiosk.checkin_manual(*TUYET)
    csca = next(Path(p) for p in demo_trust_paths() if str(p).endswith(".pem"))
    fp = hashlib.sha256(csca.read_bytes()).hexdigest()
    args = ["--data-dir", str(data)]
    code = cli.main(["trust", "add", str(csca), "--sha256", fp, *args])
    capsys.readouterr()
    assert code == 0
    rows = audit_json(data, capsys)
    trust = [r for r in rows if r["action"] == "settings.trust"]
    assert len(trust) == 1 and trust[0]["detail"] == {"change": "add"}
    assert trust[0]["target"] and trust[0]["actor"].startswith("user:")


def test_a_manual_checkin_choosing_its_department_later_is_audited_once_numbered(
    tmp_path: Path,
) -> None:
    import dataclasses

    from kiosk.config import Department

    settings = resolve(None, Overrides(data_dir=tmp_path / "data"))
    depts = (Department("NOI", "Khoa Nội"), Department("RHM", "Răng hàm mặt"))
    settings = dataclasses.replace(
        settings, config=dataclasses.replace(settings.config, departments=depts)
    )
    with Kiosk(settings, demo_gateway=False) as kiosk:
        pending = kiosk.checkin_manual(*TUYET, choose_later=True).outcome
        assert pending.is_pending and kiosk.audit_log.entries() == []
        done = kiosk.assign_number(pending, "RHM").outcome
        rows = [(e.action, e.target) for e in kiosk.audit_log.entries()]
    assert rows == [("checkin.manual", done.checkin_id)]
