"""DG15 (ICAO 9303-10 §4.7.15): the Active Authentication public key.

``6F { SubjectPublicKeyInfo }``: an RSA key (AA per ISO/IEC 9796-2) or an EC
key (ECDSA AA, algorithm named by DG14's ActiveAuthenticationInfo). EC keys on
eMRTDs sometimes carry explicit domain parameters instead of a curve OID;
``cryptography`` cannot load those, so :func:`public_key_from_spki` matches
them against the known curves of :mod:`kiosk.emrtd.ec` and rebuilds the key
on the named curve. The same function serves DG14's CA keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from asn1crypto import keys
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec as cec
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from kiosk.emrtd import ec, tlv
from kiosk.emrtd.errors import LDSParseError
from kiosk.emrtd.lds._common import ASN1_ERRORS, unwrap
from kiosk.emrtd.lds.files import DATA_GROUPS

_TAG = 0x6F
_INFO = DATA_GROUPS[15]
_PRIME_FIELD = "1.2.840.10045.1.1"
_KEY_ERRORS: tuple[type[Exception], ...] = (UnsupportedAlgorithm, *ASN1_ERRORS)


@dataclass(frozen=True)
class DG15:
    """The Active Authentication public key as DER SubjectPublicKeyInfo."""

    public_key_der: bytes

    @property
    def algorithm(self) -> str:
        """``"rsa"`` or ``"ec"``."""
        return spki_algorithm(self.public_key_der)

    @property
    def key_size(self) -> int:
        """RSA modulus bits, or EC field size bits."""
        return spki_key_size(self.public_key_der)

    def public_key(self) -> PublicKeyTypes:
        """The key as a ``cryptography`` object (see :func:`public_key_from_spki`)."""
        return public_key_from_spki(self.public_key_der)


def _load(der: bytes) -> keys.PublicKeyInfo:
    try:
        info = keys.PublicKeyInfo.load(bytes(der), strict=True)
        info["algorithm"]["algorithm"].native  # noqa: B018 - force the lazy parse
        info["algorithm"]["parameters"].native  # noqa: B018
        info["public_key"].native  # noqa: B018
    except ASN1_ERRORS as exc:
        raise LDSParseError(f"not a SubjectPublicKeyInfo: {exc}") from exc
    return info


def spki_algorithm(der: bytes) -> str:
    """``"rsa"`` or ``"ec"`` for a SubjectPublicKeyInfo; LDSParseError for anything else."""
    name = _load(der)["algorithm"]["algorithm"].native
    if name not in ("rsa", "ec"):
        raise LDSParseError(f"unsupported public key algorithm {name}")
    return str(name)


def _explicit_curve(params: Any) -> tuple[ec.Curve | None, int]:
    """Match explicit EC domain parameters to a known curve: ``(curve or None, field bits)``."""
    field_id = params["field_id"]
    if field_id["field_type"].dotted != _PRIME_FIELD:
        raise LDSParseError("EC key over a binary field is not supported")
    p = int(field_id["parameters"].native)
    a = int.from_bytes(params["curve"]["a"].native, "big")
    b = int.from_bytes(params["curve"]["b"].native, "big")
    base = bytes(params["base"].native)
    n = int(params["order"].native)
    cofactor = params["cofactor"].native
    for curve in ec.CURVES.values():
        if (curve.p, curve.a % curve.p, curve.b, curve.n) != (p, a % p, b, n):
            continue
        if cofactor is not None and int(cofactor) != curve.h:
            continue
        size = curve.size
        if base[:1] == b"\x04" and len(base) == 1 + 2 * size:
            gx, gy = (
                int.from_bytes(base[1 : 1 + size], "big"),
                int.from_bytes(base[1 + size :], "big"),
            )
            if (gx, gy) == (curve.gx, curve.gy):
                return curve, p.bit_length()
        elif base[:1] in (b"\x02", b"\x03") and len(base) == 1 + size:
            gx = int.from_bytes(base[1:], "big")
            if gx == curve.gx and (curve.gy & 1) == (base[0] & 1):
                return curve, p.bit_length()
    return None, p.bit_length()


def spki_key_size(der: bytes) -> int:
    """RSA modulus bits or EC field bits of a SubjectPublicKeyInfo."""
    info = _load(der)
    try:
        name = info["algorithm"]["algorithm"].native
        if name == "rsa":
            return int(info["public_key"].parsed["modulus"].native.bit_length())
        if name == "ec":
            params = info["algorithm"]["parameters"]
            if params.name == "specified":
                return _explicit_curve(params.chosen)[1]
            if params.name == "named":
                curve = ec.CURVES.get(str(params.chosen.native))
                if curve is not None:
                    return curve.p.bit_length()
            return int(info.bit_size)
    except LDSParseError:
        raise
    except ASN1_ERRORS as exc:
        raise LDSParseError(f"unreadable public key: {exc}") from exc
    raise LDSParseError(f"unsupported public key algorithm {name}")


def public_key_from_spki(der: bytes) -> PublicKeyTypes:
    """A ``cryptography`` public key from DER SubjectPublicKeyInfo (RSA or EC).

    EC keys with explicit domain parameters are matched against the curves in
    :mod:`kiosk.emrtd.ec` (NIST and brainpool) and rebuilt on the named curve.
    Raises :class:`LDSParseError` for other algorithms, unknown explicit curves,
    curves OpenSSL cannot compute on, or an invalid key.
    """
    info = _load(der)
    try:
        name = info["algorithm"]["algorithm"].native
        params = info["algorithm"]["parameters"]
        if name == "ec" and params.name == "specified":
            curve, bits = _explicit_curve(params.chosen)
            if curve is None:
                raise LDSParseError(f"EC key with unknown explicit {bits}-bit domain parameters")
            if not ec.has_cryptography(curve):
                raise LDSParseError(f"EC key on {curve.name}, which OpenSSL cannot use here")
            point = bytes(info["public_key"].native)
            return cec.EllipticCurvePublicKey.from_encoded_point(ec.to_cryptography(curve), point)
        if name not in ("rsa", "ec"):
            raise LDSParseError(f"unsupported public key algorithm {name}")
        key = serialization.load_der_public_key(bytes(der))
    except LDSParseError:
        raise
    except _KEY_ERRORS as exc:
        raise LDSParseError(f"unusable public key: {exc}") from exc
    if not isinstance(key, rsa.RSAPublicKey | cec.EllipticCurvePublicKey):
        raise LDSParseError(f"unexpected key type {type(key).__name__}")
    return key


def parse(data: bytes) -> DG15:
    """Parse DG15; trailing padding is ignored.

    Checks that the content is one RSA or EC SubjectPublicKeyInfo; whether the
    key is usable (known curve) is only checked by :meth:`DG15.public_key`.
    """
    value = unwrap(bytes(data), _TAG, _INFO.name, _INFO.max_size)
    spki_algorithm(value)
    return DG15(value)


def encode(dg15: DG15) -> bytes:
    """DG15 bytes for the card simulator."""
    return tlv.encode(_TAG, dg15.public_key_der)
