"""drivers.watch: the Qt-free card watcher, and the reader-name rule it shares with opening.

The callbacks go into a queue that the test reads. PC/SC (marker ``pcsc``): the private pcscd
with vpcd (tests/fixtures/pcscd.py) and ``cccd-sim vpcd`` in its own process. NFC: nfcpy's
Type4Tag code over the stand-in frontend (tests/fixtures/nfc_standin.py). No assertion about
wall-clock times: every wait is a generous timeout.
"""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import drivers.pcsc as pcsc
from drivers.errors import ReaderSpecError
from drivers.pcsc import ReaderNotFound, reader_matches, select_reader
from drivers.registry import open_transport
from drivers.watch import CardHandle, CardWatcher
from kiosk.cccd import access
from kiosk.cccd.holder import holder_from
from kiosk.emrtd.session import ReaderSession
from kiosk.transport import CardRemoved, Transport, TransportError
from simulators.card.profile import load_profile
from tests.fixtures.pcscd import Pcscd, call_with_timeout, vpcd_say

READER0 = "Virtual PCD 00 00"
READER1 = "Virtual PCD 00 01"
WAIT_S = 30.0


def _read_card(card: Transport, who: str = "default") -> None:
    """Read the chip through ``card``: it is the card ``who``."""
    key = access.key_from_id(load_profile(who).id_number)
    result = call_with_timeout(lambda: ReaderSession(card).read([key]), 60)
    assert result.dg1 is not None and result.dg13 is not None
    assert holder_from(result.dg13, result.dg1).id_number == load_profile(who).id_number


class Events:
    """The watcher's callbacks, recorded in order with the thread each ran on."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[str, Any, str]] = queue.Queue()
        self.seen: list[tuple[str, Any]] = []
        self.threads: set[str] = set()

    def callbacks(self) -> dict[str, Any]:
        def put(kind: str, value: Any = None) -> None:
            self._queue.put((kind, value, threading.current_thread().name))

        return {
            "on_card_present": lambda card: put("present", card),
            "on_card_removed": lambda: put("removed"),
            "on_reader_problem": lambda exc: put("problem", exc),
            "on_reader_ready": lambda: put("ready"),
        }

    def wait(self, kind: str, timeout: float = WAIT_S) -> Any:
        """The value of the next ``kind`` event (events before it are recorded too)."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                got, value, thread = self._queue.get(timeout=left)
            except queue.Empty:
                break
            self.seen.append((got, value))
            self.threads.add(thread)
            if got == kind:
                return value
        raise AssertionError(f"no {kind!r} event within {timeout:g} s; saw {self.kinds()}")

    def drain(self) -> None:
        """Record whatever has been reported so far (call after the watcher stopped)."""
        while True:
            try:
                got, value, thread = self._queue.get_nowait()
            except queue.Empty:
                return
            self.seen.append((got, value))
            self.threads.add(thread)

    def kinds(self) -> list[str]:
        return [k for k, _ in self.seen]


def watcher(spec: str, events: Events, **options: Any) -> CardWatcher:
    return CardWatcher(spec, **events.callbacks(), **options)


# ---- without hardware ------------------------------------------------------------------


def test_sim_readers_are_inactive() -> None:
    events = Events()
    w = watcher("sim:default", events)
    assert not w.active
    w.start()
    assert not w.running  # no thread was started
    w.stop()
    events.drain()
    assert events.seen == []


@pytest.mark.parametrize("spec", ["usb-stick", "", "pcsc:", "auto:x"])
def test_a_bad_reader_name_is_a_reader_spec_error(spec: str) -> None:
    with pytest.raises(ReaderSpecError):
        CardWatcher(spec)


@pytest.mark.parametrize("spec", ["pcsc", "pcsc:Virtual PCD 00 00", "nfc", "nfc:usb", "auto"])
def test_real_readers_are_active(spec: str) -> None:
    assert CardWatcher(spec).active


def test_the_drivers_watcher_never_imports_qt() -> None:
    code = (
        "import sys, drivers.watch, drivers.registry, drivers.select; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'ui', 'simulators')]; "
        "print(bad)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


# ---- the reader-name rule --------------------------------------------------------------


def test_select_reader_exact_name_wins_over_a_part() -> None:
    readers = ["Reader 01", "Reader 0"]
    assert select_reader("Reader 0", readers) == "Reader 0"
    assert reader_matches("Reader 0", "Reader 01")  # a candidate, but the exact name wins


def test_select_reader_takes_a_unique_part_ignoring_case() -> None:
    readers = ["ACS ACR1281U-C1 PICC", "HID OMNIKEY 5022"]
    assert select_reader("omnikey", readers) == "HID OMNIKEY 5022"
    assert select_reader("acr1281u-c1 picc", readers) == "ACS ACR1281U-C1 PICC"


def test_select_reader_refuses_an_ambiguous_or_unknown_name() -> None:
    readers = [READER0, READER1]
    with pytest.raises(ReaderNotFound, match="matches several readers"):
        select_reader("virtual pcd", readers)
    with pytest.raises(ReaderNotFound, match="no PC/SC reader 'OMNIKEY'"):
        select_reader("OMNIKEY", readers)
    with pytest.raises(ReaderNotFound, match="readers: none"):
        select_reader("OMNIKEY", [])


# ---- NFC through the stand-in frontend -------------------------------------------------


@pytest.fixture
def standin() -> Iterator[Any]:
    from tests.fixtures.nfc_standin import StandinCard, StandinFrontend

    clf = StandinFrontend("rcs380", StandinCard.sample("default"))
    clf.on_idle = lambda: time.sleep(0.005)
    yield clf, StandinCard


def test_nfc_tap_read_remove_and_tap_again(standin: Any) -> None:
    clf, standin_card = standin
    events = Events()
    paths: list[str] = []

    def frontend(path: str) -> Any:
        paths.append(path)
        return clf

    w = watcher("nfc", events, nfc_frontend=frontend, poll_s=0.05, nfc_release_s=0.3)
    try:
        w.start()
        assert w.running
        card = events.wait("present")
        assert isinstance(card, CardHandle) and "NFC" in card.reader
        _read_card(card)
        clf.take()
        events.wait("removed")
        assert card.retired
        with pytest.raises(CardRemoved):
            card.transmit(b"\x00\x84\x00\x00\x08")
        clf.place(standin_card.sample("teen"))
        again = events.wait("present")
        assert again is not card
        _read_card(again, "teen")
    finally:
        w.stop()
    assert not w.running
    assert events.kinds()[:4] == ["ready", "present", "removed", "present"]
    assert paths == ["usb"]  # ``nfc`` means the frontend on USB
    assert clf.closed
    assert again.retired  # stopping retires the card still in the field
    assert threading.current_thread().name not in events.threads  # callbacks ran on the watcher


def test_nfc_without_a_frontend_is_a_problem_and_is_retried() -> None:
    events = Events()
    tries: list[str] = []

    def missing(path: str) -> Any:
        tries.append(path)
        raise TransportError(f"no NFC reader found at {path!r}: plug one in")

    w = watcher("nfc:usb:054c:06c3", events, nfc_frontend=missing, retry_s=0.05)
    try:
        w.start()
        first = events.wait("problem")
        events.wait("problem")  # retried after retry_s
    finally:
        w.stop()
    assert isinstance(first, TransportError) and "plug one in" in str(first)
    assert len(tries) >= 2 and set(tries) == {"usb:054c:06c3"}
    assert "present" not in events.kinds() and "ready" not in events.kinds()


def test_nfc_frontend_failing_is_reopened(standin: Any) -> None:
    """A frontend that stops working mid-watch: the card goes, a problem, then ready again."""
    clf, _ = standin
    broken = {"now": False}
    real_connect = clf.connect

    def connect(**options: Any) -> Any:
        if broken["now"]:
            broken["now"] = False
            return False  # what nfcpy returns when the device failed
        return real_connect(**options)

    clf.connect = connect
    events = Events()
    w = watcher("nfc", events, nfc_frontend=lambda path: clf, poll_s=0.05, retry_s=0.05)
    w.nfc_release_s = 0.2
    try:
        w.start()
        card = events.wait("present")
        _read_card(card)
        broken["now"] = True
        clf.take()  # taps() polls for the next card now and meets the broken device
        problem = events.wait("problem")
        events.wait("ready")
    finally:
        w.stop()
    assert "stopped working" in str(problem)
    kinds = events.kinds()
    assert kinds[0] == "ready" and "removed" in kinds
    assert kinds.index("removed") < kinds.index("problem") < len(kinds) - 1


def test_auto_watches_nfc_when_pcscd_lists_no_reader(
    standin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The auto policy shared with opening: no PC/SC reader, so the NFC frontend on USB."""
    clf, _ = standin
    monkeypatch.setattr(pcsc, "list_readers", lambda: [])
    paths: list[str] = []

    def frontend(path: str) -> Any:
        paths.append(path)
        return clf

    events = Events()
    w = watcher("auto", events, nfc_frontend=frontend, poll_s=0.05)
    try:
        w.start()
        card = events.wait("present")
    finally:
        w.stop()
    assert "NFC" in card.reader
    assert paths and set(paths) == {"usb"}


# ---- PC/SC through the private pcscd ---------------------------------------------------


def test_pcsc_present_removed_present(vpcd_card: subprocess.Popen[str]) -> None:
    events = Events()
    w = watcher("pcsc", events, poll_s=0.1)
    try:
        w.start()
        card = events.wait("present")
        assert isinstance(card, CardHandle) and card.reader == READER0
        _read_card(card)
        vpcd_say(vpcd_card, "remove")
        events.wait("removed")
        assert card.retired
        with pytest.raises(CardRemoved, match="place it on the reader again"):
            card.transmit(b"\x00\x84\x00\x00\x08")
        vpcd_say(vpcd_card, "insert")
        again = events.wait("present")
        assert again is not card and again.reader == READER0
        _read_card(again)
    finally:
        w.stop()
    assert not w.running
    events.drain()
    assert [k for k in events.kinds() if k != "ready"] == ["present", "removed", "present"]
    assert "ready" in events.kinds()  # pcscd answered
    assert threading.current_thread().name not in events.threads


@pytest.mark.pcsc
def test_pcsc_restart_is_a_problem_then_recovers(
    vpcd_card: subprocess.Popen[str], running_pcscd: Pcscd
) -> None:
    events = Events()
    w = watcher(f"pcsc:{READER0}", events, poll_s=0.1)
    try:
        w.start()
        first = events.wait("present")
        mark = len(events.seen)
        running_pcscd.restart()
        second = events.wait("present")
        kinds = events.kinds()[mark:]
        assert kinds.index("removed") < kinds.index("problem") < kinds.index("present")
        assert "ready" in kinds[kinds.index("problem") :]
        problem = next(v for k, v in events.seen[mark:] if k == "problem")
        assert isinstance(problem, pcsc.PcscUnavailable) and "pcscd stopped" in str(problem)
        assert first.retired and not second.retired
        _read_card(second)
    finally:
        w.stop()
        if not running_pcscd.running:
            running_pcscd.start()


@pytest.mark.pcsc
def test_auto_watches_pcsc_when_pcscd_lists_a_reader(vpcd_card: subprocess.Popen[str]) -> None:
    def no_nfc(path: str) -> Any:
        raise AssertionError("auto must not open the NFC frontend when pcscd lists a reader")

    events = Events()
    w = watcher("auto", events, nfc_frontend=no_nfc, poll_s=0.1)
    try:
        w.start()
        card = events.wait("present")
    finally:
        w.stop()
    assert card.reader == READER0
    events.drain()
    assert "problem" not in events.kinds()


@pytest.mark.pcsc
@pytest.mark.parametrize("name", [READER0, READER0.lower(), "PCD 00 00"])
def test_a_name_means_the_same_reader_to_open_and_to_watch(
    vpcd_card: subprocess.Popen[str], name: str
) -> None:
    opened = call_with_timeout(lambda: open_transport(f"pcsc:{name}"), 30)
    try:
        assert isinstance(opened, pcsc.PcscTransport) and opened.reader == READER0
    finally:
        opened.close()
    events = Events()
    w = watcher(f"pcsc:{name}", events, poll_s=0.1)
    try:
        w.start()
        card = events.wait("present")
        assert card.reader == READER0
        _read_card(card)
    finally:
        w.stop()
    events.drain()
    assert "problem" not in events.kinds()


@pytest.mark.pcsc
def test_an_ambiguous_name_is_refused_by_open_and_by_watch(
    vpcd_card: subprocess.Popen[str],
) -> None:
    """``pcsc:virtual pcd`` matches both vpcd readers: neither opening nor watching guesses."""
    with pytest.raises(ReaderNotFound, match="matches several readers"):
        call_with_timeout(lambda: open_transport("pcsc:virtual pcd"), 30)
    events = Events()
    w = watcher("pcsc:virtual pcd", events, poll_s=0.1)
    try:
        w.start()
        at_start = events.wait("problem")  # the name, checked when watching starts
        ignored = events.wait("problem")  # the card in READER0 is not presented
    finally:
        w.stop()
    events.drain()
    assert "present" not in events.kinds()
    for problem in (at_start, ignored):
        assert isinstance(problem, ReaderNotFound) and "matches several readers" in str(problem)


@pytest.mark.pcsc
def test_an_unknown_name_is_refused_by_open_and_by_watch(running_pcscd: Pcscd) -> None:
    with pytest.raises(ReaderNotFound, match="no PC/SC reader 'no such reader'"):
        call_with_timeout(lambda: open_transport("pcsc:no such reader"), 30)
    events = Events()
    w = watcher("pcsc:no such reader", events, poll_s=0.1)
    try:
        w.start()
        problem = events.wait("problem")
    finally:
        w.stop()
    assert isinstance(problem, ReaderNotFound) and "no PC/SC reader 'no such reader'" in str(
        problem
    )
