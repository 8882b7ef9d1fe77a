"""Property tests: junk into PACE (both sides) and point decoding raises only project errors."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kiosk.emrtd import ec, pace
from kiosk.emrtd.apdu import CommandAPDU, ResponseAPDU
from kiosk.emrtd.channel import CardChannel
from kiosk.emrtd.errors import EmrtdError
from kiosk.emrtd.security_infos import ID_PACE_ECDH_GM, PACEInfo
from simulators.card.pace import PaceChip

INFO = PACEInfo(ID_PACE_ECDH_GM + ".2", 2, 13)
CAN = pace.PacePassword.from_can("123456")
MSE_DATA = pace.mse_set_at_data(pace.suite_for(INFO), 2)
CURVES = list(ec.CURVES.values())

#: Junk that is sometimes shaped like dynamic authentication data, so parsing gets past 7C.
junk = st.one_of(
    st.binary(max_size=300),
    st.builds(
        lambda tag, body: pace.encode_dad(tag, body),
        st.sampled_from([0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x7F49]),
        st.binary(max_size=200),
    ),
    st.builds(
        lambda tag, point: pace.encode_dad(tag, point),
        st.sampled_from([0x81, 0x83]),
        st.builds(lambda b: b"\x04" + b, st.binary(min_size=64, max_size=64)),
    ),
)


@given(steps=st.lists(st.tuples(st.sampled_from([0x00, 0x10, 0x0C, 0x1C, 0xFF]), junk), max_size=6))
def test_chip_survives_junk(steps: list[tuple[int, bytes]]) -> None:
    chip = PaceChip({2: CAN.secret}, INFO)
    assert chip.mse_set_at(MSE_DATA) == 0x9000
    for cla, data in steps:
        out, sw, sm = chip.general_authenticate(cla, data)
        assert isinstance(out, bytes) and 0 <= sw <= 0xFFFF
        assert sm is None or sw == 0x9000


@given(valid_steps=st.integers(0, 3), cla=st.sampled_from([0x00, 0x10]), data=junk)
def test_chip_junk_after_valid_steps(valid_steps: int, cla: int, data: bytes) -> None:
    """Drive the chip partway with a real reader's messages, then send junk."""
    chip = PaceChip({2: CAN.secret}, INFO)
    reader = ReaderScript()
    assert chip.mse_set_at(MSE_DATA) == 0x9000
    for i in range(valid_steps):
        reply, sw, _ = chip.general_authenticate(0x10, reader.message(i))
        assert sw == 0x9000
        reader.take(i, reply)
    out, sw, sm = chip.general_authenticate(cla, data)
    assert isinstance(out, bytes) and (sw == 0x9000 or (out == b"" and sm is None))


@given(data=st.binary(max_size=300))
def test_chip_mse_junk(data: bytes) -> None:
    sw = PaceChip({2: CAN.secret}, INFO).mse_set_at(data)
    assert sw in (0x9000, 0x6A80)


class ReaderScript:
    """The reader's first three GA messages, computed with the library's step functions."""

    def __init__(self) -> None:
        self.suite = pace.suite_for(INFO)
        self.map_key = ec.KeyPair(self.suite.curve, 0x1234567)
        self.g: ec.Point | None = None
        self.s = b""

    def message(self, i: int) -> bytes:
        curve = self.suite.curve
        if i == 0:
            return pace.encode_dad()
        if i == 1:
            return pace.encode_dad(pace.TAG_MAP_PCD, ec.encode_point(curve, self.map_key.public))
        assert self.g is not None
        dh = ec.KeyPair(curve, 0x7654321, self.g)
        return pace.encode_dad(pace.TAG_EPH_PCD, ec.encode_point(curve, dh.public))

    def take(self, i: int, reply: bytes) -> None:
        curve = self.suite.curve
        if i == 0:
            z = pace.parse_dad(reply, pace.TAG_ENCRYPTED_NONCE)
            self.s = pace.decrypt_nonce(self.suite.kind, CAN.key(self.suite.kind), z)
        elif i == 1:
            pk = ec.decode_point(curve, pace.parse_dad(reply, pace.TAG_MAP_IC))
            self.g = pace.map_generator(curve, self.s, self.map_key.multiply(pk))


class JunkAt:
    """A chip transport whose reply number ``index`` is replaced by junk."""

    max_command_len = 261
    max_response_len = 258
    extended_length = False

    def __init__(self, index: int, reply: bytes) -> None:
        self.chip = PaceChip({2: CAN.secret}, INFO)
        self.index = index
        self.reply = reply
        self.count = 0

    def transmit(self, apdu: bytes) -> bytes:
        cmd = CommandAPDU.parse(apdu)
        n = self.count
        self.count += 1
        if cmd.ins == 0x22:
            real = ResponseAPDU(b"", self.chip.mse_set_at(cmd.data)).to_bytes()
        else:
            data, sw, _ = self.chip.general_authenticate(cmd.cla, cmd.data)
            real = ResponseAPDU(data, sw).to_bytes()
        return self.reply if n == self.index else real

    def close(self) -> None:
        pass


@given(
    index=st.integers(0, 4),
    body=junk,
    sw=st.sampled_from([b"\x90\x00", b"\x63\x00", b"\x6a\x80", b"\x63\xc1", b""]),
)
def test_reader_survives_junk_replies(index: int, body: bytes, sw: bytes) -> None:
    channel = CardChannel(JunkAt(index, body + sw))
    try:
        pace.pace(channel, CAN, INFO)
    except EmrtdError:
        assert channel.sm is None


@given(curve=st.sampled_from(CURVES), data=st.binary(max_size=140))
def test_decode_point_junk(curve: ec.Curve, data: bytes) -> None:
    try:
        point = ec.decode_point(curve, data)
    except ec.InvalidPoint:
        return
    assert ec.is_on_curve(curve, point)
    assert ec.encode_point(curve, point) == data


@given(curve=st.sampled_from(CURVES), x=st.integers(min_value=0), y=st.integers(min_value=0))
def test_decode_point_uncompressed_junk(curve: ec.Curve, x: int, y: int) -> None:
    size = curve.size
    raw = b"\x04" + (x % (1 << 8 * size)).to_bytes(size, "big")
    raw += (y % (1 << 8 * size)).to_bytes(size, "big")
    try:
        point = ec.decode_point(curve, raw)
    except ec.InvalidPoint:
        return
    assert ec.is_on_curve(curve, point)


@given(data=st.binary(max_size=200), tag=st.sampled_from([0x80, 0x82, 0x84, 0x86]))
def test_parse_dad_junk(data: bytes, tag: int) -> None:
    try:
        value = pace.parse_dad(data, tag)
    except EmrtdError:
        return
    assert isinstance(value, bytes)
