"""The QR code of a BHYT (health insurance) card: paper cards and the VssID app.

Patients without a readable chip card show this QR instead; the kiosk checks
eligibility by the card number (``maThe``) it carries. Two forms exist (see
../shared/reference/CCCD.md):

* the current one: 16 fields separated by ``|`` and closed by ``|$``;
  the name, the address and the re-issuing office are hex of UTF-8;
* the older one, printed on old cards: the first 9 fields only.

Hex is decoded only when it is even-length hex *and* valid UTF-8; anything
else is kept as the text it is (some issuers write plain text). ``maDKBD``
("01 - C54") is normalised to its 5 characters ("01C54"). The check string
(``chuoiKiemTra``) has an unpublished algorithm and is kept opaque: the kiosk
cannot prove a BHYT QR genuine, so check-ins made with it are not
chip-verified.

Errors are :class:`BhytQRError` (an :class:`~kiosk.emrtd.errors.AccessKeyError`
with ``field``); their messages name the field and what is expected but never
repeat the personal data that was scanned.
"""

from __future__ import annotations

import binascii
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal

from kiosk.emrtd.errors import AccessKeyError

#: Largest BHYT QR text accepted, in UTF-8 bytes (a real one is about 250).
MAX_BHYT_QR_BYTES = 2048
#: Fields of the older form (maThe … ngayCap).
OLD_FORM_FIELDS = 9
#: Fields of the current form, before the closing ``$``.
NEW_FORM_FIELDS = 16
#: Trailing fields beyond the 16 known ones are tolerated (future additions) up to this count.
MAX_FIELDS = 32
#: Longest free-text field kept (name, address, office), in characters.
MAX_TEXT = 200

_SEX = {"1": "Nam", "2": "Nữ", "nam": "Nam", "nữ": "Nữ", "nu": "Nữ"}
_DASHES = "-–—"
_HEX = re.compile(r"\A(?:[0-9a-fA-F]{2})+\Z")
_DDMMYYYY = re.compile(r"\A(\d{1,2})/(\d{1,2})/(\d{4})\Z")


class BhytQRError(AccessKeyError):
    """A BHYT QR text that cannot be used; ``field`` names the offending field."""


@dataclass(frozen=True)
class BhytCard:
    """What a BHYT card QR says (text NFC-normalised, diacritics kept).

    ``date_of_birth`` is None when only the year is printed (``birth_year``
    is always set). Optional fields written as ``-`` or left empty are None.
    """

    form: Literal["current", "old"]
    card_number: str
    full_name: str
    date_of_birth: date | None
    birth_year: int
    sex: str | None
    address: str | None
    registered_clinic: str | None
    valid_from: date | None
    valid_to: date | None
    date_of_issue: date | None
    management_code: str | None = None
    guardian_name: str | None = None
    residence_code: str | None = None
    five_years_from: date | None = None
    check_string: str | None = None
    benefit_code: str | None = None
    reissuing_office: str | None = None


def _clean(text: str) -> str:
    """NFC, no byte-order mark, runs of blanks collapsed, trimmed."""
    t = unicodedata.normalize("NFC", text).replace("\ufeff", "")
    return " ".join(t.split())


def _empty(value: str) -> bool:
    v = value.strip()
    return not v or v in _DASHES


def decode_hex_text(value: str) -> str:
    """``value`` decoded as hex of UTF-8 when it is even-length hex and valid UTF-8, else as is."""
    v = value.strip()
    if _HEX.match(v):
        try:
            return binascii.unhexlify(v).decode("utf-8")
        except UnicodeDecodeError:
            return value
    return value


def _text(value: str, field: str, label: str, *, hex_encoded: bool) -> str | None:
    """A free-text field: hex-decoded when asked, cleaned; None when empty or ``-``."""
    if _empty(value):
        return None
    t = _clean(decode_hex_text(value) if hex_encoded else value)
    if not t or t in _DASHES:
        return None
    if len(t) > MAX_TEXT:
        raise BhytQRError(f"{label}: longer than {MAX_TEXT} characters", field=field)
    if not all(c.isprintable() for c in t):
        raise BhytQRError(f"{label}: contains control characters", field=field)
    return t


def _date(value: str, field: str, label: str, *, year_only: bool = False) -> date | int:
    """``dd/mm/yyyy`` (blanks around ignored), or ``yyyy`` when ``year_only`` is allowed."""
    v = value.strip()
    if year_only and len(v) == 4 and v.isascii() and v.isdigit():
        year = int(v)
        if not 1900 <= year <= 2100:
            raise BhytQRError(f"{label}: the year is not plausible", field=field)
        return year
    m = _DDMMYYYY.match(v) if v.isascii() else None
    if m is None:
        form = "dd/mm/yyyy or yyyy" if year_only else "dd/mm/yyyy"
        raise BhytQRError(f"{label}: not a date; expected {form}", field=field)
    day, month, year = (int(g) for g in m.groups())
    if not 1900 <= year <= 2100:
        raise BhytQRError(f"{label}: the year is not plausible", field=field)
    try:
        return date(year, month, day)
    except ValueError:
        raise BhytQRError(f"{label}: not a calendar date", field=field) from None


def _optional_date(value: str, field: str, label: str) -> date | None:
    if _empty(value):
        return None
    d = _date(value, field, label)
    assert isinstance(d, date)
    return d


def _card_number(value: str) -> str:
    v = "".join(value.split()).upper()
    ok = v.isascii() and (
        (len(v) == 10 and v.isdigit()) or (len(v) == 15 and v.isalnum() and v[:2].isalpha())
    )
    if not ok:
        raise BhytQRError(
            f"card number: {len(v)} characters; expected 10 digits (new cards) "
            "or 15 characters (old cards, 2 letters then digits)",
            field="card_number",
        )
    return v


def normalise_clinic_code(value: str) -> str | None:
    """``maDKBD`` as 5 characters: ``"01 - C54"`` → ``"01C54"``; None when empty or ``-``.

    Raises :class:`BhytQRError` when what is left is not 5 letters or digits.
    """
    if _empty(value):
        return None
    v = "".join(c for c in value if c not in _DASHES and not c.isspace()).upper()
    if not (len(v) == 5 and v.isascii() and v.isalnum()):
        raise BhytQRError(
            "registered clinic (maDKBD): expected 5 letters or digits like '01 - C54'",
            field="registered_clinic",
        )
    return v


def _sex(value: str) -> str | None:
    v = _clean(value).casefold()
    if not v or v in _DASHES:
        return None
    if v not in _SEX:
        raise BhytQRError("sex: expected 1 (Nam) or 2 (Nữ)", field="sex")
    return _SEX[v]


def _opaque(value: str) -> str | None:
    """A code kept as scanned (blanks around removed); None when empty or ``-``."""
    if _empty(value):
        return None
    v = value.strip()
    if len(v) > MAX_TEXT or not v.isprintable():
        raise BhytQRError("a code field is too long or has control characters", field="qr")
    return v


def _split(text: str) -> list[str]:
    """The fields, without the closing ``$`` (and a trailing empty field or line end)."""
    if not isinstance(text, str):
        raise BhytQRError("BHYT QR code: expected text", field="qr")
    if len(text) > MAX_BHYT_QR_BYTES or (
        len(text.encode("utf-8", "surrogatepass")) > MAX_BHYT_QR_BYTES
    ):
        raise BhytQRError(
            f"BHYT QR code: more than {MAX_BHYT_QR_BYTES} bytes; a BHYT QR code is much shorter",
            field="qr",
        )
    t = text.replace("\ufeff", "").strip()
    fields = t.split("|")
    if len(fields) > 1 and fields[-1].strip() in ("$", ""):
        fields = fields[:-1]
    n = len(fields)
    if n != OLD_FORM_FIELDS and not NEW_FORM_FIELDS <= n <= MAX_FIELDS:
        raise BhytQRError(
            f"BHYT QR code: found {n} fields; expected {NEW_FORM_FIELDS} fields ending in '|$' "
            f"(or {OLD_FORM_FIELDS} on old cards) — scan the whole code again",
            field="qr",
        )
    return fields


def parse_bhyt_qr(text: str) -> BhytCard:
    """Parse the text a keyboard-wedge scanner types for a BHYT card QR (either form)."""
    f = _split(text)
    card_number = _card_number(f[0])
    full_name = _text(f[1], "full_name", "full name", hex_encoded=True)
    if full_name is None:
        raise BhytQRError("full name: empty; expected the holder's name", field="full_name")
    born = _date(f[2], "date_of_birth", "date of birth", year_only=True)
    dob = born if isinstance(born, date) else None
    birth_year = born.year if isinstance(born, date) else born
    valid_from = _optional_date(f[6], "valid_from", "valid from (gtTheTu)")
    valid_to = _optional_date(f[7], "valid_to", "valid to (gtTheDen)")
    if valid_from is not None and valid_to is not None and valid_to < valid_from:
        raise BhytQRError("valid to: before valid from", field="valid_to")
    current = len(f) >= NEW_FORM_FIELDS
    return BhytCard(
        form="current" if current else "old",
        card_number=card_number,
        full_name=full_name,
        date_of_birth=dob,
        birth_year=birth_year,
        sex=_sex(f[3]),
        address=_text(f[4], "address", "address", hex_encoded=True),
        registered_clinic=normalise_clinic_code(f[5]),
        valid_from=valid_from,
        valid_to=valid_to,
        date_of_issue=_optional_date(f[8], "date_of_issue", "date of issue"),
        management_code=_opaque(f[9]) if current else None,
        guardian_name=(
            _text(f[10], "guardian_name", "parent or guardian", hex_encoded=False)
            if current
            else None
        ),
        residence_code=_opaque(f[11]) if current else None,
        five_years_from=(
            _optional_date(f[12], "five_years_from", "five years from") if current else None
        ),
        check_string=_opaque(f[13]) if current else None,
        benefit_code=_opaque(f[14]) if current else None,
        reissuing_office=(
            _text(f[15], "reissuing_office", "re-issuing office", hex_encoded=True)
            if current
            else None
        ),
    )
