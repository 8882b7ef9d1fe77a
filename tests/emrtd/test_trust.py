"""Signature verification for every algorithm, tolerant certificates, and the trust store."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from asn1crypto import core, keys
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from kiosk.emrtd import ec as kec
from kiosk.emrtd.certs import (
    Certificate,
    CertificateError,
    PassiveAuthError,
    PublicKeyError,
    SignatureAlgorithmError,
    SignatureScheme,
    load_public_key,
    signature_scheme,
    verify_signature,
)
from kiosk.emrtd.errors import EmrtdError
from kiosk.emrtd.trust import CRLError, TrustStore, TrustStoreError
from simulators.card.pki import demo_trust_store, load_or_create_pki
from tests.emrtd.test_masterlist import small_list
from tests.emrtd.test_pa import (
    NOW,
    check,
    dg_files,
    ec_key,
    make_ca,
    make_crl,
    make_dsc,
    make_sod,
    name,
    pki,
    rsa_key,
)

DATA = b"signed attributes, or anything else"
HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
CURVES = ["secp256r1", "secp384r1", "secp521r1", "brainpoolP256r1", "brainpoolP384r1"]
CURVES += ["brainpoolP512r1"]


def flip(data: bytes, at: int = -1) -> bytes:
    out = bytearray(data)
    out[at] ^= 0x01
    return bytes(out)


def spki(key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def explicit_spki(key: ec.EllipticCurvePublicKey) -> bytes:
    """The same EC key with explicit domain parameters (specifiedCurve) instead of a name."""
    curve = kec.CURVES[key.curve.name]
    size = curve.size
    point = key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    params = keys.ECDomainParameters(
        name="specified",
        value={
            "version": "ecdpVer1",
            "field_id": {"field_type": "prime_field", "parameters": curve.p},
            "curve": {
                "a": (curve.a % curve.p).to_bytes(size, "big"),
                "b": curve.b.to_bytes(size, "big"),
            },
            "base": b"\x04" + curve.gx.to_bytes(size, "big") + curve.gy.to_bytes(size, "big"),
            "order": curve.n,
            "cofactor": 1,
        },
    )
    info = keys.PublicKeyInfo(
        {
            "algorithm": {"algorithm": "ec", "parameters": params},
            "public_key": point,
        }
    )
    return info.dump()


# ------------------------------------------------------------------ signatures


@pytest.mark.parametrize("digest", sorted(HASHES))
def test_rsa_pkcs1v15_every_hash(digest: str) -> None:
    key = rsa_key("sig-rsa")
    sig = key.sign(DATA, padding.PKCS1v15(), HASHES[digest]())
    assert verify_signature(key.public_key(), f"{digest}_rsa", DATA, sig)
    assert verify_signature(spki(key.public_key()), f"{digest}_rsa", DATA, sig)
    assert not verify_signature(key.public_key(), f"{digest}_rsa", flip(DATA), sig)
    assert not verify_signature(key.public_key(), f"{digest}_rsa", DATA, flip(sig))
    # rsaEncryption as the signature algorithm, hash from the SignerInfo's digestAlgorithm
    assert verify_signature(key.public_key(), "1.2.840.113549.1.1.1", DATA, sig, digest=digest)


@pytest.mark.parametrize(("digest", "salt"), [("sha256", 32), ("sha512", 64), ("sha1", 20)])
def test_rsa_pss_with_parameters(digest: str, salt: int) -> None:
    from asn1crypto import algos

    key = rsa_key("sig-pss")
    h = HASHES[digest]
    sig = key.sign(DATA, padding.PSS(padding.MGF1(h()), salt), h())
    params = algos.RSASSAPSSParams(
        {
            "hash_algorithm": {"algorithm": digest},
            "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": digest}},
            "salt_length": salt,
        }
    )
    assert verify_signature(key.public_key(), "rsassa_pss", DATA, sig, parameters=params.dump())
    assert not verify_signature(key.public_key(), "rsassa_pss", flip(DATA), sig, parameters=params)
    assert not verify_signature(
        key.public_key(), "rsassa_pss", DATA, flip(sig, 5), parameters=params
    )
    wrong_salt = SignatureScheme("rsa_pss", digest, digest, salt + 1)
    assert not verify_signature(key.public_key(), wrong_salt, DATA, sig)
    if digest == "sha1" and salt == 20:  # RFC 4055 defaults: no parameters at all
        assert verify_signature(key.public_key(), "rsassa_pss", DATA, sig)


def test_pss_scheme_parsing() -> None:
    from asn1crypto import algos

    params = algos.RSASSAPSSParams(
        {
            "hash_algorithm": {"algorithm": "sha384"},
            "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": "sha256"}},
            "salt_length": 48,
        }
    )
    assert signature_scheme("rsassa_pss", params.dump()) == SignatureScheme(
        "rsa_pss", "sha384", "sha256", 48
    )
    bad = algos.RSASSAPSSParams({"hash_algorithm": {"algorithm": "md5"}})
    with pytest.raises(SignatureAlgorithmError):
        signature_scheme("rsassa_pss", bad.dump())
    with pytest.raises(SignatureAlgorithmError):
        signature_scheme("rsassa_pss", b"\x30\x03\x02\x01")


@pytest.mark.parametrize("curve", CURVES)
def test_ecdsa_der_and_plain_on_nist_and_brainpool(curve: str) -> None:
    key = ec_key("sig-ec", curve)
    pub = key.public_key()
    size = (pub.curve.key_size + 7) // 8
    for digest in ("sha1", "sha256", "sha512"):
        der = key.sign(DATA, ec.ECDSA(HASHES[digest]()))
        assert verify_signature(pub, f"{digest}_ecdsa", DATA, der)
        assert not verify_signature(pub, f"{digest}_ecdsa", flip(DATA), der)
        assert not verify_signature(pub, f"{digest}_ecdsa", DATA, flip(der))
        r, s = decode_dss_signature(der)
        plain = r.to_bytes(size, "big") + s.to_bytes(size, "big")
        oid = {"sha1": "1", "sha256": "3", "sha512": "5"}[digest]
        assert verify_signature(pub, f"0.4.0.127.0.7.1.1.4.1.{oid}", DATA, plain)
        assert not verify_signature(pub, f"0.4.0.127.0.7.1.1.4.1.{oid}", DATA, flip(plain))
        assert verify_signature(explicit_spki(pub), f"{digest}_ecdsa", DATA, der)


def test_explicit_parameters_are_matched_to_the_named_curve() -> None:
    pub = ec_key("explicit", "brainpoolP384r1").public_key()
    loaded = load_public_key(explicit_spki(pub))
    assert isinstance(loaded, ec.EllipticCurvePublicKey)
    assert loaded.curve.name == "brainpoolP384r1"
    assert loaded.public_numbers() == pub.public_numbers()


def test_unusable_inputs_raise_project_errors() -> None:
    rsa_pub = rsa_key("sig-rsa").public_key()
    ec_pub = ec_key("sig-ec").public_key()
    with pytest.raises(SignatureAlgorithmError):
        verify_signature(rsa_pub, "sha256_ecdsa", DATA, b"\x30\x00")
    with pytest.raises(SignatureAlgorithmError):
        verify_signature(ec_pub, "sha256_rsa", DATA, b"\x00")
    with pytest.raises(SignatureAlgorithmError):
        verify_signature(ec_pub, "md5_rsa", DATA, b"\x00")
    with pytest.raises(SignatureAlgorithmError):
        verify_signature(ec_pub, "not-an-algorithm", DATA, b"\x00")
    with pytest.raises(SignatureAlgorithmError):
        verify_signature(ec_pub, "ecdsa", DATA, b"\x00")  # no hash given
    with pytest.raises(PublicKeyError):
        verify_signature(b"\x30\x00", "sha256_ecdsa", DATA, b"\x00")
    assert not verify_signature(ec_pub, "sha256_ecdsa", DATA, b"junk")
    assert not verify_signature(ec_pub, "sha256_ecdsa", DATA, b"")
    assert issubclass(PassiveAuthError, EmrtdError)


# ------------------------------------------------------------------ certificates


def _resign(
    der: bytes, key: ec.EllipticCurvePrivateKey, *, serial: int | None, null: bool
) -> bytes:
    """Re-encode a certificate with a given serial and/or NULL ECDSA parameters, re-signed."""
    cert = ax509.Certificate.load(der)
    tbs = cert["tbs_certificate"]
    if serial is not None:
        tbs["serial_number"] = serial
    if null:
        alg = {"algorithm": "sha256_ecdsa", "parameters": core.Null()}
        tbs["signature"] = alg
        cert["signature_algorithm"] = alg
    tbs_der = tbs.dump(force=True)
    cert["signature_value"] = key.sign(tbs_der, ec.ECDSA(hashes.SHA256()))
    return cert.dump(force=True)


def test_non_strict_certificates_are_tolerated_with_warnings() -> None:
    key = ec_key("nonstrict")
    der = _resign(make_ca(name("CSCA odd"), key), key, serial=-1234, null=True)
    with pytest.raises(ValueError):  # cryptography refuses it ...
        x509.load_der_x509_certificate(der).public_key()
    cert = Certificate.from_der(der, load_key=True)  # ... we do not
    assert cert.serial_number == -1234
    assert set(cert.warnings) == {"serial_not_positive", "ecdsa_null_parameters"}
    assert cert.signed_by(cert.public_key())
    assert cert.subject == "CN=CSCA odd, O=Test Ministry, C=VN"
    store = TrustStore()
    assert store.add_certificate(der)
    assert store.stats.warnings == {"serial_not_positive": 1, "ecdsa_null_parameters": 1}


def test_certificate_errors_are_typed() -> None:
    with pytest.raises(CertificateError) as info:
        Certificate.from_der(b"\x30\x03\x02\x01\x00")
    assert info.value.reason == "unreadable"
    with pytest.raises(CertificateError):
        Certificate.from_der(b"")


def test_trailing_data_is_a_warning() -> None:
    der = make_ca(name("CSCA trailing"), ec_key("trailing"))
    cert = Certificate.from_der(der + b"\x00\x00")
    assert cert.der == der and cert.warnings == ("trailing_data",)


# ------------------------------------------------------------------ trust store


def _pem(der: bytes) -> bytes:
    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)


def test_from_paths_reads_files_and_folders(tmp_path: Path) -> None:
    a, b, c = pki("store-a"), pki("store-b"), pki("store-c")
    ml, ml_csca, ml_other = small_list()
    (tmp_path / "a.pem").write_bytes(_pem(a.csca_der))
    nested = tmp_path / "more" / "deeper"
    nested.mkdir(parents=True)
    (nested / "b.der").write_bytes(b.csca_der)
    (nested / "bundle.crt").write_bytes(_pem(c.csca_der) + _pem(a.csca_der))
    (nested / "list.ml").write_bytes(ml)
    (nested / "a.crl").write_bytes(make_crl(a.csca_name, a.csca_key, [1001]))
    (nested / "README.txt").write_text("not a certificate")
    (nested / "broken.cer").write_bytes(b"garbage")
    store = TrustStore.from_paths([tmp_path])
    stats = store.stats
    assert len(store) == stats.certificates == 5  # a, b, c, the list's two
    assert stats.duplicates == 1  # a twice
    assert (stats.master_lists, stats.crls) == (1, 1)
    assert stats.skipped == {"file_unreadable": 1}
    assert stats.skipped_files[0][0].endswith("broken.cer")
    files = dg_files()
    assert check(make_sod(files, a.dsc_der, a.dsc_key), files, store).verdict == "failed"  # CRL
    assert check(make_sod(files, b.dsc_der, b.dsc_key), files, store).verdict == "verified"
    assert {ml_csca, ml_other} <= {cert.der for cert in store.certificates()}


def test_named_paths_that_cannot_be_used_raise(tmp_path: Path) -> None:
    with pytest.raises(TrustStoreError, match="no such file"):
        TrustStore.from_paths([tmp_path / "absent.pem"])
    junk = tmp_path / "junk.pem"
    junk.write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(PassiveAuthError):
        TrustStore.from_paths([junk])
    bad_crl = tmp_path / "x.crl"
    bad_crl.write_bytes(b"\x30\x03\x02\x01\x00")
    with pytest.raises(CRLError):
        TrustStore.from_paths([bad_crl])
    bad_ml = tmp_path / "x.ml"
    bad_ml.write_bytes(b"\x30\x00")
    with pytest.raises(PassiveAuthError, match=r"x\.ml"):
        TrustStore.from_paths([bad_ml])


def test_pem_crl_and_der_certificate(tmp_path: Path) -> None:
    a = pki("pem-crl")
    crl = x509.load_der_x509_crl(make_crl(a.csca_name, a.csca_key, [1001]))
    (tmp_path / "revoked.pem").write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "csca.cer").write_bytes(a.csca_der)
    store = TrustStore.from_paths([tmp_path / "csca.cer", tmp_path / "revoked.pem"])
    assert (len(store), store.stats.crls) == (1, 1)
    files = dg_files()
    result = check(make_sod(files, a.dsc_der, a.dsc_key), files, store)
    assert result.reasons == ("The document signer's certificate has been revoked",)


def test_link_certificate_lets_a_new_key_chain() -> None:
    csca_name = name("CSCA rollover")
    old_key, new_key = ec_key("rollover-old"), ec_key("rollover-new")
    old = make_ca(csca_name, old_key, serial=1)
    link = make_ca(csca_name, new_key, issuer_key=old_key, serial=2)
    dsc_key = ec_key("rollover-dsc")
    dsc = make_dsc(csca_name, new_key, dsc_key)
    files = dg_files()
    sod = make_sod(files, dsc, dsc_key)
    only_old = TrustStore()
    only_old.add_certificate(old)
    assert check(sod, files, only_old).chain == "invalid"
    store = TrustStore()
    store.add_certificate(old)
    store.add_certificate(link)
    result = check(sod, files, store)
    assert result.verdict == "verified"
    # the link certificate (AKI-matched) is tried first
    first = store.issuer_candidates(Certificate.from_der(dsc))[0]
    assert first.der == link
    assert Certificate.from_der(link).signed_by(Certificate.from_der(old).public_key())


def test_rsa_pss_signed_chain() -> None:
    csca_name = name("CSCA PSS")
    csca_key = rsa_key("pss-csca")
    csca = make_ca(csca_name, csca_key, pss=True)
    dsc_key = ec_key("pss-dsc")
    dsc = make_dsc(csca_name, csca_key, dsc_key, pss=True)
    assert Certificate.from_der(dsc).signature_algorithm["algorithm"].native == "rsassa_pss"
    store = TrustStore()
    store.add_certificate(csca)
    files = dg_files()
    assert check(make_sod(files, dsc, dsc_key), files, store).verdict == "verified"
    tampered = bytearray(dsc)
    tampered[-3] ^= 1
    assert check(make_sod(files, bytes(tampered), dsc_key), files, store).verdict == "failed"


def test_demo_trust_store_trusts_the_simulator_csca() -> None:
    store = demo_trust_store()
    (cert,) = store.certificates()
    assert cert.der == load_or_create_pki().csca_cert_der
    assert "CSCA Test Vietnam CCCD" in cert.subject


def test_same_certificate_twice_is_counted_once() -> None:
    a = pki("twice")
    store = TrustStore()
    assert store.add_certificate(a.csca_der)
    assert not store.add_certificate(Certificate.from_der(a.csca_der))
    assert (len(store), store.stats.duplicates) == (1, 1)
    assert not store.add_certificate(b"junk")
    assert store.stats.skipped == {"unreadable": 1}
    assert NOW.year == 2026
    assert hashlib.sha256(a.csca_der).digest() == store.certificates()[0].fingerprint
