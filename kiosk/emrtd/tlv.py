"""BER-TLV (ISO/IEC 8825-1 subset used by ICAO 9303 and ISO 7816) with hard caps.

A chip is untrusted input: lengths, nesting depth and element count are all
capped so that a hostile or broken chip cannot make us allocate or recurse
without bound. Definite lengths only by default (the LDS files and SM objects
are DER); ``ber=True`` also accepts the indefinite form (``80`` … ``00 00``) on
constructed objects, because real chips send EF.SOD's CMS in BER (a New
Zealand passport does) — the same caps apply. Tags are handled as ints holding
their encoded bytes, e.g. ``0x5F1F`` or ``0x7F49``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from kiosk.emrtd.errors import TLVError

#: Largest value length we accept anywhere (no LDS file comes near 1 MiB).
MAX_LENGTH = 1 << 20
#: Deepest nesting of constructed objects we descend into.
MAX_DEPTH = 16
#: Most elements a single decode may produce.
MAX_ELEMENTS = 10_000
#: Longest tag we accept, in bytes.
MAX_TAG_BYTES = 4
#: The length :func:`read_header` reports for an indefinite-length header (``ber=True``).
INDEFINITE = -1


def tag_bytes(tag: int) -> bytes:
    """The encoded bytes of an int tag (``0x5F1F`` → ``b"\\x5f\\x1f"``)."""
    if tag < 0:
        raise TLVError(f"negative tag {tag}")
    n = max(1, (tag.bit_length() + 7) // 8)
    if n > MAX_TAG_BYTES:
        raise TLVError(f"tag {tag:X} longer than {MAX_TAG_BYTES} bytes")
    return tag.to_bytes(n, "big")


def is_constructed(tag: int) -> bool:
    """True when bit 6 of the tag's first byte marks a constructed object."""
    return bool(tag_bytes(tag)[0] & 0x20)


def encode_length(length: int) -> bytes:
    """Definite-length encoding: short form below 128, long form (0x81..0x84) above."""
    if length < 0:
        raise TLVError(f"negative length {length}")
    if length < 0x80:
        return bytes([length])
    n = (length.bit_length() + 7) // 8
    if n > 4:
        raise TLVError(f"length {length} too large to encode")
    return bytes([0x80 | n]) + length.to_bytes(n, "big")


def encode(tag: int, value: bytes) -> bytes:
    """Encode one TLV object."""
    return tag_bytes(tag) + encode_length(len(value)) + value


def encode_many(*items: tuple[int, bytes]) -> bytes:
    """Concatenate several encoded TLV objects."""
    return b"".join(encode(t, v) for t, v in items)


def read_header(
    data: bytes, offset: int = 0, *, max_length: int = MAX_LENGTH, ber: bool = False
) -> tuple[int, int, int]:
    """Parse the tag and length at ``offset``.

    Returns ``(tag, length, value_offset)``. Raises :class:`TLVError` on a
    truncated header, an over-long length, a tag longer than
    :data:`MAX_TAG_BYTES`, or an indefinite length — unless ``ber`` is set and
    the tag is constructed, when the length is :data:`INDEFINITE` (the value
    runs to the matching end-of-contents ``00 00``). Does not check that the
    value itself is present.
    """
    end = len(data)
    if offset >= end:
        raise TLVError("truncated TLV: no tag")
    pos = offset
    first = data[pos]
    pos += 1
    tag = first
    if first & 0x1F == 0x1F:
        while True:
            if pos >= end:
                raise TLVError("truncated TLV: multi-byte tag")
            if pos - offset >= MAX_TAG_BYTES:
                raise TLVError(f"tag longer than {MAX_TAG_BYTES} bytes")
            b = data[pos]
            pos += 1
            tag = (tag << 8) | b
            if not b & 0x80:
                break
    if pos >= end:
        raise TLVError("truncated TLV: no length")
    lb = data[pos]
    pos += 1
    if lb < 0x80:
        length = lb
    elif lb == 0x80:
        if not ber:
            raise TLVError("indefinite length is not allowed")
        if not first & 0x20:
            raise TLVError("indefinite length on a primitive tag")
        return tag, INDEFINITE, pos
    else:
        n = lb & 0x7F
        if n > 4:
            raise TLVError(f"length field of {n} bytes")
        if pos + n > end:
            raise TLVError("truncated TLV: long length")
        length = int.from_bytes(data[pos : pos + n], "big")
        pos += n
    if length > max_length:
        raise TLVError(f"length {length} above cap {max_length}")
    return tag, length, pos


def total_length(header: bytes, *, max_length: int = MAX_LENGTH) -> int:
    """Total size (header + value) of the TLV object that starts ``header``.

    Used to size a file from its first few bytes before reading the rest.
    """
    _, length, value_offset = read_header(header, 0, max_length=max_length)
    return value_offset + length


@dataclass(frozen=True)
class TLV:
    """One decoded object. ``children`` is filled for constructed tags only."""

    tag: int
    value: bytes
    children: tuple[TLV, ...] = field(default=(), repr=False)

    @property
    def constructed(self) -> bool:
        return is_constructed(self.tag)

    def find(self, tag: int) -> TLV | None:
        """First direct child with ``tag``, or None."""
        for child in self.children:
            if child.tag == tag:
                return child
        return None

    def find_all(self, tag: int) -> list[TLV]:
        """Every direct child with ``tag``."""
        return [c for c in self.children if c.tag == tag]

    def require(self, tag: int) -> TLV:
        """Direct child with ``tag``; :class:`TLVError` when absent."""
        child = self.find(tag)
        if child is None:
            raise TLVError(f"tag {tag:X} missing under {self.tag:X}")
        return child

    def encode(self) -> bytes:
        return encode(self.tag, self.value)


class _Budget:
    __slots__ = ("left",)

    def __init__(self, n: int) -> None:
        self.left = n

    def take(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise TLVError(f"more than {MAX_ELEMENTS} TLV elements")


def _decode_one(
    data: bytes,
    pos: int,
    end: int,
    depth: int,
    budget: _Budget,
    limits: tuple[int, int, bool],
) -> tuple[TLV, int]:
    """The object at ``data[pos:end]`` and the offset after it (its EOC included).

    ``limits`` is ``(max_depth, max_length, ber)``. An indefinite-length object's
    value is the bytes between its header and its end-of-contents octets.
    """
    max_depth, max_length, ber = limits
    tag, length, vo = read_header(data, pos, max_length=max_length, ber=ber)
    budget.take()
    if length == INDEFINITE:
        if depth + 1 > max_depth:
            raise TLVError(f"TLV nesting deeper than {max_depth}")
        kids: list[TLV] = []
        cur = vo
        while True:
            if cur + 2 > end:
                raise TLVError(f"truncated TLV: tag {tag:X} has no end-of-contents")
            if data[cur] == 0 and data[cur + 1] == 0:
                break
            child, cur = _decode_one(data, cur, end, depth + 1, budget, limits)
            kids.append(child)
        if cur - vo > max_length:
            raise TLVError(f"length {cur - vo} above cap {max_length}")
        return TLV(tag, data[vo:cur], tuple(kids)), cur + 2
    if vo + length > end:
        raise TLVError(f"truncated TLV: tag {tag:X} needs {length} bytes, {end - vo} left")
    value = data[vo : vo + length]
    children: tuple[TLV, ...] = ()
    if is_constructed(tag) and length:
        if depth + 1 > max_depth:
            raise TLVError(f"TLV nesting deeper than {max_depth}")
        children = tuple(_decode_seq(value, depth + 1, budget, limits))
    return TLV(tag, value, children), vo + length


def _decode_seq(
    data: bytes, depth: int, budget: _Budget, limits: tuple[int, int, bool]
) -> Iterator[TLV]:
    pos = 0
    end = len(data)
    while pos < end:
        obj, pos = _decode_one(data, pos, end, depth, budget, limits)
        yield obj


def decode_all(
    data: bytes, *, max_depth: int = MAX_DEPTH, max_length: int = MAX_LENGTH, ber: bool = False
) -> list[TLV]:
    """Decode a concatenation of TLV objects, descending into constructed ones.

    With ``ber`` indefinite lengths are accepted (see the module docstring); such
    objects re-encode with a definite length, so :meth:`TLV.encode` is then not
    the input.
    """
    limits = (max_depth, max_length, ber)
    return list(_decode_seq(bytes(data), 0, _Budget(MAX_ELEMENTS), limits))


def decode(
    data: bytes, *, max_depth: int = MAX_DEPTH, max_length: int = MAX_LENGTH, ber: bool = False
) -> TLV:
    """Decode exactly one TLV object; trailing bytes are an error."""
    items = decode_all(data, max_depth=max_depth, max_length=max_length, ber=ber)
    if len(items) != 1:
        raise TLVError(f"expected one TLV object, found {len(items)}")
    return items[0]


def check(
    data: bytes, *, max_depth: int = MAX_DEPTH, max_length: int = MAX_LENGTH, ber: bool = False
) -> None:
    """Raise :class:`TLVError` exactly when :func:`decode` would, without building anything.

    The caps walk in front of a parser that lacks caps (asn1crypto, for EF.SOD): it
    follows offsets in ``data`` instead of copying every value and making a
    :class:`TLV` per element, so checking a 2 kB SOD costs a fraction of decoding it.
    """
    data = bytes(data)
    budget = [MAX_ELEMENTS]
    limits = (max_depth, max_length, ber)
    pos, count, end = 0, 0, len(data)
    while pos < end:
        pos = _check_one(data, pos, end, 0, budget, limits)
        count += 1
    if count != 1:
        raise TLVError(f"expected one TLV object, found {count}")


def _check_one(
    data: bytes, pos: int, end: int, depth: int, budget: list[int], limits: tuple[int, int, bool]
) -> int:
    """Check the object at ``data[pos:end]`` like :func:`_decode_one`; the offset after it."""
    max_depth, max_length, ber = limits
    tag, length, vo = read_header(data, pos, max_length=max_length, ber=ber)
    if vo > end:
        raise TLVError("truncated TLV: header overruns its parent")
    budget[0] -= 1
    if budget[0] < 0:
        raise TLVError(f"more than {MAX_ELEMENTS} TLV elements")
    if length == INDEFINITE:
        if depth + 1 > max_depth:
            raise TLVError(f"TLV nesting deeper than {max_depth}")
        cur = vo
        while True:
            if cur + 2 > end:
                raise TLVError(f"truncated TLV: tag {tag:X} has no end-of-contents")
            if data[cur] == 0 and data[cur + 1] == 0:
                break
            cur = _check_one(data, cur, end, depth + 1, budget, limits)
        if cur - vo > max_length:
            raise TLVError(f"length {cur - vo} above cap {max_length}")
        return cur + 2
    stop = vo + length
    if stop > end:
        raise TLVError(f"truncated TLV: tag {tag:X} needs {length} bytes, {end - vo} left")
    if data[pos] & 0x20 and length:
        if depth + 1 > max_depth:
            raise TLVError(f"TLV nesting deeper than {max_depth}")
        cur = vo
        while cur < stop:
            cur = _check_one(data, cur, stop, depth + 1, budget, limits)
    return stop


def decode_prefix(
    data: bytes, *, max_length: int = MAX_LENGTH, ber: bool = False
) -> tuple[TLV, bytes]:
    """Decode the first TLV object (and its children) and return it with the remaining bytes.

    Tolerates trailing padding, as files read from chips sometimes carry it.
    ``ber`` accepts indefinite lengths (EF.SOD's CMS on real chips).
    """
    data = bytes(data)
    tag, length, vo = read_header(data, 0, max_length=max_length, ber=ber)
    if length != INDEFINITE and vo + length > len(data):
        raise TLVError(f"truncated TLV: tag {tag:X} needs {length} bytes")
    obj, after = _decode_one(
        data, 0, len(data), 0, _Budget(MAX_ELEMENTS), (MAX_DEPTH, max_length, ber)
    )
    return obj, data[after:]
