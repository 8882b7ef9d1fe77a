"""One exception hierarchy for the ICAO 9303 layer.

Everything raised by ``kiosk.emrtd`` on bad input or a misbehaving chip is an
:class:`EmrtdError`; transport failures stay :class:`kiosk.transport.TransportError`.
The UI and CLI map each class to a message that says what to do next.
"""

from __future__ import annotations

from kiosk.emrtd.status import sw_message


class EmrtdError(Exception):
    """Base class of every error in the eMRTD stack."""


class TLVError(EmrtdError):
    """Malformed, truncated, too deep or too long BER-TLV data."""


class LDSParseError(EmrtdError):
    """An LDS file (EF.COM, EF.SOD, a DG, EF.CardAccess) does not have the expected structure."""


class AccessKeyError(EmrtdError):
    """An access key input (QR text, typed ID, MRZ, birth date) is unusable.

    ``field`` names the offending field (e.g. ``"document_number"``,
    ``"date_of_birth"``) so a user can be told what to fix.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class MRZError(AccessKeyError):
    """A machine readable zone is malformed or a check digit is wrong."""


class APDUError(EmrtdError):
    """An APDU could not be built or a reply could not be parsed."""


class StatusError(EmrtdError):
    """The chip answered with a status word other than 9000.

    ``sw`` is the two-byte status word as an int (e.g. ``0x6982``).
    """

    def __init__(self, sw: int, message: str | None = None, command: str | None = None) -> None:
        self.sw = sw
        self.command = command
        text = message or sw_message(sw)
        where = f"{command}: " if command else ""
        super().__init__(f"{where}{sw:04X} {text}")


class SecureMessagingError(EmrtdError):
    """A protected reply failed its MAC, lacked a mandatory object or did not decrypt."""


class AccessDenied(EmrtdError):
    """BAC or PACE failed because the access key (CAN, MRZ) is wrong."""


class AuthenticationError(EmrtdError):
    """BAC or PACE failed for a reason other than a wrong key (protocol violation, bad token)."""


class UnsupportedProtocol(EmrtdError):
    """The chip does not offer what the caller asked for (e.g. PACE only, on a BAC-only chip)."""


class FileTooLarge(EmrtdError):
    """An elementary file announces a length above the cap for that file."""
