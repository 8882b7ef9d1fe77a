"""Helpers shared by the LDS parsers: outer-envelope handling and error wrapping.

Every LDS file is one BER-TLV object with a known outer tag, possibly followed
by padding (chips round file sizes up). :func:`unwrap` finds that object with
the capped :mod:`kiosk.emrtd.tlv` reader and hands back its value; the
parsers never see the padding. :data:`ASN1_ERRORS` lists what asn1crypto (and
the stdlib decoders) raise on malformed input, so that each parser can turn
it into :class:`~kiosk.emrtd.errors.LDSParseError`.
"""

from __future__ import annotations

from kiosk.emrtd import tlv
from kiosk.emrtd.errors import LDSParseError, TLVError

#: Exceptions asn1crypto, ``int.from_bytes``, codecs etc. raise on malformed input.
ASN1_ERRORS: tuple[type[Exception], ...] = (
    ValueError,  # includes UnicodeError
    TypeError,
    KeyError,
    IndexError,
    OverflowError,
    AttributeError,
    RecursionError,
)


def outer_object(
    data: bytes, tag: int, name: str, max_size: int, *, ber: bool = False
) -> tuple[int, int]:
    """Locate the outer TLV object of an LDS file.

    Returns ``(value_start, value_end)`` offsets into ``data``. Checks the tag,
    that the value is complete and not above ``max_size``; bytes after the
    object (chip padding) are ignored. ``ber`` also accepts an indefinite
    length (EF.SOD on some real chips): the value then ends at its
    end-of-contents octets, found with the capped BER walk. Raises
    :class:`LDSParseError`.
    """
    try:
        found, length, start = tlv.read_header(data, 0, max_length=max_size, ber=ber)
        if found == tag and length == tlv.INDEFINITE:
            obj, _rest = tlv.decode_prefix(data, max_length=max_size, ber=True)
            length = len(obj.value)
    except TLVError as exc:
        raise LDSParseError(f"{name}: {exc}") from exc
    if found != tag:
        raise LDSParseError(f"{name}: outer tag {found:X}, expected {tag:X}")
    end = start + length
    if end > len(data):
        raise LDSParseError(
            f"{name}: truncated, needs {length} value bytes, {len(data) - start} left"
        )
    return start, end


def unwrap(data: bytes, tag: int, name: str, max_size: int, *, ber: bool = False) -> bytes:
    """The value of the outer TLV object of an LDS file (see :func:`outer_object`)."""
    start, end = outer_object(data, tag, name, max_size, ber=ber)
    return bytes(data[start:end])


def children(
    data: bytes, start: int, end: int, name: str, *, limit: int = 4096
) -> list[tuple[int, int, int, int]]:
    """Direct children of the TLV value ``data[start:end]``, without copying.

    Returns ``(tag, object_start, value_start, value_end)`` for each child, in
    order. At most ``limit`` children; every child must fit inside the parent.
    """
    out: list[tuple[int, int, int, int]] = []
    pos = start
    try:
        while pos < end:
            if len(out) >= limit:
                raise LDSParseError(f"{name}: more than {limit} elements")
            tag, length, vo = tlv.read_header(data, pos, max_length=end - pos)
            if vo > end or vo + length > end:
                raise LDSParseError(f"{name}: element {tag:X} overruns its parent")
            out.append((tag, pos, vo, vo + length))
            pos = vo + length
    except TLVError as exc:
        raise LDSParseError(f"{name}: {exc}") from exc
    return out


def decode_uint(value: bytes, name: str, *, max_bytes: int = 8) -> int:
    """A DER INTEGER's content octets as a Python int (two's complement, capped length)."""
    if not value or len(value) > max_bytes:
        raise LDSParseError(f"{name}: INTEGER of {len(value)} bytes")
    return int.from_bytes(value, "big", signed=True)


def encode_int(value: int) -> bytes:
    """DER content octets of an INTEGER (minimal two's complement)."""
    n = (value if value >= 0 else ~value).bit_length() // 8 + 1
    return value.to_bytes(n, "big", signed=True)
