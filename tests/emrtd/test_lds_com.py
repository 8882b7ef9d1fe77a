"""EF.COM: ICAO 9303 D.4 exact bytes, data group mapping, padding, errors."""

from __future__ import annotations

import pytest

from kiosk.emrtd.errors import LDSParseError
from kiosk.emrtd.lds import com
from kiosk.emrtd.lds.com import EFCom

D4_EF_COM = bytes.fromhex("60145F0104303130365F36063034303030305C026175")


def test_icao_d4_ef_com() -> None:
    parsed = com.parse(D4_EF_COM)
    assert parsed == EFCom(lds_version="0106", unicode_version="040000", tags=(0x61, 0x75))
    assert parsed.data_groups == (1, 2)
    assert com.encode(parsed) == D4_EF_COM


def test_cccd_tag_list() -> None:
    # CCCD.md: EF.COM lists DG1, DG2, DG3, DG13, DG14, DG15
    ef = EFCom(tags=(0x61, 0x75, 0x63, 0x6D, 0x6E, 0x6F))
    parsed = com.parse(com.encode(ef))
    assert parsed == ef
    assert parsed.lds_version == "0107"
    assert parsed.data_groups == (1, 2, 3, 13, 14, 15)


def test_unknown_and_multibyte_tags_are_kept() -> None:
    ef = EFCom(tags=(0x61, 0x5F1F, 0x99))
    parsed = com.parse(com.encode(ef) + b"\x00\x00")
    assert parsed.tags == (0x61, 0x5F1F, 0x99)
    assert parsed.data_groups == (1,)


@pytest.mark.parametrize(
    "hexdata",
    [
        "",
        "61145F0104303130365F36063034303030305C026175",  # wrong outer tag
        "600F5F36063034303030305C026175",  # no LDS version
        "600D5F0104303130365C026175",  # no Unicode version
        "60105F0104303130365F3606303430303030",  # no tag list
        "60145F0104303130365F36063034303030305C02617F",  # truncated multi-byte tag
        "60145F0104FF3130365F36063034303030305C026175",  # non-ASCII version
        "60155F0104303130365F36063034303030305C026175",  # truncated file
    ],
)
def test_bad_files_raise(hexdata: str) -> None:
    with pytest.raises(LDSParseError):
        com.parse(bytes.fromhex(hexdata))
