"""Property tests for secure messaging: junk in, only project errors out; round trips; reference.

The reference builder below uses only :mod:`kiosk.emrtd.crypto` and
:mod:`kiosk.emrtd.tlv` (fresh cipher contexts every call), so it checks the
session-long cipher contexts and the hand-written encoders in
:mod:`kiosk.emrtd.sm` over long sequences of APDUs.
"""

from __future__ import annotations

from hypothesis import assume, given
from hypothesis import strategies as st

from kiosk.emrtd import tlv
from kiosk.emrtd.apdu import CommandAPDU, ResponseAPDU
from kiosk.emrtd.crypto import (
    Cipherkind,
    aes_cbc_encrypt,
    aes_cmac,
    aes_ecb_encrypt,
    des3_cbc_encrypt,
    pad,
    retail_mac,
)
from kiosk.emrtd.errors import EmrtdError, SecureMessagingError
from kiosk.emrtd.sm import SecureMessaging

KEYS = {
    Cipherkind.DES3: (
        bytes.fromhex("979EC13B1CBFE9DCD01AB0FED307EAE5"),
        bytes.fromhex("F1CB1F1FB5ADF208806B89DC579DC1F8"),
    ),
    Cipherkind.AES: (
        bytes.fromhex("F5F0E35C0D7161EE6724EE513A0D9A7F"),
        bytes.fromhex("FE251C7858B356B24514B3BD5F4297D1"),
    ),
}

kinds = st.sampled_from([Cipherkind.DES3, Cipherkind.AES])
aes_key_lengths = st.sampled_from([16, 24, 32])


def session(kind: Cipherkind, ssc: int = 0) -> SecureMessaging:
    ks_enc, ks_mac = KEYS[kind]
    return SecureMessaging(kind, ks_enc, ks_mac, ssc)


@st.composite
def plain_commands(draw: st.DrawFn) -> tuple[CommandAPDU, bool]:
    cla = draw(st.integers(0, 255)) & ~0x0C
    ins, p1, p2 = (draw(st.integers(0, 255)) for _ in range(3))
    data = draw(st.binary(max_size=600))
    ne = draw(st.none() | st.integers(1, 65536))
    extended = draw(st.booleans()) or (ne is not None and ne > 256)
    return CommandAPDU(cla, ins, p1, p2, data, ne), extended


status_words = st.integers(0x6000, 0x9FFF) | st.just(0x9000)


# -- junk in --------------------------------------------------------------------------


@given(kind=kinds, ssc=st.integers(0, 2**32), raw=st.binary(min_size=2, max_size=400))
def test_fuzz_unprotect_junk_raises_only_project_errors(
    kind: Cipherkind, ssc: int, raw: bytes
) -> None:
    sm = session(kind, ssc)
    try:
        resp = sm.unprotect(ResponseAPDU.parse(raw))
    except EmrtdError:
        return
    # The only thing junk can get through is a bare non-9000 status word.
    assert resp.data == b"" and len(raw) == 2 and resp.sw != 0x9000


@st.composite
def sm_shaped(draw: st.DrawFn, tags: list[int]) -> bytes:
    """Concatenated objects with SM tags and random values: gets past the first byte checks."""
    out = b""
    for _ in range(draw(st.integers(0, 5))):
        out += tlv.encode(draw(st.sampled_from(tags)), draw(st.binary(max_size=40)))
    return out + draw(st.binary(max_size=3))


@given(kind=kinds, body=sm_shaped([0x87, 0x85, 0x99, 0x8E]), sw=status_words)
def test_fuzz_unprotect_sm_shaped_junk(kind: Cipherkind, body: bytes, sw: int) -> None:
    sm = session(kind)
    try:
        resp = sm.unprotect(ResponseAPDU(body, sw))
    except EmrtdError:
        return
    assert body == b"" and resp == ResponseAPDU(b"", sw)


@given(kind=kinds, raw=st.binary(min_size=4, max_size=400))
def test_fuzz_unprotect_command_junk_raises_only_project_errors(
    kind: Cipherkind, raw: bytes
) -> None:
    sm = session(kind)
    try:
        cmd = CommandAPDU.parse(raw)
        sm.unprotect_command(cmd)
    except EmrtdError:
        return
    raise AssertionError(f"junk command accepted: {raw.hex()}")


@given(
    kind=kinds,
    header=st.tuples(*(st.integers(0, 255) for _ in range(4))),
    body=sm_shaped([0x87, 0x85, 0x97, 0x8E]),
)
def test_fuzz_unprotect_command_sm_shaped_junk(
    kind: Cipherkind, header: tuple[int, int, int, int], body: bytes
) -> None:
    sm = session(kind)
    cla, ins, p1, p2 = header
    try:
        sm.unprotect_command(CommandAPDU(cla | 0x0C, ins, p1, p2, body, 256))
    except EmrtdError:
        return
    raise AssertionError("forged command accepted")


@given(
    kind=kinds,
    data=st.binary(max_size=300),
    sw=status_words,
    cut=st.integers(0, 10_000),
    mode=st.sampled_from(["flip", "truncate", "insert", "delete"]),
    byte=st.integers(0, 255),
)
def test_fuzz_mutated_reply_never_returns_data(
    kind: Cipherkind, data: bytes, sw: int, cut: int, mode: str, byte: int
) -> None:
    chip, reader = session(kind), session(kind)
    body = chip.protect_response(ResponseAPDU(data, sw)).data
    i = cut % len(body)
    if mode == "flip":
        bad = body[:i] + bytes([body[i] ^ (byte or 1)]) + body[i + 1 :]
    elif mode == "truncate":
        bad = body[:i]
    elif mode == "insert":
        bad = body[:i] + bytes([byte]) + body[i:]
    else:
        bad = body[:i] + body[i + 1 :]
    assume(bad != body)
    try:
        resp = reader.unprotect(ResponseAPDU(bad, 0x9000 if sw == 0x9000 else 0x6F00))
    except SecureMessagingError:
        return
    # Truncated to nothing: only a bare non-9000 SW passes, with no data.
    assert bad == b"" and resp.data == b""


# -- round trips ----------------------------------------------------------------------


@given(kind=kinds, key_len=aes_key_lengths, cmds=st.lists(plain_commands(), min_size=1, max_size=6))
def test_fuzz_command_round_trip(
    kind: Cipherkind, key_len: int, cmds: list[tuple[CommandAPDU, bool]]
) -> None:
    n = 16 if kind is Cipherkind.DES3 else key_len
    ks_enc, ks_mac = bytes(range(n)), bytes(range(100, 100 + n))
    reader, chip = SecureMessaging(kind, ks_enc, ks_mac), SecureMessaging(kind, ks_enc, ks_mac)
    for cmd, extended in cmds:
        protected = reader.protect(cmd, extended)
        wire = protected.to_bytes(extended or protected.needs_extended)
        assert chip.unprotect_command(CommandAPDU.parse(wire)) == cmd
        assert reader.ssc == chip.ssc


@given(
    kind=kinds,
    replies=st.lists(
        st.tuples(st.binary(max_size=700), status_words, st.booleans()), min_size=1, max_size=6
    ),
)
def test_fuzz_reply_round_trip(kind: Cipherkind, replies: list[tuple[bytes, int, bool]]) -> None:
    chip, reader = session(kind, 7), session(kind, 7)
    for data, sw, odd in replies:
        wire = chip.protect_response(ResponseAPDU(data, sw), odd_ins=odd).to_bytes()
        assert reader.unprotect(ResponseAPDU.parse(wire)) == ResponseAPDU(data, sw)
        assert len(wire) == reader.protected_reply_size(len(data)) - (odd and bool(data))


# -- against a reference built from the crypto primitives ----------------------------


def _ref_encrypt(kind: Cipherkind, ks_enc: bytes, ssc: bytes, data: bytes) -> bytes:
    if kind is Cipherkind.DES3:
        return des3_cbc_encrypt(ks_enc, pad(data, 8))
    return aes_cbc_encrypt(ks_enc, pad(data, 16), aes_ecb_encrypt(ks_enc, ssc))


def _ref_mac(kind: Cipherkind, ks_mac: bytes, data: bytes) -> bytes:
    if kind is Cipherkind.DES3:
        return retail_mac(ks_mac, pad(data, 8))
    return aes_cmac(ks_mac, pad(data, 16))


def reference_protect(
    kind: Cipherkind, ks_enc: bytes, ks_mac: bytes, ssc: int, cmd: CommandAPDU, extended: bool
) -> bytes:
    bs = 8 if kind is Cipherkind.DES3 else 16
    s = ssc.to_bytes(bs, "big")
    header = bytes((cmd.cla | 0x0C, cmd.ins, cmd.p1, cmd.p2))
    dos = b""
    if cmd.data:
        ct = _ref_encrypt(kind, ks_enc, s, cmd.data)
        dos += tlv.encode(0x85, ct) if cmd.ins & 1 else tlv.encode(0x87, b"\x01" + ct)
    if cmd.ne is not None:
        dos += tlv.encode(
            0x97, (cmd.ne % (65536 if extended else 256)).to_bytes(1 + extended, "big")
        )
    dos += tlv.encode(0x8E, _ref_mac(kind, ks_mac, s + pad(header, bs) + dos))
    ne = 65536 if extended else 256
    wrapped = CommandAPDU(header[0], cmd.ins, cmd.p1, cmd.p2, dos, ne)
    return wrapped.to_bytes(extended or len(dos) > 255)


def reference_reply(
    kind: Cipherkind, ks_enc: bytes, ks_mac: bytes, ssc: int, resp: ResponseAPDU
) -> bytes:
    s = ssc.to_bytes(8 if kind is Cipherkind.DES3 else 16, "big")
    dos = tlv.encode(0x87, b"\x01" + _ref_encrypt(kind, ks_enc, s, resp.data)) if resp.data else b""
    dos += tlv.encode(0x99, resp.sw.to_bytes(2, "big"))
    return dos + tlv.encode(0x8E, _ref_mac(kind, ks_mac, s + dos)) + resp.sw.to_bytes(2, "big")


@given(
    kind=kinds,
    key_len=aes_key_lengths,
    ssc=st.integers(0, 2**64 - 10),
    steps=st.lists(st.tuples(plain_commands(), st.binary(max_size=300)), min_size=1, max_size=5),
)
def test_fuzz_matches_reference_over_a_session(
    kind: Cipherkind,
    key_len: int,
    ssc: int,
    steps: list[tuple[tuple[CommandAPDU, bool], bytes]],
) -> None:
    n = 16 if kind is Cipherkind.DES3 else key_len
    ks_enc, ks_mac = bytes(range(7, 7 + n)), bytes(range(200, 200 + n))
    reader = SecureMessaging(kind, ks_enc, ks_mac, ssc)
    chip = SecureMessaging(kind, ks_enc, ks_mac, ssc)
    modulus = 1 << (8 * reader.block_size)
    for (cmd, extended), reply_data in steps:
        ssc = (ssc + 1) % modulus  # the SSC wraps around
        protected = reader.protect(cmd, extended)
        expected = reference_protect(kind, ks_enc, ks_mac, ssc, cmd, extended)
        assert protected.to_bytes(extended or protected.needs_extended) == expected
        chip.unprotect_command(protected)
        ssc = (ssc + 1) % modulus  # the SSC wraps around
        resp = ResponseAPDU(reply_data, 0x9000)
        wire = chip.protect_response(resp).to_bytes()
        assert wire == reference_reply(kind, ks_enc, ks_mac, ssc, resp)
        assert reader.unprotect(ResponseAPDU.parse(wire)) == resp
