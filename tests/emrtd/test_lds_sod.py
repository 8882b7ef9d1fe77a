"""EF.SOD: LDSSecurityObject round trip, signed CMS structure, signature check with cryptography."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from kiosk.emrtd import tlv
from kiosk.emrtd.errors import LDSParseError
from kiosk.emrtd.lds import sod
from kiosk.emrtd.lds.sod import (
    LDSSecurityObject,
    encode_lds_security_object,
    parse_lds_security_object,
)

LSO = LDSSecurityObject(
    version=0,
    hash_algorithm="sha256",
    dg_hashes=(
        (1, hashlib.sha256(b"dg1").digest()),
        (2, hashlib.sha256(b"dg2").digest()),
        (13, hashlib.sha256(b"dg13").digest()),
        (14, hashlib.sha256(b"dg14").digest()),
        (15, hashlib.sha256(b"dg15").digest()),
    ),
)
LSO_V1 = LDSSecurityObject(1, "sha384", ((1, b"\x01" * 48), (2, b"\x02" * 48)), ("0108", "040000"))


def _certificate(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, serial: int) -> bytes:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Test Document Signer"),
        ]
    )
    issuer = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Test CSCA"),
        ]
    )
    now = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


@cache
def ec_signer() -> tuple[ec.EllipticCurvePrivateKey, bytes]:
    key = ec.generate_private_key(ec.BrainpoolP256R1())
    return key, _certificate(key, 0x1234567890ABCDEF)


@cache
def rsa_signer() -> tuple[rsa.RSAPrivateKey, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key, _certificate(key, 42)


def test_lds_security_object_round_trip() -> None:
    for lso in (LSO, LSO_V1):
        assert parse_lds_security_object(encode_lds_security_object(lso)) == lso
    assert LSO.hash_for(13) == hashlib.sha256(b"dg13").digest()
    assert LSO.hash_for(3) is None
    assert LSO.data_groups == (1, 2, 13, 14, 15)


def test_lds_security_object_known_encoding() -> None:
    # v0, sha256 with NULL parameters, DG1 and DG2 hashes of two bytes each
    der = bytes.fromhex(
        "3026020100300D060960864801650304020105003012300702010104021111300702010204022222"
    )
    lso = parse_lds_security_object(der)
    assert lso == LDSSecurityObject(0, "sha256", ((1, b"\x11\x11"), (2, b"\x22\x22")))
    assert encode_lds_security_object(lso) == der


@pytest.mark.parametrize("signer", [ec_signer, rsa_signer])
def test_signed_sod_verifies_with_cryptography(signer: Callable[[], tuple[Any, bytes]]) -> None:
    key, cert_der = signer()
    when = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.UTC)
    data = sod.encode(LSO, signer_cert_der=cert_der, signer_key=key, signing_time=when)
    assert data[0] == 0x77
    parsed = sod.parse(data + b"\x00" * 9)  # chips pad files
    assert parsed.lds_security_object == LSO
    assert parsed.econtent == encode_lds_security_object(LSO)
    assert parsed.econtent_type == "2.23.136.1.1.1"
    assert parsed.certificates == (cert_der,)
    assert parsed.digest_algorithms == ("sha256",)
    assert parsed.signed_data_version == 3
    si = parsed.signer_info
    assert si.version == 1
    assert si.digest_algorithm == "sha256"
    assert si.content_type == "2.23.136.1.1.1"
    assert si.message_digest == hashlib.sha256(parsed.econtent).digest()
    assert si.signing_time == when
    assert parsed.signer_certificate() == cert_der
    certificate = x509.load_der_x509_certificate(cert_der)
    assert si.serial_number == certificate.serial_number
    assert si.signed_attrs_der is not None and si.signed_attrs_der[0] == 0x31
    public_key = certificate.public_key()
    if isinstance(public_key, rsa.RSAPublicKey):
        assert si.signature_algorithm == "sha256_rsa"
        public_key.verify(si.signature, si.signed_attrs_der, padding.PKCS1v15(), hashes.SHA256())
    else:
        assert isinstance(public_key, ec.EllipticCurvePublicKey)
        assert si.signature_algorithm == "sha256_ecdsa"
        public_key.verify(si.signature, si.signed_attrs_der, ec.ECDSA(hashes.SHA256()))
    # a tampered attribute set must not verify: the check above is a real one
    tampered = si.signed_attrs_der[:-1] + bytes([si.signed_attrs_der[-1] ^ 1])
    with pytest.raises(InvalidSignature):
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(si.signature, tampered, padding.PKCS1v15(), hashes.SHA256())
        else:
            public_key.verify(si.signature, tampered, ec.ECDSA(hashes.SHA256()))


def test_sha512_without_signing_time() -> None:
    key, cert_der = ec_signer()
    parsed = sod.parse(
        sod.encode(LSO_V1, signer_cert_der=cert_der, signer_key=key, digest_algorithm="sha512")
    )
    assert parsed.lds_security_object == LSO_V1
    assert parsed.signer_info.signing_time is None
    assert parsed.signer_info.signature_algorithm == "sha512_ecdsa"
    assert parsed.signer_info.message_digest == hashlib.sha512(parsed.econtent).digest()


def test_signing_time_after_2049_uses_generalized_time() -> None:
    key, cert_der = ec_signer()
    when = datetime.datetime(2051, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    parsed = sod.parse(sod.encode(LSO, signer_cert_der=cert_der, signer_key=key, signing_time=when))
    assert parsed.signer_info.signing_time == when


def _content_info(data: bytes) -> cms.ContentInfo:
    return cms.ContentInfo.load(tlv.decode_prefix(data)[0].value)


def test_wrong_econtent_type_is_rejected() -> None:
    key, cert_der = ec_signer()
    info = _content_info(sod.encode(LSO, signer_cert_der=cert_der, signer_key=key))
    info["content"]["encap_content_info"]["content_type"] = "1.2.840.113549.1.7.1"
    with pytest.raises(LDSParseError, match="eContentType"):
        sod.parse(tlv.encode(0x77, info.dump(force=True)))


def test_subject_key_identifier_signer() -> None:
    key, cert_der = ec_signer()
    info = _content_info(sod.encode(LSO, signer_cert_der=cert_der, signer_key=key))
    ski = x509.load_der_x509_certificate(cert_der).extensions.get_extension_for_class(
        x509.SubjectKeyIdentifier
    )
    signer = info["content"]["signer_infos"][0]
    signer["version"] = "v3"
    signer["sid"] = cms.SignerIdentifier({"subject_key_identifier": ski.value.digest})
    parsed = sod.parse(tlv.encode(0x77, info.dump(force=True)))
    assert parsed.signer_info.version == 3
    assert parsed.signer_info.issuer_der is None
    assert parsed.signer_info.subject_key_identifier == ski.value.digest
    assert parsed.signer_certificate() == cert_der


def test_unknown_signer_has_no_certificate() -> None:
    key, cert_der = ec_signer()
    _, other_cert = rsa_signer()
    info = _content_info(sod.encode(LSO, signer_cert_der=cert_der, signer_key=key))
    info["content"]["certificates"] = [cms.CertificateChoices.load(other_cert)]
    parsed = sod.parse(tlv.encode(0x77, info.dump(force=True)))
    assert parsed.certificates == (other_cert,)
    # The only certificate carried is the only candidate (the signature check decides).
    assert parsed.find_signer() == (other_cert, "only_certificate")
    third_cert = _certificate(ec.generate_private_key(ec.BrainpoolP256R1()), 99)
    info["content"]["certificates"] = [
        cms.CertificateChoices.load(other_cert),
        cms.CertificateChoices.load(third_cert),
    ]
    two = sod.parse(tlv.encode(0x77, info.dump(force=True)))
    assert two.find_signer() is None
    assert two.signer_certificate() is None


def test_duplicate_and_out_of_range_data_groups_are_rejected() -> None:
    for pairs in (((1, b"a"), (1, b"b")), ((0, b"a"), (2, b"b")), ((17, b"a"), (2, b"b"))):
        der = encode_lds_security_object(LDSSecurityObject(0, "sha256", pairs))
        with pytest.raises(LDSParseError):
            parse_lds_security_object(der)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        tlv.encode(0x77, b""),
        tlv.encode(0x77, b"\x30\x00"),
        tlv.encode(0x76, b"\x30\x00"),
        tlv.encode(0x77, bytes.fromhex("300B06092A864886F70D010701")),  # id-data, no content
    ],
)
def test_malformed_sod_raises(data: bytes) -> None:
    with pytest.raises(LDSParseError):
        sod.parse(data)


def test_truncations_raise_project_errors_only() -> None:
    key, cert_der = ec_signer()
    data = sod.encode(LSO, signer_cert_der=cert_der, signer_key=key)
    for cut in range(0, len(data), 7):
        with pytest.raises(LDSParseError):
            sod.parse(data[:cut])


def test_encode_is_deterministic() -> None:
    key, cert_der = ec_signer()
    when = datetime.datetime(2024, 5, 6, 7, 8, 9)  # naive: taken as UTC
    a = sod.encode(LSO, signer_cert_der=cert_der, signer_key=key, signing_time=when)
    b = sod.encode(LSO, signer_cert_der=cert_der, signer_key=key, signing_time=when)
    assert a == b
    assert sod.parse(a).signer_info.signing_time == when.replace(tzinfo=datetime.UTC)
