"""Active Authentication (ICAO 9303-11 §6.1): the chip proves it holds the private key of DG15.

The reader sends a fresh 8-byte challenge (RND.IFD) in INTERNAL AUTHENTICATE
(``00 88 00 00``), under secure messaging once access control is done; the
chip signs it with its Active Authentication key, whose public half is in
DG15 (covered by the SOD, so passive authentication vouches for it). A chip
whose data were copied onto another chip cannot answer: this is the anti-clone
check.

* RSA: ISO/IEC 9796-2 scheme 1 with message recovery (:mod:`kiosk.emrtd.iso9796`);
  trailer ``BC`` = SHA-1, ``38CC``/``34CC``/``36CC``/``35CC`` = SHA-224/256/384/512.
  The recovered ``M1`` and the challenge ``M2`` must hash to the hash field.
* ECDSA: plain ``r || s`` (BSI TR-03111) over the challenge, hash from DG14's
  ActiveAuthenticationInfo (ecdsa-plain-SHA1/224/256/384/512). Without an
  ActiveAuthenticationInfo the SHA-2 hashes are tried in turn — the
  challenge is fresh, so any of them verifying proves possession of the key.

Long replies. An RSA-2048 signature is 256 bytes; under AES secure messaging
the protected reply no longer fits a short APDU (ICAO 9303-11 §6.1.4: keys
above 1792 bits need extended length). The reader asks with extended length
when the transport offers it. When it does not, a chip that chains sends the
reply as ``61xx`` + GET RESPONSE, which every transport collects
(:func:`kiosk.transport.collect_response`); a chip that answers ``6700``
instead gives ``not_supported`` with that reason (a reader limitation, not a
verdict on the chip).

Results, never bare booleans: ``passed``; ``failed`` — the chip answered but
could not prove it holds the key (a cloned chip, or a chip refusing —
including ``6D00``/``6A81``/``6E00`` — although DG15 says it has a key);
``not_supported`` — no DG15, an
unusable key, or a transport without extended length. Transport failures and
secure messaging errors stay exceptions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from kiosk.emrtd import iso9796
from kiosk.emrtd.apdu import (
    EXT_MAX_NE,
    INS_INTERNAL_AUTHENTICATE,
    SHORT_MAX_NE,
    SW_CLA_NOT_SUPPORTED,
    SW_FUNCTION_NOT_SUPPORTED,
    SW_INS_NOT_SUPPORTED,
    SW_OK,
    SW_WRONG_LENGTH,
    CommandAPDU,
    sw_message,
)
from kiosk.emrtd.channel import CardChannel
from kiosk.emrtd.errors import LDSParseError
from kiosk.emrtd.lds.dg14 import DG14
from kiosk.emrtd.lds.dg15 import DG15

__all__ = [
    "ECDSA_PLAIN",
    "AAResult",
    "active_authentication",
    "verify_active_authentication",
]

#: ecdsa-plain-signatures (BSI TR-03111 §5.2.1) and its hash arcs.
ECDSA_PLAIN = "0.4.0.127.0.7.1.1.4.1"
_ECDSA_HASHES: dict[str, hashes.HashAlgorithm] = {
    ECDSA_PLAIN + ".1": hashes.SHA1(),
    ECDSA_PLAIN + ".2": hashes.SHA224(),
    ECDSA_PLAIN + ".3": hashes.SHA256(),
    ECDSA_PLAIN + ".4": hashes.SHA384(),
    ECDSA_PLAIN + ".5": hashes.SHA512(),
}
#: The challenge length ICAO 9303-11 §6.1.2.1 prescribes.
CHALLENGE_LEN = 8
#: Status words by which a chip says it does not perform INTERNAL AUTHENTICATE.
_NOT_SUPPORTED_SW = frozenset(
    (SW_INS_NOT_SUPPORTED, SW_FUNCTION_NOT_SUPPORTED, SW_CLA_NOT_SUPPORTED)
)
#: The reason a receptionist sees for a wrong signature.
CLONE_REASON = "the chip could not prove it holds the key in DG15 — possibly a cloned chip"

AAOutcome = Literal["passed", "failed", "not_supported"]


@dataclass(frozen=True)
class AAResult:
    """The outcome of Active Authentication, with the evidence to re-verify it offline.

    ``algorithm`` names what was checked (``"rsa-iso9796-2-sha1"``,
    ``"ecdsa-plain-sha256"``, ...); ``challenge`` and ``response`` are the
    exact bytes sent and received (empty when nothing was exchanged);
    ``reason`` says why the result is not ``passed``.
    """

    result: AAOutcome
    algorithm: str | None
    challenge: bytes
    response: bytes
    reason: str | None = None

    @property
    def passed(self) -> bool:
        return self.result == "passed"

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict; byte strings as upper-case hex."""
        return {
            "result": self.result,
            "algorithm": self.algorithm,
            "challenge": self.challenge.hex().upper(),
            "response": self.response.hex().upper(),
            "reason": self.reason,
        }


def _expected_length(dg15: DG15) -> int | None:
    """Bytes of the signature the DG15 key produces (None when the key is unusable)."""
    try:
        key = dg15.public_key()
    except LDSParseError:
        return None
    if isinstance(key, rsa.RSAPublicKey):
        return (key.key_size + 7) // 8
    if isinstance(key, ec.EllipticCurvePublicKey):
        return 2 * ((key.curve.key_size + 7) // 8)
    return None


def _ne_for(channel: CardChannel, expected: int | None) -> tuple[int, bool]:
    """Ne and extended flag: the longest reply the link can carry for this signature."""
    sm = channel.sm
    short_limit = sm.max_plain_response_short() if sm is not None else SHORT_MAX_NE
    if expected is not None and expected <= short_limit:
        return SHORT_MAX_NE, False
    if channel.extended_length:
        return EXT_MAX_NE, True
    return SHORT_MAX_NE, False


def active_authentication(
    channel: CardChannel,
    dg15: DG15 | None,
    dg14: DG14 | None,
    *,
    challenge: bytes | None = None,
) -> AAResult:
    """Run INTERNAL AUTHENTICATE with a fresh challenge and verify the reply against DG15.

    ``challenge`` pins RND.IFD for tests (8 bytes); by default it is
    ``os.urandom(8)``. Call after access control (the chip requires it) and,
    when CA is also done, after CA so the exchange runs under the CA session.
    Raises only what the channel raises (transport, secure messaging).
    """
    nonce = os.urandom(CHALLENGE_LEN) if challenge is None else bytes(challenge)
    if len(nonce) != CHALLENGE_LEN:
        raise ValueError(f"the AA challenge must be {CHALLENGE_LEN} bytes")
    if dg15 is None:
        return AAResult("not_supported", None, nonce, b"", "the card has no DG15 (no AA key)")
    expected = _expected_length(dg15)
    ne, extended = _ne_for(channel, expected)
    cmd = CommandAPDU(0x00, INS_INTERNAL_AUTHENTICATE, 0x00, 0x00, nonce, ne=ne)
    resp = channel.send(cmd, extended)
    if resp.sw in _NOT_SUPPORTED_SW:
        # DG15 (signed in the SOD) says this chip has an AA key: refusing to use it is
        # what a clone without the key would do.
        return AAResult(
            "failed",
            None,
            nonce,
            b"",
            f"the chip refused Active Authentication although DG15 holds its key "
            f"({resp.sw:04X}) — possibly a cloned chip",
        )
    if resp.sw == SW_WRONG_LENGTH and not extended:
        return AAResult(
            "not_supported",
            None,
            nonce,
            b"",
            "the chip's signature does not fit a short APDU and this reader has no "
            "extended-length APDUs (6700)",
        )
    if resp.sw != SW_OK:
        return AAResult(
            "failed",
            None,
            nonce,
            resp.data,
            f"the chip refused INTERNAL AUTHENTICATE ({resp.sw:04X} {sw_message(resp.sw)})",
        )
    return verify_active_authentication(dg15, dg14, nonce, resp.data)


def _verify_rsa(key: rsa.RSAPublicKey, challenge: bytes, response: bytes) -> tuple[bool, str, str]:
    numbers = key.public_numbers()
    try:
        rec = iso9796.verify(response, numbers.n, numbers.e, challenge)
    except iso9796.ISO9796Error as exc:
        return False, "rsa-iso9796-2", str(exc)
    return True, f"rsa-iso9796-2-{rec.hash_name}", ""


def _verify_ecdsa(
    key: ec.EllipticCurvePublicKey, dg14: DG14 | None, challenge: bytes, response: bytes
) -> tuple[bool, str, str]:
    size = (key.curve.key_size + 7) // 8
    info = dg14.aa_info if dg14 is not None else None
    if info is not None:
        algo = _ECDSA_HASHES.get(info.signature_algorithm)
        if algo is None:
            return False, "ecdsa", f"unsupported AA signature algorithm {info.signature_algorithm}"
        candidates = [algo]
    else:
        candidates = [hashes.SHA256(), hashes.SHA384(), hashes.SHA512(), hashes.SHA224()]
    name = f"ecdsa-plain-{candidates[0].name}" if len(candidates) == 1 else "ecdsa-plain"
    if len(response) != 2 * size:
        return False, name, f"ECDSA signature of {len(response)} bytes, expected {2 * size}"
    r = int.from_bytes(response[:size], "big")
    s = int.from_bytes(response[size:], "big")
    der = encode_dss_signature(r, s)
    for algo in candidates:
        try:
            key.verify(der, challenge, ec.ECDSA(algo))
        except InvalidSignature:
            continue
        return True, f"ecdsa-plain-{algo.name}", ""
    return False, name, "the ECDSA signature does not verify"


def verify_active_authentication(
    dg15: DG15 | None, dg14: DG14 | None, challenge: bytes, response: bytes
) -> AAResult:
    """Verify an AA challenge/response pair against DG15 (and DG14's algorithm), offline.

    This is the check :func:`active_authentication` runs on the chip's reply;
    ``verify`` on a dump calls it with recorded evidence.
    """
    challenge, response = bytes(challenge), bytes(response)
    if dg15 is None:
        return AAResult("not_supported", None, challenge, response, "no DG15 (no AA key)")
    try:
        key = dg15.public_key()
    except LDSParseError as exc:
        return AAResult("not_supported", None, challenge, response, f"DG15 key unusable: {exc}")
    if isinstance(key, rsa.RSAPublicKey):
        ok, algorithm, detail = _verify_rsa(key, challenge, response)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        ok, algorithm, detail = _verify_ecdsa(key, dg14, challenge, response)
    else:  # pragma: no cover - public_key() only returns RSA or EC
        return AAResult("not_supported", None, challenge, response, "DG15 key type")
    if ok:
        return AAResult("passed", algorithm, challenge, response, None)
    return AAResult("failed", algorithm, challenge, response, f"{CLONE_REASON} ({detail})")
