"""kiosk.cccd.bhyt_qr: both BHYT QR forms, hex names, maDKBD, dates, typed errors and a fuzz."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.cccd.access import detect_input
from kiosk.cccd.bhyt_qr import (
    MAX_BHYT_QR_BYTES,
    BhytCard,
    BhytQRError,
    decode_hex_text,
    normalise_clinic_code,
    parse_bhyt_qr,
)
from kiosk.emrtd.errors import AccessKeyError

#: The example of ../shared/reference/CCCD.md, verbatim (field 15 is the doc's "…").
EXAMPLE = (
    "0111077012|4e677579e1bb856e205469e1babf6e20c490e1baa174|29/03/1988|1|-|01 - C54|"
    "01/07/2023|-|31/07/2023|01050111077012|-|4| 01/10/2027|4641c59ff02659c3-1202|4|…|$"
)


def _hex(text: str) -> str:
    return text.encode("utf-8").hex()


def test_cccd_md_example_exactly() -> None:
    card = parse_bhyt_qr(EXAMPLE)
    assert card == BhytCard(
        form="current",
        card_number="0111077012",
        full_name="Nguyễn Tiến Đạt",
        date_of_birth=date(1988, 3, 29),
        birth_year=1988,
        sex="Nam",
        address=None,
        registered_clinic="01C54",
        valid_from=date(2023, 7, 1),
        valid_to=None,
        date_of_issue=date(2023, 7, 31),
        management_code="01050111077012",
        guardian_name=None,
        residence_code="4",
        five_years_from=date(2027, 10, 1),
        check_string="4641c59ff02659c3-1202",
        benefit_code="4",
        reissuing_office="…",
    )
    assert detect_input(EXAMPLE) == "bhyt_qr"


def test_current_form_with_hex_address_and_office() -> None:
    text = "|".join(
        [
            "DN4010123456789",
            _hex("Trần Thị Mai"),
            "1975",
            "2",
            _hex("12 Lê Lợi, Đà Nẵng"),
            "48 – 001",
            "01/01/2024",
            "31/12/2024",
            "01/01/2024",
            "x",
            "-",
            "-",
            "",
            "abc",
            "5",
            _hex("BHXH Đà Nẵng"),
            "$",
        ]
    )
    card = parse_bhyt_qr(text + "\r\n")
    assert card.card_number == "DN4010123456789"
    assert card.full_name == "Trần Thị Mai"
    assert card.date_of_birth is None and card.birth_year == 1975
    assert card.sex == "Nữ"
    assert card.address == "12 Lê Lợi, Đà Nẵng"
    assert card.registered_clinic == "48001"
    assert card.valid_to == date(2024, 12, 31)
    assert card.five_years_from is None
    assert card.reissuing_office == "BHXH Đà Nẵng"


def test_old_nine_field_form() -> None:
    text = f"0123456789|{_hex('Lê Văn An')}|05/06/2001|1|-|79 - 024|01/01/2020|31/12/2020|-"
    card = parse_bhyt_qr(text)
    assert card.form == "old"
    assert card.full_name == "Lê Văn An"
    assert card.registered_clinic == "79024"
    assert card.check_string is None and card.reissuing_office is None
    assert parse_bhyt_qr(text + "|$") == card


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (_hex("Đạt"), "Đạt"),
        ("Nguyen Van A", "Nguyen Van A"),  # not hex: kept
        ("abc", "abc"),  # odd length: kept
        ("c3", "c3"),  # even-length hex but not valid UTF-8: kept
        ("4142", "AB"),
    ],
)
def test_hex_decoded_only_when_even_hex_and_utf8(value: str, expected: str) -> None:
    assert decode_hex_text(value) == expected


def test_plain_text_name_is_kept() -> None:
    text = EXAMPLE.replace("4e677579e1bb856e205469e1babf6e20c490e1baa174", "Nguyen Tien Dat")
    assert parse_bhyt_qr(text).full_name == "Nguyen Tien Dat"


@pytest.mark.parametrize(
    ("raw", "code"),
    [("01 - C54", "01C54"), ("01–C54", "01C54"), ("01c54", "01C54"), ("-", None), ("", None)],
)
def test_clinic_code(raw: str, code: str | None) -> None:
    assert normalise_clinic_code(raw) == code


def _replace(field: int, value: str) -> str:
    parts = EXAMPLE.split("|")
    parts[field] = value
    return "|".join(parts)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (_replace(0, "12345"), "card_number"),
        (_replace(0, "012345678901"), "card_number"),
        (_replace(1, "-"), "full_name"),
        (_replace(1, _hex("A\x07B")), "full_name"),
        (_replace(2, "31/02/1988"), "date_of_birth"),
        (_replace(2, "1988-03-29"), "date_of_birth"),
        (_replace(2, "1800"), "date_of_birth"),
        (_replace(3, "3"), "sex"),
        (_replace(5, "01 - C5"), "registered_clinic"),
        (_replace(6, "01/13/2023"), "valid_from"),
        (_replace(7, "01/01/2020"), "valid_to"),  # before valid from
        (_replace(12, "soon"), "five_years_from"),
        ("0111077012|x|1988|1|-|01C54|$", "qr"),  # 6 fields
        ("|".join(EXAMPLE.split("|")[:12]), "qr"),  # truncated current form
        ("0111077012|" + "x|" * 40 + "$", "qr"),
        ("", "qr"),
    ],
)
def test_errors_name_the_field(text: str, field: str) -> None:
    with pytest.raises(BhytQRError) as info:
        parse_bhyt_qr(text)
    assert info.value.field == field
    assert isinstance(info.value, AccessKeyError)


def test_errors_do_not_repeat_personal_data() -> None:
    with pytest.raises(BhytQRError) as info:
        parse_bhyt_qr(_replace(3, "3"))
    assert "Nguyễn" not in str(info.value) and "0111077012" not in str(info.value)


def test_length_cap() -> None:
    with pytest.raises(BhytQRError, match="bytes") as info:
        parse_bhyt_qr(EXAMPLE + " " * MAX_BHYT_QR_BYTES)
    assert info.value.field == "qr"
    with pytest.raises(BhytQRError):
        parse_bhyt_qr("Đ" * (MAX_BHYT_QR_BYTES // 2 + 1))


def test_not_text() -> None:
    with pytest.raises(BhytQRError):
        parse_bhyt_qr(b"0111077012|...")  # type: ignore[arg-type]


# ---- fuzz: only project errors escape -----------------------------------------------------

_field = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["-", "", "1", "2", "1988", "29/03/1988", "01 - C54", " 01/10/2027"]),
    st.text(alphabet="0123456789abcdef", max_size=40),
    st.text(alphabet="0123456789/", max_size=12),
)


@given(st.text(max_size=400))
def test_fuzz_any_text(text: str) -> None:
    try:
        card = parse_bhyt_qr(text)
    except BhytQRError:
        return
    assert card.full_name


@given(st.lists(_field, min_size=8, max_size=18), st.booleans())
def test_fuzz_fielded(fields: list[str], dollar: bool) -> None:
    text = "|".join(["0111077012", *fields, *(["$"] if dollar else [])])
    try:
        card = parse_bhyt_qr(text)
    except BhytQRError as exc:
        assert exc.field
        return
    assert card.card_number == "0111077012"
    assert card.registered_clinic is None or len(card.registered_clinic) == 5
    assert card.birth_year >= 1900
