"""The doctor's checks for the settings screen, run off the GUI thread.

:class:`DoctorHandle` owns a ``QThread`` of its own (not the check-in worker's: a hung gateway
must not hold a patient's check-in, nor a check-in the report) with a :class:`DoctorJob` on
it. :meth:`DoctorHandle.run` queues one run of :func:`kiosk.app.doctor.run_checks` over the
running kiosk (its gateway, its storage); ``done(list[Check])`` arrives on the GUI thread.
Every check is bounded (:data:`UI_CHECK_TIMEOUT_S`), so a run ends even when a device hangs,
and stopping the thread waits at most that long.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QThread, Signal, Slot

from kiosk.app.doctor import run_checks
from kiosk.app.kiosk import Kiosk

log = logging.getLogger(__name__)

#: Seconds each check may take on the settings screen before it is shown as not answering.
UI_CHECK_TIMEOUT_S = 8.0


class DoctorJob(QObject):
    """Lives on the doctor thread: ``run`` → ``done(checks)``."""

    done = Signal(object)

    def __init__(self, kiosk: Kiosk, timeout_s: float) -> None:
        super().__init__()
        self.kiosk = kiosk
        self.timeout_s = timeout_s

    @Slot()
    def run(self) -> None:
        try:
            checks = run_checks(self.kiosk.settings, kiosk=self.kiosk, timeout_s=self.timeout_s)
        except Exception as exc:  # the report itself failed: an empty list says "try again"
            log.error("doctor run failed: %s", type(exc).__name__)
            checks = []
        self.done.emit(checks)


class _Requests(QObject):
    run = Signal()


class DoctorHandle:
    """Start the doctor thread, queue runs, stop it (quit + wait)."""

    def __init__(self, kiosk: Kiosk, timeout_s: float = UI_CHECK_TIMEOUT_S) -> None:
        self.thread = QThread()
        self.thread.setObjectName("doctor")
        self.job = DoctorJob(kiosk, timeout_s)
        self.job.moveToThread(self.thread)
        self._requests = _Requests()
        self._requests.run.connect(self.job.run)
        self.runs = 0
        self.thread.start()

    def run(self) -> None:
        """Queue one run of every check (runs queue up; each ends within the timeout)."""
        self.runs += 1
        self._requests.run.emit()

    def stop(self, timeout_ms: int = 15000) -> None:
        if not self.thread.isRunning():
            return
        self.thread.quit()
        self.thread.wait(timeout_ms)
