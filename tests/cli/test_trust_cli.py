"""``cccd-kiosk trust add/list/remove``: pinning by fingerprint, end to end through ``verify``."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import DATA

CSCA = DATA / "real_sods" / "csca" / "IDN_2020-10_CSCA.cer"
ML = DATA / "masterlists" / "NL_ML_2026-07-22.ml"


def run(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The command line with its user data folder in ``data`` (no config: the demo's)."""
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", "CCCD_KIOSK_DATA_DIR": str(data)},
    )


@pytest.fixture
def dump(tmp_path: Path) -> Path:
    """A dump holding only the Indonesian passport's EF.SOD (its CSCA is in no master list)."""
    folder = tmp_path / "id-dump"
    folder.mkdir()
    shutil.copy(DATA / "real_sods" / "ID.sod", folder / "EF.SOD")
    return folder


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_add_list_verify_remove(tmp_path: Path, dump: Path) -> None:
    data = tmp_path / "data"
    assert run(data, "verify", str(dump)).returncode == 3  # issuer unknown: nothing pinned
    wrong = "00" * 32
    refused = run(data, "trust", "add", str(CSCA), "--sha256", wrong)
    assert refused.returncode == 2
    assert "refusing to trust it" in refused.stderr and _sha(CSCA) in refused.stderr
    assert json.loads(run(data, "trust", "list", "--json").stdout) == []

    fp = ":".join(_sha(CSCA)[i : i + 2] for i in range(0, 64, 2)).upper()  # as viewers print it
    added = run(data, "trust", "add", str(CSCA), "--sha256", fp)
    assert added.returncode == 0, added.stderr
    listed = json.loads(run(data, "trust", "list", "--json").stdout)
    assert len(listed) == 1
    entry = listed[0]
    assert (entry["kind"], entry["fingerprint"], entry["source"]) == (
        "certificate",
        _sha(CSCA),
        str(CSCA.resolve()),
    )
    (cert,) = entry["certificates"]
    assert cert["subject"] == "CN=CSCA, OU=DITJEN IMIGRASI, O=DIT SISTIK, C=ID"
    assert (cert["valid_from"], cert["valid_to"]) == ("2020-10-19", "2036-01-20")
    assert cert["key_id"] and cert["fingerprint"] == _sha(CSCA)  # a DER file: the same hash
    text = run(data, "trust", "list")
    assert "CN=CSCA, OU=DITJEN IMIGRASI" in text.stdout and str(CSCA.resolve()) in text.stdout

    verified = run(data, "verify", str(dump), "--json")
    assert verified.returncode == 0, verified.stderr
    pa = json.loads(verified.stdout)["passive_auth"]
    assert (pa["verdict"], pa["csca"]) == ("verified", cert["subject"])

    removed = run(data, "trust", "remove", _sha(CSCA)[:12])
    assert removed.returncode == 0, removed.stderr
    assert json.loads(run(data, "trust", "list", "--json").stdout) == []
    assert run(data, "verify", str(dump)).returncode == 3


def test_master_list_and_a_pem_certificate_by_its_der_fingerprint(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run(data, "trust", "add", str(ML), "--sha256", _sha(ML)).returncode == 0
    der = CSCA.read_bytes()
    pem = tmp_path / "csca.pem"
    body = base64.encodebytes(der).decode()
    pem.write_text(f"-----BEGIN CERTIFICATE-----\n{body}-----END CERTIFICATE-----\n")
    # A PEM file's own hash differs; the certificate's (DER) fingerprint is accepted too.
    assert (
        run(data, "trust", "add", str(pem), "--sha256", hashlib.sha256(der).hexdigest()).returncode
        == 0
    )
    listed = json.loads(run(data, "trust", "list", "--json").stdout)
    assert [e["kind"] for e in listed] == ["master_list", "certificate"]
    assert len(listed[0]["certificates"]) > 300


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("add", "{junk}", "--sha256", "{junk_sha}"), "not a usable certificate"),
        (("add", "{csca}", "--sha256", "abc"), "64 hex digits"),
        (("add", "{missing}", "--sha256", "00" * 32), "No such file"),
        (("remove", "deadbeef00"), "no pinned file"),
    ],
)
def test_unusable_input_exits_2(tmp_path: Path, args: tuple[str, ...], needle: str) -> None:
    junk = tmp_path / "junk.cer"
    junk.write_bytes(b"not a certificate")
    values = {
        "junk": str(junk),
        "junk_sha": _sha(junk),
        "csca": str(CSCA),
        "missing": str(tmp_path / "nope.cer"),
    }
    proc = run(tmp_path / "data", "trust", *(a.format(**values) for a in args))
    assert proc.returncode == 2
    assert needle in proc.stderr and "Traceback" not in proc.stderr


def test_every_front_end_trusts_what_is_pinned(tmp_path: Path) -> None:
    """The application layer's Kiosk (read, checkin, the screens) loads the pinned files."""
    from kiosk.app import pinned
    from kiosk.app.kiosk import Kiosk
    from kiosk.app.settings import Overrides, resolve

    data = tmp_path / "data"
    pinned.add(data, CSCA, _sha(CSCA))
    with Kiosk(resolve(None, Overrides(data_dir=data)), demo_gateway=False) as kiosk:
        assert kiosk.trust is not None
        subjects = {c.subject for c in kiosk.trust.certificates()}
    assert "CN=CSCA, OU=DITJEN IMIGRASI, O=DIT SISTIK, C=ID" in subjects
