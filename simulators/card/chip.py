"""A software CCCD chip: answers ISO 7816-4 / ICAO 9303 APDUs like the real card in CCCD.md.

:class:`Chip` holds the personalised files (:class:`CardFiles`) and a small
state machine: which DF and EF are selected, whether access control (BAC or
PACE) has been done, and the secure messaging session. ``process(apdu)``
takes a command APDU as bytes and returns the reply (data + SW1 SW2).

The file system is the CCCD's: EF.CardAccess at master-file level (not on
BAC-only chips), the eMRTD application (AID ``A0000002471001``) with EF.COM,
EF.SOD and the data groups. SELECT MF answers ``6D00`` as real CCCD chips do.
Everything inside the application needs access control; DG3 is present but
EAC-protected (``6982`` even after access control).

Secure messaging follows ICAO 9303-11 §9.8: after access control every
command must be protected; a command that is not, or whose MAC fails, ends
the session with a plain ``6988``. With the ``plain_errors`` option ordinary
errors (``6A82``, ``6B00``, ``6700``, ``6Cxx``, ``6982`` ...) are answered
without SM objects while the SSC still counts the reply, to exercise the
reader's re-synchronisation. ``max_read`` makes READ BINARY refuse larger
requests with ``6Cxx`` (the right length) or ``6700``, like chips with small
I/O buffers.

Chip Authentication and Active Authentication are answered when the keys are
present (MSE:Set AT / MSE:Set KAT + GENERAL AUTHENTICATE for CA, INTERNAL
AUTHENTICATE for AA).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dh, ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.utils import CryptographyDeprecationWarning

from kiosk.emrtd import iso9796, tlv
from kiosk.emrtd.apdu import (
    EXT_MAX_NE,
    INS_GENERAL_AUTHENTICATE,
    INS_GET_CHALLENGE,
    INS_GET_RESPONSE,
    INS_INTERNAL_AUTHENTICATE,
    INS_MSE,
    INS_MUTUAL_AUTHENTICATE,
    INS_READ_BINARY,
    INS_READ_BINARY_ODD,
    INS_SELECT,
    SHORT_MAX_NE,
    SW_COMMAND_NOT_ALLOWED_NO_EF,
    SW_CONDITIONS_NOT_SATISFIED,
    SW_END_OF_FILE_WARNING,
    SW_FILE_NOT_FOUND,
    SW_INS_NOT_SUPPORTED,
    SW_OK,
    SW_REFERENCE_NOT_FOUND,
    SW_SECURITY_STATUS_NOT_SATISFIED,
    SW_SM_DATA_INCORRECT,
    SW_VERIFICATION_FAILED,
    SW_WRONG_DATA,
    SW_WRONG_LENGTH,
    SW_WRONG_P1P2,
    SW_WRONG_P1P2_OFFSET,
    CommandAPDU,
    ResponseAPDU,
)
from kiosk.emrtd.crypto import KDF_ENC, KDF_MAC, Cipherkind, kdf
from kiosk.emrtd.errors import (
    AccessDenied,
    APDUError,
    EmrtdError,
    SecureMessagingError,
    TLVError,
)
from kiosk.emrtd.lds.files import DATA_GROUPS, EF_CARD_ACCESS, EF_COM, EF_SOD, EMRTD_AID
from kiosk.emrtd.security_infos import SUFFIX_3DES, SUFFIX_AES192, SUFFIX_AES256, PACEInfo
from kiosk.emrtd.sm import SecureMessaging
from kiosk.transport import CardRemoved
from simulators.card.profile import ChipOptions

Rng = Callable[[int], bytes]

#: ATR a PC/SC reader builds for an ISO/IEC 14443-4 card without historical bytes
#: (PC/SC part 3: 3B 8n 80 01 ... TCK); what the vpcd bridge will report.
ATR = bytes.fromhex("3B8080010 1".replace(" ", ""))

SW_CLA_NOT_SUPPORTED = 0x6E00
SW_CHAINING_NOT_SUPPORTED = 0x6884
#: P2 of SELECT: no response data.
P2_NO_FCI = 0x0C
#: CLA bits of ISO 7816-4 secure messaging (header authenticated).
CLA_SM = 0x0C
#: CLA bit of command chaining (PACE GENERAL AUTHENTICATE uses it).
CLA_CHAINING = 0x10
#: MSE:Set AT for PACE (P1 = C1: set for mutual authentication, P2 = A4: AT template).
MSE_PACE = 0xC1A4
#: MSE:Set AT for Chip Authentication (P1 = 41: set for internal authentication).
MSE_CA_AT = 0x41A4
#: MSE:Set KAT (Chip Authentication version 1, 3DES or AES).
MSE_CA_KAT = 0x41A6
#: Status words that count as ordinary errors (answered plain with ``plain_errors``).
_ORDINARY_ERROR_SW1 = frozenset((0x67, 0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6E))


@dataclass(frozen=True)
class CardFiles:
    """Everything a personalised chip holds: its files and its secrets.

    ``card_access`` is None on a BAC-only chip (no EF.CardAccess);
    ``dgs`` maps data group numbers to file bytes; ``protected`` lists data
    groups present but readable only after Terminal Authentication (DG3 on a
    CCCD). The secrets are the CAN, the MRZ information (BAC / PACE-MRZ key
    input), the Chip Authentication private key and the Active Authentication
    private key. The chip signs INTERNAL AUTHENTICATE with ``aa_private_key``
    (RSA with ``aa_rsa_hash``; ECDSA with the hash DG14 names) and answers Chip
    Authentication with ``ca_private_key`` whatever DG14/DG15 say, so a fault
    can swap either key to build a clone or a CA key mismatch.
    """

    card_access: bytes | None
    com: bytes
    sod: bytes
    dgs: Mapping[int, bytes]
    can: str
    mrz_info: str
    pace_info: PACEInfo | None = None
    protected: frozenset[int] = frozenset({3})
    ca_private_key: ec.EllipticCurvePrivateKey | None = None
    ca_protocol: str | None = None
    aa_private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None = None
    aa_rsa_hash: str = "sha1"
    ca_key_id: int | None = None
    ca_dh_private_key: dh.DHPrivateKey | None = None
    extra: Mapping[str, bytes] = field(default_factory=dict)

    def app_files(self) -> dict[int, bytes]:
        """FID → bytes for every EF of the eMRTD application."""
        out = {EF_COM.fid: self.com, EF_SOD.fid: self.sod}
        for n, data in self.dgs.items():
            out[DATA_GROUPS[n].fid] = data
        return out


@dataclass
class _State:
    """Volatile chip state: reset on power-up and (partly) when an SM session ends."""

    app_selected: bool = False
    current_ef: int | None = None
    access: str | None = None  # "bac" | "pace" once access control succeeded
    sm: SecureMessaging | None = None
    ca_done: bool = False
    ca_pending: bool = False  # MSE:Set AT for CA received


def _outer_ne(raw: bytes) -> int | None:
    """The Ne of a command APDU as sent (what one reply may carry); None without a Le field."""
    try:
        return CommandAPDU.parse(raw).ne
    except APDUError:
        return None


def _is_extended(raw: bytes) -> bool:
    """Whether a (well-formed) command APDU uses extended length fields."""
    body = raw[4:]
    return len(body) >= 3 and body[0] == 0


def _r(sw: int, data: bytes = b"") -> ResponseAPDU:
    return ResponseAPDU(data, sw)


class Chip:
    """A CCCD chip in the field of a simulated reader.

    ``options`` (see :class:`~simulators.card.profile.ChipOptions`) set the
    access control mode (``"pace+bac"``, ``"bac"``, ``"pace"``), extended
    length, the READ BINARY size limit and error style. ``rng`` supplies every
    random byte (challenges, nonces, ephemeral keys) so tests can pin it.
    Counters: ``apdu_count`` (every APDU processed) and ``failed_access``
    (BAC/PACE attempts that failed with a wrong key).
    """

    def __init__(
        self,
        files: CardFiles,
        options: ChipOptions | None = None,
        *,
        rng: Rng = os.urandom,
    ) -> None:
        self.files = files
        self.options = options or ChipOptions()
        self.rng = rng
        self.apdu_count = 0
        self.failed_access = 0
        self.removed = False
        self._remove_after: int | None = None
        self._app_files = files.app_files()
        self._mf_files: dict[int, bytes] = {}
        if files.card_access is not None and self.options.mode != "bac":
            self._mf_files[EF_CARD_ACCESS.fid] = files.card_access
        self._state = _State()
        self._bac: object | None = None
        self._pace: object | None = None
        #: The rest of a reply longer than the command's Ne, served by GET RESPONSE.
        self._pending = b""
        self._handlers: dict[int, Callable[[CommandAPDU, int], ResponseAPDU]] = {
            INS_SELECT: self._select,
            INS_READ_BINARY: self._read_binary,
            INS_READ_BINARY_ODD: self._read_binary_odd,
            INS_GET_CHALLENGE: self._get_challenge,
            INS_MUTUAL_AUTHENTICATE: self._mutual_authenticate,
            INS_MSE: self._mse,
            INS_GENERAL_AUTHENTICATE: self._general_authenticate,
            INS_INTERNAL_AUTHENTICATE: self._internal_authenticate,
        }

    # ---- properties ---------------------------------------------------------------------

    @property
    def atr(self) -> bytes:
        """The answer-to-reset a contactless reader reports for this chip."""
        return ATR

    @property
    def mode(self) -> str:
        return self.options.mode

    @property
    def extended_length(self) -> bool:
        return self.options.extended_length

    @property
    def access(self) -> str | None:
        """``"bac"`` or ``"pace"`` after successful access control, else None."""
        return self._state.access

    @property
    def sm(self) -> object | None:
        """The chip's current secure messaging session (None when there is none)."""
        return self._state.sm

    @property
    def chip_authenticated(self) -> bool:
        return self._state.ca_done

    # ---- card in the field --------------------------------------------------------------

    def remove(self) -> None:
        """Take the card out of the field: every later :meth:`process` raises CardRemoved."""
        self.removed = True
        self._remove_after = None

    def remove_after(self, apdus: int) -> None:
        """Schedule removal: the card leaves the field after ``apdus`` more APDUs."""
        if apdus < 0:
            raise ValueError("apdus must be >= 0")
        self._remove_after = self.apdu_count + apdus
        if apdus == 0:
            self.remove()

    def insert(self) -> None:
        """Put the card (back) in the field: a power-up, so all volatile state is reset."""
        self.removed = False
        self._remove_after = None
        self.reset()

    def reset(self) -> None:
        """Warm reset: nothing selected, no access, no session."""
        self._state = _State()
        self._bac = None
        self._pace = None
        self._pending = b""

    # ---- entry point --------------------------------------------------------------------

    def process(self, apdu: bytes) -> bytes:
        """Answer one command APDU; returns response data followed by SW1 SW2.

        Raises :class:`kiosk.transport.CardRemoved` when the card is not in
        the field.
        """
        if self.removed:
            raise CardRemoved("the simulated card is not in the field")
        if self._remove_after is not None and self.apdu_count >= self._remove_after:
            self.remove()
            raise CardRemoved("the simulated card left the field")
        self.apdu_count += 1
        return self._process(bytes(apdu)).to_bytes()

    def _process(self, raw: bytes) -> ResponseAPDU:
        """Answer one APDU; replies longer than Ne go out in pieces (``61xx`` + GET RESPONSE)."""
        if raw[:2] == bytes((0x00, INS_GET_RESPONSE)) and len(raw) == 5:
            return self._get_response(raw[4] or SHORT_MAX_NE)
        self._pending = b""
        reply = self._process_command(raw)
        limit = _outer_ne(raw)
        if limit is None or len(reply.data) <= limit:
            return reply
        # ISO/IEC 7816-4 §5.3.4: send Ne bytes, announce the rest with 61xx.
        self._pending = reply.data[limit:] + reply.sw.to_bytes(2, "big")
        return _r(0x6100 | (min(len(self._pending) - 2, 256) & 0xFF), reply.data[:limit])

    def _get_response(self, ne: int) -> ResponseAPDU:
        """GET RESPONSE: the next piece of a long reply (the final SW1 SW2 come last)."""
        if not self._pending:
            return _r(SW_CONDITIONS_NOT_SATISFIED)
        body, sw = self._pending[:-2], self._pending[-2:]
        chunk, rest = body[:ne], body[ne:]
        if rest:
            self._pending = rest + sw
            return _r(0x6100 | (min(len(rest), 256) & 0xFF), chunk)
        self._pending = b""
        return _r(int.from_bytes(sw, "big"), chunk)

    def _process_command(self, raw: bytes) -> ResponseAPDU:
        sm = self._state.sm
        try:
            cmd = CommandAPDU.parse(raw)
        except APDUError:
            if sm is not None:
                return self._sm_outer_error(SW_WRONG_LENGTH)
            return _r(SW_WRONG_LENGTH)
        extended = _is_extended(raw)
        if sm is not None:
            return self._process_protected(cmd, extended)
        if cmd.cla & CLA_SM == CLA_SM and cmd.cla & 0xE0 == 0:
            return _r(SW_SM_DATA_INCORRECT)  # SM command without a session
        if cmd.cla not in (0x00, CLA_CHAINING):
            return _r(SW_CLA_NOT_SUPPORTED)
        if extended and not self.options.extended_length:
            return _r(SW_WRONG_LENGTH)
        return self._dispatch(cmd, 0)

    # ---- secure messaging ---------------------------------------------------------------

    def _process_protected(self, cmd: CommandAPDU, extended: bool) -> ResponseAPDU:
        sm = self._state.sm
        assert sm is not None
        if cmd.cla & CLA_SM != CLA_SM or cmd.cla & 0xE0:
            # A plain command inside a session is an SM error: abort, as 9303-11 §9.8 says.
            self._end_session()
            return _r(SW_SM_DATA_INCORRECT)
        if extended and not self.options.extended_length:
            return self._sm_outer_error(SW_WRONG_LENGTH)
        try:
            inner = sm.unprotect_command(cmd)
        except SecureMessagingError:
            self._end_session()
            return _r(SW_SM_DATA_INCORRECT)
        outer_ne = cmd.ne or (EXT_MAX_NE if extended else SHORT_MAX_NE)
        try:
            capacity = sm.max_plain_response(outer_ne + 2)
        except APDUError:
            capacity = 0
        resp = self._dispatch(inner, capacity)
        if self._state.sm is not sm:
            # The command replaced the session (Chip Authentication): reply under the old keys.
            return sm.protect_response(resp, odd_ins=bool(inner.ins & 1))
        if self._is_ordinary_error(resp) and self.options.plain_errors:
            return sm.unprotected_reply(resp.sw)
        return sm.protect_response(resp, odd_ins=bool(inner.ins & 1))

    @staticmethod
    def _is_ordinary_error(resp: ResponseAPDU) -> bool:
        return (
            not resp.data
            and resp.sw1 in _ORDINARY_ERROR_SW1
            and resp.sw not in (0x6987, SW_SM_DATA_INCORRECT)
        )

    def _sm_outer_error(self, sw: int) -> ResponseAPDU:
        """An error found before the command could be unprotected, while the session stays up.

        The command still counts in the SSC (as if unprotected), then the
        reply is protected or, with ``plain_errors``, bare.
        """
        sm = self._state.sm
        assert sm is not None
        sm.ssc = (sm.ssc + 1) % (1 << (8 * sm.block_size))
        if self.options.plain_errors:
            return sm.unprotected_reply(sw)
        return sm.protect_response(_r(sw))

    def _end_session(self) -> None:
        """Drop the SM session and the access rights it carried (9303-11 §9.8.6.1)."""
        self._state.sm = None
        self._state.access = None
        self._state.ca_done = False
        self._state.ca_pending = False

    # ---- dispatch -----------------------------------------------------------------------

    def _dispatch(self, cmd: CommandAPDU, capacity: int) -> ResponseAPDU:
        """Run a plain (or unprotected) command. ``capacity``: SM reply limit, 0 = none."""
        handler = self._handlers.get(cmd.ins)
        if handler is None:
            return _r(SW_INS_NOT_SUPPORTED)
        if cmd.cla & ~CLA_CHAINING & 0xFF:
            return _r(SW_CLA_NOT_SUPPORTED)
        if cmd.cla & CLA_CHAINING and cmd.ins != INS_GENERAL_AUTHENTICATE:
            return _r(SW_CHAINING_NOT_SUPPORTED)
        return handler(cmd, capacity)

    # ---- SELECT -------------------------------------------------------------------------

    def _select(self, cmd: CommandAPDU, capacity: int) -> ResponseAPDU:
        p1, p2 = cmd.p1, cmd.p2
        if p1 == 0x00:
            # CCCD chips answer "instruction not supported" to SELECT MF / by FID with P1=00.
            return _r(SW_INS_NOT_SUPPORTED)
        if p2 not in (P2_NO_FCI, 0x00, 0x04):
            return _r(SW_WRONG_P1P2)
        if p1 == 0x04:
            if not cmd.data:
                return _r(SW_WRONG_LENGTH)
            if cmd.data != EMRTD_AID:
                return _r(SW_FILE_NOT_FOUND)
            self._state.app_selected = True
            self._state.current_ef = None
            if p2 == P2_NO_FCI:
                return _r(SW_OK)
            return _r(SW_OK, tlv.encode(0x6F, tlv.encode(0x84, EMRTD_AID)))
        if p1 != 0x02:
            return _r(SW_WRONG_P1P2)
        if len(cmd.data) != 2:
            return _r(SW_WRONG_LENGTH)
        fid = int.from_bytes(cmd.data, "big")
        files = self._visible_files()
        if fid not in files:
            return _r(SW_FILE_NOT_FOUND)
        self._state.current_ef = fid
        if p2 == P2_NO_FCI:
            return _r(SW_OK)
        fcp = tlv.encode(
            0x62,
            tlv.encode(0x80, len(files[fid]).to_bytes(2, "big"))
            + tlv.encode(0x82, b"\x01")
            + tlv.encode(0x83, cmd.data),
        )
        return _r(SW_OK, fcp)

    def _visible_files(self) -> dict[int, bytes]:
        return self._app_files if self._state.app_selected else self._mf_files

    def _fid_for_sfi(self, sfi: int) -> int | None:
        if self._state.app_selected:
            if sfi == EF_COM.sfi:
                return EF_COM.fid
            if sfi == EF_SOD.sfi:
                return EF_SOD.fid
            info = DATA_GROUPS.get(sfi)
            if info is not None and info.fid in self._app_files:
                return info.fid
            return None
        if sfi == EF_CARD_ACCESS.sfi and EF_CARD_ACCESS.fid in self._mf_files:
            return EF_CARD_ACCESS.fid
        return None

    # ---- READ BINARY --------------------------------------------------------------------

    def _read_binary(self, cmd: CommandAPDU, capacity: int) -> ResponseAPDU:
        if cmd.data:
            return _r(SW_WRONG_LENGTH)
        if cmd.p1 & 0x80:
            if cmd.p1 & 0x60:
                return _r(SW_WRONG_P1P2)
            fid = self._fid_for_sfi(cmd.p1 & 0x1F)
            if fid is None:
                return _r(SW_FILE_NOT_FOUND)
            self._state.current_ef = fid
            offset = cmd.p2
        else:
            if self._state.current_ef is None:
                return _r(SW_COMMAND_NOT_ALLOWED_NO_EF)
            fid = self._state.current_ef
            offset = (cmd.p1 << 8) | cmd.p2
        return self._read(fid, offset, cmd.ne, capacity, odd=False)

    def _read_binary_odd(self, cmd: CommandAPDU, capacity: int) -> ResponseAPDU:
        ref = (cmd.p1 << 8) | cmd.p2
        if ref == 0:
            if self._state.current_ef is None:
                return _r(SW_COMMAND_NOT_ALLOWED_NO_EF)
            fid: int | None = self._state.current_ef
        elif ref <= 0x1E:
            fid = self._fid_for_sfi(ref)
        else:
            fid = ref if ref in self._visible_files() else None
        if fid is None:
            return _r(SW_FILE_NOT_FOUND)
        if not cmd.data:
            return _r(SW_WRONG_LENGTH)
        try:
            do54 = tlv.decode(cmd.data)
        except TLVError:
            return _r(SW_WRONG_DATA)
        if do54.tag != 0x54 or not 1 <= len(do54.value) <= 4:
            return _r(SW_WRONG_DATA)
        self._state.current_ef = fid
        return self._read(fid, int.from_bytes(do54.value, "big"), cmd.ne, capacity, odd=True)

    def _read(
        self, fid: int, offset: int, ne: int | None, capacity: int, *, odd: bool
    ) -> ResponseAPDU:
        """READ BINARY of ``fid`` at ``offset``; ``odd``: wrap the data in DO'53'."""
        if ne is None:
            return _r(SW_WRONG_LENGTH)
        if fid in self._app_files:
            if self._state.access is None:
                return _r(SW_SECURITY_STATUS_NOT_SATISFIED)
            dg = fid - 0x0100 if 0x0101 <= fid <= 0x0110 else None
            if dg in self.files.protected:
                return _r(SW_SECURITY_STATUS_NOT_SATISFIED)
            content = self._app_files[fid]
        else:
            content = self._mf_files[fid]
        if offset >= len(content):
            return _r(SW_WRONG_P1P2_OFFSET)
        remaining = len(content) - offset

        def reply_len(n: int) -> int:
            return 1 + len(tlv.encode_length(n)) + n if odd else n

        def fitting(limit: int) -> int:
            """Most data bytes whose reply fits ``limit`` bytes."""
            n = min(remaining, limit)
            while n > 0 and reply_len(n) > limit:
                n -= 1
            return n

        limit = self.options.max_read
        if limit is not None and ne > limit:
            return self._length_error(reply_len(fitting(limit)))
        n = fitting(ne)
        if n == 0:
            return _r(SW_WRONG_LENGTH)
        if capacity and reply_len(n) > capacity:
            return self._length_error(reply_len(fitting(capacity)))
        data = content[offset : offset + n]
        if odd:
            data = tlv.encode(0x53, data)
        short = len(data) < ne and offset + n == len(content)
        return _r(SW_END_OF_FILE_WARNING if short else SW_OK, data)

    def _length_error(self, exact: int) -> ResponseAPDU:
        """``6Cxx`` naming the Ne that works (``xx`` = 00 for 256), or ``6700``."""
        if self.options.max_read_sw == 0x6C00 and 0 < exact <= SHORT_MAX_NE:
            return _r(0x6C00 | (exact & 0xFF))
        return _r(SW_WRONG_LENGTH)

    # ---- BAC ----------------------------------------------------------------------------

    def _bac_chip(self) -> object:
        if self._bac is None:
            from simulators.card.bac import BacChip

            self._bac = BacChip.from_mrz_information(self.files.mrz_info, self.rng)
        return self._bac

    def _get_challenge(self, cmd: CommandAPDU, capacity: int) -> ResponseAPDU:
        if cmd.p1 or cmd.p2:
            return _r(SW_WRONG_P1P2)
        if cmd.data or cmd.ne != 8:
            return _r(SW_WRONG_LENGTH)
        from simulators.card.bac import BacChip

        bac = self._bac_chip()
        assert isinstance(bac, BacChip)
        return _r(SW_OK, bac.get_challenge())

    def _mutual_authenticate(self, cmd: CommandAPDU, capacity: int) -> ResponseAPDU:
        from simulators.card.bac import BacChip

        if self.options.mode == "pace":
            return _r(self.options.bac_refused_sw)
        if cmd.p1 or cmd.p2:
            return _r(SW_WRONG_P1P2)
        if len(cmd.data) != 40 or cmd.ne not in (40, SHORT_MAX_NE):
            return _r(SW_WRONG_LENGTH)
        if self._state.sm is not None:
            return _r(SW_CONDITIONS_NOT_SATISFIED)
        bac = self._bac_chip()
        assert isinstance(bac, BacChip)
        try:
            reply, sm = bac.mutual_authenticate(cmd.data)
        except AccessDenied:
            self.failed_access += 1
            return _r(SW_VERIFICATION_FAILED)
        except EmrtdError:
            return _r(SW_CONDITIONS_NOT_SATISFIED)
        self._state.sm = sm
        self._state.access = "bac"
        return _r(SW_OK, reply)

    # ---- PACE and Chip Authentication ---------------------------------------------------

    def _pace_chip(self) -> object:
        if self._pace is None:
            from kiosk.emrtd.pace import PacePassword
            from simulators.card.pace import PaceChip

            info = self.files.pace_info
            assert info is not None
            passwords = {
                2: PacePassword.from_can(self.files.can).secret,
                1: PacePassword.from_mrz(self.files.mrz_info).secret,
            }
            ca = self.files.ca_private_key
            ca_key = ca.private_numbers().private_value if ca is not None else None
            # PACE-CAM signs with files.ca_private_key: the CA-mismatch fault reaches it too.
            self._pace = PaceChip(passwords, info, rng=self.rng, ca_key=ca_key)
        return self._pace

    def _pace_available(self) -> bool:
        return self.options.mode != "bac" and self.files.pace_info is not None

    def _mse(self, cmd: CommandAPDU, capacity: int) -> ResponseAPDU:
        p1p2 = (cmd.p1 << 8) | cmd.p2
        if p1p2 == MSE_PACE:
            if not self._pace_available():
                return _r(SW_INS_NOT_SUPPORTED)
            if self._state.sm is not None:
                return _r(SW_CONDITIONS_NOT_SATISFIED)
            from simulators.card.pace import PaceChip

            pace = self._pace_chip()
            assert isinstance(pace, PaceChip)
            return _r(pace.mse_set_at(cmd.data))
        if p1p2 in (MSE_CA_AT, MSE_CA_KAT):
            return self._mse_ca(cmd, p1p2)
        return _r(SW_WRONG_P1P2)

    def _general_authenticate(self, cmd: CommandAPDU, capacity: int) -> ResponseAPDU:
        if cmd.p1 or cmd.p2:
            return _r(SW_WRONG_P1P2)
        if self._state.sm is not None:
            return self._general_authenticate_ca(cmd)
        if not self._pace_available():
            return _r(SW_INS_NOT_SUPPORTED)
        from simulators.card.pace import PaceChip

        pace = self._pace_chip()
        assert isinstance(pace, PaceChip)
        data, sw, sm = pace.general_authenticate(cmd.cla, cmd.data)
        if sw >> 8 == 0x63:
            self.failed_access += 1
        if sm is not None and sw == SW_OK:
            self._state.sm = sm
            self._state.access = "pace"
            self._state.ca_done = False
        return _r(sw, data)

    def _ca_key(self) -> ec.EllipticCurvePrivateKey | dh.DHPrivateKey | None:
        """The CA private key the chip computes with (a DH key, when set, wins)."""
        return self.files.ca_dh_private_key or self.files.ca_private_key

    def _mse_ca(self, cmd: CommandAPDU, p1p2: int) -> ResponseAPDU:
        """MSE:Set AT (CA with AES, then GA) or MSE:Set KAT (CA with 3DES, key in DO'91').

        ICAO 9303-11 §6.2.4. 6A80: unknown protocol OID or a bad ephemeral
        key; 6A88: a key id (DO'84') the chip does not have. The chip is
        lenient where real chips differ: KAT is also accepted with AES.
        """
        if self._state.sm is None or self._ca_key() is None:
            return _r(SW_CONDITIONS_NOT_SATISFIED)
        try:
            objs = {o.tag: o.value for o in tlv.decode_all(cmd.data)}
        except TLVError:
            return _r(SW_WRONG_DATA)
        ref = objs.get(0x84)
        key_id = self.files.ca_key_id
        if ref is not None and key_id is not None and int.from_bytes(ref, "big") != key_id:
            return _r(SW_REFERENCE_NOT_FOUND)
        if p1p2 == MSE_CA_AT:
            oid = objs.get(0x80)
            if oid is None:
                return _r(SW_WRONG_DATA)
            if self.files.ca_protocol is not None:
                from kiosk.emrtd.pace import encode_oid

                if oid != encode_oid(self.files.ca_protocol):
                    return _r(SW_WRONG_DATA)
            self._state.ca_pending = True
            return _r(SW_OK)
        key = objs.get(0x91)
        if key is None:
            return _r(SW_WRONG_DATA)
        return self._do_ca(key)

    def _general_authenticate_ca(self, cmd: CommandAPDU) -> ResponseAPDU:
        if not self._state.ca_pending:
            return _r(SW_CONDITIONS_NOT_SATISFIED)
        self._state.ca_pending = False
        try:
            outer = tlv.decode(cmd.data)
            key = outer.require(0x80).value if outer.tag == 0x7C else None
        except TLVError:
            return _r(SW_WRONG_DATA)
        if key is None:
            return _r(SW_WRONG_DATA)
        resp = self._do_ca(key)
        if resp.sw == SW_OK:
            return _r(SW_OK, tlv.encode(0x7C, b""))
        return resp

    def _do_ca(self, ephemeral: bytes) -> ResponseAPDU:
        """Key agreement with the terminal's ephemeral key; new session keys, SSC 0 (9303-11 §6.2).

        The reply to this command still goes out under the old keys (see
        :meth:`_process_protected`); everything after uses the new session.
        """
        priv = self._ca_key()
        assert priv is not None
        try:
            if isinstance(priv, ec.EllipticCurvePrivateKey):
                peer = ec.EllipticCurvePublicKey.from_encoded_point(priv.curve, ephemeral)
                shared = priv.exchange(ec.ECDH(), peer)
            else:
                with warnings.catch_warnings():  # cryptography deprecates FFDH
                    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
                    numbers = priv.parameters().parameter_numbers()
                    y = int.from_bytes(ephemeral, "big")
                    if not 1 < y < numbers.p - 1:
                        return _r(SW_WRONG_DATA)
                    size = (numbers.p.bit_length() + 7) // 8
                    peer_dh = dh.DHPublicNumbers(y, numbers).public_key()
                    shared = priv.exchange(peer_dh).rjust(size, b"\x00")
        except ValueError:
            return _r(SW_WRONG_DATA)
        kind, bits = _ca_cipher(self.files.ca_protocol)
        new = SecureMessaging(
            kind, kdf(shared, KDF_ENC, kind, bits), kdf(shared, KDF_MAC, kind, bits), 0
        )
        self._state.sm = new
        self._state.ca_done = True
        self._state.ca_pending = False
        return _r(SW_OK)

    # ---- Active Authentication ----------------------------------------------------------

    def _internal_authenticate(self, cmd: CommandAPDU, capacity: int) -> ResponseAPDU:
        if cmd.p1 or cmd.p2:
            return _r(SW_WRONG_P1P2)
        if self._state.access is None:
            return _r(SW_SECURITY_STATUS_NOT_SATISFIED)
        key = self.files.aa_private_key
        if key is None:
            return _r(SW_INS_NOT_SUPPORTED)
        if len(cmd.data) != 8 or cmd.ne is None:
            return _r(SW_WRONG_LENGTH)
        # The key is files.aa_private_key: a fault (cloned chip) swaps it for one DG15 lacks.
        if isinstance(key, rsa.RSAPrivateKey):
            sig = aa_sign_rsa(key, cmd.data, self.rng, self.files.aa_rsa_hash)
        else:
            sig = aa_sign_ec(key, cmd.data, _aa_ec_hash(self.files.dgs.get(14)))
        # A protected RSA-2048 reply is longer than a short Le: _process sends it in pieces.
        if cmd.ne < len(sig) and cmd.ne != SHORT_MAX_NE:
            return self._length_error(len(sig))
        return _r(SW_OK, sig)


def _ca_cipher(protocol: str | None) -> tuple[Cipherkind, int]:
    """Cipher and key size named by the last arc of an id-CA-* OID (AES-128 by default)."""
    suffix = int(protocol.rsplit(".", 1)[1]) if protocol else 2
    if suffix == SUFFIX_3DES:
        return Cipherkind.DES3, 128
    return Cipherkind.AES, {SUFFIX_AES192: 192, SUFFIX_AES256: 256}.get(suffix, 128)


def aa_sign_rsa(
    key: rsa.RSAPrivateKey, nonce: bytes, rng: Rng = os.urandom, hash_name: str = "sha1"
) -> bytes:
    """Active Authentication with RSA: ISO/IEC 9796-2 digital signature scheme 1.

    The message is ``M1 || nonce`` with ``M1`` chip-chosen random bytes
    filling the recoverable part (ISO/IEC 9796-2 B.6, header ``6A``); the
    representative ``6A || M1 || H(M1 || nonce) || trailer`` (``BC`` for SHA-1,
    ``34CC`` etc. otherwise) is raised to the private exponent (ICAO 9303-11 §6.1).
    """
    numbers = key.private_numbers()
    n = numbers.public_numbers.n
    m1 = bytes(rng(iso9796.capacity(n, hash_name)))
    return iso9796.sign(numbers.d, n, m1, nonce, hash_name)


def aa_sign_ec(
    key: ec.EllipticCurvePrivateKey, nonce: bytes, algorithm: hashes.HashAlgorithm | None = None
) -> bytes:
    """Active Authentication with ECDSA (SHA-256 by default), plain ``r || s`` (BSI TR-03111)."""
    der = key.sign(nonce, ec.ECDSA(algorithm or hashes.SHA256()))
    r, s = decode_dss_signature(der)
    size = (key.curve.key_size + 7) // 8
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def _aa_ec_hash(dg14: bytes | None) -> hashes.HashAlgorithm:
    """The hash DG14's ActiveAuthenticationInfo names; SHA-256 when DG14 has none or is junk."""
    from kiosk.emrtd.aa import _ECDSA_HASHES
    from kiosk.emrtd.lds import dg14 as dg14_mod

    if dg14 is None:
        return hashes.SHA256()
    try:
        info = dg14_mod.parse(dg14).aa_info
    except EmrtdError:
        return hashes.SHA256()
    if info is None:
        return hashes.SHA256()
    return _ECDSA_HASHES.get(info.signature_algorithm, hashes.SHA256())
