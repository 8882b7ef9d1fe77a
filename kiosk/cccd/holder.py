"""The card holder as the kiosk shows them: DG13 first, DG1 (the MRZ) to fill gaps.

DG13 carries the Vietnamese text with diacritics; DG1 carries the MRZ in
ASCII. Dates come out as :class:`datetime.date`. ``date_of_expiry`` None means
"not known" unless ``no_expiry`` is set: only a card that says so (DG13's
"Không thời hạn", or the MRZ's ``991231``) has no expiry; an unreadable or
missing expiry must never be shown as "no expiry".
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from kiosk.cccd.mrz import id_number_of
from kiosk.emrtd.lds.dg1 import DG1
from kiosk.emrtd.lds.dg13 import DG13, parse_vn_date
from kiosk.emrtd.mrz import NO_EXPIRY

_SEX_FROM_MRZ = {"M": "Nam", "F": "Nữ"}


@dataclass(frozen=True)
class Holder:
    """Personal data of the card holder (keys match the CLI's JSON ``holder`` object)."""

    id_number: str | None
    full_name: str | None
    date_of_birth: date | None
    sex: str | None
    nationality: str | None
    ethnicity: str | None
    religion: str | None
    place_of_origin: str | None
    place_of_residence: str | None
    identifying_marks: str | None
    date_of_issue: date | None
    date_of_expiry: date | None
    father_name: str | None
    mother_name: str | None
    spouse_name: str | None
    old_id_number: str | None
    #: The card says it never expires ("Không thời hạn" / MRZ 991231); False when unknown.
    no_expiry: bool = False
    #: DG13 field 16: a 16-character hex-looking value, likely the card's serial (not the old ID).
    card_serial: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict: dates as ISO 8601 strings, absent values as None."""
        out = asdict(self)
        for k, v in out.items():
            if isinstance(v, date):
                out[k] = v.isoformat()
        return out


def _nfc(text: str | None) -> str | None:
    if text is None:
        return None
    text = unicodedata.normalize("NFC", text).strip()
    return text or None


def holder_from(dg13: DG13 | None, dg1: DG1 | None) -> Holder:
    """Merge DG13 and DG1 into one :class:`Holder`."""
    mrz = dg1.mrz if dg1 is not None else None
    d = dg13
    id_number = (d.id_number if d else None) or (id_number_of(mrz) if mrz else None)
    full_name = _nfc(d.full_name if d else None) or (mrz.name if mrz else None)
    dob = parse_vn_date(d.date_of_birth) if d else None
    if dob is None and mrz is not None:
        dob = mrz.birth_date()
    sex = _nfc(d.sex if d else None) or (_SEX_FROM_MRZ.get(mrz.sex) if mrz else None)
    expiry: date | None = None
    no_expiry = False
    if d is not None and d.has_no_expiry:
        no_expiry = True  # "Không thời hạn": the card really has no expiry
    else:
        if d is not None:
            expiry = parse_vn_date(d.date_of_expiry)
        if expiry is None and mrz is not None:
            expiry = mrz.expiry_date  # DG13 text unreadable: the MRZ still says when
            # Only DG13 missing or silent lets the MRZ's 991231 say "no expiry".
            no_expiry = (
                expiry is None
                and mrz.date_of_expiry == NO_EXPIRY
                and (d is None or d.date_of_expiry is None)
            )
    return Holder(
        id_number=id_number,
        full_name=full_name,
        date_of_birth=dob,
        sex=sex,
        nationality=_nfc(d.nationality if d else None),
        ethnicity=_nfc(d.ethnicity if d else None),
        religion=_nfc(d.religion if d else None),
        place_of_origin=_nfc(d.place_of_origin if d else None),
        place_of_residence=_nfc(d.place_of_residence if d else None),
        identifying_marks=_nfc(d.identifying_marks if d else None),
        date_of_issue=parse_vn_date(d.date_of_issue) if d else None,
        date_of_expiry=expiry,
        father_name=_nfc(d.father_name if d else None),
        mother_name=_nfc(d.mother_name if d else None),
        spouse_name=_nfc(d.spouse_name if d else None),
        old_id_number=_nfc(d.old_id_number if d else None),
        no_expiry=no_expiry,
        card_serial=_nfc(d.card_serial if d else None),
    )
