"""Passive authentication: sample cards, and each way a document can be bad, built right here.

The PKIs below are made with ``cryptography`` (certificates, CRLs) and the
SOD encoder, independently of the simulator's fault cards. The helpers
(``make_ca``, ``make_dsc``, ``make_sod``…) are reused by the trust-store and
fuzz tests.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from dataclasses import dataclass, replace
from functools import cache

import pytest
from asn1crypto import algos, cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from kiosk.emrtd import tlv
from kiosk.emrtd.lds import sod as sod_mod
from kiosk.emrtd.lds._common import unwrap
from kiosk.emrtd.pa import PassiveAuthResult, passive_authentication
from kiosk.emrtd.trust import TrustStore
from simulators.card.personalize import personalize
from simulators.card.pki import demo_trust_store, load_or_create_pki
from simulators.card.profile import load_profile

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
Key = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
SAMPLE_CARDS = (
    "default",
    "anh-tuyet",
    "bac-only",
    "big-photo",
    "elder",
    "fussy",
    "pace-only",
    "teen",
)


def at(year: int, month: int = 1, day: int = 1) -> dt.datetime:
    return dt.datetime(year, month, day, tzinfo=UTC)


SIGNED = at(2024, 5, 1)
CSCA_VALID = (at(2015), at(2040))
DSC_VALID = (at(2020), at(2035))


def name(cn: str, org: str = "Test Ministry") -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


@cache
def ec_key(label: str, curve: str = "brainpoolP256r1") -> ec.EllipticCurvePrivateKey:
    """A deterministic EC key per label (fast, reproducible tests)."""
    curves: dict[str, ec.EllipticCurve] = {
        "brainpoolP256r1": ec.BrainpoolP256R1(),
        "brainpoolP384r1": ec.BrainpoolP384R1(),
        "brainpoolP512r1": ec.BrainpoolP512R1(),
        "secp256r1": ec.SECP256R1(),
        "secp384r1": ec.SECP384R1(),
        "secp521r1": ec.SECP521R1(),
    }
    c = curves[curve]
    n = int.from_bytes(hashlib.sha512(f"{label}/{curve}".encode()).digest(), "big")
    return ec.derive_private_key(n % (2 ** (c.key_size - 2)) + 1, c)


@cache
def rsa_key(label: str, bits: int = 2048) -> rsa.RSAPrivateKey:
    """An RSA key per label, generated once per test session."""
    return rsa.generate_private_key(65537, bits)


def _sign_args(signer_key: Key, pss: bool = False) -> dict[str, object]:
    if isinstance(signer_key, rsa.RSAPrivateKey) and pss:
        return {
            "rsa_padding": padding.PSS(padding.MGF1(hashes.SHA256()), 32),
        }
    return {}


def make_ca(
    subject: x509.Name,
    key: Key,
    *,
    valid: tuple[dt.datetime, dt.datetime] = CSCA_VALID,
    issuer: x509.Name | None = None,
    issuer_key: Key | None = None,
    ca: bool = True,
    pss: bool = False,
    serial: int = 1,
) -> bytes:
    """A CSCA (self-signed) or, with ``issuer``/``issuer_key``, a link certificate: DER."""
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    signer = issuer_key or key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer or subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(valid[0])
        .not_valid_after(valid[1])
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()),
            critical=False,
        )
    )
    cert = builder.sign(signer, hashes.SHA256(), **_sign_args(signer, pss))  # type: ignore[arg-type]
    return cert.public_bytes(serialization.Encoding.DER)


def make_dsc(
    issuer: x509.Name,
    issuer_key: Key,
    key: Key,
    *,
    valid: tuple[dt.datetime, dt.datetime] = DSC_VALID,
    serial: int = 1001,
    subject: x509.Name | None = None,
    pss: bool = False,
    digital_signature: bool = True,
) -> bytes:
    """A Document Signer certificate: DER."""
    usage = x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=not digital_signature,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject or name("Document Signer 01"))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(valid[0])
        .not_valid_after(valid[1])
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
        .sign(issuer_key, hashes.SHA256(), **_sign_args(issuer_key, pss))  # type: ignore[arg-type]
    )
    return cert.public_bytes(serialization.Encoding.DER)


def make_crl(issuer: x509.Name, issuer_key: Key, revoked: list[int]) -> bytes:
    """A DER CRL of ``issuer`` revoking ``revoked`` serial numbers."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer)
        .last_update(at(2025))
        .next_update(at(2027))
    )
    for serial in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(at(2025)).build()
        )
    crl = builder.sign(issuer_key, hashes.SHA256())
    return crl.public_bytes(serialization.Encoding.DER)


def dg_files() -> dict[str, bytes]:
    """Three small data groups with valid outer tags."""
    return {
        "DG1": tlv.encode(0x61, tlv.encode(0x5F1F, b"IDVNM0880345170001088034517<<6" * 3)),
        "DG2": tlv.encode(0x75, b"\x7f\x61" + bytes(range(256)) * 8),
        "DG13": tlv.encode(0x6D, b"\x30\x03\x02\x01\x01"),
    }


def make_sod(
    files: dict[str, bytes],
    dsc_der: bytes,
    dsc_key: Key,
    *,
    signing_time: dt.datetime | None = SIGNED,
    extra: dict[int, bytes] | None = None,
    digest: str = "sha256",
) -> sod_mod.SOD:
    """A parsed SOD listing ``files`` (plus ``extra`` dg → hash), signed by ``dsc_key``."""
    pairs = {int(k[2:]): hashlib.new(digest, v).digest() for k, v in files.items()}
    pairs.update(extra or {})
    lso = sod_mod.LDSSecurityObject(0, digest, tuple(sorted(pairs.items())))
    raw = sod_mod.encode(
        lso,
        signer_cert_der=dsc_der,
        signer_key=dsc_key,
        digest_algorithm=digest,
        signing_time=signing_time,
    )
    return sod_mod.parse(raw)


def resign_pss(sod_raw: bytes, key: rsa.RSAPrivateKey, salt: int = 32) -> bytes:
    """Re-sign an encoded SOD's signed attributes with RSASSA-PSS (SHA-256, MGF1-SHA-256)."""
    info = cms.ContentInfo.load(unwrap(sod_raw, 0x77, "EF.SOD", len(sod_raw)))
    si = info["content"]["signer_infos"][0]
    signed = b"\x31" + si["signed_attrs"].dump()[1:]
    params = algos.RSASSAPSSParams(
        {
            "hash_algorithm": {"algorithm": "sha256"},
            "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": "sha256"}},
            "salt_length": salt,
        }
    )
    si["signature_algorithm"] = {"algorithm": "rsassa_pss", "parameters": params}
    pss = padding.PSS(padding.MGF1(hashes.SHA256()), salt)
    si["signature"] = key.sign(signed, pss, hashes.SHA256())
    return tlv.encode(0x77, info.dump(force=True))


@dataclass(frozen=True)
class Pki:
    """A trusted CSCA and its Document Signer."""

    csca_name: x509.Name
    csca_key: Key
    csca_der: bytes
    dsc_key: Key
    dsc_der: bytes

    def store(self) -> TrustStore:
        s = TrustStore()
        s.add_certificate(self.csca_der, strict=True)
        return s


@cache
def pki(label: str = "main", kind: str = "ec") -> Pki:
    """A CSCA + DSC pair: brainpool ECDSA (``ec``), P-256 (``p256``) or RSA-2048 (``rsa``)."""
    csca_name = name(f"CSCA {label}")
    if kind == "rsa":
        csca_key: Key = rsa_key(f"csca-{label}")
        dsc_key: Key = rsa_key(f"dsc-{label}")
    else:
        curve = "secp256r1" if kind == "p256" else "brainpoolP256r1"
        csca_key, dsc_key = ec_key(f"csca-{label}", curve), ec_key(f"dsc-{label}", curve)
    csca = make_ca(csca_name, csca_key)
    dsc = make_dsc(csca_name, csca_key, dsc_key)
    return Pki(csca_name, csca_key, csca, dsc_key, dsc)


def check(
    sod: sod_mod.SOD,
    files: dict[str, bytes],
    store: TrustStore | None,
    **kw: object,
) -> PassiveAuthResult:
    return passive_authentication(sod, files, store, now=NOW, **kw)  # type: ignore[arg-type]


# ------------------------------------------------------------------ sample cards


@pytest.fixture(scope="module")
def demo_store() -> TrustStore:
    return demo_trust_store()


@pytest.mark.parametrize("card", SAMPLE_CARDS)
def test_sample_cards_verify_with_demo_store(card: str, demo_store: TrustStore) -> None:
    files = personalize(load_profile(card), load_or_create_pki())
    sod = sod_mod.parse(files.sod)
    read = {f"DG{n}": raw for n, raw in files.dgs.items() if n != 3}
    result = passive_authentication(sod, read, demo_store, protected=("DG3",))
    assert result.verdict == "verified", result.reasons
    assert (result.signature, result.chain, result.reasons) == ("valid", "trusted", ())
    assert result.data_groups["DG3"] == "protected"
    assert all(result.data_groups[f"DG{n}"] == "ok" for n in (1, 2, 13, 14, 15))
    assert result.signer is not None and "Document Signer Test" in result.signer.subject
    assert result.csca is not None and "CSCA Test Vietnam CCCD" in result.csca

    unknown = passive_authentication(sod, read, TrustStore(), protected=("DG3",))
    assert (unknown.verdict, unknown.signature, unknown.chain) == (
        "issuer_unknown",
        "valid",
        "unknown_issuer",
    )
    assert "not trusted" in unknown.reasons[0]
    assert passive_authentication(sod, read, None).verdict == "issuer_unknown"


def test_sod_only_dump_still_verifies(demo_store: TrustStore) -> None:
    files = personalize(load_profile("default"), load_or_create_pki())
    result = passive_authentication(sod_mod.parse(files.sod), {}, demo_store)
    assert result.verdict == "verified"
    assert set(result.data_groups.values()) == {"missing"}


def test_to_json_shape() -> None:
    p = pki()
    files = dg_files()
    result = check(make_sod(files, p.dsc_der, p.dsc_key), files, p.store())
    doc = result.to_json()
    assert doc["verdict"] == "verified"
    assert doc["signer"]["serial"] == "1001"
    assert doc["signer"]["issuer"] == "CN=CSCA main, O=Test Ministry, C=VN"
    assert doc["data_groups"] == {"DG1": "ok", "DG2": "ok", "DG13": "ok"}
    assert doc["signing_time"] == "2024-05-01T00:00:00+00:00"


# ------------------------------------------------------------------ data groups


def test_tampered_dg_fails() -> None:
    p = pki()
    files = dg_files()
    sod = make_sod(files, p.dsc_der, p.dsc_key)
    bad = dict(files, DG2=files["DG2"][:-1] + b"\x00")
    result = check(sod, bad, p.store())
    assert (result.verdict, result.signature, result.chain) == ("failed", "valid", "trusted")
    assert result.data_groups["DG2"] == "mismatch"
    assert result.reasons == ("DG2 does not match its hash in the SOD",)


def test_dg_not_listed_fails_and_listed_missing_is_noted() -> None:
    p = pki()
    files = dg_files()
    sod = make_sod(files, p.dsc_der, p.dsc_key, extra={15: b"\x01" * 32, 3: b"\x02" * 32})
    result = check(sod, files, p.store(), protected=["DG3"])
    assert result.verdict == "verified"
    assert result.data_groups["DG15"] == "missing"
    assert result.data_groups["DG3"] == "protected"
    extra = dict(files, DG11=tlv.encode(0x6B, b"x"))
    result = check(sod, extra, p.store())
    assert result.verdict == "failed"
    assert result.data_groups["DG11"] == "not_listed"
    assert result.reasons == ("DG11 is on the card but not listed in the SOD",)


def test_trailing_padding_after_dg_is_tolerated() -> None:
    p = pki()
    files = dg_files()
    sod = make_sod(files, p.dsc_der, p.dsc_key)
    padded = dict(files, DG13=files["DG13"] + b"\x00\x00\x00")
    assert check(sod, padded, p.store()).data_groups["DG13"] == "ok"


# ------------------------------------------------------------------ signature


def test_forged_signature_fails() -> None:
    p = pki()
    files = dg_files()
    forged = make_sod(files, p.dsc_der, ec_key("forger"))
    result = check(forged, files, p.store())
    assert (result.verdict, result.signature) == ("failed", "invalid")
    assert "signature does not verify" in result.reasons[0]


def test_swapped_hash_list_fails_on_message_digest() -> None:
    p = pki()
    files = dg_files()
    good = make_sod(files, p.dsc_der, p.dsc_key)
    other = make_sod(dict(files, DG1=tlv.encode(0x61, b"other")), p.dsc_der, p.dsc_key)
    mixed = replace(good, econtent=other.econtent, lds_security_object=other.lds_security_object)
    result = check(mixed, dict(files, DG1=tlv.encode(0x61, b"other")), p.store())
    assert (result.verdict, result.signature) == ("failed", "invalid")
    assert result.reasons == ("The SOD's hash list does not match its signed digest",)


def test_rsa_pss_sod_verifies_and_tampering_fails() -> None:
    p = pki("pss", "rsa")
    files = dg_files()
    lso = sod_mod.LDSSecurityObject(
        0, "sha256", tuple((int(k[2:]), hashlib.sha256(v).digest()) for k, v in files.items())
    )
    raw = sod_mod.encode(lso, signer_cert_der=p.dsc_der, signer_key=p.dsc_key)
    assert isinstance(p.dsc_key, rsa.RSAPrivateKey)
    pss_raw = resign_pss(raw, p.dsc_key)
    sod = sod_mod.parse(pss_raw)
    assert sod.signer_info.signature_algorithm == "rsassa_pss"
    assert check(sod, files, p.store()).verdict == "verified"
    broken = bytearray(pss_raw)
    broken[-5] ^= 1  # inside the signature, the last field
    result = check(sod_mod.parse(bytes(broken)), files, p.store())
    assert result.signature == "invalid" and result.verdict == "failed"


# ------------------------------------------------------------------ chain


def test_foreign_dsc_is_issuer_unknown() -> None:
    trusted, foreign = pki("trusted"), pki("foreign")
    files = dg_files()
    result = check(make_sod(files, foreign.dsc_der, foreign.dsc_key), files, trusted.store())
    assert (result.verdict, result.signature, result.chain) == (
        "issuer_unknown",
        "valid",
        "unknown_issuer",
    )
    assert result.reasons == (
        "The issuer of the document signer (CN=CSCA foreign, O=Test Ministry, C=VN) is not trusted",
    )


def test_impostor_csca_with_trusted_name_fails() -> None:
    real = pki("real")
    impostor_key = ec_key("impostor")
    impostor_dsc_key = ec_key("impostor-dsc")
    dsc = make_dsc(real.csca_name, impostor_key, impostor_dsc_key)
    files = dg_files()
    result = check(make_sod(files, dsc, impostor_dsc_key), files, real.store())
    assert (result.verdict, result.signature, result.chain) == ("failed", "valid", "invalid")
    assert result.reasons == (
        "The document signer's certificate is not signed by the trusted CSCA of that name",
    )


@pytest.mark.parametrize(
    ("signed", "verdict"),
    [(at(2017, 6), "verified"), (at(2019, 6), "failed"), (at(2014, 6), "failed")],
)
def test_expired_dsc_policy(signed: dt.datetime, verdict: str) -> None:
    p = pki()
    dsc = make_dsc(p.csca_name, p.csca_key, p.dsc_key, valid=(at(2016), at(2018)), serial=7)
    files = dg_files()
    result = check(make_sod(files, dsc, p.dsc_key, signing_time=signed), files, p.store())
    assert result.verdict == verdict
    if verdict == "failed":
        assert result.chain == "invalid"
        assert result.reasons == (
            "The document signer's certificate (valid 2016-01-01 to 2018-01-01) was not "
            f"valid when the document was signed ({signed.date().isoformat()})",
        )


def test_without_signing_time_dsc_expiry_alone_does_not_fail() -> None:
    """No signingTime, no date of issue: an expired DSC is a note, never "signed <today>"."""
    p = pki()
    files = dg_files()
    expired = make_dsc(p.csca_name, p.csca_key, p.dsc_key, valid=(at(2016), at(2018)))
    result = check(make_sod(files, expired, p.dsc_key, signing_time=None), files, p.store())
    assert (result.verdict, result.signature, result.chain) == ("verified", "valid", "trusted")
    assert (result.reference, result.reference_time, result.signing_time) == ("unknown", None, None)
    assert result.reasons == ()
    assert result.notes == (
        "The SOD does not say when it was signed (no signing time, no date of issue); the "
        "document signer's certificate expired on 2018-01-01, which alone does not make the "
        "document invalid",
    )
    assert NOW.date().isoformat() not in " ".join(result.notes + result.reasons)
    current = check(make_sod(files, p.dsc_der, p.dsc_key, signing_time=None), files, p.store())
    assert (current.verdict, current.notes) == ("verified", ())


def test_without_signing_time_a_forged_or_tampered_document_still_fails() -> None:
    """Unknown signing time relaxes DSC expiry only: signature, hashes and chain still decide."""
    p = pki()
    files = dg_files()
    expired = make_dsc(p.csca_name, p.csca_key, p.dsc_key, valid=(at(2016), at(2018)))
    sod = make_sod(files, expired, p.dsc_key, signing_time=None)
    tampered = dict(files, DG1=files["DG1"][:-1] + b"X")
    assert check(sod, tampered, p.store()).verdict == "failed"
    forged = make_sod(files, expired, ec_key("forger"), signing_time=None)
    assert check(forged, files, p.store()).signature == "invalid"
    assert check(sod, files, None).verdict == "issuer_unknown"


def test_without_signing_time_a_dsc_not_yet_valid_fails() -> None:
    p = pki()
    files = dg_files()
    future = make_dsc(p.csca_name, p.csca_key, p.dsc_key, valid=(at(2028), at(2035)))
    result = check(make_sod(files, future, p.dsc_key, signing_time=None), files, p.store())
    assert (result.verdict, result.chain) == ("failed", "invalid")
    assert "not valid yet" in result.reasons[0]
    assert "when the document was signed" not in result.reasons[0]


def _cccd_dg13(issued: str) -> bytes:
    from kiosk.emrtd.lds import dg13

    return dg13.encode(dg13.DG13(id_number="001088034517", date_of_issue=issued))


@pytest.mark.parametrize(
    ("issued", "verdict"),
    [("15/06/2017", "verified"), ("15/06/2019", "failed"), ("20/01/2018", "verified")],
)
def test_without_signing_time_the_cccd_date_of_issue_is_the_reference(
    issued: str, verdict: str
) -> None:
    """DG13 field 11 (hash-verified) stands in for the signing time; 31 days' grace."""
    p = pki()
    files = dict(dg_files(), DG13=_cccd_dg13(issued))
    dsc = make_dsc(p.csca_name, p.csca_key, p.dsc_key, valid=(at(2016), at(2018)))
    result = check(make_sod(files, dsc, p.dsc_key, signing_time=None), files, p.store())
    assert result.verdict == verdict
    assert result.reference == "date_of_issue"
    day, month, year = issued.split("/")
    assert result.reference_time == at(int(year), int(month), int(day))
    if verdict == "failed":
        assert result.reasons == (
            "The document signer's certificate (valid 2016-01-01 to 2018-01-01) was not "
            f"valid on the document's date of issue ({year}-{month}-{day})",
        )


def test_date_of_issue_from_the_caller_and_from_dg12() -> None:
    p = pki()
    dsc = make_dsc(p.csca_name, p.csca_key, p.dsc_key, valid=(at(2016), at(2018)))
    files = dg_files()
    sod = make_sod(files, dsc, p.dsc_key, signing_time=None)
    late = check(sod, files, p.store(), date_of_issue=dt.date(2020, 1, 1))
    assert (late.verdict, late.reference) == ("failed", "date_of_issue")
    dg12 = tlv.encode(0x6C, tlv.encode(0x5C, b"\x5f\x26") + tlv.encode(0x5F26, b"20170301"))
    with_dg12 = dict(files, DG12=dg12)
    sod12 = make_sod(with_dg12, dsc, p.dsc_key, signing_time=None)
    result = check(sod12, with_dg12, p.store())
    assert (result.verdict, result.reference) == ("verified", "date_of_issue")
    assert result.reference_time == at(2017, 3, 1)


def test_a_dg13_that_fails_its_hash_gives_no_date_of_issue() -> None:
    p = pki()
    files = dict(dg_files(), DG13=_cccd_dg13("15/06/2017"))
    dsc = make_dsc(p.csca_name, p.csca_key, p.dsc_key, valid=(at(2016), at(2018)))
    sod = make_sod(files, dsc, p.dsc_key, signing_time=None)
    forged = dict(files, DG13=_cccd_dg13("15/06/2016"))
    result = check(sod, forged, p.store())
    assert (result.verdict, result.reference) == ("failed", "unknown")


def test_signing_time_in_future_fails() -> None:
    p = pki()
    files = dg_files()
    result = check(make_sod(files, p.dsc_der, p.dsc_key, signing_time=at(2030)), files, p.store())
    assert result.verdict == "failed"
    assert "signed in the future" in result.reasons[0]


def test_csca_must_be_valid_at_dsc_issuance() -> None:
    csca_name = name("CSCA late")
    key = ec_key("csca-late")
    csca = make_ca(csca_name, key, valid=(at(2022), at(2040)))
    dsc_key = ec_key("dsc-late")
    dsc = make_dsc(csca_name, key, dsc_key, valid=(at(2020), at(2035)))
    store = TrustStore()
    store.add_certificate(csca)
    files = dg_files()
    result = check(make_sod(files, dsc, dsc_key), files, store)
    assert result.verdict == "failed"
    assert "was not valid when it issued" in result.reasons[0]


def test_dsc_without_digital_signature_usage_fails() -> None:
    p = pki()
    dsc = make_dsc(p.csca_name, p.csca_key, p.dsc_key, digital_signature=False)
    files = dg_files()
    result = check(make_sod(files, dsc, p.dsc_key), files, p.store())
    assert result.verdict == "failed"
    assert result.reasons == ("The document signer's certificate is not allowed to sign documents",)


def test_revoked_dsc_fails_only_with_a_genuine_crl() -> None:
    p = pki()
    files = dg_files()
    sod = make_sod(files, p.dsc_der, p.dsc_key)
    store = p.store()
    store.add_crl(make_crl(p.csca_name, p.csca_key, [5, 6]))
    assert check(sod, files, store).verdict == "verified"  # a CRL not naming this DSC
    store.add_crl(make_crl(p.csca_name, ec_key("crl-forger"), [1001]))
    assert check(sod, files, store).verdict == "verified"  # forged CRL ignored ...
    assert store.stats.warnings["crl_signature_invalid"] == 1  # ... and counted
    store.add_crl(make_crl(p.csca_name, p.csca_key, [1001]))
    result = check(sod, files, store)
    assert (result.verdict, result.chain) == ("failed", "invalid")
    assert result.reasons == ("The document signer's certificate has been revoked",)


def test_rsa_chain_verifies() -> None:
    p = pki("rsa", "rsa")
    files = dg_files()
    assert check(make_sod(files, p.dsc_der, p.dsc_key), files, p.store()).verdict == "verified"


def test_sod_without_dsc_fails() -> None:
    p = pki()
    files = dg_files()
    sod = make_sod(files, p.dsc_der, p.dsc_key)
    result = check(replace(sod, certificates=()), files, p.store())
    assert (result.verdict, result.signature, result.signer) == ("failed", "invalid", None)
    assert result.reasons == ("The SOD does not carry its document signer's certificate",)


@pytest.mark.parametrize("kind", ["rsa", "p256"])
def test_pa_cpu_time_is_small(kind: str) -> None:
    """PA (SOD parse + hashes + signature + chain) stays well under the 5 ms target."""
    p = pki(f"bench-{kind}", kind)
    files = dg_files()
    sod = make_sod(files, p.dsc_der, p.dsc_key)
    raw_sod = sod_mod.encode(
        sod.lds_security_object, signer_cert_der=p.dsc_der, signer_key=p.dsc_key
    )
    store = p.store()
    times = []
    for _ in range(21):
        start = time.process_time()
        result = check(sod_mod.parse(raw_sod), files, store)
        times.append(time.process_time() - start)
        assert result.verdict == "verified"
    times.sort()
    assert times[len(times) // 2] < 0.05  # generous: a shared CI machine


def test_the_dsc_chain_signature_is_checked_once_per_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """Thousands of cards share a DSC: its signature under the CSCA is verified once."""
    from kiosk.emrtd.certs import Certificate

    calls: list[int] = []
    original = Certificate.signed_by

    def counting(self: Certificate, key: object) -> bool:
        calls.append(1)
        return original(self, key)  # type: ignore[arg-type]

    monkeypatch.setattr(Certificate, "signed_by", counting)
    p = pki()
    files = dg_files()
    sod = make_sod(files, p.dsc_der, p.dsc_key)
    store = p.store()
    for _ in range(3):
        assert check(sod, files, store).verdict == "verified"
    assert len(calls) == 1
    other = make_sod(files, make_dsc(p.csca_name, p.csca_key, p.dsc_key, serial=77), p.dsc_key)
    assert check(other, files, store).verdict == "verified"  # another DSC: checked again
    assert len(calls) == 2
    assert check(sod, files, p.store()).verdict == "verified"  # a new store: checked again
    assert len(calls) == 3
    forged = make_dsc(p.csca_name, ec_key("forger-ca"), p.dsc_key, serial=78)
    for _ in range(2):
        result = check(make_sod(files, forged, p.dsc_key), files, store)
        assert (result.verdict, result.chain) == ("failed", "invalid")  # remembered as False
    assert len(calls) == 4
