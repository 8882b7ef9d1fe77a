"""``read`` / ``verify`` name the CSCA that vouched for the card, or the missing CCCD CSCA.

Real runs of the CLI on a simulated card (its chip, its SOD signed by the simulator's test
PKI): verified against the demo CSCA the report names that CSCA (common name, country, the
file it is trusted from); re-verified offline with no trust it names "CSCA Vietnam" as not
installed and gives the ``trust add`` command.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk.app.reports import CCCD_CSCA, INSTALL_HINT, csca_lines
from tests.cli.test_cli import run, sim_cards

TEST_CSCA_CN = "CSCA Test Vietnam CCCD"


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dump of the simulator's default card."""
    can = next(c["can"] for c in sim_cards() if c["name"] == "default")
    out = tmp_path_factory.mktemp("dump") / "card"
    proc = run("read", "--reader", "sim:default", "--can", can, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


def test_read_json_and_text_name_the_test_csca_and_its_file() -> None:
    can = next(c["can"] for c in sim_cards() if c["name"] == "default")
    doc = json.loads(run("read", "--reader", "sim:default", "--can", can, "--json").stdout)
    pa = doc["passive_auth"]
    assert pa["verdict"] == "verified"
    info = pa["csca_info"]
    assert info["common_name"] == TEST_CSCA_CN
    assert info["country"] == "VN"
    assert info["subject"].startswith(f"CN={TEST_CSCA_CN}")
    assert info["source"] == {"kind": "certificate_file", "name": "csca.pem"}
    text = run("read", "--reader", "sim:default", "--can", can).stdout
    assert f"Vouched for by (CSCA): {TEST_CSCA_CN} (VN)" in text
    assert "trusted from: tệp chứng thư / certificate file csca.pem" in text
    assert "not installed" not in text


def test_verify_with_the_demo_csca_names_it(dump: Path) -> None:
    proc = run("verify", str(dump), "--trust", "demo", "--json")
    pa = json.loads(proc.stdout)["passive_auth"]
    assert pa["verdict"] == "verified"
    assert pa["csca_info"]["common_name"] == TEST_CSCA_CN
    text = run("verify", str(dump), "--trust", "demo").stdout
    assert f"Vouched for by (CSCA): {TEST_CSCA_CN} (VN)" in text


def test_verify_without_trust_names_the_missing_cccd_csca_and_the_command(dump: Path) -> None:
    proc = run("verify", str(dump), "--json")
    assert proc.returncode == 3, proc.stderr  # issuer unknown
    pa = json.loads(proc.stdout)["passive_auth"]
    assert pa["verdict"] == "issuer_unknown"
    assert pa["csca_info"] is None and pa["csca"] is None
    text = run("verify", str(dump)).stdout
    assert "The CCCD's CSCA is not installed: CSCA Vietnam (serialNumber=001, " in text
    assert "O=Vietnam Government Information Security Commission, C=VN)" in text
    assert f"install it with: {INSTALL_HINT}" in text
    assert "Vouched for by" not in text


def test_a_foreign_unknown_issuer_is_named_not_the_cccd_csca() -> None:
    pa = {
        "chain": "unknown_issuer",
        "csca": None,
        "csca_info": None,
        "signer": {"subject": "CN=DS", "issuer": "CN=CSCA Utopia, C=UT", "serial": "1"},
    }
    lines = csca_lines(pa)
    assert lines[0].endswith("The issuer's CSCA is not installed: CN=CSCA Utopia, C=UT")
    assert CCCD_CSCA not in " ".join(lines)
    assert lines[1].endswith(INSTALL_HINT)


def test_master_list_source_is_named() -> None:
    pa = {
        "chain": "trusted",
        "csca": "CN=CSCA-GERMANY, O=bund, C=DE",
        "csca_info": {
            "subject": "CN=CSCA-GERMANY, O=bund, C=DE",
            "common_name": "CSCA-GERMANY",
            "country": "DE",
            "source": {"kind": "master_list", "name": "DE_ML.ml"},
        },
    }
    assert csca_lines(pa) == [
        "Được bảo chứng bởi / Vouched for by (CSCA): CSCA-GERMANY (DE)",
        "tin cậy từ / trusted from: danh sách CSCA / master list DE_ML.ml",
    ]


def test_trust_store_remembers_each_certificates_source(tmp_path: Path) -> None:
    """A master list's CSCAs say which list; a certificate file its name; the first source of
    a certificate given twice is kept."""
    from kiosk.emrtd.trust import TrustSource, TrustStore
    from simulators.card.pki import demo_trust_paths

    ml = Path(__file__).parents[1] / "data" / "masterlists" / "DE_ML_2026-05-28.ml"
    pem = next(p for p in demo_trust_paths() if p.suffix == ".pem")
    copy = tmp_path / "again.pem"
    copy.write_bytes(pem.read_bytes())
    store = TrustStore.from_paths([ml, pem, copy])
    sources = {store.source_of(c) for c in store.certificates()}
    assert TrustSource("master_list", ml.name) in sources
    assert TrustSource("certificate_file", "csca.pem") in sources
    assert TrustSource("certificate_file", "again.pem") not in sources
