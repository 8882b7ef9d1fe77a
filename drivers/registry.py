"""Opening a reader by name: ``sim:NAME``, ``pcsc[:NAME]``, ``nfc[:PATH]`` or ``auto``.

The core (`kiosk`) calls :func:`open_transport` and gets back something that
satisfies :class:`kiosk.transport.Transport`; it never imports a driver. The
names are parsed by :class:`kiosk.config.ReaderSpec`, so ``--reader`` and the
config file's ``[reader] name`` accept the same ones. Each driver is imported
only when its kind of reader is asked for: a kiosk without pyscard or nfcpy
still reads simulated cards, and says what is missing when asked for more.

``auto`` follows the one policy of :func:`drivers.select.choose_auto` (the card
watcher follows it too): PC/SC when pcscd answers with a reader (then the first
reader with a card), else the NFC frontend on USB (waiting :data:`AUTO_NFC_WAIT_S`
for a card); when that finds no card it raises :class:`NoCardFound` naming
everything it tried and why it failed.

``sim:`` names are opened by :func:`drivers.simulated.open_sim_reader`: this
module never imports the simulator. :class:`ReaderSpecError` and
:class:`NoCardFound` are defined in :mod:`drivers.errors` and re-exported here.
"""

from __future__ import annotations

from typing import Any

from drivers.errors import NoCardFound, ReaderSpecError
from drivers.select import choose_auto
from kiosk.config import ReaderSpec, ReaderSpecSyntaxError
from kiosk.transport import Transport, TransportError

__all__ = ["AUTO_NFC_WAIT_S", "NoCardFound", "ReaderSpecError", "open_transport"]

#: How long ``auto`` waits for a card when it chose the NFC frontend (seconds).
AUTO_NFC_WAIT_S = 2.0


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
    from drivers.simulated import open_sim_reader

    return open_sim_reader(name, **options)


def _open_pcsc(name: str | None) -> Transport:
    """``drivers.pcsc.open_pcsc``; a missing pyscard becomes a TransportError too."""
    try:
        from drivers.pcsc import open_pcsc
    except ImportError as exc:
        raise TransportError(f"PC/SC readers are not available here ({exc})") from exc
    transport: Transport = open_pcsc(name)
    return transport


def _open_auto(options: dict[str, Any]) -> Transport:
    """The reader :func:`choose_auto` picks, with a card; else NoCardFound.

    ``options`` go to the NFC frontend only (PC/SC readers take none).
    """
    choice = choose_auto()
    tried = list(choice.passed_over)
    if choice.kind == "pcsc":
        try:
            return _open_pcsc(None)
        except TransportError as exc:
            tried.append(("PC/SC", str(exc)))
        raise NoCardFound(tried)
    from drivers.nfc import open_nfc

    nfc_options = {"wait": AUTO_NFC_WAIT_S, **options}
    try:
        return open_nfc(choice.path, **nfc_options)
    except TransportError as exc:
        tried.append((f"NFC {choice.path}", str(exc)))
    raise NoCardFound(tried)
