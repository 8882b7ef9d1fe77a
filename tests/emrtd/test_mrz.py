"""MRZ check digits, TD1/TD3 parsing and composing against ICAO 9303 and CCCD.md examples."""

from __future__ import annotations

from datetime import date

import pytest

from kiosk.cccd.mrz import compose_cccd_td1, id_number_check_ok, id_number_of, split_name
from kiosk.emrtd.errors import AccessKeyError, MRZError
from kiosk.emrtd.mrz import (
    NO_EXPIRY,
    TD1,
    TD3,
    check_digit,
    compose_td1,
    compose_td3,
    looks_like_mrz,
    mrz_information,
    mrz_name,
    parse_mrz,
    parse_td1,
    parse_td3,
    transliterate,
)

# ICAO 9303-5 TD1 specimen and the long document number specimen.
TD1_SPECIMEN = (
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
)
TD1_LONG_NUMBER = (
    "I<UTOD23145890<7349<<<<<<<<<<<",
    "3407127M9507122UTO<<<<<<<<<<<2",
    "STEVENSON<<PETER<JOHN<<<<<<<<<",
)
# ICAO 9303-4 TD3 specimen.
TD3_SPECIMEN = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
)
# CCCD.md example (lines 1 and 2 from the card; line 3 made up).
CCCD = (
    "IDVNM0930470641001093047064<<2",
    "9301054M3301052VNM<<<<<<<<<<<8",
    "NGUYEN<<VAN<AN<<<<<<<<<<<<<<<<",
)
CCCD_LINE1_OTHER = "IDVNM1650095196027165009519<<9"


def mutate(lines: tuple[str, ...], line: int, pos: int) -> str:
    """The MRZ text with the digit at (line, pos) changed to another digit."""
    chars = list(lines[line])
    chars[pos] = str((int(chars[pos]) + 1) % 10)
    out = list(lines)
    out[line] = "".join(chars)
    return "\n".join(out)


# --------------------------------------------------------------------------- check digits


@pytest.mark.parametrize(
    ("field", "digit"),
    [
        ("520727", "3"),  # 9303-3 worked example 1
        ("AB2134<<<", "5"),  # 9303-3 worked example 2
        ("L898902C<", "3"),  # 9303-11 D.2
        ("690806", "1"),
        ("940623", "6"),
        ("T22000129", "3"),  # 9303-11 G.1
        ("640812", "5"),
        ("101031", "8"),
        ("D23145890734", "9"),  # 9303-5 long document number
        ("093047064", "1"),  # CCCD.md
        ("930105", "4"),
        ("330105", "2"),
        ("<<<<<<", "0"),
    ],
)
def test_check_digit_examples(field: str, digit: str) -> None:
    assert check_digit(field) == digit


def test_check_digit_rejects_lowercase() -> None:
    with pytest.raises(MRZError):
        check_digit("abc")


@pytest.mark.parametrize(
    ("number", "birth", "expiry", "expected"),
    [
        ("L898902C<", "690806", "940623", "L898902C<369080619406236"),  # D.2
        ("L898902C", "690806", "940623", "L898902C<369080619406236"),  # padded
        ("T22000129", "640812", "101031", "T22000129364081251010318"),  # G.1
        ("D23145890734", "340712", "950712", "D23145890734934071279507122"),  # long number
    ],
)
def test_mrz_information_examples(number: str, birth: str, expiry: str, expected: str) -> None:
    assert mrz_information(number, birth, expiry) == expected


# --------------------------------------------------------------------------- TD1 parsing


def test_td1_specimen() -> None:
    mrz = parse_td1("\n".join(TD1_SPECIMEN))
    assert mrz.document_code == "I"
    assert mrz.issuing_state == "UTO"
    assert mrz.document_number == "D23145890"
    assert mrz.date_of_birth == "740812"
    assert mrz.sex == "F"
    assert mrz.date_of_expiry == "120415"
    assert mrz.nationality == "UTO"
    assert (mrz.surname, mrz.given_names) == ("ERIKSSON", "ANNA MARIA")
    assert mrz.name == "ERIKSSON ANNA MARIA"
    assert id_number_of(mrz) is None
    assert mrz.mrz_information == "D23145890774081221204159"
    assert mrz.lines == TD1_SPECIMEN


def test_td1_long_document_number() -> None:
    mrz = parse_td1("\n".join(TD1_LONG_NUMBER))
    assert mrz.document_number == "D23145890734"
    assert mrz.optional_data_1 == ""
    assert mrz.mrz_information == "D23145890734934071279507122"


def test_td1_long_document_number_wrong_check_digit() -> None:
    text = "\n".join(TD1_LONG_NUMBER).replace("<7349<", "<7348<")
    with pytest.raises(MRZError) as err:
        parse_td1(text)
    assert err.value.field == "document_number"


def test_cccd_example() -> None:
    mrz = parse_td1("\n".join(CCCD))
    assert mrz.document_code == "ID"
    assert mrz.issuing_state == "VNM"
    assert mrz.document_number == "093047064"
    number = id_number_of(mrz)
    assert number == "001093047064"
    assert number[-9:] == mrz.document_number
    assert id_number_check_ok(mrz) is True
    assert mrz.date_of_birth == "930105"
    assert mrz.date_of_expiry == "330105"
    assert mrz.expiry_date == date(2033, 1, 5)
    assert mrz.birth_date(date(2025, 1, 1)) == date(1993, 1, 5)
    assert mrz.mrz_information == "093047064193010543301052"
    assert mrz.name == "NGUYEN VAN AN"


def test_line1_trailing_digit_is_check_digit_of_the_id() -> None:
    """Both CCCD.md line-1 examples end with the 9303 check digit of the 12-digit ID."""
    for line1 in (CCCD[0], CCCD_LINE1_OTHER):
        assert line1[29] == check_digit(line1[15:27])
        assert line1[14] == check_digit(line1[5:14])


def test_compose_cccd_reproduces_examples() -> None:
    mrz = compose_cccd_td1(
        "001093047064", date(1993, 1, 5), "M", date(2033, 1, 5), "Nguyen", "Van An"
    )
    assert mrz.lines == CCCD
    other = compose_cccd_td1("027165009519", date(1965, 4, 2), "Nữ", None, "Lê", "Thị Hoa")
    assert other.lines[0] == CCCD_LINE1_OTHER
    assert other.date_of_expiry == NO_EXPIRY
    assert other.expiry_date is None
    assert other.sex == "F"


def test_compose_cccd_vietnamese_name() -> None:
    mrz = compose_cccd_td1("001093047064", date(1993, 1, 5), "Nữ", None, "Nguyễn", "Thị Ánh Tuyết")
    assert mrz.lines[2] == "NGUYEN<<THI<ANH<TUYET<<<<<<<<<"
    assert mrz.surname == "NGUYEN"
    assert mrz.given_names == "THI ANH TUYET"


def test_compose_cccd_rejects_bad_id() -> None:
    with pytest.raises(MRZError) as err:
        compose_cccd_td1("12345", date(1993, 1, 5), "M", None, "A", "B")
    assert err.value.field == "id_number"


@pytest.mark.parametrize(
    ("line", "pos", "field"),
    [
        (0, 7, "document_number"),
        (1, 3, "date_of_birth"),
        (1, 10, "date_of_expiry"),
        (0, 20, "composite"),  # a digit of the ID in optional data 1
        (1, 29, "composite"),
        (1, 6, "date_of_birth"),  # the check digit itself
    ],
)
def test_one_wrong_digit_names_the_field(line: int, pos: int, field: str) -> None:
    with pytest.raises(MRZError) as err:
        parse_td1(mutate(CCCD, line, pos))
    assert err.value.field == field
    assert isinstance(err.value, AccessKeyError)


def test_messages_name_the_field_for_staff() -> None:
    with pytest.raises(MRZError, match="date of birth"):
        parse_td1(mutate(CCCD, 1, 3))
    with pytest.raises(MRZError, match="document number"):
        parse_td1(mutate(CCCD, 0, 7))


def test_wrong_trailing_id_digit_is_tolerated_when_composite_matches() -> None:
    line1 = CCCD[0][:29] + "3"
    line2 = CCCD[1][:29]
    line2 += check_digit(line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29])
    mrz = parse_td1("\n".join((line1, line2, CCCD[2])))
    assert id_number_of(mrz) == "001093047064"
    assert id_number_check_ok(mrz) is False


@pytest.mark.parametrize(
    "text",
    [
        "".join(CCCD),
        "\r\n".join(CCCD) + "\r\n",
        "\\n".join(CCCD),  # a user typed backslash-n
        "  " + "\n".join(x.lower() for x in CCCD) + "  ",
        "\n".join((CCCD[0], CCCD[1], "NGUYEN<<VAN<AN")),  # trailing fillers dropped
        "\n\n".join((CCCD[0][:15] + " " + CCCD[0][15:], CCCD[1], CCCD[2])),
    ],
)
def test_input_forms(text: str) -> None:
    assert parse_td1(text).lines == CCCD


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("\n".join(CCCD[:2]), "mrz"),
        ("x" * 600, "mrz"),
        ("\n".join((CCCD[0], CCCD[1][:29], CCCD[2])), "line2"),
        ("\n".join((CCCD[0] + "<", CCCD[1], CCCD[2])), "line1"),
        ("\n".join((CCCD[0].replace("ID", "I-"), CCCD[1], CCCD[2])), "line1"),
        ("\n".join((CCCD[0], CCCD[1], "NGUYỄN<<VAN")), "line3"),
        ("\n".join((CCCD[0].replace("ID", "PD"), CCCD[1], CCCD[2])), "document_code"),
        ("\n".join((CCCD[0], CCCD[1].replace("M", "Q", 1), CCCD[2])), "sex"),
        ("\n".join((CCCD[0], "93A1054" + CCCD[1][7:], CCCD[2])), "date_of_birth"),
        ("\n".join((CCCD[0], CCCD[1][:15] + "V1M" + CCCD[1][18:], CCCD[2])), "nationality"),
        ("\n".join((CCCD[0][:2] + "V1M" + CCCD[0][5:], CCCD[1], CCCD[2])), "issuing_state"),
    ],
)
def test_layout_errors_name_the_field(text: str, field: str) -> None:
    with pytest.raises(MRZError) as err:
        parse_td1(text)
    assert err.value.field == field
    assert str(err.value)


def test_non_string_input() -> None:
    with pytest.raises(MRZError):
        parse_td1(b"IDVNM" * 18)  # type: ignore[arg-type]


def test_strict_false_records_check_digit_errors() -> None:
    mrz = parse_td1(mutate(CCCD, 1, 3), strict=False)
    assert mrz.check_digit_errors == ("date_of_birth", "composite")
    assert parse_td1("\n".join(CCCD), strict=False).check_digit_errors == ()


@pytest.mark.parametrize("expiry", ["991231", "<<<<<<"])
def test_no_expiry_values_parse(expiry: str) -> None:
    mrz = compose_td1(
        document_code="ID",
        issuing_state="VNM",
        document_number="093047064",
        date_of_birth="600105",
        sex="F",
        date_of_expiry=expiry,
        nationality="VNM",
        surname="Lê",
        given_names="Thị Hoa",
    )
    again = parse_td1("\n".join(mrz.lines))
    assert again.date_of_expiry == expiry
    assert again.expiry_date is None


def test_filler_check_digit_for_filler_expiry_is_accepted() -> None:
    line2 = "6001054F<<<<<<<VNM<<<<<<<<<<<"
    line1 = CCCD[0]
    line2 += check_digit(line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29])
    mrz = parse_td1("\n".join((line1, line2, CCCD[2])))
    assert mrz.date_of_expiry == "<<<<<<"
    assert mrz.mrz_information.endswith("<<<<<<<")


def test_birth_date_century() -> None:
    mrz = parse_td1("\n".join(TD1_LONG_NUMBER))
    assert mrz.birth_date(date(2025, 1, 1)) == date(1934, 7, 12)
    today = date(2025, 6, 1)
    kid = compose_cccd_td1("001218000001", date(2018, 1, 1), "M", None, "A", "B")
    assert kid.birth_date(today) == date(2018, 1, 1)


# --------------------------------------------------------------------------- composing


def test_compose_td1_specimens() -> None:
    specimen = compose_td1(
        issuing_state="UTO",
        document_number="D23145890",
        date_of_birth="740812",
        sex="F",
        date_of_expiry="120415",
        nationality="UTO",
        surname="Eriksson",
        given_names="Anna María",
    )
    assert specimen.lines == TD1_SPECIMEN
    long = compose_td1(
        issuing_state="UTO",
        document_number="D23145890734",
        date_of_birth=date(1934, 7, 12),
        sex="M",
        date_of_expiry=date(1995, 7, 12),
        nationality="UTO",
        surname="Stevenson",
        given_names="Peter John",
    )
    assert long.lines == TD1_LONG_NUMBER


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"document_number": ""}, "document_number"),
        ({"document_number": "A" * 23}, "document_number"),
        ({"document_number": "Ä1"}, "document_number"),
        ({"document_number": "D23145890734", "optional_data_1": "X" * 12}, "optional_data"),
        ({"date_of_birth": "1993-01-05"}, "date_of_birth"),
        ({"sex": "Q"}, "sex"),
        ({"issuing_state": "VN1"}, "issuing_state"),
        ({"surname": "Nguyễn2"}, "surname"),
        ({"surname": "", "given_names": ""}, "surname"),
        ({"given_names": "李"}, "given_names"),
    ],
)
def test_compose_errors(kwargs: dict[str, str], field: str) -> None:
    args: dict[str, str] = {
        "issuing_state": "VNM",
        "document_number": "093047064",
        "date_of_birth": "930105",
        "sex": "M",
        "date_of_expiry": "330105",
        "nationality": "VNM",
        "surname": "Nguyen",
        "given_names": "An",
    }
    args.update(kwargs)
    with pytest.raises(MRZError) as err:
        compose_td1(**args)
    assert err.value.field == field


@pytest.mark.parametrize(
    ("text", "mrz"),
    [
        ("Nguyễn Thị Ánh Tuyết", "NGUYEN<THI<ANH<TUYET"),
        ("Đặng Văn Đức", "DANG<VAN<DUC"),
        ("đoàn  ngọc   ưng", "DOAN<NGOC<UNG"),
        ("Trương Thị Mỹ Hạnh", "TRUONG<THI<MY<HANH"),
        ("Jean-Pierre O'Neil", "JEAN<PIERRE<ONEIL"),
        ("Strauß", "STRAUSS"),
        ("Nguye\u0302\u0303n", "NGUYEN"),  # decomposed input
    ],
)
def test_transliterate(text: str, mrz: str) -> None:
    assert transliterate(text) == mrz


def test_name_truncation_follows_9303_example() -> None:
    # 9303-3 truncation example (TD2 name field, 31 characters).
    assert mrz_name("Nilavadhanananda", "Chayapa Dejthamrong Krasuang", 31) == (
        "NILAVADHANANANDA<<CHAYAPA<DEJ<K"
    )


def test_long_vietnamese_name_is_truncated_to_30_ending_in_a_letter() -> None:
    field = mrz_name("Tôn Nữ", "Hoàng Thị Phương Thảo Nguyên Khánh")
    assert len(field) == 30
    assert field[-1].isalpha()
    assert field.startswith("TON<NU<<HOANG")
    # A too long surname is cut, keeping '<<' and the initial of the given name.
    assert mrz_name("A" * 40, "Bình") == "A" * 27 + "<<B"
    assert mrz_name("A" * 40, "") == "A" * 30


def test_split_name() -> None:
    assert split_name(" Nguyễn  Thị Ánh Tuyết ") == ("Nguyễn", "Thị Ánh Tuyết")
    assert split_name("") == ("", "")


# --------------------------------------------------------------------------- TD3


def test_td3_specimen() -> None:
    mrz = parse_td3("\n".join(TD3_SPECIMEN))
    assert isinstance(mrz, TD3)
    assert mrz.document_number == "L898902C3"
    assert mrz.personal_number == "ZE184226B"
    assert mrz.name == "ERIKSSON ANNA MARIA"
    assert mrz.mrz_information == "L898902C3674081221204159"
    assert id_number_of(mrz) is None
    assert mrz.expiry_date == date(2012, 4, 15)


def test_td3_compose_reproduces_specimen() -> None:
    mrz = compose_td3(
        issuing_state="UTO",
        document_number="L898902C3",
        date_of_birth="740812",
        sex="F",
        date_of_expiry="120415",
        nationality="UTO",
        surname="Eriksson",
        given_names="Anna María",
        personal_number="ZE184226B",
    )
    assert mrz.lines == TD3_SPECIMEN


@pytest.mark.parametrize(
    ("pos", "field"),
    [(2, "document_number"), (15, "date_of_birth"), (23, "date_of_expiry"), (43, "composite")],
)
def test_td3_wrong_digit_names_the_field(pos: int, field: str) -> None:
    with pytest.raises(MRZError) as err:
        parse_td3(mutate(TD3_SPECIMEN, 1, pos))
    assert err.value.field == field


def test_td3_personal_number_check() -> None:
    text = "\n".join(TD3_SPECIMEN).replace("ZE184226B", "ZE184227B")
    with pytest.raises(MRZError) as err:
        parse_td3(text)
    assert err.value.field == "personal_number"


def test_td3_vietnamese_passport_id() -> None:
    mrz = compose_td3(
        issuing_state="VNM",
        document_number="C1234567",
        date_of_birth="930105",
        sex="M",
        date_of_expiry="330105",
        nationality="VNM",
        surname="Nguyễn",
        given_names="Văn An",
        personal_number="001093047064",
    )
    assert id_number_of(mrz) == "001093047064"


def test_parse_mrz_dispatches() -> None:
    assert isinstance(parse_mrz("\n".join(CCCD)), TD1)
    assert isinstance(parse_mrz("".join(TD3_SPECIMEN)), TD3)
    assert isinstance(parse_mrz("\n".join(TD3_SPECIMEN)), TD3)
    with pytest.raises(MRZError) as err:
        parse_mrz("hello")
    assert err.value.field == "mrz"


def test_looks_like_mrz() -> None:
    assert looks_like_mrz("\n".join(CCCD))
    assert looks_like_mrz("".join(CCCD))
    assert looks_like_mrz("".join(TD3_SPECIMEN))
    assert looks_like_mrz("\\n".join(TD3_SPECIMEN))
    assert not looks_like_mrz("001093047064")
    assert not looks_like_mrz("")
    assert not looks_like_mrz("a|b|c")
