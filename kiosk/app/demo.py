"""The demo: sample cards on the simulated reader and the BHXH gateway simulator on loopback.

A kiosk is in the demo when its reader is ``sim:`` (:func:`kiosk.app.settings.is_demo`).
Then, unless the configuration names a gateway, every front-end asks a
:class:`DemoGateway` — the gateway simulator serving on 127.0.0.1 in a background thread,
with made-up credentials — so the embedded default works offline from the first run. The
tester panel and the terminal kiosk choose sample cards and faults through
:func:`sample_cards`, :func:`sample_keys` and :func:`tap_sample`.

This module and :mod:`drivers.simulated` are the only places outside ``simulators`` and the
tests that use the simulators (the layer test checks it).
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kiosk.cccd.access import CAN, AccessKey, MRZKey
from kiosk.config import Department

if TYPE_CHECKING:
    from drivers.simulated import SimulatedTransport
    from kiosk.eligibility.bhxh import BhxhClient
    from simulators.printer.escpos import EscposPrinter

#: The sample clinic's departments (``make run``): surgery keeps office hours, dentistry
#: takes BHYT patients at the desk only — so both rules of the choice show.
SAMPLE_DEPARTMENTS = (
    Department("NOI", "Khám Nội", "Internal medicine", "203"),
    Department("NGOAI", "Khám Ngoại", "Surgery", "105", open_hours="07:00-16:30"),
    Department("NHI", "Nhi", "Paediatrics", "110"),
    Department("RHM", "Răng Hàm Mặt", "Dentistry", "301", bhyt_self=False),
)
#: The name on the sample clinic's tickets.
SAMPLE_HOSPITAL = "Phòng khám Đa khoa Mẫu (demo)"

#: The sample card the demo starts with.
DEFAULT_CARD = "default"
#: Tester faults, in menu order (``none`` first).
FAULTS = ("none", "wrong_can", "tampered", "clone", "tear", "gateway_down", "gateway_slow")
#: Card faults as ``sim:CARD+FAULT`` suffixes.
CARD_FAULTS = {"tampered": "tampered-dg13", "clone": "clone"}
#: APDUs after which the "removal mid-read" card leaves the field (inside the DG reads).
TEAR_AFTER_APDUS = 14
#: Staff identity the demo sends to the 2024 API (registered in the simulator's data).
DEMO_STAFF = ("Nguyễn Thị Thu Hằng", "001185000123")


class DemoGateway:
    """The gateway simulator on 127.0.0.1 (random port, random credentials) in a thread."""

    def __init__(self) -> None:
        from simulators.gateway.data import InsuredData
        from simulators.gateway.server import GatewayState, make_server

        self.username = f"demo-{secrets.token_hex(4)}"
        self.password = secrets.token_urlsafe(12)
        self.state = GatewayState(
            InsuredData.load(None), self.username, self.password, log_requests=False
        )
        self.server = make_server("127.0.0.1", 0, self.state)
        port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{port}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        self._stopped = False

    def client(self, *, timeout_s: float = 6.0, connect_timeout_s: float = 2.0) -> BhxhClient:
        """A BHXH client for this gateway (no retries, a short breaker: the tester's faults
        show at once and clear at once)."""
        from kiosk.eligibility.bhxh import BhxhClient, BhxhConfig

        return BhxhClient(
            BhxhConfig(
                self.url,
                self.username,
                self.password,
                staff_name=DEMO_STAFF[0],
                staff_cccd=DEMO_STAFF[1],
                total_timeout=timeout_s,
                connect_timeout=min(connect_timeout_s, timeout_s),
                retries=0,
                breaker_reset_s=2.0,
            )
        )

    def set_fault(self, fault: str, *, slow_ms: int = 60_000) -> None:
        """``gateway_down`` (HTTP 503), ``gateway_slow`` (answers after ``slow_ms``) or none."""
        from simulators.gateway.server import Fault

        self.state.clear_faults()
        if fault == "gateway_down":
            self.state.add_fault(Fault("5xx", status=503))
        elif fault == "gateway_slow":
            self.state.add_fault(Fault("latency", ms=slow_ms))

    def stop(self) -> None:
        """Stop serving and close the socket (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        self.state.stopping.set()
        self.server.shutdown()
        self.server.server_close()


def start_demo_printer() -> EscposPrinter:
    """The stand-in ESC/POS printer on 127.0.0.1:9100 (a free port when that is taken),
    pages in memory only: the sample clinic prints there and the tester panel shows the last
    page (set its ``on_page``)."""
    from simulators.printer.escpos import start_standin

    return start_standin()


@dataclass(frozen=True)
class SampleCard:
    """One simulated card as a menu shows it (a made-up person)."""

    name: str
    full_name: str
    id_number: str
    description: str
    bac_only: bool


def sample_cards() -> list[SampleCard]:
    """The simulator's sample cards, :data:`DEFAULT_CARD` first."""
    from simulators.card.profile import list_profiles, load_profile

    out = []
    for name in list_profiles():
        p = load_profile(name)
        out.append(SampleCard(name, p.full_name, p.id_number, p.description, p.chip.mode == "bac"))
    out.sort(key=lambda c: (c.name != DEFAULT_CARD, c.name))
    return out


def sample_keys(card: str, *, wrong: bool = False) -> list[AccessKey]:
    """What a tester would type for ``card``: the CAN, or the MRZ key for a BAC-only card;
    ``wrong`` gives a key the chip refuses (the "wrong CAN" fault)."""
    from simulators.card.profile import load_profile

    profile = load_profile(card)
    if profile.chip.mode == "bac":
        td1 = profile.person.td1()
        born = "010101" if wrong else td1.date_of_birth
        return [MRZKey(td1.document_number, born, td1.date_of_expiry)]
    can = profile.can
    if wrong:
        can = f"{(int(can) + 1) % 1_000_000:06d}"
    return [CAN(can)]


def tap_sample(card: str, fault: str = "none") -> SimulatedTransport:
    """A fresh simulated chip of ``card`` in the field, with a tester ``fault`` of
    :data:`FAULTS` (card faults are built into the chip; ``tear`` leaves mid-read; the
    gateway faults are :meth:`DemoGateway.set_fault`'s)."""
    from drivers.simulated import open_simulated

    name = f"{card}+{CARD_FAULTS[fault]}" if fault in CARD_FAULTS else card
    transport = open_simulated(name)
    if fault == "tear":
        transport.chip.remove_after(TEAR_AFTER_APDUS)
    return transport
