"""Access keys: CAN from the ID, MRZ keys, CCCD QR parsing, expiry candidates, input detection."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from kiosk.cccd.access import (
    CAN,
    MAX_EXPIRY_ATTEMPTS,
    MAX_QR_BYTES,
    CCCDQRData,
    MRZKey,
    detect_input,
    expiry_candidates,
    key_from_id,
    key_from_mrz,
    keys_from_id_and_birth,
    keys_from_qr,
    parse_cccd_qr,
)
from kiosk.emrtd.errors import AccessKeyError, MRZError

NAME = "Nguyễn Thị Ánh Tuyết"
ADDRESS = "Số 1 Phố Huế, Hai Bà Trưng, Hà Nội"
QR7 = f"001093047064|123456789|{NAME}|05011993|Nữ|{ADDRESS}|10082021\r\n"
QR6 = f"001093047064|{NAME}|05011993|Nữ|{ADDRESS}|10082021"
CCCD_MRZ = (
    "IDVNM0930470641001093047064<<2\n9301054M3301052VNM<<<<<<<<<<<8\nNGUYEN<<VAN<AN<<<<<<<<<<<<<<<<"
)
TD3_MRZ = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
)
BHYT_NEW = (
    "0111077012|4e677579e1bb856e205469e1babf6e20c490e1baa174|29/03/1988|1|-|01 - C54|"
    "01/07/2023|-|31/07/2023|01050111077012|-|4| 01/10/2027|4641c59ff02659c3-1202|4|-|$"
)
BHYT_OLD = "GD4797920387345|4e677579|01/01/1990|1|-|79 - 001|01/01/2020|31/12/2020|01/01/2020|$"
TODAY = date(2025, 6, 1)


# --------------------------------------------------------------------------- CAN and MRZ keys


def test_can_from_id() -> None:
    assert key_from_id("001093047064") == CAN("047064")
    assert key_from_id(" 001 093 047 064\r\n") == CAN("047064")


@pytest.mark.parametrize(
    "bad", ["", "12345", "0010930470641", "00109304706a", "００１０９３０４７０６４"]
)
def test_id_errors(bad: str) -> None:
    with pytest.raises(AccessKeyError) as err:
        key_from_id(bad)
    assert err.value.field == "id_number"
    assert "12 digits" in str(err.value)


@pytest.mark.parametrize("bad", ["", "12345", "1234567", "12345a", "١٢٣٤٥٦"])
def test_can_validation(bad: str) -> None:
    with pytest.raises(AccessKeyError) as err:
        CAN(bad)
    assert err.value.field == "can"


def test_mrz_key_information_examples() -> None:
    assert MRZKey("L898902C<", "690806", "940623").mrz_information == "L898902C<369080619406236"
    assert MRZKey("T22000129", "640812", "101031").mrz_information == "T22000129364081251010318"
    assert MRZKey("D23145890734", "340712", "950712").mrz_information == (
        "D23145890734934071279507122"
    )
    assert MRZKey("093047064", "930105", "991231").mrz_information.endswith("9912315")


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("", "930105", "330105"), "document_number"),
        (("<<<", "930105", "330105"), "document_number"),
        (("abc123", "930105", "330105"), "document_number"),
        (("A" * 23, "930105", "330105"), "document_number"),
        (("093047064", "931305", "330105"), "date_of_birth"),
        (("093047064", "930100", "330105"), "date_of_birth"),
        (("093047064", "9301", "330105"), "date_of_birth"),
        (("093047064", "930105", "3301"), "date_of_expiry"),
        (("093047064", "930105", "33O105"), "date_of_expiry"),
    ],
)
def test_mrz_key_validation(args: tuple[str, str, str], field: str) -> None:
    with pytest.raises(AccessKeyError) as err:
        MRZKey(*args)
    assert err.value.field == field


def test_mrz_key_accepts_non_date_expiry_and_unknown_birth_day() -> None:
    assert MRZKey("093047064", "9301<<", "<<<<<<").date_of_expiry == "<<<<<<"


def test_key_from_mrz() -> None:
    assert key_from_mrz(CCCD_MRZ) == MRZKey("093047064", "930105", "330105")
    assert key_from_mrz(TD3_MRZ) == MRZKey("L898902C3", "740812", "120415")


def test_key_from_mrz_names_the_wrong_field() -> None:
    with pytest.raises(MRZError) as err:
        key_from_mrz(CCCD_MRZ.replace("9301054M", "9302054M"))
    assert err.value.field == "date_of_birth"


# --------------------------------------------------------------------------- QR


def test_qr_seven_fields() -> None:
    qr = parse_cccd_qr(QR7)
    assert qr == CCCDQRData(
        id_number="001093047064",
        old_id_number="123456789",
        full_name=NAME,
        date_of_birth=date(1993, 1, 5),
        sex="Nữ",
        address=ADDRESS,
        date_of_issue=date(2021, 8, 10),
    )
    assert qr.mrz_sex == "F"


def test_qr_six_fields() -> None:
    qr = parse_cccd_qr(QR6)
    assert qr.old_id_number is None
    assert qr.full_name == NAME
    assert qr.date_of_birth == date(1993, 1, 5)
    assert qr.date_of_issue == date(2021, 8, 10)
    assert qr == parse_cccd_qr(QR7.replace("|123456789|", "||"))
    assert qr == parse_cccd_qr(QR6 + "|\r\n")  # a trailing separator


def test_qr_eleven_fields_reads_the_first_seven() -> None:
    qr = parse_cccd_qr(QR7.strip() + "|x|y|z|w")
    assert qr == parse_cccd_qr(QR7)


@pytest.mark.parametrize(
    "text",
    [
        "  " + QR7 + "  ",
        QR7.strip() + "\n",
        QR7.strip() + "|",
        "\ufeff" + QR7,
        unicodedata.normalize("NFD", QR7),
        QR7.replace("Nữ", "nữ"),
        QR7.replace(NAME, "Nguyễn  Thị   Ánh Tuyết"),
    ],
)
def test_qr_keyboard_wedge_forms(text: str) -> None:
    qr = parse_cccd_qr(text)
    assert qr == parse_cccd_qr(QR7)
    assert unicodedata.is_normalized("NFC", qr.full_name)
    assert unicodedata.is_normalized("NFC", qr.address)


def test_qr_male_and_empty_issue_date() -> None:
    qr = parse_cccd_qr(QR7.replace("Nữ", "Nam").strip()[: -len("10082021")])
    assert qr.sex == "Nam"
    assert qr.mrz_sex == "M"
    assert qr.date_of_issue is None


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("", "qr"),
        ("001093047064|x", "qr"),
        (QR7.strip() + "|x", "qr"),
        ("x" * (MAX_QR_BYTES + 1), "qr"),
        (QR7.replace("|Số 1", "|" + "ố" * 600), "qr"),  # over 1 KB in UTF-8
        (QR7.replace("001093047064", "00109304706"), "id_number"),
        (QR7.replace("123456789", "12345678"), "old_id_number"),
        (QR7.replace("123456789", "12345678x"), "old_id_number"),
        (QR7.replace(NAME, ""), "full_name"),
        (QR7.replace(NAME, "Nguyen 2"), "full_name"),
        (QR7.replace("05011993", "31021993"), "date_of_birth"),
        (QR7.replace("05011993", "1993"), "date_of_birth"),
        (QR7.replace("05011993", "05011893"), "date_of_birth"),
        (QR7.replace("Nữ", "Khác"), "sex"),
        (QR7.replace(ADDRESS, "a\x00b"), "address"),
        (QR7.replace("10082021", "32082021"), "date_of_issue"),
        (QR7.replace("10082021", "10081990"), "date_of_issue"),
    ],
)
def test_qr_errors_name_the_field(text: str, field: str) -> None:
    with pytest.raises(AccessKeyError) as err:
        parse_cccd_qr(text)
    assert err.value.field == field
    assert str(err.value)


def test_qr_rejects_non_text() -> None:
    with pytest.raises(AccessKeyError):
        parse_cccd_qr(QR7.encode())  # type: ignore[arg-type]


# --------------------------------------------------------------------------- expiry candidates


def test_expiry_cccd_md_example() -> None:
    assert expiry_candidates(date(1993, 1, 5), TODAY)[0] == "330105"


def test_expiry_thirty_year_old_expires_at_40() -> None:
    assert expiry_candidates(date(1995, 3, 10), TODAY) == ["350310"]


def test_expiry_issued_at_23_and_a_half_runs_to_40() -> None:
    dob = date(2000, 1, 1)
    got = expiry_candidates(dob, TODAY, date_of_issue=date(2023, 7, 1))
    assert got[0] == "400101"
    assert "250101" in got  # a card issued before 23 would have expired at 25


def test_expiry_inside_the_window_without_issue_date_tries_both() -> None:
    # 24 and a half: the card runs to 25, or to 40 if issued after 23.
    assert expiry_candidates(date(2001, 1, 1), TODAY) == ["260101", "410101"]


def test_expiry_fourteen_year_old() -> None:
    dob = date(2011, 3, 1)
    assert expiry_candidates(dob, TODAY) == ["360301"]
    # A card issued at 13 under the 2023 law runs to 25 as well.
    assert expiry_candidates(dob, TODAY, date(2024, 8, 1))[0] == "360301"


def test_expiry_child_under_fourteen() -> None:
    assert expiry_candidates(date(2018, 1, 1), TODAY) == ["320101"]
    # Twelve and a half: the card runs to 14, or to 25 if issued after 12.
    assert expiry_candidates(date(2012, 12, 1), TODAY) == ["261201", "371201"]
    assert expiry_candidates(date(2018, 1, 1), TODAY, date(2024, 9, 1)) == ["320101"]


def test_expiry_over_sixty_does_not_expire() -> None:
    got = expiry_candidates(date(1955, 5, 5), TODAY)
    assert got[0] == "991231"
    assert got == ["991231", "<<<<<<"]
    # 61: a chip card issued at 56 expired at 60 and may not be renewed yet.
    assert expiry_candidates(date(1964, 2, 1), TODAY) == ["991231", "240201", "<<<<<<"]


def test_expiry_issued_at_58_or_later() -> None:
    assert expiry_candidates(date(1965, 1, 1), TODAY, date(2023, 7, 1))[0] == "991231"
    # 59 today, issue date unknown: 60th birthday first, then no expiry.
    assert expiry_candidates(date(1966, 1, 1), TODAY)[:2] == ["260101", "991231"]


def test_expiry_old_law_card_issued_at_12_is_impossible_but_handled() -> None:
    assert expiry_candidates(date(2010, 1, 1), TODAY, date(2022, 6, 1))[0] == "350101"


def test_expiry_leap_day_birthday() -> None:
    assert expiry_candidates(date(2000, 2, 29), date(2024, 6, 1))[0] == "250228"
    assert expiry_candidates(date(2000, 2, 29), TODAY)[0] == "400229"


def test_expiry_is_bounded_and_unique() -> None:
    for year in range(1930, 2025):
        for month in (1, 6, 12):
            dob = date(year, month, 15)
            for issue in (None, date(max(year + 1, 2021), 3, 1)):
                got = expiry_candidates(dob, TODAY, issue)
                assert 1 <= len(got) <= MAX_EXPIRY_ATTEMPTS
                assert len(set(got)) == len(got)
                assert all(len(x) == 6 for x in got)


@pytest.mark.parametrize(
    ("dob", "issue", "field"),
    [
        (date(2026, 1, 1), None, "date_of_birth"),
        (date(1990, 1, 1), date(1989, 1, 1), "date_of_issue"),
    ],
)
def test_expiry_errors(dob: date, issue: date | None, field: str) -> None:
    with pytest.raises(AccessKeyError) as err:
        expiry_candidates(dob, TODAY, issue)
    assert err.value.field == field


# --------------------------------------------------------------------------- key lists


def test_keys_from_qr_can_first() -> None:
    keys = keys_from_qr(QR7, today=TODAY)
    assert keys == [CAN("047064"), MRZKey("093047064", "930105", "330105")]


def test_keys_from_qr_without_issue_date_are_bounded() -> None:
    text = QR6.replace("05011993", "01011966")[: -len("10082021")]
    keys = keys_from_qr(text, today=TODAY)
    assert keys[0] == CAN("047064")
    assert 2 <= len(keys) <= 1 + MAX_EXPIRY_ATTEMPTS
    assert all(isinstance(k, MRZKey) and k.document_number == "093047064" for k in keys[1:])


def test_keys_from_id_and_birth() -> None:
    keys = keys_from_id_and_birth("001093047064", date(1993, 1, 5), today=TODAY)
    assert keys == [CAN("047064"), MRZKey("093047064", "930105", "330105")]
    assert keys[1].mrz_information == "093047064193010543301052"  # type: ignore[union-attr]
    with pytest.raises(AccessKeyError) as err:
        keys_from_id_and_birth("0010930470", date(1993, 1, 5), today=TODAY)
    assert err.value.field == "id_number"


def test_keys_default_today_is_used() -> None:
    assert keys_from_id_and_birth("001093047064", date(1993, 1, 5))[0] == CAN("047064")


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (QR7, "cccd_qr"),
        (QR6, "cccd_qr"),
        (QR7.strip() + "|a|b|c|d\r\n", "cccd_qr"),
        (BHYT_NEW, "bhyt_qr"),
        (BHYT_OLD + "\r\n", "bhyt_qr"),
        (CCCD_MRZ, "mrz"),
        (CCCD_MRZ.replace("\n", ""), "mrz"),
        (CCCD_MRZ.replace("\n", "\\n").lower(), "mrz"),
        (TD3_MRZ, "mrz"),
        ("001093047064\r\n", "id_number"),
        ("001 093 047 064", "id_number"),
        ("", "unknown"),
        ("hello", "unknown"),
        ("123456789", "unknown"),
        ("001093047064|a|b", "unknown"),
        ("0111077012|a|b", "unknown"),
        ("x" * 5000, "unknown"),
    ],
)
def test_detect_input(text: str, kind: str) -> None:
    assert detect_input(text) == kind
