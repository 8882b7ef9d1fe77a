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
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.app import settings as settings_mod
from kiosk.app.errors import NoCard, UsageError
from kiosk.app.reports import CheckInReport, ReadReport
from kiosk.app.settings import Settings
from kiosk.app.storage import Storage, has_journal
from kiosk.checkin import CheckInEvent, CheckInPipeline
from kiosk.emrtd.passwords import AccessKey
from kiosk.emrtd.session import AccessMode, ReaderSession
from kiosk.emrtd.trust import TrustStore
from kiosk.transport import CardRemoved, Transport, TransportTimeout

if TYPE_CHECKING:
    from kiosk.app.demo import DemoGateway
    from kiosk.eligibility.base import EligibilityBackend
    from offline_cache.outbox import DrainReport

log = logging.getLogger(__name__)

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
    demo uses it when no ``[gateway] url`` is configured. ``sim_options`` go to the simulated
    reader (its link model). ``backend`` replaces the configured eligibility client (tests,
    benchmarks). ``on_event`` receives the pipeline's progress events.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        demo_gateway: bool | None = None,
        sim_options: dict[str, Any] | None = None,
        backend: EligibilityBackend | None = None,
        on_event: Callable[[CheckInEvent], None] | None = None,
    ) -> None:
        self.settings = settings
        self.config = settings.config
        self.demo = settings.demo
        self.reader = str(self.config.reader.spec)
        self.data_dir = settings_mod.data_folder(settings)
        self.sim_options = dict(sim_options or {})
        self.on_event = on_event
        paths = list(self.config.trust.paths)
        self.trust = load_trust_store(
            paths, demo=self.demo and not paths, origin=settings.trust_origin
        )
        self.gateway: DemoGateway | None = None
        use_demo_gateway = demo_gateway
        if use_demo_gateway is None:
            use_demo_gateway = self.demo and not self.config.gateway.url and backend is None
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
        self._storage: Storage | None = None
        self._pipeline: CheckInPipeline | None = None

    @classmethod
    def from_config_file(cls, path: Path | None, **kwargs: Any) -> Kiosk:
        """The kiosk of the file at ``path`` (None: the embedded default), no overrides."""
        return cls(settings_mod.resolve(path), **kwargs)

    # ---- the parts -------------------------------------------------------------------------

    @property
    def storage(self) -> Storage:
        """The cache and journal, opened on first use (on the calling thread)."""
        if self._storage is None:
            self._storage = Storage.open(self.data_dir, self.config.storage)
        return self._storage

    @property
    def has_journal(self) -> bool:
        """Whether the data folder already holds a journal (read-only commands need one)."""
        return self._storage is not None or has_journal(self.data_dir)

    @property
    def pipeline(self) -> CheckInPipeline:
        """The check-in pipeline over this kiosk's backend, storage and trust."""
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

    def checkin_card(
        self, keys: Sequence[AccessKey], *, transport: Transport | None = None
    ) -> CheckInReport:
        """Check in the card on ``transport`` (a tapped card) or on the configured reader."""
        own = transport is None
        pipeline = self.pipeline  # storage problems before the card is touched
        t = self.open_reader() if transport is None else transport
        try:
            out = pipeline.checkin_card(t, keys)
            return CheckInReport(out, _modeled(t))
        finally:
            if own:
                t.close()

    def checkin_bhyt(self, text: str) -> CheckInReport:
        """Check in with the text of a BHYT card QR (not chip-verified)."""
        return CheckInReport(self.pipeline.checkin_bhyt_qr(text))

    def checkin_manual(self, id_number: str, full_name: str, date_of_birth: date) -> CheckInReport:
        """Check in a typed ID, name and birth date (reception; not chip-verified)."""
        return CheckInReport(self.pipeline.checkin_manual(id_number, full_name, date_of_birth))

    def today(self, search: str = "", day: date | None = None) -> list[dict[str, Any]]:
        """The day's check-ins (default: today, local time) whose name or ID contains
        ``search`` (diacritics ignored), as the export's rows."""
        from offline_cache.export import row, today

        records = self.storage.journal.search(day or today(), search)
        return [row(r) for r in records]

    def export_day(self, day: date, fmt: str = "csv") -> str:
        """The day's check-ins as CSV or JSON text."""
        from offline_cache.export import export_day

        if fmt not in ("csv", "json"):
            raise UsageError(f"--format: csv or json, not {fmt!r}")
        return export_day(self.storage.journal, day, fmt)  # type: ignore[arg-type]

    def write_export(self, path: Path, day: date) -> None:
        """Write the day's CSV to ``path`` (UTF-8 with a byte-order mark, so spreadsheets keep
        the diacritics), readable by the owner only."""
        text = self.export_day(day, "csv")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, "w", encoding="utf-8-sig", newline="") as f:
            f.write(text)

    def drain_outbox(self, url: str | None = None, fmt: str | None = None) -> DrainReport:
        """Send the journal's waiting check-ins to the HIS once (``[his]`` by default)."""
        from offline_cache.outbox import Outbox

        his = self.config.his
        target = url or his.url
        if not target:
            raise UsageError("no HIS address: give --url or set [his] url in the config file")
        outbox = Outbox(
            self.data_dir / "journal.db",
            self.storage.sealer,
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

    def deliver_pending(self) -> None:
        """Best effort after a check-in: hand waiting check-ins to ``[his] url`` when set.
        Whatever the HIS does not take now waits in the outbox; a check-in is never lost
        over the HIS."""
        if not self.config.his.url:
            return
        try:
            self.drain_outbox()
        except Exception as exc:
            log.warning("HIS delivery postponed: %s", type(exc).__name__)

    # ---- life cycle ----------------------------------------------------------------------

    def close(self) -> None:
        """Close the pipeline, the storage, the backend and the demo gateway."""
        if self._pipeline is not None:
            self._pipeline.close()
            self._pipeline = None
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

    def __enter__(self) -> Kiosk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _modeled(transport: Transport) -> float | None:
    modeled = getattr(transport, "modeled_seconds", None)
    return float(modeled) if modeled is not None else None
