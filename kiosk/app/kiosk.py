"""The kiosk, built once from its settings: what every front-end uses.

:class:`Kiosk` holds the data folder, the demo decision, the trust store, the reader, the
eligibility backend, the storage, the HIS outbox and the check-in pipeline. The command line,
the terminal kiosk and the Qt kiosk each build one (``Kiosk(settings)``) and then only parse
their input and present the results; none of them opens a reader, a database or a gateway
client itself.

Construction checks everything a user can get wrong before any patient arrives: the trust
paths (:class:`kiosk.app.errors.UsageError` naming ``--trust`` or ``[trust] paths``), the
gateway's credentials (:class:`kiosk.eligibility.errors.ConfigurationError`). The storage is
opened on first use, on the thread that uses it (SQLite connections belong to their thread;
the Qt kiosk uses the kiosk from its worker thread only).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from kiosk.app import settings as settings_mod
from kiosk.app.audit import AuditLog, os_actor
from kiosk.app.departments import DepartmentOption, department_options
from kiosk.app.errors import NoCard, UsageError
from kiosk.app.metrics import CountingBackend, KioskMetrics, printer_state_of
from kiosk.app.pinned import pinned_paths
from kiosk.app.reports import CheckInReport, ReadReport
from kiosk.app.settings import Settings
from kiosk.app.storage import JOURNAL_DB, Connection, Storage, has_journal
from kiosk.cccd.access import CCCDQRData
from kiosk.checkin import (
    CHOOSE_LATER,
    ONE_QUEUE,
    CheckInEvent,
    CheckInOutcome,
    CheckInPipeline,
    Queue,
)
from kiosk.config import Department
from kiosk.eligibility.base import Person
from kiosk.emrtd.passwords import AccessKey
from kiosk.emrtd.session import AccessMode, ReaderSession
from kiosk.emrtd.trust import TrustStore
from kiosk.ticket import Ticket
from kiosk.transport import CardRemoved, Transport, TransportTimeout
from offline_cache.crypto import StorageError, StorageUnreachable

if TYPE_CHECKING:
    from drivers.printer import PrinterStatus
    from kiosk.app.demo import DemoGateway
    from kiosk.app.status import StatusServer
    from kiosk.eligibility.base import EligibilityBackend
    from offline_cache.calls import CallBoard, Called
    from offline_cache.outbox import DrainReport
    from simulators.printer.escpos import EscposPrinter

log = logging.getLogger(__name__)


class PurgeReport(NamedTuple):
    """One retention purge: check-ins deleted, quarantined ones deleted, cached answers
    deleted, and quarantined check-ins still kept (younger than the retention)."""

    checkins: int
    quarantined: int
    cached: int
    quarantined_left: int


#: A kiosk left running applies retention again after this many seconds (a day).
PURGE_INTERVAL_S = 86_400.0

#: Bearer token for a FHIR eligibility server (optional; environment only).
FHIR_TOKEN_ENV = "CCCD_KIOSK_FHIR_TOKEN"
#: The HIS's bearer token for the outbox (environment only, never in the config file).
HIS_TOKEN_ENV = "CCCD_KIOSK_HIS_TOKEN"


def load_trust_store(paths: Sequence[str], *, demo: bool, origin: str) -> TrustStore | None:
    """A trust store of ``paths`` (certificates, master lists, CRLs, folders), plus the
    simulator's test CSCA when ``demo``; None when there is nothing to trust.

    A path that does not exist or does not parse raises :class:`UsageError` naming ``origin``
    (``--trust`` or ``[trust] paths in FILE``), not a flag the user did not type.
    """
    from kiosk.emrtd.certs import PassiveAuthError

    real: list[str | Path] = [p for p in paths if p != settings_mod.DEMO_TRUST]
    missing = [p for p in real if not Path(p).expanduser().exists()]
    if missing:
        raise UsageError(f"{origin}: {missing[0]}: no such file or folder")
    if demo or settings_mod.DEMO_TRUST in paths:
        from simulators.card.pki import demo_trust_paths

        real.extend(demo_trust_paths())
    if not real:
        return None
    try:
        return TrustStore.from_paths([Path(p).expanduser() for p in real])
    except PassiveAuthError as exc:
        raise UsageError(f"{origin}: {exc}") from exc


def make_backend(settings: Settings) -> EligibilityBackend | None:
    """The eligibility client of ``[gateway]`` (None when no URL is configured); credentials
    come from the environment (missing ones raise ``ConfigurationError``)."""
    gw = settings.config.gateway
    if not gw.url:
        return None
    if gw.kind == "fhir":
        from kiosk.eligibility.fhir import FhirEligibilityClient

        return FhirEligibilityClient(
            gw.url,
            token=os.environ.get(FHIR_TOKEN_ENV) or None,
            connect_timeout=gw.connect_timeout_s,
            total_timeout=gw.timeout_s,
            ca_bundle=gw.ca_bundle,
            allow_insecure_http=gw.allow_insecure_http,
        )
    from kiosk.eligibility.bhxh import BhxhClient, BhxhConfig

    options: dict[str, Any] = {
        "api_version": gw.api_version,
        "connect_timeout": gw.connect_timeout_s,
        "total_timeout": gw.timeout_s,
        "allow_insecure_http": gw.allow_insecure_http,
    }
    if gw.ca_bundle:
        options["ca_bundle"] = gw.ca_bundle
    return BhxhClient(BhxhConfig.from_env(gw.url, **options))


class Kiosk:
    """One kiosk (see the module docstring). Close it (or use ``with``) when done.

    ``demo_gateway`` forces the gateway simulator on (True) or off (False); by default the
    demo uses it when no ``[gateway] url`` is configured. ``link_kbps`` is the simulated
    reader's modeled bit rate (0: no latency model; None: the reader's default).
    ``backend`` replaces the configured eligibility client (tests, benchmarks). ``on_event``
    receives the pipeline's progress events. ``purge_at_start`` applies retention when the
    storage opens (:meth:`purge`; off for ``cccd-kiosk purge``, which reports what it
    deletes).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        demo_gateway: bool | None = None,
        link_kbps: int | None = None,
        backend: EligibilityBackend | None = None,
        on_event: Callable[[CheckInEvent], None] | None = None,
        purge_at_start: bool = True,
    ) -> None:
        self.settings = settings
        self.purge_at_start = purge_at_start
        #: Seconds between two retention purges of a kiosk left running (at check-in time).
        self.purge_interval_s = PURGE_INTERVAL_S
        self._purged_at: float | None = None
        self.config = settings.config
        self.demo = settings.demo
        self.reader = str(self.config.reader.spec)
        self.data_dir = settings_mod.data_folder(settings)
        self.sim_options: dict[str, Any] = {}
        if link_kbps is not None:
            from drivers.simulated import LinkModel

            link = LinkModel.zero() if link_kbps == 0 else LinkModel.preset(link_kbps * 1000)
            self.sim_options["link"] = link
        self.on_event = on_event
        paths = list(self.config.trust.paths)
        # What the deployment pinned (`cccd-kiosk trust add`) is trusted by every front-end.
        pinned = pinned_paths(self.data_dir)
        self.trust = load_trust_store(
            [*paths, *pinned], demo=self.demo and not paths, origin=settings.trust_origin
        )
        self.gateway: DemoGateway | None = None
        use_demo_gateway = demo_gateway
        if use_demo_gateway is None:
            configured = bool(self.config.gateway.url) and (
                not settings.borrowed_demo or settings.gateway_flag
            )
            use_demo_gateway = self.demo and not configured and backend is None
        if backend is not None:
            self.backend: EligibilityBackend | None = backend
        elif use_demo_gateway:
            from kiosk.app.demo import DemoGateway

            self.gateway = DemoGateway()
            gw = self.config.gateway
            self.backend = self.gateway.client(
                timeout_s=gw.timeout_s, connect_timeout_s=gw.connect_timeout_s
            )
        else:
            self.backend = make_backend(settings)
        #: Counters and gauges for the status endpoint (:mod:`kiosk.app.metrics`).
        self.metrics = KioskMetrics(self.data_dir / JOURNAL_DB)
        self.metrics.watch_shared(self._shared_state)
        if self.backend is not None:
            self.metrics.watch_breaker(self.backend)
            self.backend = CountingBackend(self.backend, self.metrics)
        self._storage: Storage | None = None
        self._pipeline: CheckInPipeline | None = None
        #: The sample clinic's stand-in printer (``Settings.demo_printer``), else None.
        self.printer_standin: EscposPrinter | None = None
        if settings.demo_printer and self.demo and not self.config.printer.url:
            import dataclasses

            from kiosk.app.demo import start_demo_printer

            self.printer_standin = start_demo_printer()
            printer = dataclasses.replace(self.config.printer, url=self.printer_standin.url)
            self.config = dataclasses.replace(self.config, printer=printer)
        #: The clock open hours are judged by (tests set a fixed one).
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self._calls: CallBoard | None = None
        self._status: StatusServer | None = None
        #: Who the audit trail names for what this kiosk does (a front-end may set
        #: ``reception``); ``user:NAME`` of the OS account by default.
        self.actor = os_actor()
        self._audit: AuditLog | None = None
        self._audit_lock = threading.Lock()

    # ---- the parts -------------------------------------------------------------------------

    @property
    def storage(self) -> Storage:
        """The cache and journal, opened on first use (on the calling thread); retention is
        applied right after opening (:meth:`purge`), so a kiosk enforces it at every start."""
        if self._storage is None:
            # the demo never touches a shared database, whatever the environment names
            self._storage = Storage.open(
                self.data_dir,
                self.config.storage,
                allow_shared=not self.settings.demo,
                kiosk_name=self.desk,
            )
            if self.purge_at_start:
                self._purge_quietly()
        return self._storage

    def _purge_quietly(self) -> None:
        """Apply retention now, best effort: a storage problem postpones it (logged)."""
        self._purged_at = time.monotonic()
        try:
            self.purge()
        except StorageError as exc:  # retention can wait; the check-ins cannot
            log.warning("retention purge postponed (%s)", type(exc).__name__)

    def _purge_if_due(self) -> None:
        """A kiosk left running applies retention again every ``purge_interval_s`` (a day),
        checked when a check-in starts (monotonic time: a clock change does not matter)."""
        if not self.purge_at_start or self._storage is None:
            return
        if self._purged_at is None or time.monotonic() - self._purged_at >= self.purge_interval_s:
            self._purge_quietly()

    def purge(self, now: datetime | None = None) -> PurgeReport:
        """Apply retention: delete check-ins older than ``[storage] retention_days`` (local
        days) that the HIS has — or all of them when no ``[his] url`` is configured, as
        nothing will ever deliver them — quarantined ones past that age, and cached answers
        past ``max_stale_days``. ``now`` (aware) is for tests. Returns the counts."""
        from offline_cache.journal import VIETNAM_TZ

        at = now or datetime.now(UTC)
        store = self.storage
        before = at.astimezone(VIETNAM_TZ).date() - timedelta(
            days=self.config.storage.retention_days
        )
        count = store.journal.purge(before, undelivered=not self.config.his.url)
        cached = store.cache.purge(now=at)
        left = len(store.journal.quarantined())
        if left:
            log.warning("journal: %d quarantined check-ins kept until their retention ends", left)
        return PurgeReport(count.checkins, count.quarantined, cached, left)

    @property
    def cache_problem(self) -> str | None:
        """Why check-ins currently go on without a working eligibility cache (the storage
        error's class name, for staff), or None. A damaged cache is rebuilt by itself."""
        return self._storage.cache_problem if self._storage is not None else None

    @property
    def connection(self) -> Connection | None:
        """The shared database's state for staff (None: the embedded files, or the storage
        not open yet). Reads memory only, so a screen may ask every second."""
        from offline_cache.journal import VIETNAM_TZ

        storage = self._storage
        spooling = storage.spooling if storage is not None else None
        if spooling is None:
            return None
        since = spooling.offline_since
        return Connection(
            offline_since=since.astimezone(VIETNAM_TZ) if since is not None else None,
            waiting=spooling.pending,
            block=spooling.identity.block,
        )

    def _shared_state(self) -> tuple[bool, int, int | None] | None:
        """For the metrics: the shared database answers?, the spool's check-ins, the
        server's pending outbox rows (None: unknown)."""
        storage = self._storage
        spooling = storage.spooling if storage is not None else None
        if spooling is None:
            return None
        pending: int | None = None
        if spooling.online:
            try:
                pending = spooling.shared.outbox_counts()["pending"]
            except StorageError:
                pending = None
        return spooling.online, spooling.pending, pending

    @property
    def has_journal(self) -> bool:
        """Whether the data folder already holds a journal (read-only commands need one)."""
        return self._storage is not None or has_journal(self.data_dir, self.config.storage)

    @property
    def pipeline(self) -> CheckInPipeline:
        """The check-in pipeline over this kiosk's backend, storage and trust (retention is
        applied again first when a day has passed since the last purge)."""
        self._purge_if_due()
        if self._pipeline is None:
            store = self.storage
            self._pipeline = CheckInPipeline(
                self.backend,
                store.cache,
                store.journal,
                trust=self.trust,
                on_event=self._event,
                # The client gives up after its own budget; the pipeline waits a little longer.
                eligibility_timeout=self.config.gateway.timeout_s + 1.0,
            )
        return self._pipeline

    def _event(self, event: CheckInEvent) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def open_reader(self, card: str | None = None, *, wait_s: float = 0.0) -> Transport:
        """Open the configured reader (``card``: another sample card, demo only), waiting up
        to ``wait_s`` seconds for a card on a real reader (PC/SC or NFC).

        A reader with no card (after the wait) raises :class:`NoCard`; anything else the
        driver's ``TransportError`` (naming what to fix).
        """
        from drivers.registry import open_transport
        from kiosk.config import ReaderSpec

        name = self.reader
        if card is not None:
            if not self.demo:
                raise UsageError("sample cards exist only on the simulated reader (sim:)")
            name = f"sim:{card}"
        spec = ReaderSpec.parse(name)
        options: dict[str, Any] = dict(self.sim_options) if spec.kind == "sim" else {}
        try:
            if wait_s > 0 and spec.kind == "pcsc":
                from drivers.pcsc import wait_for_card

                wait_for_card(spec.name or None, timeout=wait_s)
            elif wait_s > 0 and spec.kind == "nfc":
                options["wait"] = wait_s
            return open_transport(name, **options)
        except (CardRemoved, TransportTimeout) as exc:
            raise NoCard(str(exc)) from exc

    # ---- what the front-ends ask -------------------------------------------------------------

    def read(
        self,
        keys: Sequence[AccessKey],
        *,
        access: AccessMode | str = AccessMode.AUTO,
        keep_log: bool = False,
        transport: Transport | None = None,
    ) -> tuple[ReadReport, ReaderSession]:
        """Read the card (with CA, AA and PA) on ``transport`` or the configured reader."""
        own = transport is None
        t = self.open_reader() if transport is None else transport
        try:
            session = ReaderSession(t, access=access, trust=self.trust, keep_log=keep_log)
            result = session.read(keys)
            return ReadReport(result, _modeled(t)), session
        finally:
            if own:
                t.close()

    # ---- departments -----------------------------------------------------------------------

    @property
    def departments(self) -> tuple[Department, ...]:
        """The configured departments (``[[departments]]``; empty: one queue for the clinic)."""
        return self.config.departments

    def department(self, code: str | None) -> Department | None:
        """The department a check-in takes its number in.

        ``code`` None: the only configured department, or None (the clinic's one queue) when
        there is none — with several, the front-end must ask (:attr:`needs_department`).
        An unknown code raises :class:`UsageError` naming the known ones.
        """
        if code is None:
            return self.departments[0] if len(self.departments) == 1 else None
        found = self.config.department(code)
        if found is None:
            known = ", ".join(d.code for d in self.departments) or "none configured"
            raise UsageError(
                f"no department {code!r} in the config's [[departments]] (known: {known})"
            )
        return found

    @property
    def needs_department(self) -> bool:
        """Whether a check-in must name its department (several are configured)."""
        return len(self.departments) > 1

    def _queue(
        self, code: str | None, choose_later: bool = False
    ) -> tuple[Queue | None, Department | None]:
        if code is None and choose_later and self.needs_department:
            return CHOOSE_LATER, None
        dept = self.department(code)
        return (Queue(dept.code, dept.room) if dept else ONE_QUEUE), dept

    def department_options(
        self, outcome: CheckInOutcome, *, self_check: bool
    ) -> tuple[DepartmentOption, ...]:
        """What the choice screen offers this patient now (:mod:`kiosk.app.departments`):
        every department, whether it is open, allowed, and the number the patient already
        has there today."""
        from offline_cache.journal import VIETNAM_TZ

        now = self.clock()
        number = outcome.holder.id_number if outcome.holder is not None else None
        existing = self.storage.journal.numbers_today(number, now=now) if number else {}
        return department_options(
            self.departments,
            outcome,
            self_check=self_check,
            at=now.astimezone(VIETNAM_TZ),
            existing=existing,
        )

    def assign_number(self, outcome: CheckInOutcome, code: str) -> CheckInReport:
        """Take the number of a pending check-in (read with ``choose_later``) in the
        department ``code``: journaled now, or the patient's existing number there today
        (``repeat``). Raises :class:`UsageError` for an unknown code or an outcome that
        already has its number."""
        dept = self.department(code)
        if dept is None or not outcome.is_pending:
            raise UsageError("this check-in has no department to choose")
        out = self.pipeline.assign(outcome, Queue(dept.code, dept.room))
        if out.method == "manual":
            self.audit("checkin.manual", target=out.checkin_id)
        return CheckInReport(out, None, dept)

    def checkin_card(
        self,
        keys: Sequence[AccessKey],
        *,
        transport: Transport | None = None,
        department: str | None = None,
        choose_later: bool = False,
        read_photo: bool = True,
        known: CCCDQRData | None = None,
    ) -> CheckInReport:
        """Check in the card on ``transport`` (a tapped card) or on the configured reader,
        taking a number in ``department`` (a code; see :meth:`department`).

        ``read_photo`` False skips the photo (self-check); ``known`` is the CCCD QR the key
        came from: the BHXH look-up starts from it before the chip is read.

        ``choose_later`` with several departments and none named: journal nothing yet — the
        outcome is pending until :meth:`assign_number` (the Qt kiosk asks the patient)."""
        queue, dept = self._queue(department, choose_later)
        own = transport is None
        pipeline = self.pipeline  # storage problems before the card is touched
        started = time.monotonic()
        try:
            t = self.open_reader() if transport is None else transport
        except Exception as exc:
            self.metrics.checkin_failed("chip", exc)
            raise
        try:
            person = (
                Person(known.id_number, known.full_name, known.date_of_birth, sex=known.sex)
                if known is not None
                else None
            )
            out = pipeline.checkin_card(t, keys, queue=queue, read_photo=read_photo, known=person)
            self.metrics.checkin_done(out, time.monotonic() - started)
            return CheckInReport(out, _modeled(t), dept)
        except Exception as exc:
            self.metrics.checkin_failed("chip", exc)
            raise
        finally:
            if own:
                t.close()

    def checkin_bhyt(
        self, text: str, *, department: str | None = None, choose_later: bool = False
    ) -> CheckInReport:
        """Check in with the text of a BHYT card QR (not chip-verified); ``choose_later`` as
        for :meth:`checkin_card`."""
        queue, dept = self._queue(department, choose_later)
        started = time.monotonic()
        try:
            out = self.pipeline.checkin_bhyt_qr(text, queue=queue)
        except Exception as exc:
            self.metrics.checkin_failed("bhyt_qr", exc)
            raise
        self.metrics.checkin_done(out, time.monotonic() - started)
        return CheckInReport(out, None, dept)

    def checkin_manual(
        self,
        id_number: str,
        full_name: str,
        date_of_birth: date,
        *,
        department: str | None = None,
        choose_later: bool = False,
    ) -> CheckInReport:
        """Check in a typed ID, name and birth date (reception; not chip-verified);
        ``choose_later`` as for :meth:`checkin_card`. Audited (``checkin.manual``) once it has
        its number: now, or when :meth:`assign_number` journals it."""
        queue, dept = self._queue(department, choose_later)
        started = time.monotonic()
        try:
            out = self.pipeline.checkin_manual(id_number, full_name, date_of_birth, queue=queue)
        except Exception as exc:
            self.metrics.checkin_failed("manual", exc)
            raise
        self.metrics.checkin_done(out, time.monotonic() - started)
        if not out.is_pending:
            self.audit("checkin.manual", target=out.checkin_id)
        return CheckInReport(out, None, dept)

    def today(self, search: str = "", day: date | None = None) -> list[dict[str, Any]]:
        """The day's check-ins (default: today, local time) whose name or ID contains
        ``search`` (diacritics ignored), as the export's rows plus ``call``: waiting, called,
        served or no_show."""
        from offline_cache.export import row, today

        d = day or today()
        records = self.storage.journal.search(d, search)
        connection = self.connection
        states: dict[tuple[str, int], str] = {}
        if connection is None or connection.online:
            try:
                states = dict(self.calls.states(d))
            except StorageUnreachable:  # the list still shows; calls resume with the server
                log.warning("call board unreachable: Today without call states")
        return [
            {**row(r), "call": states.get((r.department, r.queue_number), "waiting")}
            for r in records
        ]

    def quarantined(self) -> int:
        """How many check-ins are set aside because their sealed data does not open (an
        altered or damaged row): never delivered, exported or listed; staff must be told."""
        return len(self.storage.journal.quarantined())

    def export_day(self, day: date, fmt: str = "csv") -> str:
        """The day's check-ins as CSV or JSON text."""
        from offline_cache.export import export_day

        if fmt not in ("csv", "json"):
            raise UsageError(f"--format: csv or json, not {fmt!r}")
        text = export_day(self.storage.journal, day, fmt)  # type: ignore[arg-type]
        self.audit("export", target=day.isoformat(), format=fmt)
        return text

    def write_export(self, path: Path, day: date) -> None:
        """Write the day's CSV to ``path`` (UTF-8 with a byte-order mark, so spreadsheets keep
        the diacritics), readable by the owner only."""
        text = self.export_day(day, "csv")
        write_private_file(Path(path), text.encode("utf-8-sig"))

    def drain_outbox(self, url: str | None = None, fmt: str | None = None) -> DrainReport:
        """Send the journal's waiting check-ins to the HIS once (``[his]`` by default)."""
        from offline_cache.outbox import Outbox

        his = self.config.his
        target = url or his.url
        if not target:
            raise UsageError("no HIS address: give --url or set [his] url in the config file")
        if self.settings.borrowed_demo and not url:
            raise UsageError(
                "the demo (--reader sim:) on a real kiosk's configuration sends nothing to "
                "its HIS; give --url for a test HIS"
            )
        store = self.storage
        outbox = Outbox(
            # the shared database's journal as it is (any kiosk may drain: claims keep
            # them apart); the SQLite file on a connection of the outbox's own
            store.journal if store.is_shared else self.data_dir / "journal.db",
            store.sealer,
            url=target,
            payload_format=(fmt or his.format),  # type: ignore[arg-type]
            token=os.environ.get(HIS_TOKEN_ENV) or None,
            allow_insecure_http=his.allow_insecure_http,
            ca_bundle=his.ca_bundle,
            client_cert=his.client_cert,
            client_key=his.client_key,
        )
        try:
            return outbox.drain()
        finally:
            outbox.close()

    # ---- calling patients (desks and the calling display) ---------------------------------

    @property
    def calls(self) -> CallBoard:
        """The shared call board (in the journal's database: the SQLite file, or the shared
        PostgreSQL every desk and display uses), opened after the storage."""
        if self._calls is None:
            self._calls = self.storage.call_board()
        return self._calls

    @property
    def desk(self) -> str:
        """The name this desk calls numbers under: ``[display] desk``, else the host name."""
        import socket

        return self.config.display.desk or socket.gethostname() or "Quầy"

    def _call_queue(self, department: str | None) -> str:
        dept = self.department(department)
        return dept.code if dept else ""

    def call_next(self, department: str | None = None, *, day: date | None = None) -> Called | None:
        """Call the next waiting number of ``department`` (a code; None as in
        :meth:`department`) at this desk; this desk's previous call there becomes served.
        None: nobody is waiting."""
        return self.calls.call_next(day or local_today(), self._call_queue(department), self.desk)

    def recall(self, number: int, department: str | None = None) -> Called | None:
        """Announce ``number`` again (None: it is not currently called)."""
        return self.calls.recall(local_today(), self._call_queue(department), number)

    def mark_served(self, number: int, department: str | None = None) -> bool:
        """Close a called number as served (False: it was not called)."""
        return self.calls.mark_served(local_today(), self._call_queue(department), number)

    def mark_no_show(self, number: int, department: str | None = None) -> bool:
        """Close a called number as a no-show (False: it was not called)."""
        return self.calls.mark_no_show(local_today(), self._call_queue(department), number)

    def current_call(self, department: str | None = None) -> Called | None:
        """The number this desk has called in ``department`` and not closed yet."""
        return self.calls.current(local_today(), self._call_queue(department), self.desk)

    def board(self, day: date | None = None) -> dict[str, Any]:
        """The calling display's document for ``day`` (today): numbers, departments, rooms —
        no personal data (:func:`kiosk.app.calling.board_document`)."""
        from kiosk.app.calling import board_document

        display = self.config.display
        raw = self.calls.board(day or local_today(), next_count=display.next_count)
        return board_document(raw, self.departments)

    def board_version(self) -> str:
        """Changes whenever :meth:`board` could have changed (cheap: poll it)."""
        return self.calls.version()

    # ---- tickets ------------------------------------------------------------------------

    @property
    def prints_tickets(self) -> bool:
        """Whether a ticket printer is configured (``[printer] url``)."""
        return bool(self.config.printer.url)

    def decide_authenticity(self, checkin_id: str, *, accepted: bool) -> None:
        """Reception's decision on a check-in whose card failed its authenticity checks:
        ``accepted`` (the patient's papers were checked: the number stands, the ticket may
        print) or refused. Kept with the check-in (``authenticity.staff_decision`` in its
        sealed record: who, when, what) and in the audit trail (``auth.override`` /
        ``auth.refused``, the check-in id only). Raises :class:`UsageError` for an unknown id
        or a check-in whose card did not fail."""
        journal = self.storage.journal
        record = journal.get(checkin_id)
        if record is None:
            raise UsageError(f"no check-in {checkin_id!r} in the journal")
        auth = dict(record.authenticity or {})
        if record.method != "chip" or record.chip_verified or not auth:
            raise UsageError("only a check-in whose card failed its checks needs a decision")
        auth["staff_decision"] = {
            "decision": "accepted" if accepted else "refused",
            "by": self.actor,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        journal.attach_verification(checkin_id, chip_verified=False, authenticity=auth)
        self.audit("auth.override" if accepted else "auth.refused", target=checkin_id)

    def ticket_for(self, checkin_id: str) -> Ticket:
        """The ticket of a journaled check-in (its number, time and insurance answer)."""
        from offline_cache.journal import VIETNAM_TZ

        record = self.storage.journal.get(checkin_id)
        if record is None:
            raise UsageError(f"no check-in {checkin_id!r} in this kiosk's journal")
        status = (record.eligibility or {}).get("status", "unknown")
        dept = self.config.department(record.department) if record.department else None
        return Ticket(
            hospital=self.config.printer.hospital,
            queue_number=record.queue_number,
            checkin_id=record.checkin_id,
            issued_at=record.created_at.astimezone(VIETNAM_TZ),
            eligibility=status if status in ("eligible", "not_eligible") else "unknown",
            # the names as configured now; the code and room as journaled at check-in
            department_vi=dept.name_vi if dept else (record.department or None),
            department_en=(dept.name_en or None) if dept else None,
            room=record.room or None,
        )

    def print_ticket(self, checkin_id: str, *, reprint: bool = False) -> PrinterStatus | None:
        """Print (or, ``reprint``, print again — audited) the ticket of ``checkin_id`` on
        ``[printer] url``.

        Raises :class:`drivers.printer.PrinterError` (paper out, cover open, offline) — the
        check-in itself is journaled whatever the printer does.
        """
        from drivers.printer import print_ticket
        from kiosk.ticket.render import PAPER_58MM, PAPER_80MM, render

        printer = self.config.printer
        if not printer.url:
            raise UsageError("no ticket printer: set [printer] url in the config file")
        ticket = self.ticket_for(checkin_id)
        if reprint:
            self.audit("ticket.reprint", target=checkin_id)
        width = PAPER_58MM if printer.paper == "58mm" else PAPER_80MM
        page = render(ticket, width=width, qr=not printer.native_qr)
        try:
            status = print_ticket(
                printer.url,
                page,
                qr_data=ticket.checkin_id,
                native_qr=printer.native_qr,
                timeout=printer.timeout_s,
            )
        except Exception as exc:
            self.metrics.printer_state(printer_state_of(exc))
            raise
        self.metrics.printer_state(printer_state_of(None, status.paper if status else None))
        return status

    def try_print_ticket(self, checkin_id: str, *, reprint: bool = False) -> Exception | None:
        """:meth:`print_ticket`, with the printer's problem returned instead of raised (the
        front-ends show it; the check-in stands). None: printed."""
        from drivers.printer import PrinterError
        from kiosk.ticket import TicketError

        try:
            self.print_ticket(checkin_id, reprint=reprint)
        except (PrinterError, TicketError) as exc:
            log.warning("ticket not printed: %s", type(exc).__name__)
            return exc
        return None

    def deliver_pending(self) -> None:
        """Best effort after a check-in: hand waiting check-ins to ``[his] url`` when set.
        Whatever the HIS does not take now waits in the outbox; a check-in is never lost
        over the HIS."""
        if not self.config.his.url or self.settings.borrowed_demo:
            return
        try:
            self.drain_outbox()
        except Exception as exc:
            log.warning("HIS delivery postponed: %s", type(exc).__name__)

    # ---- the audit trail --------------------------------------------------------------------

    @property
    def audit_log(self) -> AuditLog:
        """The operator audit trail in the journal's file (opened on first use)."""
        with self._audit_lock:
            if self._audit is None:
                self._audit = AuditLog(self.data_dir / JOURNAL_DB, self.storage.sealer)
            return self._audit

    def audit(
        self, action: str, *, target: str = "", actor: str | None = None, **detail: Any
    ) -> None:
        """Record ``action`` (one of :data:`offline_cache.audit.ACTIONS`) by ``actor`` (default
        :attr:`actor`) on ``target`` (a check-in id, a setting), with ``detail`` (counts and
        settings values only). Never raises over storage: a row not written is logged."""
        try:
            self.audit_log.record(action, actor=actor or self.actor, target=target, detail=detail)
        except StorageError as exc:
            log.error("audit: %s not recorded (%s)", action, type(exc).__name__)

    # ---- life cycle ----------------------------------------------------------------------

    def serve_status(self, *, port: int | None = None) -> StatusServer | None:
        """Start the ``[status]`` endpoint over :attr:`metrics` (None when not configured; the
        kiosks call this once). A missing token raises ``ConfigValueError``; an address that
        cannot be bound is logged and the kiosk runs on without the endpoint."""
        from kiosk.app.status import start_status_server

        if self._status is None:
            try:
                self._status = start_status_server(self.metrics, self.config.status, port=port)
            except OSError as exc:
                log.error("status endpoint not started: %s", type(exc).__name__)
        return self._status

    def close(self) -> None:
        """Close the status endpoint, the pipeline, the storage, the backend and the demo
        gateway."""
        if self._status is not None:
            self._status.stop()
            self._status = None
        if self._audit is not None:
            self._audit.close()
            self._audit = None
        if self._pipeline is not None:
            self._pipeline.close()
            self._pipeline = None
        if self._calls is not None:
            self._calls.close()
            self._calls = None
        if self._storage is not None:
            self._storage.close()
            self._storage = None
        closer = getattr(self.backend, "close", None)
        if closer is not None:
            try:
                closer()
            except Exception as exc:
                log.warning("closing the eligibility client failed: %s", type(exc).__name__)
        if self.gateway is not None:
            self.gateway.stop()
        if self.printer_standin is not None:
            self.printer_standin.close()
            self.printer_standin = None

    def __enter__(self) -> Kiosk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def local_now() -> datetime:
    """Now in the journal's time zone (Vietnam): what the kiosk's clock shows."""
    from offline_cache.journal import VIETNAM_TZ

    return datetime.now(VIETNAM_TZ)


def local_today() -> date:
    """Today in the journal's time zone (Vietnam): the day queue numbers and exports count in."""
    from offline_cache.export import today

    return today()


def write_private_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (0600) without following a planted symlink.

    An existing symlink (or anything but a regular file) at ``path`` is refused
    (:class:`UsageError`). The data goes to a fresh temporary file in the same folder,
    created with ``O_EXCL | O_NOFOLLOW``, then renamed over ``path``: a rename replaces a
    symlink planted meanwhile instead of writing through it.
    """
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise UsageError(f"{path}: is a symbolic link or not a file; choose another name")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with open(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _modeled(transport: Transport) -> float | None:
    modeled = getattr(transport, "modeled_seconds", None)
    return float(modeled) if modeled is not None else None
