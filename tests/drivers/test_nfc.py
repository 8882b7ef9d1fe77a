"""drivers/nfc.py against nfcpy's real Type4Tag over a stand-in frontend and card.

See tests/fixtures/nfc_standin.py for what is real (nfcpy's ISO-DEP, activation,
presence check, errors) and what is stood in (the USB device, the card).
"""

from __future__ import annotations

import errno
import importlib.abc
import sys
from collections.abc import Iterator
from typing import Any

import pytest

import drivers.nfc as nfc_driver
from drivers.nfc import (
    DEVICES,
    GENERIC,
    NfcTransport,
    device_profile,
    import_nfcpy,
    open_frontend,
    open_nfc,
    taps,
)
from kiosk.cccd import access
from kiosk.cccd.holder import holder_from
from kiosk.emrtd.lds import dg1
from kiosk.emrtd.session import ReaderSession
from kiosk.transport import CardRemoved, TransportError, TransportTimeout
from simulators.card.profile import load_profile
from tests.fixtures.nfc_standin import FrameLimitExceeded, StandinCard, StandinFrontend, nfc

DEVICE_NAMES = sorted(DEVICES)


def _key(name: str) -> access.AccessKey:
    profile = load_profile(name)
    if profile.chip.mode == "bac":
        td1 = dg1.parse(StandinCard.sample(name).chip.files.dgs[1]).mrz
        return access.MRZKey(td1.document_number, td1.date_of_birth, td1.date_of_expiry)
    return access.key_from_id(profile.id_number)


def _first_tap(clf: StandinFrontend, **options: Any) -> NfcTransport:
    """The first session; the generator is kept alive (dropping it closes the session)."""
    generator = taps(clf, **options)
    clf.keepalive = generator
    return next(generator)


def _assert_within_limits(clf: StandinFrontend, card: StandinCard) -> None:
    """Every APDU the card got or sent fits the device's one-frame APDU limits, and so do frames."""
    device = clf.profile
    assert card.commands and card.responses
    assert max(map(len, card.commands)) <= device.max_command_len
    assert max(map(len, card.responses)) <= device.max_response_len
    assert max(map(len, clf.sent)) <= device.max_send
    assert max(map(len, clf.received)) <= device.max_recv


# ---- device profiles ------------------------------------------------------------------


def test_frame_limits_are_the_ones_in_cccd_md() -> None:
    limits = {d.driver: (d.max_send, d.max_recv) for d in DEVICES.values()}
    assert limits == {"acr122": (252, 251), "pn533": (263, 262), "rcs380": (290, 290)}
    # One frame carries PCB + APDU + CRC; APDUs stay short (nfcpy: no extended length).
    assert (DEVICES["acr122"].max_command_len, DEVICES["acr122"].max_response_len) == (249, 248)
    assert (DEVICES["pn533"].max_command_len, DEVICES["pn533"].max_response_len) == (260, 258)
    assert (DEVICES["rcs380"].max_command_len, DEVICES["rcs380"].max_response_len) == (261, 258)


@pytest.mark.parametrize("name", DEVICE_NAMES)
def test_device_profile_follows_the_nfcpy_driver(name: str) -> None:
    assert device_profile(StandinFrontend(name)) is DEVICES[name]


def test_unknown_device_gets_the_smallest_frames() -> None:
    assert device_profile(object()) is GENERIC
    assert GENERIC.max_send == min(d.max_send for d in DEVICES.values())
    assert GENERIC.max_recv == min(d.max_recv for d in DEVICES.values())


# ---- full reads -----------------------------------------------------------------------


@pytest.mark.parametrize("device", DEVICE_NAMES)
@pytest.mark.parametrize("card_name", ["default", "bac-only"])
def test_full_read_through_each_device(device: str, card_name: str) -> None:
    card = StandinCard.sample(card_name)
    clf = StandinFrontend(device, card)
    transport = _first_tap(clf)
    assert transport.device is DEVICES[device]
    assert not transport.extended_length
    result = ReaderSession(transport).read([_key(card_name)])
    profile = load_profile(card_name)
    assert result.dg13 is not None and result.dg1 is not None and result.dg2 is not None
    assert holder_from(result.dg13, result.dg1).id_number == profile.id_number
    assert result.parse_errors == {}
    assert transport.apdu_count == len(card.commands) > 10
    _assert_within_limits(clf, card)


def test_acr122u_responses_are_chained_by_iso_dep() -> None:
    """FSD 128 (the ACR122U receives < 256): nfcpy collects chained responses with R(ACK)."""
    card = StandinCard.sample("default")
    clf = StandinFrontend("acr122", card)
    ReaderSession(_first_tap(clf)).read([_key("default")])
    assert card.fsd == 128
    assert any(frame[0] & 0x10 for frame in clf.received)  # chained I-blocks from the card
    assert len(clf.sent) > len(card.commands)  # the R(ACK)s


def test_small_card_frames_chain_commands() -> None:
    """A card announcing FSC 64: nfcpy chains PACE's longer commands in 61-byte pieces."""
    card = StandinCard.sample("default", fsc=64)
    clf = StandinFrontend("rcs380", card)
    result = ReaderSession(_first_tap(clf)).read([_key("default")])
    assert result.dg1 is not None
    assert max(map(len, card.commands)) > 61
    assert max(map(len, clf.sent)) <= 64 - 2  # PCB + 61 INF; the CRC is the device's
    assert any(frame[0] & 0x10 for frame in clf.sent)


def test_type_b_card_and_wtx_read() -> None:
    card = StandinCard.sample("anh-tuyet", type_b=True, wtx=True)
    clf = StandinFrontend("pn533", card)
    transport = _first_tap(clf)
    assert isinstance(transport.tag, nfc.tag.tt4.Type4BTag)
    result = ReaderSession(transport).read([_key("anh-tuyet")])
    assert result.access_protocol == "PACE"
    assert any(frame[:1] == b"\xf2" for frame in clf.received)  # the card asked for time


# ---- limits, removal, timeouts ------------------------------------------------------------


def test_apdu_above_the_device_limit_is_refused_before_sending() -> None:
    card = StandinCard.sample("default")
    clf = StandinFrontend("acr122", card)
    transport = _first_tap(clf)
    sent_before = len(clf.sent)
    with pytest.raises(TransportError, match="249"):
        transport.transmit(bytes(4) + b"\xff" + bytes(245))  # 250 bytes
    assert len(clf.sent) == sent_before and card.commands == []
    assert transport.transmit(bytes.fromhex("00a4000c023f00"))[-2:] in (b"\x90\x00", b"\x6d\x00")


def test_the_standin_device_rejects_oversized_frames() -> None:
    """The check behind every limits assertion can fail."""
    clf = StandinFrontend("acr122", StandinCard.sample("default"))
    with pytest.raises(FrameLimitExceeded):
        clf.exchange(bytes(253), 0.1)


@pytest.mark.parametrize("device", DEVICE_NAMES)
@pytest.mark.parametrize("after", [1, 5, 20, 60])
def test_removal_mid_read_is_card_removed(device: str, after: int) -> None:
    card = StandinCard.sample("default")
    clf = StandinFrontend(device, card)
    transport = _first_tap(clf)
    card.chip.remove_after(after)
    with pytest.raises(CardRemoved):
        ReaderSession(transport).read([_key("default")])
    assert transport.removed
    with pytest.raises(CardRemoved):  # and stays removed, without touching the reader
        transport.transmit(bytes.fromhex("00b0000004"))


def test_removal_inside_a_chained_response_is_card_removed() -> None:
    """The card leaves after sending the first piece of a chained reply (ACR122U, FSD 128)."""
    card = StandinCard.sample("default")
    clf = StandinFrontend("acr122", card)
    ReaderSession(_first_tap(clf)).read([_key("default")])
    chained = [i for i, frame in enumerate(clf.received) if frame[0] & 0x12 == 0x12]
    assert len(chained) > 10
    for index in (chained[0], chained[len(chained) // 2], chained[-1]):
        card = StandinCard.sample("default")
        clf = StandinFrontend("acr122", card)
        transport = _first_tap(clf)
        card.remove_after_frames(index + 1 - card.frames)  # answer frame `index`, then leave
        with pytest.raises(CardRemoved):
            ReaderSession(transport).read([_key("default")])
        assert clf.received[-1][0] & 0x10  # the last frame that came was a chained piece


def test_hung_card_is_a_timeout_not_a_removal() -> None:
    card = StandinCard.sample("default")
    clf = StandinFrontend("rcs380", card)
    transport = _first_tap(clf)
    card.mute = True
    with pytest.raises(TransportTimeout):
        transport.transmit(bytes.fromhex("00a4000c023f00"))
    assert not transport.removed


def test_timeout_option_reaches_nfcpy() -> None:
    clf = StandinFrontend("rcs380", StandinCard.sample("default"))
    seen: list[float | None] = []
    transport = _first_tap(clf, timeout=0.5)
    real = transport.tag.transceive

    def spy(data: bytearray, timeout: float | None = None) -> Any:
        seen.append(timeout)
        return real(data, timeout)

    transport.tag.transceive = spy
    transport.transmit(bytes.fromhex("00a4000c023f00"))
    assert seen == [0.5]
    with pytest.raises(ValueError):
        NfcTransport(transport.tag, timeout=0)


def test_unplugged_reader_is_a_transport_error_not_removal() -> None:
    class Gone:
        def transceive(self, data: bytearray, timeout: float | None = None) -> bytes:
            raise OSError(errno.ENODEV, "No such device")

    transport = NfcTransport(Gone())
    with pytest.raises(TransportError, match="unplugged") as info:
        transport.transmit(bytes.fromhex("00a4000c023f00"))
    assert not isinstance(info.value, CardRemoved)


def test_closed_transport_refuses_and_close_is_idempotent() -> None:
    closed: list[int] = []
    transport = NfcTransport(object(), on_close=lambda: closed.append(1))
    transport.close()
    transport.close()
    assert closed == [1]
    with pytest.raises(TransportError, match="closed"):
        transport.transmit(bytes(4))


# ---- one session per tap ----------------------------------------------------------------


def test_polling_yields_one_session_per_tap() -> None:
    """Two cards tapped one after the other, each left on the reader a while: two sessions."""
    queue = [StandinCard.sample("default"), StandinCard.sample("teen")]
    clf = StandinFrontend("rcs380")
    polls: list[float] = []

    def idle() -> None:
        if clf.card is None and queue:
            clf.place(queue.pop(0))

    def sleep(seconds: float) -> None:  # the card stays for three presence polls
        polls.append(seconds)
        if len(polls) % 3 == 0:
            clf.take()

    clf.on_idle = idle
    ids: list[str | None] = []
    for transport in taps(
        clf, terminate=lambda: not queue and clf.card is None and bool(polls), sleep=sleep
    ):
        result = ReaderSession(transport).read([access.key_from_id(_id(len(ids)))])
        assert result.dg13 is not None and result.dg1 is not None
        ids.append(holder_from(result.dg13, result.dg1).id_number)
    assert ids == [_id(0), _id(1)]
    assert len(polls) == 6  # waited for each card to leave before looking again


def _id(i: int) -> str:
    return load_profile(("default", "teen")[i]).id_number


def test_each_session_is_closed_when_the_next_is_asked_for() -> None:
    clf = StandinFrontend("pn533", StandinCard.sample("default"))
    gen: Iterator[NfcTransport] = taps(
        clf, terminate=lambda: clf.card is None, sleep=lambda s: clf.take()
    )
    first = next(gen)
    assert not first.closed
    with pytest.raises(StopIteration):
        next(gen)
    assert first.closed


def test_a_card_left_on_the_reader_is_not_read_twice() -> None:
    clf = StandinFrontend("rcs380", StandinCard.sample("default"))
    polls: list[float] = []

    def sleep(seconds: float) -> None:
        polls.append(seconds)

    sessions = 0
    for _transport in taps(clf, terminate=lambda: len(polls) >= 50, sleep=sleep):
        sessions += 1
    assert sessions == 1 and len(polls) == 50


def test_reader_failure_during_polling_is_a_transport_error() -> None:
    class Broken(StandinFrontend):
        def connect(self, **options: Any) -> Any:
            return False  # what nfcpy returns after logging an IOError

    with pytest.raises(TransportError, match="stopped working"):
        next(taps(Broken("rcs380")))


# ---- opening the reader ----------------------------------------------------------------


def test_open_nfc_waits_for_a_card_and_closing_closes_the_frontend(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clf = StandinFrontend("rcs380", StandinCard.sample("default"))
    monkeypatch.setattr(nfc_driver, "open_frontend", lambda path: clf)
    transport = open_nfc("usb:054c:06c3")
    assert transport.device is DEVICES["rcs380"]
    assert ReaderSession(transport).read([_key("default")]).dg1 is not None
    transport.close()
    assert clf.closed


def test_open_nfc_without_a_card_says_so_and_closes(monkeypatch: pytest.MonkeyPatch) -> None:
    clf = StandinFrontend("rcs380")
    monkeypatch.setattr(nfc_driver, "open_frontend", lambda path: clf)
    with pytest.raises(TransportTimeout, match="no ID card") as info:
        open_nfc("usb", wait=0)
    assert not isinstance(info.value, CardRemoved)
    assert clf.closed


def test_closed_frontend_during_polling_is_a_transport_error() -> None:
    class Closed(StandinFrontend):
        def connect(self, **options: Any) -> Any:
            raise OSError(errno.ENODEV, "No such device")  # nfcpy: self.device is None

    with pytest.raises(TransportError, match="not open"):
        next(taps(Closed("rcs380")))


@pytest.mark.parametrize(
    ("err", "needle"),
    [
        (errno.ENODEV, "plug in a Sony RC-S380"),
        (errno.EACCES, "udev"),
        (errno.EBUSY, "pcscd"),
    ],
)
def test_open_frontend_errors_say_what_to_do(
    monkeypatch: pytest.MonkeyPatch, err: int, needle: str
) -> None:
    def refuse(path: str) -> Any:
        raise OSError(err, "nope")

    monkeypatch.setattr(nfc, "ContactlessFrontend", refuse)
    with pytest.raises(TransportError, match=needle):
        open_frontend("usb")


def _hide_nfc(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    class Finder(importlib.abc.MetaPathFinder):
        def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
            if name == "nfc" or name.startswith("nfc."):
                raise error
            return None

    for name in [m for m in sys.modules if m == "nfc" or m.startswith("nfc.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [Finder(), *sys.meta_path])


def test_missing_libusb_names_the_debian_package(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_nfc(monkeypatch, OSError(errno.ENOENT, "cannot find a suitable libusb-1.0"))
    with pytest.raises(TransportError, match=r"libusb-1\.0-0"):
        import_nfcpy()


def test_missing_nfcpy_says_pip_install(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_nfc(monkeypatch, ImportError("No module named 'nfc'"))
    with pytest.raises(TransportError, match="pip install nfcpy"):
        open_nfc("usb")
