"""The seam between the ICAO 9303 stack and whatever carries APDUs to a chip.

Every driver (simulated, PC/SC, NFC) implements :class:`Transport`. The stack
never imports a driver; it only sees this protocol and this exception
hierarchy, so a reader can be swapped without touching protocol code.
"""

from __future__ import annotations

from collections.abc import Callable
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


#: Most GET RESPONSE rounds for one command (a card looping on 61xx is broken).
MAX_GET_RESPONSE_ROUNDS = 256


def collect_response(reply: bytes, exchange: Callable[[bytes], bytes]) -> bytes:
    """Follow ``61xx`` with GET RESPONSE until the card has sent the whole reply.

    ISO/IEC 7816-4 §5.3.4: a card whose reply is longer than the command's Ne
    sends part of it with SW ``61xx`` (``xx`` more bytes, 00 = 256 or more)
    and the rest on GET RESPONSE. Readers' drivers do this below the
    protocol layer, so secure messaging sees one reply. ``exchange`` sends one
    raw APDU and returns the raw reply.
    """
    if len(reply) < 2 or reply[-2] != 0x61:
        return reply
    data = bytearray()
    for _ in range(MAX_GET_RESPONSE_ROUNDS):
        data += reply[:-2]
        reply = exchange(bytes((0x00, 0xC0, 0x00, 0x00, reply[-1])))
        if len(reply) < 2:
            raise TransportError("the card answered GET RESPONSE without a status word")
        if reply[-2] != 0x61:
            return bytes(data) + reply
    raise TransportError("the card keeps answering 61xx")
