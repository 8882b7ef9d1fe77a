"""kiosk.emrtd.ec: curve constants, point arithmetic and encoding, checked against OpenSSL.

The pure-Python Jacobian path and the OpenSSL-assisted path must agree with each
other and with ``cryptography`` (which never sees our curve constants), and the
ICAO 9303-11 G.1 points must come out byte for byte.
"""

from __future__ import annotations

import secrets

import pytest
from cryptography.hazmat.primitives.asymmetric import ec as cec

from kiosk.emrtd import ec
from kiosk.emrtd.errors import AuthenticationError, UnsupportedProtocol

ALL = list(ec.CURVES.values())
WITH_OPENSSL = [c for c in ALL if ec.has_cryptography(c)]

# ICAO 9303-11 appendix G.1 (brainpoolP256r1).
BP = ec.BRAINPOOL_P256R1
SK_MAP_PCD = 0x7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99
PK_MAP_PCD = bytes.fromhex(
    "047ACF3EFC982EC45565A4B155129EFBC74650DCBFA6362D896FC70262E0C2CC5E"
    "544552DCB6725218799115B55C9BAA6D9F6BC3A9618E70C25AF71777A9C4922D"
)
SK_MAP_IC = 0x498FF49756F2DC1587840041839A85982BE7761D14715FB091EFA7BCE9058560
PK_MAP_IC = bytes.fromhex(
    "04824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F57"
    "30D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54"
)
H = bytes.fromhex(
    "0460332EF2450B5D247EF6D3868397D398852ED6E8CAF6FFEEF6BF85CA57057FD5"
    "0840CA7415BAF3E43BD414D35AA4608B93A2CAF3A4E3EA4E82C9C13D03EB7181"
)


def _crypto_point(curve: ec.Curve, k: int) -> ec.Point:
    nums = cec.derive_private_key(k, ec.to_cryptography(curve)).public_key().public_numbers()
    return ec.Point(nums.x, nums.y)


@pytest.mark.parametrize("curve", WITH_OPENSSL, ids=lambda c: c.name)
def test_constants_match_openssl(curve: ec.Curve) -> None:
    # G = 1·G, (n-1)·G = -G: checks gx, gy and n against OpenSSL's own tables.
    assert _crypto_point(curve, 1) == curve.g
    assert _crypto_point(curve, curve.n - 1) == ec.negate(curve, curve.g)
    # a random OpenSSL point satisfies our a, b, p.
    assert ec.is_on_curve(curve, _crypto_point(curve, secrets.randbelow(curve.n - 1) + 1))


@pytest.mark.parametrize("curve", ALL, ids=lambda c: c.name)
def test_generator_has_order_n(curve: ec.Curve) -> None:
    # (n-1)·G = -G by the pure-Python path (which reduces k mod n, so n·G itself is trivial).
    assert ec.is_on_curve(curve, curve.g)
    assert ec.multiply_jacobian(curve, curve.n - 1, curve.g) == ec.negate(curve, curve.g)
    half = curve.n // 2
    assert (
        ec._add_affine(
            curve,
            ec.multiply_jacobian(curve, half, curve.g),
            ec.multiply_jacobian(curve, curve.n - half, curve.g),
        )
        is None
    )


@pytest.mark.parametrize("curve", ALL, ids=lambda c: c.name)
def test_jacobian_and_assisted_paths_agree(curve: ec.Curve) -> None:
    base = ec.multiply_jacobian(curve, secrets.randbelow(curve.n - 2) + 2, curve.g)
    for k in (1, 2, 3, curve.n - 1, secrets.randbelow(curve.n - 1) + 1):
        expected = ec.multiply_jacobian(curve, k, base)
        assert ec.multiply(curve, k, base) == expected
        assert ec.KeyPair(curve, k).shared_x(base) == expected.x.to_bytes(curve.size, "big")
    # the special cases P = ±G of the assisted path
    k = secrets.randbelow(curve.n - 1) + 1
    assert ec.multiply(curve, k, curve.g) == ec.multiply_jacobian(curve, k, curve.g)
    minus_g = ec.negate(curve, curve.g)
    assert ec.multiply(curve, k, minus_g) == ec.multiply_jacobian(curve, k, minus_g)


@pytest.mark.parametrize("curve", WITH_OPENSSL, ids=lambda c: c.name)
def test_jacobian_generator_matches_openssl(curve: ec.Curve) -> None:
    k = secrets.randbelow(curve.n - 1) + 1
    assert ec.multiply_jacobian(curve, k, curve.g) == _crypto_point(curve, k)
    assert ec.multiply_generator(curve, k) == _crypto_point(curve, k)


@pytest.mark.parametrize("curve", ALL, ids=lambda c: c.name)
def test_add_is_consistent_with_multiplication(curve: ec.Curve) -> None:
    a, b = secrets.randbelow(curve.n // 2) + 1, secrets.randbelow(curve.n // 2) + 1
    pa, pb = ec.multiply_jacobian(curve, a, curve.g), ec.multiply_jacobian(curve, b, curve.g)
    assert ec.add(curve, pa, pb) == ec.multiply_jacobian(curve, a + b, curve.g)
    assert ec.add(curve, pa, pa) == ec.multiply_jacobian(curve, 2 * a, curve.g)
    with pytest.raises(ec.InvalidPoint):
        ec.add(curve, pa, ec.negate(curve, pa))


def test_keypair_on_another_base() -> None:
    base = ec.multiply_generator(BP, 0xC0FFEE)
    kp = ec.KeyPair(BP, 0x1234567, base)
    assert kp.public == ec.multiply_jacobian(BP, 0x1234567 * 0xC0FFEE, BP.g)


def test_g1_mapping_points() -> None:
    """ICAO 9303-11 G.1: both PK_map, and H = SK_map,PCD·PK_map,IC = SK_map,IC·PK_map,PCD."""
    pk_pcd = ec.multiply_generator(BP, SK_MAP_PCD)
    pk_ic = ec.multiply_generator(BP, SK_MAP_IC)
    assert ec.encode_point(BP, pk_pcd) == PK_MAP_PCD
    assert ec.encode_point(BP, pk_ic) == PK_MAP_IC
    assert ec.encode_point(BP, ec.multiply(BP, SK_MAP_PCD, pk_ic)) == H
    assert ec.encode_point(BP, ec.multiply(BP, SK_MAP_IC, pk_pcd)) == H
    assert ec.encode_point(BP, ec.multiply_jacobian(BP, SK_MAP_PCD, pk_ic)) == H


def test_parameter_ids() -> None:
    assert ec.curve_for_parameter_id(13) is ec.BRAINPOOL_P256R1
    assert ec.curve_for_parameter_id(12) is ec.P256
    assert ec.curve_for_parameter_id(18) is ec.P521
    assert sorted(ec.PARAMETER_IDS) == list(range(8, 19))
    for bad in (None, 0, 1, 2, 7, 19, 31, -1):
        with pytest.raises(UnsupportedProtocol):
            ec.curve_for_parameter_id(bad)


def test_to_cryptography() -> None:
    assert isinstance(ec.to_cryptography(ec.BRAINPOOL_P256R1), cec.BrainpoolP256R1)
    assert isinstance(ec.to_cryptography(ec.P521), cec.SECP521R1)
    with pytest.raises(UnsupportedProtocol):
        ec.to_cryptography(ec.BRAINPOOL_P320R1)


@pytest.mark.parametrize("curve", ALL, ids=lambda c: c.name)
def test_encode_decode_round_trip_pads(curve: ec.Curve) -> None:
    # find a point with a short x to check the left padding
    k = 1
    while True:
        pt = ec.multiply_jacobian(curve, k, curve.g)
        if pt.x < (1 << (8 * curve.size - 8)):
            break
        k += 1
    raw = ec.encode_point(curve, pt)
    assert len(raw) == 1 + 2 * curve.size and raw[0] == 4 and raw[1] == 0
    assert ec.decode_point(curve, raw) == pt


def test_decode_rejects_bad_points() -> None:
    good = bytearray(PK_MAP_IC)
    off_curve = bytearray(good)
    off_curve[-1] ^= 1
    for bad in (
        b"",
        b"\x00",  # infinity
        bytes(good[:-1]),
        bytes(good) + b"\x00",
        b"\x02" + bytes(good[1:33]),  # compressed
        b"\x03" + bytes(good[1:]),
        bytes(off_curve),
        b"\x04" + BP.p.to_bytes(32, "big") + bytes(32),  # x = p, out of range
        b"\x04" + bytes(64),
    ):
        with pytest.raises(ec.InvalidPoint):
            ec.decode_point(BP, bad)
    assert issubclass(ec.InvalidPoint, AuthenticationError)


def test_invalid_inputs_to_arithmetic() -> None:
    with pytest.raises(ec.InvalidPoint):
        ec.multiply(BP, 5, ec.Point(1, 2))
    with pytest.raises(ec.InvalidPoint):
        ec.KeyPair(BP, 7).shared_x(ec.Point(1, 2))
    with pytest.raises(ec.InvalidPoint):
        ec.KeyPair(BP, BP.n)
    with pytest.raises(ec.InvalidPoint):
        ec.multiply_jacobian(BP, BP.n, BP.g)


def test_random_scalar_range() -> None:
    assert ec.random_scalar(BP, lambda n: bytes(n)) == 1
    assert 1 <= ec.random_scalar(BP, lambda n: b"\xff" * n) < BP.n
    with pytest.raises(AuthenticationError):
        ec.random_scalar(BP, lambda n: b"")
