"""drivers.registry: every reader name form; fake PC/SC and NFC drivers stand in for hardware."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

import drivers.nfc as nfc_driver
from drivers.registry import NoCardFound, ReaderSpecError, open_transport
from drivers.select import AutoChoice, choose_auto
from drivers.simulated import SimulatedTransport
from kiosk.transport import CardRemoved, TransportError
from tests.fixtures.nfc_standin import StandinCard, StandinFrontend


class FakePcsc:
    """Stands in for drivers.pcsc: readers by name, each with or without a card."""

    def __init__(self, readers: dict[str, bool] | None = None, *, daemon: bool = True) -> None:
        self.readers = readers or {}
        self.daemon = daemon
        self.opened: list[str | None] = []

    def module(self) -> types.ModuleType:
        mod = types.ModuleType("drivers.pcsc")
        mod.open_pcsc = self.open_pcsc  # type: ignore[attr-defined]
        mod.list_readers = self.list_readers  # type: ignore[attr-defined]
        return mod

    def list_readers(self) -> list[str]:
        if not self.daemon:
            raise TransportError("pcscd is not running (sudo systemctl start pcscd)")
        return list(self.readers)

    def open_pcsc(self, name: str | None = None) -> Any:
        self.opened.append(name)
        names = self.list_readers()
        if not names:
            raise TransportError("no PC/SC reader is connected")
        if name is not None:
            if name not in self.readers:
                raise TransportError(f"no PC/SC reader named {name!r}")
            if not self.readers[name]:
                raise CardRemoved(f"no card in {name}")
            return ("pcsc", name)
        for reader, card in self.readers.items():
            if card:
                return ("pcsc", reader)
        raise CardRemoved(f"no card on any PC/SC reader ({', '.join(names)})")


@pytest.fixture
def pcsc(monkeypatch: pytest.MonkeyPatch) -> FakePcsc:
    fake = FakePcsc({"ACS ACR1281U-C1 PICC": False, "HID OMNIKEY 5022": True})
    monkeypatch.setitem(sys.modules, "drivers.pcsc", fake.module())
    return fake


@pytest.fixture
def nfc_frontend(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """open_frontend gives a stand-in RC-S380 with the default card; records the paths."""
    paths: list[str] = []

    def fake(path: str) -> StandinFrontend:
        paths.append(path)
        return StandinFrontend("rcs380", StandinCard.sample("default"))

    monkeypatch.setattr(nfc_driver, "open_frontend", fake)
    return paths


def test_sim_names_open_simulated_cards() -> None:
    transport = open_transport("sim:teen")
    assert isinstance(transport, SimulatedTransport)
    default = open_transport("sim")
    assert isinstance(default, SimulatedTransport)
    assert default.chip.files.dgs[1] != transport.chip.files.dgs[1]


def test_sim_options_still_reach_the_simulator() -> None:
    transport = open_transport("sim:default", extended_length=False)
    assert isinstance(transport, SimulatedTransport) and not transport.extended_length


def test_unknown_sim_card_is_a_spec_error() -> None:
    with pytest.raises(ReaderSpecError, match="cccd-sim cards"):
        open_transport("sim:nobody")


@pytest.mark.parametrize("spec", ["floppy:0", "", "auto:x", "pcsc:", "nfc:", "PCSC"])
def test_bad_names_are_spec_errors_naming_the_forms(spec: str) -> None:
    with pytest.raises(ReaderSpecError) as info:
        open_transport(spec)
    assert "pcsc" in str(info.value) or "auto" in str(info.value)


def test_pcsc_opens_first_reader_with_a_card(pcsc: FakePcsc) -> None:
    assert open_transport("pcsc") == ("pcsc", "HID OMNIKEY 5022")
    assert pcsc.opened == [None]


def test_pcsc_by_name_keeps_the_whole_name(pcsc: FakePcsc) -> None:
    assert open_transport("pcsc:HID OMNIKEY 5022") == ("pcsc", "HID OMNIKEY 5022")
    with pytest.raises(CardRemoved):
        open_transport("pcsc:ACS ACR1281U-C1 PICC")
    assert pcsc.opened == ["HID OMNIKEY 5022", "ACS ACR1281U-C1 PICC"]


def test_pcsc_takes_no_options(pcsc: FakePcsc) -> None:
    with pytest.raises(ReaderSpecError, match="no options"):
        open_transport("pcsc", link=None)


def test_pcsc_without_the_driver_is_a_transport_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "drivers.pcsc", None)
    with pytest.raises(TransportError, match="PC/SC readers are not available"):
        open_transport("pcsc")


def test_nfc_default_path_is_usb(nfc_frontend: list[str]) -> None:
    transport = open_transport("nfc")
    assert isinstance(transport, nfc_driver.NfcTransport)
    transport.close()
    assert nfc_frontend == ["usb"]


def test_nfc_path_keeps_its_colons(nfc_frontend: list[str]) -> None:
    open_transport("nfc:usb:054c:06c3").close()
    open_transport("nfc:tty:USB0:pn532").close()
    assert nfc_frontend == ["usb:054c:06c3", "tty:USB0:pn532"]


def test_auto_prefers_a_pcsc_card(pcsc: FakePcsc, nfc_frontend: list[str]) -> None:
    assert open_transport("auto") == ("pcsc", "HID OMNIKEY 5022")
    assert nfc_frontend == []


def test_auto_with_a_pcsc_reader_stays_on_pcsc(pcsc: FakePcsc, nfc_frontend: list[str]) -> None:
    """The one auto policy: a PC/SC reader pcscd lists wins, even without a card in it."""
    pcsc.readers = {"ACS ACR1281U-C1 PICC": False}
    with pytest.raises(NoCardFound) as info:
        open_transport("auto")
    assert [what for what, _ in info.value.tried] == ["PC/SC"]
    assert "no card on any PC/SC reader" in str(info.value)
    assert nfc_frontend == []  # the NFC frontend was never opened


def test_auto_without_a_pcsc_reader_uses_nfc(pcsc: FakePcsc, nfc_frontend: list[str]) -> None:
    pcsc.readers = {}
    transport = open_transport("auto")
    assert isinstance(transport, nfc_driver.NfcTransport)
    transport.close()
    assert nfc_frontend == ["usb"]
    assert pcsc.opened == []  # pcscd listed no reader: no PC/SC open was tried


def test_auto_choice_is_shared(pcsc: FakePcsc) -> None:
    """drivers.select.choose_auto is the policy the registry (and the watcher) follow."""
    assert choose_auto() == AutoChoice("pcsc")
    pcsc.readers = {}
    choice = choose_auto()
    assert (choice.kind, choice.path) == ("nfc", "usb")
    assert [what for what, _ in choice.passed_over] == ["PC/SC"]
    assert "no PC/SC reader is connected" in choice.passed_over[0][1]
    pcsc.daemon = False
    assert "pcscd is not running" in choose_auto().passed_over[0][1]


def test_registry_reexports_the_error_classes() -> None:
    import drivers.errors
    import drivers.registry

    assert drivers.registry.ReaderSpecError is drivers.errors.ReaderSpecError
    assert drivers.registry.NoCardFound is drivers.errors.NoCardFound


def test_registry_never_imports_the_simulator() -> None:
    """Only drivers.simulated (the simulator reader) imports ``simulators``."""
    import ast
    from pathlib import Path

    import drivers

    for path in Path(drivers.__file__).parent.glob("*.py"):
        if path.name == "simulated.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = [
            node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        ] + [a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names]
        assert not [m for m in imported if m.split(".")[0] in ("simulators", "ui", "PySide6")], (
            path.name
        )


def test_unknown_fault_is_a_spec_error() -> None:
    with pytest.raises(ReaderSpecError, match="sim:default\\+no-such-fault"):
        open_transport("sim:default+no-such-fault")


def test_auto_with_nothing_names_everything_it_tried(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakePcsc(daemon=False)
    monkeypatch.setitem(sys.modules, "drivers.pcsc", fake.module())

    def no_reader(path: str) -> Any:
        raise TransportError(f"no NFC reader found at {path!r}: plug in a Sony RC-S380")

    monkeypatch.setattr(nfc_driver, "open_frontend", no_reader)
    with pytest.raises(NoCardFound) as info:
        open_transport("auto")
    message = str(info.value)
    assert "PC/SC: pcscd is not running" in message
    assert "NFC usb: no NFC reader found" in message
    assert [what for what, _ in info.value.tried] == ["PC/SC", "NFC usb"]


def test_auto_waits_only_briefly_for_an_nfc_card(
    monkeypatch: pytest.MonkeyPatch, pcsc: FakePcsc
) -> None:
    pcsc.readers = {}
    seen: dict[str, Any] = {}

    def fake_open_nfc(path: str, **options: Any) -> Any:
        seen.update(options, path=path)
        raise CardRemoved("no ID card")

    monkeypatch.setattr(nfc_driver, "open_nfc", fake_open_nfc)
    with pytest.raises(NoCardFound):
        open_transport("auto")
    assert seen == {"path": "usb", "wait": 2.0}
    with pytest.raises(NoCardFound):
        open_transport("auto", wait=0.5)
    assert seen["wait"] == 0.5
