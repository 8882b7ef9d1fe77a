"""Chip Authentication (ICAO 9303-11 §6.2, BSI TR-03110-2 §3.4): the chip proves it holds the
private key whose public half DG14 carries, by agreeing new secure messaging keys with it.

The reader takes the chip's static key ``PK_IC`` from DG14 (signed through the
SOD), makes an ephemeral key pair on the same domain parameters, and sends
``PK_DH,IFD`` to the chip; both compute ``K = KA(SK_IC, PK_DH,IFD) =
KA(SK_DH,IFD, PK_IC)`` (ECDH: the x-coordinate; DH: ``y^x mod p`` as many
bytes as ``p``) and derive ``KS_enc = KDF(K, 1)``, ``KS_mac = KDF(K, 2)``
(3DES or AES-128/192/256 from the id-CA-* OID), with SSC = 0. Only a chip
holding ``SK_IC`` can protect its next reply under the new keys, so one
protected READ BINARY (the first bytes of EF.COM, by short EF id) whose MAC
verifies proves the chip genuine; a MAC failure there is ``failed``.

Commands (9303-11 §6.2.4): with 3DES, ``MSE:Set KAT`` (``00 22 41 A6``,
``91`` ephemeral public key, ``84`` key id); with AES, ``MSE:Set AT``
(``00 22 41 A4``, ``80`` protocol OID, ``84`` key id) then ``GENERAL
AUTHENTICATE`` with ``7C { 80 PK_DH,IFD }``. The ICAO rule is by cipher, not
by the ChipAuthenticationInfo version (TR-03110's "CA version 2" with nonce
and token belongs to EAC2 and is not used by eMRTDs); ``method`` can force
either. The chip answers the command under the *old* keys and switches after.

Which key: the first ChipAuthenticationInfo in DG14 (or, when DG14 has none,
in EF.CardAccess) whose protocol we run and whose key id matches exactly one
ChipAuthenticationPublicKeyInfo; a DG14 with keys but no info at all gets the
ICAO default, 3DES (id-CA-ECDH-3DES-CBC-CBC / id-CA-DH-3DES-CBC-CBC).

Results: ``passed``; ``failed`` — the chip refused an advertised CA, or the
reply under the new keys does not verify ("the chip does not hold the key in
DG14"; the chip then drops the session, so reading more needs access control
again); ``not_supported`` — no DG14, no usable CA key or protocol. Transport
errors stay exceptions.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dh
from cryptography.hazmat.primitives.asymmetric import ec as cec
from cryptography.utils import CryptographyDeprecationWarning

from kiosk.emrtd import ec, tlv
from kiosk.emrtd.apdu import (
    INS_GENERAL_AUTHENTICATE,
    INS_MSE,
    INS_READ_BINARY,
    SW_END_OF_FILE_WARNING,
    SW_OK,
    CommandAPDU,
    sw_message,
)
from kiosk.emrtd.channel import CardChannel
from kiosk.emrtd.crypto import KDF_ENC, KDF_MAC, Cipherkind, kdf
from kiosk.emrtd.errors import LDSParseError, SecureMessagingError
from kiosk.emrtd.lds.card_access import CardAccess
from kiosk.emrtd.lds.dg14 import DG14
from kiosk.emrtd.lds.dg15 import public_key_from_spki
from kiosk.emrtd.lds.files import EF_COM
from kiosk.emrtd.security_infos import (
    ID_CA_DH,
    ID_CA_ECDH,
    ID_PK_DH,
    ID_PK_ECDH,
    SUFFIX_3DES,
    SUFFIX_AES128,
    SUFFIX_AES192,
    SUFFIX_AES256,
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
)
from kiosk.emrtd.sm import SecureMessaging

if TYPE_CHECKING:
    from kiosk.emrtd.pace import PaceResult

__all__ = [
    "CAResult",
    "CaSuite",
    "ca_suite",
    "chip_authentication",
    "derive_ca_keys",
    "encode_key_id",
    "verify_cam",
]

#: MSE P1P2: Set AT for internal authentication (CA with AES) / Set KAT (CA with 3DES).
P1P2_SET_AT = 0x41A4
P1P2_SET_KAT = 0x41A6
TAG_KAT_EPHEMERAL = 0x91
TAG_PROTOCOL = 0x80
TAG_KEY_ID = 0x84
TAG_DAD = 0x7C
TAG_GA_EPHEMERAL = 0x80
#: What the proof reads under the new keys: the first bytes of EF.COM.
PROOF_LENGTH = 4

FAILED_REASON = "chip authentication failed — the chip does not hold the key in DG14"

CAOutcome = Literal["passed", "failed", "not_supported"]
Method = Literal["auto", "kat", "at"]
Rng = Callable[[int], bytes]

_SUITES: dict[int, tuple[Cipherkind, int]] = {
    SUFFIX_3DES: (Cipherkind.DES3, 128),
    SUFFIX_AES128: (Cipherkind.AES, 128),
    SUFFIX_AES192: (Cipherkind.AES, 192),
    SUFFIX_AES256: (Cipherkind.AES, 256),
}


@dataclass(frozen=True)
class CAResult:
    """The outcome of Chip Authentication: the protocol OID and key id used, and why not passed."""

    result: CAOutcome
    protocol: str | None
    key_id: int | None
    reason: str | None = None

    @property
    def passed(self) -> bool:
        return self.result == "passed"

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "result": self.result,
            "protocol": self.protocol,
            "key_id": self.key_id,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class CaSuite:
    """What an id-CA-* OID selects: DH or ECDH, symmetric cipher and key size."""

    protocol: str
    ecdh: bool
    kind: Cipherkind
    key_bits: int


def ca_suite(protocol: str) -> CaSuite | None:
    """The suite of an id-CA-DH-* / id-CA-ECDH-* OID, or None when we do not run it."""
    for prefix, is_ec in ((ID_CA_ECDH, True), (ID_CA_DH, False)):
        if protocol.startswith(prefix + "."):
            suffix = protocol[len(prefix) + 1 :]
            if suffix.isdigit() and int(suffix) in _SUITES:
                kind, bits = _SUITES[int(suffix)]
                return CaSuite(protocol, is_ec, kind, bits)
    return None


def derive_ca_keys(suite: CaSuite, shared_secret: bytes) -> tuple[bytes, bytes]:
    """``(KS_enc, KS_mac)`` from the shared secret (ICAO 9303-11 §9.7.1)."""
    return (
        kdf(shared_secret, KDF_ENC, suite.kind, suite.key_bits),
        kdf(shared_secret, KDF_MAC, suite.kind, suite.key_bits),
    )


def encode_key_id(key_id: int) -> bytes:
    """A key id as the minimal unsigned big-endian octets (DO'84' value)."""
    return key_id.to_bytes(max(1, (key_id.bit_length() + 7) // 8), "big")


def _encode_oid(dotted: str) -> bytes:
    from kiosk.emrtd.pace import encode_oid

    return encode_oid(dotted)


# --------------------------------------------------------------------------- selection


def _choose(
    dg14: DG14, card_access: CardAccess | None
) -> tuple[CaSuite, ChipAuthenticationPublicKeyInfo, ChipAuthenticationInfo | None] | str:
    """The (suite, key, info) to run, or the reason there is none."""
    keys = dg14.ca_public_key_infos
    if not keys:
        return "DG14 has no Chip Authentication public key"
    infos = dg14.ca_infos or (card_access.ca_infos if card_access is not None else ())
    if not infos:
        # ICAO 9303-11 §9.2.6: without ChipAuthenticationInfo, 3DES is implied.
        key = keys[0]
        base = ID_CA_ECDH if key.protocol == ID_PK_ECDH else ID_CA_DH
        suite = ca_suite(f"{base}.{SUFFIX_3DES}")
        assert suite is not None
        return suite, key, None
    problems: list[str] = []
    for info in infos:
        suite = ca_suite(info.protocol)
        if suite is None:
            problems.append(f"protocol {info.protocol} is not supported")
            continue
        try:
            key = dg14.ca_public_key_for(info)
        except LDSParseError as exc:
            problems.append(str(exc))
            continue
        if key.protocol != (ID_PK_ECDH if suite.ecdh else ID_PK_DH):
            problems.append(f"key type {key.protocol} does not fit {info.protocol}")
            continue
        return suite, key, info
    return "; ".join(problems) or "no usable ChipAuthenticationInfo"


# --------------------------------------------------------------------------- key agreement


def _ec_agreement(public_key_der: bytes, rng: Rng | None) -> tuple[bytes, bytes]:
    """``(encoded ephemeral public point, shared x)`` for an EC chip key."""
    static = public_key_from_spki(public_key_der)
    if not isinstance(static, cec.EllipticCurvePublicKey):
        raise LDSParseError("the CA key is not an EC key")
    if rng is None:
        eph = cec.generate_private_key(static.curve)
    else:
        curve = next(
            (c for c in ec.CURVES.values() if c.crypto_name == type(static.curve).__name__),
            None,
        )
        if curve is None:
            raise LDSParseError(f"CA key on unknown curve {static.curve.name}")
        eph = cec.derive_private_key(ec.random_scalar(curve, rng), static.curve)
    point = eph.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return point, eph.exchange(cec.ECDH(), static)


def _dh_agreement(public_key_der: bytes, rng: Rng | None) -> tuple[bytes, bytes]:
    """``(ephemeral public value, shared secret)``, both as long as ``p``, for a DH chip key.

    ``cryptography`` marks finite-field DH deprecated; eMRTDs with DH CA keys
    exist (older EAC passports), so the warning is silenced here only.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        return _dh_agreement_inner(public_key_der, rng)


def _dh_agreement_inner(public_key_der: bytes, rng: Rng | None) -> tuple[bytes, bytes]:
    try:
        static = serialization.load_der_public_key(public_key_der)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise LDSParseError(f"unusable DH key: {exc}") from exc
    if not isinstance(static, dh.DHPublicKey):
        raise LDSParseError("the CA key is not a DH key")
    params = static.parameters()
    numbers = params.parameter_numbers()
    p = numbers.p
    size = (p.bit_length() + 7) // 8
    y = static.public_numbers().y
    if not 1 < y < p - 1:
        raise LDSParseError("DH public value out of range")
    if rng is None:
        eph = params.generate_private_key()
    else:
        order = numbers.q or (p - 1)
        x = int.from_bytes(rng(size + 8), "big") % (order - 2) + 2
        pub = dh.DHPublicNumbers(pow(numbers.g, x, p), numbers)
        eph = dh.DHPrivateNumbers(x, pub).private_key()
    shared = eph.exchange(static)
    public = eph.public_key().public_numbers().y.to_bytes(size, "big")
    return public, shared.rjust(size, b"\x00")


# --------------------------------------------------------------------------- protocol


def chip_authentication(
    channel: CardChannel,
    dg14: DG14 | None,
    card_access: CardAccess | None = None,
    *,
    rng: Rng | None = None,
    method: Method = "auto",
) -> CAResult:
    """Run Chip Authentication and, when it verifies, leave the new session on ``channel.sm``.

    Call under the access-control session (BAC or PACE), with the eMRTD
    application selected (the proof reads EF.COM by short EF id). ``rng``
    pins the ephemeral key for tests (default: fresh from OpenSSL);
    ``method`` forces MSE:Set KAT (``"kat"``) or MSE:Set AT + GENERAL
    AUTHENTICATE (``"at"``) instead of the ICAO choice by cipher.
    """
    if dg14 is None:
        return CAResult("not_supported", None, None, "the card has no DG14")
    chosen = _choose(dg14, card_access)
    if isinstance(chosen, str):
        return CAResult("not_supported", None, None, chosen)
    suite, key, info = chosen
    key_id = info.key_id if info is not None and info.key_id is not None else key.key_id
    try:
        if suite.ecdh:
            eph_public, shared = _ec_agreement(key.public_key_der, rng)
        else:
            eph_public, shared = _dh_agreement(key.public_key_der, rng)
    except LDSParseError as exc:
        return CAResult("not_supported", suite.protocol, key_id, f"DG14 CA key unusable: {exc}")
    use_kat = suite.kind is Cipherkind.DES3 if method == "auto" else method == "kat"
    ref = tlv.encode(TAG_KEY_ID, encode_key_id(key_id)) if key_id is not None else b""
    if use_kat:
        data = tlv.encode(TAG_KAT_EPHEMERAL, eph_public) + ref
        resp = channel.send(CommandAPDU(0x00, INS_MSE, 0x41, 0xA6, data))
        step = "MSE:Set KAT"
    else:
        data = tlv.encode(TAG_PROTOCOL, _encode_oid(suite.protocol)) + ref
        resp = channel.send(CommandAPDU(0x00, INS_MSE, 0x41, 0xA4, data))
        step = "MSE:Set AT"
        if resp.sw == SW_OK:
            dad = tlv.encode(TAG_DAD, tlv.encode(TAG_GA_EPHEMERAL, eph_public))
            resp = channel.send(CommandAPDU(0x00, INS_GENERAL_AUTHENTICATE, 0, 0, dad, ne=256))
            step = "GENERAL AUTHENTICATE"
    if resp.sw != SW_OK:
        return CAResult(
            "failed",
            suite.protocol,
            key_id,
            f"the chip refused Chip Authentication at {step} "
            f"({resp.sw:04X} {sw_message(resp.sw)}) although DG14 offers it",
        )
    ks_enc, ks_mac = derive_ca_keys(suite, shared)
    channel.sm = SecureMessaging(suite.kind, ks_enc, ks_mac, ssc=0)
    return _prove(channel, suite, key_id)


def _prove(channel: CardChannel, suite: CaSuite, key_id: int | None) -> CAResult:
    """One protected READ BINARY under the new keys: its reply must verify."""
    assert EF_COM.sfi is not None
    cmd = CommandAPDU(0x00, INS_READ_BINARY, 0x80 | EF_COM.sfi, 0, ne=PROOF_LENGTH)
    try:
        resp = channel.send(cmd)
    except SecureMessagingError as exc:
        return CAResult("failed", suite.protocol, key_id, f"{FAILED_REASON} ({exc})")
    if resp.sw not in (SW_OK, SW_END_OF_FILE_WARNING) or not resp.data:
        return CAResult(
            "failed",
            suite.protocol,
            key_id,
            f"{FAILED_REASON} (no protected data under the new keys: {resp.sw:04X})",
        )
    return CAResult("passed", suite.protocol, key_id, None)


# --------------------------------------------------------------------------- PACE-CAM


CAM_FAILED_REASON = "PACE-CAM: the chip does not hold the key in DG14"


def verify_cam(result: PaceResult, dg14: DG14 | None) -> CAResult:
    """Chip authentication by PACE-CAM (ICAO 9303-11 §4.4.3.5.2), once DG14 has been read.

    Decrypts ``A_IC`` with KS_enc (AES-CBC, IV = E(KS_enc, −1)), then checks
    ``PK_Map,IC = CA_IC · PK_IC`` for the DG14 CA key on the PACE curve. The
    result's ``protocol`` is the PACE-CAM OID. DG14 must itself be passively
    authenticated for this to mean "genuine"; a CCCD has no EF.CardSecurity,
    so DG14 is where ``PK_IC`` comes from.
    """
    from kiosk.emrtd.pace import MAPPING_CAM, decrypt_chip_auth_data

    suite = result.suite
    protocol = suite.protocol
    if suite.mapping != MAPPING_CAM:
        return CAResult("not_supported", None, None, "PACE did not use chip authentication mapping")
    if dg14 is None:
        return CAResult("not_supported", protocol, None, "no DG14 with the chip's CA key")
    curve = suite.curve
    keys: list[tuple[ChipAuthenticationPublicKeyInfo, ec.Point]] = []
    for info in dg14.ca_public_key_infos:
        if info.protocol != ID_PK_ECDH:
            continue
        try:
            key = public_key_from_spki(info.public_key_der)
        except LDSParseError:
            continue
        if isinstance(key, cec.EllipticCurvePublicKey) and (
            type(key.curve).__name__ == curve.crypto_name
        ):
            numbers = key.public_numbers()
            keys.append((info, ec.Point(numbers.x, numbers.y)))
    if not keys:
        return CAResult("not_supported", protocol, None, f"DG14 has no CA key on {curve.name}")
    a_ic = result.encrypted_chip_auth_data
    if not a_ic:
        return CAResult(
            "failed", protocol, None, f"{CAM_FAILED_REASON} (no chip authentication data)"
        )
    try:
        ca_ic = int.from_bytes(decrypt_chip_auth_data(result.ks_enc, a_ic), "big")
        pk_map = ec.decode_point(curve, result.pk_map_ic)
    except (SecureMessagingError, ec.InvalidPoint) as exc:
        return CAResult("failed", protocol, None, f"{CAM_FAILED_REASON} ({exc})")
    if not 0 < ca_ic < curve.n:
        return CAResult("failed", protocol, None, f"{CAM_FAILED_REASON} (CA_IC out of range)")
    for info, point in keys:
        if ec.multiply(curve, ca_ic, point) == pk_map:
            return CAResult("passed", protocol, info.key_id, None)
    return CAResult("failed", protocol, None, CAM_FAILED_REASON)
