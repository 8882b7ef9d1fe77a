"""BER-TLV: exact encodings, caps against hostile input, helpers."""

from __future__ import annotations

import pytest

from kiosk.emrtd import tlv
from kiosk.emrtd.errors import TLVError

EF_COM = bytes.fromhex("60145F0104303130365F36063034303030305C026175")


def test_decodes_ef_com_from_icao_d4() -> None:
    obj = tlv.decode(EF_COM)
    assert obj.tag == 0x60
    assert obj.constructed
    assert [c.tag for c in obj.children] == [0x5F01, 0x5F36, 0x5C]
    assert obj.require(0x5F01).value == b"0106"
    assert obj.require(0x5C).value == bytes.fromhex("6175")
    assert obj.encode() == EF_COM


@pytest.mark.parametrize(
    ("length", "encoded"),
    [
        (0, "00"),
        (0x7F, "7F"),
        (0x80, "8180"),
        (0xFF, "81FF"),
        (0x100, "820100"),
        (0xFFFF, "82FFFF"),
        (0x10000, "83010000"),
    ],
)
def test_length_encoding(length: int, encoded: str) -> None:
    assert tlv.encode_length(length).hex().upper() == encoded
    header = bytes([0x04]) + bytes.fromhex(encoded)
    assert tlv.read_header(header + bytes(length))[1] == length


def test_multibyte_tags() -> None:
    assert tlv.tag_bytes(0x7F49) == b"\x7f\x49"
    assert tlv.encode(0x5F1F, b"AB") == bytes.fromhex("5F1F024142")
    tag, length, vo = tlv.read_header(bytes.fromhex("7F4903860100"))
    assert (tag, length, vo) == (0x7F49, 3, 3)


def test_total_length_from_header_only() -> None:
    assert tlv.total_length(bytes.fromhex("7582 3A98")) == 4 + 0x3A98
    assert tlv.total_length(EF_COM[:4]) == len(EF_COM)


def test_indefinite_length_rejected() -> None:
    with pytest.raises(TLVError, match="indefinite"):
        tlv.decode(bytes.fromhex("30800000"))


def test_length_cap() -> None:
    with pytest.raises(TLVError, match="cap"):
        tlv.read_header(bytes.fromhex("0484FFFFFFFF"))
    with pytest.raises(TLVError, match="cap"):
        tlv.read_header(bytes.fromhex("048201F4"), max_length=100)


def test_truncated_value() -> None:
    with pytest.raises(TLVError, match="truncated"):
        tlv.decode(bytes.fromhex("0405AABB"))


def test_depth_cap() -> None:
    data = b"\x04\x00"
    for _ in range(40):
        data = tlv.encode(0x30, data)
    with pytest.raises(TLVError, match="deeper"):
        tlv.decode(data)
    assert tlv.decode(data, max_depth=64).tag == 0x30


def test_element_cap() -> None:
    body = b"\x05\x00" * (tlv.MAX_ELEMENTS + 1)
    with pytest.raises(TLVError, match="elements"):
        tlv.decode(tlv.encode(0x30, body))


def test_overlong_tag_rejected() -> None:
    with pytest.raises(TLVError, match="tag"):
        tlv.read_header(bytes.fromhex("1F8181818101 00"))


def test_trailing_bytes() -> None:
    with pytest.raises(TLVError, match="one TLV"):
        tlv.decode(EF_COM + b"\x00\x00")
    obj, rest = tlv.decode_prefix(EF_COM + b"\xff\xff")
    assert obj.tag == 0x60 and rest == b"\xff\xff"


def test_find_helpers() -> None:
    obj = tlv.decode(tlv.encode(0x30, tlv.encode_many((0x02, b"\x01"), (0x02, b"\x02"))))
    assert [c.value for c in obj.find_all(0x02)] == [b"\x01", b"\x02"]
    assert obj.find(0x04) is None
    with pytest.raises(TLVError):
        obj.require(0x04)


def test_ber_indefinite_length_accepted_on_request() -> None:
    data = bytes.fromhex("30800401AAA08002010500000000") + b"\xff"
    obj, rest = tlv.decode_prefix(data, ber=True)
    assert (obj.tag, rest) == (0x30, b"\xff")
    assert [c.tag for c in obj.children] == [0x04, 0xA0]
    assert obj.value == bytes.fromhex("0401AAA0800201050000")
    assert obj.children[1].children[0].value == b"\x05"
    assert tlv.read_header(data, ber=True) == (0x30, tlv.INDEFINITE, 2)
    with pytest.raises(TLVError, match="indefinite"):
        tlv.decode_prefix(data)


@pytest.mark.parametrize(
    ("hexdata", "match"),
    [
        ("0480AA0000", "primitive"),  # indefinite only on constructed objects
        ("30800401AA", "end-of-contents"),  # no EOC
        ("3080" + "3080" * 20 + "0000" * 21 + "0000", "deeper"),
    ],
)
def test_ber_indefinite_keeps_the_caps(hexdata: str, match: str) -> None:
    with pytest.raises(TLVError, match=match):
        tlv.decode(bytes.fromhex(hexdata), ber=True)
