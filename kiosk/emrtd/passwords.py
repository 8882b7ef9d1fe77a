"""ICAO 9303-11 access passwords: the CAN (PACE) and the MRZ key (BAC, PACE-MRZ).

These are what a reader session needs to open a chip; how a patient's card gives them (QR,
ID number, typed MRZ) is the card's own business (``kiosk.cccd.access`` for a CCCD).
Both validate their fields on construction and raise :class:`AccessKeyError` naming the
field; values are kept out of ``repr`` (they are personal data).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

from kiosk.emrtd.errors import AccessKeyError
from kiosk.emrtd.mrz import MAX_DOCUMENT_NUMBER, NO_EXPIRY, mrz_information

_DATE_CHARS = frozenset("0123456789<")
_DOC_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<")


def _digits(value: str, n: int) -> bool:
    return len(value) == n and value.isascii() and value.isdigit()


@dataclass(frozen=True)
class CAN:
    """Card Access Number for PACE: 6 digits (on a CCCD, the last 6 of the ID number)."""

    value: str = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.value, str) or not _digits(self.value, 6):
            raise AccessKeyError("CAN: not valid; expected 6 digits", field="can")


def _valid_yymmdd(value: str) -> bool:
    """Month and day plausible (any century); '<' allowed for unknown parts."""
    if len(value) != 6 or any(c not in _DATE_CHARS for c in value):
        return False
    month, day = value[2:4], value[4:6]
    if month.isdigit() and not 1 <= int(month) <= 12:
        return False
    return not (day.isdigit() and not 1 <= int(day) <= 31)


@dataclass(frozen=True)
class MRZKey:
    """The MRZ-derived key for BAC / PACE-MRZ (9303-11 §9.7.2): fields as printed.

    ``document_number`` without trailing fillers (or with, same key);
    dates are ``YYMMDD``; the expiry may be :data:`kiosk.emrtd.mrz.NO_EXPIRY` or a
    non-date such as ``<<<<<<``.
    """

    document_number: str = field(repr=False)
    date_of_birth: str = field(repr=False)
    date_of_expiry: str = field(repr=False)

    def __post_init__(self) -> None:
        number = self.document_number
        if (
            not isinstance(number, str)
            or not 1 <= len(number) <= MAX_DOCUMENT_NUMBER
            or any(c not in _DOC_CHARS for c in number)
            or set(number) == {"<"}
        ):
            raise AccessKeyError(
                f"document number: not valid; expected 1 to "
                f"{MAX_DOCUMENT_NUMBER} upper-case letters or digits",
                field="document_number",
            )
        if not isinstance(self.date_of_birth, str) or not _valid_yymmdd(self.date_of_birth):
            raise AccessKeyError(
                "date of birth: not valid; expected YYMMDD",
                field="date_of_birth",
            )
        expiry = self.date_of_expiry
        if (
            not isinstance(expiry, str)
            or len(expiry) != 6
            or any(c not in _DATE_CHARS for c in expiry)
        ):
            raise AccessKeyError(
                "date of expiry: not valid; expected YYMMDD "
                f"({NO_EXPIRY} for cards without expiry)",
                field="date_of_expiry",
            )

    @property
    def mrz_information(self) -> str:
        """Document number + cd, birth + cd, expiry + cd: the input of the key derivation."""
        return mrz_information(self.document_number, self.date_of_birth, self.date_of_expiry)


AccessKey: TypeAlias = CAN | MRZKey
