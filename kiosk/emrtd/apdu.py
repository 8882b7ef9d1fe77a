"""ISO/IEC 7816-4 command and response APDUs, short and extended length.

``ne`` is the number of response bytes expected: ``None`` means no Le field;
``256`` is encoded as short Le ``00``; ``65536`` as extended Le ``0000``.
The same classes parse APDUs on the card side (the simulator).
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.emrtd.errors import APDUError
from kiosk.emrtd.status import (  # noqa: F401  (re-exported: apdu.SW_* is the usual name)
    SW_AUTH_METHOD_BLOCKED,
    SW_CLA_NOT_SUPPORTED,
    SW_COMMAND_NOT_ALLOWED_NO_EF,
    SW_CONDITIONS_NOT_SATISFIED,
    SW_END_OF_FILE_WARNING,
    SW_FILE_NOT_FOUND,
    SW_FUNCTION_NOT_SUPPORTED,
    SW_INS_NOT_SUPPORTED,
    SW_OK,
    SW_RECORD_NOT_FOUND,
    SW_REFERENCE_DATA_NOT_USABLE,
    SW_REFERENCE_NOT_FOUND,
    SW_SECURITY_STATUS_NOT_SATISFIED,
    SW_SM_DATA_INCORRECT,
    SW_SM_DATA_MISSING,
    SW_SM_NOT_SUPPORTED,
    SW_UNKNOWN,
    SW_VERIFICATION_FAILED,
    SW_WRONG_DATA,
    SW_WRONG_LENGTH,
    SW_WRONG_P1P2,
    SW_WRONG_P1P2_OFFSET,
    sw_message,
)

SHORT_MAX_NC = 255
SHORT_MAX_NE = 256
EXT_MAX_NC = 65535
EXT_MAX_NE = 65536

# Instruction bytes used by ICAO 9303.
INS_SELECT = 0xA4
INS_READ_BINARY = 0xB0
INS_READ_BINARY_ODD = 0xB1
INS_GET_CHALLENGE = 0x84
INS_EXTERNAL_AUTHENTICATE = 0x82  # MUTUAL AUTHENTICATE shares this INS
INS_MUTUAL_AUTHENTICATE = 0x82
INS_INTERNAL_AUTHENTICATE = 0x88
INS_MSE = 0x22
INS_GENERAL_AUTHENTICATE = 0x86
INS_GET_RESPONSE = 0xC0


@dataclass(frozen=True)
class CommandAPDU:
    """A command APDU. ``ne=None``: no Le field."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    ne: int | None = None

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            v = getattr(self, name)
            if not 0 <= v <= 0xFF:
                raise APDUError(f"{name} {v} outside 0..255")
        if len(self.data) > EXT_MAX_NC:
            raise APDUError(f"command data of {len(self.data)} bytes is too long")
        if self.ne is not None and not 1 <= self.ne <= EXT_MAX_NE:
            raise APDUError(f"Ne {self.ne} outside 1..65536")

    @property
    def needs_extended(self) -> bool:
        return len(self.data) > SHORT_MAX_NC or (self.ne is not None and self.ne > SHORT_MAX_NE)

    def to_bytes(self, extended: bool | None = None) -> bytes:
        """Encode; ``extended=None`` chooses extended length only when needed."""
        ext = self.needs_extended if extended is None else extended
        if not ext and self.needs_extended:
            raise APDUError("APDU needs extended length")
        out = bytearray((self.cla, self.ins, self.p1, self.p2))
        nc = len(self.data)
        if ext:
            if nc:
                out += b"\x00" + nc.to_bytes(2, "big") + self.data
            if self.ne is not None:
                le = 0 if self.ne == EXT_MAX_NE else self.ne
                out += (b"" if nc else b"\x00") + le.to_bytes(2, "big")
        else:
            if nc:
                out += bytes([nc]) + self.data
            if self.ne is not None:
                out.append(0 if self.ne == SHORT_MAX_NE else self.ne)
        return bytes(out)

    def __bytes__(self) -> bytes:
        return self.to_bytes()

    @property
    def is_extended(self) -> bool:
        return self.needs_extended

    @classmethod
    def parse(cls, raw: bytes) -> CommandAPDU:
        """Decode a command APDU (the four ISO 7816-3 cases, short or extended)."""
        raw = bytes(raw)
        if len(raw) < 4:
            raise APDUError("command APDU shorter than 4 bytes")
        cla, ins, p1, p2 = raw[:4]
        body = raw[4:]
        n = len(body)
        if n == 0:
            return cls(cla, ins, p1, p2)
        if n == 1:
            return cls(cla, ins, p1, p2, ne=body[0] or SHORT_MAX_NE)
        if body[0] != 0:  # short, case 3 or 4
            nc = body[0]
            if n == 1 + nc:
                return cls(cla, ins, p1, p2, body[1:])
            if n == 2 + nc:
                return cls(cla, ins, p1, p2, body[1 : 1 + nc], body[-1] or SHORT_MAX_NE)
            raise APDUError("short APDU body length does not match Lc")
        # Extended length: first body byte is 00.
        if n == 3:
            le = int.from_bytes(body[1:3], "big")
            return cls(cla, ins, p1, p2, ne=le or EXT_MAX_NE)
        nc = int.from_bytes(body[1:3], "big")
        if nc == 0:
            raise APDUError("extended Lc of zero")
        if n == 3 + nc:
            return cls(cla, ins, p1, p2, body[3:])
        if n == 5 + nc:
            le = int.from_bytes(body[-2:], "big")
            return cls(cla, ins, p1, p2, body[3 : 3 + nc], le or EXT_MAX_NE)
        raise APDUError("extended APDU body length does not match Lc")


@dataclass(frozen=True)
class ResponseAPDU:
    """A response APDU: data and the status word as one int."""

    data: bytes
    sw: int

    @property
    def sw1(self) -> int:
        return self.sw >> 8

    @property
    def sw2(self) -> int:
        return self.sw & 0xFF

    @property
    def ok(self) -> bool:
        return self.sw == SW_OK

    def to_bytes(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")

    @classmethod
    def parse(cls, raw: bytes) -> ResponseAPDU:
        if len(raw) < 2:
            raise APDUError(f"response of {len(raw)} bytes has no status word")
        return cls(bytes(raw[:-2]), int.from_bytes(raw[-2:], "big"))
