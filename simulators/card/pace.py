"""PACE over ECDH (generic, integrated and chip authentication mapping) — the chip side.

The chip dispatcher hands over MSE:Set AT and GENERAL AUTHENTICATE data; this
class runs the ICAO 9303-11 §4.4 state machine and answers with the data and
status word a chip would send. It reuses the step functions of
:mod:`kiosk.emrtd.pace`; the ICAO appendix G.1 test pins this side's nonce
and keys and checks its replies byte for byte, so a bug shared with the
reader cannot hide.

Integrated mapping: GA 2 carries the reader's nonce ``t`` (``81``) and the
chip answers an empty ``82``; both sides map with
:func:`kiosk.emrtd.pace.integrated_map`. Chip authentication mapping: as GM,
and the last reply adds ``8A`` = ``E(KS_enc, CA_IC)`` with
``CA_IC = SK_IC⁻¹ · SK_map,IC mod n`` computed from ``ca_key`` — the chip's
static Chip Authentication private scalar (``files.ca_private_key`` in the
simulator, so the CA key-mismatch fault breaks PACE-CAM too).

Status words: 9000 success; 6A80 unknown OID / password reference or
malformed data; 6985 a command out of sequence (no MSE:Set AT, wrong chaining);
6300 a reader token that does not verify (wrong password), which also bumps
:attr:`PaceChip.failed_attempts`. Any failure resets the protocol: the reader
must start again with MSE:Set AT.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable
from enum import IntEnum
from typing import TYPE_CHECKING

from kiosk.emrtd import ec, pace, tlv
from kiosk.emrtd.apdu import (
    SW_CONDITIONS_NOT_SATISFIED,
    SW_OK,
    SW_VERIFICATION_FAILED,
    SW_WRONG_DATA,
)
from kiosk.emrtd.errors import EmrtdError
from kiosk.emrtd.security_infos import PACEInfo

if TYPE_CHECKING:
    from kiosk.emrtd.sm import SecureMessaging


class _Step(IntEnum):
    IDLE = 0  # no MSE:Set AT yet (or the last run failed / finished)
    READY = 1  # MSE:Set AT done, expecting GA 1
    NONCE_SENT = 2  # expecting GA 2 (mapping)
    MAPPED = 3  # expecting GA 3 (key agreement)
    AGREED = 4  # expecting GA 4 (tokens)


class PaceChip:
    """The chip's PACE-GM (ECDH) state machine.

    ``passwords`` maps a password reference (1 MRZ, 2 CAN) to its secret as in
    :class:`kiosk.emrtd.pace.PacePassword`. ``ephemeral_keys = (SK_map,IC, SK_DH,IC)``
    pins the chip's private keys (worked examples); the nonce always comes from ``rng``.
    ``ca_key`` is the static CA private scalar PACE-CAM needs (ValueError without it).
    """

    def __init__(
        self,
        passwords: dict[int, bytes],
        info: PACEInfo,
        rng: Callable[[int], bytes] = os.urandom,
        *,
        ephemeral_keys: tuple[int, int] | None = None,
        ca_key: int | None = None,
    ) -> None:
        self.passwords = dict(passwords)
        self.info = info
        self.suite = pace.suite_for(info)
        if self.suite.mapping == pace.MAPPING_CAM and not ca_key:
            raise ValueError("PACE-CAM needs the chip's Chip Authentication private key")
        self.ca_key = ca_key
        self.rng = rng
        self.ephemeral_keys = ephemeral_keys
        #: Number of runs that ended with a reader token that did not verify.
        self.failed_attempts = 0
        #: Password reference of the last successful run (None before one).
        self.authenticated_ref: int | None = None
        self._reset()

    def _reset(self) -> None:
        self._step = _Step.IDLE
        self._ref: int | None = None
        self._s = b""
        self._map_key: ec.KeyPair | None = None
        self._dh_key: ec.KeyPair | None = None
        self._pk_pcd = b""
        self._ks_enc = b""
        self._ks_mac = b""

    def mse_set_at(self, data: bytes) -> int:
        """MSE:Set AT (P1P2 C1A4): select the protocol and the password. Returns the SW."""
        self._reset()
        try:
            objs = {o.tag: o.value for o in tlv.decode_all(data, max_depth=1, max_length=256)}
        except EmrtdError:
            return SW_WRONG_DATA
        oid, ref = objs.get(0x80), objs.get(0x83)
        if oid != self.suite.oid_bytes or ref is None or len(ref) != 1:
            return SW_WRONG_DATA
        if ref[0] not in self.passwords:
            return SW_WRONG_DATA
        pid = objs.get(0x84)
        if pid is not None and pid != bytes([self.suite.parameter_id]):
            return SW_WRONG_DATA
        self._ref = ref[0]
        self._step = _Step.READY
        return SW_OK

    def general_authenticate(
        self, cla: int, data: bytes
    ) -> tuple[bytes, int, SecureMessaging | None]:
        """One GENERAL AUTHENTICATE: ``(response data, SW, chip SM once step 4 succeeded)``."""
        step = self._step
        if step is _Step.IDLE:
            return b"", SW_CONDITIONS_NOT_SATISFIED, None
        chained = bool(cla & pace.CLA_CHAINING)
        if chained != (step is not _Step.AGREED):
            self._reset()
            return b"", SW_CONDITIONS_NOT_SATISFIED, None
        try:
            if step is _Step.READY:
                return self._nonce(data), SW_OK, None
            if step is _Step.NONCE_SENT:
                return self._mapping(data), SW_OK, None
            if step is _Step.MAPPED:
                return self._agreement(data), SW_OK, None
            return self._tokens(data)
        except EmrtdError:
            self._reset()
            return b"", SW_WRONG_DATA, None

    # ----------------------------------------------------------------- steps

    def _nonce(self, data: bytes) -> bytes:
        if data != pace.encode_dad():
            raise EmrtdError("GA 1 must carry an empty 7C")
        suite = self.suite
        assert self._ref is not None
        k_pi = pace.PacePassword(self._ref, self.passwords[self._ref]).key(
            suite.kind, suite.key_bits
        )
        self._s = self.rng(suite.nonce_length)
        z = pace.encrypt_nonce(suite.kind, k_pi, self._s)
        self._step = _Step.NONCE_SENT
        return pace.encode_dad(pace.TAG_ENCRYPTED_NONCE, z)

    def _scalar(self, index: int) -> int:
        if self.ephemeral_keys is not None:
            return self.ephemeral_keys[index]
        return ec.random_scalar(self.suite.curve, self.rng)

    def _mapping(self, data: bytes) -> bytes:
        curve = self.suite.curve
        if self.suite.mapping == pace.MAPPING_IM:
            t = pace.parse_dad(data, pace.TAG_MAP_PCD)
            if len(t) != self.suite.key_length:
                raise EmrtdError(f"PACE-IM nonce t of {len(t)} bytes")
            g_mapped = pace.integrated_map(self.suite, self._s, t)
            self._dh_key = ec.KeyPair(curve, self._scalar(1), g_mapped)
            self._step = _Step.MAPPED
            return pace.encode_dad(pace.TAG_MAP_IC, b"")
        pk_map_pcd = ec.decode_point(curve, pace.parse_dad(data, pace.TAG_MAP_PCD))
        self._map_key = ec.KeyPair(curve, self._scalar(0))
        g_mapped = pace.map_generator(curve, self._s, self._map_key.multiply(pk_map_pcd))
        self._dh_key = ec.KeyPair(curve, self._scalar(1), g_mapped)
        self._step = _Step.MAPPED
        return pace.encode_dad(pace.TAG_MAP_IC, ec.encode_point(curve, self._map_key.public))

    def _agreement(self, data: bytes) -> bytes:
        suite = self.suite
        curve = suite.curve
        assert self._dh_key is not None
        pk_pcd = ec.decode_point(curve, pace.parse_dad(data, pace.TAG_EPH_PCD))
        if pk_pcd == self._dh_key.public:
            raise EmrtdError("reader's ephemeral key equals the chip's")
        self._pk_pcd = ec.encode_point(curve, pk_pcd)
        self._ks_enc, self._ks_mac = pace.derive_session_keys(
            suite.kind, suite.key_bits, self._dh_key.shared_x(pk_pcd)
        )
        self._step = _Step.AGREED
        return pace.encode_dad(pace.TAG_EPH_IC, ec.encode_point(curve, self._dh_key.public))

    def _tokens(self, data: bytes) -> tuple[bytes, int, SecureMessaging | None]:
        from kiosk.emrtd.sm import SecureMessaging

        suite = self.suite
        assert self._dh_key is not None
        t_pcd = pace.parse_dad(data, pace.TAG_TOKEN_PCD)
        pk_ic = ec.encode_point(suite.curve, self._dh_key.public)
        expected = pace.authentication_token(suite.kind, self._ks_mac, suite.oid_bytes, pk_ic)
        if not hmac.compare_digest(t_pcd, expected):
            self.failed_attempts += 1
            self._reset()
            return b"", SW_VERIFICATION_FAILED, None
        t_ic = pace.authentication_token(suite.kind, self._ks_mac, suite.oid_bytes, self._pk_pcd)
        body = tlv.encode(pace.TAG_TOKEN_IC, t_ic)
        if suite.mapping == pace.MAPPING_CAM:
            body += tlv.encode(pace.TAG_ENCRYPTED_CA_DATA, self._chip_auth_data())
        sm = SecureMessaging(suite.kind, self._ks_enc, self._ks_mac, ssc=0)
        self.authenticated_ref = self._ref
        self._reset()
        return tlv.encode(pace.TAG_DAD, body), SW_OK, sm

    def _chip_auth_data(self) -> bytes:
        """``A_IC = E(KS_enc, FE2OS(SK_IC⁻¹ · SK_map,IC mod n))`` (ICAO 9303-11 §4.4.3.5)."""
        assert self._map_key is not None and self.ca_key
        n = self.suite.curve.n
        ca_ic = (pow(self.ca_key, -1, n) * self._map_key.private) % n
        return pace.encrypt_chip_auth_data(self._ks_enc, ca_ic.to_bytes((n.bit_length() + 7) // 8))
