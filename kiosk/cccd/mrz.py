"""The MRZ of a Vietnamese CCCD (TD1) and how Vietnamese full names split for it.

Layout (verified against the examples in CCCD.md)::

    IDVNM<doc no 9><cd><ID 12><<<id cd>     line 1: doc no = last 9 digits of the ID
    <birth><cd><sex><expiry><cd>VNM<11 fillers><composite>
    <SURNAME<<GIVEN<NAMES<<<...>

The digit at line 1 position 30 is the 9303 check digit of the 12-digit ID (both CCCD.md
examples agree); the ICAO parser (:mod:`kiosk.emrtd.mrz`) does not insist on it.
"""

from __future__ import annotations

import unicodedata
from datetime import date

from kiosk.emrtd.errors import MRZError
from kiosk.emrtd.mrz import NO_EXPIRY, TD1, TD3, check_digit, compose_td1

#: ISO 3166-1 alpha-3 code of Viet Nam, as used in the MRZ.
VIETNAM = "VNM"

__all__ = [
    "NO_EXPIRY",
    "VIETNAM",
    "compose_cccd_td1",
    "id_number_check_ok",
    "id_number_of",
    "split_name",
]


def id_number_of(mrz: TD1 | TD3) -> str | None:
    """The 12-digit personal ID in a Vietnamese MRZ, else None.

    A CCCD (TD1) starts optional data 1 with it (``<ID><<<cd>``); a VNM passport (TD3) carries
    it as the personal number. Any other issuing state: None.
    """
    if mrz.issuing_state != VIETNAM:
        return None
    if isinstance(mrz, TD1):
        head, rest = mrz.optional_data_1[:12], mrz.optional_data_1[12:]
        if _id12(head) and (not rest or rest[0] == "<"):
            return head
        return None
    return mrz.personal_number if _id12(mrz.personal_number) else None


def id_number_check_ok(mrz: TD1) -> bool | None:
    """Whether the digit after ``<ID><<`` is the check digit of the ID; None if absent."""
    number = id_number_of(mrz)
    rest = mrz.optional_data_1[12:]
    if number is None or len(rest) != 3 or rest[:2] != "<<" or not rest[2].isdigit():
        return None
    return rest[2] == check_digit(number)


def _id12(value: str) -> bool:
    return len(value) == 12 and value.isascii() and value.isdigit()


def compose_cccd_td1(
    id_number: str,
    date_of_birth: date,
    sex: str,
    date_of_expiry: date | None,
    surname: str,
    given_names: str,
) -> TD1:
    """The MRZ of a Vietnamese CCCD: ``IDVNM``, doc no = last 9 digits of the ID,
    optional data 1 = ``<ID><<<check digit of the ID>``; expiry None → :data:`NO_EXPIRY`.

    ``sex`` is M/F or Nam/Nữ; names are readable Vietnamese text.
    """
    if not (len(id_number) == 12 and id_number.isdigit() and id_number.isascii()):
        raise MRZError("ID number: not valid; expected 12 digits", field="id_number")
    return compose_td1(
        document_code="ID",
        issuing_state=VIETNAM,
        document_number=id_number[-9:],
        date_of_birth=date_of_birth,
        sex=sex,
        date_of_expiry=date_of_expiry,
        nationality=VIETNAM,
        surname=surname,
        given_names=given_names,
        optional_data_1=id_number + "<<" + check_digit(id_number),
    )


def split_name(full_name: str) -> tuple[str, str]:
    """Split a Vietnamese full name into (surname, given names): the family name comes first.

    ``"Nguyễn Thị Ánh Tuyết"`` → ``("Nguyễn", "Thị Ánh Tuyết")``.
    """
    parts = unicodedata.normalize("NFC", full_name).split()
    if not parts:
        return "", ""
    return parts[0], " ".join(parts[1:])
