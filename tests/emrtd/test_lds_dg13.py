"""DG13 (Vietnamese personal data): card layout, tolerance, NFC, dates, round trip."""

from __future__ import annotations

import datetime
import unicodedata

import pytest

from kiosk.emrtd import tlv
from kiosk.emrtd.errors import LDSParseError
from kiosk.emrtd.lds import dg13
from kiosk.emrtd.lds.dg13 import DG13, NO_EXPIRY_TEXT, parse_vn_date

HEADER = bytes.fromhex("020101060628D316010008")


def utf8(text: str) -> bytes:
    return tlv.encode(0x0C, text.encode("utf-8"))


def printable(text: str) -> bytes:
    return tlv.encode(0x13, text.encode("ascii"))


def seq(*parts: bytes) -> bytes:
    return tlv.encode(0x30, b"".join(parts))


def field(n: int, *values: bytes) -> bytes:
    return seq(tlv.encode(0x02, bytes([n])), *values)


def file_of(*fields: bytes, padding: bytes = b"") -> bytes:
    return tlv.encode(0x6D, seq(HEADER, tlv.encode(0x31, b"".join(fields)))) + padding


CARD_FIELDS = [
    field(1, printable("001093047064")),
    field(2, utf8("Nguyễn Văn An")),
    field(3, printable("05/01/1993")),
    field(4, utf8("Nam")),
    field(5, utf8("Việt Nam")),
    field(6, utf8("Kinh")),
    field(7, utf8("Không")),
    field(8, utf8("Hoàn Kiếm, Hà Nội")),
    field(9, utf8("Số 1 Tràng Tiền, Hoàn Kiếm, Hà Nội")),
    field(10, utf8("Nốt ruồi C:1cm trên trước mép phải")),
    field(11, printable("10/07/2021")),
    field(12, utf8("05/01/2033")),
    field(13, seq(utf8("Nguyễn Văn Bình")), seq(utf8("Trần Thị Cúc"))),
    field(14),
    field(15, printable("012345678")),
    field(16, printable("0123456789ABCDEF")),
]
CARD_DG13 = file_of(*CARD_FIELDS)


def test_card_layout_parses() -> None:
    d = dg13.parse(CARD_DG13)
    assert d.id_number == "001093047064"
    assert d.full_name == "Nguyễn Văn An"
    assert d.date_of_birth == "05/01/1993"
    assert d.birth_date == datetime.date(1993, 1, 5)
    assert d.sex == "Nam"
    assert d.nationality == "Việt Nam"
    assert d.ethnicity == "Kinh"
    assert d.religion == "Không"
    assert d.place_of_origin == "Hoàn Kiếm, Hà Nội"
    assert d.place_of_residence == "Số 1 Tràng Tiền, Hoàn Kiếm, Hà Nội"
    assert d.identifying_marks == "Nốt ruồi C:1cm trên trước mép phải"
    assert d.issue_date == datetime.date(2021, 7, 10)
    assert d.expiry_date == datetime.date(2033, 1, 5)
    assert not d.has_no_expiry
    assert (d.father_name, d.mother_name) == ("Nguyễn Văn Bình", "Trần Thị Cúc")
    assert d.spouse_name is None
    assert d.old_id_number == "012345678"
    assert d.field16_raw == b"0123456789ABCDEF"
    assert d.field16_text == "0123456789ABCDEF"
    assert d.unknown_fields == ()


def test_encode_writes_the_card_layout_exactly() -> None:
    assert dg13.encode(dg13.parse(CARD_DG13)) == CARD_DG13


def test_fields_are_found_by_number_not_position() -> None:
    shuffled = file_of(*reversed(CARD_FIELDS), padding=b"\x00" * 5)
    assert dg13.parse(shuffled) == dg13.parse(CARD_DG13)


def test_any_field_may_be_missing() -> None:
    d = dg13.parse(file_of(CARD_FIELDS[1]))
    assert d == DG13(full_name="Nguyễn Văn An")
    assert dg13.parse(file_of()) == DG13()


def test_string_types_vary() -> None:
    d = dg13.parse(
        file_of(
            field(1, utf8("001093047064")),  # UTF8String where PrintableString is usual
            field(3, tlv.encode(0x16, b"05/01/1993")),  # IA5String
            field(2, tlv.encode(0x1E, "Lê Thị Hà".encode("utf-16-be"))),  # BMPString
        )
    )
    assert (d.id_number, d.date_of_birth, d.full_name) == (
        "001093047064",
        "05/01/1993",
        "Lê Thị Hà",
    )


def test_text_is_nfc_with_diacritics_intact() -> None:
    nfd = unicodedata.normalize("NFD", "Nguyễn Thị Ánh Tuyết")
    assert nfd != "Nguyễn Thị Ánh Tuyết"
    d = dg13.parse(file_of(field(2, utf8(nfd))))
    assert d.full_name == "Nguyễn Thị Ánh Tuyết"
    assert unicodedata.is_normalized("NFC", d.full_name or "")


def test_parents_collects_every_string_in_order() -> None:
    # flat layout and nested layout both work
    flat = dg13.parse(file_of(field(13, seq(utf8("Cha"), utf8("Mẹ")))))
    assert (flat.father_name, flat.mother_name) == ("Cha", "Mẹ")
    direct = dg13.parse(file_of(field(13, utf8("Cha"), utf8("Mẹ"))))
    assert (direct.father_name, direct.mother_name) == ("Cha", "Mẹ")
    only_father = dg13.parse(file_of(field(13, seq(utf8("Cha")))))
    assert (only_father.father_name, only_father.mother_name) == ("Cha", None)


def test_spouse_present_or_empty() -> None:
    married = dg13.parse(file_of(field(14, seq(utf8("Phạm Văn Đức")))))
    assert married.spouse_name == "Phạm Văn Đức"
    for empty in (field(14), field(14, seq())):
        assert dg13.parse(file_of(empty)).spouse_name is None


def test_unreadable_and_unknown_fields_are_kept_raw() -> None:
    odd_value = tlv.encode(0x04, b"\xff\xfe")  # not UTF-8
    extra = field(17, utf8("x"), utf8("y"))
    d = dg13.parse(file_of(field(2, odd_value), extra, field(13, utf8("a"), utf8("b"), utf8("c"))))
    assert d.full_name is None
    assert d.father_name is None
    assert dict(d.unknown_fields) == {
        2: odd_value,
        13: utf8("a") + utf8("b") + utf8("c"),
        17: utf8("x") + utf8("y"),
    }
    again = dg13.parse(dg13.encode(d))
    assert again == d


def test_no_expiry() -> None:
    d = dg13.parse(file_of(field(12, utf8(NO_EXPIRY_TEXT))))
    assert d.date_of_expiry == "Không thời hạn"
    assert d.has_no_expiry
    assert d.expiry_date is None


def test_round_trip_full_record() -> None:
    d = DG13(
        id_number="079301000123",
        full_name="Nguyễn Thị Ánh Tuyết",
        date_of_birth="29/02/2000",
        sex="Nữ",
        nationality="Việt Nam",
        ethnicity="Kinh",
        religion="Phật giáo",
        place_of_origin="Huế",
        place_of_residence="TP. Hồ Chí Minh",
        identifying_marks="Sẹo chấm",
        date_of_issue="01/01/2022",
        date_of_expiry=NO_EXPIRY_TEXT,
        father_name="Cha",
        mother_name="Mẹ",
        spouse_name="Chồng",
        old_id_number="123456789",
        field16_raw=b"ABCDEFGHIJKLMNOP",
        unknown_fields=((20, utf8("z")),),
    )
    assert dg13.parse(dg13.encode(d)) == d


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("05/01/1993", datetime.date(1993, 1, 5)),
        ("5/1/1993", datetime.date(1993, 1, 5)),
        (" 05-01-1993 ", datetime.date(1993, 1, 5)),
        ("05.01.1993", datetime.date(1993, 1, 5)),
        ("05011993", datetime.date(1993, 1, 5)),
        ("29/02/2001", None),
        ("31/04/2020", None),
        ("Không thời hạn", None),
        ("1993", None),
        ("", None),
        (None, None),
        ("05/01/93", None),
    ],
)
def test_parse_vn_date(text: str | None, expected: datetime.date | None) -> None:
    assert parse_vn_date(text) == expected


@pytest.mark.parametrize(
    "data",
    [
        b"",
        tlv.encode(0x6E, seq(HEADER, tlv.encode(0x31, b""))),  # wrong tag
        tlv.encode(0x6D, b""),  # empty
        tlv.encode(0x6D, seq(HEADER)),  # no SET
        tlv.encode(0x6D, seq(HEADER, tlv.encode(0x31, utf8("x")))),  # field not a SEQUENCE
        tlv.encode(0x6D, seq(HEADER, tlv.encode(0x31, seq(utf8("x"))))),  # no number
        file_of(field(2, utf8("a")), field(2, utf8("b"))),  # repeated field
        CARD_DG13[:-3],  # truncated
    ],
)
def test_broken_envelopes_raise(data: bytes) -> None:
    with pytest.raises(LDSParseError):
        dg13.parse(data)


def test_encode_rejects_inconsistent_records() -> None:
    with pytest.raises(ValueError):
        dg13.encode(DG13(mother_name="Mẹ"))
    with pytest.raises(ValueError):
        dg13.encode(DG13(full_name="A", unknown_fields=((2, utf8("B")),)))


def test_parents_with_sub_numbers_and_context_tags() -> None:
    layout = field(
        13,
        seq(tlv.encode(0x02, b"\x01"), utf8("Cha")),
        tlv.encode(0xA0, seq(tlv.encode(0x02, b"\x02"), tlv.encode(0x05, b""), utf8("Mẹ"))),
    )
    d = dg13.parse(file_of(layout))
    assert (d.father_name, d.mother_name) == ("Cha", "Mẹ")
    assert d.unknown_fields == ()


def test_wrapped_single_string_is_read() -> None:
    d = dg13.parse(file_of(field(2, seq(utf8("Lê Văn Tám"))), field(5, utf8("A"), utf8("B"))))
    assert d.full_name == "Lê Văn Tám"
    assert d.nationality is None
    assert dict(d.unknown_fields) == {5: utf8("A") + utf8("B")}


# A DG13 laid out like real cards' published data: fields 1…16 ascending, field 12 a
# UTF8String, 13 two SEQUENCEs, 14 and 15 present without a value (unmarried, too young
# for a CMND), 16 a 16-character hex-looking PrintableString (0294…0000).
REAL_LAYOUT = file_of(
    field(1, printable("079212004562")),
    field(2, utf8("Phạm Gia Bảo")),
    field(3, printable("18/03/2012")),
    field(4, utf8("Nam")),
    field(5, utf8("Việt Nam")),
    field(6, utf8("Kinh")),
    field(7, utf8("Không")),
    field(8, utf8("Bình Thạnh, TP. Hồ Chí Minh")),
    field(9, utf8("Số 27 Đường Nguyễn Trãi, TP. Hồ Chí Minh")),
    field(10, utf8("Nốt ruồi cách 2cm dưới mắt trái")),
    field(11, printable("02/04/2026")),
    field(12, utf8("18/03/2037")),
    field(13, seq(utf8("Phạm Văn Hùng")), seq(utf8("Lê Thị Mai"))),
    field(14),
    field(15),
    field(16, printable("0294A1B2C3D40000")),
)


def test_real_layout_empty_old_id_and_field16_serial() -> None:
    d = dg13.parse(REAL_LAYOUT)
    assert d.old_id_number is None  # present without a value: no old ID
    assert d.spouse_name is None
    assert d.card_serial == "0294A1B2C3D40000"  # field 16 under its own name
    assert d.unknown_fields == ()
    assert d.empty_fields == (15,)
    assert (d.father_name, d.mother_name) == ("Phạm Văn Hùng", "Lê Thị Mai")
    assert d.expiry_date == datetime.date(2037, 3, 18)
    assert dg13.encode(d) == REAL_LAYOUT  # byte for byte


def test_other_modelled_fields_present_without_value_round_trip() -> None:
    data = file_of(field(1, printable("079212004562")), field(10), field(13), field(14), field(16))
    d = dg13.parse(data)
    assert (d.identifying_marks, d.father_name, d.card_serial) == (None, None, None)
    assert (d.empty_fields, d.unknown_fields) == ((10, 13, 16), ())
    assert dg13.encode(d) == data


def test_empty_fields_that_cannot_be_encoded() -> None:
    with pytest.raises(ValueError, match="both empty"):
        dg13.encode(DG13(old_id_number="012345678", empty_fields=(15,)))
    with pytest.raises(ValueError, match="not a modelled"):
        dg13.encode(DG13(empty_fields=(20,)))
