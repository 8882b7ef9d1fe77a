"""DG14 (ICAO 9303-10 §4.7.14): SecurityInfos for chip authentication and active authentication.

``6E { SET OF SecurityInfo }``. On a CCCD it carries the chip's static CA key
(ChipAuthenticationPublicKeyInfo, id-PK-ECDH) with its ChipAuthenticationInfo,
and an ActiveAuthenticationInfo when the AA key in DG15 is an EC key. DG14 is
covered by the SOD, so once passive authentication has checked its hash the
CA key here can be trusted.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.emrtd import tlv
from kiosk.emrtd.errors import LDSParseError
from kiosk.emrtd.lds._common import children, outer_object
from kiosk.emrtd.lds.files import DATA_GROUPS
from kiosk.emrtd.lds.security_infos_codec import encode_security_infos, parse_security_infos
from kiosk.emrtd.security_infos import (
    ActiveAuthenticationInfo,
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    PACEInfo,
    SecurityInfo,
    TerminalAuthenticationInfo,
)

_TAG = 0x6E
_INFO = DATA_GROUPS[14]


@dataclass(frozen=True)
class DG14:
    """The parsed DG14: its SecurityInfo records in file order."""

    security_infos: tuple[SecurityInfo, ...]

    @property
    def ca_public_key_infos(self) -> tuple[ChipAuthenticationPublicKeyInfo, ...]:
        """The chip's static Chip Authentication public keys (usually one)."""
        return tuple(
            i for i in self.security_infos if isinstance(i, ChipAuthenticationPublicKeyInfo)
        )

    @property
    def ca_infos(self) -> tuple[ChipAuthenticationInfo, ...]:
        """ChipAuthenticationInfo records: the protocol (cipher) to run CA with."""
        return tuple(i for i in self.security_infos if isinstance(i, ChipAuthenticationInfo))

    @property
    def aa_info(self) -> ActiveAuthenticationInfo | None:
        """The ActiveAuthenticationInfo (signature algorithm for ECDSA AA), if any."""
        for info in self.security_infos:
            if isinstance(info, ActiveAuthenticationInfo):
                return info
        return None

    @property
    def pace_infos(self) -> tuple[PACEInfo, ...]:
        """PACEInfo records repeated in DG14 (some chips list them here too)."""
        return tuple(i for i in self.security_infos if isinstance(i, PACEInfo))

    @property
    def ta_infos(self) -> tuple[TerminalAuthenticationInfo, ...]:
        """TerminalAuthenticationInfo records."""
        return tuple(i for i in self.security_infos if isinstance(i, TerminalAuthenticationInfo))

    def ca_public_key_for(self, ca_info: ChipAuthenticationInfo) -> ChipAuthenticationPublicKeyInfo:
        """The CA public key that goes with ``ca_info`` (same key id, or the only key).

        Raises :class:`LDSParseError` when there is none or the choice is ambiguous.
        """
        keys = self.ca_public_key_infos
        if ca_info.key_id is not None:
            keys = tuple(k for k in keys if k.key_id == ca_info.key_id)
        if len(keys) != 1:
            raise LDSParseError(
                f"DG14: {len(keys)} CA public keys match key id {ca_info.key_id}, expected one"
            )
        return keys[0]


def parse(data: bytes) -> DG14:
    """Parse DG14; trailing padding is ignored. Raises :class:`LDSParseError`."""
    data = bytes(data)
    start, end = outer_object(data, _TAG, _INFO.name, _INFO.max_size)
    if len(children(data, start, end, _INFO.name, limit=1)) != 1:
        raise LDSParseError("DG14: expected one SET of SecurityInfos")
    return DG14(parse_security_infos(data[start:end]))


def encode(dg14: DG14) -> bytes:
    """DG14 bytes for the card simulator (SET order as given)."""
    return tlv.encode(_TAG, encode_security_infos(dg14.security_infos))
