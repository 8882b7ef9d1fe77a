"""Opening a reader by name: ``sim:NAME`` now; ``pcsc[:NAME]``, ``nfc[:PATH]``, ``auto`` later.

The core (`kiosk`) calls :func:`open_transport` and gets back something that
satisfies :class:`kiosk.transport.Transport`; it never imports a driver.
"""

from __future__ import annotations

from typing import Any

from kiosk.transport import Transport, TransportError


class ReaderSpecError(TransportError):
    """The reader name is not one this kiosk knows how to open."""


def open_transport(spec: str, **options: Any) -> Transport:
    """Open the reader named by ``spec`` (e.g. ``sim:default``)."""
    kind, _, name = spec.partition(":")
    if kind == "sim":
        from drivers.simulated import open_simulated
        from simulators.card.profile import UnknownProfile

        try:
            return open_simulated(name or "default", **options)
        except UnknownProfile as exc:
            raise ReaderSpecError(
                f"no simulated card named {name!r} (see `cccd-sim cards`)"
            ) from exc
    raise ReaderSpecError(
        f"unknown reader {spec!r}: use sim:NAME (pcsc and nfc readers are not available yet)"
    )
