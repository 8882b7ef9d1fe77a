"""What staff type by hand (reception's manual entry): checked before it is journaled.

A typed name is NFC-normalised, its runs of spaces folded, and refused when it is empty, longer
than :data:`MAX_NAME_CHARS`, holds no letter, or holds a control, format (bidi overrides,
zero-width characters), private-use or unassigned character — those would reach the journal,
the HIS and every screen. A birth date must lie between :data:`EARLIEST_BIRTH_YEAR` and today.
Errors are :class:`~kiosk.emrtd.errors.AccessKeyError` with ``field`` set and never echo the
value (it is personal data).
"""

from __future__ import annotations

import unicodedata
from datetime import date

from kiosk.emrtd.errors import AccessKeyError

#: Longest full name accepted (the longest Vietnamese names are well under 60 characters).
MAX_NAME_CHARS = 100
#: Earliest birth year accepted.
EARLIEST_BIRTH_YEAR = 1900
#: Unicode general categories refused in a typed name.
_REFUSED = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def typed_name(text: str, field: str = "full_name") -> str:
    """``text`` as a clean full name (NFC, single spaces), or :class:`AccessKeyError`."""
    name = " ".join(unicodedata.normalize("NFC", text).split())
    if not name:
        raise AccessKeyError("full name: empty; expected the patient's name", field=field)
    if len(name) > MAX_NAME_CHARS:
        raise AccessKeyError(f"full name: longer than {MAX_NAME_CHARS} characters", field=field)
    if any(unicodedata.category(c) in _REFUSED for c in name):
        raise AccessKeyError(
            "full name: holds control or invisible characters; type it again", field=field
        )
    if not any(c.isalpha() for c in name):
        raise AccessKeyError("full name: expected letters", field=field)
    return name


def typed_birth_date(value: date, *, today: date | None = None) -> date:
    """``value`` if it is a plausible birth date, else :class:`AccessKeyError`."""
    if value.year < EARLIEST_BIRTH_YEAR:
        raise AccessKeyError(f"date of birth: before {EARLIEST_BIRTH_YEAR}", field="date_of_birth")
    if value > (today or date.today()):
        raise AccessKeyError("date of birth: in the future", field="date_of_birth")
    return value
