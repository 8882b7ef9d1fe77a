"""The holder view: DG13 first, DG1 (MRZ) to fill gaps; expiry handling."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from kiosk.cccd.holder import holder_from
from kiosk.emrtd.lds import dg1, dg13
from simulators.card.personalize import make_chip


def _dgs(card: str) -> tuple[dg13.DG13, dg1.DG1]:
    chip = make_chip(card)
    return dg13.parse(chip.files.dgs[13]), dg1.parse(chip.files.dgs[1])


def test_expiry_from_dg13() -> None:
    d13, d1 = _dgs("default")
    assert holder_from(d13, d1).date_of_expiry == date(2028, 7, 21)


def test_unreadable_dg13_expiry_falls_back_to_the_mrz_not_to_no_expiry() -> None:
    d13, d1 = _dgs("default")
    odd = replace(d13, date_of_expiry="21/07/28")
    assert holder_from(odd, d1).date_of_expiry == date(2028, 7, 21)


def test_no_expiry_card() -> None:
    d13, d1 = _dgs("elder")
    assert d13.has_no_expiry
    h = holder_from(d13, d1)
    assert (h.date_of_expiry, h.no_expiry) == (None, True)
    assert h.to_json()["no_expiry"] is True
    only_mrz = holder_from(None, d1)  # the MRZ's 991231 says so too
    assert (only_mrz.date_of_expiry, only_mrz.no_expiry) == (None, True)


def test_unknown_expiry_is_not_no_expiry() -> None:
    d13, _ = _dgs("default")
    unreadable = replace(d13, date_of_expiry="21/07/28")
    h = holder_from(unreadable, None)
    assert (h.date_of_expiry, h.no_expiry) == (None, False)
    missing = holder_from(replace(d13, date_of_expiry=None), None)
    assert (missing.date_of_expiry, missing.no_expiry) == (None, False)
    assert holder_from(None, None).no_expiry is False
    assert holder_from(d13, None).no_expiry is False


def test_mrz_only() -> None:
    _, d1 = _dgs("anh-tuyet")
    h = holder_from(None, d1)
    assert h.id_number == "046196008821"
    assert h.full_name == "NGUYEN THI ANH TUYET"
    assert h.sex == "Nữ"
    assert h.date_of_birth == date(1996, 11, 23)


def test_field16_is_the_card_serial_not_the_old_id() -> None:
    d13, d1 = _dgs("teen")
    real_like = replace(
        d13, old_id_number=None, empty_fields=(15,), field16_raw=b"0294A1B2C3D40000"
    )
    h = holder_from(dg13.parse(dg13.encode(real_like)), d1)
    assert (h.old_id_number, h.card_serial) == (None, "0294A1B2C3D40000")
    assert h.to_json()["card_serial"] == "0294A1B2C3D40000"


def test_sample_cards_carry_dg13_as_real_cards_do() -> None:
    """Field 15 present without a value when there was never a CMND; field 16 0294…0000."""
    for card in ("default", "teen", "bac-only"):
        d13, d1 = _dgs(card)
        h = holder_from(d13, d1)
        assert h.card_serial is not None and len(h.card_serial) == 16
        assert h.card_serial.startswith("0294") and h.card_serial.endswith("0000")
        assert d13.unknown_fields == ()
        assert (15 in d13.empty_fields) == (d13.old_id_number is None)
        chip = make_chip(card)
        assert dg13.encode(d13) == chip.files.dgs[13]  # byte for byte
    assert _dgs("bac-only")[0].old_id_number is not None  # an older card with a CMND
    assert _dgs("teen")[0].old_id_number is None
