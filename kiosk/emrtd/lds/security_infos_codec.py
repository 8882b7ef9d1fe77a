"""DER codec for ``SecurityInfos`` (ICAO 9303-11 §9.2), used by EF.CardAccess and DG14.

``SecurityInfos ::= SET OF SecurityInfo`` and every ``SecurityInfo`` is
``SEQUENCE { protocol OBJECT IDENTIFIER, requiredData ANY, optionalData ANY OPTIONAL }``.
The protocol OID decides the concrete type (dataclasses in
:mod:`kiosk.emrtd.security_infos`):

===========================================  ====================================
protocol                                     type
===========================================  ====================================
id-PACE-<alg>-<cipher> (two arcs under it)   PACEInfo
id-PACE-<alg> (one arc)                      PACEDomainParameterInfo
id-CA-<alg>-<cipher> (two arcs)              ChipAuthenticationInfo
id-PK-DH, id-PK-ECDH                         ChipAuthenticationPublicKeyInfo
id-TA                                        TerminalAuthenticationInfo
id-AA (2.23.136.1.1.5)                       ActiveAuthenticationInfo
anything else (CA domain parameters, EFDIR)  UnknownSecurityInfo (DER kept)
===========================================  ====================================

A record with a known OID but the wrong shape is an :class:`LDSParseError`: the
protocol code must not guess. The order of the SET is preserved both ways so
that a file re-encodes to what was read (chips do not always DER-sort it).
Not modelled, hence dropped on re-encoding: the optional ``efCVCA`` of a
TerminalAuthenticationInfo (the kiosk does not run TA).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from asn1crypto import core

from kiosk.emrtd import tlv
from kiosk.emrtd.errors import LDSParseError
from kiosk.emrtd.lds._common import ASN1_ERRORS, children
from kiosk.emrtd.security_infos import (
    ID_AA,
    ID_CA,
    ID_PACE,
    ID_PK_DH,
    ID_PK_ECDH,
    ID_TA,
    ActiveAuthenticationInfo,
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    PACEDomainParameterInfo,
    PACEInfo,
    SecurityInfo,
    TerminalAuthenticationInfo,
    UnknownSecurityInfo,
)

#: Most SecurityInfo records accepted in one SET (real files carry 1–10).
MAX_SECURITY_INFOS = 256

_SET_TAG = 0x31
#: asn1crypto schema field list.
_Fields = list[tuple[Any, ...]]
_SEQUENCE_TAG = 0x30


class _AnySequence(core.SequenceOf):
    _child_spec = core.Any


class _AlgorithmIdentifier(core.Sequence):
    _fields: ClassVar[_Fields] = [
        ("algorithm", core.ObjectIdentifier),
        ("parameters", core.Any, {"optional": True}),
    ]


class _SubjectPublicKeyInfo(core.Sequence):
    """Shape check only: the key itself is interpreted by CA / DG15 code."""

    _fields: ClassVar[_Fields] = [
        ("algorithm", _AlgorithmIdentifier),
        ("subject_public_key", core.BitString),
    ]


class _PACEInfo(core.Sequence):
    _fields: ClassVar[_Fields] = [
        ("protocol", core.ObjectIdentifier),
        ("version", core.Integer),
        ("parameter_id", core.Integer, {"optional": True}),
    ]


class _PACEDomainParameterInfo(core.Sequence):
    _fields: ClassVar[_Fields] = [
        ("protocol", core.ObjectIdentifier),
        ("domain_parameter", _AlgorithmIdentifier),
        ("parameter_id", core.Integer, {"optional": True}),
    ]


class _ChipAuthenticationInfo(core.Sequence):
    _fields: ClassVar[_Fields] = [
        ("protocol", core.ObjectIdentifier),
        ("version", core.Integer),
        ("key_id", core.Integer, {"optional": True}),
    ]


class _ChipAuthenticationPublicKeyInfo(core.Sequence):
    _fields: ClassVar[_Fields] = [
        ("protocol", core.ObjectIdentifier),
        ("chip_authentication_public_key", _SubjectPublicKeyInfo),
        ("key_id", core.Integer, {"optional": True}),
    ]


class _TerminalAuthenticationInfo(core.Sequence):
    _fields: ClassVar[_Fields] = [
        ("protocol", core.ObjectIdentifier),
        ("version", core.Integer),
        ("ef_cvca", core.Any, {"optional": True}),
    ]


class _ActiveAuthenticationInfo(core.Sequence):
    _fields: ClassVar[_Fields] = [
        ("protocol", core.ObjectIdentifier),
        ("version", core.Integer),
        ("signature_algorithm", core.ObjectIdentifier),
    ]


def _arcs_below(oid: str, parent: str) -> int:
    """How many arcs ``oid`` has below ``parent`` (0 when equal, -1 when not below)."""
    if oid == parent:
        return 0
    if not oid.startswith(parent + "."):
        return -1
    return oid[len(parent) + 1 :].count(".") + 1


def _kind(oid: str) -> str:
    if _arcs_below(oid, ID_PACE) == 2:
        return "pace"
    if _arcs_below(oid, ID_PACE) == 1:
        return "pace-dp"
    if _arcs_below(oid, ID_CA) == 2:
        return "ca"
    if oid in (ID_PK_DH, ID_PK_ECDH):
        return "ca-pk"
    if oid == ID_TA:
        return "ta"
    if oid == ID_AA:
        return "aa"
    return "unknown"


def _opt_int(value: core.Integer | core.Void) -> int | None:
    native = value.native
    return None if native is None else int(native)


_SCHEMAS: dict[str, type[core.Sequence]] = {
    "pace": _PACEInfo,
    "pace-dp": _PACEDomainParameterInfo,
    "ca": _ChipAuthenticationInfo,
    "ca-pk": _ChipAuthenticationPublicKeyInfo,
    "ta": _TerminalAuthenticationInfo,
    "aa": _ActiveAuthenticationInfo,
}


def parse_security_info(der: bytes) -> SecurityInfo:
    """Parse one DER ``SecurityInfo`` into its dataclass (see the module table)."""
    der = bytes(der)
    try:
        generic = _AnySequence.load(der, strict=True)
        if len(generic) < 2:
            raise LDSParseError("SecurityInfo: fewer than two elements")
        protocol = core.ObjectIdentifier.load(generic[0].dump(), strict=True).dotted
        kind = _kind(protocol)
        schema = _SCHEMAS.get(kind)
        if schema is not None and len(generic) > len(schema._fields):
            raise LDSParseError(f"SecurityInfo {protocol}: {len(generic)} elements, too many")
        if kind == "pace":
            p = _PACEInfo.load(der, strict=True)
            return PACEInfo(protocol, int(p["version"].native), _opt_int(p["parameter_id"]))
        if kind == "pace-dp":
            d = _PACEDomainParameterInfo.load(der, strict=True)
            return PACEDomainParameterInfo(
                protocol, d["domain_parameter"].dump(), _opt_int(d["parameter_id"])
            )
        if kind == "ca":
            c = _ChipAuthenticationInfo.load(der, strict=True)
            return ChipAuthenticationInfo(protocol, int(c["version"].native), _opt_int(c["key_id"]))
        if kind == "ca-pk":
            k = _ChipAuthenticationPublicKeyInfo.load(der, strict=True)
            spki = k["chip_authentication_public_key"]
            spki["algorithm"]["algorithm"].dotted  # noqa: B018 - force the lazy parse
            spki["subject_public_key"].native  # noqa: B018
            return ChipAuthenticationPublicKeyInfo(protocol, spki.dump(), _opt_int(k["key_id"]))
        if kind == "ta":
            t = _TerminalAuthenticationInfo.load(der, strict=True)
            return TerminalAuthenticationInfo(protocol, int(t["version"].native))
        if kind == "aa":
            a = _ActiveAuthenticationInfo.load(der, strict=True)
            return ActiveAuthenticationInfo(
                protocol, int(a["version"].native), a["signature_algorithm"].dotted
            )
        return UnknownSecurityInfo(protocol, der)
    except LDSParseError:
        raise
    except ASN1_ERRORS as exc:
        raise LDSParseError(f"SecurityInfo: {exc}") from exc


def _check_der(der: bytes, what: str) -> bytes:
    """Re-load an embedded DER blob so that encode never writes a broken structure."""
    try:
        core.Any.load(der, strict=True)
    except ASN1_ERRORS as exc:
        raise LDSParseError(f"{what}: not one DER object: {exc}") from exc
    return der


def encode_security_info(info: SecurityInfo) -> bytes:
    """DER encoding of one SecurityInfo dataclass."""
    try:
        if isinstance(info, PACEInfo):
            p = _PACEInfo({"protocol": info.protocol, "version": info.version})
            if info.parameter_id is not None:
                p["parameter_id"] = info.parameter_id
            return bytes(p.dump())
        if isinstance(info, PACEDomainParameterInfo):
            d = _PACEDomainParameterInfo(
                {
                    "protocol": info.protocol,
                    "domain_parameter": _AlgorithmIdentifier.load(info.parameters_der, strict=True),
                }
            )
            if info.parameter_id is not None:
                d["parameter_id"] = info.parameter_id
            return bytes(d.dump())
        if isinstance(info, ChipAuthenticationInfo):
            c = _ChipAuthenticationInfo({"protocol": info.protocol, "version": info.version})
            if info.key_id is not None:
                c["key_id"] = info.key_id
            return bytes(c.dump())
        if isinstance(info, ChipAuthenticationPublicKeyInfo):
            k = _ChipAuthenticationPublicKeyInfo(
                {
                    "protocol": info.protocol,
                    "chip_authentication_public_key": _SubjectPublicKeyInfo.load(
                        info.public_key_der, strict=True
                    ),
                }
            )
            if info.key_id is not None:
                k["key_id"] = info.key_id
            return bytes(k.dump())
        if isinstance(info, TerminalAuthenticationInfo):
            t = _TerminalAuthenticationInfo({"protocol": info.protocol, "version": info.version})
            return bytes(t.dump())
        if isinstance(info, ActiveAuthenticationInfo):
            a = _ActiveAuthenticationInfo(
                {
                    "protocol": info.protocol,
                    "version": info.version,
                    "signature_algorithm": info.signature_algorithm,
                }
            )
            return bytes(a.dump())
        if isinstance(info, UnknownSecurityInfo):
            return _check_der(bytes(info.der), "UnknownSecurityInfo")
    except ASN1_ERRORS as exc:
        raise LDSParseError(f"cannot encode {type(info).__name__}: {exc}") from exc
    raise TypeError(f"not a SecurityInfo: {type(info).__name__}")


def parse_security_infos(data: bytes) -> tuple[SecurityInfo, ...]:
    """Parse a DER ``SET OF SecurityInfo`` (exactly one object, no trailing bytes).

    Order is kept as stored. Raises :class:`LDSParseError` on any malformation.
    """
    data = bytes(data)
    items = children(data, 0, len(data), "SecurityInfos", limit=1)
    if len(items) != 1:
        raise LDSParseError("SecurityInfos: expected one SET")
    tag, _, start, end = items[0]
    if tag != _SET_TAG:
        raise LDSParseError(f"SecurityInfos: tag {tag:X}, expected 31 (SET)")
    if end != len(data):
        raise LDSParseError("SecurityInfos: bytes after the SET")
    elements = children(data, start, end, "SecurityInfos", limit=MAX_SECURITY_INFOS)
    infos: list[SecurityInfo] = []
    for el_tag, obj_start, _, el_end in elements:
        if el_tag != _SEQUENCE_TAG:
            raise LDSParseError(f"SecurityInfos: element tag {el_tag:X}, expected 30 (SEQUENCE)")
        infos.append(parse_security_info(data[obj_start:el_end]))
    return tuple(infos)


def encode_security_infos(infos: Iterable[SecurityInfo]) -> bytes:
    """DER ``SET OF SecurityInfo`` in the given order (see the module docstring)."""
    return tlv.encode(_SET_TAG, b"".join(encode_security_info(i) for i in infos))
