"""PACE (ICAO 9303-11 §4.4, BSI TR-03110-2 §3.2) over ECDH — the reader side.

Run as MSE:Set AT followed by four chained GENERAL AUTHENTICATE commands
(ICAO 9303-11 §4.4.4): (1) the chip sends the nonce ``z = E(K_π, s)``;
(2) both sides exchange mapping keys and compute ``G' = s·G + H`` with
``H = SK_map·PK_map``; (3) both exchange ephemeral keys over ``G'`` and agree on
``K = x(SK·PK)``; (4) both exchange authentication tokens
``T = MAC(KS_mac, 7F49{06 OID, 86 PK_other})``. A chip that rejects our token
(6300/63Cx/6982) or returns a token that does not verify means the password
is wrong: :class:`AccessDenied`. Nothing here falls back to BAC.

Supported on the standardized curves (parameter ids 8..18, :mod:`kiosk.emrtd.ec`):

* generic mapping, id-PACE-ECDH-GM-3DES-CBC-CBC and -AES-CBC-CMAC-128/192/256;
* integrated mapping, id-PACE-ECDH-IM-* (§4.4.3.3.2): in step 2 the reader
  sends its own nonce ``t`` (``81``, key-length bytes) and the chip answers an
  empty ``82``; both compute ``G' = f_G(R_p(s, t))`` with the block-cipher
  pseudo-random function :func:`pseudo_random` and the point encoding
  :func:`point_encode` (ICAO 9303-11 Appendix B, needs ``p ≡ 3 mod 4``: every
  standardized curve but NIST P-224);
* chip authentication mapping, id-PACE-ECDH-CAM-AES-* (§4.4.3.5): mapping as
  GM; in step 4 the chip adds ``8A`` = ``E(KS_enc, CA_IC)`` with
  ``CA_IC = SK_IC⁻¹ · SK_map,IC mod n``. The reader keeps it in
  :class:`PaceResult`; :func:`kiosk.emrtd.ca.verify_cam` checks
  ``PK_map,IC = CA_IC · PK_IC`` once DG14 (with ``PK_IC``) has been read and
  passively authenticated.

DH, explicit domain parameters and PACE-CAM with 3DES (not defined) raise
:class:`UnsupportedProtocol`.

Each step is a small function (:func:`decrypt_nonce`, :func:`map_generator`,
:func:`derive_session_keys`, :func:`authentication_token`, …) so the ICAO
worked example (appendix G.1) can check each value byte for byte, and the
chip simulator (``simulators.card.pace``) reuses the same steps.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kiosk.emrtd import crypto, ec, tlv
from kiosk.emrtd.apdu import (
    INS_GENERAL_AUTHENTICATE,
    INS_MSE,
    SW_AUTH_METHOD_BLOCKED,
    SW_OK,
    SW_SECURITY_STATUS_NOT_SATISFIED,
    SW_VERIFICATION_FAILED,
    CommandAPDU,
    ResponseAPDU,
)
from kiosk.emrtd.channel import CardChannel
from kiosk.emrtd.crypto import Cipherkind
from kiosk.emrtd.errors import (
    AccessDenied,
    AccessKeyError,
    AuthenticationError,
    StatusError,
    TLVError,
    UnsupportedProtocol,
)
from kiosk.emrtd.security_infos import (
    ID_PACE,
    ID_PACE_ECDH_CAM,
    ID_PACE_ECDH_GM,
    ID_PACE_ECDH_IM,
    SUFFIX_3DES,
    SUFFIX_AES128,
    SUFFIX_AES192,
    SUFFIX_AES256,
    PACEInfo,
)

if TYPE_CHECKING:
    from kiosk.emrtd.sm import SecureMessaging

#: PACE password references (ICAO 9303-11 §4.4.4.1, MSE:Set AT tag 83).
PASSWORD_MRZ = 1
PASSWORD_CAN = 2
PASSWORD_PIN = 3
PASSWORD_PUK = 4

#: Dynamic authentication data (tag 7C) object tags, ICAO 9303-11 §4.4.4.2.
TAG_DAD = 0x7C
TAG_ENCRYPTED_NONCE = 0x80
TAG_MAP_PCD = 0x81
TAG_MAP_IC = 0x82
TAG_EPH_PCD = 0x83
TAG_EPH_IC = 0x84
TAG_TOKEN_PCD = 0x85
TAG_TOKEN_IC = 0x86
TAG_ENCRYPTED_CA_DATA = 0x8A  # PACE-CAM: encrypted chip authentication data
#: Public key data object (TR-03110-3 §D.3.1) and its elliptic-curve point (tag 86).
TAG_PUBLIC_KEY = 0x7F49
TAG_OID = 0x06
TAG_EC_POINT = 0x86

#: Command chaining (CLA bit 5) for the first three GENERAL AUTHENTICATE commands.
CLA_CHAINING = 0x10
#: The longest encrypted nonce accepted from a chip.
MAX_NONCE_LEN = 64

#: The mappings, by the OID arc before the cipher suffix.
MAPPING_GM = "GM"
MAPPING_IM = "IM"
MAPPING_CAM = "CAM"
_MAPPINGS = {
    ID_PACE_ECDH_GM: MAPPING_GM,
    ID_PACE_ECDH_IM: MAPPING_IM,
    ID_PACE_ECDH_CAM: MAPPING_CAM,
}

#: Integrated mapping constants c0, c1 (ICAO 9303-11 §4.4.3.3.2): l = 128 (3DES, AES-128)
#: and l = 256 (AES-192, AES-256).
IM_C0_128 = bytes.fromhex("a668892a7c41e3ca739f40b057d85904")
IM_C1_128 = bytes.fromhex("a4e136ac725f738b01c1f60217c188ad")
IM_C0_256 = bytes.fromhex("d463d65234124ef7897054986dca0a174e28df758cbaa03f240616414d5a1676")
IM_C1_256 = bytes.fromhex("54bd7255f0aaf831bec3423fcf39d69b6cbf066677d0faae5aadd99df8e53517")

_SUITES: dict[int, tuple[Cipherkind, int]] = {
    SUFFIX_3DES: (Cipherkind.DES3, 128),
    SUFFIX_AES128: (Cipherkind.AES, 128),
    SUFFIX_AES192: (Cipherkind.AES, 192),
    SUFFIX_AES256: (Cipherkind.AES, 256),
}


# --------------------------------------------------------------------------- parameters


def encode_oid(dotted: str) -> bytes:
    """DER content octets of an OBJECT IDENTIFIER (no tag, no length)."""
    try:
        arcs = [int(a) for a in dotted.split(".")]
    except ValueError:
        raise UnsupportedProtocol(f"malformed OID {dotted!r}") from None
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40) or min(arcs) < 0:
        raise UnsupportedProtocol(f"malformed OID {dotted!r}")
    out = bytearray()
    for arc in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return bytes(out)


@dataclass(frozen=True)
class PaceSuite:
    """What a PACEInfo selects: protocol OID, symmetric cipher and key size, curve."""

    protocol: str
    kind: Cipherkind
    key_bits: int
    curve: ec.Curve
    parameter_id: int
    mapping: str = MAPPING_GM

    @property
    def block_size(self) -> int:
        """Cipher block size in bytes: 16 for AES, 8 for 3DES."""
        return 16 if self.kind is Cipherkind.AES else 8

    @property
    def key_length(self) -> int:
        """Key size k in bytes as integrated mapping counts it (3DES counts as 128 bits)."""
        return 16 if self.kind is Cipherkind.DES3 else self.key_bits // 8

    @property
    def nonce_length(self) -> int:
        """Length of the chip's nonce s: one block for GM/CAM; for IM the smallest multiple
        of the block size that is at least k (16 for 3DES and AES-128, 32 for AES-192/256)."""
        if self.mapping != MAPPING_IM:
            return self.block_size
        return 16 if self.key_length == 16 else 32

    @property
    def oid_bytes(self) -> bytes:
        """DER content octets of the protocol OID (MSE:Set AT tag 80, token tag 06)."""
        return encode_oid(self.protocol)


def suite_for(info: PACEInfo) -> PaceSuite:
    """The suite a PACEInfo asks for: ECDH with generic, integrated or chip authentication
    mapping. :class:`UnsupportedProtocol` for DH, unknown suites, PACE-CAM with 3DES,
    IM on a curve with ``p ≢ 3 (mod 4)``. The PACEInfo version must be 2 (9303-11 §9.2.1).
    """
    proto = info.protocol
    if not proto.startswith(ID_PACE + "."):
        raise UnsupportedProtocol(f"{proto} is not a PACE protocol")
    base, _, suffix = proto.rpartition(".")
    mapping = _MAPPINGS.get(base)
    if mapping is None:
        raise UnsupportedProtocol(f"PACE variant {proto} (only ECDH GM, IM and CAM are supported)")
    if not suffix.isdigit() or int(suffix) not in _SUITES:
        raise UnsupportedProtocol(f"PACE cipher suite {proto}")
    if info.version != 2:
        raise UnsupportedProtocol(f"PACEInfo version {info.version}")
    curve = ec.curve_for_parameter_id(info.parameter_id)
    assert info.parameter_id is not None
    kind, bits = _SUITES[int(suffix)]
    if mapping == MAPPING_CAM and kind is Cipherkind.DES3:
        raise UnsupportedProtocol("PACE-CAM is defined with AES only")
    if mapping == MAPPING_IM and curve.p % 4 != 3:
        raise UnsupportedProtocol(f"PACE-IM point encoding needs p = 3 mod 4 ({curve.name})")
    return PaceSuite(proto, kind, bits, curve, info.parameter_id, mapping)


def is_supported(info: PACEInfo) -> bool:
    """True when :func:`pace` can run this PACEInfo."""
    try:
        suite_for(info)
    except UnsupportedProtocol:
        return False
    return True


# --------------------------------------------------------------------------- password


@dataclass(frozen=True)
class PacePassword:
    """A PACE password: its reference (1 = MRZ, 2 = CAN) and the secret fed to KDF_π.

    For the MRZ the secret is SHA-1 of MRZ_information (ICAO 9303-11 §9.7.3);
    for the CAN it is the digits as ASCII.
    """

    ref: int
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if self.ref not in (PASSWORD_MRZ, PASSWORD_CAN, PASSWORD_PIN, PASSWORD_PUK):
            raise AccessKeyError(f"PACE password reference {self.ref}", field="password_ref")
        if not self.secret:
            raise AccessKeyError("empty PACE password", field="password")

    @classmethod
    def from_can(cls, can: str) -> PacePassword:
        """The card access number (on a CCCD: the last 6 digits of the ID number)."""
        can = can.strip()
        if not can or not can.isascii() or not can.isdigit() or len(can) > 20:
            raise AccessKeyError("the CAN must be digits", field="can")
        return cls(PASSWORD_CAN, can.encode("ascii"))

    @classmethod
    def from_mrz(cls, mrz_info: str) -> PacePassword:
        """MRZ_information: document number, birth date, expiry date, each with its check digit."""
        if not mrz_info or not mrz_info.isascii():
            raise AccessKeyError("MRZ_information must be non-empty ASCII", field="mrz")
        return cls(PASSWORD_MRZ, hashlib.sha1(mrz_info.encode("ascii")).digest())

    def key(self, kind: Cipherkind, key_bits: int = 128) -> bytes:
        """K_π = KDF_π(π) (ICAO 9303-11 §4.4.3.1, counter 3)."""
        return crypto.kdf(self.secret, crypto.KDF_PACE, kind, key_bits)


# --------------------------------------------------------------------------- steps


def _check_block(kind: Cipherkind, data: bytes, what: str) -> None:
    block = 16 if kind is Cipherkind.AES else 8
    if not data or len(data) % block or len(data) > MAX_NONCE_LEN:
        raise AuthenticationError(f"{what} of {len(data)} bytes")


def encrypt_nonce(kind: Cipherkind, k_pi: bytes, s: bytes) -> bytes:
    """``z = E(K_π, s)``: CBC with a zero IV, no padding (the chip side of step 1)."""
    _check_block(kind, s, "nonce")
    if kind is Cipherkind.AES:
        return crypto.aes_cbc_encrypt(k_pi, s)
    return crypto.des3_cbc_encrypt(k_pi, s)


def decrypt_nonce(kind: Cipherkind, k_pi: bytes, z: bytes) -> bytes:
    """``s = D(K_π, z)``: CBC with a zero IV, no padding (step 1)."""
    _check_block(kind, z, "encrypted nonce")
    if kind is Cipherkind.AES:
        return crypto.aes_cbc_decrypt(k_pi, z)
    return crypto.des3_cbc_decrypt(k_pi, z)


def map_generator(curve: ec.Curve, s: bytes, h: ec.Point) -> ec.Point:
    """Generic mapping ``G' = s·G + H`` (ICAO 9303-11 §4.4.3.3.1); ``s`` read big-endian.

    Raises :class:`ec.InvalidPoint` when ``G'`` would be the point at infinity.
    """
    ec.validate_point(curve, h)
    k = int.from_bytes(s, "big") % curve.n
    if k == 0:
        return h
    return ec.add(curve, ec.multiply_generator(curve, k), h)


def _block_encrypt(kind: Cipherkind, key: bytes, data: bytes) -> bytes:
    """CBC with a zero IV, no padding (the ``E()`` of integrated mapping)."""
    if kind is Cipherkind.AES:
        return crypto.aes_cbc_encrypt(key, data)
    return crypto.des3_cbc_encrypt(key, data)


def pseudo_random(suite: PaceSuite, s: bytes, t: bytes) -> int:
    """``R_p(s, t)`` of integrated mapping (ICAO 9303-11 §4.4.3.3.2, Figure 2).

    ``k_1 = E(t, s)``; then for ``i = 1..n``: ``x_i = E(k_i, c1)``,
    ``k_{i+1} = E(k_i, c0)``, every key truncated to ``k`` bits; the result is
    ``int(x_1 || … || x_n) mod p`` with ``n·l ≥ log2 p + 64``.
    """
    k = suite.key_length
    if len(t) != k:
        raise AuthenticationError(f"PACE-IM nonce t of {len(t)} bytes, expected {k}")
    if len(s) != suite.nonce_length:
        raise AuthenticationError(f"PACE-IM nonce s of {len(s)} bytes")
    c0, c1 = (IM_C0_128, IM_C1_128) if k == 16 else (IM_C0_256, IM_C1_256)
    l_bits = 8 * len(c0)
    p = suite.curve.p
    n = -(-(p.bit_length() + 64) // l_bits)
    key = _block_encrypt(suite.kind, t, s)[:k]
    out = bytearray()
    for _ in range(n):
        out += _block_encrypt(suite.kind, key, c1)
        key = _block_encrypt(suite.kind, key, c0)[:k]
    return int.from_bytes(out, "big") % p


def point_encode(curve: ec.Curve, t: int) -> ec.Point:
    """``f_G(t)``: a field element to a curve point (ICAO 9303-11 Appendix B.2, affine form of
    the simplified SWU encoding of Brier et al.) for ``p ≡ 3 (mod 4)`` and cofactor 1.

    Raises :class:`ec.InvalidPoint` for the few inputs the formula cannot map.
    """
    p, a, b = curve.p, curve.a % curve.p, curve.b
    if p % 4 != 3 or curve.h != 1:
        raise UnsupportedProtocol(f"point encoding on {curve.name}")
    alpha = (-t * t) % p
    d = (alpha + alpha * alpha) % p
    if d == 0 or a == 0:
        raise ec.InvalidPoint("PACE-IM: the pseudo-random value does not map")
    x2 = (-b * (1 + d) * pow(a * d, p - 2, p)) % p
    x3 = (alpha * x2) % p
    h2 = (x2 * x2 * x2 + a * x2 + b) % p
    u = (pow(t, 3, p) * h2) % p
    big_a = pow(h2, p - 1 - (p + 1) // 4, p)
    if (big_a * big_a * h2) % p == 1:
        point = ec.Point(x2, (big_a * h2) % p)
    else:
        point = ec.Point(x3, (big_a * u) % p)
    return ec.validate_point(curve, point)


def integrated_map(suite: PaceSuite, s: bytes, t: bytes) -> ec.Point:
    """The integrated mapping ``G' = f_G(R_p(s, t))``."""
    return point_encode(suite.curve, pseudo_random(suite, s, t))


def _ca_iv(ks_enc: bytes) -> bytes:
    """``IV = E(KS_enc, -1)``: AES-ECB of the all-ones block (ICAO 9303-11 §4.4.3.5.4)."""
    return crypto.aes_ecb_encrypt(ks_enc, b"\xff" * 16)


def encrypt_chip_auth_data(ks_enc: bytes, ca_ic: bytes) -> bytes:
    """``A_IC = E(KS_enc, CA_IC)``: AES-CBC, IV = E(KS_enc, -1), ISO/IEC 9797-1 padding 2."""
    return crypto.aes_cbc_encrypt(ks_enc, crypto.pad(ca_ic, 16), _ca_iv(ks_enc))


def decrypt_chip_auth_data(ks_enc: bytes, a_ic: bytes) -> bytes:
    """``CA_IC`` from ``A_IC``; :class:`SecureMessagingError` on a bad length or padding."""
    if not a_ic or len(a_ic) % 16:
        from kiosk.emrtd.errors import SecureMessagingError

        raise SecureMessagingError(f"encrypted chip authentication data of {len(a_ic)} bytes")
    return crypto.unpad(crypto.aes_cbc_decrypt(ks_enc, a_ic, _ca_iv(ks_enc)))


def derive_session_keys(
    kind: Cipherkind, key_bits: int, shared_secret: bytes
) -> tuple[bytes, bytes]:
    """``(KS_enc, KS_mac)`` = ``KDF(K, 1)``, ``KDF(K, 2)`` from the ECDH x-coordinate ``K``."""
    return (
        crypto.kdf(shared_secret, crypto.KDF_ENC, kind, key_bits),
        crypto.kdf(shared_secret, crypto.KDF_MAC, kind, key_bits),
    )


def public_key_data(oid: bytes, encoded_point: bytes) -> bytes:
    """The authentication token input ``7F49 { 06 OID, 86 point }`` (TR-03110-3 §D.3.3)."""
    return tlv.encode(
        TAG_PUBLIC_KEY, tlv.encode(TAG_OID, oid) + tlv.encode(TAG_EC_POINT, encoded_point)
    )


def authentication_token(
    kind: Cipherkind, ks_mac: bytes, oid: bytes, encoded_point: bytes
) -> bytes:
    """``T = MAC(KS_mac, PK data of the other side)``: AES-CMAC-8, or retail MAC for 3DES."""
    data = public_key_data(oid, encoded_point)
    if kind is Cipherkind.AES:
        return crypto.aes_cmac(ks_mac, data, 8)
    return crypto.retail_mac(ks_mac, crypto.pad(data, 8))


def encode_dad(tag: int | None = None, value: bytes = b"") -> bytes:
    """Dynamic authentication data ``7C { tag value }`` (``7C 00`` when ``tag`` is None)."""
    return tlv.encode(TAG_DAD, b"" if tag is None else tlv.encode(tag, value))


def dad_objects(data: bytes) -> dict[int, bytes]:
    """Every object inside one ``7C`` dynamic authentication data object, by tag.

    :class:`AuthenticationError` when the data is not one well-formed 7C object.
    """
    try:
        outer = tlv.decode(data, max_depth=2, max_length=4096)
        if outer.tag != TAG_DAD:
            raise AuthenticationError(f"expected dynamic authentication data 7C, got {outer.tag:X}")
        return {child.tag: child.value for child in outer.children}
    except TLVError as exc:
        raise AuthenticationError(f"malformed dynamic authentication data: {exc}") from None


def parse_dad(data: bytes, tag: int) -> bytes:
    """The value of ``tag`` inside a ``7C`` dynamic authentication data object.

    :class:`AuthenticationError` when the data is not one 7C object holding ``tag``.
    """
    try:
        outer = tlv.decode(data, max_depth=2, max_length=4096)
        if outer.tag != TAG_DAD:
            raise AuthenticationError(f"expected dynamic authentication data 7C, got {outer.tag:X}")
        return outer.require(tag).value
    except TLVError as exc:
        raise AuthenticationError(f"malformed dynamic authentication data: {exc}") from None


def mse_set_at_data(
    suite: PaceSuite, password_ref: int, *, send_parameter_id: bool = False
) -> bytes:
    """MSE:Set AT data: ``80`` protocol OID, ``83`` password ref, optional ``84`` parameter id.

    Tag 84 is only needed when the chip offers several domain parameter sets.
    """
    data = tlv.encode(0x80, suite.oid_bytes) + tlv.encode(0x83, bytes([password_ref]))
    if send_parameter_id:
        data += tlv.encode(0x84, bytes([suite.parameter_id]))
    return data


# --------------------------------------------------------------------------- protocol


@dataclass(frozen=True)
class PaceResult:
    """The outcome of a PACE run: session keys and the two ephemeral public keys (encoded).

    ``pk_ic`` is PK_DH,IC, which later protocols (CA v2, TA) refer to. For
    PACE-CAM, ``pk_map_ic`` (PK_Map,IC) and ``encrypted_chip_auth_data``
    (``A_IC``, None when the chip sent none) are what
    :func:`kiosk.emrtd.ca.verify_cam` checks against DG14.
    """

    suite: PaceSuite
    ks_enc: bytes = field(repr=False)
    ks_mac: bytes = field(repr=False)
    pk_ic: bytes
    pk_pcd: bytes
    token_pcd: bytes
    token_ic: bytes
    pk_map_ic: bytes = b""
    encrypted_chip_auth_data: bytes | None = None


def _is_denied(sw: int) -> bool:
    return (
        sw in (SW_VERIFICATION_FAILED, SW_SECURITY_STATUS_NOT_SATISFIED, SW_AUTH_METHOD_BLOCKED)
        or sw & 0xFFF0 == 0x63C0
    )


def _general_authenticate(channel: CardChannel, dad: bytes, step: int, *, last: bool) -> bytes:
    cmd = CommandAPDU(0x00 if last else CLA_CHAINING, INS_GENERAL_AUTHENTICATE, 0, 0, dad, ne=256)
    resp: ResponseAPDU = channel.transmit_raw(cmd)
    if resp.sw != SW_OK:
        if _is_denied(resp.sw) and (last or resp.sw == SW_AUTH_METHOD_BLOCKED):
            raise AccessDenied(f"PACE: the chip rejected the password ({resp.sw:04X})")
        raise StatusError(resp.sw, command=f"PACE GENERAL AUTHENTICATE {step}")
    return resp.data


def establish(
    channel: CardChannel,
    password: PacePassword,
    info: PACEInfo,
    *,
    rng: Callable[[int], bytes] | None = None,
    ephemeral_keys: tuple[int, int] | None = None,
    send_parameter_id: bool = False,
) -> PaceResult:
    """Run PACE and return the session keys without installing secure messaging.

    ``ephemeral_keys = (SK_map,PCD, SK_DH,PCD)`` pins the reader's private keys
    (for worked examples; integrated mapping ignores the first); otherwise they
    come from ``rng`` (default ``os.urandom``), as does IM's nonce ``t``.
    """
    suite = suite_for(info)
    curve = suite.curve
    rand = rng or os.urandom
    k_pi = password.key(suite.kind, suite.key_bits)

    resp = channel.transmit_raw(
        CommandAPDU(
            0x00,
            INS_MSE,
            0xC1,
            0xA4,
            mse_set_at_data(suite, password.ref, send_parameter_id=send_parameter_id),
        )
    )
    # 63Cx here is a warning carrying the retry counter (TR-03110-3 §B.1); 63C0 = blocked.
    if resp.sw == SW_AUTH_METHOD_BLOCKED or resp.sw == 0x63C0:
        raise AccessDenied(f"PACE password {password.ref} is blocked ({resp.sw:04X})")
    if resp.sw != SW_OK and resp.sw & 0xFFF0 != 0x63C0:
        raise StatusError(resp.sw, command="PACE MSE:Set AT")

    # Step 1: encrypted nonce.
    z = parse_dad(_general_authenticate(channel, encode_dad(), 1, last=False), TAG_ENCRYPTED_NONCE)
    s = decrypt_nonce(suite.kind, k_pi, z)

    # Step 2: mapping.
    pk_map_ic_raw = b""
    if suite.mapping == MAPPING_IM:
        t = bytes(rand(suite.key_length))
        data = _general_authenticate(channel, encode_dad(TAG_MAP_PCD, t), 2, last=False)
        if dad_objects(data).get(TAG_MAP_IC, b""):
            raise AuthenticationError("PACE-IM: the chip's mapping data 82 must be empty")
        g_mapped = integrated_map(suite, s, t)
        sk_dh = ephemeral_keys[1] if ephemeral_keys is not None else ec.random_scalar(curve, rand)
    else:
        if ephemeral_keys is not None:
            sk_map, sk_dh = ephemeral_keys
        else:
            sk_map, sk_dh = ec.random_scalar(curve, rand), ec.random_scalar(curve, rand)
        map_key = ec.KeyPair(curve, sk_map)
        data = _general_authenticate(
            channel, encode_dad(TAG_MAP_PCD, ec.encode_point(curve, map_key.public)), 2, last=False
        )
        pk_map_ic = ec.decode_point(curve, parse_dad(data, TAG_MAP_IC))
        pk_map_ic_raw = ec.encode_point(curve, pk_map_ic)
        g_mapped = map_generator(curve, s, map_key.multiply(pk_map_ic))

    # Step 3: key agreement over G'.
    dh_key = ec.KeyPair(curve, sk_dh, g_mapped)
    pk_pcd = ec.encode_point(curve, dh_key.public)
    data = _general_authenticate(channel, encode_dad(TAG_EPH_PCD, pk_pcd), 3, last=False)
    pk_ic_raw = parse_dad(data, TAG_EPH_IC)
    pk_ic_point = ec.decode_point(curve, pk_ic_raw)
    if pk_ic_point == dh_key.public:
        raise AuthenticationError("PACE: the chip's ephemeral key equals the reader's")
    pk_ic = ec.encode_point(curve, pk_ic_point)
    ks_enc, ks_mac = derive_session_keys(suite.kind, suite.key_bits, dh_key.shared_x(pk_ic_point))

    # Step 4: mutual authentication tokens.
    oid = suite.oid_bytes
    t_pcd = authentication_token(suite.kind, ks_mac, oid, pk_ic)
    data = _general_authenticate(channel, encode_dad(TAG_TOKEN_PCD, t_pcd), 4, last=True)
    t_ic = parse_dad(data, TAG_TOKEN_IC)
    expected = authentication_token(suite.kind, ks_mac, oid, pk_pcd)
    if not hmac.compare_digest(t_ic, expected):
        raise AccessDenied("PACE: the chip's authentication token does not verify")
    a_ic = dad_objects(data).get(TAG_ENCRYPTED_CA_DATA) if suite.mapping == MAPPING_CAM else None
    return PaceResult(suite, ks_enc, ks_mac, pk_ic, pk_pcd, t_pcd, t_ic, pk_map_ic_raw, a_ic)


def run(
    channel: CardChannel,
    password: PacePassword,
    info: PACEInfo,
    *,
    rng: Callable[[int], bytes] | None = None,
    ephemeral_keys: tuple[int, int] | None = None,
    send_parameter_id: bool = False,
) -> PaceResult:
    """Run PACE, install secure messaging on ``channel`` (SSC = 0) and return the full result.

    The session uses this instead of :func:`pace` when it needs the result
    later (PACE-CAM: :func:`kiosk.emrtd.ca.verify_cam` after DG14 is read).
    """
    from kiosk.emrtd.sm import SecureMessaging

    result = establish(
        channel,
        password,
        info,
        rng=rng,
        ephemeral_keys=ephemeral_keys,
        send_parameter_id=send_parameter_id,
    )
    channel.sm = SecureMessaging(result.suite.kind, result.ks_enc, result.ks_mac, ssc=0)
    return result


def pace(
    channel: CardChannel,
    password: PacePassword,
    info: PACEInfo,
    *,
    rng: Callable[[int], bytes] | None = None,
    ephemeral_keys: tuple[int, int] | None = None,
    send_parameter_id: bool = False,
) -> SecureMessaging:
    """Run PACE, install secure messaging on ``channel`` (SSC = 0) and return it.

    Raises :class:`UnsupportedProtocol` for a PACEInfo other than ECDH GM/IM/CAM
    on a standardized curve, :class:`AccessDenied` for a wrong password,
    :class:`AuthenticationError` / :class:`StatusError` for other failures.
    A PACE-CAM chip is not yet authenticated by this: use :func:`run` and
    :func:`kiosk.emrtd.ca.verify_cam`.
    """
    run(
        channel,
        password,
        info,
        rng=rng,
        ephemeral_keys=ephemeral_keys,
        send_parameter_id=send_parameter_id,
    )
    sm = channel.sm
    assert sm is not None
    return sm
