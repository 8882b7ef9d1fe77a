"""Access keys for BAC / PACE from what a patient hands over: the card's QR, its MRZ, its ID.

A CCCD chip opens with PACE using the CAN, which is the last 6 digits of the
12-digit ID number; many chips also accept BAC (or PACE) with the MRZ key
(document number = last 9 digits of the ID, date of birth, date of expiry).
The QR code on the front gives the ID and the birth date but not the expiry,
so the expiry is guessed from the renewal rule of the identity-card law and
the session tries a short list of keys in order: the CAN first, then at most
:data:`MAX_EXPIRY_ATTEMPTS` MRZ keys, most likely first.

Everything here takes text typed by a keyboard-wedge scanner or by staff and
raises :class:`AccessKeyError` (``field`` set) with a message that says which
field is wrong and what is expected.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal, TypeAlias

from kiosk.emrtd.errors import AccessKeyError
from kiosk.emrtd.mrz import (
    NO_EXPIRY,
    TD1,
    TD3,
    looks_like_mrz,
    parse_mrz,
    yymmdd,
)
from kiosk.emrtd.passwords import CAN, AccessKey, MRZKey

#: Most MRZ keys (expiry guesses) a session tries after the CAN.
MAX_EXPIRY_ATTEMPTS = 4
#: Ages at which a card must be renewed (Law 26/2023/QH15 art. 21, cards from 1 July 2024).
RENEWAL_AGES = (14, 25, 40, 60)
#: Renewal ages of cards issued under the 2014 law (no card below 14).
RENEWAL_AGES_2014 = (25, 40, 60)
#: Day Law 26/2023/QH15 took effect (cards for children under 14 exist from then on).
LAW_2023_EFFECTIVE = date(2024, 7, 1)
#: Chip CCCDs were first issued in 2021; no chip card expired before it was issued.
CHIP_CARDS_SINCE = date(2021, 1, 1)
#: A card issued this many years (or less) before a renewal age runs to the next one.
RENEWAL_WINDOW_YEARS = 2
#: Alternative no-expiry value tried last: 2024 cards are not confirmed to write 991231.
NO_EXPIRY_FILLERS = "<<<<<<"
#: Largest QR text accepted, in UTF-8 bytes (a CCCD QR is about 150).
MAX_QR_BYTES = 1024


InputKind: TypeAlias = Literal["cccd_qr", "bhyt_qr", "mrz", "id_number", "unknown"]


def _digits(value: str, n: int) -> bool:
    return len(value) == n and value.isascii() and value.isdigit()


@dataclass(frozen=True)
class CCCDQRData:
    """What the QR code on the front of a CCCD says (text NFC-normalised, diacritics kept).

    ``sex`` is ``"Nam"`` or ``"Nữ"``; ``old_id_number`` is the previous
    9-digit CMND (or 12-digit) number when printed.
    """

    id_number: str
    old_id_number: str | None
    full_name: str
    date_of_birth: date
    sex: str
    address: str
    date_of_issue: date | None

    @property
    def mrz_sex(self) -> str:
        """The sex as the MRZ writes it: M or F."""
        return "M" if self.sex == "Nam" else "F"


# --------------------------------------------------------------------------- parsing


def _clean(text: str) -> str:
    """NFC, no byte-order mark, runs of blanks collapsed, trimmed."""
    t = unicodedata.normalize("NFC", text).replace("\ufeff", "")
    return " ".join(t.split())


def _parse_id(value: str, field: str = "id_number") -> str:
    compact = "".join(value.split())
    if not _digits(compact, 12):
        got = f"{len(compact)} characters" if compact else "nothing"
        raise AccessKeyError(
            f"ID number: expected the 12 digits of the CCCD number, got {got}", field=field
        )
    return compact


def _parse_ddmmyyyy(value: str, field: str, label: str) -> date:
    compact = re.sub(r"[/.\-\s]", "", value)
    if not _digits(compact, 8):
        raise AccessKeyError(f"{label}: not valid; expected ddmmyyyy", field=field)
    try:
        d = date(int(compact[4:]), int(compact[2:4]), int(compact[:2]))
    except ValueError:
        raise AccessKeyError(
            f"{label}: not a calendar date; expected ddmmyyyy", field=field
        ) from None
    if d.year < 1900:
        raise AccessKeyError(f"{label}: the year is not plausible", field=field)
    return d


def _parse_sex(value: str) -> str:
    v = _clean(value).casefold()
    if v in ("nam", "m"):
        return "Nam"
    if v in ("nữ", "nu", "f"):
        return "Nữ"
    raise AccessKeyError(f"sex: {value!r} is not valid; expected Nam or Nữ", field="sex")


def _parse_name(value: str) -> str:
    name = _clean(value)
    if not name:
        raise AccessKeyError("full name: empty; expected the holder's name", field="full_name")
    if len(name) > 100 or not all(c.isalpha() or c in " '-." for c in name):
        raise AccessKeyError(
            "full name: not valid; expected letters and spaces",
            field="full_name",
        )
    return name


def parse_cccd_qr(text: str) -> CCCDQRData:
    """Parse the QR text of a CCCD as a keyboard-wedge scanner types it.

    Accepted layouts (fields separated by ``|``)::

        ID12|oldID|NAME|ddmmyyyy|Nam/Nữ|address|issue ddmmyyyy     7 fields
        ID12|NAME|ddmmyyyy|Nam/Nữ|address|issue ddmmyyyy           6 fields
        the 7 fields above followed by 4 more                     11 fields

    Surrounding blanks and a trailing CR/LF (or a trailing ``|``) are
    ignored; text is NFC-normalised. The old ID and the issue date may be
    empty. Input over :data:`MAX_QR_BYTES` is refused.
    """
    if not isinstance(text, str):
        raise AccessKeyError("QR code: expected text", field="qr")
    if len(text) > MAX_QR_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_QR_BYTES:
        raise AccessKeyError(
            f"QR code: more than {MAX_QR_BYTES} bytes; a CCCD QR code is much shorter",
            field="qr",
        )
    t = unicodedata.normalize("NFC", text).replace("\ufeff", "").strip()
    fields = t.split("|")
    # Field 1 is the old ID (digits or empty) in the 7- and 11-field layouts, the name
    # in the 6-field one; that also tells a trailing '|' from an empty issue date.
    has_old_id = len(fields) > 1 and (not fields[1].strip() or fields[1].strip().isdigit())
    fits = len(fields) in (7, 11) if has_old_id else len(fields) == 6
    if not fits and len(fields) - 1 in (6, 7, 11) and not fields[-1].strip():
        fields = fields[:-1]
    if len(fields) == 6:
        id_f, name_f, dob_f, sex_f, addr_f, issue_f = fields
        old_f = ""
    elif len(fields) in (7, 11):
        id_f, old_f, name_f, dob_f, sex_f, addr_f, issue_f = fields[:7]
    else:
        raise AccessKeyError(
            f"QR code: found {len(fields)} fields; a CCCD QR code has 6 or 7 fields "
            "separated by '|' (ID|old ID|name|birth date|sex|address|issue date)",
            field="qr",
        )
    id_number = _parse_id(id_f)
    old = "".join(old_f.split())
    if old and not (_digits(old, 9) or _digits(old, 12)):
        raise AccessKeyError(
            "old ID number: not valid; expected 9 or 12 digits or nothing",
            field="old_id_number",
        )
    full_name = _parse_name(name_f)
    dob = _parse_ddmmyyyy(dob_f, "date_of_birth", "date of birth")
    sex = _parse_sex(sex_f)
    address = _clean(addr_f)
    if not all(c.isprintable() for c in address):
        raise AccessKeyError("address: contains control characters", field="address")
    issue = None
    if issue_f.strip():
        issue = _parse_ddmmyyyy(issue_f, "date_of_issue", "date of issue")
        if issue < dob:
            raise AccessKeyError(
                "date of issue: before the date of birth",
                field="date_of_issue",
            )
    return CCCDQRData(
        id_number=id_number,
        old_id_number=old or None,
        full_name=full_name,
        date_of_birth=dob,
        sex=sex,
        address=address,
        date_of_issue=issue,
    )


def detect_input(text: str) -> InputKind:
    """What a keyboard-wedge line is: a CCCD QR, a BHYT (health insurance) QR, an MRZ,
    a typed 12-digit ID number, or unknown. Never raises; does not validate contents.

    Pipe-separated text follows the rule hospital software uses: field 0 of 10
    or 15 characters and at least 9 fields (before the closing ``$``) is a
    BHYT QR; field 0 of 12 digits with 6, 7 or 11 fields is a CCCD QR.
    """
    if not isinstance(text, str) or len(text) > 4 * MAX_QR_BYTES:
        return "unknown"
    t = text.replace("\ufeff", "").strip()
    if "|" in t:
        fields = t.split("|")
        head = fields[0].strip()
        last = fields[-1].strip()
        if len(head) in (10, 15) and len(fields) - (last in ("$", "")) >= 9:
            return "bhyt_qr"
        counts = (6, 7, 11)
        if _digits(head, 12) and (
            len(fields) in counts or (not last and len(fields) - 1 in counts)
        ):
            return "cccd_qr"
        return "unknown"
    if looks_like_mrz(t):
        return "mrz"
    if _digits("".join(t.split()), 12):
        return "id_number"
    return "unknown"


# --------------------------------------------------------------------------- keys


def key_from_id(id_number: str) -> CAN:
    """The PACE CAN of a CCCD: the last 6 digits of its 12-digit ID (blanks ignored)."""
    if not isinstance(id_number, str):
        raise AccessKeyError("ID number: expected text", field="id_number")
    return CAN(_parse_id(id_number)[-6:])


def key_from_mrz(text: str) -> MRZKey:
    """The MRZ key from a typed or scanned MRZ (TD1, or TD3 for passports).

    Every check digit is verified first, so a typo is reported with its
    field instead of surfacing later as a failed BAC.
    """
    mrz: TD1 | TD3 = parse_mrz(text)
    return MRZKey(mrz.document_number, mrz.date_of_birth, mrz.date_of_expiry)


def _birthday(date_of_birth: date, age: int) -> date:
    """The day ``age`` is reached; 29 February falls back to 28 February."""
    try:
        return date_of_birth.replace(year=date_of_birth.year + age)
    except ValueError:
        return date(date_of_birth.year + age, 2, 28)


def _expiry_after(date_of_birth: date, issued: date, ages: tuple[int, ...]) -> str:
    """Expiry of a card issued on ``issued``: the next renewal age's birthday, or the one
    after when issued within :data:`RENEWAL_WINDOW_YEARS` of it; none after the last age.
    """
    upcoming = [a for a in ages if _birthday(date_of_birth, a) > issued]
    if upcoming and issued >= _birthday(date_of_birth, upcoming[0] - RENEWAL_WINDOW_YEARS):
        upcoming = upcoming[1:]
    if not upcoming:
        return NO_EXPIRY
    return yymmdd(_birthday(date_of_birth, upcoming[0]))


def expiry_candidates(
    date_of_birth: date, today: date, date_of_issue: date | None = None
) -> list[str]:
    """Likely MRZ expiry dates (``YYMMDD``) of a CCCD, most likely first, at most
    :data:`MAX_EXPIRY_ATTEMPTS`, without duplicates.

    The rule (Law 26/2023/QH15 art. 21; the 2014 law without age 14): a card
    runs to the holder's birthday at the next renewal age (14, 25, 40, 60);
    issued within 2 years before that age it runs to the following one;
    issued at 58 or later it does not expire (:data:`NO_EXPIRY`).

    With the issue date (the QR has it) the first candidate is the rule's
    answer. Then, from the age today: the next renewal birthday; the one after
    it when today is inside the 2-year window (the card may have been issued
    there); the last renewal birthday already passed (a card not yet renewed);
    dropping dates no chip card can have (issued before 2021, or expiring at 14
    but issued before the 2023 law); and, when no expiry is possible,
    ``<<<<<<`` after ``991231`` (the value of 2024 cards is unconfirmed).
    """
    if date_of_birth > today:
        raise AccessKeyError("date of birth: in the future", field="date_of_birth")
    if date_of_issue is not None and date_of_issue < date_of_birth:
        raise AccessKeyError(
            f"date of issue: {date_of_issue:%d/%m/%Y} is before the date of birth",
            field="date_of_issue",
        )
    out: list[str] = []
    if date_of_issue is not None:
        ages = RENEWAL_AGES if date_of_issue >= LAW_2023_EFFECTIVE else RENEWAL_AGES_2014
        out.append(_expiry_after(date_of_birth, date_of_issue, ages))

    def plausible(age: int) -> bool:
        # A chip card expiring at ``age`` was issued before ``age - 2`` and after chip
        # cards (or, for 14, cards for children) existed.
        since = LAW_2023_EFFECTIVE if age == 14 else CHIP_CARDS_SINCE
        return _birthday(date_of_birth, age - RENEWAL_WINDOW_YEARS) > since

    upcoming = [a for a in RENEWAL_AGES if _birthday(date_of_birth, a) > today]
    passed = [a for a in RENEWAL_AGES if _birthday(date_of_birth, a) <= today]
    guesses: list[tuple[str, bool]] = []
    if upcoming:
        guesses.append((yymmdd(_birthday(date_of_birth, upcoming[0])), plausible(upcoming[0])))
        if today >= _birthday(date_of_birth, upcoming[0] - RENEWAL_WINDOW_YEARS):
            later = upcoming[1:]
            guesses.append(
                (yymmdd(_birthday(date_of_birth, later[0])) if later else NO_EXPIRY, True)
            )
    else:
        guesses.append((NO_EXPIRY, True))
    if passed:
        guesses.append((yymmdd(_birthday(date_of_birth, passed[-1])), plausible(passed[-1])))
    out.extend([g for g, ok in guesses if ok] or [guesses[0][0]])
    if NO_EXPIRY in out:
        out.append(NO_EXPIRY_FILLERS)
    unique = list(dict.fromkeys(out))
    return unique[:MAX_EXPIRY_ATTEMPTS]


def _keys(
    id_number: str, date_of_birth: date, today: date | None, date_of_issue: date | None
) -> list[AccessKey]:
    keys: list[AccessKey] = [CAN(id_number[-6:])]
    dob = yymmdd(date_of_birth)
    for expiry in expiry_candidates(date_of_birth, today or date.today(), date_of_issue):
        keys.append(MRZKey(id_number[-9:], dob, expiry))
    return keys


def keys_from_id_and_birth(
    id_number: str,
    date_of_birth: date,
    today: date | None = None,
    date_of_issue: date | None = None,
) -> list[AccessKey]:
    """Keys to try for a CCCD known by its ID and birth date: the CAN, then MRZ keys
    (document number = last 9 digits of the ID) over :func:`expiry_candidates`.
    """
    if not isinstance(id_number, str):
        raise AccessKeyError("ID number: expected text", field="id_number")
    return _keys(_parse_id(id_number), date_of_birth, today, date_of_issue)


def keys_from_qr(text: str, today: date | None = None) -> list[AccessKey]:
    """Keys to try from the CCCD QR text: the CAN first, then MRZ keys whose expiry
    comes from the birth and issue dates in the QR (see :func:`expiry_candidates`).
    """
    qr = parse_cccd_qr(text)
    return _keys(qr.id_number, qr.date_of_birth, today, qr.date_of_issue)


def keys_from_text(text: str) -> list[AccessKey] | None:
    """Access keys from one line a patient or receptionist gives: a 6-digit CAN, the 12-digit
    ID (its CAN), the CCCD QR text or the three MRZ lines; None when it is none of these or
    does not validate. What the Qt key screen and the terminal kiosk both accept."""
    value = text.strip()
    try:
        digits = "".join(value.split())
        if len(digits) == 6 and digits.isascii() and digits.isdigit():
            return [CAN(digits)]
        kind = detect_input(value)
        if kind == "id_number":
            return [key_from_id(value)]
        if kind == "cccd_qr":
            return keys_from_qr(value)
        if kind == "mrz":
            return [key_from_mrz(value)]
    except AccessKeyError:
        return None
    return None
