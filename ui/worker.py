"""The check-in worker: a QObject on its own QThread that runs the :class:`kiosk.app.Kiosk`.

Card I/O, the journal and HTTP all happen on the worker thread, so the GUI thread never
blocks; the kiosk's storage is opened there, on first use. The window sends requests with
:meth:`WorkerHandle.read_card` / :meth:`WorkerHandle.checkin_bhyt` and receives ``progress``
(:class:`CheckInEvent`), ``outcome`` (:class:`CheckInOutcome`) and ``failed`` (the
:class:`kiosk.app.messages.UserMessage` of the error: what happened and what to do next) as
queued signals. With several departments a check-in comes back pending (nothing journaled)
as ``choose`` ``(outcome, options)``; :meth:`WorkerHandle.assign` then takes its number in the
chosen department, answered by ``outcome`` (and the ticket). :meth:`WorkerHandle.stop`
closes the kiosk on the worker thread, then quits the thread and waits for it. Log records
carry no personal data.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import QObject, QThread, Signal, Slot

from kiosk.app.kiosk import Kiosk
from kiosk.app.messages import UserMessage, message_for
from kiosk.cccd.access import AccessKey, CCCDQRData
from kiosk.checkin import CheckInEvent, CheckInOutcome
from kiosk.transport import Transport

log = logging.getLogger(__name__)


def offer(kiosk: Kiosk, outcome: CheckInOutcome) -> tuple[object, object]:
    """A pending outcome and what the department choice offers (``choose``'s arguments);
    the rules of self-check (reception lets staff press every button)."""
    return outcome, kiosk.department_options(outcome, self_check=True)


def print_ticket_for(kiosk: Kiosk, checkin_id: str, *, reprint: bool = False) -> str | UserMessage:
    """Print the check-in's ticket on the kiosk's printer (``reprint``: again, audited):
    ``printed``, or the problem's message (the check-in is journaled whatever the printer
    does)."""
    problem = kiosk.try_print_ticket(checkin_id, reprint=reprint)
    return "printed" if problem is None else message_for(problem)


class CheckInWorker(QObject):
    """Runs one check-in at a time on the thread it lives in (see the module docstring).
    With a ticket printer configured, ``ticket`` answers each :meth:`print_ticket` the window
    sends for a result it shows: ``printed`` or the printer problem's :class:`UserMessage`."""

    progress = Signal(object)
    outcome = Signal(object)
    failed = Signal(object)
    ticket = Signal(object)
    choose = Signal(object, object)

    def __init__(self, kiosk: Kiosk) -> None:
        super().__init__()
        self.kiosk = kiosk
        kiosk.on_event = self._on_event

    def _on_event(self, ev: CheckInEvent) -> None:
        self.progress.emit(ev)

    def fail(self, what: str, exc: BaseException) -> None:
        """Report ``exc`` (logged by class name only) as its user message."""
        log.warning("%s failed: %s", what, type(exc).__name__)
        self.failed.emit(message_for(exc))

    @Slot(object, object, bool, object)
    def read_card(self, source: object, keys: object, photo: bool, known: object) -> None:
        """Check in the card on ``source`` (a Transport), or on the configured reader (None);
        ``photo`` False skips DG2, ``known`` is the CCCD QR the key came from."""
        try:
            assert isinstance(keys, Sequence)
            key_list: list[AccessKey] = list(keys)
            transport = source if source is not None else None
            report = self.kiosk.checkin_card(
                key_list,
                transport=transport,  # type: ignore[arg-type]
                choose_later=True,
                read_photo=photo,
                known=known,  # type: ignore[arg-type]
            )
        except Exception as exc:
            self.fail("check-in", exc)
            return
        self._done(report.outcome)

    def _done(self, outcome: CheckInOutcome) -> None:
        if outcome.is_pending:  # several departments: the patient chooses first
            try:
                self.choose.emit(*offer(self.kiosk, outcome))
            except Exception as exc:
                self.fail("department options", exc)
            return
        # No ticket from here: the window asks for it (:meth:`print_ticket`) once it shows the
        # result — a patient who took the card away during the look-up gets none.
        self.outcome.emit(outcome)

    @Slot(str)
    def print_ticket(self, checkin_id: str) -> None:
        """Print the ticket of the check-in the window shows; ``ticket`` gives the answer."""
        self.ticket.emit(print_ticket_for(self.kiosk, checkin_id))

    @Slot(str)
    def checkin_bhyt(self, text: str) -> None:
        """Check in with a BHYT card QR (not chip-verified)."""
        try:
            report = self.kiosk.checkin_bhyt(text, choose_later=True)
        except Exception as exc:
            self.fail("BHYT QR check-in", exc)
            return
        self._done(report.outcome)

    @Slot(object, str)
    def assign(self, outcome: object, code: str) -> None:
        """Take the pending check-in's number in department ``code``, then print."""
        try:
            assert isinstance(outcome, CheckInOutcome)
            report = self.kiosk.assign_number(outcome, code)
        except Exception as exc:
            self.fail("queue number", exc)
            return
        self._done(report.outcome)

    @Slot()
    def close(self) -> None:
        """Close the kiosk: pipeline, storage, backend, demo gateway (on the worker thread)."""
        try:
            self.kiosk.close()
        except Exception as exc:
            log.warning("close failed: %s", type(exc).__name__)


class _Requests(QObject):
    """GUI-thread side of the queued connections into the worker."""

    read_card = Signal(object, object, bool, object)
    checkin_bhyt = Signal(str)
    assign = Signal(object, str)
    print_ticket = Signal(str)
    close = Signal()


class WorkerHandle:
    """Owns the worker thread: start it, send requests, stop it (quit + wait)."""

    def __init__(self, kiosk: Kiosk) -> None:
        self.thread = QThread()
        self.thread.setObjectName("checkin-worker")
        self.worker = CheckInWorker(kiosk)
        self.worker.moveToThread(self.thread)
        self._requests = _Requests()
        self._requests.read_card.connect(self.worker.read_card)
        self._requests.checkin_bhyt.connect(self.worker.checkin_bhyt)
        self._requests.assign.connect(self.worker.assign)
        self._requests.print_ticket.connect(self.worker.print_ticket)
        self._requests.close.connect(self.worker.close)
        self.thread.start()

    def read_card(
        self,
        source: Transport | None,
        keys: Sequence[AccessKey],
        *,
        photo: bool = True,
        known: CCCDQRData | None = None,
    ) -> None:
        """Queue a card check-in (``source`` None: the configured reader)."""
        self._requests.read_card.emit(source, tuple(keys), photo, known)

    def checkin_bhyt(self, text: str) -> None:
        """Queue a BHYT QR check-in."""
        self._requests.checkin_bhyt.emit(text)

    def assign(self, outcome: CheckInOutcome, code: str) -> None:
        """Queue taking a pending check-in's number in department ``code``."""
        self._requests.assign.emit(outcome, code)

    def print_ticket(self, checkin_id: str) -> None:
        """Queue the printing of a shown check-in's ticket (after any running check-in)."""
        self._requests.print_ticket.emit(checkin_id)

    def stop(self, timeout_ms: int = 30000) -> None:
        """Close the kiosk after any running check-in, quit and wait."""
        if not self.thread.isRunning():
            return
        self._requests.close.emit()
        self.thread.quit()
        self.thread.wait(timeout_ms)
