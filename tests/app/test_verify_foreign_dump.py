"""``cccd-kiosk verify`` on a dump this project did not make.

Everything here is built without the project's encoders: the CSCA and DSC
with ``cryptography``'s X.509 builder, EF.SOD as CMS SignedData assembled
from asn1crypto's generic types and signed with RSA-PSS (a scheme the
simulator never uses), and DG1 from the ICAO 9303-3 TD1 specimen
(ERIKSSON ANNA MARIA). A bug shared by our encoder and our verifier cannot
make this pass.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
from asn1crypto import algos, cms, core
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from tests.cli.test_cli import run

TD1 = "I<UTOD231458907<<<<<<<<<<<<<<<7408122F1204159UTO<<<<<<<<<<<6ERIKSSON<<ANNA<MARIA<<<<<<<<<<"
DG1 = bytes.fromhex("615D5F1F5A") + TD1.encode()
LDS_SO_OID = "2.23.136.1.1.1"


class _DGHash(core.Sequence):
    _fields = [("n", core.Integer), ("h", core.OctetString)]  # noqa: RUF012


class _DGHashes(core.SequenceOf):
    _child_spec = _DGHash


class _LdsSO(core.Sequence):
    _fields = [  # noqa: RUF012
        ("version", core.Integer),
        ("alg", algos.DigestAlgorithm),
        ("hashes", _DGHashes),
    ]


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "UT"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _cert(
    subject: str, key: rsa.RSAPrivateKey, issuer: str, signer: rsa.RSAPrivateKey, ca: bool
) -> x509.Certificate:
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    usage = dict.fromkeys(
        (
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=5000))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), True)
        .add_extension(
            x509.KeyUsage(digital_signature=not ca, key_cert_sign=ca, crl_sign=ca, **usage),
            True,
        )
        .sign(signer, hashes.SHA256())
    )


def _foreign_sod(dsc: x509.Certificate, dsc_key: rsa.RSAPrivateKey, dg1: bytes) -> bytes:
    lds = _LdsSO(
        {
            "version": 0,
            "alg": {"algorithm": "sha256"},
            "hashes": [{"n": 1, "h": hashlib.sha256(dg1).digest()}],
        }
    ).dump()
    signed_attrs = cms.CMSAttributes(
        [
            {"type": "content_type", "values": [LDS_SO_OID]},
            {"type": "message_digest", "values": [hashlib.sha256(lds).digest()]},
            {
                "type": "signing_time",
                "values": [cms.Time({"utc_time": dt.datetime(2024, 5, 1, tzinfo=dt.UTC)})],
            },
        ]
    )
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    signature = dsc_key.sign(signed_attrs.dump(), pss, hashes.SHA256())
    cert = ax509.Certificate.load(dsc.public_bytes(serialization.Encoding.DER))
    signer = {
        "version": "v1",
        "sid": cms.SignerIdentifier(
            {
                "issuer_and_serial_number": {
                    "issuer": cert.issuer,
                    "serial_number": cert.serial_number,
                }
            }
        ),
        "digest_algorithm": {"algorithm": "sha256"},
        "signed_attrs": signed_attrs,
        "signature_algorithm": {
            "algorithm": "rsassa_pss",
            "parameters": {
                "hash_algorithm": {"algorithm": "sha256"},
                "mask_gen_algorithm": {
                    "algorithm": "mgf1",
                    "parameters": {"algorithm": "sha256"},
                },
                "salt_length": 32,
                "trailer_field": "trailer_field_bc",
            },
        },
        "signature": signature,
    }
    signed_data = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [{"algorithm": "sha256"}],
            "encap_content_info": {
                "content_type": LDS_SO_OID,
                "content": core.ParsableOctetString(lds),
            },
            "certificates": [cert],
            "signer_infos": [signer],
        }
    )
    content_info = cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()
    length = len(content_info)
    head = bytes([0x77, 0x82, length >> 8, length & 0xFF])
    return head + content_info


@pytest.fixture(scope="module")
def foreign(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("foreign")
    csca_key = rsa.generate_private_key(65537, 2048)
    dsc_key = rsa.generate_private_key(65537, 2048)
    csca = _cert("CSCA Utopia", csca_key, "CSCA Utopia", csca_key, True)
    dsc = _cert("DS Utopia", dsc_key, "CSCA Utopia", csca_key, False)
    dump = root / "dump"
    dump.mkdir()
    (dump / "DG1").write_bytes(DG1)
    (dump / "EF.SOD").write_bytes(_foreign_sod(dsc, dsc_key, DG1))
    pem = root / "csca-utopia.pem"
    pem.write_bytes(csca.public_bytes(serialization.Encoding.PEM))
    return dump, pem


def test_foreign_dump_verifies_against_its_csca(foreign: tuple[Path, Path]) -> None:
    dump, pem = foreign
    proc = run("verify", str(dump), "--trust", str(pem), "--json")
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    doc = json.loads(proc.stdout)
    pa = doc["passive_auth"]
    assert (pa["verdict"], pa["signature"], pa["chain"]) == ("verified", "valid", "trusted")
    assert pa["data_groups"] == {"DG1": "ok"}
    assert "DS Utopia" in pa["signer"]["subject"]
    assert doc["holder"]["full_name"] == "ERIKSSON ANNA MARIA"
    assert doc["active_auth"]["result"] == "not_supported"


def test_foreign_dump_without_its_csca_is_issuer_unknown(foreign: tuple[Path, Path]) -> None:
    dump, _ = foreign
    proc = run("verify", str(dump), "--trust", "demo", "--json")
    assert proc.returncode == 3
    assert json.loads(proc.stdout)["passive_auth"]["verdict"] == "issuer_unknown"


def test_foreign_dump_with_a_changed_dg1_fails(foreign: tuple[Path, Path], tmp_path: Path) -> None:
    dump, pem = foreign
    changed = tmp_path / "changed"
    changed.mkdir()
    (changed / "EF.SOD").write_bytes((dump / "EF.SOD").read_bytes())
    (changed / "DG1").write_bytes(DG1.replace(b"ERIKSSON", b"ERIKSSEN"))
    proc = run("verify", str(changed), "--trust", str(pem), "--json")
    assert proc.returncode == 4
    assert json.loads(proc.stdout)["passive_auth"]["data_groups"]["DG1"] == "mismatch"
