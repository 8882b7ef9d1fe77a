"""Secure messaging: ICAO 9303-11 Appendix D.4 bytes, AES vectors, round trips, tamper, resync."""

from __future__ import annotations

import os

import pytest

from kiosk.emrtd.apdu import CommandAPDU, ResponseAPDU
from kiosk.emrtd.channel import CardChannel
from kiosk.emrtd.crypto import Cipherkind
from kiosk.emrtd.errors import APDUError, SecureMessagingError
from kiosk.emrtd.sm import SecureMessaging
from tests.fixtures.replay import ReplayTransport

h = bytes.fromhex

# ICAO 9303-11 Appendix D.3/D.4: session keys and SSC after BAC.
KS_ENC = h("979EC13B1CBFE9DCD01AB0FED307EAE5")
KS_MAC = h("F1CB1F1FB5ADF208806B89DC579DC1F8")
SSC0 = 0x887022120C06C226

# D.4 exchanges: (plain command, protected command, protected reply, plain reply data).
D4 = [
    (
        CommandAPDU(0x00, 0xA4, 0x02, 0x0C, h("011E")),
        h("0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800"),
        h("990290008E08FA855A5D4C50A8ED9000"),
        b"",
    ),
    (
        CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=4),
        h("0CB000000D9701048E08ED6705417E96BA5500"),
        h("8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000"),
        h("60145F01"),
    ),
    (
        CommandAPDU(0x00, 0xB0, 0x00, 0x04, ne=0x12),
        h("0CB000040D9701128E082EA28A70F3C7B53500"),
        h("871901FB9235F4E4037F2327DCC8964F1F9B8C30F42C8E2FFF224A990290008E08C8B2787EAEA07D749000"),
        h("04303130365F36063034303030305C026175"),
    ),
]
EF_COM = h("60145F0104303130365F36063034303030305C026175")


def d4_sm() -> SecureMessaging:
    return SecureMessaging(Cipherkind.DES3, KS_ENC, KS_MAC, SSC0)


def test_from_bac_ssc_is_low_halves_of_the_nonces() -> None:
    sm = SecureMessaging.from_bac(KS_ENC, KS_MAC, h("4608F91988702212"), h("781723860C06C226"))
    assert sm.ssc == SSC0
    assert sm.ssc_bytes == h("887022120C06C226")
    assert sm.block_size == 8
    assert sm.kind is Cipherkind.DES3


def test_d4_reader_side_exact_bytes() -> None:
    sm = d4_sm()
    data = b""
    for i, (plain, wire_cmd, wire_resp, plain_data) in enumerate(D4):
        assert sm.protect(plain, False).to_bytes(False) == wire_cmd
        assert sm.ssc == SSC0 + 2 * i + 1
        resp = sm.unprotect(ResponseAPDU.parse(wire_resp))
        assert sm.ssc == SSC0 + 2 * i + 2
        assert resp == ResponseAPDU(plain_data, 0x9000)
        data += resp.data
    assert data == EF_COM


def test_d4_chip_side_exact_bytes() -> None:
    chip = d4_sm()
    for plain, wire_cmd, wire_resp, plain_data in D4:
        assert chip.unprotect_command(CommandAPDU.parse(wire_cmd)) == plain
        assert chip.protect_response(ResponseAPDU(plain_data, 0x9000)).to_bytes() == wire_resp
    assert chip.ssc == SSC0 + 6


def test_d4_through_a_card_channel() -> None:
    transport = ReplayTransport([(cmd, resp) for _, cmd, resp, _ in D4])
    channel = CardChannel(transport, keep_log=True)
    channel.sm = d4_sm()
    data = b"".join(channel.send(plain).data for plain, _, _, _ in D4)
    assert data == EF_COM
    assert transport.done
    assert channel.log[1].plain_response == h("60145F019000")


# AES vectors published with gmrtd's iso7816 secure messaging tests (captured from chips).
def test_aes_protect_vector() -> None:
    sm = SecureMessaging(
        Cipherkind.AES,
        h("cc86415f2ed7e8fd663b754265695ae1"),
        h("581e84b8ee06c4d3eee30461498d7fb3"),
        0xBA,
    )
    cmd = CommandAPDU(0x00, 0x22, 0x41, 0xA4, h("800a04007f000702020302028401c3"))
    assert sm.protect(cmd, False).to_bytes(False) == h(
        "0c2241a41d871101980953d37f67558690045d78a853b18a8e08929767a2cef172e200"
    )
    assert sm.ssc == 0xBB


AES_REPLY = h(
    "8781e1012fabf9e0655d7e987fd28a8aeb19c9cadd990d49399799ed1fe465bcea56da9ba3024291d40d23d7"
    "f1e00485d71faddc6d8c1382e8028dd22efdcc72ed47663d56d20dd6c4b867956fe0507313083ae7fc54fb46"
    "133f184febbe13ad6fd3e2616a1f4a829e75ada1a0e443ca738288f6014be8a7745d8259b089e6bee35bcc4b"
    "f5b63db5fdd84244f67eca099213b70a861b4487225aa68af684278fceb4cb809de42be3ee95b0e0d72bcdb0"
    "ed47cb56efc264e04a9397a90e81ad1d81efa2d14b2ca8ec7bd997f4b1c1fd344d5dee8589c38b227ca4cb35"
    "810060a7cc76403e990290008e083eb47ef4fa82afc99000"
)
AES_PLAIN = h(
    "a729901d1a71874700133107ec53306404307bc382c63d8c150c3c72080ace05afa0c2bea28e4fb227871391"
    "65efba91f90f8aa5814a503ad4eb04a8c7dd22ce2826043004a8c7dd22ce28268b39b55416f0447c2fb77de1"
    "07dcd2a62e880ea53eeb62d57cb4390295dbc9943ab78696fa504c110461041d1c64f068cf45ffa2a63a81b7"
    "c13f6b8847a3e77ef14fe3db7fcafe0cbd10e8e826e03436d646aaef87b2e247d4af1e8abe1d7520f9c2a45c"
    "b1eb8e95cfd55262b70b29feec5864e19c054ff99129280e4646217791811142820341263c53150231008cb9"
    "1e82a3"
)
AES_REPLY_KEYS = (h("a8e85e938514ec67ae33cda3d43d3c48"), h("27f1adeb705a049a305b0c619b14b9b3"))


def test_aes_unprotect_vector_of_a_223_byte_read() -> None:
    sm = SecureMessaging(Cipherkind.AES, *AES_REPLY_KEYS, 0x0B)
    resp = sm.unprotect(ResponseAPDU.parse(AES_REPLY))
    assert resp == ResponseAPDU(AES_PLAIN, 0x9000)
    assert len(resp.data) == 223 == sm.max_plain_response(258)
    assert sm.ssc == 0x0C
    chip = SecureMessaging(Cipherkind.AES, *AES_REPLY_KEYS, 0x0B)
    assert chip.protect_response(ResponseAPDU(AES_PLAIN, 0x9000)).to_bytes() == AES_REPLY


def pair(kind: Cipherkind, key_len: int, ssc: int = 0) -> tuple[SecureMessaging, SecureMessaging]:
    ks_enc, ks_mac = os.urandom(key_len), os.urandom(key_len)
    return SecureMessaging(kind, ks_enc, ks_mac, ssc), SecureMessaging(kind, ks_enc, ks_mac, ssc)


def exchange(
    reader: SecureMessaging,
    chip: SecureMessaging,
    cmd: CommandAPDU,
    reply: ResponseAPDU,
    extended: bool = False,
) -> tuple[bytes, ResponseAPDU]:
    """Run one command/reply through the wire encoding; return the wire command and plain reply."""
    protected = reader.protect(cmd, extended)
    wire = protected.to_bytes(extended or protected.needs_extended)
    assert chip.unprotect_command(CommandAPDU.parse(wire)) == cmd
    wire_reply = chip.protect_response(reply, odd_ins=bool(cmd.ins & 1)).to_bytes()
    got = reader.unprotect(ResponseAPDU.parse(wire_reply))
    assert reader.ssc == chip.ssc
    return wire, got


COMMANDS = [
    CommandAPDU(0x00, 0xA4, 0x02, 0x0C, h("011E")),
    CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=4),
    CommandAPDU(0x00, 0xB0, 0x81, 0x00, ne=256),
    CommandAPDU(0x00, 0x22, 0x41, 0xA4, bytes(range(15))),
    CommandAPDU(0x00, 0x88, 0x00, 0x00, os.urandom(8), ne=256),
    CommandAPDU(0x00, 0xB1, 0x00, 0x00, h("54020100"), ne=200),  # odd INS: DO'85'
    CommandAPDU(0x00, 0x84, 0x00, 0x00),
    CommandAPDU(0x00, 0xD6, 0x00, 0x00, os.urandom(250)),
]


@pytest.mark.parametrize(
    ("kind", "key_len"),
    [(Cipherkind.AES, 16), (Cipherkind.AES, 24), (Cipherkind.AES, 32), (Cipherkind.DES3, 16)],
)
def test_round_trips(kind: Cipherkind, key_len: int) -> None:
    reader, chip = pair(kind, key_len)
    assert reader.block_size == (16 if kind is Cipherkind.AES else 8)
    assert len(reader.ssc_bytes) == reader.block_size
    for i, cmd in enumerate(COMMANDS):
        reply = ResponseAPDU(os.urandom(i * 37 % 240), 0x9000 if i % 3 else 0x6282)
        _, got = exchange(reader, chip, cmd, reply)
        assert got == reply
    assert reader.ssc == 2 * len(COMMANDS)


def test_odd_ins_uses_do85_and_even_ins_do87() -> None:
    reader, _ = pair(Cipherkind.AES, 16)
    odd = reader.protect(CommandAPDU(0x00, 0xB1, 0x00, 0x00, h("54020100"), ne=200), False)
    assert odd.data[:2] == h("8510") and odd.data[18:21] == h("9701C8")
    even = reader.protect(CommandAPDU(0x00, 0xA4, 0x02, 0x0C, h("011E")), False)
    assert even.data[:3] == h("871101")


def test_ne_encoding_short_and_extended() -> None:
    reader, chip = pair(Cipherkind.AES, 16)
    short = reader.protect(CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=256), False)
    assert short.data[:3] == h("970100") and short.to_bytes(False)[-1] == 0x00
    assert chip.unprotect_command(short).ne == 256
    ext = reader.protect(CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=65536), True)
    wire = ext.to_bytes(True)
    assert ext.data[:4] == h("97020000") and wire[4:7] == h("00000E") and wire[-2:] == h("0000")
    assert chip.unprotect_command(CommandAPDU.parse(wire)).ne == 65536
    mid = reader.protect(CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=1000), True)
    assert mid.data[:4] == h("970203E8")
    assert chip.unprotect_command(mid).ne == 1000
    with pytest.raises(APDUError):
        reader.protect(CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=257), False)


def test_extended_read_round_trip() -> None:
    reader, chip = pair(Cipherkind.AES, 16)
    n = reader.max_plain_response(65538)
    reply = ResponseAPDU(os.urandom(n), 0x9000)
    wire, got = exchange(reader, chip, CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=n), reply, True)
    assert got == reply
    assert len(wire) == 4 + 3 + 14 + 2
    assert len(chip.protect_response(reply).to_bytes()) <= 65538


def test_protect_response_without_data_has_only_do99_and_mac() -> None:
    chip = d4_sm()
    chip.ssc = SSC0 + 1
    assert chip.protect_response(ResponseAPDU(b"", 0x9000)).to_bytes() == D4[0][2]


@pytest.mark.parametrize("kind", [Cipherkind.DES3, Cipherkind.AES])
def test_any_bit_flip_in_a_reply_is_rejected(kind: Cipherkind) -> None:
    reader, chip = pair(kind, 16)
    wire = chip.protect_response(ResponseAPDU(os.urandom(30), 0x9000)).to_bytes()
    body = len(wire) - 2  # the plain SW is not authenticated and not used
    for bit in range(body * 8):
        bad = bytearray(wire)
        bad[bit // 8] ^= 0x80 >> (bit % 8)
        reader.ssc = 0
        with pytest.raises(SecureMessagingError):
            reader.unprotect(ResponseAPDU.parse(bytes(bad)))
    reader.ssc = 0
    assert reader.unprotect(ResponseAPDU.parse(wire)).sw == 0x9000


@pytest.mark.parametrize("kind", [Cipherkind.DES3, Cipherkind.AES])
def test_any_bit_flip_in_a_command_is_rejected(kind: Cipherkind) -> None:
    reader, chip = pair(kind, 16)
    wire = reader.protect(CommandAPDU(0x00, 0xA4, 0x04, 0x0C, h("A0000002471001")), False)
    raw = wire.to_bytes(False)
    assert chip.unprotect_command(CommandAPDU.parse(raw)).data == h("A0000002471001")
    for bit in range((len(raw) - 1) * 8):  # all but Le, which SM does not authenticate
        bad = bytearray(raw)
        bad[bit // 8] ^= 0x80 >> (bit % 8)
        chip.ssc = 0
        with pytest.raises((SecureMessagingError, APDUError)):
            chip.unprotect_command(CommandAPDU.parse(bytes(bad)))


def test_wrong_ssc_fails_the_mac() -> None:
    sm = d4_sm()
    sm.ssc = SSC0 + 2  # one too far
    with pytest.raises(SecureMessagingError):
        sm.unprotect(ResponseAPDU.parse(D4[0][2]))


def test_reply_structure_errors() -> None:
    def chip_reply(body: bytes) -> bytes:
        # A reply with a valid MAC over ``body`` (SSC 1), so only the structure is wrong.
        sm = SecureMessaging(Cipherkind.DES3, KS_ENC, KS_MAC, 1)
        return body + h("8E08") + sm._mac(sm.ssc_bytes + body) + h("9000")

    reader = SecureMessaging(Cipherkind.DES3, KS_ENC, KS_MAC, 0)
    assert reader.unprotect(ResponseAPDU.parse(chip_reply(h("99026A82")))).sw == 0x6A82
    for body, why in [
        (h("8709019FF0EC34F9922651"), "99' missing"),
        (h("990190"), "99' missing or malformed"),
        (h("99029000") * 2, "repeated"),
        (h("9902900081020000"), "unexpected SM data object 81"),
        (h("870201AA99029000"), "whole"),
        (h("870902001122334455667799029000"), "indicator"),
    ]:
        reader = SecureMessaging(Cipherkind.DES3, KS_ENC, KS_MAC, 0)
        with pytest.raises(SecureMessagingError, match=why):
            reader.unprotect(ResponseAPDU.parse(chip_reply(body)))
    reader = SecureMessaging(Cipherkind.DES3, KS_ENC, KS_MAC, 0)
    with pytest.raises(SecureMessagingError, match="8E"):
        reader.unprotect(ResponseAPDU.parse(h("990290009000")))
    reader.ssc = SSC0 + 1
    with pytest.raises(SecureMessagingError, match="after"):
        reader.unprotect(ResponseAPDU.parse(D4[0][2][:-2] + h("00009000")))


@pytest.mark.parametrize("sw", [0x9000, 0x6987, 0x6988])
def test_bare_success_or_sm_error_is_not_accepted(sw: int) -> None:
    sm = d4_sm()
    with pytest.raises(SecureMessagingError):
        sm.unprotect(ResponseAPDU(b"", sw))


@pytest.mark.parametrize("kind", [Cipherkind.DES3, Cipherkind.AES])
def test_unprotected_error_reply_keeps_both_sides_in_step(kind: Cipherkind) -> None:
    reader, chip = pair(kind, 16, ssc=41)
    # SELECT DG11: the chip answers a bare 6A82 but still counts the reply.
    select = reader.protect(CommandAPDU(0x00, 0xA4, 0x02, 0x0C, h("010B")), False)
    chip.unprotect_command(select)
    got = reader.unprotect(chip.unprotected_reply(0x6A82))
    assert got == ResponseAPDU(b"", 0x6A82)
    assert reader.ssc == chip.ssc == 43
    # The next exchange verifies on both sides.
    reply = ResponseAPDU(os.urandom(20), 0x9000)
    _, plain = exchange(reader, chip, CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=20), reply)
    assert plain == reply


def test_d4_select_after_an_unprotected_error() -> None:
    # The D.4 SELECT reply verifies only if the bare 6A82 before it advanced the SSC by one.
    sm = d4_sm()
    sm.ssc = SSC0 - 2
    sm.protect(CommandAPDU(0x00, 0xA4, 0x02, 0x0C, h("010B")), False)
    assert sm.unprotect(ResponseAPDU(b"", 0x6A82)).sw == 0x6A82
    assert sm.protect(D4[0][0], False).to_bytes(False) == D4[0][1]
    assert sm.unprotect(ResponseAPDU.parse(D4[0][2])).sw == 0x9000


def test_unprotect_command_rejects_plain_commands_and_missing_mac() -> None:
    chip = d4_sm()
    with pytest.raises(SecureMessagingError, match="CLA"):
        chip.unprotect_command(CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=4))
    with pytest.raises(SecureMessagingError, match="8E"):
        chip.unprotect_command(CommandAPDU(0x0C, 0xB0, 0x00, 0x00, h("970104"), ne=256))


def test_max_plain_response() -> None:
    des, _ = pair(Cipherkind.DES3, 16)
    aes, _ = pair(Cipherkind.AES, 16)
    # 258 = 256 data + SW: AES 223 (pads to 224), 3DES 231 (pads to 232).
    assert aes.max_plain_response(258) == aes.max_plain_response_short() == 223
    assert des.max_plain_response(258) == des.max_plain_response_short() == 231
    assert aes.max_plain_response_short(65538) == 223
    assert aes.max_plain_response(252) == 223 and des.max_plain_response(252) == 231
    assert des.max_plain_response(251) == 223
    assert aes.max_plain_response(65538) == 65503
    assert des.max_plain_response(65538) == 65511
    for sm in (des, aes):
        for limit in (40, 100, 200, 258, 263, 290, 1000, 4096, 65538, 70000):
            n = sm.max_plain_response(limit)
            assert sm.protected_reply_size(n) <= min(limit, 65538) < sm.protected_reply_size(n + 1)
            assert n <= 65536
            chip = SecureMessaging(sm.kind, sm.ks_enc, sm.ks_mac)
            wire = chip.protect_response(ResponseAPDU(bytes(n), 0x9000)).to_bytes()
            assert len(wire) == sm.protected_reply_size(n)
        with pytest.raises(APDUError):
            sm.max_plain_response(20)


def test_ssc_setter_range_and_wraparound() -> None:
    sm = d4_sm()
    with pytest.raises(SecureMessagingError):
        sm.ssc = 1 << 64
    with pytest.raises(SecureMessagingError):
        sm.ssc = -1
    sm.ssc = (1 << 64) - 1
    sm.protect(CommandAPDU(0x00, 0x84, 0x00, 0x00, ne=8), False)
    assert sm.ssc == 0


def test_bad_key_lengths() -> None:
    with pytest.raises(SecureMessagingError):
        SecureMessaging(Cipherkind.AES, bytes(15), bytes(16))
    with pytest.raises(SecureMessagingError):
        SecureMessaging(Cipherkind.DES3, bytes(8), bytes(16))
