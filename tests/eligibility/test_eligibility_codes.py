"""Every maKetQua of CCCD.md's table maps to a status and advice; unknown codes stay visible."""

from __future__ import annotations

import re

import pytest

from kiosk.eligibility.codes import CODES, meaning
from tests import DATA

TABLE_CODES = [
    "000",
    "001",
    "002",
    "003",
    "004",
    "010",
    "050",
    "051",
    "052",
    "053",
    "054",
    "055",
    "060",
    "061",
    "070",
    "080",
    "090",
    "100",
    "101",
    "110",
    "120",
    "121",
    "122",
    "123",
    "124",
    "130",
    "205",
    "401",
    "500",
]

EXPECTED_STATUS = {
    "000": "eligible",
    "001": "eligible",
    "002": "eligible",
    "003": "not_eligible",
    "004": "eligible",
    "010": "not_eligible",
    "050": "not_eligible",
    "110": "not_eligible",
    "120": "not_eligible",
    "124": "not_eligible",
    "060": "unknown",
    "061": "unknown",
    "070": "unknown",
    "080": "unknown",
    "054": "unknown",
    "055": "unknown",
    "101": "unknown",
    "500": "unknown",
    "130": "unknown",
    "205": "unknown",
    "401": "unknown",
}


def test_every_table_code_is_mapped() -> None:
    assert set(CODES) == set(TABLE_CODES)


def test_reference_table_codes_are_all_mapped() -> None:
    """The reference document's table, read directly (tests/data/bhxh_result_codes.md)."""
    ref = DATA / "bhxh_result_codes.md"
    text = ref.read_text(encoding="utf-8").split("| maKetQua |", 1)[1].split("\n\n", 1)[0]
    found: set[str] = set()
    for first in re.findall(r"^\| ([0-9/ –-]+) \|", text, flags=re.M):
        for part in first.split("/"):
            part = part.strip()
            if "–" in part:
                lo, hi = (int(x) for x in part.split("–"))
                found |= {f"{n:03d}" for n in range(lo, hi + 1)}
            elif part:
                found.add(part)
    assert found and found <= set(CODES)


@pytest.mark.parametrize("code", sorted(EXPECTED_STATUS))
def test_status(code: str) -> None:
    assert meaning(code).status == EXPECTED_STATUS[code]


@pytest.mark.parametrize("code", TABLE_CODES)
def test_advice_in_both_languages(code: str) -> None:
    m = meaning(code)
    assert m.advice_vi.strip() and m.advice_en.strip()
    assert m.advice_vi != m.advice_en


def test_specific_advice() -> None:
    assert "ID papers" in meaning("001").advice_en and "Defence" in meaning("001").advice_en
    assert "Public Security" in meaning("002").advice_en
    assert "new card number" in meaning("004").advice_en
    for code in ("060", "061", "070"):
        assert "name and birth date" in meaning(code).advice_en
    for code in ("054", "055", "401"):
        assert "administrator" in meaning(code).advice_en


def test_unknown_code_shows_the_code() -> None:
    m = meaning("777")
    assert m.status == "unknown" and "777" in m.advice_en and "777" in m.advice_vi
