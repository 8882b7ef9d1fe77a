"""The check-in worker: a QObject on its own QThread that runs :class:`CheckInPipeline`.

Card I/O, the journal and HTTP all happen on the worker thread, so the GUI thread never
blocks. The window sends requests with :meth:`WorkerHandle.read_card` /
:meth:`WorkerHandle.checkin_bhyt` and receives ``progress`` (:class:`CheckInEvent`), ``outcome``
(:class:`CheckInOutcome`) and ``failed`` (an ``error.*`` kind from :func:`ui.state.error_kind`)
as queued signals. :meth:`WorkerHandle.stop` closes the pipeline, cache and journal on the
worker thread, then quits the thread and waits for it. Log records carry no personal data.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from kiosk.cccd.access import AccessKey
from kiosk.checkin import CheckInEvent, CheckInPipeline
from kiosk.config import Config
from kiosk.eligibility.base import EligibilityBackend
from kiosk.emrtd.trust import TrustStore
from kiosk.transport import Transport
from ui.state import error_kind

log = logging.getLogger(__name__)

CACHE_DB = "cache.db"
JOURNAL_DB = "journal.db"


@dataclass
class Services:
    """What the pipeline is built from; the storage is opened on the worker thread."""

    data_dir: Path
    config: Config = field(default_factory=Config)
    backend: EligibilityBackend | None = None
    trust: TrustStore | None = None


class CheckInWorker(QObject):
    """Runs one check-in at a time on the thread it lives in (see the module docstring)."""

    progress = Signal(object)
    outcome = Signal(object)
    failed = Signal(str)

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self._pipeline: CheckInPipeline | None = None
        self._closers: list[Any] = []

    def _ensure(self) -> CheckInPipeline:
        if self._pipeline is None:
            from offline_cache.cache import EligibilityCache
            from offline_cache.crypto import Sealer, load_or_create_key
            from offline_cache.journal import Journal

            s = self.services
            s.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            sealer = Sealer(load_or_create_key(s.data_dir))
            storage = s.config.storage
            cache = EligibilityCache(
                s.data_dir / CACHE_DB,
                sealer,
                ttl=timedelta(hours=storage.cache_ttl_hours),
                max_stale=timedelta(days=storage.max_stale_days),
            )
            journal = Journal(s.data_dir / JOURNAL_DB, sealer)
            self._closers = [cache, journal]
            self._pipeline = CheckInPipeline(
                s.backend,
                cache,
                journal,
                trust=s.trust,
                on_event=self._on_event,
                eligibility_timeout=s.config.gateway.timeout_s + 1.0,
            )
        return self._pipeline

    def _on_event(self, ev: CheckInEvent) -> None:
        self.progress.emit(ev)

    @Slot(object, object)
    def read_card(self, source: object, keys: object) -> None:
        """Read the card in ``source`` (a Transport, or a reader name to open) with ``keys``."""
        transport: Transport | None = None
        try:
            pipeline = self._ensure()
            if isinstance(source, str):
                from drivers.registry import open_transport

                transport = open_transport(source)
            else:
                transport = source  # type: ignore[assignment]
            assert transport is not None
            assert isinstance(keys, Sequence)
            key_list: list[AccessKey] = list(keys)
            out = pipeline.checkin_card(transport, key_list)
        except Exception as exc:
            log.warning("check-in failed: %s", type(exc).__name__)
            self.failed.emit(error_kind(exc))
            return
        finally:
            if transport is not None and isinstance(source, str):
                transport.close()
        self.outcome.emit(out)

    @Slot(str)
    def checkin_bhyt(self, text: str) -> None:
        """Check in with a BHYT card QR (not chip-verified)."""
        try:
            out = self._ensure().checkin_bhyt_qr(text)
        except Exception as exc:
            log.warning("BHYT QR check-in failed: %s", type(exc).__name__)
            self.failed.emit(error_kind(exc))
            return
        self.outcome.emit(out)

    @Slot()
    def close(self) -> None:
        """Close the pipeline, the storage and the backend (on the worker thread)."""
        if self._pipeline is not None:
            self._pipeline.close()
            self._pipeline = None
        for c in [*self._closers, self.services.backend]:
            closer = getattr(c, "close", None)
            if closer is not None:
                try:
                    closer()
                except Exception as exc:
                    log.warning("close failed: %s", type(exc).__name__)
        self._closers = []


class _Requests(QObject):
    """GUI-thread side of the queued connections into the worker."""

    read_card = Signal(object, object)
    checkin_bhyt = Signal(str)
    close = Signal()


class WorkerHandle:
    """Owns the worker thread: start it, send requests, stop it (quit + wait)."""

    def __init__(self, services: Services) -> None:
        self.thread = QThread()
        self.thread.setObjectName("checkin-worker")
        self.worker = CheckInWorker(services)
        self.worker.moveToThread(self.thread)
        self._requests = _Requests()
        self._requests.read_card.connect(self.worker.read_card)
        self._requests.checkin_bhyt.connect(self.worker.checkin_bhyt)
        self._requests.close.connect(self.worker.close)
        self.thread.start()

    def read_card(self, source: Transport | str, keys: Sequence[AccessKey]) -> None:
        """Queue a card check-in."""
        self._requests.read_card.emit(source, tuple(keys))

    def checkin_bhyt(self, text: str) -> None:
        """Queue a BHYT QR check-in."""
        self._requests.checkin_bhyt.emit(text)

    def stop(self, timeout_ms: int = 30000) -> None:
        """Close the worker's resources after any running check-in, quit and wait."""
        if not self.thread.isRunning():
            return
        self._requests.close.emit()
        self.thread.quit()
        self.thread.wait(timeout_ms)
