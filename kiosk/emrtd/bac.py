"""Basic Access Control (ICAO 9303-11 §4.3), reader side.

BAC proves that the reader saw the MRZ: both sides derive ``K_enc`` / ``K_mac``
from the *MRZ_information* (document number, birth and expiry dates, each
with its check digit), exchange encrypted nonces with GET CHALLENGE and
MUTUAL AUTHENTICATE, and derive 3DES session keys from the two key halves
``K.IFD`` and ``K.IC``. The result is a :class:`~kiosk.emrtd.sm.SecureMessaging`
session installed on the :class:`~kiosk.emrtd.channel.CardChannel`.

A wrong MRZ shows up as the chip refusing MUTUAL AUTHENTICATE (``6300`` or
``6982``) or, with chips that answer anyway, as a reply whose MAC does not
verify under our ``K_mac``; both raise :class:`~kiosk.emrtd.errors.AccessDenied`
so the UI can ask for the key again. Anything else is a protocol failure.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from kiosk.emrtd import mrz
from kiosk.emrtd.apdu import (
    INS_GET_CHALLENGE,
    INS_MUTUAL_AUTHENTICATE,
    SW_OK,
    SW_SECURITY_STATUS_NOT_SATISFIED,
    SW_VERIFICATION_FAILED,
    CommandAPDU,
)
from kiosk.emrtd.channel import CardChannel
from kiosk.emrtd.crypto import (
    KDF_ENC,
    KDF_MAC,
    Cipherkind,
    des3_cbc_decrypt,
    des3_cbc_encrypt,
    kdf,
    pad,
    retail_mac,
)
from kiosk.emrtd.errors import AccessDenied, AccessKeyError, AuthenticationError, StatusError
from kiosk.emrtd.mrz import char_value
from kiosk.emrtd.sm import SecureMessaging

__all__ = [
    "bac",
    "derive_bac_keys",
    "derive_session_keys",
    "key_seed",
    "mrz_information",
    "mutual_authenticate_data",
    "open_mutual_authenticate_reply",
]

RND_LEN = 8
K_LEN = 16
#: E.IFD (32) || M.IFD (8), and likewise E.IC || M.IC.
AUTH_DATA_LEN = 40

_WRONG_KEY_SWS = (SW_VERIFICATION_FAILED, SW_SECURITY_STATUS_NOT_SATISFIED)


def _mrz_field(value: str, name: str, length: int | None) -> str:
    text = value.strip().upper()
    if not text:
        raise AccessKeyError(f"{name.replace('_', ' ')} is empty", field=name)
    if length is not None and len(text) != length:
        raise AccessKeyError(
            f"{name.replace('_', ' ')} must be {length} characters (YYMMDD)", field=name
        )
    for c in text:
        try:
            char_value(c)
        except AccessKeyError:
            raise AccessKeyError(
                f"{name.replace('_', ' ')} contains {c!r}, not an MRZ character", field=name
            ) from None
    return text


def mrz_information(document_number: str, date_of_birth: str, date_of_expiry: str) -> str:
    """The BAC key input: document number, birth date and expiry date, each + check digit.

    A document number shorter than 9 characters is padded with ``<``; a longer
    one is used whole (ICAO 9303-11 worked example ``D23145890734``). Dates are
    ``YYMMDD`` and are not checked as calendar dates, since no-expiry CCCD
    cards carry a placeholder. Raises :class:`~kiosk.emrtd.errors.AccessKeyError`
    (with ``field``) on empty fields, wrong date lengths or non-MRZ characters.
    """
    return mrz.mrz_information(
        _mrz_field(document_number, "document_number", None),
        _mrz_field(date_of_birth, "date_of_birth", 6),
        _mrz_field(date_of_expiry, "date_of_expiry", 6),
    )


def key_seed(mrz_info: str) -> bytes:
    """``K_seed``: the first 16 bytes of SHA-1 over the MRZ_information (§9.7.2)."""
    try:
        raw = mrz_info.encode("ascii")
    except UnicodeEncodeError:
        raise AccessKeyError("MRZ information is not ASCII", field="mrz") from None
    return hashlib.sha1(raw).digest()[:16]


def derive_bac_keys(mrz_info: str) -> tuple[bytes, bytes]:
    """The document basic access keys ``(K_enc, K_mac)`` for an MRZ_information string."""
    seed = key_seed(mrz_info)
    return kdf(seed, KDF_ENC, Cipherkind.DES3), kdf(seed, KDF_MAC, Cipherkind.DES3)


def derive_session_keys(k_ifd: bytes, k_ic: bytes) -> tuple[bytes, bytes]:
    """Session keys ``(KS_enc, KS_mac)`` from ``K_seed = K.IFD xor K.IC``."""
    seed = bytes(a ^ b for a, b in zip(k_ifd, k_ic, strict=True))
    return kdf(seed, KDF_ENC, Cipherkind.DES3), kdf(seed, KDF_MAC, Cipherkind.DES3)


def mutual_authenticate_data(k_enc: bytes, k_mac: bytes, first: bytes, second: bytes) -> bytes:
    """``E || M`` with ``E = 3DES-CBC(K_enc, first || second)`` and ``M = MAC(K_mac, pad(E))``.

    The reader sends ``RND.IFD || RND.IC || K.IFD``; the chip answers
    ``RND.IC || RND.IFD || K.IC``: pass the two nonces as ``first`` and the
    nonce and key half as ``second``.
    """
    e = des3_cbc_encrypt(k_enc, first + second)
    return e + retail_mac(k_mac, pad(e))


def open_mutual_authenticate_reply(k_enc: bytes, k_mac: bytes, data: bytes) -> bytes:
    """Check the MAC of an ``E || M`` block and return the 32-byte plaintext of ``E``.

    Raises :class:`~kiosk.emrtd.errors.AccessDenied` when the MAC does not
    verify (the peer used other keys: wrong MRZ) and
    :class:`~kiosk.emrtd.errors.AuthenticationError` when the block is not 40 bytes.
    """
    if len(data) != AUTH_DATA_LEN:
        raise AuthenticationError(f"MUTUAL AUTHENTICATE data of {len(data)} bytes, expected 40")
    e, m = data[:32], data[32:]
    if not hmac.compare_digest(retail_mac(k_mac, pad(e)), m):
        raise AccessDenied("BAC failed: MAC of the authentication data does not verify")
    return des3_cbc_decrypt(k_enc, e)


def bac(
    channel: CardChannel,
    mrz_info: str,
    *,
    rnd_ifd: bytes | None = None,
    k_ifd: bytes | None = None,
) -> SecureMessaging:
    """Run BAC over ``channel``; install and return the 3DES secure messaging session.

    ``rnd_ifd`` (8 bytes) and ``k_ifd`` (16 bytes) pin the reader's random
    values for tests; by default they come from :func:`os.urandom`. Any SM
    session already on the channel is dropped first (BAC runs in plain).

    Raises :class:`~kiosk.emrtd.errors.AccessDenied` when the MRZ is wrong,
    :class:`~kiosk.emrtd.errors.StatusError` when the chip refuses GET
    CHALLENGE or answers MUTUAL AUTHENTICATE with an unexpected status, and
    :class:`~kiosk.emrtd.errors.AuthenticationError` on a malformed reply or
    when the chip's reply does not return our nonces.
    """
    k_enc, k_mac = derive_bac_keys(mrz_info)
    rnd_ifd = os.urandom(RND_LEN) if rnd_ifd is None else bytes(rnd_ifd)
    k_ifd = os.urandom(K_LEN) if k_ifd is None else bytes(k_ifd)
    if len(rnd_ifd) != RND_LEN or len(k_ifd) != K_LEN:
        raise AuthenticationError("RND.IFD must be 8 bytes and K.IFD 16 bytes")
    channel.sm = None

    resp = channel.transmit_raw(CommandAPDU(0x00, INS_GET_CHALLENGE, 0x00, 0x00, ne=RND_LEN))
    if resp.sw != SW_OK:
        raise StatusError(resp.sw, command="GET CHALLENGE")
    rnd_ic = resp.data
    if len(rnd_ic) != RND_LEN:
        raise AuthenticationError(f"GET CHALLENGE returned {len(rnd_ic)} bytes, expected 8")

    cmd_data = mutual_authenticate_data(k_enc, k_mac, rnd_ifd + rnd_ic, k_ifd)
    resp = channel.transmit_raw(
        CommandAPDU(0x00, INS_MUTUAL_AUTHENTICATE, 0x00, 0x00, cmd_data, ne=AUTH_DATA_LEN)
    )
    if resp.sw in _WRONG_KEY_SWS:
        raise AccessDenied(f"BAC refused ({resp.sw:04X}): the access key (MRZ) is wrong")
    if resp.sw != SW_OK:
        raise StatusError(resp.sw, command="MUTUAL AUTHENTICATE")
    try:
        r = open_mutual_authenticate_reply(k_enc, k_mac, resp.data)
    except AccessDenied:
        raise AccessDenied("BAC reply does not verify: the access key (MRZ) is wrong") from None
    if not hmac.compare_digest(r[:8], rnd_ic) or not hmac.compare_digest(r[8:16], rnd_ifd):
        raise AuthenticationError("BAC reply does not return RND.IC || RND.IFD")
    ks_enc, ks_mac = derive_session_keys(k_ifd, r[16:32])
    sm = SecureMessaging.from_bac(ks_enc, ks_mac, rnd_ic, rnd_ifd)
    channel.sm = sm
    return sm
