"""EF.DG1 (tag 61 { 5F1F MRZ }): a CCCD-sized TD1 file, a TD3 file, malformed files."""

from __future__ import annotations

from datetime import date

import pytest

from kiosk.cccd.mrz import compose_cccd_td1, id_number_of
from kiosk.emrtd.errors import LDSParseError
from kiosk.emrtd.lds import dg1
from kiosk.emrtd.mrz import TD1, TD3, parse_td3

CCCD_MRZ = (
    "IDVNM0930470641001093047064<<29301054M3301052VNM<<<<<<<<<<<8NGUYEN<<VAN<AN<<<<<<<<<<<<<<<<"
)
#: A real-looking 95-byte CCCD DG1: 61 5D { 5F1F 5A <90 characters> } (0x5D = 3 + 90).
CCCD_DG1 = bytes.fromhex("615D5F1F5A") + CCCD_MRZ.encode("ascii")

TD3_MRZ = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1204159ZE184226B<<<<<10"


def test_cccd_dg1_is_95_bytes_and_parses() -> None:
    assert len(CCCD_DG1) == 95
    assert CCCD_DG1[:5] == bytes.fromhex("615D5F1F5A")
    parsed = dg1.parse(CCCD_DG1)
    assert isinstance(parsed.mrz, TD1)
    assert id_number_of(parsed.mrz) == "001093047064"
    assert parsed.mrz.document_number == "093047064"
    assert parsed.mrz.date_of_birth == "930105"
    assert parsed.mrz.date_of_expiry == "330105"
    assert parsed.mrz.name == "NGUYEN VAN AN"
    assert parsed.mrz.check_digit_errors == ()


def test_encode_reproduces_the_bytes() -> None:
    parsed = dg1.parse(CCCD_DG1)
    assert dg1.encode(parsed) == CCCD_DG1
    assert parsed.encode() == CCCD_DG1


def test_compose_then_encode_round_trip() -> None:
    mrz = compose_cccd_td1("001093047064", date(1993, 1, 5), "Nữ", None, "Nguyễn", "Thị Ánh Tuyết")
    data = dg1.DG1(mrz).encode()
    assert data[:5] == bytes.fromhex("615D5F1F5A")
    assert dg1.parse(data) == dg1.DG1(mrz)


def test_trailing_padding_is_ignored() -> None:
    assert id_number_of(dg1.parse(CCCD_DG1 + b"\x00" * 5).mrz) == "001093047064"


def test_td3_dg1() -> None:
    data = bytes.fromhex("615B5F1F58") + TD3_MRZ.encode("ascii")
    parsed = dg1.parse(data)
    assert isinstance(parsed.mrz, TD3)
    assert parsed.mrz == parse_td3(TD3_MRZ)
    assert parsed.encode() == data


def test_wrong_check_digit_is_reported_not_fatal() -> None:
    data = CCCD_DG1.replace(b"9301054", b"9301064")
    parsed = dg1.parse(data)
    assert parsed.mrz.check_digit_errors == ("date_of_birth", "composite")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "DG1"),
        (bytes.fromhex("615D5F1F5A") + CCCD_MRZ[:80].encode(), "truncated"),
        (bytes.fromhex("625D5F1F5A") + CCCD_MRZ.encode(), "outer tag"),
        (bytes.fromhex("615D5F205A") + CCCD_MRZ.encode(), "5F1F"),
        (bytes.fromhex("615C5F1F59") + CCCD_MRZ[:89].encode(), "89 characters"),
        (bytes.fromhex("615D5F1F5A") + CCCD_MRZ[:89].encode() + b"\xc3", "non-ASCII"),
        (bytes.fromhex("615D5F1F5A") + CCCD_MRZ[:89].encode() + b" ", "blanks"),
        (bytes.fromhex("615D5F1F5A") + CCCD_MRZ[:89].encode() + b"\n", "control"),
        (bytes.fromhex("615D5F1F5A") + CCCD_MRZ.replace("ID", "PD").encode(), "document code"),
        (bytes.fromhex("615D5F1F5A") + CCCD_MRZ.replace("054M33", "054Q33").encode(), "sex"),
        (bytes.fromhex("6184FFFFFFFF"), "DG1"),
    ],
)
def test_malformed_dg1(data: bytes, message: str) -> None:
    with pytest.raises(LDSParseError, match=message):
        dg1.parse(data)
