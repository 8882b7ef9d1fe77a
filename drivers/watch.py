"""Watching a real reader for cards arriving and leaving, and readers failing, without Qt.

:class:`CardWatcher` takes a reader name (``pcsc``, ``pcsc:NAME``, ``nfc[:PATH]``, ``auto``;
``sim:`` names are driven by the tester panel, so for them it is inactive and does nothing)
and watches it on its own :class:`threading.Thread`. It reports through callbacks, each run
on the watcher thread (a GUI must forward them to its own thread; ``ui/readers.py`` turns
them into queued Qt signals):

* ``on_card_present(card)`` — a card entered the field. ``card`` is a :class:`CardHandle`:
  call it for the card's :class:`kiosk.transport.Transport`, or hand it on as a Transport
  itself (it opens the reader lazily, on first use, i.e. on the caller's thread). The handle
  stays valid until the card leaves; after that every use raises :class:`CardRemoved`.
* ``on_card_removed()`` — that card left the field (or its reader, or pcscd, went away).
* ``on_reader_problem(error)`` — the reader cannot be used right now (pcscd stopped, no
  reader, reader unplugged, a reader name that matches none or several readers, no NFC
  frontend): a :class:`TransportError` whose text names the fix. Watching goes on; the next
  ``on_card_present`` (or ``on_reader_ready``) means it recovered.
* ``on_reader_ready()`` — the watched reader can be used (again): pcscd answers and lists it
  (reported when the reader appears, or when pcscd comes back with it), or the NFC frontend
  opened. A kiosk showing a reader problem goes back to waiting for a card on it.

PC/SC goes through :class:`drivers.pcsc.PcscMonitor` (cards, readers appearing and vanishing,
pcscd restarts). ``pcsc:NAME`` watches the reader :func:`drivers.pcsc.select_reader` picks
among the readers pcscd lists (the rule :func:`drivers.pcsc.open_pcsc` opens by: the exact
name, else the only reader containing NAME, ignoring case); ``pcsc`` the first reader with a
card (one card at a time: a card in a second reader is presented once the first card has
left). NFC goes through :func:`drivers.nfc.taps` (one session per tap). ``auto`` follows
:func:`drivers.select.choose_auto`, the policy the registry opens by: PC/SC when pcscd answers
with a reader, else the NFC frontend on USB; when that frontend does not open either, it
watches PC/SC (waiting for a reader to be plugged in).

Drivers are imported on the watcher thread when watching starts, not at import time, so
this module loads on machines without pyscard or nfcpy. Nothing here imports Qt or ``ui``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from drivers.errors import ReaderSpecError
from drivers.select import choose_auto
from kiosk.config import ReaderSpec, ReaderSpecSyntaxError
from kiosk.transport import CardRemoved, Transport, TransportError

log = logging.getLogger(__name__)

#: How often the watcher thread looks at its stop flag (seconds).
POLL_S = 0.2
#: How long to wait before trying an NFC frontend (or pcscd) again after it failed (seconds).
RETRY_S = 2.0
#: An NFC tap is released (closed, then watched for removal) once the handle was used and has
#: been idle this long (seconds); see :meth:`CardWatcher._follow_taps`.
NFC_RELEASE_S = 2.0
#: An NFC tap nobody used (no access key typed) is released after this long (seconds): later
#: use says "place the card on the reader again", and the next tap is seen.
NFC_HOLD_S = 60.0

CardCallback = Callable[["CardHandle"], None]
ProblemCallback = Callable[[TransportError], None]
EventCallback = Callable[[], None]
#: Opens the NFC frontend at a path (``drivers.nfc.open_frontend``; tests pass a stand-in).
FrontendOpener = Callable[[str], Any]


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


def _nothing(*args: object) -> None:
    """The default callback: ignore the report."""


class CardWatcher:
    """Watches the reader named ``spec`` on its own thread (see the module docstring).

    Raises :class:`ReaderSpecError` for a name that cannot be a reader. ``poll_s`` is how
    often the thread looks at its stop flag (and PcscMonitor's poll), ``retry_s`` how long it
    waits before reopening a failed NFC frontend, ``nfc_release_s`` / ``nfc_hold_s`` when an
    NFC tap is released (see :meth:`_follow_taps`); they may be changed before :meth:`start`.
    ``nfc_frontend`` replaces :func:`drivers.nfc.open_frontend` (tests pass a stand-in).
    A callback that raises is logged (by exception type only) and otherwise ignored.
    """

    def __init__(
        self,
        spec: str,
        *,
        on_card_present: CardCallback = _nothing,
        on_card_removed: EventCallback = _nothing,
        on_reader_problem: ProblemCallback = _nothing,
        on_reader_ready: EventCallback = _nothing,
        poll_s: float = POLL_S,
        retry_s: float = RETRY_S,
        nfc_release_s: float = NFC_RELEASE_S,
        nfc_hold_s: float = NFC_HOLD_S,
        nfc_frontend: FrontendOpener | None = None,
    ) -> None:
        try:
            self.spec = ReaderSpec.parse(spec)
        except ReaderSpecSyntaxError as exc:
            raise ReaderSpecError(str(exc)) from exc
        self.on_card_present = on_card_present
        self.on_card_removed = on_card_removed
        self.on_reader_problem = on_reader_problem
        self.on_reader_ready = on_reader_ready
        self.poll_s = poll_s
        self.retry_s = retry_s
        self.nfc_release_s = nfc_release_s
        self.nfc_hold_s = nfc_hold_s
        self._nfc_frontend = nfc_frontend
        self._stop = threading.Event()
        self._card: CardHandle | None = None
        self._thread: threading.Thread | None = None

    @property
    def active(self) -> bool:
        """Whether this watcher watches anything (False for ``sim:`` readers)."""
        return self.spec.kind != "sim"

    @property
    def running(self) -> bool:
        """Whether the watcher thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start watching (no-op for ``sim:`` readers or when already running)."""
        if not self.active or self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"card-watcher-{self.spec.kind}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop watching and wait for the thread (at most ``timeout`` s); the card is retired.

        No ``on_card_removed`` is reported for a card still in the field when watching stops.
        """
        self._stop.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(timeout)

    # ---- on the watcher thread -----------------------------------------------------------

    def _call(self, callback: Callable[..., None], *args: Any) -> None:
        try:
            callback(*args)
        except Exception as exc:  # a failing receiver must not stop the watching
            log.warning("a card watcher callback failed: %s", type(exc).__name__)

    def _present(self, card: CardHandle) -> None:
        self._card = card
        self._call(self.on_card_present, card)

    def _removed(self) -> None:
        card, self._card = self._card, None
        if card is not None:
            card.retire()
            self._call(self.on_card_removed)

    def _ready(self) -> None:
        self._call(self.on_reader_ready)

    def _problem(self, exc: TransportError) -> None:
        log.warning("reader problem: %s", exc)
        self._call(self.on_reader_problem, exc)

    def _run(self) -> None:
        try:
            kind, name = self.spec.kind, self.spec.name
            if kind == "auto":
                kind, name = self._pick_auto()
            if kind == "pcsc":
                self._watch_pcsc(name)
            elif kind == "nfc":
                self._watch_nfc(name or "usb")
        except Exception as exc:  # never let the thread die silently
            self._problem(
                TransportError(
                    f"the reader watcher stopped ({type(exc).__name__}): restart the kiosk"
                )
            )
        finally:
            card, self._card = self._card, None
            if card is not None:
                card.retire()

    def _pick_auto(self) -> tuple[str, str]:
        """(kind, name) for ``auto``: :func:`choose_auto`, with PC/SC when no frontend opens."""
        choice = choose_auto()
        if choice.kind == "pcsc":
            return "pcsc", ""
        try:
            self._open_frontend(choice.path).close()
        except TransportError:
            return "pcsc", ""
        return "nfc", choice.path

    # -- PC/SC --

    def _watch_pcsc(self, name: str) -> None:
        """Follow :class:`PcscMonitor`'s events for the reader ``name`` ("" = any reader)."""
        from drivers.pcsc import (
            PcscMonitor,
            PcscUnavailable,
            ReaderEvent,
            ReaderGone,
            ReaderNotFound,
            list_readers,
            reader_matches,
            select_reader,
        )

        known: list[str] = []  # the readers pcscd lists, in the order they were reported

        def mine(reader: str) -> bool:
            if not name:
                return True
            try:
                return select_reader(name, known) == reader
            except ReaderNotFound:
                return False

        try:
            readers = list_readers()
            if name:
                select_reader(name, readers)  # no such reader, or several: say so now
            elif not readers:
                raise ReaderNotFound("no PC/SC reader is connected: plug it in (see `pcsc_scan`)")
        except TransportError as exc:
            self._problem(exc)
        events: queue.Queue[ReaderEvent] = queue.Queue()
        cards: dict[str, bool] = {}  # reader -> a card is in it
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
                    if any(mine(r) for r in known):  # else: ready once the reader appears
                        self._ready()
                elif ev.kind == "service-lost":
                    self._removed()
                    self._problem(PcscUnavailable("pcscd stopped: waiting for it to come back"))
                elif ev.kind == "reader-added":
                    if ev.reader not in known:
                        known.append(ev.reader)
                    if mine(ev.reader) and monitor.service_up:
                        self._ready()  # the watched reader is there (again)
                elif ev.kind == "reader-removed":
                    was_mine = mine(ev.reader)
                    if ev.reader in known:
                        known.remove(ev.reader)
                    cards.pop(ev.reader, None)
                    if ev.reader == current:
                        self._removed()
                    if was_mine and monitor.service_up:
                        self._problem(ReaderGone(f"the reader {ev.reader!r} was unplugged"))
                elif ev.kind == "card-inserted":
                    cards[ev.reader] = True
                    if mine(ev.reader):
                        if current is None:
                            self._present(self._pcsc_card(ev.reader))
                    elif name and reader_matches(name, ev.reader):
                        try:  # a card in a reader NAME could mean, but so could another
                            select_reader(name, known)
                        except ReaderNotFound as exc:
                            self._problem(exc)
                elif ev.kind == "card-removed":
                    cards[ev.reader] = False
                    if ev.reader == current:
                        self._removed()
                        waiting = [r for r in known if cards.get(r) and mine(r)]
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
            self._ready()
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
