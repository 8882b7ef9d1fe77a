"""Machine readable zone (ICAO 9303-3/-5): check digits, TD1 parsing and composing.

This module is extended by the access-key work; ``check_digit`` is here first
because BAC key derivation needs it.
"""

from __future__ import annotations

from kiosk.emrtd.errors import MRZError

_WEIGHTS = (7, 3, 1)


def char_value(c: str) -> int:
    """ICAO 9303-3 value of an MRZ character: digits, A=10..Z=35, '<'=0."""
    if "0" <= c <= "9":
        return ord(c) - 48
    if "A" <= c <= "Z":
        return ord(c) - 55
    if c == "<":
        return 0
    raise MRZError(f"character {c!r} is not allowed in an MRZ")


def check_digit(field: str) -> str:
    """The ICAO 9303-3 check digit (weights 7-3-1, modulo 10) of ``field`` as a character."""
    total = 0
    for i, c in enumerate(field):
        total += char_value(c) * _WEIGHTS[i % 3]
    return str(total % 10)
