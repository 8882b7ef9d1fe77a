"""Opening a reader by name: ``sim:NAME``, ``pcsc[:NAME]``, ``nfc[:PATH]`` or ``auto``.

The core (`kiosk`) calls :func:`open_transport` and gets back something that
satisfies :class:`kiosk.transport.Transport`; it never imports a driver. The
names are parsed by :class:`kiosk.config.ReaderSpec`, so ``--reader`` and the
config file's ``[reader] name`` accept the same ones. Each driver is imported
only when its kind of reader is asked for: a kiosk without pyscard or nfcpy
still reads simulated cards, and says what is missing when asked for more.

``auto`` tries the first PC/SC reader with a card, then the NFC frontend on
USB (waiting :data:`AUTO_NFC_WAIT_S` for a card), and when neither has a card
raises :class:`NoCardFound` naming everything it tried and why it failed.
"""

from __future__ import annotations

from typing import Any

from kiosk.config import ReaderSpec, ReaderSpecSyntaxError
from kiosk.transport import Transport, TransportError

#: How long ``auto`` waits for a card on an NFC frontend once PC/SC had none (seconds).
AUTO_NFC_WAIT_S = 2.0


class ReaderSpecError(TransportError):
    """The reader name is not one this kiosk knows how to open."""


class NoCardFound(TransportError):
    """``auto`` found no card on any reader; the message lists what was tried."""

    def __init__(self, tried: list[tuple[str, str]]) -> None:
        self.tried = tried
        lines = "; ".join(f"{what}: {why}" for what, why in tried)
        super().__init__(f"no card found on any reader (tried {lines})")


def open_transport(spec: str, **options: Any) -> Transport:
    """Open the reader named by ``spec`` (e.g. ``sim:default``, ``pcsc``, ``nfc:usb``, ``auto``).

    ``options`` go to the simulated reader (link model, chip options) or to
    :func:`drivers.nfc.open_nfc` (``wait``, ``timeout``); PC/SC readers take
    none. Raises ReaderSpecError for a name that cannot be a reader and the
    driver's TransportError (naming what to fix) when it cannot be opened.
    """
    try:
        parsed = ReaderSpec.parse(spec)
    except ReaderSpecSyntaxError as exc:
        raise ReaderSpecError(str(exc)) from exc
    if parsed.kind == "sim":
        return _open_sim(parsed.name, options)
    if parsed.kind == "pcsc":
        _no_options("pcsc", options)
        return _open_pcsc(parsed.name or None)
    if parsed.kind == "nfc":
        from drivers.nfc import open_nfc

        return open_nfc(parsed.name, **options)
    return _open_auto(options)


def _no_options(kind: str, options: dict[str, Any]) -> None:
    if options:
        raise ReaderSpecError(f"{kind} readers take no options (got {', '.join(options)})")


def _open_sim(name: str, options: dict[str, Any]) -> Transport:
    from drivers.simulated import open_simulated
    from simulators.card.faults import FaultError
    from simulators.card.profile import UnknownProfile

    try:
        return open_simulated(name, **options)
    except UnknownProfile as exc:
        raise ReaderSpecError(f"no simulated card named {name!r} (see `cccd-sim cards`)") from exc
    except FaultError as exc:
        raise ReaderSpecError(f"sim:{name}: {exc}") from exc


def _open_pcsc(name: str | None) -> Transport:
    """``drivers.pcsc.open_pcsc``; a missing pyscard becomes a TransportError too."""
    try:
        from drivers.pcsc import open_pcsc
    except ImportError as exc:
        raise TransportError(f"PC/SC readers are not available here ({exc})") from exc
    transport: Transport = open_pcsc(name)
    return transport


def _open_auto(options: dict[str, Any]) -> Transport:
    """First PC/SC reader with a card, else the NFC frontend on USB, else NoCardFound."""
    tried: list[tuple[str, str]] = []
    try:
        return _open_pcsc(None)
    except TransportError as exc:
        tried.append(("PC/SC", str(exc)))
    from drivers.nfc import open_nfc

    nfc_options = {"wait": AUTO_NFC_WAIT_S, **options}
    try:
        return open_nfc("usb", **nfc_options)
    except TransportError as exc:
        tried.append(("NFC usb", str(exc)))
    raise NoCardFound(tried)
