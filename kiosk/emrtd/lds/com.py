"""EF.COM (ICAO 9303-10 §4.6.1): LDS version, Unicode version and the list of data groups.

``60 { 5F01 "0107", 5F36 "040000", 5C <tag list> }``. The tag list holds the
LDS tags of the data groups present (``61`` = DG1 … ``75`` = DG2 …); EF.COM is
not covered by the SOD, so the reader treats the SOD's hash list as the
authority and EF.COM as a hint.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.emrtd import tlv
from kiosk.emrtd.errors import LDSParseError
from kiosk.emrtd.lds._common import children, outer_object
from kiosk.emrtd.lds.files import EF_COM, TAG_TO_DG

_TAG = 0x60
_TAG_LDS_VERSION = 0x5F01
_TAG_UNICODE_VERSION = 0x5F36
_TAG_TAG_LIST = 0x5C
#: Most tags accepted in the tag list (there are 16 data groups).
MAX_TAGS = 64


@dataclass(frozen=True)
class EFCom:
    """EF.COM: ``lds_version`` like ``"0107"`` (LDS 1.7), ``unicode_version`` like ``"040000"``."""

    lds_version: str = "0107"
    unicode_version: str = "040000"
    tags: tuple[int, ...] = ()

    @property
    def data_groups(self) -> tuple[int, ...]:
        """Data group numbers for the listed tags, in list order; unknown tags are skipped."""
        return tuple(TAG_TO_DG[t] for t in self.tags if t in TAG_TO_DG)


def _ascii(value: bytes, what: str) -> str:
    try:
        text = value.decode("ascii")
    except UnicodeDecodeError as exc:
        raise LDSParseError(f"EF.COM: {what} is not ASCII") from exc
    if not text.isprintable():
        raise LDSParseError(f"EF.COM: {what} has control characters")
    return text


def _split_tags(value: bytes) -> tuple[int, ...]:
    """Split the concatenated BER tags of a tag list (``5C``)."""
    tags: list[int] = []
    pos = 0
    while pos < len(value):
        if len(tags) >= MAX_TAGS:
            raise LDSParseError(f"EF.COM: more than {MAX_TAGS} tags")
        start = pos
        first = value[pos]
        pos += 1
        if first & 0x1F == 0x1F:
            while True:
                if pos >= len(value) or pos - start >= tlv.MAX_TAG_BYTES:
                    raise LDSParseError("EF.COM: truncated or over-long tag in the tag list")
                pos += 1
                if not value[pos - 1] & 0x80:
                    break
        tags.append(int.from_bytes(value[start:pos], "big"))
    return tuple(tags)


def parse(data: bytes) -> EFCom:
    """Parse EF.COM; trailing padding is ignored. Raises :class:`LDSParseError`."""
    data = bytes(data)
    start, end = outer_object(data, _TAG, EF_COM.name, EF_COM.max_size)
    found: dict[int, bytes] = {}
    for tag, _, vs, ve in children(data, start, end, EF_COM.name, limit=16):
        if tag in found:
            raise LDSParseError(f"EF.COM: tag {tag:X} repeated")
        found[tag] = data[vs:ve]
    for tag, what in (
        (_TAG_LDS_VERSION, "LDS version"),
        (_TAG_UNICODE_VERSION, "Unicode version"),
        (_TAG_TAG_LIST, "tag list"),
    ):
        if tag not in found:
            raise LDSParseError(f"EF.COM: {what} ({tag:X}) missing")
    return EFCom(
        lds_version=_ascii(found[_TAG_LDS_VERSION], "LDS version"),
        unicode_version=_ascii(found[_TAG_UNICODE_VERSION], "Unicode version"),
        tags=_split_tags(found[_TAG_TAG_LIST]),
    )


def encode(com: EFCom) -> bytes:
    """EF.COM bytes for the card simulator."""
    tag_list = b"".join(tlv.tag_bytes(t) for t in com.tags)
    body = tlv.encode_many(
        (_TAG_LDS_VERSION, com.lds_version.encode("ascii")),
        (_TAG_UNICODE_VERSION, com.unicode_version.encode("ascii")),
        (_TAG_TAG_LIST, tag_list),
    )
    return tlv.encode(_TAG, body)
