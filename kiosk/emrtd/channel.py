"""A card channel: a :class:`~kiosk.transport.Transport` plus optional secure messaging.

Protocol code (BAC, PACE, READ BINARY) sends :class:`CommandAPDU` objects
through :meth:`CardChannel.send`; when a :class:`SecureMessaging` object is
installed the channel protects the command and verifies the reply. The
channel counts APDUs and bytes for the read report and can keep an APDU log
(command, response and the plaintext views) for evidence and replay.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from kiosk.emrtd.apdu import CommandAPDU, ResponseAPDU
from kiosk.transport import Transport

if TYPE_CHECKING:
    from kiosk.emrtd.sm import SecureMessaging


@dataclass(frozen=True)
class ApduRecord:
    """One exchange as it went over the wire, plus its plaintext view under SM."""

    command: bytes
    response: bytes
    plain_command: bytes | None
    plain_response: bytes | None
    at: float


class CardChannel:
    """Sends APDUs to a chip, through secure messaging once access control is done."""

    def __init__(self, transport: Transport, *, keep_log: bool = False) -> None:
        self.transport = transport
        self.sm: SecureMessaging | None = None
        self.apdu_count = 0
        self.bytes_sent = 0
        self.bytes_received = 0
        self.keep_log = keep_log
        self.log: list[ApduRecord] = []

    @property
    def extended_length(self) -> bool:
        return self.transport.extended_length

    def transmit_raw(self, cmd: CommandAPDU, extended: bool | None = None) -> ResponseAPDU:
        """Send without secure messaging (used before access control and by BAC/PACE)."""
        raw = cmd.to_bytes(extended)
        reply = self.transport.transmit(raw)
        self._count(raw, reply)
        resp = ResponseAPDU.parse(reply)
        if self.keep_log:
            self.log.append(ApduRecord(raw, reply, None, None, time.time()))
        return resp

    def send(self, cmd: CommandAPDU, extended: bool | None = None) -> ResponseAPDU:
        """Send ``cmd`` (protected when SM is active) and return the plain response."""
        sm = self.sm
        if sm is None:
            return self.transmit_raw(cmd, extended)
        ext = cmd.needs_extended if extended is None else extended
        protected = sm.protect(cmd, ext)
        limit = self.transport.max_response_len - 2
        if protected.ne is not None and protected.ne > limit:
            # Readers with small frames (ACR122U): ask for what they carry; a longer reply
            # then arrives in pieces (61xx + GET RESPONSE) inside the transport.
            protected = replace(protected, ne=limit)
        raw = protected.to_bytes(ext or protected.needs_extended)
        reply = self.transport.transmit(raw)
        self._count(raw, reply)
        resp = sm.unprotect(ResponseAPDU.parse(reply))
        if self.keep_log:
            self.log.append(ApduRecord(raw, reply, cmd.to_bytes(ext), resp.to_bytes(), time.time()))
        return resp

    def _count(self, raw: bytes, reply: bytes) -> None:
        self.apdu_count += 1
        self.bytes_sent += len(raw)
        self.bytes_received += len(reply)
