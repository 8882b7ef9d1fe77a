"""The doctor's newer checks against real parts: the HIS receiver (token right, wrong, none;
stopped), CRLs past their nextUpdate, nfcpy with no frontend and with the stand-in frontend,
the journal's schema version and the audit trail's chain."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kiosk.app.doctor import CHECKS, Check, run_checks
from kiosk.app.kiosk import HIS_TOKEN_ENV, Kiosk
from kiosk.app.settings import Overrides, resolve
from simulators.card.pki import make_crl, make_csca
from tests.fixtures.his_receiver import HisReceiver

TOKEN = "his-token-for-the-doctor"


def only(name: str) -> tuple[tuple[str, Any], ...]:
    return tuple((n, fn) for n, fn in CHECKS if n == name)


def one(name: str, settings: Any) -> Check:
    [check] = run_checks(settings, checks=only(name), timeout_s=30)
    return check


def test_every_check_is_in_the_report(tmp_path: Path) -> None:
    names = [c.name for c in run_checks(resolve(None, Overrides(data_dir=tmp_path)))]
    for new in ("nfc", "his", "crl", "audit"):
        assert new in names


@pytest.fixture
def his() -> Iterator[HisReceiver]:
    with HisReceiver(token=TOKEN) as receiver:
        yield receiver


def _his_check(url: str, tmp_path: Path) -> Check:
    return one("his", resolve(None, Overrides(his_url=url, data_dir=tmp_path)))


def test_his_with_the_right_token(
    his: HisReceiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(HIS_TOKEN_ENV, TOKEN)
    check = _his_check(his.url, tmp_path)
    assert check.status == "ok" and "token" in check.detail, check


@pytest.mark.parametrize("token", ["wrong-token", None])
def test_his_refusing_the_kiosk_names_the_token(
    his: HisReceiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, token: str | None
) -> None:
    if token:
        monkeypatch.setenv(HIS_TOKEN_ENV, token)
    else:
        monkeypatch.delenv(HIS_TOKEN_ENV, raising=False)
    check = _his_check(his.url, tmp_path)
    assert check.status == "fail" and "401" in check.detail, check
    assert HIS_TOKEN_ENV in check.fix_en and HIS_TOKEN_ENV in check.fix_vi
    assert ("no token set" in check.detail) is (token is None)


def test_his_stopped_is_not_reachable(tmp_path: Path) -> None:
    receiver = HisReceiver()
    url = receiver.url  # bound, never served, then closed: nothing listens
    receiver.server.server_close()
    check = _his_check(url, tmp_path)
    assert check.status == "fail" and "not reachable" in check.detail
    assert "[his] url" in check.fix_en


def test_his_not_configured_is_skipped(tmp_path: Path) -> None:
    assert _his_check("", tmp_path).status == "skip"


def _trust_with_crl(tmp_path: Path, next_update_days: int) -> Any:
    """A CSCA named "CSCA Vietnam" and its CRL (issued 40 days ago) as the only trust."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.COMMON_NAME, "CSCA Vietnam"),
        ]
    )
    csca = make_csca(
        name, key, not_before=now - dt.timedelta(days=400), not_after=now + dt.timedelta(days=3000)
    )
    crl = make_crl(csca, key, now=now - dt.timedelta(days=40), next_update_days=next_update_days)
    (tmp_path / "csca.pem").write_bytes(csca.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "csca.crl").write_bytes(crl.public_bytes(serialization.Encoding.DER))
    trust = (str(tmp_path / "csca.pem"), str(tmp_path / "csca.crl"))
    return resolve(None, Overrides(reader="pcsc", trust=trust, data_dir=tmp_path / "data"))


def test_a_crl_past_its_next_update_warns_naming_fetch_crl(tmp_path: Path) -> None:
    settings = _trust_with_crl(tmp_path, next_update_days=10)  # due 30 days ago
    check = one("crl", settings)
    assert check.status == "warn" and "1 of 1 CRLs past" in check.detail, check
    assert "cccd-kiosk trust fetch-crl" in check.fix_en
    assert "cccd-kiosk trust fetch-crl" in check.fix_vi
    trust = one("trust", settings)
    assert trust.status == "ok" and "'CSCA Vietnam' installed" in trust.detail


def test_a_current_crl_is_ok(tmp_path: Path) -> None:
    check = one("crl", _trust_with_crl(tmp_path, next_update_days=70))
    assert check.status == "ok" and "1 CRLs current" in check.detail, check


def test_nfc_without_a_frontend_fails_with_the_fix(tmp_path: Path) -> None:
    """The real nfcpy on a machine with no NFC reader (every CI machine)."""
    check = one("nfc", resolve(None, Overrides(reader="nfc:usb", data_dir=tmp_path)))
    assert check.status == "fail" and check.detail.startswith("nfc:usb: Nfc"), check
    assert check.fix_en and check.fix_vi


def test_nfc_through_the_standin_frontend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from drivers import nfc as nfc_driver
    from tests.fixtures.nfc_standin import StandinFrontend

    clf = StandinFrontend("rcs380")
    monkeypatch.setattr(nfc_driver, "open_frontend", lambda path: clf)
    check = one("nfc", resolve(None, Overrides(reader="nfc:usb", data_dir=tmp_path)))
    assert check.status == "ok" and "RC-S380" in check.detail, check
    assert one("nfc", resolve(None, Overrides(data_dir=tmp_path))).status == "skip"  # sim:


def test_journal_schema_version_and_audit_chain(tmp_path: Path) -> None:
    settings = resolve(None, Overrides(data_dir=tmp_path))
    with Kiosk(settings, demo_gateway=False) as kiosk:
        kiosk.checkin_manual("079301000123", "Lê Văn Bình", date(1990, 1, 2))
        kiosk.export_day(date.today())
    journal = one("journal", settings)
    assert journal.status == "ok" and "schema version 2" in journal.detail, journal
    audit = one("audit", settings)
    assert audit.status == "ok" and audit.detail.startswith("2 rows, chain intact"), audit
    conn = sqlite3.connect(tmp_path / "journal.db")
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET target = '2020-01-01' WHERE seq = 2")
    conn.commit()
    conn.close()
    audit = one("audit", settings)
    assert audit.status == "fail" and "row 2" in audit.detail
    assert "journal.db" in audit.fix_en


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the folder to another user")
def test_audit_as_another_user_skips_and_says_whose_folder(tmp_path: Path) -> None:
    settings = resolve(None, Overrides(data_dir=tmp_path))
    with Kiosk(settings, demo_gateway=False) as kiosk:
        kiosk.checkin_manual("079301000123", "Lê Văn Bình", date(1990, 1, 2))
    os.chown(tmp_path, 65534, 65534)
    try:
        audit = one("audit", settings)
    finally:
        os.chown(tmp_path, 0, 0)
    assert audit.status == "skip" and "uid 65534" in audit.detail
    assert "sudo -u cccd-kiosk" in audit.detail
    assert not any(p.stat().st_uid == 65534 for p in tmp_path.iterdir())  # nothing created
