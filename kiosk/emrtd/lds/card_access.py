"""EF.CardAccess (ICAO 9303-11 §9.2.1): the SecurityInfos a chip offers before access control.

The file is a bare DER ``SET OF SecurityInfo`` (tag 31), not wrapped in an
application tag; it is read before PACE, so it is the kiosk's first look at
what the chip supports. On a CCCD it holds TerminalAuthenticationInfo v1,
ChipAuthenticationInfo id-CA-ECDH-AES-CBC-CMAC-128 v1 and PACEInfo
id-PACE-ECDH-GM-AES-CBC-CMAC-128 v2 with parameter id 13 (brainpoolP256r1).
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.emrtd.lds._common import outer_object
from kiosk.emrtd.lds.files import EF_CARD_ACCESS
from kiosk.emrtd.lds.security_infos_codec import encode_security_infos, parse_security_infos
from kiosk.emrtd.security_infos import (
    ChipAuthenticationInfo,
    PACEDomainParameterInfo,
    PACEInfo,
    SecurityInfo,
    TerminalAuthenticationInfo,
)

_TAG = 0x31


@dataclass(frozen=True)
class CardAccess:
    """The parsed EF.CardAccess: its SecurityInfo records in file order."""

    security_infos: tuple[SecurityInfo, ...]

    @property
    def pace_infos(self) -> tuple[PACEInfo, ...]:
        """The PACE protocols the chip offers, in file order."""
        return tuple(i for i in self.security_infos if isinstance(i, PACEInfo))

    @property
    def pace_domain_parameter_infos(self) -> tuple[PACEDomainParameterInfo, ...]:
        """Explicit PACE domain parameters (rare; standardized parameter ids are the norm)."""
        return tuple(i for i in self.security_infos if isinstance(i, PACEDomainParameterInfo))

    @property
    def ca_infos(self) -> tuple[ChipAuthenticationInfo, ...]:
        """ChipAuthenticationInfo records (the CA keys themselves are in DG14)."""
        return tuple(i for i in self.security_infos if isinstance(i, ChipAuthenticationInfo))

    @property
    def ta_infos(self) -> tuple[TerminalAuthenticationInfo, ...]:
        """TerminalAuthenticationInfo records (recorded only; the kiosk does not run TA)."""
        return tuple(i for i in self.security_infos if isinstance(i, TerminalAuthenticationInfo))


def parse(data: bytes) -> CardAccess:
    """Parse EF.CardAccess; trailing padding after the SET is ignored.

    Raises :class:`~kiosk.emrtd.errors.LDSParseError` on malformed content.
    """
    data = bytes(data)
    _, end = outer_object(data, _TAG, EF_CARD_ACCESS.name, EF_CARD_ACCESS.max_size)
    return CardAccess(parse_security_infos(data[:end]))


def encode(card_access: CardAccess) -> bytes:
    """EF.CardAccess bytes for the card simulator (SET order as given)."""
    return encode_security_infos(card_access.security_infos)
