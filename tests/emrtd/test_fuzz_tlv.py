"""Property tests: BER-TLV decode never escapes with anything but TLVError; round trips hold."""

from __future__ import annotations

import contextlib

from hypothesis import given
from hypothesis import strategies as st

from kiosk.emrtd import tlv
from kiosk.emrtd.errors import TLVError

primitive_tags = st.sampled_from([0x02, 0x04, 0x0C, 0x13, 0x5F1F, 0x5F01, 0x80, 0x86, 0x9F1F])
constructed_tags = st.sampled_from([0x30, 0x31, 0x60, 0x61, 0x75, 0x7F61, 0x7F49, 0xA1])


def _tree(depth: int) -> st.SearchStrategy[bytes]:
    leaf = st.builds(tlv.encode, primitive_tags, st.binary(max_size=300))
    if depth == 0:
        return leaf
    node = st.builds(
        lambda t, kids: tlv.encode(t, b"".join(kids)),
        constructed_tags,
        st.lists(_tree(depth - 1), max_size=4),
    )
    return st.one_of(leaf, node)


@given(st.binary(max_size=2048))
def test_fuzz_decode_junk_raises_only_tlverror(data: bytes) -> None:
    try:
        items = tlv.decode_all(data)
    except TLVError:
        return
    assert b"".join(i.encode() for i in items) == data


@given(_tree(4))
def test_fuzz_round_trip(encoded: bytes) -> None:
    obj = tlv.decode(encoded)
    assert obj.encode() == encoded
    assert tlv.total_length(encoded[:8]) == len(encoded)


@given(_tree(3), st.integers(min_value=0, max_value=2047), st.integers(0, 255))
def test_fuzz_mutations(encoded: bytes, pos: int, byte: int) -> None:
    data = bytearray(encoded)
    data[pos % len(data)] = byte
    with contextlib.suppress(TLVError):
        tlv.decode_all(bytes(data))


def _outcome(fn: object, data: bytes, ber: bool) -> str | None:
    try:
        fn(data, ber=ber)  # type: ignore[operator]
    except TLVError:
        return "error"
    return None


@given(st.binary(max_size=600), st.booleans())
def test_fuzz_check_agrees_with_decode_on_junk(data: bytes, ber: bool) -> None:
    """``tlv.check`` (the caps walk in front of asn1crypto) refuses exactly what decode refuses."""
    assert _outcome(tlv.check, data, ber) == _outcome(tlv.decode, data, ber)


@given(_tree(4), st.integers(min_value=0, max_value=10_000), st.integers(0, 255), st.booleans())
def test_fuzz_check_agrees_with_decode_on_mutated_trees(
    encoded: bytes, at: int, byte: int, ber: bool
) -> None:
    """One byte changed anywhere in a valid tree (lengths, tags, EOCs): same verdict."""
    data = bytearray(encoded)
    data[at % len(data)] = byte
    assert _outcome(tlv.check, bytes(data), ber) == _outcome(tlv.decode, bytes(data), ber)


def _ber_tree(depth: int) -> st.SearchStrategy[bytes]:
    """Trees whose constructed objects use the indefinite length (as real EF.SODs do)."""
    leaf = st.builds(tlv.encode, primitive_tags, st.binary(max_size=40))
    if depth == 0:
        return leaf
    node = st.builds(
        lambda t, kids, indef: (
            tlv.tag_bytes(t) + b"\x80" + b"".join(kids) + b"\x00\x00"
            if indef
            else tlv.encode(t, b"".join(kids))
        ),
        constructed_tags,
        st.lists(_ber_tree(depth - 1), max_size=4),
        st.booleans(),
    )
    return st.one_of(leaf, node)


@given(_ber_tree(4), st.integers(min_value=0, max_value=10_000), st.sampled_from([0, 0x80, 0xFF]))
def test_fuzz_check_agrees_with_decode_on_mutated_ber(encoded: bytes, at: int, byte: int) -> None:
    assert _outcome(tlv.check, encoded, True) == _outcome(tlv.decode, encoded, True) is None
    data = bytearray(encoded)
    data[at % len(data)] = byte
    assert _outcome(tlv.check, bytes(data), True) == _outcome(tlv.decode, bytes(data), True)
