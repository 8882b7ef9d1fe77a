"""SecurityInfo records (ICAO 9303-11 §9.2) shared by EF.CardAccess and DG14.

The dataclasses live here so protocol code (PACE, CA) and parsers agree on
one shape. Parsing and encoding of the SET OF SecurityInfos is done by
:mod:`kiosk.emrtd.lds.card_access` and :mod:`kiosk.emrtd.lds.dg14`.
OIDs are dotted strings.
"""

from __future__ import annotations

from dataclasses import dataclass

# Object identifiers (BSI TR-03110 / ICAO 9303-11).
ID_BSI = "0.4.0.127.0.7"
ID_PK = ID_BSI + ".2.2.1"  # id-PK (ChipAuthenticationPublicKeyInfo)
ID_PK_DH = ID_PK + ".1"
ID_PK_ECDH = ID_PK + ".2"
ID_TA = ID_BSI + ".2.2.2"
ID_CA = ID_BSI + ".2.2.3"
ID_CA_DH = ID_CA + ".1"
ID_CA_ECDH = ID_CA + ".2"
ID_PACE = ID_BSI + ".2.2.4"
ID_PACE_DH_GM = ID_PACE + ".1"
ID_PACE_ECDH_GM = ID_PACE + ".2"
ID_PACE_DH_IM = ID_PACE + ".3"
ID_PACE_ECDH_IM = ID_PACE + ".4"
ID_PACE_ECDH_CAM = ID_PACE + ".6"
ID_AA = "2.23.136.1.1.5"  # ActiveAuthenticationInfo
# Symmetric suffixes under id-PACE-*/id-CA-*: .1 3DES, .2 AES-CMAC-128, .3 -192, .4 -256.
SUFFIX_3DES = 1
SUFFIX_AES128 = 2
SUFFIX_AES192 = 3
SUFFIX_AES256 = 4


@dataclass(frozen=True)
class PACEInfo:
    """PACEInfo: protocol OID (e.g. id-PACE-ECDH-GM-AES-CBC-CMAC-128), version, parameter id."""

    protocol: str
    version: int
    parameter_id: int | None = None


@dataclass(frozen=True)
class PACEDomainParameterInfo:
    """Explicit PACE domain parameters (rare on real cards); kept as DER."""

    protocol: str
    parameters_der: bytes
    parameter_id: int | None = None


@dataclass(frozen=True)
class ChipAuthenticationInfo:
    """ChipAuthenticationInfo: protocol OID, version, optional key id."""

    protocol: str
    version: int
    key_id: int | None = None


@dataclass(frozen=True)
class ChipAuthenticationPublicKeyInfo:
    """ChipAuthenticationPublicKeyInfo: the chip's static CA key as SubjectPublicKeyInfo DER."""

    protocol: str
    public_key_der: bytes
    key_id: int | None = None


@dataclass(frozen=True)
class TerminalAuthenticationInfo:
    """TerminalAuthenticationInfo (EAC); only recorded, the kiosk does not run TA."""

    protocol: str
    version: int


@dataclass(frozen=True)
class ActiveAuthenticationInfo:
    """ActiveAuthenticationInfo (in DG14): the signature algorithm for ECDSA AA."""

    protocol: str
    version: int
    signature_algorithm: str


@dataclass(frozen=True)
class UnknownSecurityInfo:
    """A SecurityInfo whose OID we do not interpret, kept as DER so nothing is lost."""

    protocol: str
    der: bytes


SecurityInfo = (
    PACEInfo
    | PACEDomainParameterInfo
    | ChipAuthenticationInfo
    | ChipAuthenticationPublicKeyInfo
    | TerminalAuthenticationInfo
    | ActiveAuthenticationInfo
    | UnknownSecurityInfo
)
