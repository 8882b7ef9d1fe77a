"""DG14 (CA / AA SecurityInfos) and DG15 (AA public key, incl. explicit EC parameters)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from asn1crypto import keys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec as cec
from cryptography.hazmat.primitives.asymmetric import rsa

from kiosk.emrtd import ec, tlv
from kiosk.emrtd.errors import LDSParseError
from kiosk.emrtd.lds import dg14, dg15
from kiosk.emrtd.lds.dg14 import DG14
from kiosk.emrtd.lds.dg15 import DG15, public_key_from_spki
from kiosk.emrtd.security_infos import (
    ID_AA,
    ID_CA_ECDH,
    ID_PACE_ECDH_GM,
    ID_PK_ECDH,
    ActiveAuthenticationInfo,
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    PACEInfo,
)

SPKI = serialization.PublicFormat.SubjectPublicKeyInfo
DER = serialization.Encoding.DER


def spki_of(key: cec.EllipticCurvePublicKey | rsa.RSAPublicKey) -> bytes:
    return key.public_bytes(DER, SPKI)


def explicit_spki(
    curve: ec.Curve, key: cec.EllipticCurvePublicKey, compressed_g: bool = False
) -> bytes:
    """The same key with SpecifiedECDomain parameters instead of a curve OID."""
    size = curve.size
    if compressed_g:
        base = bytes([2 | (curve.gy & 1)]) + curve.gx.to_bytes(size, "big")
    else:
        base = b"\x04" + curve.gx.to_bytes(size, "big") + curve.gy.to_bytes(size, "big")
    params = keys.ECDomainParameters(
        name="specified",
        value={
            "version": "ecdpVer1",
            "field_id": {"field_type": "prime_field", "parameters": curve.p},
            "curve": {"a": curve.a.to_bytes(size, "big"), "b": curve.b.to_bytes(size, "big")},
            "base": base,
            "order": curve.n,
            "cofactor": 1,
        },
    )
    point = key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    info = keys.PublicKeyInfo(
        {"algorithm": {"algorithm": "ec", "parameters": params}, "public_key": point}
    )
    return bytes(info.dump())


# --------------------------------------------------------------------------- DG14


def test_dg14_round_trip_and_properties() -> None:
    ca_key = spki_of(cec.generate_private_key(cec.BrainpoolP256R1()).public_key())
    infos = (
        ChipAuthenticationInfo(ID_CA_ECDH + ".2", 1),
        ChipAuthenticationPublicKeyInfo(ID_PK_ECDH, ca_key),
        ActiveAuthenticationInfo(ID_AA, 1, "0.4.0.127.0.7.1.1.4.1.3"),
        PACEInfo(ID_PACE_ECDH_GM + ".2", 2, 13),
    )
    data = dg14.encode(DG14(infos))
    assert data[0] == 0x6E
    parsed = dg14.parse(data + b"\x00\x00")
    assert parsed.security_infos == infos
    assert parsed.ca_infos == (infos[0],)
    assert parsed.ca_public_key_infos == (infos[1],)
    assert parsed.aa_info == infos[2]
    assert parsed.pace_infos == (infos[3],)
    assert parsed.ta_infos == ()
    assert parsed.ca_public_key_for(infos[0]) == infos[1]


def test_dg14_key_selection_by_key_id() -> None:
    k1 = ChipAuthenticationPublicKeyInfo(
        ID_PK_ECDH, spki_of(cec.generate_private_key(cec.SECP256R1()).public_key()), 1
    )
    k2 = ChipAuthenticationPublicKeyInfo(
        ID_PK_ECDH, spki_of(cec.generate_private_key(cec.SECP256R1()).public_key()), 2
    )
    d = DG14((k1, k2))
    assert d.ca_public_key_for(ChipAuthenticationInfo(ID_CA_ECDH + ".2", 1, 2)) == k2
    assert d.aa_info is None
    with pytest.raises(LDSParseError):
        d.ca_public_key_for(ChipAuthenticationInfo(ID_CA_ECDH + ".2", 1))
    with pytest.raises(LDSParseError):
        d.ca_public_key_for(ChipAuthenticationInfo(ID_CA_ECDH + ".2", 1, 3))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        tlv.encode(0x6E, b""),
        tlv.encode(0x6D, tlv.encode(0x31, b"")),
        tlv.encode(0x6E, tlv.encode(0x31, b"") + tlv.encode(0x31, b"")),
        tlv.encode(0x6E, tlv.encode(0x30, b"")),
    ],
)
def test_dg14_bad_files(data: bytes) -> None:
    with pytest.raises(LDSParseError):
        dg14.parse(data)


# --------------------------------------------------------------------------- DG15


def test_dg15_rsa() -> None:
    key = rsa.generate_private_key(65537, 1024).public_key()
    d = dg15.parse(dg15.encode(DG15(spki_of(key))) + b"\xff")
    assert d.algorithm == "rsa"
    assert d.key_size == 1024
    loaded = d.public_key()
    assert isinstance(loaded, rsa.RSAPublicKey)
    assert loaded.public_numbers() == key.public_numbers()


@pytest.mark.parametrize(
    ("curve_cls", "bits"),
    [
        (cec.SECP256R1, 256),
        (cec.BrainpoolP256R1, 256),
        (cec.BrainpoolP512R1, 512),
        (cec.SECP521R1, 521),
    ],
)
def test_dg15_named_ec(curve_cls: type[cec.EllipticCurve], bits: int) -> None:
    key = cec.generate_private_key(curve_cls()).public_key()
    d = dg15.parse(dg15.encode(DG15(spki_of(key))))
    assert (d.algorithm, d.key_size) == ("ec", bits)
    assert d.public_key() == key


@pytest.mark.parametrize(
    "name", ["secp256r1", "brainpoolP256r1", "brainpoolP384r1", "brainpoolP512r1", "secp384r1"]
)
@pytest.mark.parametrize("compressed_g", [False, True])
def test_dg15_explicit_parameters_match_named_curve(name: str, compressed_g: bool) -> None:
    curve = ec.CURVES[name]
    key = cec.generate_private_key(ec.to_cryptography(curve)).public_key()
    d = DG15(explicit_spki(curve, key, compressed_g))
    assert d.algorithm == "ec"
    assert d.key_size == curve.p.bit_length()
    loaded = d.public_key()
    assert isinstance(loaded, cec.EllipticCurvePublicKey)
    assert loaded.curve.name == key.curve.name
    assert loaded.public_numbers() == key.public_numbers()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")
def test_dg15_explicit_parameters_written_by_openssl() -> None:
    # Independent encoder: OpenSSL writes the explicit form (like Vietnam's EC CSCA).
    key = cec.generate_private_key(cec.BrainpoolP512R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    der = subprocess.run(
        ["openssl", "ec", "-pubout", "-param_enc", "explicit", "-outform", "DER"],
        input=pem,
        capture_output=True,
        check=True,
    ).stdout
    assert keys.PublicKeyInfo.load(der)["algorithm"]["parameters"].name == "specified"
    assert public_key_from_spki(der) == key.public_key()
    assert DG15(der).key_size == 512


def test_dg15_unknown_explicit_curve_is_a_clear_error() -> None:
    curve = ec.CURVES["secp256r1"]
    key = cec.generate_private_key(cec.SECP256R1()).public_key()
    bad = ec.Curve(
        "made-up", curve.p, curve.a, (curve.b + 1) % curve.p, curve.gx, curve.gy, curve.n
    )
    d = DG15(explicit_spki(bad, key))
    assert d.key_size == 256
    with pytest.raises(LDSParseError, match="unknown explicit"):
        d.public_key()


def test_dg15_curve_without_openssl_support() -> None:
    curve = ec.CURVES["brainpoolP224r1"]
    if ec.has_cryptography(curve):
        pytest.skip("this OpenSSL binding supports brainpoolP224r1")
    key = cec.generate_private_key(cec.SECP224R1()).public_key()  # any point: rejected before use
    with pytest.raises(LDSParseError, match="brainpoolP224r1"):
        DG15(explicit_spki(curve, key)).public_key()


@pytest.mark.parametrize(
    "data",
    [
        b"",
        tlv.encode(0x6F, b""),
        tlv.encode(0x6F, b"\x30\x00"),
        tlv.encode(0x6E, b"\x30\x00"),
        # a DSA-like algorithm: not RSA or EC
        tlv.encode(
            0x6F, bytes.fromhex("3012300B06072A8648CE380401050003030002 01".replace(" ", ""))
        ),
    ],
)
def test_dg15_bad_files(data: bytes) -> None:
    with pytest.raises(LDSParseError):
        dg15.parse(data)
