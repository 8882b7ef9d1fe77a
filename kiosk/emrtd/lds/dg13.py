"""DG13 of the Vietnamese CCCD: the holder's personal data in Vietnamese (tag ``6D``).

Layout (see ``CCCD.md``; not an ICAO structure, Vietnam's own use of DG13)::

    6D L
     30 L
      02 01 01                 version
      06 06 28 D3 16 01 00 08  OID (charset marker)
      31 L                     SET OF SEQUENCE { INTEGER field_no, value }

Field numbers: 1 ID number, 2 full name, 3 date of birth, 4 sex, 5 nationality,
6 ethnicity, 7 religion, 8 place of origin, 9 place of residence, 10
identifying marks, 11 date of issue, 12 date of expiry (may read "Không thời
hạn"), 13 parents (father, mother), 14 spouse (absent value when unmarried),
15 old 9-digit CMND number (present with no value for holders too young to
have had one), 16 a 16-character PrintableString that looks like hex (real
cards: ``0294…0000``), most likely a chip or card serial — exposed as
:attr:`DG13.card_serial`, never as the old ID.

Facts from real cards' published data: fields arrive 1…16 in ascending
order; field 12 is a UTF8String; fields 14 and 15 can be present without a
value. A modelled field present without a value is "none" (recorded in
``empty_fields`` so the file re-encodes byte for byte), not an unknown field.

Parsing is tolerant because layouts differ between card generations: fields
are found by number, not position; any may be missing; any ASN.1 string type
is read, also wrapped in a SEQUENCE; field 13 collects every string beneath it (father first, mother
second) and field 14 its first string. A field that cannot be read as text,
and any field number not listed above, is kept as raw DER in
``unknown_fields`` so nothing is lost. All text is NFC-normalised (cards and
keyboards mix NFC and NFD Vietnamese) and keeps its diacritics.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from kiosk.emrtd import tlv
from kiosk.emrtd.errors import LDSParseError
from kiosk.emrtd.lds._common import children, decode_uint, encode_int, outer_object
from kiosk.emrtd.lds.files import DATA_GROUPS

#: Expiry text on cards that never expire (holders aged 60 and over).
NO_EXPIRY_TEXT = "Không thời hạn"
#: The OID in the DG13 header on cards: ISO/IEC 10646 UTF-8 (``28 D3 16 01 00 08``).
DG13_OID = "1.0.10646.1.0.8"
_DG13_OID_DER = bytes.fromhex("060628D316010008")
_DG13_VERSION = 1

_TAG = 0x6D
_INFO = DATA_GROUPS[13]
_SEQUENCE = 0x30
_SET = 0x31
_INTEGER = 0x02
_OID = 0x06
_UTF8 = 0x0C
_PRINTABLE = 0x13
#: Most fields accepted (the card has 16).
MAX_FIELDS = 64

# Field numbers (CCCD.md).
F_ID_NUMBER = 1
F_FULL_NAME = 2
F_DATE_OF_BIRTH = 3
F_SEX = 4
F_NATIONALITY = 5
F_ETHNICITY = 6
F_RELIGION = 7
F_PLACE_OF_ORIGIN = 8
F_PLACE_OF_RESIDENCE = 9
F_IDENTIFYING_MARKS = 10
F_DATE_OF_ISSUE = 11
F_DATE_OF_EXPIRY = 12
F_PARENTS = 13
F_SPOUSE = 14
F_OLD_ID_NUMBER = 15
F_FIELD16 = 16

#: Single-string fields: number → dataclass attribute.
_TEXT_FIELDS: dict[int, str] = {
    F_ID_NUMBER: "id_number",
    F_FULL_NAME: "full_name",
    F_DATE_OF_BIRTH: "date_of_birth",
    F_SEX: "sex",
    F_NATIONALITY: "nationality",
    F_ETHNICITY: "ethnicity",
    F_RELIGION: "religion",
    F_PLACE_OF_ORIGIN: "place_of_origin",
    F_PLACE_OF_RESIDENCE: "place_of_residence",
    F_IDENTIFYING_MARKS: "identifying_marks",
    F_DATE_OF_ISSUE: "date_of_issue",
    F_DATE_OF_EXPIRY: "date_of_expiry",
    F_OLD_ID_NUMBER: "old_id_number",
}
#: Fields the card writes as PrintableString (the rest are UTF8String).
_PRINTABLE_FIELDS = frozenset(
    {F_ID_NUMBER, F_DATE_OF_BIRTH, F_DATE_OF_ISSUE, F_OLD_ID_NUMBER, F_FIELD16}
)
#: Universal string types (and OCTET STRING, seen holding UTF-8) read as text.
_STRING_TAGS = frozenset({_UTF8, _PRINTABLE, 0x04, 0x12, 0x14, 0x16, 0x1A, 0x1B, 0x1C, 0x1E})
_PRINTABLE_CHARS = re.compile(r"[A-Za-z0-9 '()+,\-./:=?]*")
#: Field numbers this module reads into named attributes.
_MODELLED = frozenset({*_TEXT_FIELDS, F_PARENTS, F_SPOUSE, F_FIELD16})


@dataclass(frozen=True)
class DG13:
    """The CCCD's personal data. Dates stay text as printed (``dd/mm/yyyy``); see
    :func:`parse_vn_date`. ``unknown_fields`` holds ``(field number, raw DER of the
    value elements)`` pairs for fields not modelled or not readable as text."""

    id_number: str | None = None
    full_name: str | None = None
    date_of_birth: str | None = None
    sex: str | None = None
    nationality: str | None = None
    ethnicity: str | None = None
    religion: str | None = None
    place_of_origin: str | None = None
    place_of_residence: str | None = None
    identifying_marks: str | None = None
    date_of_issue: str | None = None
    date_of_expiry: str | None = None
    father_name: str | None = None
    mother_name: str | None = None
    spouse_name: str | None = None
    old_id_number: str | None = None
    field16_raw: bytes | None = None
    unknown_fields: tuple[tuple[int, bytes], ...] = ()
    #: Modelled fields present on the card with no value (e.g. 15: never had a CMND), in
    #: number order; field 14 is not listed (it is always written, empty when unmarried).
    empty_fields: tuple[int, ...] = ()

    @property
    def birth_date(self) -> datetime.date | None:
        """:attr:`date_of_birth` as a date, or None."""
        return parse_vn_date(self.date_of_birth)

    @property
    def issue_date(self) -> datetime.date | None:
        """:attr:`date_of_issue` as a date, or None."""
        return parse_vn_date(self.date_of_issue)

    @property
    def expiry_date(self) -> datetime.date | None:
        """:attr:`date_of_expiry` as a date; None for "Không thời hạn" or unreadable text."""
        return parse_vn_date(self.date_of_expiry)

    @property
    def has_no_expiry(self) -> bool:
        """True when the card says it never expires ("Không thời hạn")."""
        text = self.date_of_expiry
        return text is not None and _fold(text) == _fold(NO_EXPIRY_TEXT)

    @property
    def card_serial(self) -> str | None:
        """Field 16 as text: a 16-character hex-looking value on real cards (``0294…0000``),
        most likely the chip's or card's serial (unconfirmed). Never the old ID number."""
        return self.field16_text

    @property
    def field16_text(self) -> str | None:
        """Field 16 read as ASCII/UTF-8 text when it is text, else None."""
        if self.field16_raw is None:
            return None
        try:
            return unicodedata.normalize("NFC", self.field16_raw.decode("utf-8"))
        except UnicodeDecodeError:
            return None


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip().casefold()


_DATE_RE = re.compile(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})")
_COMPACT_DATE_RE = re.compile(r"(\d{2})(\d{2})(\d{4})")


def parse_vn_date(text: str | None) -> datetime.date | None:
    """A Vietnamese card date (``dd/mm/yyyy``, also ``dd-mm-yyyy``, ``dd.mm.yyyy``,
    ``ddmmyyyy``) as a date; None for None, "Không thời hạn" and anything that is not a
    valid calendar date."""
    if text is None:
        return None
    text = unicodedata.normalize("NFC", text).strip()
    match = _DATE_RE.fullmatch(text) or _COMPACT_DATE_RE.fullmatch(text)
    if match is None:
        return None
    day, month, year = (int(g) for g in match.groups())
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


# --------------------------------------------------------------------------- parsing


def _decode_string(tag: int, value: bytes) -> str | None:
    """Text of a primitive ASN.1 string (or OCTET STRING holding UTF-8); None if not text."""
    try:
        if tag in (_UTF8, 0x04, 0x1B):  # UTF8String, OCTET STRING, GeneralString
            text = value.decode("utf-8")
        elif tag in (_PRINTABLE, 0x12, 0x16, 0x1A):  # Printable, Numeric, IA5, Visible
            text = value.decode("ascii")
        elif tag == 0x14:  # T61String: in practice Latin-1
            text = value.decode("latin-1")
        elif tag == 0x1E:  # BMPString
            text = value.decode("utf-16-be")
        elif tag == 0x1C:  # UniversalString
            text = value.decode("utf-32-be")
        else:
            return None
    except UnicodeDecodeError:
        return None
    return unicodedata.normalize("NFC", text)


def _strings_under(data: bytes, start: int, end: int, depth: int, out: list[str]) -> bool:
    """Append every string found beneath ``data[start:end]`` (document order).

    Constructed elements are searched, other non-string elements (an INTEGER
    sub-number, NULL) skipped. Returns False when a string element does not
    decode (the caller then keeps the field raw).
    """
    if depth > 4:
        return False
    for tag, _, vs, ve in children(data, start, end, "DG13", limit=MAX_FIELDS):
        if tlv.is_constructed(tag):
            if not _strings_under(data, vs, ve, depth + 1, out):
                return False
        elif tag in _STRING_TAGS:
            text = _decode_string(tag, data[vs:ve])
            if text is None:
                return False
            out.append(text)
    return True


def parse(data: bytes) -> DG13:
    """Parse DG13; trailing padding after the file is ignored.

    Raises :class:`LDSParseError` when the envelope (6D / SEQUENCE / SET of
    field SEQUENCEs with an INTEGER number first) is broken; individual field
    values never make the parse fail (they end up in ``unknown_fields``).
    """
    data = bytes(data)
    start, end = outer_object(data, _TAG, _INFO.name, _INFO.max_size)
    top = children(data, start, end, "DG13", limit=1)
    if len(top) != 1 or top[0][0] != _SEQUENCE:
        raise LDSParseError("DG13: expected one SEQUENCE under 6D")
    _, _, s_start, s_end = top[0]
    parts = children(data, s_start, s_end, "DG13", limit=8)
    field_set = [p for p in parts if p[0] == _SET]
    if len(field_set) != 1:
        raise LDSParseError("DG13: expected one SET of fields")
    values: dict[str, Any] = {}
    unknown: list[tuple[int, bytes]] = []
    empty: list[int] = []
    seen: set[int] = set()
    _, _, f_start, f_end = field_set[0]
    for tag, _, vs, ve in children(data, f_start, f_end, "DG13", limit=MAX_FIELDS):
        if tag != _SEQUENCE:
            raise LDSParseError(f"DG13: field element tag {tag:X}, expected 30")
        elems = children(data, vs, ve, "DG13", limit=MAX_FIELDS)
        if not elems or elems[0][0] != _INTEGER:
            raise LDSParseError("DG13: field without its INTEGER number")
        number = decode_uint(data[elems[0][2] : elems[0][3]], "DG13 field number")
        if number in seen:
            raise LDSParseError(f"DG13: field {number} repeated")
        seen.add(number)
        if len(elems) == 1 and number in _MODELLED:
            # Present with no value: "none" (14 unmarried, 15 no old CMND), not unknown.
            if number != F_SPOUSE:
                empty.append(number)
            continue
        raw_start = elems[1][1] if len(elems) > 1 else ve
        if not _read_field(number, data, elems[1:], (raw_start, ve), values):
            unknown.append((number, data[raw_start:ve]))
    return DG13(**values, unknown_fields=tuple(sorted(unknown)), empty_fields=tuple(sorted(empty)))


def _read_field(
    number: int,
    data: bytes,
    elems: list[tuple[int, int, int, int]],
    span: tuple[int, int],
    values: dict[str, Any],
) -> bool:
    """Store field ``number`` (value elements ``elems``, spanning ``span``) into ``values``.

    Returns False when the field must be kept raw instead.
    """
    if number in (F_PARENTS, F_SPOUSE):
        found: list[str] = []
        if not _strings_under(data, span[0], span[1], 1, found):
            return False
        if number == F_PARENTS:
            if len(found) > 2:
                return False  # an unexpected layout: keep it all
            values["father_name"] = found[0] if found else None
            values["mother_name"] = found[1] if len(found) > 1 else None
        else:
            if len(found) > 1:
                return False
            values["spouse_name"] = found[0] if found else None
        return True
    if number == F_FIELD16:
        if len(elems) != 1 or tlv.is_constructed(elems[0][0]):
            return False
        values["field16_raw"] = data[elems[0][2] : elems[0][3]]
        return True
    attr = _TEXT_FIELDS.get(number)
    if attr is None:
        return False
    # Usually one string; a string wrapped in a SEQUENCE is accepted too.
    texts: list[str] = []
    if not _strings_under(data, span[0], span[1], 1, texts) or len(texts) != 1:
        return False
    values[attr] = texts[0]
    return True


# --------------------------------------------------------------------------- encoding


def _string_tlv(number: int, text: str) -> bytes:
    raw = text.encode("utf-8")
    if number in _PRINTABLE_FIELDS and _PRINTABLE_CHARS.fullmatch(text):
        return tlv.encode(_PRINTABLE, raw)
    return tlv.encode(_UTF8, raw)


def _field(number: int, value: bytes) -> bytes:
    return tlv.encode(_SEQUENCE, tlv.encode(_INTEGER, encode_int(number)) + value)


def encode(dg13: DG13) -> bytes:
    """DG13 in the card's layout, for the card simulator.

    PrintableString for fields 1, 3, 11, 15 and 16 (UTF8String if the text
    does not fit PrintableString's alphabet), UTF8String for the others;
    field 13 as ``SEQUENCE { UTF8String father }`` then ``SEQUENCE { UTF8String
    mother }``; field 14 always present, with ``SEQUENCE { UTF8String spouse }``
    or no value when unmarried. Missing fields are omitted; ``unknown_fields``
    are written back as stored, in number order with the rest, and ``empty_fields`` as
    fields without a value. Raises ValueError for a mother's name without a father's, a
    field both modelled and in ``unknown_fields``, or an ``empty_fields`` entry that has a
    value or is not a modelled field.
    """
    out: dict[int, bytes] = {}
    for number, attr in _TEXT_FIELDS.items():
        text = getattr(dg13, attr)
        if text is not None:
            out[number] = _field(number, _string_tlv(number, text))
    if dg13.father_name is not None or dg13.mother_name is not None:
        if dg13.father_name is None:
            raise ValueError("DG13: cannot encode a mother's name without a father's name")
        parents = tlv.encode(_SEQUENCE, tlv.encode(_UTF8, dg13.father_name.encode("utf-8")))
        if dg13.mother_name is not None:
            parents += tlv.encode(_SEQUENCE, tlv.encode(_UTF8, dg13.mother_name.encode("utf-8")))
        out[F_PARENTS] = _field(F_PARENTS, parents)
    spouse = b""
    if dg13.spouse_name is not None:
        spouse = tlv.encode(_SEQUENCE, tlv.encode(_UTF8, dg13.spouse_name.encode("utf-8")))
    out[F_SPOUSE] = _field(F_SPOUSE, spouse)
    if dg13.field16_raw is not None:
        out[F_FIELD16] = _field(F_FIELD16, tlv.encode(_PRINTABLE, dg13.field16_raw))
    for number in dg13.empty_fields:
        if number not in _MODELLED:
            raise ValueError(f"DG13: empty field {number} is not a modelled field")
        if number == F_SPOUSE and dg13.spouse_name is None:
            continue  # written empty anyway
        if number in out:
            raise ValueError(f"DG13: field {number} both empty and with a value")
        out[number] = _field(number, b"")
    for number, raw in dg13.unknown_fields:
        if number in out and (number != F_SPOUSE or dg13.spouse_name is not None):
            raise ValueError(f"DG13: field {number} both modelled and in unknown_fields")
        out[number] = _field(number, raw)
    body = b"".join(out[n] for n in sorted(out))
    header = tlv.encode(_INTEGER, encode_int(_DG13_VERSION)) + _DG13_OID_DER
    return tlv.encode(_TAG, tlv.encode(_SEQUENCE, header + tlv.encode(_SET, body)))
