"""kiosk.eligibility.sanitize: gateway strings safe to store, print and show."""

from __future__ import annotations

import unicodedata

from kiosk.eligibility.sanitize import MAX_MESSAGE_CHARS, clean_code, clean_text

TUYET = "Nguyễn Thị Ánh Tuyết"


def test_vietnamese_is_kept_and_made_nfc() -> None:
    assert clean_text(TUYET) == TUYET
    assert clean_text(unicodedata.normalize("NFD", TUYET)) == TUYET
    assert clean_text(f"  {TUYET}\n\t(đã xác minh) ") == f"{TUYET} (đã xác minh)"


def test_escapes_controls_and_bidi_are_removed() -> None:
    evil = (
        "\x1b[2J\x1b[1;31m" + TUYET + "\x1b[0m\x1b]0;title\x07\x1b]8;;http://x\x1b\\link"
        "\u202eabc\u202c\u2066d\u2069\u200b\u200d\x00\x07\x7f\x85\x9b31m\ufeff!"
    )
    out = clean_text(evil)
    assert out == f"{TUYET}linkabcd !"  # NEL (U+0085) is a line break: one space
    assert out is not None
    assert all(unicodedata.category(c) not in ("Cc", "Cf") for c in out)


def test_messages_are_capped_cheaply() -> None:
    out = clean_text("Ả" + "a" * 1_000_000)
    assert out is not None and len(out) == MAX_MESSAGE_CHARS and out.endswith("…")
    assert clean_text("x" * 600, 20) == "x" * 19 + "…"
    assert clean_text(None) is None and clean_text("\x1b[2J \u202e") is None


def test_codes_are_short_letters_and_digits() -> None:
    assert clean_code(" 01001 ", 5) == "01001"
    assert clean_code("010011", 5) is None  # maDKBD is 5 characters
    assert clean_code("01\u202e001", 5) is None
    assert clean_code("\x1b[31m", 5) is None
    assert clean_code("０１００１", 5) is None  # full-width digits are not a code
    assert clean_code("DN4010120001234", 15) == "DN4010120001234"
    assert clean_code(None, 5) is None and clean_code("", 5) is None
