"""What a fleet operator counts on each kiosk: check-ins, answers, errors, backlog.

:class:`KioskMetrics` holds its own ``prometheus_client`` :class:`CollectorRegistry` (never the
process-global one, so two kiosks in one process — tests — never share counters). The
application layer feeds it: :class:`kiosk.app.kiosk.Kiosk` records every check-in's method,
outcome and tap→answer time, reader failures and removals mid-read, the printer's state and
the last successful Passive Authentication per trust source; :class:`CountingBackend` wraps the
eligibility client to count gateway errors by class. What changes on its own (the outbox
backlog and its oldest pending check-in, the circuit breaker) is read at scrape time.

**No personal data, ever**: every label value comes from a closed set (methods, statuses,
sources, breaker and printer states) or is an exception class name or a CSCA's common name
and trust-source kind — never an ID, a name, a date of birth or an address.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

    from kiosk.checkin import CheckInOutcome
    from kiosk.eligibility.base import EligibilityBackend

log = logging.getLogger(__name__)

#: Seconds from the tap (or the typed entry) to the insurance answer on screen.
LATENCY_BUCKETS = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 20.0, 30.0)
METHODS = ("chip", "bhyt_qr", "manual")
BREAKER_STATES = ("closed", "open", "half_open")
PRINTER_STATES = ("ok", "paper_low", "paper_out", "cover_open", "offline", "error")
#: A label value we made ourselves: letters, digits, and a few separators; anything else is
#: replaced (a CSCA name is ASCII in practice; this keeps a stray one harmless).
_LABEL = re.compile(r"[^A-Za-z0-9 ._-]")


def safe_label(text: str, limit: int = 64) -> str:
    """``text`` reduced to a short label value of safe characters."""
    return _LABEL.sub("_", text)[:limit] or "unknown"


class KioskMetrics:
    """The kiosk's metrics (see the module docstring). Thread-safe: the pipeline's worker, the
    Qt worker and the status server's threads all touch it."""

    def __init__(self, journal_db: Path | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.journal_db = journal_db
        #: On a shared database: (whether it answers, check-ins in this kiosk's spool, the
        #: server's pending outbox rows or None) — see :meth:`watch_shared`.
        self._shared: Callable[[], tuple[bool, int, int | None] | None] = lambda: None
        self.started_at = time.time()
        r = self.registry
        self.checkins = Counter(
            "cccd_kiosk_checkins",
            "Check-ins by method and outcome (eligible, not_eligible, unknown, error)",
            ["method", "outcome"],
            registry=r,
        )
        self.latency = Histogram(
            "cccd_kiosk_checkin_latency_seconds",
            "Tap (or entry) to the insurance answer, by method",
            ["method"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.eligibility = Counter(
            "cccd_kiosk_eligibility_answers",
            "Eligibility answers by source: live (the gateway), cache, unknown (ask staff)",
            ["source"],
            registry=r,
        )
        self.gateway_errors = Counter(
            "cccd_kiosk_gateway_errors",
            "Eligibility look-ups that got no answer, by error class",
            ["error"],
            registry=r,
        )
        self.reader_errors = Counter(
            "cccd_kiosk_reader_errors",
            "Card reads that failed, by error class",
            ["error"],
            registry=r,
        )
        self.removals = Counter(
            "cccd_kiosk_card_removed_mid_read",
            "Cards taken off the reader before the read ended",
            registry=r,
        )
        self.printer = Gauge(
            "cccd_kiosk_printer_state",
            "The ticket printer's state at its last use (1 = the current state)",
            ["state"],
            registry=r,
        )
        self.last_pa = Gauge(
            "cccd_kiosk_last_passive_auth_success_timestamp_seconds",
            "When a card last verified (Passive Authentication), per trust source and CSCA",
            ["source", "csca"],
            registry=r,
        )
        self._lock = threading.Lock()
        self._last: dict[str, Any] = {"checkin_at": None, "printer": None}
        self._breaker: Callable[[], str | None] = lambda: None
        r.register(_ScrapeTime(self))
        for m in METHODS:  # zero series exist from the start: rates need a first sample
            self.latency.labels(m)
        for s in ("live", "cache", "unknown"):
            self.eligibility.labels(s)

    # ---- fed by the application layer ----------------------------------------------------

    def watch_breaker(self, backend: object) -> None:
        """Read the circuit breaker of ``backend`` (if it has one) at every scrape."""
        breaker = getattr(backend, "breaker", None)
        if breaker is None:
            inner = getattr(backend, "inner", None)
            breaker = getattr(inner, "breaker", None)
        if breaker is not None:
            self._breaker = lambda: str(breaker.state)

    def checkin_done(self, outcome: CheckInOutcome, seconds: float) -> None:
        """One check-in that reached its answer."""
        method = outcome.method
        result = outcome.eligibility
        self.checkins.labels(method, result.status).inc()
        self.latency.labels(method).observe(max(0.0, seconds))
        source = "unknown" if result.code is None and result.status == "unknown" else "live"
        if result.source == "cache":
            source = "cache"
        self.eligibility.labels(source).inc()
        auth = outcome.authenticity
        pa = auth.passive_auth if auth is not None else None
        if pa is not None and pa.verdict == "verified":
            info = pa.csca_info
            kind = info.source.kind if info is not None and info.source is not None else "unknown"
            cn = (info.common_name or info.country or "") if info is not None else ""
            self.last_pa.labels(safe_label(str(kind)), safe_label(cn)).set(time.time())
        with self._lock:
            self._last["checkin_at"] = time.time()

    def checkin_failed(self, method: str, exc: BaseException) -> None:
        """A check-in that ended in an error (the card, the reader, the storage)."""
        from kiosk.transport import CardRemoved, TransportError

        self.checkins.labels(method, "error").inc()
        if isinstance(exc, CardRemoved):
            self.removals.inc()
        elif isinstance(exc, TransportError):
            self.reader_errors.labels(type(exc).__name__).inc()

    def gateway_failed(self, exc: BaseException) -> None:
        self.gateway_errors.labels(type(exc).__name__).inc()

    def printer_state(self, state: str) -> None:
        """The printer's state after a print (one of :data:`PRINTER_STATES`)."""
        for s in PRINTER_STATES:
            self.printer.labels(s).set(1.0 if s == state else 0.0)
        with self._lock:
            self._last["printer"] = state

    # ---- read at scrape time -----------------------------------------------------------

    def breaker_state(self) -> str | None:
        try:
            return self._breaker()
        except Exception:  # a scrape never fails over one reading
            return None

    def watch_shared(self, state: Callable[[], tuple[bool, int, int | None] | None]) -> None:
        """Read the shared database's state at scrape time (see ``_shared``)."""
        self._shared = state

    def shared(self) -> tuple[bool, int, int | None] | None:
        """The shared database's state now (None: the embedded files)."""
        try:
            return self._shared()
        except Exception:  # a scrape never fails over one reading
            return None

    def outbox(self) -> tuple[int, float | None] | None:
        """(pending check-ins, age in seconds of the oldest one), read from the journal file
        on a connection of its own (read-only); None when there is no journal to read. On a
        shared database: the whole hospital's pending rows plus this kiosk's spool (the
        age is not computed there)."""
        shared = self.shared()
        if shared is not None:
            _, spooled, pending = shared
            return (spooled + pending, None) if pending is not None else (spooled, None)
        path = self.journal_db
        if path is None or not path.exists():
            return None
        try:
            conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=1.0)
            try:
                row = conn.execute(
                    "SELECT COUNT(*), MIN(c.created_at) FROM outbox o "
                    "JOIN checkins c ON c.checkin_id = o.checkin_id WHERE o.state = 'pending'"
                ).fetchone()
            finally:
                conn.close()
        except sqlite3.Error as exc:
            log.warning("metrics: outbox not readable (%s)", type(exc).__name__)
            return None
        count, oldest = int(row[0]), row[1]
        age = None
        if oldest:
            from datetime import UTC, datetime

            try:
                at = datetime.fromisoformat(str(oldest))
                at = at if at.tzinfo else at.replace(tzinfo=UTC)
                age = max(0.0, (datetime.now(UTC) - at).total_seconds())
            except ValueError:
                age = None
        return count, age

    def scrape(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)

    def health(self) -> dict[str, Any]:
        """The JSON health view: counts and states, no personal data."""
        outbox = self.outbox()
        with self._lock:
            last = dict(self._last)
        total = {
            "eligible": 0.0,
            "not_eligible": 0.0,
            "unknown": 0.0,
            "error": 0.0,
        }
        for metric in self.checkins.collect():
            for sample in metric.samples:
                if sample.name.endswith("_total"):
                    total[sample.labels["outcome"]] = (
                        total.get(sample.labels["outcome"], 0.0) + sample.value
                    )
        breaker = self.breaker_state()
        ok = breaker != "open" and last["printer"] in (None, "ok", "paper_low")
        return {
            "ok": ok,
            "uptime_s": round(time.time() - self.started_at, 1),
            "checkins": {k: int(v) for k, v in total.items()},
            "last_checkin_age_s": (
                None if last["checkin_at"] is None else round(time.time() - last["checkin_at"], 1)
            ),
            "gateway_breaker": breaker,
            "outbox_pending": outbox[0] if outbox else None,
            "outbox_oldest_pending_s": (
                round(outbox[1], 1) if outbox and outbox[1] is not None else None
            ),
            "printer": last["printer"],
            "shared_database": self._shared_health(),
        }

    def _shared_health(self) -> dict[str, Any] | None:
        shared = self.shared()
        if shared is None:
            return None
        return {"online": shared[0], "spool_waiting": shared[1]}


class _ScrapeTime(Collector):
    """The gauges computed when Prometheus asks: breaker state and the outbox."""

    def __init__(self, metrics: KioskMetrics) -> None:
        self.metrics = metrics

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        state = self.metrics.breaker_state()
        breaker = GaugeMetricFamily(
            "cccd_kiosk_gateway_breaker_state",
            "The gateway circuit breaker (1 = the current state)",
            labels=["state"],
        )
        if state is not None:
            for s in BREAKER_STATES:
                breaker.add_metric([s], 1.0 if s == state else 0.0)
        yield breaker
        shared = self.metrics.shared()
        if shared is not None:
            yield GaugeMetricFamily(
                "cccd_kiosk_shared_database_up",
                "Whether the hospital's shared database answers (0: checking in to the spool)",
                value=1.0 if shared[0] else 0.0,
            )
            yield GaugeMetricFamily(
                "cccd_kiosk_spool_waiting",
                "Check-ins in this kiosk's offline spool waiting for the shared database",
                value=float(shared[1]),
            )
        outbox = self.metrics.outbox()
        if outbox is not None:
            yield GaugeMetricFamily(
                "cccd_kiosk_outbox_pending",
                "Check-ins waiting to be delivered to the HIS",
                value=float(outbox[0]),
            )
            yield GaugeMetricFamily(
                "cccd_kiosk_outbox_oldest_pending_seconds",
                "Age of the oldest check-in waiting for the HIS (0: none waiting)",
                value=float(outbox[1] or 0.0),
            )


class CountingBackend:
    """An eligibility backend that counts the errors of the one it wraps (``inner``); every
    other attribute (``probe``, ``close``, ``breaker``) is the inner one's."""

    def __init__(self, inner: EligibilityBackend, metrics: KioskMetrics) -> None:
        self.inner = inner
        self.metrics = metrics

    def check(self, person: Any) -> Any:
        try:
            return self.inner.check(person)
        except Exception as exc:
            self.metrics.gateway_failed(exc)
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def printer_state_of(problem: BaseException | None, paper: str | None = None) -> str:
    """The :data:`PRINTER_STATES` word for a print's outcome."""
    if problem is None:
        return "paper_low" if paper == "low" else "ok"
    name = type(problem).__name__
    return {"PaperOut": "paper_out", "CoverOpen": "cover_open", "PrinterOffline": "offline"}.get(
        name, "error"
    )


__all__ = ["CountingBackend", "KioskMetrics", "printer_state_of", "safe_label"]
