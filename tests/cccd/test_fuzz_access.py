"""Property tests for every reader of user and chip input on the access-key path.

Junk into QR / MRZ / ID / DG1 readers raises only project errors; composing
then parsing gives back what was composed, Vietnamese names included; a single
wrong digit under a check digit is always caught and blamed on its field.
"""

from __future__ import annotations

import contextlib
import unicodedata
from datetime import date, timedelta
from typing import Literal

from hypothesis import assume, given
from hypothesis import strategies as st

from kiosk.cccd.access import (
    CAN,
    MAX_EXPIRY_ATTEMPTS,
    MRZKey,
    detect_input,
    expiry_candidates,
    key_from_id,
    key_from_mrz,
    keys_from_id_and_birth,
    keys_from_qr,
    parse_cccd_qr,
)
from kiosk.cccd.mrz import compose_cccd_td1, id_number_check_ok, id_number_of
from kiosk.emrtd.errors import AccessKeyError, LDSParseError, MRZError
from kiosk.emrtd.lds import dg1
from kiosk.emrtd.mrz import (
    TD1,
    check_digit,
    compose_td1,
    looks_like_mrz,
    parse_mrz,
    parse_td1,
    parse_td3,
    transliterate,
)

# --------------------------------------------------------------------------- strategies

_TONES = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")
_VOWELS = "aăâeêioôơuưy"
VIETNAMESE_LETTERS = sorted(
    {unicodedata.normalize("NFC", v + t) for v in _VOWELS for t in _TONES}
    | set("bcdđghklmnpqrstvx")
)
VIETNAMESE_LETTERS += [c.upper() for c in VIETNAMESE_LETTERS]

word = st.text(alphabet=VIETNAMESE_LETTERS, min_size=1, max_size=7)
words = st.lists(word, min_size=1, max_size=5)
digits = st.text(alphabet="0123456789", min_size=1, max_size=1)
id_numbers = st.text(alphabet="0123456789", min_size=12, max_size=12)
birth_dates = st.dates(min_value=date(1926, 1, 1), max_value=date(2024, 12, 31))
todays = st.dates(min_value=date(2025, 1, 1), max_value=date(2040, 12, 31))
mrz_chars = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<", max_size=100)
separators = st.sampled_from(["\n", "\r\n", "\\n", "", " "])


@st.composite
def mrz_like(draw: st.DrawFn) -> str:
    """Text that looks like an MRZ: right alphabet, about the right lengths, separators."""
    n = draw(st.integers(1, 4))
    lines = [
        draw(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<", min_size=25, max_size=46))
        for _ in range(n)
    ]
    return draw(separators).join(lines)


@st.composite
def pipe_like(draw: st.DrawFn) -> str:
    """Pipe-separated junk with plausible pieces (IDs, dates, Vietnamese words)."""
    pieces = st.one_of(
        id_numbers,
        st.text(alphabet="0123456789", max_size=10),
        word,
        st.text(max_size=20),
        st.sampled_from(["Nam", "Nữ", "$", "", "05011993", "31/12/2020"]),
    )
    return "|".join(draw(st.lists(pieces, min_size=1, max_size=16)))


junk_text = st.one_of(st.text(max_size=300), mrz_like(), pipe_like(), mrz_chars)


# --------------------------------------------------------------------------- junk in


@given(junk_text)
def test_text_readers_raise_only_access_key_errors(text: str) -> None:
    readers = (
        parse_td1,
        parse_td3,
        parse_mrz,
        parse_cccd_qr,
        key_from_id,
        key_from_mrz,
        keys_from_qr,
        lambda t: keys_from_id_and_birth(t, date(1990, 1, 1), date(2025, 1, 1)),
    )
    for reader in readers:
        try:
            reader(text)
        except AccessKeyError as exc:
            assert exc.field, f"{reader} raised without a field"
            assert str(exc)


@given(junk_text)
def test_detection_never_raises(text: str) -> None:
    assert detect_input(text) in ("cccd_qr", "bhyt_qr", "mrz", "id_number", "unknown")
    assert isinstance(looks_like_mrz(text), bool)


@given(st.binary(max_size=200))
def test_dg1_junk_raises_only_lds_errors(data: bytes) -> None:
    with contextlib.suppress(LDSParseError):
        assert isinstance(dg1.parse(data), dg1.DG1)


@given(
    st.one_of(
        st.binary(min_size=90, max_size=90),
        st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<", min_size=90, max_size=90).map(
            str.encode
        ),
    )
)
def test_dg1_well_framed_junk_raises_only_lds_errors(payload: bytes) -> None:
    with contextlib.suppress(LDSParseError):
        parsed = dg1.parse(bytes.fromhex("615D5F1F5A") + payload)
        assert "".join(parsed.mrz.lines).encode() == payload


@given(st.text(max_size=8), st.text(max_size=8), st.text(max_size=8))
def test_key_constructors_raise_only_access_key_errors(a: str, b: str, c: str) -> None:
    for build in (lambda: CAN(a), lambda: MRZKey(a, b, c)):
        try:
            build()
        except AccessKeyError as exc:
            assert exc.field


# --------------------------------------------------------------------------- round trips


@given(
    id_numbers,
    birth_dates,
    st.sampled_from(["M", "F", "Nam", "Nữ"]),
    st.one_of(st.none(), st.dates(min_value=date(2025, 1, 1), max_value=date(2098, 12, 31))),
    word,
    words,
)
def test_cccd_compose_parse_round_trip(
    id_number: str, dob: date, sex: str, expiry: date | None, surname: str, given: list[str]
) -> None:
    mrz = compose_cccd_td1(id_number, dob, sex, expiry, surname, " ".join(given))
    assert all(len(line) == 30 for line in mrz.lines)
    again = parse_td1("".join(mrz.lines))
    assert again == mrz
    assert id_number_of(again) == id_number
    assert id_number_check_ok(again) is True
    assert again.document_number == id_number[-9:]
    assert again.birth_date(date(2025, 1, 1)) == dob
    assert again.expiry_date == expiry
    assert dg1.parse(dg1.DG1(mrz).encode()).mrz == mrz
    assert key_from_mrz("\n".join(mrz.lines)) == MRZKey(
        id_number[-9:], mrz.date_of_birth, mrz.date_of_expiry
    )
    expected_sur = transliterate(surname)
    expected_given = " ".join(transliterate(w) for w in given)
    if len(expected_sur) + 2 + len(expected_given) <= 30:
        assert mrz.surname == expected_sur
        assert mrz.given_names == expected_given
    else:
        assert mrz.lines[2][-1].isalpha()  # truncation marker
        assert mrz.surname == expected_sur[: len(mrz.surname)]


@given(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=14),
    birth_dates,
    st.sampled_from(["991231", "<<<<<<", "300101"]),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", max_size=11),
)
def test_td1_compose_parse_round_trip(number: str, dob: date, expiry: str, opt2: str) -> None:
    mrz = compose_td1(
        issuing_state="UTO",
        document_number=number,
        date_of_birth=dob,
        sex="X",
        date_of_expiry=expiry,
        nationality="UTO",
        surname="Test",
        given_names="Anna",
        optional_data_2=opt2,
    )
    assert mrz.document_number == number
    assert mrz.optional_data_2 == opt2
    assert parse_td1("\\n".join(mrz.lines)) == mrz
    assert mrz.mrz_information == MRZKey(number, mrz.date_of_birth, expiry).mrz_information


def _qr_text(
    id_number: str, old: str | None, name: str, dob: date, sex: str, addr: str, issue: date | None
) -> str:
    fields = [id_number] + ([old] if old is not None else [])
    fields += [name, f"{dob:%d%m%Y}", sex, addr, f"{issue:%d%m%Y}" if issue else ""]
    return "|".join(fields)


@given(
    id_numbers,
    st.one_of(st.none(), st.just(""), st.text(alphabet="0123456789", min_size=9, max_size=9)),
    words,
    birth_dates,
    st.sampled_from(["Nam", "Nữ"]),
    st.lists(word, max_size=8),
    st.one_of(st.none(), st.integers(0, 20000)),
    st.sampled_from(["", "\r\n", "\n", "  \r\n"]),
    st.sampled_from(["NFC", "NFD"]),
)
def test_qr_compose_parse_round_trip(
    id_number: str,
    old: str | None,
    name_words: list[str],
    dob: date,
    sex: str,
    address_words: list[str],
    issue_days: int | None,
    ending: str,
    form: Literal["NFC", "NFD"],
) -> None:
    name = " ".join(name_words)
    address = " ".join(address_words)
    issue = dob + timedelta(days=issue_days) if issue_days is not None else None
    text = _qr_text(id_number, old, name, dob, sex, address, issue) + ending
    qr = parse_cccd_qr(unicodedata.normalize(form, text))
    assert qr.id_number == id_number
    assert qr.old_id_number == (old or None)
    assert qr.full_name == unicodedata.normalize("NFC", name)
    assert qr.date_of_birth == dob
    assert qr.sex == sex
    assert qr.address == unicodedata.normalize("NFC", address)
    assert qr.date_of_issue == issue
    assert detect_input(text) == "cccd_qr"
    keys = keys_from_qr(text, today=date(2045, 1, 1))
    assert keys[0] == CAN(id_number[-6:]) == key_from_id(id_number)
    assert 2 <= len(keys) <= 1 + MAX_EXPIRY_ATTEMPTS


# --------------------------------------------------------------------------- check digits


_COVERED = {
    # (line, position) ranges of a CCCD TD1 and the field a changed digit is blamed on.
    "document_number": [(0, p) for p in range(5, 15)],
    "date_of_birth": [(1, p) for p in range(0, 7)],
    "date_of_expiry": [(1, p) for p in range(8, 15)],
    "composite": [(0, p) for p in range(15, 27)] + [(0, 29), (1, 29)],
}


@given(
    id_numbers,
    birth_dates,
    st.dates(min_value=date(2025, 1, 1), max_value=date(2098, 12, 31)),
    st.sampled_from(sorted(_COVERED)),
    st.data(),
)
def test_one_wrong_digit_is_caught_and_blamed_on_its_field(
    id_number: str, dob: date, expiry: date, field: str, data: st.DataObject
) -> None:
    mrz: TD1 = compose_cccd_td1(id_number, dob, "F", expiry, "Lê", "Thị Hoa")
    line, pos = data.draw(st.sampled_from(_COVERED[field]))
    lines = list(mrz.lines)
    old = lines[line][pos]
    new = data.draw(st.sampled_from([d for d in "0123456789" if d != old]))
    lines[line] = lines[line][:pos] + new + lines[line][pos + 1 :]
    try:
        parse_td1("\n".join(lines))
    except MRZError as exc:
        assert exc.field == field
    else:
        raise AssertionError(f"changing {old}→{new} at line {line + 1} pos {pos + 1} passed")


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<", min_size=1, max_size=30), digits)
def test_check_digit_is_one_digit(field: str, _: str) -> None:
    assert check_digit(field) in "0123456789"


# --------------------------------------------------------------------------- expiry guesses


@given(birth_dates, todays, st.one_of(st.none(), st.integers(0, 40000)))
def test_expiry_candidates_bounded(dob: date, today: date, issue_days: int | None) -> None:
    assume(dob <= today)
    issue = dob + timedelta(days=issue_days) if issue_days is not None else None
    got = expiry_candidates(dob, today, issue)
    assert 1 <= len(got) <= MAX_EXPIRY_ATTEMPTS
    assert len(set(got)) == len(got)
    for value in got:
        MRZKey("093047064", f"{dob:%y%m%d}", value)  # every guess is a usable key


@given(id_numbers, birth_dates, todays)
def test_keys_from_id_and_birth_shape(id_number: str, dob: date, today: date) -> None:
    keys = keys_from_id_and_birth(id_number, dob, today)
    assert keys[0] == CAN(id_number[-6:])
    assert all(isinstance(k, MRZKey) and k.document_number == id_number[-9:] for k in keys[1:])
    assert 2 <= len(keys) <= 1 + MAX_EXPIRY_ATTEMPTS
