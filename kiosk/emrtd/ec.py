"""Elliptic-curve arithmetic over prime fields for PACE generic mapping and chip authentication.

Why this module exists: ``cryptography`` offers ``k·G`` (by deriving a private
key) and the x-coordinate of ``k·P`` (ECDH ``exchange``), but no point
addition and no full ``k·P`` for an arbitrary base point ``P``, which PACE
generic mapping needs (ICAO 9303-11 §4.4.3.3.1: ``G' = s·G + H``, then the
ephemeral key pair over ``G'``).

Strategy, chosen for reader-side CPU time:

* ``k·G`` comes from ``cryptography`` (OpenSSL), with both coordinates.
* ``k·P`` for an arbitrary ``P`` also comes from OpenSSL when the curve is
  supported there and ``p ≡ 3 (mod 4)`` (every curve here except NIST P-224):
  ECDH gives ``x(k·P)`` and ``x(k·P + k·G)`` (the latter as ``x(k·(P + G))``);
  ``y`` is one of the two square roots of ``x³ + ax + b``, and exactly one of
  them, added to the known ``k·G``, gives the second x-coordinate (the other
  would need ``2·k·P = 0`` or ``2·k·G = 0``, impossible in a group of odd
  prime order). That costs two OpenSSL multiplications, one modular square
  root and two affine additions: no pure-Python scalar multiplication at all.
* Otherwise (P-224, brainpoolP192r1/P224r1/P320r1 that OpenSSL's Python
  binding does not name) a pure-Python Jacobian-coordinate wNAF
  multiplication is used. It is not constant time; it only runs for rare
  curves and single-use ephemeral keys.

Every curve here has cofactor 1, so a point that satisfies the curve equation
lies in the prime-order group: on-curve validation is full validation.
Points cross the wire in the uncompressed form ``04 || X || Y`` (BSI
TR-03111 §3.2.1), each coordinate left-padded to the field size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from cryptography.hazmat.primitives.asymmetric import ec as _cec

from kiosk.emrtd.errors import AuthenticationError, UnsupportedProtocol


class InvalidPoint(AuthenticationError):
    """A point is malformed, not on the curve, or the point at infinity.

    A subclass of :class:`AuthenticationError` because, during PACE or chip
    authentication, a bad point from the chip is a protocol violation.
    """


class Point(NamedTuple):
    """An affine point (never the point at infinity)."""

    x: int
    y: int


@dataclass(frozen=True)
class Curve:
    """Short Weierstrass curve ``y² = x³ + ax + b`` over GF(p), base point G of prime order n.

    ``crypto_name`` is the class name in ``cryptography.hazmat.primitives.asymmetric.ec``
    when OpenSSL can compute on this curve, else ``None``.
    """

    name: str
    p: int
    a: int
    b: int
    gx: int
    gy: int
    n: int
    h: int = 1
    crypto_name: str | None = None

    @property
    def size(self) -> int:
        """Field element size in bytes (the length of X and of Y in an encoded point)."""
        return (self.p.bit_length() + 7) // 8

    @property
    def g(self) -> Point:
        """The base point G."""
        return Point(self.gx, self.gy)

    def __repr__(self) -> str:
        return f"Curve({self.name})"


# Domain parameters: NIST FIPS 186-4 / SEC 2 and RFC 5639 (brainpool), as printed by
# `openssl ecparam -param_enc explicit -text`; tests cross-check them against OpenSSL.
P192 = Curve(
    "secp192r1",
    p=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFFFFFFFFFFFF,
    a=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFFFFFFFFFFFC,
    b=0x64210519E59C80E70FA7E9AB72243049FEB8DEECC146B9B1,
    gx=0x188DA80EB03090F67CBF20EB43A18800F4FF0AFD82FF1012,
    gy=0x07192B95FFC8DA78631011ED6B24CDD573F977A11E794811,
    n=0xFFFFFFFFFFFFFFFFFFFFFFFF99DEF836146BC9B1B4D22831,
    crypto_name="SECP192R1",
)
BRAINPOOL_P192R1 = Curve(
    "brainpoolP192r1",
    p=0xC302F41D932A36CDA7A3463093D18DB78FCE476DE1A86297,
    a=0x6A91174076B1E0E19C39C031FE8685C1CAE040E5C69A28EF,
    b=0x469A28EF7C28CCA3DC721D044F4496BCCA7EF4146FBF25C9,
    gx=0xC0A0647EAAB6A48753B033C56CB0F0900A2F5C4853375FD6,
    gy=0x14B690866ABD5BB88B5F4828C1490002E6773FA2FA299B8F,
    n=0xC302F41D932A36CDA7A3462F9E9E916B5BE8F1029AC4ACC1,
)
P224 = Curve(
    "secp224r1",
    p=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF000000000000000000000001,
    a=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFE,
    b=0xB4050A850C04B3ABF54132565044B0B7D7BFD8BA270B39432355FFB4,
    gx=0xB70E0CBD6BB4BF7F321390B94A03C1D356C21122343280D6115C1D21,
    gy=0xBD376388B5F723FB4C22DFE6CD4375A05A07476444D5819985007E34,
    n=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFF16A2E0B8F03E13DD29455C5C2A3D,
    crypto_name="SECP224R1",
)
BRAINPOOL_P224R1 = Curve(
    "brainpoolP224r1",
    p=0xD7C134AA264366862A18302575D1D787B09F075797DA89F57EC8C0FF,
    a=0x68A5E62CA9CE6C1C299803A6C1530B514E182AD8B0042A59CAD29F43,
    b=0x2580F63CCFE44138870713B1A92369E33E2135D266DBB372386C400B,
    gx=0x0D9029AD2C7E5CF4340823B2A87DC68C9E4CE3174C1E6EFDEE12C07D,
    gy=0x58AA56F772C0726F24C6B89E4ECDAC24354B9E99CAA3F6D3761402CD,
    n=0xD7C134AA264366862A18302575D0FB98D116BC4B6DDEBCA3A5A7939F,
)
P256 = Curve(
    "secp256r1",
    p=0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF,
    a=0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFC,
    b=0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B,
    gx=0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
    gy=0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5,
    n=0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    crypto_name="SECP256R1",
)
BRAINPOOL_P256R1 = Curve(
    "brainpoolP256r1",
    p=0xA9FB57DBA1EEA9BC3E660A909D838D726E3BF623D52620282013481D1F6E5377,
    a=0x7D5A0975FC2C3057EEF67530417AFFE7FB8055C126DC5C6CE94A4B44F330B5D9,
    b=0x26DC5C6CE94A4B44F330B5D9BBD77CBF958416295CF7E1CE6BCCDC18FF8C07B6,
    gx=0x8BD2AEB9CB7E57CB2C4B482FFC81B7AFB9DE27E1E3BD23C23A4453BD9ACE3262,
    gy=0x547EF835C3DAC4FD97F8461A14611DC9C27745132DED8E545C1D54C72F046997,
    n=0xA9FB57DBA1EEA9BC3E660A909D838D718C397AA3B561A6F7901E0E82974856A7,
    crypto_name="BrainpoolP256R1",
)
BRAINPOOL_P320R1 = Curve(
    "brainpoolP320r1",
    p=0xD35E472036BC4FB7E13C785ED201E065F98FCFA6F6F40DEF4F92B9EC7893EC28FCD412B1F1B32E27,
    a=0x3EE30B568FBAB0F883CCEBD46D3F3BB8A2A73513F5EB79DA66190EB085FFA9F492F375A97D860EB4,
    b=0x520883949DFDBC42D3AD198640688A6FE13F41349554B49ACC31DCCD884539816F5EB4AC8FB1F1A6,
    gx=0x43BD7E9AFB53D8B85289BCC48EE5BFE6F20137D10A087EB6E7871E2A10A599C710AF8D0D39E20611,
    gy=0x14FDD05545EC1CC8AB4093247F77275E0743FFED117182EAA9C77877AAAC6AC7D35245D1692E8EE1,
    n=0xD35E472036BC4FB7E13C785ED201E065F98FCFA5B68F12A32D482EC7EE8658E98691555B44C59311,
)
P384 = Curve(
    "secp384r1",
    p=int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFE"
        "FFFFFFFF0000000000000000FFFFFFFF",
        16,
    ),
    a=int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFE"
        "FFFFFFFF0000000000000000FFFFFFFC",
        16,
    ),
    b=int(
        "B3312FA7E23EE7E4988E056BE3F82D19181D9C6EFE8141120314088F5013875A"
        "C656398D8A2ED19D2A85C8EDD3EC2AEF",
        16,
    ),
    gx=int(
        "AA87CA22BE8B05378EB1C71EF320AD746E1D3B628BA79B9859F741E082542A38"
        "5502F25DBF55296C3A545E3872760AB7",
        16,
    ),
    gy=int(
        "3617DE4A96262C6F5D9E98BF9292DC29F8F41DBD289A147CE9DA3113B5F0B8C0"
        "0A60B1CE1D7E819D7A431D7C90EA0E5F",
        16,
    ),
    n=int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF"
        "581A0DB248B0A77AECEC196ACCC52973",
        16,
    ),
    crypto_name="SECP384R1",
)
BRAINPOOL_P384R1 = Curve(
    "brainpoolP384r1",
    p=int(
        "8CB91E82A3386D280F5D6F7E50E641DF152F7109ED5456B412B1DA197FB71123"
        "ACD3A729901D1A71874700133107EC53",
        16,
    ),
    a=int(
        "7BC382C63D8C150C3C72080ACE05AFA0C2BEA28E4FB22787139165EFBA91F90F"
        "8AA5814A503AD4EB04A8C7DD22CE2826",
        16,
    ),
    b=int(
        "04A8C7DD22CE28268B39B55416F0447C2FB77DE107DCD2A62E880EA53EEB62D5"
        "7CB4390295DBC9943AB78696FA504C11",
        16,
    ),
    gx=int(
        "1D1C64F068CF45FFA2A63A81B7C13F6B8847A3E77EF14FE3DB7FCAFE0CBD10E8"
        "E826E03436D646AAEF87B2E247D4AF1E",
        16,
    ),
    gy=int(
        "8ABE1D7520F9C2A45CB1EB8E95CFD55262B70B29FEEC5864E19C054FF9912928"
        "0E4646217791811142820341263C5315",
        16,
    ),
    n=int(
        "8CB91E82A3386D280F5D6F7E50E641DF152F7109ED5456B31F166E6CAC0425A7"
        "CF3AB6AF6B7FC3103B883202E9046565",
        16,
    ),
    crypto_name="BrainpoolP384R1",
)
BRAINPOOL_P512R1 = Curve(
    "brainpoolP512r1",
    p=int(
        "AADD9DB8DBE9C48B3FD4E6AE33C9FC07CB308DB3B3C9D20ED6639CCA70330871"
        "7D4D9B009BC66842AECDA12AE6A380E62881FF2F2D82C68528AA6056583A48F3",
        16,
    ),
    a=int(
        "7830A3318B603B89E2327145AC234CC594CBDD8D3DF91610A83441CAEA9863BC"
        "2DED5D5AA8253AA10A2EF1C98B9AC8B57F1117A72BF2C7B9E7C1AC4D77FC94CA",
        16,
    ),
    b=int(
        "3DF91610A83441CAEA9863BC2DED5D5AA8253AA10A2EF1C98B9AC8B57F1117A7"
        "2BF2C7B9E7C1AC4D77FC94CADC083E67984050B75EBAE5DD2809BD638016F723",
        16,
    ),
    gx=int(
        "81AEE4BDD82ED9645A21322E9C4C6A9385ED9F70B5D916C1B43B62EEF4D0098E"
        "FF3B1F78E2D0D48D50D1687B93B97D5F7C6D5047406A5E688B352209BCB9F822",
        16,
    ),
    gy=int(
        "7DDE385D566332ECC0EABFA9CF7822FDF209F70024A57B1AA000C55B881F8111"
        "B2DCDE494A5F485E5BCA4BD88A2763AED1CA2B2FA8F0540678CD1E0F3AD80892",
        16,
    ),
    n=int(
        "AADD9DB8DBE9C48B3FD4E6AE33C9FC07CB308DB3B3C9D20ED6639CCA70330870"
        "553E5C414CA92619418661197FAC10471DB1D381085DDADDB58796829CA90069",
        16,
    ),
    crypto_name="BrainpoolP512R1",
)
P521 = Curve(
    "secp521r1",
    p=(1 << 521) - 1,
    a=(1 << 521) - 4,
    b=int(
        "0051953EB9618E1C9A1F929A21A0B68540EEA2DA725B99B315F3B8B489918EF1"
        "09E156193951EC7E937B1652C0BD3BB1BF073573DF883D2C34F1EF451FD46B50"
        "3F00",
        16,
    ),
    gx=int(
        "00C6858E06B70404E9CD9E3ECB662395B4429C648139053FB521F828AF606B4D"
        "3DBAA14B5E77EFE75928FE1DC127A2FFA8DE3348B3C1856A429BF97E7E31C2E5"
        "BD66",
        16,
    ),
    gy=int(
        "011839296A789A3BC0045C8A5FB42C7D1BD998F54449579B446817AFBD17273E"
        "662C97EE72995EF42640C550B9013FAD0761353C7086A272C24088BE94769FD1"
        "6650",
        16,
    ),
    n=int(
        "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
        "FFFA51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E9138"
        "6409",
        16,
    ),
    crypto_name="SECP521R1",
)

#: Curves by name (the names ``cryptography`` / OpenSSL use).
CURVES: dict[str, Curve] = {
    c.name: c
    for c in (
        P192,
        BRAINPOOL_P192R1,
        P224,
        BRAINPOOL_P224R1,
        P256,
        BRAINPOOL_P256R1,
        BRAINPOOL_P320R1,
        P384,
        BRAINPOOL_P384R1,
        BRAINPOOL_P512R1,
        P521,
    )
}

#: Standardized domain parameters, elliptic-curve ids (ICAO 9303-11 §9.5.1, BSI TR-03110-3
#: table 4). Ids 0..2 are the RFC 5114 MODP groups (DH, not supported here); 3..7 and
#: 19..31 are reserved.
PARAMETER_IDS: dict[int, Curve] = {
    8: P192,
    9: BRAINPOOL_P192R1,
    10: P224,
    11: BRAINPOOL_P224R1,
    12: P256,
    13: BRAINPOOL_P256R1,
    14: BRAINPOOL_P320R1,
    15: P384,
    16: BRAINPOOL_P384R1,
    17: BRAINPOOL_P512R1,
    18: P521,
}


def curve_for_parameter_id(parameter_id: int | None) -> Curve:
    """The curve of a standardized domain parameter id (8..18).

    Raises :class:`UnsupportedProtocol` for the DH groups (0..2), reserved ids and ``None``
    (explicit domain parameters), which this kiosk does not run.
    """
    if parameter_id is None:
        raise UnsupportedProtocol("explicit (non-standardized) domain parameters")
    curve = PARAMETER_IDS.get(parameter_id)
    if curve is None:
        raise UnsupportedProtocol(f"domain parameter id {parameter_id} is not an elliptic curve")
    return curve


def has_cryptography(curve: Curve) -> bool:
    """True when ``cryptography`` (OpenSSL) can compute on ``curve``."""
    return curve.crypto_name is not None and hasattr(_cec, curve.crypto_name)


def to_cryptography(curve: Curve) -> _cec.EllipticCurve:
    """The ``cryptography`` curve object; :class:`UnsupportedProtocol` if it has none."""
    if not has_cryptography(curve):
        raise UnsupportedProtocol(f"{curve.name} is not available in cryptography")
    cls: type[_cec.EllipticCurve] = getattr(_cec, str(curve.crypto_name))
    return cls()


# --------------------------------------------------------------------------- validation


def is_on_curve(curve: Curve, point: Point) -> bool:
    """True when both coordinates are field elements and satisfy the curve equation."""
    x, y = point
    p = curve.p
    if not (0 <= x < p and 0 <= y < p):
        return False
    return (y * y - (x * x * x + curve.a * x + curve.b)) % p == 0


def validate_point(curve: Curve, point: Point) -> Point:
    """Return ``point`` if it is a valid group element; :class:`InvalidPoint` otherwise.

    With cofactor 1, on the curve means in the prime-order group (TR-03111 §3.2.2.1).
    """
    if not is_on_curve(curve, point):
        raise InvalidPoint(f"point is not on {curve.name}")
    # Every curve here has cofactor 1; the subgroup check is for completeness.
    if curve.h != 1 and _mul_jacobian(curve, curve.n, point) is not None:  # pragma: no cover
        raise InvalidPoint(f"point is not in the prime-order subgroup of {curve.name}")
    return point


def encode_point(curve: Curve, point: Point) -> bytes:
    """Uncompressed encoding ``04 || X || Y``, each coordinate padded to the field size."""
    size = curve.size
    return b"\x04" + point.x.to_bytes(size, "big") + point.y.to_bytes(size, "big")


def decode_point(curve: Curve, data: bytes) -> Point:
    """Decode and validate an uncompressed point.

    Raises :class:`InvalidPoint` for any other form (compressed, infinity ``00``),
    a wrong length, or a point not on the curve.
    """
    size = curve.size
    if len(data) != 1 + 2 * size or data[0] != 0x04:
        raise InvalidPoint(
            f"expected a {1 + 2 * size}-byte uncompressed {curve.name} point, got {len(data)} bytes"
        )
    x = int.from_bytes(data[1 : 1 + size], "big")
    y = int.from_bytes(data[1 + size :], "big")
    return validate_point(curve, Point(x, y))


# --------------------------------------------------------------------------- affine


def negate(curve: Curve, point: Point) -> Point:
    """``-P``."""
    return Point(point.x, (-point.y) % curve.p)


def _add_affine(curve: Curve, p1: Point | None, p2: Point | None) -> Point | None:
    """Affine addition with ``None`` as the point at infinity (one modular inversion)."""
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    p = curve.p
    x1, y1 = p1
    x2, y2 = p2
    if x1 == x2:
        if (y1 + y2) % p == 0:
            return None
        lam = (3 * x1 * x1 + curve.a) * pow(2 * y1, -1, p) % p
    else:
        lam = (y2 - y1) * pow(x2 - x1, -1, p) % p
    x3 = (lam * lam - x1 - x2) % p
    return Point(x3, (lam * (x1 - x3) - y1) % p)


def add(curve: Curve, p1: Point, p2: Point) -> Point:
    """``P1 + P2``; :class:`InvalidPoint` when the sum is the point at infinity."""
    r = _add_affine(curve, p1, p2)
    if r is None:
        raise InvalidPoint("point sum is the point at infinity")
    return r


def _sqrt(curve: Curve, v: int) -> int | None:
    """A square root of ``v`` mod p when ``p ≡ 3 (mod 4)``; ``None`` if ``v`` is a non-residue."""
    p = curve.p
    r = pow(v, (p + 1) // 4, p)
    return r if r * r % p == v % p else None


# --------------------------------------------------------------------------- Jacobian

# A Jacobian point (X, Y, Z) stands for (X/Z², Y/Z³); Z = 0 is the point at infinity.
_Jac = tuple[int, int, int]
_INF: _Jac = (1, 1, 0)


def _jac_double(curve: Curve, q: _Jac) -> _Jac:
    x, y, z = q
    if z == 0 or y == 0:
        return _INF
    p = curve.p
    yy = y * y % p
    s = 4 * x * yy % p
    zz = z * z % p
    m = (3 * x * x + curve.a * zz * zz) % p
    x3 = (m * m - 2 * s) % p
    y3 = (m * (s - x3) - 8 * yy * yy) % p
    return x3, y3, 2 * y * z % p


def _jac_add_affine(curve: Curve, q: _Jac, a: Point) -> _Jac:
    """Mixed addition ``Q + A`` with ``A`` affine (madd-2007-bl without the Z2 terms)."""
    x1, y1, z1 = q
    if z1 == 0:
        return a.x, a.y, 1
    p = curve.p
    z1z1 = z1 * z1 % p
    u2 = a.x * z1z1 % p
    s2 = a.y * z1 * z1z1 % p
    hh = (u2 - x1) % p
    r = (s2 - y1) % p
    if hh == 0:
        return _jac_double(curve, q) if r == 0 else _INF
    h2 = hh * hh % p
    h3 = hh * h2 % p
    v = x1 * h2 % p
    x3 = (r * r - h3 - 2 * v) % p
    y3 = (r * (v - x3) - y1 * h3) % p
    return x3, y3, z1 * hh % p


def _to_affine(curve: Curve, q: _Jac) -> Point | None:
    x, y, z = q
    if z == 0:
        return None
    p = curve.p
    zi = pow(z, -1, p)
    zi2 = zi * zi % p
    return Point(x * zi2 % p, y * zi2 * zi % p)


def _wnaf(k: int, w: int = 4) -> list[int]:
    """Width-w non-adjacent form of ``k``, least significant digit first."""
    digits: list[int] = []
    full, half = 1 << w, 1 << (w - 1)
    while k:
        if k & 1:
            d = k % full
            if d >= half:
                d -= full
            k -= d
        else:
            d = 0
        digits.append(d)
        k >>= 1
    return digits


def _mul_jacobian(curve: Curve, k: int, point: Point) -> Point | None:
    """``k·P`` in pure Python (wNAF, w = 4, affine table of odd multiples); None = infinity."""
    k %= curve.n
    if k == 0:
        return None
    # Odd multiples P, 3P, 5P, 7P in affine form, with their negatives.
    table: list[Point | None] = [point]
    twice = _add_affine(curve, point, point)
    for _ in range(3):
        table.append(_add_affine(curve, table[-1], twice))
    acc: _Jac = _INF
    for d in reversed(_wnaf(k)):
        acc = _jac_double(curve, acc)
        if d:
            t = table[abs(d) >> 1]
            if t is None:  # pragma: no cover - impossible for a point of odd prime order
                continue
            acc = _jac_add_affine(curve, acc, t if d > 0 else negate(curve, t))
    return _to_affine(curve, acc)


def multiply_jacobian(curve: Curve, k: int, point: Point) -> Point:
    """``k·P`` by pure-Python Jacobian arithmetic; :class:`InvalidPoint` if the result is ∞.

    The reference path, used for curves OpenSSL cannot handle and to cross-check
    the OpenSSL-assisted path in tests.
    """
    validate_point(curve, point)
    r = _mul_jacobian(curve, k, point)
    if r is None:
        raise InvalidPoint("scalar multiple is the point at infinity")
    return r


# --------------------------------------------------------------------------- key pairs


def _public_point(key: _cec.EllipticCurvePrivateKey) -> Point:
    nums = key.public_key().public_numbers()
    return Point(nums.x, nums.y)


class KeyPair:
    """A private scalar ``k`` with its public point ``k·base`` and the products it needs.

    ``base`` defaults to the curve's G; PACE generic mapping uses the mapped
    generator G'. ``multiply(P)`` gives the full point ``k·P``; ``shared_x(P)``
    gives the field-size x-coordinate of ``k·P`` (ECDH, ICAO 9303-11 §9.6).
    """

    def __init__(self, curve: Curve, private: int, base: Point | None = None) -> None:
        k = private % curve.n
        if k == 0:
            raise InvalidPoint("private scalar is zero modulo the group order")
        self.curve = curve
        self.private = k
        self._key: _cec.EllipticCurvePrivateKey | None = None
        self._kg: Point | None = None  # k·G
        if has_cryptography(curve):
            self._key = _cec.derive_private_key(k, to_cryptography(curve))
            self._kg = _public_point(self._key)
        if base is None or base == curve.g:
            self.public = self._kg if self._kg is not None else multiply_jacobian(curve, k, curve.g)
        else:
            self.public = self.multiply(base)

    def _peer(self, point: Point) -> _cec.EllipticCurvePublicKey:
        assert self._key is not None
        try:
            return _cec.EllipticCurvePublicNumbers(
                point.x, point.y, to_cryptography(self.curve)
            ).public_key()
        except ValueError as exc:
            raise InvalidPoint(f"point rejected by OpenSSL: {exc}") from None

    def _exchange_x(self, point: Point) -> int:
        assert self._key is not None
        try:
            raw = self._key.exchange(_cec.ECDH(), self._peer(point))
        except ValueError as exc:  # pragma: no cover - points are validated first
            raise InvalidPoint(f"ECDH failed: {exc}") from None
        return int.from_bytes(raw, "big")

    def shared_x(self, point: Point) -> bytes:
        """ECDH shared secret: x(k·P), padded to the field size; validates ``P``."""
        validate_point(self.curve, point)
        if self._key is not None:
            x = self._exchange_x(point)
        else:
            x = multiply_jacobian(self.curve, self.private, point).x
        return x.to_bytes(self.curve.size, "big")

    def multiply(self, point: Point) -> Point:
        """The full point ``k·P`` for any valid ``P`` (see the module docstring for how)."""
        curve = self.curve
        validate_point(curve, point)
        kg = self._kg
        if self._key is None or kg is None or curve.p % 4 != 3:
            return multiply_jacobian(curve, self.private, point)
        if point == curve.g:
            return kg
        if point == negate(curve, curve.g):
            return negate(curve, kg)
        x1 = self._exchange_x(point)
        x2 = self._exchange_x(add(curve, point, curve.g))  # x(k·P + k·G)
        y = _sqrt(curve, (x1 * x1 * x1 + curve.a * x1 + curve.b) % curve.p)
        if y is None:  # pragma: no cover - OpenSSL returned the x of a curve point
            raise InvalidPoint("ECDH x-coordinate is not on the curve")
        for cand in (Point(x1, y), Point(x1, (-y) % curve.p)):
            s = _add_affine(curve, cand, kg)
            if s is not None and s.x == x2:
                return cand
        raise InvalidPoint("inconsistent ECDH results")  # pragma: no cover


def multiply(curve: Curve, k: int, point: Point) -> Point:
    """``k·P`` for an arbitrary valid point; :class:`InvalidPoint` if ``k ≡ 0 (mod n)``."""
    return KeyPair(curve, k).multiply(point)


def multiply_generator(curve: Curve, k: int) -> Point:
    """``k·G``, through OpenSSL when available; :class:`InvalidPoint` if ``k ≡ 0 (mod n)``."""
    return KeyPair(curve, k).public


def random_scalar(curve: Curve, rng: Callable[[int], bytes]) -> int:
    """A private scalar in ``[1, n-1]`` from ``rng`` (64 extra bits make the bias negligible)."""
    nbytes = (curve.n.bit_length() + 7) // 8 + 8
    raw = rng(nbytes)
    if len(raw) != nbytes:
        raise AuthenticationError(f"random source returned {len(raw)} bytes, wanted {nbytes}")
    return int.from_bytes(raw, "big") % (curve.n - 1) + 1
