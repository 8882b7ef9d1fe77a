"""APDU encoding/decoding for the four ISO 7816-3 cases, short and extended, and SW text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.emrtd.apdu import CommandAPDU, ResponseAPDU, sw_message
from kiosk.emrtd.errors import APDUError, StatusError


@pytest.mark.parametrize(
    ("cmd", "hexstr"),
    [
        (CommandAPDU(0x00, 0x84, 0x00, 0x00, ne=8), "0084000008"),
        (CommandAPDU(0x00, 0xA4, 0x02, 0x0C, bytes.fromhex("011E")), "00A4020C02011E"),
        (CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=256), "00B0000000"),
        (CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=1000), "00B000000003E8"),
        (CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=65536), "00B00000000000"),
        (CommandAPDU(0x00, 0x82, 0x00, 0x00, bytes(40), ne=40), "0082000028" + "00" * 40 + "28"),
        (CommandAPDU(0x00, 0x2A, 0x00, 0x00, bytes(300)), "002A0000" + "00012C" + "00" * 300),
        (
            CommandAPDU(0x00, 0x2A, 0x00, 0x00, bytes(2), ne=500),
            "002A0000" + "000002" + "0000" + "01F4",
        ),
    ],
)
def test_encode_and_parse(cmd: CommandAPDU, hexstr: str) -> None:
    raw = bytes.fromhex(hexstr)
    assert cmd.to_bytes() == raw
    assert CommandAPDU.parse(raw) == cmd


def test_forced_extended_for_small_apdu() -> None:
    cmd = CommandAPDU(0x0C, 0xB0, 0x00, 0x00, b"\x97\x01\x00", ne=256)
    assert cmd.to_bytes(extended=True).hex().upper() == "0CB000000000039701000100"
    assert cmd.to_bytes().hex().upper() == "0CB000000397010000"


def test_short_refused_when_extended_needed() -> None:
    with pytest.raises(APDUError):
        CommandAPDU(0, 0xB0, 0, 0, ne=1000).to_bytes(extended=False)


def test_bad_fields() -> None:
    with pytest.raises(APDUError):
        CommandAPDU(0x100, 0, 0, 0)
    with pytest.raises(APDUError):
        CommandAPDU(0, 0, 0, 0, ne=0)
    with pytest.raises(APDUError):
        CommandAPDU.parse(b"\x00\xa4")
    with pytest.raises(APDUError):
        CommandAPDU.parse(bytes.fromhex("00A4020C05011E"))


def test_response() -> None:
    r = ResponseAPDU.parse(bytes.fromhex("01029000"))
    assert r.data == b"\x01\x02" and r.sw == 0x9000 and r.ok
    assert r.to_bytes() == bytes.fromhex("01029000")
    with pytest.raises(APDUError):
        ResponseAPDU.parse(b"\x90")


def test_status_messages() -> None:
    assert sw_message(0x6982) == "security status not satisfied"
    assert "exact length is 223" in sw_message(0x6CDF)
    assert "2 tries left" in sw_message(0x63C2)
    assert "more response bytes" in sw_message(0x6110)
    err = StatusError(0x6A82, command="SELECT DG11")
    assert err.sw == 0x6A82
    assert str(err) == "SELECT DG11: 6A82 file or application not found"


@given(
    st.integers(0, 255),
    st.integers(0, 255),
    st.binary(max_size=600),
    st.one_of(st.none(), st.integers(1, 65536)),
)
def test_round_trip_property(ins: int, p1: int, data: bytes, ne: int | None) -> None:
    cmd = CommandAPDU(0x00, ins, p1, 0, data, ne)
    assert CommandAPDU.parse(cmd.to_bytes()) == cmd
    if not cmd.needs_extended:
        assert CommandAPDU.parse(cmd.to_bytes(extended=True)) == cmd


@given(st.binary(max_size=300))
def test_fuzz_parse_command_junk(raw: bytes) -> None:
    try:
        cmd = CommandAPDU.parse(raw)
    except APDUError:
        return
    forms = {cmd.to_bytes(extended=True)}
    if not cmd.needs_extended:
        forms.add(cmd.to_bytes(extended=False))
    assert raw in forms
