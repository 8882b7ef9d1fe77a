"""``cccd-kiosk verify DIR``: re-verifying dumps, exit codes 0/3/4/2, JSON shape, no traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests import DATA
from tests.cli.test_cli import HOLDER_KEYS, run

MASTERLISTS = DATA / "masterlists"


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dump") / "anh-tuyet"
    proc = run("read", "--reader", "sim:anh-tuyet", "--can", "008821", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


def _copy(dump: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(dump, target)
    return target


def test_verified_with_demo_trust(dump: Path) -> None:
    proc = run("verify", str(dump), "--trust", "demo", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    pa = doc["passive_auth"]
    assert (pa["verdict"], pa["signature"], pa["chain"]) == ("verified", "valid", "trusted")
    assert pa["data_groups"]["DG13"] == "ok" and pa["data_groups"]["DG3"] == "missing"
    assert set(pa["signer"]) == {"subject", "issuer", "serial"}
    assert doc["active_auth"]["result"] == "passed"
    assert set(doc["holder"]) == HOLDER_KEYS
    assert doc["holder"]["full_name"] == "Nguyễn Thị Ánh Tuyết"


def test_issuer_unknown_without_trust(dump: Path) -> None:
    proc = run("verify", str(dump), "--json")
    assert proc.returncode == 3
    pa = json.loads(proc.stdout)["passive_auth"]
    assert (pa["verdict"], pa["signature"], pa["chain"]) == (
        "issuer_unknown",
        "valid",
        "unknown_issuer",
    )


def test_real_master_list_does_not_trust_the_test_csca(dump: Path) -> None:
    ml = MASTERLISTS / "DE_ML_2026-05-28.ml"
    proc = run("verify", str(dump), "--trust", str(ml), "--json")
    assert proc.returncode == 3, proc.stderr
    assert json.loads(proc.stdout)["passive_auth"]["verdict"] == "issuer_unknown"


def test_tampered_dg_fails_and_says_which(dump: Path, tmp_path: Path) -> None:
    d = _copy(dump, tmp_path)
    raw = bytearray((d / "DG13").read_bytes())
    raw[-3] ^= 0x01
    (d / "DG13").write_bytes(bytes(raw))
    proc = run("verify", str(d), "--trust", "demo", "--json")
    assert proc.returncode == 4
    pa = json.loads(proc.stdout)["passive_auth"]
    assert pa["verdict"] == "failed"
    assert pa["data_groups"]["DG13"] == "mismatch"
    assert any("DG13" in r for r in pa["reasons"])


def test_forged_aa_response_fails(dump: Path, tmp_path: Path) -> None:
    d = _copy(dump, tmp_path)
    evidence = json.loads((d / "AA.json").read_text())
    resp = bytearray.fromhex(evidence["response"])
    resp[5] ^= 0xFF
    evidence["response"] = resp.hex()
    (d / "AA.json").write_text(json.dumps(evidence))
    proc = run("verify", str(d), "--trust", "demo", "--json")
    assert proc.returncode == 4
    doc = json.loads(proc.stdout)
    assert doc["passive_auth"]["verdict"] == "verified"
    assert doc["active_auth"]["result"] == "failed"


def test_sod_alone_still_checks_signature_and_chain(dump: Path, tmp_path: Path) -> None:
    d = tmp_path / "sod-only"
    d.mkdir()
    shutil.copy(dump / "EF.SOD", d / "EF.SOD")
    proc = run("verify", str(d), "--trust", "demo", "--json")
    assert proc.returncode == 0, proc.stdout
    pa = json.loads(proc.stdout)["passive_auth"]
    assert pa["verdict"] == "verified"
    assert set(pa["data_groups"].values()) == {"missing"}


@pytest.mark.parametrize("case", ["no-dir", "no-sod", "garbage-sod", "garbage-dg", "bad-trust"])
def test_unusable_input_exits_2(dump: Path, tmp_path: Path, case: str) -> None:
    d = _copy(dump, tmp_path)
    args = ["verify", str(d)]
    if case == "no-dir":
        args = ["verify", str(tmp_path / "nothing")]
    elif case == "no-sod":
        (d / "EF.SOD").unlink()
    elif case == "garbage-sod":
        (d / "EF.SOD").write_bytes(b"\x77\x03abc")
    elif case == "garbage-dg":
        (d / "DG1").write_bytes(b"\xff\xff\xff")
    else:
        args += ["--trust", str(tmp_path / "missing.pem")]
    proc = run(*args)
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_read_shows_the_three_results() -> None:
    proc = run("read", "--reader", "sim:default", "--can", "034517", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["passive_auth"]["verdict"] == "verified"
    assert doc["chip_auth"]["result"] == "passed"
    assert doc["active_auth"]["result"] in ("passed", "not_supported")
    text = run("read", "--reader", "sim:default", "--can", "034517").stdout
    assert "Passive authentication" in text and "Chip authentication" in text


def test_evidence_needs_out() -> None:
    assert run("read", "--can", "034517", "--evidence").returncode == 2


def test_evidence_writes_apdu_log(tmp_path: Path) -> None:
    out = tmp_path / "ev"
    proc = run(
        "read", "--reader", "sim:default", "--can", "034517", "--out", str(out), "--evidence"
    )
    assert proc.returncode == 0, proc.stderr
    log = json.loads((out / "apdu-log.json").read_text())
    assert len(log) > 10
    # The SM plaintext view of the SELECT of the eMRTD application is in the log.
    assert any(
        (e["plain_command"] or "").upper().startswith("00A4040C07A0000002471001") for e in log
    )


@pytest.mark.parametrize(
    ("fault", "key", "expected"),
    [
        ("clone", "active_auth", "failed"),
        ("ca-mismatch", "chip_auth", "failed"),
        ("tampered-dg2", "passive_auth", "failed"),
        ("revoked-dsc", "passive_auth", "failed"),
        ("untrusted-csca", "passive_auth", "issuer_unknown"),
    ],
)
def test_faulty_simulated_card_from_the_command_line(fault: str, key: str, expected: str) -> None:
    proc = run("read", "--reader", f"sim:default+{fault}", "--can", "034517", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    got = doc[key]["verdict"] if key == "passive_auth" else doc[key]["result"]
    assert got == expected
    assert doc["passive_auth"]["verdict"] != "verified" or key != "passive_auth"


def test_unknown_fault_is_a_usage_error() -> None:
    proc = run("read", "--reader", "sim:default+nonsense", "--can", "034517")
    assert proc.returncode == 2
    assert "unknown fault" in proc.stderr and "Traceback" not in proc.stderr


def test_out_refuses_a_folder_holding_an_earlier_dump(dump: Path) -> None:
    before = sorted(p.name for p in dump.iterdir())
    proc = run("read", "--reader", "sim:default", "--can", "034517", "--out", str(dump))
    assert proc.returncode == 2 and "new or empty folder" in proc.stderr
    assert sorted(p.name for p in dump.iterdir()) == before  # nothing mixed in


@pytest.mark.parametrize("command", ["read", "verify"])
def test_unusable_trust_file_is_a_usage_error(dump: Path, tmp_path: Path, command: str) -> None:
    junk = tmp_path / "not-a-cert.pem"
    junk.write_text("hello\n")
    if command == "read":
        proc = run("read", "--reader", "sim:default", "--can", "034517", "--trust", str(junk))
    else:
        proc = run("verify", str(dump), "--trust", str(junk))
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "--trust" in proc.stderr and "Traceback" not in proc.stderr


def test_revoked_signer_fails_on_the_very_first_run(tmp_path: Path) -> None:
    """A fresh simulator home: demo trust must already hold the CRL when the faulty card is
    made (it used to be written only with the fault PKI, after trust was loaded)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "CCCD_SIM_HOME": str(tmp_path / "sim")}
    argv = ["read", "--reader", "sim:default+revoked-dsc", "--can", "034517", "--json"]
    proc = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", *argv],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    pa = json.loads(proc.stdout)["passive_auth"]
    assert pa["verdict"] == "failed"
    assert any("revoked" in r for r in pa["reasons"])


@pytest.mark.parametrize(
    ("sod", "match"), [("NZ", "issuer_and_serial"), ("MY", "issuer_and_serial_any_order")]
)
def test_real_passport_sods_verify_against_the_real_master_lists(
    tmp_path: Path, sod: str, match: str
) -> None:
    """New Zealand's BER-encoded SOD, and Malaysia's loosely named signer (tests/data/real_sods)."""
    folder = tmp_path / sod
    folder.mkdir()
    shutil.copy(DATA / "real_sods" / f"{sod}.sod", folder / "EF.SOD")
    trust = [a for ml in sorted(MASTERLISTS.glob("*.ml")) for a in ("--trust", str(ml))]
    proc = run("verify", str(folder), *trust, "--json")
    assert proc.returncode == 0, proc.stderr
    pa = json.loads(proc.stdout)["passive_auth"]
    assert (pa["verdict"], pa["signature"], pa["chain"]) == ("verified", "valid", "trusted")
    assert (pa["signer_match"], pa["reference"]) == (match, "signing_time")


def test_text_says_which_csca_vouched_or_how_to_install_it(tmp_path: Path) -> None:
    folder = tmp_path / "nz"
    folder.mkdir()
    shutil.copy(DATA / "real_sods" / "NZ.sod", folder / "EF.SOD")
    ml = MASTERLISTS / "NL_ML_2026-07-22.ml"
    vouched = run("verify", str(folder), "--trust", str(ml))
    assert vouched.returncode == 0, vouched.stderr
    assert "Vouched for by (CSCA): OU=Identity Services Passport CA" in vouched.stdout
    assert "C=NZ (NZ)" not in vouched.stdout  # no CN: the subject alone, said once
    assert f"trusted from: danh sách CSCA / master list {ml.name}" in vouched.stdout
    unknown = run("verify", str(folder))
    assert unknown.returncode == 3
    assert (
        "The issuer's CSCA is not installed: OU=Identity Services Passport CA, OU=Passports, "
        "O=Government of New Zealand, C=NZ"
    ) in unknown.stdout
    assert "install it with: cccd-kiosk trust add FILE --sha256" in unknown.stdout
    assert "CSCA Vietnam" not in unknown.stdout  # a foreign document: not the CCCD's CSCA
