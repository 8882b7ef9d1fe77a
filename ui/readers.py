"""The kiosk window's view of a real reader: :class:`drivers.watch.CardWatcher` as Qt signals.

All the watching (PC/SC events, readers appearing and vanishing, pcscd restarts, NFC taps,
retries, and which reader a name means) lives in :mod:`drivers.watch`, which knows nothing of
Qt. :class:`ReaderWatcher` only turns that watcher's callbacks, which run on the watcher's
own thread, into signals. The signals are emitted from that thread, so every connection to a
slot or lambda of the GUI thread is queued: receivers run on the GUI thread, never on the
watcher's.

* ``card_present(card)`` — a card entered the field; ``card`` is a
  :class:`drivers.watch.CardHandle` (a lazy Transport, valid until the card leaves).
* ``card_removed()`` — that card left the field (or its reader, or pcscd, went away).
* ``reader_problem(exception)`` — the reader cannot be used right now: a
  :class:`TransportError` whose text names the fix. Watching goes on.
* ``reader_ready()`` — the reader service is (back) up.

``sim:`` names are driven by the tester panel, so for them the watcher is inactive. How
``ui/app.py`` wires it::

    self.watcher = ReaderWatcher(reader, parent=self)
    self.watcher.card_present.connect(lambda card: self.card_tapped(card, None))
    self.watcher.card_removed.connect(self.card_removed)
    self.watcher.start()
    ...
    self.watcher.stop()  # in closeEvent, before self.worker.stop()
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from drivers.errors import ReaderSpecError
from drivers.watch import (
    NFC_HOLD_S,
    NFC_RELEASE_S,
    POLL_S,
    RETRY_S,
    CardHandle,
    CardWatcher,
    FrontendOpener,
)
from kiosk.transport import TransportError

__all__ = ["NFC_HOLD_S", "NFC_RELEASE_S", "POLL_S", "RETRY_S", "CardHandle", "ReaderWatcher"]


class _WatchThread:
    """``watch_thread``: whether the watcher's thread runs, asked the way one asks a QThread."""

    def __init__(self, watch: CardWatcher) -> None:
        self._watch = watch

    def isRunning(self) -> bool:  # the QThread name callers know
        return self._watch.running


class ReaderWatcher(QObject):
    """Watches the reader named ``spec`` and reports it as queued signals (module docstring).

    Raises ValueError for a name that cannot be a reader. The keyword arguments go to
    :class:`drivers.watch.CardWatcher` (``nfc_frontend`` replaces the NFC driver's
    ``open_frontend``, for tests); the timing attributes may be changed before :meth:`start`.
    """

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
        nfc_frontend: FrontendOpener | None = None,
    ) -> None:
        super().__init__(parent)
        try:
            self.watch = CardWatcher(
                spec,
                on_card_present=self._card_present,
                on_card_removed=self.card_removed.emit,
                on_reader_problem=self._reader_problem,
                on_reader_ready=self.reader_ready.emit,
                poll_s=poll_s,
                retry_s=retry_s,
                nfc_release_s=nfc_release_s,
                nfc_hold_s=nfc_hold_s,
                nfc_frontend=nfc_frontend,
            )
        except ReaderSpecError as exc:
            raise ValueError(str(exc)) from exc
        self.spec = self.watch.spec
        self.watch_thread = _WatchThread(self.watch) if self.watch.active else None

    # The callbacks, on the watcher thread: emit only (the connections queue the calls).

    def _card_present(self, card: CardHandle) -> None:
        self.card_present.emit(card)

    def _reader_problem(self, exc: TransportError) -> None:
        self.reader_problem.emit(exc)

    # The timings live on the drivers watcher; these let callers set them here as before.

    @property
    def poll_s(self) -> float:
        return self.watch.poll_s

    @poll_s.setter
    def poll_s(self, value: float) -> None:
        self.watch.poll_s = value

    @property
    def retry_s(self) -> float:
        return self.watch.retry_s

    @retry_s.setter
    def retry_s(self, value: float) -> None:
        self.watch.retry_s = value

    @property
    def nfc_release_s(self) -> float:
        return self.watch.nfc_release_s

    @nfc_release_s.setter
    def nfc_release_s(self, value: float) -> None:
        self.watch.nfc_release_s = value

    @property
    def nfc_hold_s(self) -> float:
        return self.watch.nfc_hold_s

    @nfc_hold_s.setter
    def nfc_hold_s(self, value: float) -> None:
        self.watch.nfc_hold_s = value

    @property
    def active(self) -> bool:
        """Whether this watcher watches anything (False for ``sim:`` readers)."""
        return self.watch.active

    def start(self) -> None:
        """Start watching (no-op for ``sim:`` readers or when already running)."""
        self.watch.start()

    def stop(self, timeout_ms: int = 10000) -> None:
        """Stop watching and wait for the thread (the open card, if any, is retired)."""
        self.watch.stop(timeout_ms / 1000)
