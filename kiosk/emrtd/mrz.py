"""Machine readable zone (ICAO 9303-3/-4/-5): check digits, TD1 and TD3 parsing and composing.

The kiosk meets an MRZ in three places: typed or scanned from the back of a
CCCD (to derive the BAC / PACE-MRZ key), in DG1 read from the chip, and in
the card simulator, which composes one. Parsing is strict about every check
digit because a single wrong character in the key makes BAC fail with a
meaningless "access denied" on the chip; the error instead names the field
(``MRZError.field``) so that reception staff know what to re-type.

The CCCD's own layout and its composer live in :mod:`kiosk.cccd.mrz`; this module is
plain ICAO 9303 and knows no issuing state.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from kiosk.emrtd.errors import MRZError

_WEIGHTS = (7, 3, 1)

#: Characters of a TD1 line / a TD3 line.
TD1_LINE_LENGTH = 30
TD3_LINE_LENGTH = 44
#: Longest text :func:`parse_mrz` looks at (a TD1 with separators is ~95 characters).
MAX_MRZ_INPUT = 512
#: Expiry written on CCCDs that do not expire ("không thời hạn", holders over 60).
NO_EXPIRY = "991231"
#: Longest document number the TD1 long-number rule can hold (9 + 13 in the optional data).
MAX_DOCUMENT_NUMBER = 22

_MRZ_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<")
_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ<")
_DATE_CHARS = frozenset("0123456789<")
_SEXES = frozenset("MFX<")


def char_value(c: str) -> int:
    """ICAO 9303-3 value of an MRZ character: digits, A=10..Z=35, '<'=0."""
    if "0" <= c <= "9":
        return ord(c) - 48
    if "A" <= c <= "Z":
        return ord(c) - 55
    if c == "<":
        return 0
    raise MRZError(f"character {c!r} is not allowed in an MRZ")


def check_digit(field: str) -> str:
    """The ICAO 9303-3 check digit (weights 7-3-1, modulo 10) of ``field`` as a character."""
    total = 0
    for i, c in enumerate(field):
        total += char_value(c) * _WEIGHTS[i % 3]
    return str(total % 10)


# --------------------------------------------------------------------------- helpers


def mrz_information(document_number: str, date_of_birth: str, date_of_expiry: str) -> str:
    """The BAC / PACE-MRZ key input (9303-11 §9.7.2): number+cd, birth+cd, expiry+cd.

    A number shorter than 9 characters is padded with fillers; a longer one
    (9303-5 long document number) is used whole, followed by its check digit.
    """
    number = document_number.ljust(9, "<")
    return (
        number
        + check_digit(number)
        + date_of_birth
        + check_digit(date_of_birth)
        + date_of_expiry
        + check_digit(date_of_expiry)
    )


def yymmdd(d: date) -> str:
    """A date as the MRZ writes it (``YYMMDD``)."""
    return f"{d.year % 100:02d}{d.month:02d}{d.day:02d}"


def _ymd(value: str, century: int) -> date | None:
    if len(value) != 6 or not value.isdigit():
        return None
    try:
        return date(century + int(value[:2]), int(value[2:4]), int(value[4:]))
    except ValueError:
        return None


def birth_date(value: str, today: date | None = None) -> date | None:
    """The birth date an MRZ ``YYMMDD`` stands for: the latest century not in the future.

    None when the field is not a full date (9303 writes unknown parts as '<').
    """
    today = today or date.today()
    d = _ymd(value, 2000)
    if d is not None and d <= today:
        return d
    return _ymd(value, 1900)


def expiry_date(value: str) -> date | None:
    """The expiry an MRZ ``YYMMDD`` stands for (2000–2099), or None.

    None for :data:`NO_EXPIRY` (cards that do not expire) and for non-dates
    such as ``<<<<<<``.
    """
    if value == NO_EXPIRY:
        return None
    return _ymd(value, 2000)


#: Letters that Unicode decomposition does not reduce to A–Z (9303-3 §6 transliteration).
_TRANSLITERATION = {
    "Đ": "D",
    "Ð": "D",
    "Æ": "AE",
    "Ø": "OE",
    "Œ": "OE",
    "ß": "SS",
    "ẞ": "SS",
    "Þ": "TH",
    "Ł": "L",
    "Ĳ": "IJ",
}


def transliterate(text: str, field: str = "name") -> str:
    """A readable name in MRZ characters: diacritics dropped, Đ→D, separators → '<'.

    ``"Nguyễn Thị Ánh Tuyết"`` → ``"NGUYEN<THI<ANH<TUYET"``. Apostrophes are
    omitted and spaces, hyphens and commas become one filler each (9303-3);
    runs of fillers collapse and leading/trailing ones go. A character with
    no Latin transliteration raises :class:`MRZError` naming ``field``.
    """
    out: list[str] = []
    for ch in unicodedata.normalize("NFC", text):
        upper = ch.upper() if len(ch.upper()) == 1 else ch
        if upper in _TRANSLITERATION:
            out.append(_TRANSLITERATION[upper])
            continue
        base = "".join(
            c for c in unicodedata.normalize("NFD", upper) if not unicodedata.combining(c)
        )
        if base and all("A" <= c <= "Z" for c in base):
            out.append(base)
        elif ch in "'’`ʼ":
            continue
        elif ch.isspace() or ch in "-‐,.<":
            out.append("<")
        else:
            raise MRZError(
                f"{_LABELS.get(field, field)}: character {ch!r} cannot be written in an MRZ "
                "(letters only)",
                field=field,
            )
    return re.sub("<+", "<", "".join(out)).strip("<")


def mrz_name(surname: str, given_names: str, length: int = TD1_LINE_LENGTH) -> str:
    """The MRZ name field: ``SURNAME<<GIVEN<NAMES`` padded with fillers to ``length``.

    Too long a name is truncated as 9303-3 shows it: the last secondary
    identifier components are cut down to initials first, then earlier ones
    are shortened, then the primary identifier; the field then ends with a
    letter, which marks a possible truncation.
    """
    sur = [p for p in transliterate(surname, "surname").split("<") if p]
    giv = [p for p in transliterate(given_names, "given_names").split("<") if p]
    if not sur and not giv:
        raise MRZError("surname: a name is required", field="surname")

    def build() -> str:
        return "<".join(sur) + ("<<" + "<".join(giv) if giv else "")

    for parts in (giv, sur):
        for i in reversed(range(len(parts))):
            excess = len(build()) - length
            if excess <= 0:
                break
            parts[i] = parts[i][: max(1, len(parts[i]) - excess)]
    field = build()
    if len(field) > length:
        field = field[:length].rstrip("<")
    return field.ljust(length, "<")


def _parse_name(field: str) -> tuple[str, str]:
    """Readable (surname, given names) from an MRZ name field; fillers become spaces."""
    primary, sep, secondary = field.rstrip("<").partition("<<")
    if not sep:
        secondary = ""
    surname = " ".join(p for p in primary.split("<") if p)
    given = " ".join(p for p in secondary.split("<") if p)
    return surname, given


def mrz_sex(value: str) -> str:
    """The MRZ sex character for ``M``/``F``/``X``/``<`` or the Vietnamese ``Nam``/``Nữ``."""
    v = unicodedata.normalize("NFC", value).strip().upper()
    mapped = {"NAM": "M", "NỮ": "F", "NU": "F", "": "<"}.get(v, v)
    if mapped not in _SEXES:
        raise MRZError(
            f"sex: {value!r} is not valid; expected M, F, X, '<', Nam or Nữ", field="sex"
        )
    return mapped


_LABELS = {
    "mrz": "MRZ",
    "line1": "MRZ line 1",
    "line2": "MRZ line 2",
    "line3": "MRZ line 3",
    "document_code": "document code",
    "issuing_state": "issuing state",
    "document_number": "document number",
    "date_of_birth": "date of birth",
    "date_of_expiry": "date of expiry",
    "sex": "sex",
    "nationality": "nationality",
    "personal_number": "personal number",
    "optional_data": "optional data",
    "composite": "composite check digit",
    "surname": "surname",
    "given_names": "given names",
}


# --------------------------------------------------------------------------- input shaping


def _input_lines(text: str) -> list[str]:
    """Non-empty lines of ``text``, without blanks, upper-cased.

    Lines may be separated by LF, CR or CRLF, or by a literal ``\\n`` that a
    user typed into a text box.
    """
    if not isinstance(text, str):
        raise MRZError("MRZ: expected text", field="mrz")
    if len(text) > MAX_MRZ_INPUT:
        raise MRZError(
            f"MRZ: input is {len(text)} characters long; an MRZ has at most 90", field="mrz"
        )
    t = text.replace("\\r\\n", "\n").replace("\\n", "\n").replace("\\r", "\n")
    t = t.replace("\r\n", "\n").replace("\r", "\n")
    lines = []
    for raw in t.split("\n"):
        line = "".join(raw.split())
        if line:
            lines.append(line.upper() if line.isascii() else line)
    return lines


def _shape(text: str, count: int, length: int, kind: str) -> list[str]:
    """``count`` MRZ lines of ``length`` characters from user or chip text.

    A single run of ``count × length`` characters is split. A line that is
    short is padded with fillers, except one ending in a check digit (typists
    drop trailing '<', and the composite check catches a wrongly padded line 1).
    """
    lines = _input_lines(text)
    if len(lines) == 1 and len(lines[0]) == count * length:
        lines = [lines[0][i * length : (i + 1) * length] for i in range(count)]
    if len(lines) != count:
        raise MRZError(
            f"MRZ: a {kind} MRZ has {count} lines of {length} characters "
            f"(or {count * length} characters in one line); got {len(lines)} lines",
            field="mrz",
        )
    out = []
    for i, line in enumerate(lines, 1):
        name = f"line{i}"
        ends_in_check_digit = i == 2
        if len(line) > length or (ends_in_check_digit and len(line) != length):
            raise MRZError(
                f"MRZ line {i}: {len(line)} characters; a {kind} line has {length}", field=name
            )
        for pos, c in enumerate(line, 1):
            if c not in _MRZ_CHARS:
                raise MRZError(
                    f"MRZ line {i}, position {pos}: character {c!r} is not allowed "
                    "(only A–Z, 0–9 and '<')",
                    field=name,
                )
        out.append(line.ljust(length, "<"))
    return out


def _check_chars(value: str, allowed: frozenset[str], field: str, expected: str) -> None:
    if any(c not in allowed for c in value):
        raise MRZError(f"{_LABELS[field]}: not valid; expected {expected}", field=field)


def _verify(
    field: str, value: str, digit: str, strict: bool, errors: list[str], what: str = ""
) -> None:
    """Compare a printed check digit with the computed one; raise or record a mismatch.

    A field made only of fillers may carry '<' as its check digit.
    """
    expected = check_digit(value)
    if digit == expected or (digit == "<" and set(value) <= {"<"}):
        return
    if strict:
        raise MRZError(
            f"{_LABELS[field]}: the check digit does not match; re-check the {_LABELS[field]}",
            field=field,
        )
    errors.append(field)


# --------------------------------------------------------------------------- TD1


class _HolderFields:
    """Readable name and dates, shared by :class:`TD1` and :class:`TD3`."""

    surname: str
    given_names: str
    date_of_birth: str
    date_of_expiry: str

    @property
    def name(self) -> str:
        """Readable name, "SURNAME GIVEN NAMES" (without diacritics: the MRZ has none)."""
        return f"{self.surname} {self.given_names}".strip()

    def birth_date(self, today: date | None = None) -> date | None:
        """Date of birth as a date (century resolved against ``today``), or None."""
        return birth_date(self.date_of_birth, today)

    @property
    def expiry_date(self) -> date | None:
        """Date of expiry as a date; None for no-expiry cards and non-dates."""
        return expiry_date(self.date_of_expiry)


@dataclass(frozen=True)
class TD1(_HolderFields):
    """A three-line, 30-character MRZ (ID cards, 9303-5), with fillers removed from fields.

    ``document_number`` is the full number, including the part the long
    document number rule moves into the optional data. ``date_of_birth`` and
    ``date_of_expiry`` stay as printed (``YYMMDD``; expiry may be
    :data:`NO_EXPIRY` or a non-date). ``check_digit_errors`` lists fields whose
    check digit failed when parsed with ``strict=False`` (always empty
    otherwise).
    """

    document_code: str
    issuing_state: str
    document_number: str
    optional_data_1: str
    date_of_birth: str
    sex: str
    date_of_expiry: str
    nationality: str
    optional_data_2: str
    surname: str
    given_names: str
    lines: tuple[str, str, str]
    check_digit_errors: tuple[str, ...] = ()

    @property
    def mrz_information(self) -> str:
        """BAC / PACE-MRZ key input, using the check digits as printed on the document."""
        line1, line2, _ = self.lines
        if line1[14] == "<" and line1[15] != "<":
            number = self.document_number
            ext_end = 15 + len(number) - 9
            doc = number + line1[ext_end]
        else:
            doc = line1[5:15]
        return doc + line2[0:7] + line2[8:15]


def parse_td1(text: str, *, strict: bool = True) -> TD1:
    """Parse a TD1 MRZ: three lines (LF/CR/CRLF or a typed ``\\n``) or 90 characters.

    Blanks are removed and letters upper-cased. Every check digit is verified
    (document number, date of birth, date of expiry, composite) and the first
    wrong one raises :class:`MRZError` whose ``field`` names it. With
    ``strict=False`` (data read from a chip, already protected by the SOD)
    wrong check digits are listed in ``check_digit_errors`` instead; layout
    errors always raise.
    """
    line1, line2, line3 = _shape(text, 3, TD1_LINE_LENGTH, "TD1")
    errors: list[str] = []

    if line1[0] not in "IAC" or line1[1] not in _LETTERS:
        raise MRZError(
            f"document code: {line1[0:2]!r} is not a TD1 document code (I, A or C first)",
            field="document_code",
        )
    _check_chars(line1[2:5], _LETTERS, "issuing_state", "three letters such as VNM")
    _check_chars(line2[0:6], _DATE_CHARS, "date_of_birth", "six digits YYMMDD")
    if line2[7] not in _SEXES:
        raise MRZError(f"sex: {line2[7]!r} is not valid; expected M, F, X or '<'", field="sex")
    _check_chars(line2[8:14], _DATE_CHARS, "date_of_expiry", "six digits YYMMDD")
    _check_chars(line2[15:18], _LETTERS, "nationality", "three letters such as VNM")

    number_field, digit, optional = line1[5:14], line1[14], line1[15:30]
    if digit == "<" and optional[0] != "<":
        # 9303-5 long document number: the rest of the number and its check digit
        # open the optional data, closed by a filler.
        end = optional.find("<")
        extension = optional if end < 0 else optional[:end]
        number = number_field + extension[:-1]
        digit = extension[-1]
        optional_1 = "" if end < 0 else optional[end + 1 :]
        _verify("document_number", number, digit, strict, errors)
    else:
        number = number_field.rstrip("<")
        optional_1 = optional
        _verify("document_number", number_field, digit, strict, errors, number)
    _verify("date_of_birth", line2[0:6], line2[6], strict, errors)
    _verify("date_of_expiry", line2[8:14], line2[14], strict, errors)
    _verify(
        "composite",
        line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29],
        line2[29],
        strict,
        errors,
        "lines 1 and 2",
    )
    surname, given = _parse_name(line3)
    return TD1(
        document_code=line1[0:2].rstrip("<"),
        issuing_state=line1[2:5].rstrip("<"),
        document_number=number,
        optional_data_1=optional_1.rstrip("<"),
        date_of_birth=line2[0:6],
        sex=line2[7],
        date_of_expiry=line2[8:14],
        nationality=line2[15:18].rstrip("<"),
        optional_data_2=line2[18:29].rstrip("<"),
        surname=surname,
        given_names=given,
        lines=(line1, line2, line3),
        check_digit_errors=tuple(errors),
    )


def _field(value: str, length: int, field: str, allowed: frozenset[str] = _MRZ_CHARS) -> str:
    """Upper-case ``value``, check its characters and pad it with fillers to ``length``."""
    v = value.upper().replace(" ", "<") if value.isascii() else value
    if len(v) > length:
        raise MRZError(f"{_LABELS[field]}: longer than {length} characters", field=field)
    if any(c not in allowed for c in v):
        raise MRZError(
            f"{_LABELS[field]}: has characters not allowed in an MRZ (only A–Z, 0–9 and '<')",
            field=field,
        )
    return v.ljust(length, "<")


def _date_field(value: date | str | None, field: str) -> str:
    if value is None:
        return NO_EXPIRY
    if isinstance(value, date):
        return yymmdd(value)
    if len(value) != 6 or any(c not in _DATE_CHARS for c in value):
        raise MRZError(f"{_LABELS[field]}: not valid; expected six digits YYMMDD", field=field)
    return value


def compose_td1(
    *,
    document_code: str = "I",
    issuing_state: str,
    document_number: str,
    date_of_birth: date | str,
    sex: str,
    date_of_expiry: date | str | None,
    nationality: str,
    surname: str,
    given_names: str,
    optional_data_1: str = "",
    optional_data_2: str = "",
) -> TD1:
    """Build a TD1 MRZ with every check digit computed (simulator, tests).

    Dates are dates or ``YYMMDD`` strings; an expiry of None writes
    :data:`NO_EXPIRY`. A document number longer than 9 characters follows the
    9303-5 long-number rule. Names are readable text and are transliterated
    and truncated by :func:`mrz_name`. The result is re-parsed, so what is
    returned is exactly what :func:`parse_td1` makes of the lines.
    """
    number = document_number.upper() if document_number.isascii() else document_number
    if not 1 <= len(number) <= MAX_DOCUMENT_NUMBER or any(c not in _MRZ_CHARS for c in number):
        raise MRZError(
            f"document number: not valid; expected 1 to {MAX_DOCUMENT_NUMBER} letters or digits",
            field="document_number",
        )
    opt1 = optional_data_1.upper() if optional_data_1.isascii() else optional_data_1
    if len(number) > 9:
        if number.endswith("<"):
            raise MRZError(
                "document number: a long document number may not end with '<'",
                field="document_number",
            )
        number_field = number[:9] + "<"
        opt1 = number[9:] + check_digit(number) + "<" + opt1
    else:
        number_field = number.ljust(9, "<") + check_digit(number.ljust(9, "<"))
    line1 = (
        _field(document_code, 2, "document_code", _LETTERS)
        + _field(issuing_state, 3, "issuing_state", _LETTERS)
        + number_field
        + _field(opt1, 15, "optional_data")
    )
    dob = _date_field(date_of_birth, "date_of_birth")
    expiry = _date_field(date_of_expiry, "date_of_expiry")
    line2 = (
        dob
        + check_digit(dob)
        + mrz_sex(sex)
        + expiry
        + check_digit(expiry)
        + _field(nationality, 3, "nationality", _LETTERS)
        + _field(optional_data_2, 11, "optional_data")
    )
    line2 += check_digit(line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29])
    line3 = mrz_name(surname, given_names, TD1_LINE_LENGTH)
    return parse_td1("\n".join((line1, line2, line3)))


# --------------------------------------------------------------------------- TD3


@dataclass(frozen=True)
class TD3(_HolderFields):
    """A two-line, 44-character MRZ (passports, 9303-4), with fillers removed from fields."""

    document_code: str
    issuing_state: str
    surname: str
    given_names: str
    document_number: str
    nationality: str
    date_of_birth: str
    sex: str
    date_of_expiry: str
    personal_number: str
    lines: tuple[str, str]
    check_digit_errors: tuple[str, ...] = ()

    @property
    def mrz_information(self) -> str:
        """BAC / PACE-MRZ key input, using the check digits as printed."""
        line2 = self.lines[1]
        return line2[0:10] + line2[13:20] + line2[21:28]


def parse_td3(text: str, *, strict: bool = True) -> TD3:
    """Parse a TD3 (passport) MRZ: two lines or 88 characters; as :func:`parse_td1`."""
    line1, line2 = _shape(text, 2, TD3_LINE_LENGTH, "TD3")
    errors: list[str] = []
    if line1[0] != "P" or line1[1] not in _LETTERS:
        raise MRZError(
            f"document code: {line1[0:2]!r} is not a passport code (P first)",
            field="document_code",
        )
    _check_chars(line1[2:5], _LETTERS, "issuing_state", "three letters")
    _check_chars(line2[10:13], _LETTERS, "nationality", "three letters")
    _check_chars(line2[13:19], _DATE_CHARS, "date_of_birth", "six digits YYMMDD")
    if line2[20] not in _SEXES:
        raise MRZError(f"sex: {line2[20]!r} is not valid; expected M, F, X or '<'", field="sex")
    _check_chars(line2[21:27], _DATE_CHARS, "date_of_expiry", "six digits YYMMDD")
    _verify("document_number", line2[0:9], line2[9], strict, errors, line2[0:9].rstrip("<"))
    _verify("date_of_birth", line2[13:19], line2[19], strict, errors)
    _verify("date_of_expiry", line2[21:27], line2[27], strict, errors)
    _verify("personal_number", line2[28:42], line2[42], strict, errors)
    _verify(
        "composite",
        line2[0:10] + line2[13:20] + line2[21:43],
        line2[43],
        strict,
        errors,
        "line 2",
    )
    surname, given = _parse_name(line1[5:44])
    return TD3(
        document_code=line1[0:2].rstrip("<"),
        issuing_state=line1[2:5].rstrip("<"),
        surname=surname,
        given_names=given,
        document_number=line2[0:9].rstrip("<"),
        nationality=line2[10:13].rstrip("<"),
        date_of_birth=line2[13:19],
        sex=line2[20],
        date_of_expiry=line2[21:27],
        personal_number=line2[28:42].rstrip("<"),
        lines=(line1, line2),
        check_digit_errors=tuple(errors),
    )


def compose_td3(
    *,
    document_code: str = "P",
    issuing_state: str,
    document_number: str,
    date_of_birth: date | str,
    sex: str,
    date_of_expiry: date | str | None,
    nationality: str,
    surname: str,
    given_names: str,
    personal_number: str = "",
) -> TD3:
    """Build a TD3 MRZ with every check digit computed (tests, simulator)."""
    number = _field(document_number, 9, "document_number")
    personal = _field(personal_number, 14, "personal_number")
    dob = _date_field(date_of_birth, "date_of_birth")
    expiry = _date_field(date_of_expiry, "date_of_expiry")
    line1 = (
        _field(document_code, 2, "document_code", _LETTERS)
        + _field(issuing_state, 3, "issuing_state", _LETTERS)
        + mrz_name(surname, given_names, TD3_LINE_LENGTH - 5)
    )
    line2 = (
        number
        + check_digit(number)
        + _field(nationality, 3, "nationality", _LETTERS)
        + dob
        + check_digit(dob)
        + mrz_sex(sex)
        + expiry
        + check_digit(expiry)
        + personal
        + check_digit(personal)
    )
    line2 += check_digit(line2[0:10] + line2[13:20] + line2[21:43])
    return parse_td3(line1 + "\n" + line2)


def parse_mrz(text: str, *, strict: bool = True) -> TD1 | TD3:
    """Parse a TD1 or TD3 MRZ, chosen by its shape (3 lines / 90 characters → TD1).

    Anything else is reported as a TD1 problem, since the kiosk reads ID cards.
    """
    lines = _input_lines(text)
    looks_td3 = (len(lines) == 1 and len(lines[0]) == 2 * TD3_LINE_LENGTH) or (
        len(lines) == 2 and len(lines[1]) == TD3_LINE_LENGTH
    )
    if looks_td3:
        return parse_td3(text, strict=strict)
    return parse_td1(text, strict=strict)


def looks_like_mrz(text: str) -> bool:
    """True when ``text`` has the shape of a TD1 or TD3 MRZ (check digits not verified)."""
    try:
        lines = _input_lines(text)
    except MRZError:
        return False
    joined = "".join(lines)
    if not joined or any(c not in _MRZ_CHARS for c in joined):
        return False
    if len(lines) == 1:
        return len(joined) in (3 * TD1_LINE_LENGTH, 2 * TD3_LINE_LENGTH)
    if len(lines) == 3:
        return all(len(x) <= TD1_LINE_LENGTH for x in lines) and len(lines[1]) == 30
    if len(lines) == 2:
        return len(lines[1]) == TD3_LINE_LENGTH and len(lines[0]) <= TD3_LINE_LENGTH
    return False
