"""ui/readers.py: the ReaderWatcher's signals for real readers.

PC/SC (marker ``pcsc``): the private pcscd with vpcd (tests/fixtures/pcscd.py) and
``cccd-sim vpcd`` in its own process, as a user runs it. NFC: nfcpy's Type4Tag code over the
stand-in frontend (tests/fixtures/nfc_standin.py). No assertion about wall-clock times: every
wait is a generous timeout.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from pytestqt.qtbot import QtBot

from kiosk.cccd import access
from kiosk.cccd.holder import holder_from
from kiosk.emrtd.session import ReaderSession
from kiosk.transport import CardRemoved, Transport, TransportError
from simulators.card.profile import load_profile
from tests.fixtures.pcscd import Pcscd, call_with_timeout, vpcd_say
from ui.readers import CardHandle, ReaderWatcher

if TYPE_CHECKING:  # nfcpy may be missing at run time: the fixture skips then
    from tests.fixtures.nfc_standin import StandinCard, StandinFrontend

READER0 = "Virtual PCD 00 00"
WAIT_MS = 30_000


def _key(card: str = "default") -> access.AccessKey:
    return access.key_from_id(load_profile(card).id_number)


def _read_card(card: Transport, who: str = "default") -> None:
    """Read the chip off the GUI thread (as the worker does): it is the card ``who``."""
    result = call_with_timeout(lambda: ReaderSession(card).read([_key(who)]), 60)
    assert result.dg1 is not None and result.dg13 is not None
    assert holder_from(result.dg13, result.dg1).id_number == load_profile(who).id_number


class Recorder:
    """Every signal of a watcher, in order, as (name, argument)."""

    def __init__(self, watcher: ReaderWatcher) -> None:
        self.events: list[tuple[str, Any]] = []
        watcher.card_present.connect(lambda card: self.events.append(("present", card)))
        watcher.card_removed.connect(lambda: self.events.append(("removed", None)))
        watcher.reader_problem.connect(lambda exc: self.events.append(("problem", exc)))
        watcher.reader_ready.connect(lambda: self.events.append(("ready", None)))

    def kinds(self) -> list[str]:
        return [k for k, _ in self.events]

    def after(self, start: int, kind: str) -> list[Any]:
        return [v for k, v in self.events[start:] if k == kind]


# ---- without hardware ------------------------------------------------------------------


def test_sim_readers_are_not_watched(qtbot: QtBot) -> None:
    watcher = ReaderWatcher("sim:default")
    assert not watcher.active
    watcher.start()
    watcher.stop()


def test_a_bad_reader_name_is_refused() -> None:
    with pytest.raises(ValueError):
        ReaderWatcher("usb-stick")


class _Fake:
    """A transport that counts opens, closes and APDUs."""

    opened = 0

    def __init__(self) -> None:
        type(self).opened += 1
        self.closed = False
        self.max_command_len = 261
        self.max_response_len = 258
        self.extended_length = False

    def transmit(self, apdu: bytes) -> bytes:
        if self.closed:
            raise CardRemoved("gone")
        return b"\x90\x00"

    def close(self) -> None:
        self.closed = True


def test_card_handle_opens_lazily_and_refuses_use_once_retired() -> None:
    _Fake.opened = 0
    card = CardHandle("test reader", _Fake)
    assert _Fake.opened == 0 and not card.used
    assert isinstance(card, Transport)
    assert card.transmit(b"\x00\xa4\x00\x00") == b"\x90\x00"
    assert card() is card() and _Fake.opened == 1
    card.close()  # a closed handle reopens (a fresh connect) on its next use
    assert card.max_command_len == 261 and _Fake.opened == 2
    card.retire()
    assert card.retired
    with pytest.raises(CardRemoved, match="place it on the reader again"):
        card.transmit(b"\x00\xa4\x00\x00")


# ---- NFC through the stand-in frontend -------------------------------------------------


@pytest.fixture
def standin() -> Iterator[tuple[StandinFrontend, type[StandinCard]]]:
    from tests.fixtures.nfc_standin import StandinCard, StandinFrontend

    clf = StandinFrontend("rcs380", StandinCard.sample("default"))
    clf.on_idle = lambda: time.sleep(0.005)
    yield clf, StandinCard


def test_nfc_tap_read_remove_and_tap_again(
    qtbot: QtBot, standin: tuple[StandinFrontend, type[StandinCard]]
) -> None:
    clf, standin_card = standin
    watcher = ReaderWatcher("nfc:usb", nfc_frontend=lambda path: clf, poll_s=0.05)
    watcher.nfc_release_s = 0.3
    events = Recorder(watcher)
    try:
        with qtbot.waitSignal(watcher.card_present, timeout=WAIT_MS) as tapped:
            watcher.start()
        card = tapped.args[0]
        _read_card(card)
        clf.take()
        qtbot.waitUntil(lambda: "removed" in events.kinds(), timeout=WAIT_MS)
        with pytest.raises(CardRemoved):
            card.transmit(b"\x00\x84\x00\x00\x08")
        with qtbot.waitSignal(watcher.card_present, timeout=WAIT_MS) as again:
            clf.place(standin_card.sample("teen"))
        _read_card(again.args[0], "teen")
    finally:
        watcher.stop()
    assert not watcher.watch_thread.isRunning()  # type: ignore[union-attr]
    assert events.kinds()[:4] == ["ready", "present", "removed", "present"]
    assert clf.closed


def test_nfc_without_a_frontend_is_a_reader_problem(qtbot: QtBot) -> None:
    def missing(path: str) -> Any:
        raise TransportError(f"no NFC reader found at {path!r}: plug one in")

    watcher = ReaderWatcher("nfc", nfc_frontend=missing, retry_s=0.05)
    try:
        with qtbot.waitSignal(watcher.reader_problem, timeout=WAIT_MS) as problem:
            watcher.start()
    finally:
        watcher.stop()
    assert "plug one in" in str(problem.args[0])


# ---- PC/SC through the private pcscd ---------------------------------------------------


@pytest.mark.pcsc
def test_pcsc_insert_read_remove_insert(qtbot: QtBot, vpcd_card: subprocess.Popen[str]) -> None:
    watcher = ReaderWatcher(f"pcsc:{READER0}", poll_s=0.1)
    events = Recorder(watcher)
    try:
        with qtbot.waitSignal(watcher.card_present, timeout=WAIT_MS) as inserted:
            watcher.start()
        card = inserted.args[0]
        assert isinstance(card, CardHandle) and card.reader == READER0
        _read_card(card)
        with qtbot.waitSignal(watcher.card_removed, timeout=WAIT_MS):
            vpcd_say(vpcd_card, "remove")
        assert card.retired
        with pytest.raises(CardRemoved):
            card.transmit(b"\x00\x84\x00\x00\x08")
        with qtbot.waitSignal(watcher.card_present, timeout=WAIT_MS) as again:
            vpcd_say(vpcd_card, "insert")
        assert again.args[0] is not card
        _read_card(again.args[0])
    finally:
        watcher.stop()
    assert not watcher.watch_thread.isRunning()  # type: ignore[union-attr]
    assert [k for k in events.kinds() if k != "ready"] == ["present", "removed", "present"]


@pytest.mark.pcsc
def test_pcsc_removal_by_signal(qtbot: QtBot, vpcd_card: subprocess.Popen[str]) -> None:
    import signal

    watcher = ReaderWatcher("pcsc", poll_s=0.1)
    try:
        with qtbot.waitSignal(watcher.card_present, timeout=WAIT_MS):
            watcher.start()
        with qtbot.waitSignal(watcher.card_removed, timeout=WAIT_MS):
            vpcd_card.send_signal(signal.SIGUSR1)
        with qtbot.waitSignal(watcher.card_present, timeout=WAIT_MS):
            vpcd_card.send_signal(signal.SIGUSR2)
    finally:
        watcher.stop()


@pytest.mark.pcsc
def test_pcsc_restart_is_a_problem_then_recovers(
    qtbot: QtBot, vpcd_card: subprocess.Popen[str], running_pcscd: Pcscd
) -> None:
    watcher = ReaderWatcher(f"pcsc:{READER0}", poll_s=0.1)
    events = Recorder(watcher)
    try:
        with qtbot.waitSignal(watcher.card_present, timeout=WAIT_MS) as inserted:
            watcher.start()
        first = inserted.args[0]
        mark = len(events.events)
        running_pcscd.restart()
        qtbot.waitUntil(lambda: bool(events.after(mark, "present")), timeout=WAIT_MS)
        kinds = events.kinds()[mark:]
        assert "problem" in kinds and "removed" in kinds
        assert kinds.index("removed") < kinds.index("problem") < kinds.index("present")
        assert "ready" in kinds[kinds.index("problem") :]
        assert first.retired
        _read_card(events.after(mark, "present")[0])
    finally:
        watcher.stop()
        if not running_pcscd.running:
            running_pcscd.start()


@pytest.mark.pcsc
def test_pcsc_unknown_reader_is_a_problem(qtbot: QtBot, running_pcscd: Pcscd) -> None:
    watcher = ReaderWatcher("pcsc:no such reader", poll_s=0.1)
    try:
        with qtbot.waitSignal(watcher.reader_problem, timeout=WAIT_MS) as problem:
            watcher.start()
    finally:
        watcher.stop()
    assert "no PC/SC reader" in str(problem.args[0])


# ---- the wiring ui/app.py is to use ----------------------------------------------------


@pytest.mark.pcsc
def test_kiosk_window_wired_to_a_pcsc_watcher(
    qtbot: QtBot, vpcd_card: subprocess.Popen[str], tmp_path: Path
) -> None:
    from kiosk.config import Config, GatewayConfig, ReaderConfig
    from ui.app import build_window

    config = Config(
        reader=ReaderConfig(f"pcsc:{READER0}"),
        gateway=GatewayConfig(timeout_s=15.0, connect_timeout_s=5.0),
    )
    window, gateway = build_window(
        config, data_dir=tmp_path / "data", idle_timeout_s=3600, demo_gateway=True
    )
    qtbot.addWidget(window)
    # The lines for ui/app.py (KioskWindow.__init__ / closeEvent):
    watcher = ReaderWatcher(window.reader, parent=window)
    watcher.card_present.connect(lambda card: window.card_tapped(card, None))
    watcher.card_removed.connect(window.card_removed)
    try:
        watcher.start()
        qtbot.waitUntil(lambda: window.state.screen == "key_needed", timeout=WAIT_MS)
        window.key_entry.submitted.emit(load_profile("default").can)  # the key-entry step
        qtbot.waitUntil(lambda: window.state.screen == "result", timeout=WAIT_MS * 2)
        vpcd_say(vpcd_card, "remove")  # self-check mode: the result goes when the card does
        qtbot.waitUntil(lambda: window.state.screen == "idle", timeout=WAIT_MS)
    finally:
        watcher.stop()
        window.close()
        if gateway is not None:
            gateway.stop()
    assert not watcher.watch_thread.isRunning()  # type: ignore[union-attr]
