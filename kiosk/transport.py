"""The seam between the ICAO 9303 stack and whatever carries APDUs to a chip.

Every driver (simulated, PC/SC, NFC) implements :class:`Transport`. The stack
never imports a driver; it only sees this protocol and this exception
hierarchy, so a reader can be swapped without touching protocol code.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


class TransportError(Exception):
    """The APDU could not be carried to the chip or its reply could not be received."""


class CardRemoved(TransportError):
    """The card left the field (or was never there) while we were talking to it."""


class TransportTimeout(TransportError):
    """The reader or the chip did not answer in time."""


@runtime_checkable
class Transport(Protocol):
    """Carries one command APDU to the card and returns its reply (data + SW1 SW2).

    ``max_command_len`` / ``max_response_len`` are the largest APDUs (header and
    trailer included) the transport can carry; ``extended_length`` tells whether
    it can carry extended-length APDUs at all. The session combines them with
    what the card announces to pick the largest read size.
    """

    @property
    def max_command_len(self) -> int: ...

    @property
    def max_response_len(self) -> int: ...

    @property
    def extended_length(self) -> bool: ...

    def transmit(self, apdu: bytes) -> bytes:
        """Send a command APDU, return response data followed by SW1 SW2.

        Raises :class:`CardRemoved` when the card is gone and
        :class:`TransportError` for any other carrier failure.
        """
        ...

    def close(self) -> None:
        """Release the reader; idempotent."""
        ...
