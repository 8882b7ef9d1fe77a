"""Typed names and birth dates (reception's manual entry) are checked before they are kept."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.cccd.typed import MAX_NAME_CHARS, typed_birth_date, typed_name
from kiosk.emrtd.errors import AccessKeyError

TUYET = "Nguyễn Thị Ánh Tuyết"


def test_a_vietnamese_name_keeps_its_diacritics_in_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", f"  {TUYET}  ")
    assert decomposed != TUYET
    assert typed_name(decomposed) == TUYET
    assert typed_name("Nguyễn   Thị\tÁnh  Tuyết") == TUYET


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "12345",
        "A" * (MAX_NAME_CHARS + 1),
        "Nguyễn\x1b[31m Thị",  # an ANSI escape
        "Nguyễn\u202eThị",  # a right-to-left override
        "Nguy\u200bễn",  # a zero-width space
        "Nguyễn\x00",
        "Nguyễn\ue000",  # private use
    ],
)
def test_unusable_names_are_refused_without_echoing_them(bad: str) -> None:
    with pytest.raises(AccessKeyError) as info:
        typed_name(bad)
    assert info.value.field == "full_name"
    if bad.strip():
        assert bad.strip() not in str(info.value)


@given(st.text(max_size=300))
def test_any_text_gives_a_clean_name_or_the_typed_error(text: str) -> None:
    try:
        name = typed_name(text)
    except AccessKeyError as exc:
        assert exc.field == "full_name"
        return
    assert name == unicodedata.normalize("NFC", name) and 0 < len(name) <= MAX_NAME_CHARS
    assert all(unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn") for c in name)
    assert name == " ".join(name.split())


def test_birth_dates_between_1900_and_today() -> None:
    today = date(2026, 12, 3)
    assert typed_birth_date(date(1900, 1, 1), today=today) == date(1900, 1, 1)
    assert typed_birth_date(today, today=today) == today
    for bad in (date(1899, 12, 31), date(2026, 12, 4)):
        with pytest.raises(AccessKeyError) as info:
            typed_birth_date(bad, today=today)
        assert info.value.field == "date_of_birth"
