"""Watching a real reader for the kiosk window: cards arriving and leaving, readers failing.

:class:`ReaderWatcher` takes a reader name (``pcsc``, ``pcsc:NAME``, ``nfc[:PATH]``, ``auto``;
``sim:`` names are driven by the tester panel, so for them it does nothing) and watches it on
its own :class:`QThread`, never the GUI thread. It emits, as queued signals:

* ``card_present(card)`` — a card entered the field. ``card`` is a :class:`CardHandle`: call it
  for the card's :class:`kiosk.transport.Transport`, or hand it on as a Transport itself (it
  opens the reader lazily, on first use, i.e. on the check-in worker's thread). The handle stays
  valid until the card leaves; after that every use raises :class:`CardRemoved`.
* ``card_removed()`` — that card left the field (or its reader, or pcscd, went away).
* ``reader_problem(exception)`` — the reader cannot be used right now (pcscd stopped, no
  reader, reader unplugged, no NFC frontend): a :class:`TransportError` whose text names the fix.
  Watching goes on; the next ``card_present`` (or ``reader_ready``) means it recovered.
* ``reader_ready()`` — the reader service is (back) up: pcscd answers, or the NFC frontend
  opened.

PC/SC goes through :class:`drivers.pcsc.PcscMonitor` (cards, readers appearing and vanishing,
pcscd restarts). ``pcsc:NAME`` watches the reader whose name contains NAME; ``pcsc`` the first
reader with a card (one card at a time: a card in a second reader is presented once the first
card has left). NFC goes through :func:`drivers.nfc.taps` (one session per tap). ``auto`` uses
PC/SC when pcscd answers with a reader, else the NFC frontend on USB, else keeps watching PC/SC.

How ``ui/app.py`` wires it (see the report of the change that added this module)::

    self.watcher = ReaderWatcher(reader, parent=self)
    self.watcher.card_present.connect(lambda card: self.card_tapped(card, None))
    self.watcher.card_removed.connect(self.card_removed)
    self.watcher.start()
    ...
    self.watcher.stop()  # in closeEvent, before self.worker.stop()

``card_tapped(card, None)`` asks for the access key first (key-entry step); the read then runs
on the worker with the handle as its transport. This module imports no driver at import time:
``drivers.pcsc`` / ``drivers.nfc`` are loaded on the watcher thread when watching starts.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from kiosk.config import ReaderSpec, ReaderSpecSyntaxError
from kiosk.transport import CardRemoved, Transport, TransportError

log = logging.getLogger(__name__)

#: How often the watcher thread looks at its stop flag (seconds).
POLL_S = 0.2
#: How long to wait before trying an NFC frontend (or pcscd) again after it failed (seconds).
RETRY_S = 2.0
#: An NFC tap is released (closed, then watched for removal) once the handle was used and has
#: been idle this long (seconds); see :meth:`ReaderWatcher._follow_taps`.
NFC_RELEASE_S = 2.0
#: An NFC tap nobody used (no access key typed) is released after this long (seconds): later
#: use says "place the card on the reader again", and the next tap is seen.
NFC_HOLD_S = 60.0


class CardHandle:
    """One card in the field: a factory for its transport, and a lazy Transport itself.

    ``opener`` opens the transport; it runs on first use (``handle()``, ``transmit``, a size
    property), on the caller's thread, so the check-in worker pays for the connect, not the
    GUI. A PC/SC handle closed by its user reopens on next use (a fresh connect resets the
    card); once :meth:`retire` ran (the card left) every use raises :class:`CardRemoved`.
    ``reader`` names the reader, for messages only.
    """

    def __init__(self, reader: str, opener: Callable[[], Transport]) -> None:
        self.reader = reader
        self._opener = opener
        self._lock = threading.RLock()
        self._transport: Transport | None = None
        self._retired = False
        self.removed = False  #: a transmit saw the card leave
        self.busy = 0  #: transmits in progress
        self.used = False  #: the transport was opened at least once
        self.last_use = time.monotonic()

    def __call__(self) -> Transport:
        """The card's transport, opened on first call (raises CardRemoved once retired)."""
        with self._lock:
            if self._retired:
                raise CardRemoved(f"the card left {self.reader}: place it on the reader again")
            if self._transport is None:
                self._transport = self._opener()
                self.used = True
            return self._transport

    @property
    def retired(self) -> bool:
        """Whether the card has left (the handle is dead)."""
        return self._retired

    @property
    def max_command_len(self) -> int:
        return self().max_command_len

    @property
    def max_response_len(self) -> int:
        return self().max_response_len

    @property
    def extended_length(self) -> bool:
        return self().extended_length

    def transmit(self, apdu: bytes) -> bytes:
        """One APDU through the card's transport (opened if need be)."""
        transport = self()
        with self._lock:
            self.busy += 1
        try:
            return transport.transmit(apdu)
        except CardRemoved:
            self.removed = True
            raise
        except TransportError as exc:
            if self._retired:  # closed under us because the card left
                self.removed = True
                raise CardRemoved(f"the card left {self.reader}") from exc
            raise
        finally:
            with self._lock:
                self.busy -= 1
                self.last_use = time.monotonic()

    def close(self) -> None:
        """Close the transport if it is open (a later use reopens it unless retired)."""
        with self._lock:
            transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()

    def retire(self) -> None:
        """The card left: close the transport and refuse every later use."""
        with self._lock:
            self._retired = True
        self.close()

    def idle_for(self) -> float:
        """Seconds since the last transmit ended (0 while one runs)."""
        with self._lock:
            return 0.0 if self.busy else time.monotonic() - self.last_use


class _Thread(QThread):
    """The watcher's thread: runs ``target`` (the watch loop) and nothing else."""

    def __init__(self, target: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._target = target

    def run(self) -> None:
        self._target()


class ReaderWatcher(QObject):
    """Watches the reader named ``spec`` on its own QThread (see the module docstring)."""

    card_present = Signal(object)
    card_removed = Signal()
    reader_problem = Signal(object)
    reader_ready = Signal()

    def __init__(
        self,
        spec: str,
        parent: QObject | None = None,
        *,
        poll_s: float = POLL_S,
        retry_s: float = RETRY_S,
        nfc_release_s: float = NFC_RELEASE_S,
        nfc_hold_s: float = NFC_HOLD_S,
        nfc_frontend: Callable[[str], Any] | None = None,
    ) -> None:
        super().__init__(parent)
        try:
            self.spec = ReaderSpec.parse(spec)
        except ReaderSpecSyntaxError as exc:
            raise ValueError(str(exc)) from exc
        self.poll_s = poll_s
        self.retry_s = retry_s
        self.nfc_release_s = nfc_release_s
        self.nfc_hold_s = nfc_hold_s
        self._nfc_frontend = nfc_frontend
        self._stop = threading.Event()
        self._card: CardHandle | None = None
        self.watch_thread: _Thread | None = None
        if self.spec.kind != "sim":
            self.watch_thread = _Thread(self._run, self)
            self.watch_thread.setObjectName(f"reader-watcher-{self.spec.kind}")

    @property
    def active(self) -> bool:
        """Whether this watcher watches anything (False for ``sim:`` readers)."""
        return self.watch_thread is not None

    def start(self) -> None:
        """Start watching (no-op for ``sim:`` readers or when already running)."""
        if self.watch_thread is not None and not self.watch_thread.isRunning():
            self._stop.clear()
            self.watch_thread.start()

    def stop(self, timeout_ms: int = 10000) -> None:
        """Stop watching: quit the thread and wait for it (the open card, if any, is retired)."""
        self._stop.set()
        if self.watch_thread is not None and self.watch_thread.isRunning():
            self.watch_thread.wait(timeout_ms)

    # ---- on the watcher thread -----------------------------------------------------------

    def _present(self, card: CardHandle) -> None:
        self._card = card
        self.card_present.emit(card)

    def _removed(self) -> None:
        card, self._card = self._card, None
        if card is not None:
            card.retire()
            self.card_removed.emit()

    def _problem(self, exc: BaseException) -> None:
        log.warning("reader problem: %s", exc)
        self.reader_problem.emit(exc)

    def _run(self) -> None:
        try:
            kind = self.spec.kind
            if kind == "auto":
                kind = self._pick_auto()
            if kind == "pcsc":
                self._watch_pcsc(self.spec.name if self.spec.kind == "pcsc" else "")
            elif kind == "nfc":
                self._watch_nfc(self.spec.name or "usb")
        except Exception as exc:  # never let the thread die silently
            self._problem(TransportError(f"the reader watcher stopped: {exc}"))
        finally:
            card, self._card = self._card, None
            if card is not None:
                card.retire()

    def _pick_auto(self) -> str:
        """``pcsc`` when pcscd answers with a reader, else ``nfc`` when a frontend opens."""
        try:
            from drivers.pcsc import list_readers

            if list_readers():
                return "pcsc"
        except (ImportError, TransportError):
            pass
        try:
            self._open_frontend("usb").close()
            return "nfc"
        except TransportError:
            return "pcsc"

    # -- PC/SC --

    def _watch_pcsc(self, name: str) -> None:
        """Follow :class:`PcscMonitor`'s events for the reader(s) ``name`` ("" = any)."""
        from drivers.pcsc import (
            PcscMonitor,
            PcscUnavailable,
            ReaderEvent,
            ReaderGone,
            ReaderNotFound,
            list_readers,
        )

        def mine(reader: str) -> bool:
            return not name or name == reader or name.lower() in reader.lower()

        try:
            readers = list_readers()
            if not any(mine(r) for r in readers):
                what = f"no PC/SC reader {name!r}" if name else "no PC/SC reader is connected"
                self._problem(ReaderNotFound(f"{what}: plug it in (see `pcsc_scan`)"))
        except TransportError as exc:
            self._problem(exc)
        events: queue.Queue[ReaderEvent] = queue.Queue()
        cards: dict[str, bool] = {}  # reader -> card in it
        monitor = PcscMonitor(events.put, poll_s=self.poll_s, retry_s=min(self.retry_s, 0.5))
        monitor.start()
        try:
            while not self._stop.is_set():
                try:
                    ev = events.get(timeout=self.poll_s)
                except queue.Empty:
                    continue
                current = self._card.reader if self._card is not None else None
                if ev.kind == "service-back":
                    self.reader_ready.emit()
                elif ev.kind == "service-lost":
                    self._removed()
                    self._problem(PcscUnavailable("pcscd stopped: waiting for it to come back"))
                elif ev.kind == "reader-removed" and mine(ev.reader):
                    cards.pop(ev.reader, None)
                    if ev.reader == current:
                        self._removed()
                    if monitor.service_up:
                        self._problem(ReaderGone(f"the reader {ev.reader!r} was unplugged"))
                elif ev.kind == "card-inserted" and mine(ev.reader):
                    cards[ev.reader] = True
                    if current is None:
                        self._present(self._pcsc_card(ev.reader))
                elif ev.kind == "card-removed" and mine(ev.reader):
                    cards[ev.reader] = False
                    if ev.reader == current:
                        self._removed()
                        waiting = [r for r, full in cards.items() if full]
                        if waiting:
                            self._present(self._pcsc_card(waiting[0]))
        finally:
            monitor.stop()

    @staticmethod
    def _pcsc_card(reader: str) -> CardHandle:
        def opener() -> Transport:
            from drivers.pcsc import PcscTransport

            return PcscTransport(reader)

        return CardHandle(reader, opener)

    # -- NFC --

    def _open_frontend(self, path: str) -> Any:
        if self._nfc_frontend is not None:
            return self._nfc_frontend(path)
        from drivers.nfc import open_frontend

        return open_frontend(path)

    def _watch_nfc(self, path: str) -> None:
        """One :class:`CardHandle` per tap from :func:`drivers.nfc.taps`; reopen on failure."""
        while not self._stop.is_set():
            try:
                clf = self._open_frontend(path)
            except TransportError as exc:
                self._problem(exc)
                self._stop.wait(self.retry_s)
                continue
            self.reader_ready.emit()
            try:
                self._follow_taps(clf, path)
            except TransportError as exc:
                self._removed()
                self._problem(exc)
                self._stop.wait(self.retry_s)
            finally:
                try:
                    clf.close()
                except Exception as exc:  # the device may be gone already
                    log.debug("closing the NFC frontend failed: %s", type(exc).__name__)

    def _follow_taps(self, clf: Any, path: str) -> None:
        """Present each tap; release it once used and idle (or gone); report its removal.

        :func:`drivers.nfc.taps` keeps a tap's transport valid until the next one is asked
        for, and then closes it and polls the card until it has left. That polling shares
        the frontend with the reads, so the tap is held (no polling) while the worker may
        still use it: until the handle was used and then idle for ``nfc_release_s``, or was
        never used for ``nfc_hold_s``, or a transmit saw the card leave. (So a card lifted
        during key entry is noticed only when the read finds it gone.) The removal is
        noticed from the generator's hooks: while the card is still there, every
        ``terminate()`` check is followed by a ``sleep()``; two ``terminate()`` calls in a
        row mean the presence check failed.
        """
        from drivers.nfc import taps

        probe = _RemovalProbe(self._stop, self._removed)
        gen: Iterator[Any] = taps(
            clf, terminate=probe.terminate, sleep=probe.sleep, interval=self.poll_s / 2
        )
        try:
            for transport in gen:
                card = CardHandle(f"the NFC reader at {path!r}", _constant(transport))
                self._present(card)
                while not self._stop.is_set():
                    idle = card.idle_for()
                    if card.removed or idle >= (
                        self.nfc_release_s if card.used else self.nfc_hold_s
                    ):
                        break
                    self._stop.wait(self.poll_s / 2)
                card.retire()  # taps() closes the transport now: later use says "tap again"
                probe.arm()
        finally:
            close = getattr(gen, "close", None)
            if close is not None:
                close()


def _constant(transport: Transport) -> Callable[[], Transport]:
    """An opener that returns the transport :func:`drivers.nfc.taps` already opened."""
    return lambda: transport


class _RemovalProbe:
    """``terminate`` / ``sleep`` hooks for :func:`drivers.nfc.taps` that notice a removal.

    Armed when the watcher asks for the next tap: from then on ``taps`` checks presence with
    ``terminate()`` → presence check → ``sleep()`` while the card is there, and calls
    ``terminate()`` again without a ``sleep()`` once it is gone.
    """

    def __init__(self, stop: threading.Event, on_removed: Callable[[], None]) -> None:
        self._stop = stop
        self._on_removed = on_removed
        self._armed = False
        self._checked = False

    def arm(self) -> None:
        self._armed = True
        self._checked = False

    def terminate(self) -> bool:
        if self._armed:
            if self._checked:  # the previous check found no card: no sleep() came between
                self._armed = False
                self._on_removed()
            else:
                self._checked = True
        return self._stop.is_set()

    def sleep(self, seconds: float) -> None:
        self._checked = False
        self._stop.wait(seconds)
