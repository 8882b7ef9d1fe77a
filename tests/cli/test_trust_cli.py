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


# ------------------------------------------------------------------ trust fetch-crl


def _csca_with_crl_dp(urls: list[str], label: str) -> tuple[bytes, object, object]:
    """A test CSCA (brainpool) whose CRL distribution points are ``urls``: DER, key, name."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    from tests.emrtd.test_pa import CSCA_VALID, ec_key, name

    key = ec_key(f"csca-crl-{label}")
    subject = name(f"CSCA crl {label}")
    points = [
        x509.DistributionPoint([x509.UniformResourceIdentifier(u)], None, None, None) for u in urls
    ]
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(CSCA_VALID[0])
        .not_valid_after(CSCA_VALID[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.CRLDistributionPoints(points), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER), key, subject


def _crl(issuer: object, key: object, revoked: list[int], next_update: object) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    from tests.emrtd.test_pa import at

    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer)  # type: ignore[arg-type]
        .last_update(at(2025))
        .next_update(next_update)  # type: ignore[arg-type]
    )
    for serial in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(at(2025)).build()
        )
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)  # type: ignore[arg-type]


@pytest.fixture
def crl_server() -> object:
    """A loopback HTTP server answering the paths in its ``files`` dict (404 otherwise)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    files: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.files = files  # type: ignore[attr-defined]
    yield server
    server.shutdown()
    server.server_close()


def test_fetch_crl_pins_verified_crls_and_the_revocation_counts(
    tmp_path: Path, crl_server: object
) -> None:
    import datetime as dt

    from kiosk.emrtd.lds import sod as sod_mod
    from tests.emrtd.test_pa import at, dg_files, ec_key, make_dsc

    port = crl_server.server_address[1]  # type: ignore[attr-defined]
    base = f"http://127.0.0.1:{port}"
    urls = [f"{base}/good.crl", f"{base}/forged.crl", f"{base}/stale.crl", f"{base}/missing.crl"]
    csca_der, key, subject = _csca_with_crl_dp(urls, "fetch")
    files = crl_server.files  # type: ignore[attr-defined]
    files["/good.crl"] = _crl(subject, key, [1001], dt.datetime(2099, 1, 1, tzinfo=dt.UTC))
    files["/forged.crl"] = _crl(subject, ec_key("crl-forger"), [], at(2099))
    files["/stale.crl"] = _crl(subject, key, [], at(2026, 1, 1))
    csca = tmp_path / "csca.cer"
    csca.write_bytes(csca_der)
    data = tmp_path / "data"
    assert run(data, "trust", "add", str(csca), "--sha256", _sha(csca)).returncode == 0

    # A dump signed by DSC 1001 of that CSCA: verified until the CRL revoking it is fetched.
    dsc_key = ec_key("dsc-crl-fetch")
    dsc = make_dsc(subject, key, dsc_key, serial=1001)  # type: ignore[arg-type]
    lso = sod_mod.LDSSecurityObject(
        0, "sha256", tuple((int(k[2:]), hashlib.sha256(v).digest()) for k, v in dg_files().items())
    )
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / "EF.SOD").write_bytes(
        sod_mod.encode(lso, signer_cert_der=dsc, signer_key=dsc_key, signing_time=at(2024, 5, 1))
    )
    assert run(data, "verify", str(dump)).returncode == 0

    proc = run(data, "trust", "fetch-crl", "--json", "--timeout", "5")
    assert proc.returncode == 1  # the forged and the missing one
    results = {r["url"].rsplit("/", 1)[1]: r for r in json.loads(proc.stdout)}
    assert (results["good.crl"]["status"], results["good.crl"]["next_update"]) == (
        "ok",
        "2099-01-01",
    )
    assert results["forged.crl"]["status"] == "failed"
    assert "not signed by that CSCA" in results["forged.crl"]["detail"]
    assert (results["stale.crl"]["status"], results["stale.crl"]["stale"]) == ("ok", True)
    assert "stale" in results["stale.crl"]["detail"]
    assert results["missing.crl"]["status"] == "failed"
    kinds = [e["kind"] for e in json.loads(run(data, "trust", "list", "--json").stdout)]
    assert kinds == ["certificate", "crl", "crl"]

    revoked = run(data, "verify", str(dump), "--json")
    assert revoked.returncode == 4
    assert "has been revoked" in " ".join(json.loads(revoked.stdout)["passive_auth"]["reasons"])
    # Fetching again replaces, not piles up.
    run(data, "trust", "fetch-crl")
    assert len(json.loads(run(data, "trust", "list", "--json").stdout)) == 3


def test_fetch_crl_refuses_an_oversized_answer(tmp_path: Path, crl_server: object) -> None:
    from kiosk.app import pinned

    port = crl_server.server_address[1]  # type: ignore[attr-defined]
    csca_der, _key, _subject = _csca_with_crl_dp([f"http://127.0.0.1:{port}/big.crl"], "big")
    crl_server.files["/big.crl"] = bytes(pinned.MAX_CRL_BYTES + 10)  # type: ignore[attr-defined]
    csca = tmp_path / "csca.cer"
    csca.write_bytes(csca_der)
    data = tmp_path / "data"
    pinned.add(data, csca, _sha(csca))
    (result,) = pinned.fetch_crls(data, timeout=5)
    assert result.status == "failed" and "larger than" in result.detail
    assert [e.kind for e in pinned.entries(data)] == ["certificate"]
