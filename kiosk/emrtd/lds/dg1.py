"""EF.DG1: the MRZ as stored on the chip (ICAO 9303-10 §4.7.1).

Structure: ``61 L { 5F1F L <MRZ characters> }``. A CCCD holds a TD1 (90
characters, so the file is 95 bytes: ``61 5B 5F1F 5A`` + 90); passports hold
a TD3 (88). The MRZ is parsed with ``strict=False``: the SOD hash already
protects the bytes, and a chip whose issuer got a check digit wrong should
still be readable, so wrong check digits land in ``mrz.check_digit_errors``
for the caller to show rather than failing the whole read.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.emrtd import tlv
from kiosk.emrtd.errors import LDSParseError, MRZError, TLVError
from kiosk.emrtd.lds.files import DATA_GROUPS
from kiosk.emrtd.mrz import TD1, TD1_LINE_LENGTH, TD3, TD3_LINE_LENGTH, parse_td1, parse_td3

#: Outer tag of EF.DG1.
TAG_DG1 = 0x61
#: MRZ data element inside DG1.
TAG_MRZ = 0x5F1F


@dataclass(frozen=True)
class DG1:
    """Decoded EF.DG1: the document's MRZ (TD1 on a CCCD, TD3 on a passport)."""

    mrz: TD1 | TD3

    def encode(self) -> bytes:
        """The EF.DG1 bytes for this MRZ (used by the simulator)."""
        return encode(self)


def parse(data: bytes) -> DG1:
    """Decode EF.DG1 bytes; trailing padding after the object is ignored.

    Raises :class:`LDSParseError` when the TLV structure, the tags, the MRZ
    length (90 or 88 characters) or the MRZ characters are wrong.
    """
    try:
        outer, _ = tlv.decode_prefix(bytes(data), max_length=DATA_GROUPS[1].max_size)
    except TLVError as exc:
        raise LDSParseError(f"DG1: {exc}") from exc
    if outer.tag != TAG_DG1:
        raise LDSParseError(f"DG1: outer tag is {outer.tag:X}, expected 61")
    element = outer.find(TAG_MRZ)
    if element is None:
        raise LDSParseError("DG1: MRZ data element 5F1F is missing")
    raw = element.value
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError as exc:
        raise LDSParseError("DG1: MRZ contains non-ASCII bytes") from exc
    if not text.isprintable() or " " in text:
        raise LDSParseError("DG1: MRZ contains blanks or control characters")
    try:
        if len(text) == 3 * TD1_LINE_LENGTH:
            return DG1(parse_td1(text, strict=False))
        if len(text) == 2 * TD3_LINE_LENGTH:
            return DG1(parse_td3(text, strict=False))
    except MRZError as exc:
        raise LDSParseError(f"DG1: {exc}") from exc
    raise LDSParseError(
        f"DG1: MRZ is {len(text)} characters; expected 90 (TD1) or 88 (TD3) (TD2 is not supported)"
    )


def encode(dg1: DG1) -> bytes:
    """EF.DG1 bytes: ``61 L { 5F1F L <MRZ lines, no separators> }``."""
    mrz = "".join(dg1.mrz.lines).encode("ascii")
    return tlv.encode(TAG_DG1, tlv.encode(TAG_MRZ, mrz))
