"""The in-process transport and its contactless link model (modeled time, never slept)."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from drivers.simulated import (
    EXT_MAX_COMMAND,
    EXT_MAX_RESPONSE,
    SHORT_MAX_COMMAND,
    SHORT_MAX_RESPONSE,
    LinkModel,
    SimulatedTransport,
    open_simulated,
)
from kiosk.emrtd.apdu import CommandAPDU
from kiosk.emrtd.bac import bac
from kiosk.emrtd.channel import CardChannel
from kiosk.emrtd.errors import StatusError
from kiosk.emrtd.lds import dg13, sod
from kiosk.emrtd.lds.files import DATA_GROUPS, EF_SOD, EMRTD_AID
from kiosk.emrtd.pace import PacePassword, pace
from kiosk.emrtd.reader import FileReader
from kiosk.transport import CardRemoved, Transport, TransportError
from simulators.card.chip import Chip
from simulators.card.profile import ChipOptions
from tests.simulators.test_chip import files

h = bytes.fromhex


@pytest.fixture(scope="session")
def sim_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The simulator home shared by this session's tests (PKI and card keys made once)."""
    home = tmp_path_factory.getbasetemp() / "cccd-sim-home"
    home.mkdir(exist_ok=True)
    return home


def make(link: LinkModel | None = None, **options: object) -> SimulatedTransport:
    return SimulatedTransport(Chip(files(), ChipOptions(**options)), link)  # type: ignore[arg-type]


# ---- link model arithmetic ------------------------------------------------------------------


def test_single_frame_at_106_kbit() -> None:
    link = LinkModel(bit_rate=106_000, frame_size=256, turnaround_s=0.0, chip_crypto_s=0.0)
    # 10-byte command: (10 + 3) bytes * 9 bits + 2 frame bits = 119 bits;
    # 2-byte reply: (2 + 3) * 9 + 2 = 47 bits.
    assert link.message_bits(10) == 119
    assert link.message_bits(2) == 47
    assert link.apdu_seconds(bytes(10), bytes(2)) == pytest.approx(166 / 106_000)


def test_frame_chaining_adds_blocks_and_acks() -> None:
    link = LinkModel(bit_rate=106_000, frame_size=64, turnaround_s=0.0, chip_crypto_s=0.0)
    # 61 payload bytes per 64-byte block: 200 bytes need 4 I-blocks and 3 R(ACK)s.
    assert link.frames(200) == 4
    assert link.frames(61) == 1 and link.frames(62) == 2
    assert link.message_bits(200) == 9 * (200 + 4 * 3 + 3 * 3) + 2 * (4 + 3)
    assert link.message_bits(200) > link.message_bits(61) * 3


def test_faster_links_take_less_time() -> None:
    cmd, resp = bytes(20), bytes(225)
    times = [
        LinkModel(rate, 256, 0.0, 0.0).apdu_seconds(cmd, resp)
        for rate in (106_000, 212_000, 424_000, 848_000)
    ]
    assert times == sorted(times, reverse=True)
    assert times[0] == pytest.approx(times[3] * 8)


def test_turnaround_and_crypto_time() -> None:
    link = LinkModel(bit_rate=0, frame_size=256, turnaround_s=0.005, chip_crypto_s=0.1)
    assert link.apdu_seconds(h("00B0000010"), bytes(18)) == pytest.approx(0.005)
    assert link.apdu_seconds(h("1086000002") + h("7C00") + h("00"), bytes(14)) == pytest.approx(
        0.105
    )
    assert link.apdu_seconds(h("0082000028") + bytes(41), bytes(42)) == pytest.approx(0.105)


def test_presets_and_zero() -> None:
    assert LinkModel.zero().apdu_seconds(bytes(300), bytes(300)) == 0.0
    for rate in (106_000, 212_000, 424_000, 848_000):
        assert LinkModel.preset(rate).bit_rate == rate
    with pytest.raises(ValueError):
        LinkModel.preset(100_000)
    with pytest.raises(ValueError):
        LinkModel(bit_rate=123_456)
    with pytest.raises(ValueError):
        LinkModel(frame_size=8)


# ---- the transport --------------------------------------------------------------------------


def test_is_a_transport_with_short_or_extended_limits() -> None:
    short = make()
    assert isinstance(short, Transport)
    assert (short.extended_length, short.max_command_len, short.max_response_len) == (
        False,
        SHORT_MAX_COMMAND,
        SHORT_MAX_RESPONSE,
    )
    ext = make(extended_length=True)
    assert (ext.extended_length, ext.max_command_len, ext.max_response_len) == (
        True,
        EXT_MAX_COMMAND,
        EXT_MAX_RESPONSE,
    )
    forced = SimulatedTransport(Chip(files()), extended_length=True)
    assert forced.extended_length and forced.transmit(h("00B09C00000400")) == h("6700")


def test_transmit_counts_and_models_without_sleeping() -> None:
    link = LinkModel.preset(106_000)
    t = make(link)
    start = time.perf_counter()
    for _ in range(50):
        assert t.transmit(h("00A4020C02011C")) == h("9000")
    elapsed = time.perf_counter() - start
    assert t.apdu_count == 50
    assert t.bytes_sent == 50 * 7 and t.bytes_received == 50 * 2
    expected = 50 * link.apdu_seconds(h("00A4020C02011C"), h("9000"))
    assert t.modeled_seconds == pytest.approx(expected)
    assert t.modeled_seconds > 50 * link.turnaround_s
    assert elapsed < t.modeled_seconds


def test_closed_transport_and_bad_apdus() -> None:
    t = make()
    with pytest.raises(TransportError):
        t.transmit(h("00A4"))
    with pytest.raises(TransportError):
        t.transmit(h("00D6000000FFFF") + bytes(300))
    t.close()
    t.close()  # idempotent
    with pytest.raises(TransportError):
        t.transmit(h("00A4020C02011C"))


def test_card_removal_is_card_removed() -> None:
    t = make()
    t.chip.remove_after(1)
    t.transmit(h("00A4020C02011C"))
    with pytest.raises(CardRemoved):
        t.transmit(h("00B09C0000"))
    assert t.apdu_count == 1


# ---- sample cards end to end through the reader's building blocks ----------------------------


def _read_card(
    t: SimulatedTransport, *, can: str | None = None, mrz_info: str | None = None
) -> tuple[dict[int, bytes], CardChannel]:
    """PACE (CAN) or BAC (MRZ), then every DG the SOD lists, checked against its hash."""
    ch = CardChannel(t)
    chip = t.chip
    if can is not None:
        assert chip.files.pace_info is not None
        pace(ch, PacePassword.from_can(can), chip.files.pace_info)
    ch.send(CommandAPDU(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID))
    if mrz_info is not None:
        bac(ch, mrz_info)
    reader = FileReader(ch)
    parsed = sod.parse(reader.read_file(EF_SOD))
    out: dict[int, bytes] = {}
    for n, digest in parsed.dg_hashes:
        try:
            data = reader.read_file(DATA_GROUPS[n])
        except StatusError as exc:
            assert (n, exc.sw) == (3, 0x6982)  # DG3 is EAC-protected
            continue
        assert hashlib.sha256(data).digest() == digest, f"DG{n}"
        out[n] = data
    return out, ch


def test_open_simulated_default_card_reads_with_the_can(sim_home: Path) -> None:
    t = open_simulated("default", home=sim_home, link=LinkModel.preset(424_000))
    dgs, _ = _read_card(t, can="034517")
    assert sorted(dgs) == [1, 2, 13, 14, 15]
    assert dg13.parse(dgs[13]).full_name == "Trần Đức Minh"
    assert 0.3 < t.modeled_seconds < 3.0  # "< 3 s" as Vietnamese readers advertise
    assert t.chip.access == "pace"


def test_bac_only_card_reads_with_the_mrz(sim_home: Path) -> None:
    t = open_simulated("bac-only", home=sim_home)
    assert t.transmit(bytes.fromhex("00B09C0000")) == bytes.fromhex("6A82")
    dgs, ch = _read_card(t, mrz_info=t.chip.files.mrz_info)
    assert ch.sm is not None and t.chip.access == "bac"
    assert dg13.parse(dgs[13]).old_id_number == "361845203"


@pytest.mark.parametrize("access", ["bac", "pace-extended"])
def test_fussy_card_is_read_through_the_fallbacks(sim_home: Path, access: str) -> None:
    """BAC (3DES SM fits 231 bytes, the chip takes 223) or a reader that tries extended
    length on a chip without it: both end in 6700 replies, sent without SM, and the
    reader must fall back and keep its SSC in step."""
    plain = open_simulated("fussy", home=sim_home, max_read=None, plain_errors=False)
    fussy = open_simulated("fussy", home=sim_home, extended_length=access != "bac")
    assert fussy.chip.options.max_read == 223 and fussy.chip.options.plain_errors
    sent: list[bytes] = []
    process = fussy.chip.process

    def spy(apdu: bytes) -> bytes:
        reply = process(apdu)
        sent.append(reply)
        return reply

    fussy.chip.process = spy  # type: ignore[method-assign]
    if access == "bac":
        mrz = fussy.chip.files.mrz_info
        dgs, _ = _read_card(fussy, mrz_info=mrz)
        dgs_plain, _ = _read_card(plain, mrz_info=mrz)
    else:
        dgs, _ = _read_card(fussy, can="006745")
        dgs_plain, _ = _read_card(plain, can="006745")
    assert dgs == dgs_plain
    assert h("6700") in sent  # a bare, unprotected error reply was sent and survived
    assert fussy.apdu_count > plain.apdu_count  # refused reads cost APDUs


def test_big_photo_card_with_extended_length(sim_home: Path) -> None:
    t = open_simulated("big-photo", home=sim_home)
    assert t.extended_length and t.max_response_len == EXT_MAX_RESPONSE
    dgs, _ = _read_card(t, can="009214")
    assert len(dgs[2]) > 32_768
    assert t.apdu_count < 20  # large reads need few APDUs


def test_slow_link_takes_longer(sim_home: Path) -> None:
    times = []
    for rate in (106_000, 848_000):
        t = open_simulated("default", home=sim_home, link=LinkModel.preset(rate))
        _read_card(t, can="034517")
        times.append(t.modeled_seconds)
    assert times[0] > 2 * times[1]


def test_an_indefinite_length_sod_is_read_to_its_end_of_contents() -> None:
    """A chip that sends EF.SOD as BER with an indefinite outer length (77 80 … 00 00)."""
    from dataclasses import replace

    from kiosk.emrtd import tlv
    from kiosk.emrtd.lds._common import unwrap
    from simulators.card.personalize import make_chip

    base = make_chip("default").files
    value = unwrap(base.sod, 0x77, "EF.SOD", len(base.sod))
    ber = b"\x77\x80" + value + b"\x00\x00"
    t = SimulatedTransport(Chip(replace(base, sod=ber), ChipOptions()))
    ch = CardChannel(t)
    assert base.pace_info is not None
    pace(ch, PacePassword.from_can(base.can), base.pace_info)
    ch.send(CommandAPDU(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID))
    raw = FileReader(ch).read_file(EF_SOD)
    assert raw == ber
    assert sod.parse(raw).econtent == sod.parse(base.sod).econtent
    assert tlv.read_header(raw, ber=True)[1] == tlv.INDEFINITE
