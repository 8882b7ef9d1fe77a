"""Basic Access Control, chip side (ICAO 9303-11 §4.3), for the software CCCD chip.

The chip's APDU dispatcher calls :meth:`BacChip.get_challenge` for GET
CHALLENGE and :meth:`BacChip.mutual_authenticate` for MUTUAL AUTHENTICATE and
maps the errors to status words: :class:`~kiosk.emrtd.errors.AccessDenied`
→ ``6300`` (wrong MRZ), :class:`~kiosk.emrtd.errors.AuthenticationError` →
``6985`` (no challenge issued) or ``6700`` (wrong length).

The encoding helpers are shared with the reader (:mod:`kiosk.emrtd.bac`); the
tests check both sides against the ICAO 9303-11 Appendix D.3 bytes so a bug
cannot hide symmetrically.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable

from kiosk.emrtd.bac import (
    AUTH_DATA_LEN,
    K_LEN,
    RND_LEN,
    derive_bac_keys,
    derive_session_keys,
    mutual_authenticate_data,
    open_mutual_authenticate_reply,
)
from kiosk.emrtd.errors import AccessDenied, AuthenticationError
from kiosk.emrtd.sm import SecureMessaging

__all__ = ["BacChip"]


class BacChip:
    """The chip's half of BAC for one document key pair ``(K_enc, K_mac)``.

    ``rng`` supplies RND.IC and K.IC (``os.urandom`` unless pinned by a test).
    A challenge is good for one MUTUAL AUTHENTICATE, successful or not.
    """

    def __init__(
        self,
        k_enc: bytes,
        k_mac: bytes,
        rng: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self.k_enc = bytes(k_enc)
        self.k_mac = bytes(k_mac)
        self._rng = rng
        self._rnd_ic: bytes | None = None

    @classmethod
    def from_mrz_information(
        cls, mrz_info: str, rng: Callable[[int], bytes] = os.urandom
    ) -> BacChip:
        """A chip whose access keys derive from ``mrz_info`` (see :func:`mrz_information`)."""
        k_enc, k_mac = derive_bac_keys(mrz_info)
        return cls(k_enc, k_mac, rng)

    def get_challenge(self) -> bytes:
        """GET CHALLENGE: a fresh 8-byte RND.IC, remembered for MUTUAL AUTHENTICATE."""
        rnd_ic = bytes(self._rng(RND_LEN))
        if len(rnd_ic) != RND_LEN:
            raise AuthenticationError("random source returned a short RND.IC")
        self._rnd_ic = rnd_ic
        return rnd_ic

    def mutual_authenticate(
        self, data: bytes, *, k_ic: bytes | None = None
    ) -> tuple[bytes, SecureMessaging]:
        """MUTUAL AUTHENTICATE: check ``E.IFD || M.IFD``, return ``E.IC || M.IC`` and the SM.

        Raises :class:`~kiosk.emrtd.errors.AuthenticationError` when no
        challenge is pending or the data is not 40 bytes, and
        :class:`~kiosk.emrtd.errors.AccessDenied` when the MAC fails (reader
        used another MRZ) or the decrypted RND.IC is not the one issued.
        """
        rnd_ic, self._rnd_ic = self._rnd_ic, None
        if rnd_ic is None:
            raise AuthenticationError("MUTUAL AUTHENTICATE without GET CHALLENGE")
        if len(data) != AUTH_DATA_LEN:
            raise AuthenticationError(f"MUTUAL AUTHENTICATE data of {len(data)} bytes")
        s = open_mutual_authenticate_reply(self.k_enc, self.k_mac, data)
        rnd_ifd, k_ifd = s[:8], s[16:32]
        if not hmac.compare_digest(s[8:16], rnd_ic):
            raise AccessDenied("MUTUAL AUTHENTICATE does not return RND.IC")
        k_ic = bytes(self._rng(K_LEN)) if k_ic is None else bytes(k_ic)
        if len(k_ic) != K_LEN:
            raise AuthenticationError("K.IC must be 16 bytes")
        reply = mutual_authenticate_data(self.k_enc, self.k_mac, rnd_ic + rnd_ifd, k_ic)
        ks_enc, ks_mac = derive_session_keys(k_ifd, k_ic)
        return reply, SecureMessaging.from_bac(ks_enc, ks_mac, rnd_ic, rnd_ifd)
