"""Errors about choosing a reader, shared by the registry, the simulator reader and the watcher.

They live here, apart from :mod:`drivers.registry`, so that :mod:`drivers.simulated` (which
turns the simulator's own errors into :class:`ReaderSpecError`) and :mod:`drivers.watch` can
raise them without importing the registry. :mod:`drivers.registry` re-exports both, so
``drivers.registry.ReaderSpecError`` is the same class.
"""

from __future__ import annotations

from kiosk.transport import TransportError


class ReaderSpecError(TransportError):
    """The reader name is not one this kiosk knows how to open."""


class NoCardFound(TransportError):
    """``auto`` found no card on any reader; the message lists what was tried."""

    def __init__(self, tried: list[tuple[str, str]]) -> None:
        self.tried = tried
        lines = "; ".join(f"{what}: {why}" for what, why in tried)
        super().__init__(f"no card found on any reader (tried {lines})")
