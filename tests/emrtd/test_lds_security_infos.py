"""SecurityInfos codec: each record type, dispatch by OID, order, unknown records, errors."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from kiosk.emrtd import tlv
from kiosk.emrtd.errors import LDSParseError
from kiosk.emrtd.lds.security_infos_codec import (
    encode_security_info,
    encode_security_infos,
    parse_security_info,
    parse_security_infos,
)
from kiosk.emrtd.security_infos import (
    ID_AA,
    ID_CA_ECDH,
    ID_PACE_ECDH_GM,
    ID_PK_ECDH,
    ID_TA,
    ActiveAuthenticationInfo,
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    PACEDomainParameterInfo,
    PACEInfo,
    TerminalAuthenticationInfo,
    UnknownSecurityInfo,
)

PACE_DER = bytes.fromhex("3012060A04007F0007020204020202010202010D")
OID_PACE = bytes.fromhex("060A04007F00070202040202")  # id-PACE-ECDH-GM-AES-CBC-CMAC-128
OID_TA = bytes.fromhex("060804007F0007020202")
OID_PK_ECDH = bytes.fromhex("060904007F000702020102")
INT1 = bytes.fromhex("020101")


def seq(*parts: bytes) -> bytes:
    return tlv.encode(0x30, b"".join(parts))


def _ec_spki() -> bytes:
    key = ec.generate_private_key(ec.BrainpoolP256R1()).public_key()
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_pace_info_exact_bytes() -> None:
    info = parse_security_info(PACE_DER)
    assert info == PACEInfo(ID_PACE_ECDH_GM + ".2", 2, 13)
    assert encode_security_info(info) == PACE_DER
    assert seq(OID_PACE, bytes.fromhex("02010202010D")) == PACE_DER


def test_every_type_round_trips() -> None:
    ec_params = bytes.fromhex("300C06072A8648CE3D02010201FF")  # made-up parameters
    infos = (
        TerminalAuthenticationInfo(ID_TA, 1),
        ChipAuthenticationInfo(ID_CA_ECDH + ".2", 1, key_id=7),
        ChipAuthenticationInfo(ID_CA_ECDH + ".4", 2),
        ChipAuthenticationPublicKeyInfo(ID_PK_ECDH, _ec_spki(), key_id=7),
        ChipAuthenticationPublicKeyInfo(ID_PK_ECDH, _ec_spki()),
        PACEInfo(ID_PACE_ECDH_GM + ".2", 2, 13),
        PACEInfo(ID_PACE_ECDH_GM + ".4", 2),
        PACEDomainParameterInfo(ID_PACE_ECDH_GM, ec_params, 1),
        ActiveAuthenticationInfo(ID_AA, 1, "0.4.0.127.0.7.1.1.4.1.3"),
        # ChipAuthenticationDomainParameterInfo is not modelled: kept as DER
        UnknownSecurityInfo(ID_CA_ECDH, seq(bytes.fromhex("060904007F000702020302"), ec_params)),
    )
    der = encode_security_infos(infos)
    assert der[0] == 0x31
    assert parse_security_infos(der) == infos


def test_order_is_preserved_not_sorted() -> None:
    a = PACEInfo(ID_PACE_ECDH_GM + ".2", 2, 13)
    b = TerminalAuthenticationInfo(ID_TA, 1)
    assert parse_security_infos(encode_security_infos((a, b))) == (a, b)
    assert parse_security_infos(encode_security_infos((b, a))) == (b, a)


def test_unknown_record_keeps_der() -> None:
    der = seq(bytes.fromhex("060904007F000702027F01"), bytes.fromhex("0C024142"))
    info = parse_security_info(der)
    assert isinstance(info, UnknownSecurityInfo)
    assert info.protocol == "0.4.0.127.0.7.2.2.127.1"
    assert info.der == der
    assert encode_security_info(info) == der


def test_ca_public_key_keeps_spki_der() -> None:
    spki = _ec_spki()
    info = ChipAuthenticationPublicKeyInfo(ID_PK_ECDH, spki, key_id=1)
    parsed = parse_security_info(encode_security_info(info))
    assert isinstance(parsed, ChipAuthenticationPublicKeyInfo)
    assert parsed.public_key_der == spki
    serialization.load_der_public_key(parsed.public_key_der)


@pytest.mark.parametrize(
    "der",
    [
        seq(OID_PACE),  # PACEInfo without version
        seq(OID_PACE, bytes.fromhex("0C0141")),  # version is a string
        seq(OID_PACE, INT1, INT1, INT1),  # one element too many
        seq(OID_TA),  # TA without version
        seq(OID_PK_ECDH, seq(INT1)),  # CA public key that is no SubjectPublicKeyInfo
        seq(INT1, INT1),  # no OID first
        seq(),
        b"",
        b"\x31",
        PACE_DER + b"\x00",  # trailing data
    ],
)
def test_malformed_records_raise(der: bytes) -> None:
    with pytest.raises(LDSParseError):
        parse_security_info(der)


@pytest.mark.parametrize(
    "der",
    [
        seq(PACE_DER),  # SEQUENCE instead of SET
        tlv.encode(0x31, PACE_DER) + b"\x00",  # trailing byte
        tlv.encode(0x31, PACE_DER)[:-1],  # truncated
        tlv.encode(0x31, INT1),  # element is not a SEQUENCE
    ],
)
def test_malformed_sets_raise(der: bytes) -> None:
    with pytest.raises(LDSParseError):
        parse_security_infos(der)
