"""ICAO 9303-11 §9.8 secure messaging (ISO/IEC 7816-4 SM), 3DES and AES, reader and chip side.

One :class:`SecureMessaging` object holds the session keys ``KSenc`` / ``KSmac``
and the send sequence counter (SSC) of one session (after BAC, PACE or Chip
Authentication). The reader uses :meth:`~SecureMessaging.protect` /
:meth:`~SecureMessaging.unprotect`; the simulated chip uses the mirror pair
:meth:`~SecureMessaging.unprotect_command` / :meth:`~SecureMessaging.protect_response`.
Every one of the four increments the SSC by one before it computes anything,
so a command and its reply use consecutive counter values on both sides.

Formats (ICAO 9303-11 §9.8.4–9.8.6):

* Command: ``CLA | 0x0C``, header ``CLA INS P1 P2`` padded; command data
  encrypted (padded) in DO'87' (with the padding-content indicator ``01``)
  or, for an odd INS, in DO'85' (no indicator); Ne in DO'97' (1 byte for a
  short APDU, ``256`` → ``00``; 2 bytes for an extended one, ``65536`` →
  ``0000``); DO'8E' the MAC over ``pad(SSC || pad(header) || DO'87'/'85' ||
  DO'97')``. The protected APDU always carries DO'8E' and so always asks for
  the longest reply: Le ``00`` (short) or ``0000`` (extended).
* Reply: DO'87'/'85' (encrypted data), DO'99' (the status word, mandatory),
  DO'8E' (the MAC over ``pad(SSC || every object before DO'8E')``), then the
  plain SW1 SW2, which is ignored in favour of the authenticated DO'99'.
* 3DES (BAC, PACE-3DES): 8-byte SSC, CBC with a zero IV, ISO/IEC 9797-1 MAC
  algorithm 3 (retail MAC) with single-DES.
* AES (PACE, CA): 16-byte SSC, CBC with ``IV = AES-ECB(KSenc, SSC)``, AES-CMAC
  truncated to 8 bytes.

Resynchronisation policy. Chips answer some errors (``6A82`` file not found,
``6982`` security status not satisfied, ...) with a bare status word and no
SM data objects. Such an *unprotected error reply* is accepted when its SW is
not ``9000``: the SSC still advances by one, as it does for a protected reply
(chips that keep the session count every reply; the chip side does the same
through :meth:`SecureMessaging.unprotected_reply`), so the next exchange
verifies on both sides, and the plain SW is returned with no data. The caller
can trust nothing but "it failed". Everything else that is not a well-formed
protected reply raises :class:`~kiosk.emrtd.errors.SecureMessagingError`:
a bare ``9000`` (success must be authenticated), a bare ``6987`` / ``6988``
(the chip reports broken SM and has dropped the session), a missing DO'99'
or DO'8E', or a wrong MAC. Data whose MAC fails is never returned.

Performance: this is the per-APDU hot path. A key schedule costs more than
encrypting the few blocks an APDU carries (3DES: ~8 µs against ~0.4 µs per
block), so each key is scheduled once per session: CBC encryption
keeps one running CBC context and cancels its chaining by XOR-ing the previous
output block into the next first block; CBC decryption is ECB decryption plus
one big-int XOR; CMAC is copied from a keyed template. Replies are scanned
directly (four known one-byte tags) instead of being decoded as a TLV tree.
"""

from __future__ import annotations

import hmac

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import (
    BlockCipherAlgorithm,
    Cipher,
    CipherContext,
    algorithms,
    modes,
)

from kiosk.emrtd.apdu import (
    EXT_MAX_NE,
    SHORT_MAX_NE,
    SW_OK,
    SW_SM_DATA_INCORRECT,
    SW_SM_DATA_MISSING,
    CommandAPDU,
    ResponseAPDU,
)
from kiosk.emrtd.crypto import Cipherkind, des3_key24, pad, unpad
from kiosk.emrtd.errors import APDUError, SecureMessagingError

__all__ = ["SecureMessaging"]

#: CLA bits that announce ISO 7816-4 secure messaging with an authenticated header.
CLA_SM = 0x0C

TAG_CRYPTOGRAM_ODD = 0x85  # DO'85': cryptogram, odd INS (data are BER-TLV), no indicator
TAG_CRYPTOGRAM = 0x87  # DO'87': padding-content indicator 01 + cryptogram
TAG_NE = 0x97  # DO'97': expected length Ne
TAG_STATUS = 0x99  # DO'99': processing status SW1 SW2
TAG_MAC = 0x8E  # DO'8E': cryptographic checksum
PADDING_INDICATOR = 0x01  # ISO/IEC 9797-1 method 2 padding

MAC_LEN = 8
#: Size of DO'99' (4) + DO'8E' (10) + the plain SW (2) in every protected reply.
_REPLY_FIXED_OVERHEAD = 4 + 2 + MAC_LEN + 2


def _xor(a: bytes, b: bytes) -> bytes:
    n = len(a)
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(n, "big")


def _len_bytes(n: int) -> bytes:
    """BER definite length, up to 65535 (the most an APDU can carry)."""
    if n > 0xFFFF:
        raise APDUError(f"SM data object of {n} bytes does not fit in an APDU")
    if n < 0x80:
        return bytes((n,))
    if n < 0x100:
        return bytes((0x81, n))
    return bytes((0x82, n >> 8, n & 0xFF))


def _len_size(n: int) -> int:
    return 1 if n < 0x80 else 2 if n < 0x100 else 3


class _Cbc:
    """CBC encryption and decryption under one key, scheduled once for the session.

    ``cryptography`` fixes a CBC context's IV at creation, and creating a
    context re-runs the key schedule. Instead one encrypting CBC context runs
    for the whole session: it XORs each new first block with its own previous
    output block, so pre-XOR-ing that block (and the wanted IV) in cancels the
    chaining and gives a fresh CBC encryption under ``iv``. Decryption is ECB
    decryption of all blocks followed by one XOR with ``iv || C[0..n-2]``.
    """

    __slots__ = ("_bs", "_dec", "_enc", "_prev")

    def __init__(self, algorithm: BlockCipherAlgorithm, block_size: int) -> None:
        self._bs = block_size
        self._enc: CipherContext = Cipher(algorithm, modes.CBC(bytes(block_size))).encryptor()
        self._prev = bytes(block_size)
        self._dec: CipherContext = Cipher(algorithm, modes.ECB()).decryptor()

    def encrypt(self, data: bytes, iv: bytes) -> bytes:
        """CBC-encrypt block-aligned ``data`` under ``iv``."""
        bs = self._bs
        if not data:
            return b""
        first = _xor(data[:bs], _xor(self._prev, iv))
        out = self._enc.update(first + data[bs:])
        self._prev = out[-bs:]
        return out

    def decrypt(self, data: bytes, iv: bytes) -> bytes:
        """CBC-decrypt ``data`` (a whole number of blocks) under ``iv``."""
        bs = self._bs
        n = len(data)
        if n == 0 or n % bs:
            raise SecureMessagingError(f"cryptogram of {n} bytes is not whole {bs}-byte blocks")
        ecb = self._dec.update(data)
        chain = iv + data[: n - bs]
        return (int.from_bytes(ecb, "big") ^ int.from_bytes(chain, "big")).to_bytes(n, "big")


class _RetailMac:
    """ISO/IEC 9797-1 MAC algorithm 3 with DES (the BAC / 3DES SM MAC), keys scheduled once."""

    __slots__ = ("_cbc1", "_dec2", "_enc1")

    def __init__(self, key: bytes) -> None:
        if len(key) not in (16, 24):
            raise SecureMessagingError(f"3DES MAC key of {len(key)} bytes")
        k1, k2 = key[:8], key[8:16]
        self._cbc1 = _Cbc(TripleDES(k1 * 3), 8)
        self._dec2: CipherContext = Cipher(TripleDES(k2 * 3), modes.ECB()).decryptor()
        self._enc1: CipherContext = Cipher(TripleDES(k1 * 3), modes.ECB()).encryptor()

    def mac(self, padded: bytes) -> bytes:
        h = self._cbc1.encrypt(padded, bytes(8))[-8:]
        return self._enc1.update(self._dec2.update(h))


class _Scan:
    """The SM data objects found in a protected command or reply (offsets into its data)."""

    __slots__ = ("cryptogram", "mac", "mac_start", "ne", "odd", "status")

    def __init__(self) -> None:
        self.cryptogram: bytes | None = None
        self.odd = False
        self.ne: bytes | None = None
        self.status: bytes | None = None
        self.mac: bytes | None = None
        self.mac_start = 0


def _scan(data: bytes, allowed: frozenset[int]) -> _Scan:
    """Walk the one-byte-tag SM objects of ``data``; DO'8E' must come last.

    Unknown, repeated or truncated objects raise :class:`SecureMessagingError`.
    """
    out = _Scan()
    seen: set[int] = set()
    pos = 0
    end = len(data)
    while pos < end:
        start = pos
        tag = data[pos]
        if tag not in allowed:
            raise SecureMessagingError(f"unexpected SM data object {tag:02X}")
        if tag in seen:
            raise SecureMessagingError(f"SM data object {tag:02X} repeated")
        seen.add(tag)
        if pos + 1 >= end:
            raise SecureMessagingError(f"SM data object {tag:02X} truncated")
        lb = data[pos + 1]
        pos += 2
        if lb < 0x80:
            length = lb
        elif lb == 0x81 and pos < end:
            length = data[pos]
            pos += 1
        elif lb == 0x82 and pos + 1 < end:
            length = (data[pos] << 8) | data[pos + 1]
            pos += 2
        else:
            raise SecureMessagingError(f"bad length in SM data object {tag:02X}")
        if pos + length > end:
            raise SecureMessagingError(f"SM data object {tag:02X} truncated")
        value = data[pos : pos + length]
        pos += length
        if tag == TAG_MAC:
            if pos != end:
                raise SecureMessagingError("data after the SM MAC object")
            out.mac = value
            out.mac_start = start
        elif tag in (TAG_CRYPTOGRAM, TAG_CRYPTOGRAM_ODD):
            if out.cryptogram is not None:
                raise SecureMessagingError("both DO'85' and DO'87' present")
            out.cryptogram = value
            out.odd = tag == TAG_CRYPTOGRAM_ODD
        elif tag == TAG_NE:
            out.ne = value
        else:
            out.status = value
    return out


_COMMAND_TAGS = frozenset((TAG_CRYPTOGRAM, TAG_CRYPTOGRAM_ODD, TAG_NE, TAG_MAC))
_REPLY_TAGS = frozenset((TAG_CRYPTOGRAM, TAG_CRYPTOGRAM_ODD, TAG_STATUS, TAG_MAC))


class SecureMessaging:
    """One secure messaging session: keys, SSC and the protect/unprotect operations.

    ``kind`` chooses 3DES (two-key, 16-byte keys) or AES (16, 24 or 32-byte
    keys). ``ssc`` is the starting send sequence counter; it is 0 after PACE
    and CA and comes from the nonces after BAC (:meth:`from_bac`).
    """

    __slots__ = (
        "_bs",
        "_cbc",
        "_cmac",
        "_iv_ecb",
        "_kind",
        "_ks_enc",
        "_ks_mac",
        "_retail",
        "_ssc",
        "_ssc_len",
        "_ssc_mod",
    )

    def __init__(self, kind: Cipherkind, ks_enc: bytes, ks_mac: bytes, ssc: int = 0) -> None:
        self._kind = kind
        self._ks_enc = bytes(ks_enc)
        self._ks_mac = bytes(ks_mac)
        self._cmac: cmac.CMAC | None = None
        self._retail: _RetailMac | None = None
        self._iv_ecb: CipherContext | None = None
        if kind is Cipherkind.DES3:
            if len(ks_enc) not in (16, 24) or len(ks_mac) not in (16, 24):
                raise SecureMessagingError("3DES session keys must be 16 or 24 bytes")
            self._bs = 8
            self._cbc = _Cbc(TripleDES(des3_key24(self._ks_enc)), 8)
            self._retail = _RetailMac(self._ks_mac)
        else:
            if len(ks_enc) not in (16, 24, 32) or len(ks_mac) not in (16, 24, 32):
                raise SecureMessagingError("AES session keys must be 16, 24 or 32 bytes")
            self._bs = 16
            self._cbc = _Cbc(algorithms.AES(self._ks_enc), 16)
            self._cmac = cmac.CMAC(algorithms.AES(self._ks_mac))
            self._iv_ecb = Cipher(algorithms.AES(self._ks_enc), modes.ECB()).encryptor()
        self._ssc_len = self._bs
        self._ssc_mod = 1 << (8 * self._ssc_len)
        self._ssc = 0
        self.ssc = ssc

    @classmethod
    def from_bac(
        cls, ks_enc: bytes, ks_mac: bytes, rnd_ic: bytes, rnd_ifd: bytes
    ) -> SecureMessaging:
        """The 3DES session after BAC: SSC = last 4 bytes of RND.IC || last 4 of RND.IFD."""
        if len(rnd_ic) != 8 or len(rnd_ifd) != 8:
            raise SecureMessagingError("RND.IC and RND.IFD must be 8 bytes each")
        ssc = int.from_bytes(rnd_ic[-4:] + rnd_ifd[-4:], "big")
        return cls(Cipherkind.DES3, ks_enc, ks_mac, ssc)

    # -- state -------------------------------------------------------------------------

    @property
    def kind(self) -> Cipherkind:
        return self._kind

    @property
    def ks_enc(self) -> bytes:
        return self._ks_enc

    @property
    def ks_mac(self) -> bytes:
        return self._ks_mac

    @property
    def block_size(self) -> int:
        """Cipher block size: 8 for 3DES, 16 for AES (also the SSC length)."""
        return self._bs

    @property
    def ssc(self) -> int:
        """The send sequence counter. Settable, e.g. to restore it before a retried APDU."""
        return self._ssc

    @ssc.setter
    def ssc(self, value: int) -> None:
        if not 0 <= value < self._ssc_mod:
            raise SecureMessagingError(f"SSC {value} does not fit in {self._ssc_len} bytes")
        self._ssc = value

    @property
    def ssc_bytes(self) -> bytes:
        """The SSC as it enters the MAC: 8 bytes (3DES) or 16 bytes (AES), big-endian."""
        return self._ssc.to_bytes(self._ssc_len, "big")

    def _next_ssc(self) -> bytes:
        self._ssc = (self._ssc + 1) % self._ssc_mod
        return self._ssc.to_bytes(self._ssc_len, "big")

    # -- primitives --------------------------------------------------------------------

    def _iv(self, ssc: bytes) -> bytes:
        if self._iv_ecb is None:
            return bytes(8)
        return self._iv_ecb.update(ssc)

    def _mac(self, data: bytes) -> bytes:
        """MAC over ``pad(data)`` (``data`` starts with the SSC)."""
        padded = pad(data, self._bs)
        if self._cmac is not None:
            c = self._cmac.copy()
            c.update(padded)
            return c.finalize()[:MAC_LEN]
        assert self._retail is not None
        return self._retail.mac(padded)

    def _check_mac(self, data: bytes, mac: bytes | None) -> None:
        if mac is None:
            raise SecureMessagingError("SM MAC object DO'8E' missing")
        if len(mac) != MAC_LEN or not hmac.compare_digest(self._mac(data), mac):
            raise SecureMessagingError("SM MAC does not verify")

    def _encrypt_do(self, plain: bytes, ssc: bytes, odd: bool) -> bytes:
        ct = self._cbc.encrypt(pad(plain, self._bs), self._iv(ssc))
        if odd:
            return bytes((TAG_CRYPTOGRAM_ODD,)) + _len_bytes(len(ct)) + ct
        return bytes((TAG_CRYPTOGRAM,)) + _len_bytes(len(ct) + 1) + b"\x01" + ct

    def _decrypt_do(self, found: _Scan, ssc: bytes) -> bytes:
        """The plaintext of the DO'87' / DO'85' in ``found`` (empty when there is none)."""
        value = found.cryptogram
        if value is None:
            return b""
        if not found.odd:
            if not value or value[0] != PADDING_INDICATOR:
                raise SecureMessagingError("DO'87' without padding-content indicator 01")
            value = value[1:]
        return unpad(self._cbc.decrypt(value, self._iv(ssc)))

    # -- reader side -------------------------------------------------------------------

    def protect(self, cmd: CommandAPDU, extended: bool) -> CommandAPDU:
        """Wrap a plain command for the chip (SSC += 1).

        ``extended`` says whether the wire APDU will use extended length; it
        sets the size of DO'97' and the protected Le (``0000`` vs ``00``).
        Raises :class:`~kiosk.emrtd.errors.APDUError` when ``cmd`` asks for
        more than 256 bytes but ``extended`` is false.
        """
        ne = cmd.ne
        if ne is not None and ne > SHORT_MAX_NE and not extended:
            raise APDUError(f"Ne {ne} needs an extended-length APDU")
        ssc = self._next_ssc()
        cla = cmd.cla | CLA_SM
        header = bytes((cla, cmd.ins, cmd.p1, cmd.p2))
        body = self._encrypt_do(cmd.data, ssc, bool(cmd.ins & 1)) if cmd.data else b""
        if ne is not None:
            if extended:
                le = 0 if ne == EXT_MAX_NE else ne
                body += bytes((TAG_NE, 2, le >> 8, le & 0xFF))
            else:
                body += bytes((TAG_NE, 1, 0 if ne == SHORT_MAX_NE else ne))
        mac = self._mac(ssc + pad(header, self._bs) + body)
        body += bytes((TAG_MAC, MAC_LEN)) + mac
        return CommandAPDU(
            cla, cmd.ins, cmd.p1, cmd.p2, body, EXT_MAX_NE if extended else SHORT_MAX_NE
        )

    def unprotect(self, resp: ResponseAPDU) -> ResponseAPDU:
        """Verify and decrypt a chip reply (SSC += 1); return plain data and the DO'99' SW.

        A bare non-9000 status word is an unprotected error reply and is
        returned as is (see the module docstring for the policy).
        """
        ssc = self._next_ssc()
        data = resp.data
        if not data:
            sw = resp.sw
            if sw == SW_OK:
                raise SecureMessagingError("unprotected 9000 reply under secure messaging")
            if sw in (SW_SM_DATA_MISSING, SW_SM_DATA_INCORRECT):
                raise SecureMessagingError(f"chip rejected secure messaging ({sw:04X})")
            return ResponseAPDU(b"", sw)
        found = _scan(data, _REPLY_TAGS)
        self._check_mac(ssc + data[: found.mac_start], found.mac)
        status = found.status
        if status is None or len(status) != 2:
            raise SecureMessagingError("SM status object DO'99' missing or malformed")
        plain = self._decrypt_do(found, ssc)
        return ResponseAPDU(plain, (status[0] << 8) | status[1])

    # -- chip side ---------------------------------------------------------------------

    def unprotect_command(self, cmd: CommandAPDU) -> CommandAPDU:
        """Chip side: verify and decrypt a protected command (SSC += 1).

        Returns the plain command (SM bits cleared from CLA, Ne from DO'97',
        ``None`` when absent). :class:`SecureMessagingError` when the command
        is not protected, its MAC is missing or wrong, or an object is malformed;
        the chip then answers ``6987`` / ``6988`` and ends the session.
        """
        ssc = self._next_ssc()
        if cmd.cla & CLA_SM != CLA_SM:
            raise SecureMessagingError(f"command CLA {cmd.cla:02X} does not announce SM")
        data = cmd.data
        found = _scan(data, _COMMAND_TAGS)
        header = bytes((cmd.cla, cmd.ins, cmd.p1, cmd.p2))
        self._check_mac(ssc + pad(header, self._bs) + data[: found.mac_start], found.mac)
        ne: int | None = None
        if found.ne is not None:
            raw = found.ne
            if len(raw) == 1:
                ne = raw[0] or SHORT_MAX_NE
            elif len(raw) == 2:
                ne = ((raw[0] << 8) | raw[1]) or EXT_MAX_NE
            else:
                raise SecureMessagingError(f"DO'97' of {len(raw)} bytes")
        plain = self._decrypt_do(found, ssc)
        try:
            return CommandAPDU(cmd.cla & ~CLA_SM & 0xFF, cmd.ins, cmd.p1, cmd.p2, plain, ne)
        except APDUError as exc:
            raise SecureMessagingError(f"protected command decodes to a bad APDU: {exc}") from exc

    def protect_response(self, resp: ResponseAPDU, *, odd_ins: bool = False) -> ResponseAPDU:
        """Chip side: wrap a plain reply (SSC += 1): DO'87' (or DO'85'), DO'99', DO'8E'."""
        ssc = self._next_ssc()
        body = self._encrypt_do(resp.data, ssc, odd_ins) if resp.data else b""
        body += bytes((TAG_STATUS, 2, resp.sw >> 8, resp.sw & 0xFF))
        body += bytes((TAG_MAC, MAC_LEN)) + self._mac(ssc + body)
        return ResponseAPDU(body, resp.sw)

    def unprotected_reply(self, sw: int) -> ResponseAPDU:
        """Chip side: a bare error status word that still counts in the SSC (SSC += 1).

        The mirror of the reader's resynchronisation policy: use it for
        errors answered without SM objects (e.g. ``6A82``) while the session
        stays up.
        """
        self._next_ssc()
        return ResponseAPDU(b"", sw)

    # -- sizes -------------------------------------------------------------------------

    def protected_reply_size(self, n: int) -> int:
        """Bytes on the wire for a protected reply carrying ``n`` plaintext bytes (SW included)."""
        if n == 0:
            return _REPLY_FIXED_OVERHEAD
        value = 1 + (n // self._bs + 1) * self._bs  # indicator + padded cryptogram
        return 1 + _len_size(value) + value + _REPLY_FIXED_OVERHEAD

    def max_plain_response(self, max_response_apdu: int) -> int:
        """Largest plaintext Ne whose protected READ BINARY reply fits ``max_response_apdu`` bytes.

        The reply is DO'87' (indicator + padded cryptogram), DO'99', DO'8E' and
        SW1 SW2; its data part is also capped by the protected Le (65536).
        E.g. a short-APDU transport (258 bytes) gives 223 for AES and 231 for
        3DES. Raises :class:`~kiosk.emrtd.errors.APDUError` when not even one
        byte fits.
        """
        limit = min(max_response_apdu, EXT_MAX_NE + 2)
        bs = self._bs
        k = limit // bs
        while k > 0 and self.protected_reply_size(k * bs - 1) > limit:
            k -= 1
        if k == 0:
            raise APDUError(f"a {max_response_apdu}-byte response cannot carry a protected reply")
        return min(k * bs - 1, EXT_MAX_NE)

    def max_plain_response_short(self, max_response_apdu: int = SHORT_MAX_NE + 2) -> int:
        """:meth:`max_plain_response` when only short APDUs are allowed (reply data ≤ 256)."""
        return self.max_plain_response(min(max_response_apdu, SHORT_MAX_NE + 2))
