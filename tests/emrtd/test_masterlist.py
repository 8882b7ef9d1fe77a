"""CSCA master lists: the real German and Dutch lists, and small lists made here to break them.

The real lists are parsed once per test session (about 0.4 s each).
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import pytest
from asn1crypto import cms, core, x509
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from kiosk.emrtd.certs import Certificate
from kiosk.emrtd.masterlist import (
    ID_CSCA_MASTER_LIST,
    MasterList,
    MasterListError,
    certificate_issuer,
    load_master_list,
)
from kiosk.emrtd.trust import TrustStore
from tests import DATA
from tests.emrtd.test_pa import at, ec_key, make_ca, make_dsc, name

ML_DIR = DATA / "masterlists"
DE = ML_DIR / "DE_ML_2026-05-28.ml"
NL = ML_DIR / "NL_ML_2026-07-22.ml"


@cache
def real(path: Path) -> MasterList:
    return load_master_list(path.read_bytes())


class _CertSet(core.SetOf):
    _child_spec = x509.Certificate


class _MasterListContent(core.Sequence):
    _fields: ClassVar[list[tuple[Any, ...]]] = [
        ("version", core.Integer),
        ("cert_list", _CertSet),
    ]


def make_master_list(
    csca_ders: list[bytes],
    signer_der: bytes,
    signer_key: ec.EllipticCurvePrivateKey,
    *,
    carried: list[bytes] | None = None,
    content_type: str = ID_CSCA_MASTER_LIST,
) -> bytes:
    """A DER master list of ``csca_ders`` signed (ECDSA-SHA256) by the ML signer."""
    content = _MasterListContent(
        {"version": 0, "cert_list": [x509.Certificate.load(d) for d in csca_ders]}
    ).dump()
    attrs = cms.CMSAttributes(
        [
            {"type": "content_type", "values": [content_type]},
            {"type": "message_digest", "values": [hashlib.sha256(content).digest()]},
        ]
    )
    signer = x509.Certificate.load(signer_der)
    signature = signer_key.sign(attrs.dump(), ec.ECDSA(hashes.SHA256()))
    si = cms.SignerInfo(
        {
            "version": "v3",
            "sid": cms.SignerIdentifier({"subject_key_identifier": signer.key_identifier}),
            "digest_algorithm": {"algorithm": "sha256"},
            "signed_attrs": attrs,
            "signature_algorithm": {"algorithm": "sha256_ecdsa"},
            "signature": signature,
        }
    )
    sd = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [{"algorithm": "sha256"}],
            "encap_content_info": {
                "content_type": content_type,
                "content": core.ParsableOctetString(content),
            },
            "certificates": [x509.Certificate.load(d) for d in (carried or [signer_der])],
            "signer_infos": [si],
        }
    )
    return cms.ContentInfo({"content_type": "signed_data", "content": sd}).dump()


@cache
def small_list() -> tuple[bytes, bytes, bytes]:
    """(master list, its CSCA, another CSCA in it) — the signer issued by the first CSCA."""
    csca_name = name("CSCA ML test")
    csca_key = ec_key("ml-csca")
    csca = make_ca(csca_name, csca_key)
    other = make_ca(name("CSCA other"), ec_key("ml-other"))
    signer_key = ec_key("ml-signer")
    signer = make_ca(
        name("Master List Signer"), signer_key, issuer=csca_name, issuer_key=csca_key, ca=False
    )
    return make_master_list([csca, other], signer, signer_key), csca, other


@pytest.mark.parametrize(
    ("path", "count", "warnings"),
    [
        (DE, 588, {"ecdsa_null_parameters": 13, "serial_not_positive": 2}),
        (NL, 411, {"ecdsa_null_parameters": 8, "serial_not_positive": 4}),
    ],
)
def test_real_master_lists_load(path: Path, count: int, warnings: dict[str, int]) -> None:
    ml = real(path)
    assert len(ml.certificates) == count
    assert ml.skipped_count == 0  # every key is usable, explicit EC parameters included
    assert dict(ml.warnings) == warnings
    assert ml.signer_issuer.is_self_issued
    assert "CSCA" in ml.signer_issuer.subject or "csca" in ml.signer_issuer.subject
    explicit = sum(
        1
        for c in ml.certificates
        if c.asn1.public_key["algorithm"]["algorithm"].native == "ec"
        and c.asn1.public_key["algorithm"]["parameters"].name == "specified"
    )
    assert explicit >= 100


@pytest.mark.parametrize("path", [DE, NL])
def test_vietnam_epassport_csca_is_found_and_usable(path: Path) -> None:
    vn = [c for c in real(path).certificates if c.subject.startswith("CN=CSCA ePassport Vietnam")]
    assert len(vn) == 1
    cert = vn[0]
    key = cert.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    assert key.curve.name == "brainpoolP512r1"
    assert cert.asn1.public_key["algorithm"]["parameters"].name == "specified"
    assert cert.signed_by(key)  # self-signed with ecdsa-with-SHA512
    assert (cert.not_before.year, cert.not_after.year) == (2022, 2037)


def test_german_link_certificates_verify_under_the_previous_key() -> None:
    """Self-issued certificates not self-signed are link certificates; most old keys are listed."""
    certs = real(DE).certificates
    links = orphans = 0
    for cert in certs:
        if not cert.is_self_issued:
            continue
        try:
            self_signed = cert.signed_by(cert.public_key())
        except Exception:
            self_signed = False
        if not self_signed:
            if certificate_issuer(cert, certs) is not None:
                links += 1
            else:
                orphans += 1  # the previous CSCA has left the list
    assert (links, orphans) == (125, 11)


def test_trust_store_from_both_lists() -> None:
    store = TrustStore()
    store.add_master_list(real(DE))
    store.add_master_list(real(NL))
    stats = store.stats
    assert stats.master_lists == 2
    assert stats.certificates + stats.duplicates == 588 + 411
    assert 600 < stats.certificates < 999
    vn = [c for c in store.certificates() if "ePassport Vietnam" in c.subject]
    assert len(vn) == 1  # the same certificate in both lists, stored once


def test_own_master_list_loads() -> None:
    raw, csca, other = small_list()
    ml = load_master_list(raw)
    assert {c.der for c in ml.certificates} == {csca, other}
    assert ml.signer.subject == "CN=Master List Signer, O=Test Ministry, C=VN"
    assert ml.signer_issuer.der == csca


def test_signer_must_chain_to_a_csca_in_the_list_or_the_store() -> None:
    csca_name = name("CSCA outside")
    csca_key = ec_key("outside-csca")
    csca = make_ca(csca_name, csca_key)
    signer_key = ec_key("outside-signer")
    signer = make_dsc(csca_name, csca_key, signer_key, subject=name("ML signer outside"))
    other = make_ca(name("CSCA listed"), ec_key("listed"))
    raw = make_master_list([other], signer, signer_key)
    with pytest.raises(MasterListError, match="not issued by a CSCA"):
        load_master_list(raw)
    assert load_master_list(raw, [Certificate.from_der(csca)]).signer_issuer.der == csca
    store = TrustStore()
    store.add_certificate(csca)
    store.add_master_list(raw)
    assert len(store) == 2


def test_signer_issued_by_an_impostor_is_refused() -> None:
    csca_name = name("CSCA ML test")
    real_csca = make_ca(csca_name, ec_key("ml-csca"))
    impostor_key = ec_key("ml-impostor")
    signer_key = ec_key("ml-signer-2")
    signer = make_dsc(csca_name, impostor_key, signer_key, subject=name("ML signer 2"))
    with pytest.raises(MasterListError, match="not issued"):
        load_master_list(make_master_list([real_csca], signer, signer_key))


def test_tampered_content_and_signature_are_refused() -> None:
    raw, csca, _ = small_list()
    at = raw.index(csca[-40:])
    tampered = bytearray(raw)
    tampered[at] ^= 0x01
    with pytest.raises(MasterListError, match="signed digest"):
        load_master_list(bytes(tampered))
    info = cms.ContentInfo.load(raw)
    sig = bytes(info["content"]["signer_infos"][0]["signature"].native)
    at = raw.rindex(sig)
    forged = bytearray(raw)
    forged[at + len(sig) - 3] ^= 0x01
    with pytest.raises(MasterListError, match="signature does not verify"):
        load_master_list(bytes(forged))


def test_wrong_content_type_is_refused() -> None:
    signer_key = ec_key("ct-signer")
    signer = make_ca(name("ct signer"), signer_key)
    raw = make_master_list([signer], signer, signer_key, content_type="2.23.136.1.1.1")
    with pytest.raises(MasterListError, match="not a CSCA master list"):
        load_master_list(raw)
    with pytest.raises(MasterListError):
        load_master_list(b"\x30\x03\x02\x01\x00")
    with pytest.raises(MasterListError):
        load_master_list(b"")


def test_unusable_certificates_are_skipped_and_counted() -> None:
    _, csca, other = small_list()
    ed_key = ed25519.Ed25519PrivateKey.generate()
    odd = (
        cx509.CertificateBuilder()
        .subject_name(name("CSCA Ed25519"))
        .issuer_name(name("CSCA Ed25519"))
        .public_key(ed_key.public_key())
        .serial_number(3)
        .not_valid_before(at(2020))
        .not_valid_after(at(2030))
        .sign(ed_key, None)
        .public_bytes(serialization.Encoding.DER)
    )
    signer_key = ec_key("ml-signer")
    signer = make_ca(
        name("Master List Signer"),
        signer_key,
        issuer=name("CSCA ML test"),
        issuer_key=ec_key("ml-csca"),
        ca=False,
    )
    ml = load_master_list(
        make_master_list([csca, other, odd, b"\x30\x03\x02\x01\x00"], signer, signer_key)
    )
    assert len(ml.certificates) == 2
    assert dict(ml.skipped) == {"unreadable": 1, "unsupported_key": 1}
    assert ml.skipped_count == 2
