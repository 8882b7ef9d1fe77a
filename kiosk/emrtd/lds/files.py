"""The elementary files of the eMRTD application: names, file ids, short EF ids, tags, caps.

One registry used by the reader session, the CLI dump and the simulator so
that the numbers are written down once (ICAO 9303-10 §4.6, table 39).
"""

from __future__ import annotations

from dataclasses import dataclass

#: eMRTD LDS1 application identifier.
EMRTD_AID = bytes.fromhex("A0000002471001")


@dataclass(frozen=True)
class EFInfo:
    """An elementary file: display name, FID, short EF identifier, outer tag, size cap."""

    name: str
    fid: int
    sfi: int
    tag: int | None
    max_size: int
    dg: int | None = None


def _dg(n: int, tag: int, cap: int) -> EFInfo:
    return EFInfo(f"DG{n}", 0x0100 + n, n, tag, cap, n)


#: Files outside the application (master file level).
EF_CARD_ACCESS = EFInfo("EF.CardAccess", 0x011C, 0x1C, None, 4096)
EF_CARD_SECURITY = EFInfo("EF.CardSecurity", 0x011D, 0x1D, None, 16384)
EF_ATR_INFO = EFInfo("EF.ATR/INFO", 0x2F01, 0x01, None, 1024)
#: Files inside the eMRTD application.
EF_COM = EFInfo("EF.COM", 0x011E, 0x1E, 0x60, 1024)
EF_SOD = EFInfo("EF.SOD", 0x011D, 0x1D, 0x77, 32768)

DATA_GROUPS: dict[int, EFInfo] = {
    1: _dg(1, 0x61, 1024),
    2: _dg(2, 0x75, 256 * 1024),
    3: _dg(3, 0x63, 256 * 1024),
    4: _dg(4, 0x76, 256 * 1024),
    5: _dg(5, 0x65, 128 * 1024),
    6: _dg(6, 0x66, 128 * 1024),
    7: _dg(7, 0x67, 128 * 1024),
    8: _dg(8, 0x68, 32768),
    9: _dg(9, 0x69, 32768),
    10: _dg(10, 0x6A, 32768),
    11: _dg(11, 0x6B, 8192),
    12: _dg(12, 0x6C, 8192),
    13: _dg(13, 0x6D, 8192),
    14: _dg(14, 0x6E, 8192),
    15: _dg(15, 0x6F, 8192),
    16: _dg(16, 0x70, 8192),
}

#: LDS tag → data group number (the tag list of EF.COM uses these tags).
TAG_TO_DG: dict[int, int] = {info.tag: n for n, info in DATA_GROUPS.items() if info.tag}

#: Expected order of reading: small, decisive files first (DG1, DG13 before DG2).
READ_PRIORITY: tuple[int, ...] = (1, 13, 14, 15, 11, 12, 16, 5, 6, 7, 8, 9, 10, 2, 4, 3)


def by_name(name: str) -> EFInfo:
    """Look a file up by its display name (``"DG13"``, ``"EF.SOD"``)."""
    for info in (EF_CARD_ACCESS, EF_CARD_SECURITY, EF_COM, EF_SOD, *DATA_GROUPS.values()):
        if info.name == name:
            return info
    raise KeyError(name)
