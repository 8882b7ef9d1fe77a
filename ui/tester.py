"""The tester panel (simulated reader) and the demo gateway it controls.

:class:`TesterPanel` picks a sample card, taps it (a fresh simulated chip in the field) and
removes it, with faults: wrong CAN, tampered data, a cloned chip, removal mid-read, gateway
down, gateway slow. :class:`DemoGateway` runs the BHXH gateway simulator on loopback in a
background thread with made-up credentials, and switches its faults in-process.
"""

from __future__ import annotations

import secrets
import threading
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QGroupBox, QLabel, QVBoxLayout, QWidget

from kiosk.cccd.access import CAN, AccessKey, MRZKey
from ui.screens import button
from ui.strings import Lang, t

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
        self.state = GatewayState(InsuredData.load(None), self.username, self.password)
        self.server = make_server("127.0.0.1", 0, self.state)
        port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{port}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()

    def client(self, *, timeout_s: float = 6.0, connect_timeout_s: float = 2.0) -> Any:
        """A BHXH client for this gateway."""
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
        """Stop serving and close the socket."""
        self.state.stopping.set()
        self.server.shutdown()
        self.server.server_close()


class TesterPanel(QGroupBox):
    """``tapped(transport, keys or None)`` when a card is tapped; ``removed()`` on removal."""

    tapped = Signal(object, object)
    removed = Signal()

    def __init__(self, gateway: DemoGateway | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from simulators.card.profile import list_profiles

        self.gateway = gateway
        self.transport: Any = None
        self.card_box = QComboBox()
        self.card_box.setObjectName("tester_card")
        self.card_box.addItems(list_profiles())
        self.card_box.setMinimumHeight(48)
        self.fault_box = QComboBox()
        self.fault_box.setObjectName("tester_fault")
        self.fault_box.setMinimumHeight(48)
        for f in FAULTS:
            self.fault_box.addItem(f, f)
        self.auto_key = QCheckBox()
        self.auto_key.setChecked(True)
        self.auto_key.setMinimumHeight(48)
        self.card_label, self.fault_label = QLabel(), QLabel()
        self.tap_button = button()
        self.tap_button.clicked.connect(self.tap)
        self.remove_button = button()
        self.remove_button.clicked.connect(self.remove)
        layout = QVBoxLayout(self)
        for w in (
            self.card_label, self.card_box, self.fault_label, self.fault_box, self.auto_key,
            self.tap_button, self.remove_button,
        ):  # fmt: skip
            layout.addWidget(w)
        layout.addStretch(1)
        self.set_language("vi")

    def set_language(self, lang: Lang) -> None:
        """Relabel the panel."""
        self.setTitle(t("tester.title", lang))
        self.card_label.setText(t("tester.card", lang))
        self.fault_label.setText(t("tester.fault", lang))
        self.auto_key.setText(t("tester.auto_key", lang))
        self.tap_button.setText(t("tester.tap", lang))
        self.remove_button.setText(t("tester.remove", lang))
        for i, f in enumerate(FAULTS):
            self.fault_box.setItemText(i, t(f"fault.{f}", lang))

    def tap(self) -> None:
        """Put the chosen card (with the chosen fault) in the field."""
        from drivers.simulated import open_simulated

        card = self.card_box.currentText()
        fault = str(self.fault_box.currentData())
        if self.gateway is not None:
            self.gateway.set_fault(fault)
        name = f"{card}+{CARD_FAULTS[fault]}" if fault in CARD_FAULTS else card
        if self.transport is not None:
            self.transport.chip.remove()
        self.transport = open_simulated(name)
        if fault == "tear":
            self.transport.chip.remove_after(TEAR_AFTER_APDUS)
        keys = self._keys(card, wrong=fault == "wrong_can") if self.auto_key.isChecked() else None
        self.tapped.emit(self.transport, keys)

    @staticmethod
    def _keys(card: str, *, wrong: bool) -> list[AccessKey]:
        """What a tester would type: the CAN, or the MRZ for a BAC-only card (wrong on request)."""
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

    def remove(self) -> None:
        """Take the card out of the field."""
        if self.transport is not None:
            self.transport.chip.remove()
        self.removed.emit()
