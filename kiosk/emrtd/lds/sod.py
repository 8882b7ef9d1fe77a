"""EF.SOD, the Document Security Object (ICAO 9303-10 §4.6.2, 9303-11 / -12 passive authentication).

``77 { ContentInfo { id-signedData, SignedData } }`` where the SignedData's
encapsulated content (eContentType ``id-icao-mrtd-security-ldsSecurityObject``,
2.23.136.1.1.1) is::

    LDSSecurityObject ::= SEQUENCE {
      version                LDSSecurityObjectVersion,    -- v0, or v1 with ldsVersionInfo
      hashAlgorithm          DigestAlgorithmIdentifier,
      dataGroupHashValues    SEQUENCE SIZE (2..16) OF DataGroupHash,
      ldsVersionInfo         LDSVersionInfo OPTIONAL }
    DataGroupHash ::= SEQUENCE { dataGroupNumber INTEGER (1..16), dataGroupHashValue OCTET STRING }
    LDSVersionInfo ::= SEQUENCE { ldsVersion PrintableString, unicodeVersion PrintableString }

:func:`parse` exposes what passive authentication needs without verifying
anything: the LDSSecurityObject and its exact encoded bytes (the eContent,
whose digest the ``messageDigest`` attribute must equal), the certificates
carried (normally the Document Signer Certificate), and for each SignerInfo
the signer identifier, algorithms, signature and the signed attributes as the
DER ``SET OF`` the signer signed (RFC 5652 §5.4).
:func:`encode` builds a signed EF.SOD for the card simulator.

ICAO asks for DER, real chips send BER (a New Zealand passport's SOD uses
indefinite lengths inside the CMS), so the SOD is read as BER: the capped
walk of :mod:`kiosk.emrtd.tlv` checks lengths, nesting depth and element count
first, then the envelope is split: its plain DER layout (nearly every chip)
with the capped TLV reader, anything else by asn1crypto, which has the last
word (see :func:`parse`; property tests hold both to the same result). What
is hashed is what the signature covers: the eContent's octets as they are (a
chunked OCTET STRING joined), and the signed attributes as received re-tagged
as a SET, or re-encoded as a DER SET (the form CMS signs) when that differs —
for signers that sent or signed a non-canonical order.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any, ClassVar, Literal

from asn1crypto import algos, cms, core, x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from kiosk.emrtd import tlv
from kiosk.emrtd.errors import LDSParseError, TLVError
from kiosk.emrtd.lds._common import ASN1_ERRORS, children, unwrap
from kiosk.emrtd.lds.files import EF_SOD

#: eContentType of the LDSSecurityObject.
ID_LDS_SECURITY_OBJECT = "2.23.136.1.1.1"
_TAG = 0x77
#: Data group numbers allowed in dataGroupHashValues.
DG_NUMBERS = range(1, 17)

_Fields = list[tuple[Any, ...]]
#: A child as :func:`kiosk.emrtd.lds._common.children` gives it.
Kid = tuple[int, int, int, int]


class _DataGroupHash(core.Sequence):
    _fields: ClassVar[_Fields] = [
        ("data_group_number", core.Integer),
        ("data_group_hash_value", core.OctetString),
    ]


class _DataGroupHashes(core.SequenceOf):
    _child_spec = _DataGroupHash


class _LDSVersionInfo(core.Sequence):
    _fields: ClassVar[_Fields] = [
        ("lds_version", core.PrintableString),
        ("unicode_version", core.PrintableString),
    ]


class _LDSSecurityObject(core.Sequence):
    _fields: ClassVar[_Fields] = [
        ("version", core.Integer),
        ("hash_algorithm", algos.DigestAlgorithm),
        ("data_group_hash_values", _DataGroupHashes),
        ("lds_version_info", _LDSVersionInfo, {"optional": True}),
    ]


@dataclass(frozen=True)
class LDSSecurityObject:
    """The signed list of data group hashes.

    ``hash_algorithm`` is a name such as ``"sha256"`` (a dotted OID when
    unknown); ``dg_hashes`` is ``((dg number, hash), ...)`` in file order;
    ``lds_version`` is ``(ldsVersion, unicodeVersion)`` such as ``("0108",
    "040000")`` for a v1 object, else None.
    """

    version: int
    hash_algorithm: str
    dg_hashes: tuple[tuple[int, bytes], ...]
    lds_version: tuple[str, str] | None = None

    @property
    def data_groups(self) -> tuple[int, ...]:
        """The data group numbers the SOD covers, in file order."""
        return tuple(n for n, _ in self.dg_hashes)

    def hash_for(self, dg: int) -> bytes | None:
        """The stored hash of data group ``dg``, or None when the SOD does not list it."""
        for n, value in self.dg_hashes:
            if n == dg:
                return value
        return None


@dataclass(frozen=True)
class SignerInfo:
    """One CMS SignerInfo, reduced to what signature verification needs.

    The signer is identified either by ``issuer_der`` (DER of the issuer Name)
    and ``serial_number``, or by ``subject_key_identifier``.
    ``signature_algorithm`` is asn1crypto's name (``"sha256_rsa"``,
    ``"rsassa_pss"``, ``"sha256_ecdsa"``, ``"rsassa_pkcs1v15"``…) or the dotted
    OID; ``signature_parameters_der`` carries e.g. RSASSA-PSS parameters.
    ``signed_attrs`` is the received signed attributes re-tagged as a ``SET OF``
    (tag 31), byte for byte; :attr:`signed_attrs_der` their DER re-encoding (the
    input of the signature as RFC 5652 §5.4 defines it), made only when asked —
    on a DER chip both are the same bytes, and passive authentication tries the
    received bytes first. ``content_type``, ``message_digest`` and
    ``signing_time`` are read from those attributes.
    """

    version: int
    digest_algorithm: str
    signature_algorithm: str
    signature_algorithm_oid: str
    signature: bytes
    issuer_der: bytes | None = None
    serial_number: int | None = None
    subject_key_identifier: bytes | None = None
    signature_parameters_der: bytes | None = None
    signed_attrs: bytes | None = None
    content_type: str | None = None
    message_digest: bytes | None = None
    signing_time: datetime.datetime | None = None

    @cached_property
    def signed_attrs_der(self) -> bytes | None:
        """The signed attributes as a DER ``SET OF`` (None without signed attributes).

        Raises :class:`LDSParseError` when they cannot be re-encoded.
        """
        if self.signed_attrs is None:
            return None
        try:
            return bytes(cms.CMSAttributes.load(self.signed_attrs).dump(force=True))
        except ASN1_ERRORS as exc:
            raise LDSParseError(f"EF.SOD: signed attributes cannot be re-encoded: {exc}") from exc

    @property
    def signed_attrs_received(self) -> bytes | None:
        """The received signed attributes when they differ from :attr:`signed_attrs_der`
        (BER on the chip), else None."""
        if self.signed_attrs is None or self.signed_attrs == self.signed_attrs_der:
            return None
        return self.signed_attrs


@dataclass(frozen=True)
class SOD:
    """A parsed EF.SOD; nothing in it has been verified yet.

    ``econtent`` is the encoded LDSSecurityObject exactly as signed;
    ``certificates`` the DER certificates carried (the Document Signer);
    ``digest_algorithms`` the SignedData's digestAlgorithms set.
    """

    lds_security_object: LDSSecurityObject
    econtent: bytes
    econtent_type: str
    certificates: tuple[bytes, ...]
    signer_infos: tuple[SignerInfo, ...]
    digest_algorithms: tuple[str, ...] = ()
    signed_data_version: int = 3

    @property
    def signer_info(self) -> SignerInfo:
        """The first (on eMRTDs the only) SignerInfo."""
        return self.signer_infos[0]

    @property
    def dg_hashes(self) -> tuple[tuple[int, bytes], ...]:
        """Shortcut to the LDSSecurityObject's ``(dg, hash)`` pairs."""
        return self.lds_security_object.dg_hashes

    @property
    def hash_algorithm(self) -> str:
        """Shortcut to the LDSSecurityObject's hash algorithm name."""
        return self.lds_security_object.hash_algorithm

    def signer_certificate(self, signer: SignerInfo | None = None) -> bytes | None:
        """The carried certificate that ``signer`` (default: the first) names, or None.

        See :meth:`find_signer` for the rules; this drops which rule matched.
        """
        found = self.find_signer(signer)
        return None if found is None else found[0]

    def find_signer(self, signer: SignerInfo | None = None) -> tuple[bytes, SignerMatch] | None:
        """The carried certificate of ``signer`` (default: the first) and the rule that found it.

        Rules, strictest first (:data:`SignerMatch`):

        * ``issuer_and_serial`` — serial number and issuer Name byte for byte;
        * ``issuer_and_serial_any_order`` — serial number, and the issuer's
          attributes equal as a set (RDNs in another order, string types or
          case differing, as RFC 5280 §7.1 compares names): a real Malaysian
          SOD names its signer with the RDNs reversed;
        * ``subject_key_identifier`` — the sid's key identifier equals the
          certificate's;
        * ``only_certificate`` — no certificate matches, but exactly one is
          carried: it is the only candidate.

        Finding a certificate proves nothing: the signature check decides
        whether it signed. Raises :class:`LDSParseError` for an unreadable certificate.
        """
        signer = signer or self.signer_info
        return _find_signer(
            self.certificates,
            signer.issuer_der,
            signer.serial_number,
            signer.subject_key_identifier,
        )


@lru_cache(maxsize=1024)
def _find_signer(
    certificates: tuple[bytes, ...],
    issuer_der: bytes | None,
    serial_number: int | None,
    subject_key_identifier: bytes | None,
) -> tuple[bytes, SignerMatch] | None:
    """:meth:`SOD.find_signer`, remembered: a pure function of the certificates carried and the
    signer identifier, the same on every card of a document signer (errors are not kept)."""
    certs: list[tuple[bytes, x509.Certificate]] = []
    for der in certificates:
        try:
            certs.append((der, x509.Certificate.load(der)))
        except ASN1_ERRORS as exc:
            raise LDSParseError(f"EF.SOD: unreadable certificate: {exc}") from exc
    try:
        if issuer_der is not None:
            wanted = x509.Name.load(issuer_der)
            same_serial = [
                (der, cert)
                for der, cert in certs
                if cert["tbs_certificate"]["serial_number"].native == serial_number
            ]
            for der, cert in same_serial:
                if cert["tbs_certificate"]["issuer"].dump() == issuer_der:
                    return der, "issuer_and_serial"
            for der, cert in same_serial:
                if _name_attributes(cert["tbs_certificate"]["issuer"]) == _name_attributes(wanted):
                    return der, "issuer_and_serial_any_order"
        if subject_key_identifier is not None:
            for der, cert in certs:
                if cert.key_identifier == subject_key_identifier:
                    return der, "subject_key_identifier"
    except ASN1_ERRORS as exc:
        raise LDSParseError(f"EF.SOD: unreadable signer identifier: {exc}") from exc
    if len(certs) == 1:
        return certs[0][0], "only_certificate"
    return None


#: How :meth:`SOD.find_signer` found the signer's certificate.
SignerMatch = Literal[
    "issuer_and_serial",
    "issuer_and_serial_any_order",
    "subject_key_identifier",
    "only_certificate",
]


def _name_attributes(name: x509.Name) -> list[tuple[str, str]]:
    """A Name as a sorted list of (attribute OID, prepared value): order-free comparison.

    asn1crypto's ``prepped_value`` applies the RFC 4518 string preparation
    (case folding, insignificant spaces), so PrintableString and UTF8String of
    the same text compare equal.
    """
    out: list[tuple[str, str]] = []
    for rdn in name.chosen:
        for atv in rdn:
            value = atv.prepped_value
            out.append((str(atv["type"].dotted), value if isinstance(value, str) else repr(value)))
    return sorted(out)


# --------------------------------------------------------------------------- parsing


def _digest_name(alg: algos.DigestAlgorithm) -> str:
    oid = alg["algorithm"]
    name = oid.native
    return str(name) if name else str(oid.dotted)


def parse_lds_security_object(data: bytes) -> LDSSecurityObject:
    """Parse the DER LDSSecurityObject (the SOD's eContent).

    The plain DER layout every chip sends is split with the capped TLV reader
    (:func:`_lso_fast`, a few times faster than asn1crypto over 16 hash entries);
    anything else goes through asn1crypto, which decides.
    """
    data = bytes(data)
    fast = _lso_fast(data)
    return fast if fast is not None else _lso_asn1(data)


def _lso_asn1(data: bytes) -> LDSSecurityObject:
    """The LDSSecurityObject as asn1crypto reads it (any encoding it accepts)."""
    try:
        lso = _LDSSecurityObject.load(bytes(data), strict=True)
        version = int(lso["version"].native)
        hash_algorithm = _digest_name(lso["hash_algorithm"])
        pairs: list[tuple[int, bytes]] = []
        for item in lso["data_group_hash_values"]:
            number = int(item["data_group_number"].native)
            if number not in DG_NUMBERS:
                raise LDSParseError(f"EF.SOD: data group number {number} out of range")
            if any(n == number for n, _ in pairs):
                raise LDSParseError(f"EF.SOD: data group {number} listed twice")
            pairs.append((number, bytes(item["data_group_hash_value"].native)))
        info = lso["lds_version_info"]
        lds_version = None
        if info.native is not None:
            lds_version = (str(info["lds_version"].native), str(info["unicode_version"].native))
        return LDSSecurityObject(version, hash_algorithm, tuple(pairs), lds_version)
    except LDSParseError:
        raise
    except ASN1_ERRORS as exc:
        raise LDSParseError(f"EF.SOD: bad LDSSecurityObject: {exc}") from exc


class _NotPlain(Exception):
    """The input is not the plain DER layout the fast path reads: asn1crypto decides."""


_FAST_ERRORS: tuple[type[Exception], ...] = (_NotPlain, *ASN1_ERRORS)


def _kids(data: bytes, start: int, end: int, tags: tuple[int, ...] | None = None) -> list[Kid]:
    """Direct children ``(tag, object_start, value_start, value_end)`` of ``data[start:end]``
    (definite lengths), each with the expected tag when ``tags`` is given."""
    try:
        out = children(data, start, end, "EF.SOD")
    except LDSParseError as exc:
        raise _NotPlain from exc
    if tags is not None and tuple(k[0] for k in out) != tags:
        raise _NotPlain
    return out


def _lso_fast(data: bytes) -> LDSSecurityObject | None:
    """The LDSSecurityObject read from its DER layout, or None to leave it to asn1crypto.

    Only the shape asn1crypto reads the same way is taken: one SEQUENCE spanning the
    data of INTEGER, AlgorithmIdentifier (parsed by asn1crypto), SEQUENCE OF
    SEQUENCE {INTEGER, OCTET STRING}, and optionally the version info
    SEQUENCE {PrintableString, PrintableString}.
    """
    try:
        ((_tag, _o, vs, ve),) = _kids(data, 0, len(data), (0x30,))
        if ve != len(data):
            raise _NotPlain
        kids = _kids(data, vs, ve)
        if tuple(k[0] for k in kids) not in ((0x02, 0x30, 0x30), (0x02, 0x30, 0x30, 0x30)):
            raise _NotPlain
        (_t, _o, v0, v1), alg, dgs = kids[:3]
        if v1 == v0:
            raise _NotPlain
        version = int.from_bytes(data[v0:v1], "big", signed=True)
        hash_algorithm = _digest_name(algos.DigestAlgorithm.load(data[alg[1] : alg[3]]))
        pairs: list[tuple[int, bytes]] = []
        for _t, _o, es, ee in _kids(data, dgs[2], dgs[3]):
            if _t != 0x30:
                raise _NotPlain
            (_a, _b, ns, ne), (_c, _d, hs, he) = _kids(data, es, ee, (0x02, 0x04))
            if ne == ns:
                raise _NotPlain
            number = int.from_bytes(data[ns:ne], "big", signed=True)
            if number not in DG_NUMBERS or any(n == number for n, _ in pairs):
                raise _NotPlain  # asn1crypto's path words the error
            pairs.append((number, data[hs:he]))
        lds_version = None
        if len(kids) == 4:
            strings = _kids(data, kids[3][2], kids[3][3], (0x13, 0x13))
            lds_version = (
                str(core.PrintableString.load(data[strings[0][1] : strings[0][3]]).native),
                str(core.PrintableString.load(data[strings[1][1] : strings[1][3]]).native),
            )
        return LDSSecurityObject(version, hash_algorithm, tuple(pairs), lds_version)
    except _FAST_ERRORS:
        return None


#: DER of the signed attribute types the fast path reads (RFC 5652 §11), by name.
_ATTR_OIDS = {
    bytes(core.ObjectIdentifier(f"1.2.840.113549.1.9.{n}").dump()): name
    for n, name in ((3, "content_type"), (4, "message_digest"), (5, "signing_time"))
}


def _attrs_fast(
    attrs: bytes,
) -> tuple[str | None, bytes | None, datetime.datetime | None] | None:
    """contentType, messageDigest and signingTime from a DER signed-attribute SET, each
    once with one value; other attributes (signingCertificate, CMSAlgorithmProtection…)
    are parsed by asn1crypto, as :func:`_attrs_asn1` does. None: leave it all to asn1crypto."""
    found: dict[str, Any] = {}
    seen: set[bytes] = set()
    try:
        ((_t, _o, vs, ve),) = _kids(attrs, 0, len(attrs), (0x31,))
        for _t, ao, es, ee in _kids(attrs, vs, ve):
            if _t != 0x30:
                raise _NotPlain
            (_a, os_, _b, oe), (_c, _d, ss, se) = _kids(attrs, es, ee, (0x06, 0x31))
            oid = attrs[os_:oe]
            if oid in seen:
                raise _NotPlain  # asn1crypto's path words the error
            seen.add(oid)
            name = _ATTR_OIDS.get(oid)
            if name is None:
                cms.CMSAttribute.load(attrs[ao:ee])["values"].native  # noqa: B018 - validate
                continue
            ((tag, vo, _e, vend),) = _kids(attrs, ss, se)
            value = attrs[vo:vend]
            if name == "content_type" and tag == 0x06:
                found[name] = str(core.ObjectIdentifier.load(value).dotted)
            elif name == "message_digest" and tag == 0x04:
                found[name] = value[_e - vo :]
            elif name == "signing_time" and tag in (0x17, 0x18):
                found[name] = cms.Time.load(value).native
            else:
                raise _NotPlain
    except _FAST_ERRORS:
        return None
    return found.get("content_type"), found.get("message_digest"), found.get("signing_time")


def _attrs_asn1(
    attrs: cms.CMSAttributes,
) -> tuple[str | None, bytes | None, datetime.datetime | None]:
    """contentType, messageDigest and signingTime as asn1crypto reads them (any attributes)."""
    content_type = message_digest = signing_time = None
    seen: set[str] = set()
    for attr in attrs:
        kind = attr["type"].dotted
        if kind in seen:
            raise LDSParseError(f"EF.SOD: signed attribute {kind} repeated")
        seen.add(kind)
        name = attr["type"].native
        if name == "content_type":
            content_type = str(_one_value(attr, name).dotted)
        elif name == "message_digest":
            message_digest = bytes(_one_value(attr, name).native)
        elif name == "signing_time":
            signing_time = _one_value(attr, name).native
        else:
            attr["values"].native  # noqa: B018 - force the lazy parse of the rest
    return content_type, message_digest, signing_time


def _one_value(attr: cms.CMSAttribute, name: str) -> Any:
    values = attr["values"]
    if len(values) != 1:
        raise LDSParseError(f"EF.SOD: signed attribute {name} has {len(values)} values")
    return values[0]


def _parse_signer_info(si: cms.SignerInfo) -> SignerInfo:
    sid = si["sid"]
    issuer_der = serial = ski = None
    if sid.name == "issuer_and_serial_number":
        issuer_der = bytes(sid.chosen["issuer"].dump())
        serial = int(sid.chosen["serial_number"].native)
    else:
        ski = bytes(sid.chosen.native)
    sig_alg = si["signature_algorithm"]
    params = sig_alg["parameters"]
    params_der = None if isinstance(params, core.Void) else bytes(params.dump())
    sig_oid = sig_alg["algorithm"]
    attrs_received = content_type = message_digest = signing_time = None
    fast = None
    attrs = si["signed_attrs"]
    if not isinstance(attrs, core.Void):
        attrs_received = tlv.encode(0x31, bytes(attrs.contents))
        fast = _attrs_fast(attrs_received)
        if fast is not None:
            content_type, message_digest, signing_time = fast
    if attrs_received is not None and fast is None:
        content_type, message_digest, signing_time = _attrs_asn1(attrs)
    return SignerInfo(
        version=int(si["version"]),
        digest_algorithm=_digest_name(si["digest_algorithm"]),
        signature_algorithm=str(sig_oid.native or sig_oid.dotted),
        signature_algorithm_oid=str(sig_oid.dotted),
        signature=bytes(si["signature"].native),
        issuer_der=issuer_der,
        serial_number=serial,
        subject_key_identifier=ski,
        signature_parameters_der=params_der,
        signed_attrs=attrs_received,
        content_type=content_type,
        message_digest=message_digest,
        signing_time=signing_time,
    )


def parse(data: bytes) -> SOD:
    """Parse EF.SOD; trailing padding after the file is ignored. Verifies nothing.

    Raises :class:`LDSParseError` on any structural problem, a content type
    other than SignedData / LDSSecurityObject, or a missing eContent or SignerInfo.

    After the caps walk, the plain DER layout of the CMS envelope (what chips
    nearly always send) is split by :func:`_sod_fast` with the capped TLV reader —
    parsing the envelope was most of the cost of passive authentication per
    card — and anything else (BER, other certificate choices, odd fields) by
    asn1crypto (:func:`_sod_asn1`), which decides; property tests hold the two
    to the same result.
    """
    value = unwrap(bytes(data), _TAG, EF_SOD.name, EF_SOD.max_size, ber=True)
    try:
        # The caps asn1crypto lacks: lengths, nesting depth, element count, over BER.
        tlv.check(value, max_length=EF_SOD.max_size, ber=True)
    except TLVError as exc:
        raise LDSParseError(f"EF.SOD: {exc}") from exc
    fast = _sod_fast(value)
    return fast if fast is not None else _sod_asn1(value)


_OID_SIGNED_DATA = bytes(core.ObjectIdentifier("1.2.840.113549.1.7.2").dump())
_OID_LDS = bytes(core.ObjectIdentifier(ID_LDS_SECURITY_OBJECT).dump())


@lru_cache(maxsize=256)
def _digest_name_der(der: bytes) -> str:
    """:func:`_digest_name` of a DER AlgorithmIdentifier (a handful exist: remembered)."""
    return _digest_name(algos.DigestAlgorithm.load(der))


@lru_cache(maxsize=256)
def _signature_algorithm_der(der: bytes) -> tuple[str, str, bytes | None]:
    """(name or dotted OID, dotted OID, parameters DER or None) of a DER signature
    AlgorithmIdentifier, as :func:`_parse_signer_info` reads them."""
    alg = algos.SignedDigestAlgorithm.load(der)
    params = alg["parameters"]
    oid = alg["algorithm"]
    params_der = None if isinstance(params, core.Void) else bytes(params.dump())
    return str(oid.native or oid.dotted), str(oid.dotted), params_der


def _uint(data: bytes, start: int, end: int) -> int:
    """A DER INTEGER's value (signed, as asn1crypto reads it); empty is not plain."""
    if end == start:
        raise _NotPlain
    return int.from_bytes(data[start:end], "big", signed=True)


def _signer_fast(data: bytes, start: int, end: int) -> SignerInfo:
    """One SignerInfo from its DER layout; :class:`_NotPlain` when it is not that."""
    kids = _kids(data, start, end)
    if len(kids) < 5:
        raise _NotPlain
    (_v, _vo, vs, ve), (sid_tag, _so, ss, se), dig = kids[0], kids[1], kids[2]
    if _v != 0x02 or dig[0] != 0x30:
        raise _NotPlain
    rest = kids[3:]
    attrs = None
    if rest and rest[0][0] == 0xA0:
        attrs = tlv.encode(0x31, data[rest[0][2] : rest[0][3]])
        rest = rest[1:]
    if len(rest) not in (2, 3) or rest[0][0] != 0x30 or rest[1][0] != 0x04:
        raise _NotPlain
    if len(rest) == 3 and rest[2][0] != 0xA1:
        raise _NotPlain
    issuer_der = serial = ski = None
    if sid_tag == 0x30:
        (_n, no, _ns, ne), (_s, _so, srs, sre) = _kids(data, ss, se, (0x30, 0x02))
        issuer_der, serial = data[no:ne], _uint(data, srs, sre)
    elif sid_tag == 0x80:
        ski = data[ss:se]
    else:
        raise _NotPlain
    content_type = message_digest = signing_time = None
    if attrs is not None:
        found = _attrs_fast(attrs)
        if found is None:
            raise _NotPlain
        content_type, message_digest, signing_time = found
    sig_name, sig_oid, params_der = _signature_algorithm_der(data[rest[0][1] : rest[0][3]])
    return SignerInfo(
        version=_uint(data, vs, ve),
        digest_algorithm=_digest_name_der(data[dig[1] : dig[3]]),
        signature_algorithm=sig_name,
        signature_algorithm_oid=sig_oid,
        signature=data[rest[1][2] : rest[1][3]],
        issuer_der=issuer_der,
        serial_number=serial,
        subject_key_identifier=ski,
        signature_parameters_der=params_der,
        signed_attrs=attrs,
        content_type=content_type,
        message_digest=message_digest,
        signing_time=signing_time,
    )


def _sod_fast(value: bytes) -> SOD | None:
    """The SOD read from the plain DER layout of its CMS envelope, or None for asn1crypto.

    ContentInfo { id-signedData, [0] SignedData { version, digestAlgorithms SET,
    encapContentInfo { id-icao-mrtd-security-ldsSecurityObject, [0] OCTET STRING },
    [0] certificates (each a plain Certificate SEQUENCE), [1] crls (ignored, as the
    asn1crypto path does), signerInfos SET } }, every length definite; the
    AlgorithmIdentifiers and the signingTime are still read by asn1crypto.
    """
    try:
        ((_t, _o, cs, ce),) = _kids(value, 0, len(value), (0x30,))
        (_a, oo, _b, oe), (_c, _d, es, ee) = _kids(value, cs, ce, (0x06, 0xA0))
        if value[oo:oe] != _OID_SIGNED_DATA:
            raise _NotPlain
        ((_e, _f, ss, se),) = _kids(value, es, ee, (0x30,))
        kids = _kids(value, ss, se)
        tags = tuple(k[0] for k in kids)
        if tags[:3] != (0x02, 0x31, 0x30) or tags[-1] != 0x31:
            raise _NotPlain
        middle = tags[3:-1]
        if middle not in ((), (0xA0,), (0xA1,), (0xA0, 0xA1)):
            raise _NotPlain
        version = _uint(value, kids[0][2], kids[0][3])
        digest_kids = _kids(value, kids[1][2], kids[1][3])
        if any(t != 0x30 for t, *_rest in digest_kids):
            raise _NotPlain
        digests = tuple(_digest_name_der(value[o:e]) for _t1, o, _s, e in digest_kids)
        (_g, to, _h, te), (_i, _j, xs, xe) = _kids(value, kids[2][2], kids[2][3], (0x06, 0xA0))
        if value[to:te] != _OID_LDS:
            raise _NotPlain
        ((_k, _l, econ_s, econ_e),) = _kids(value, xs, xe, (0x04,))
        econtent = value[econ_s:econ_e]
        certificates: tuple[bytes, ...] = ()
        if middle[:1] == (0xA0,):
            certs = _kids(value, kids[3][2], kids[3][3])
            if any(t != 0x30 for t, *_rest in certs):
                raise _NotPlain
            certificates = tuple(value[o:e] for _t2, o, _s2, e in certs)
        signer_kids = _kids(value, kids[-1][2], kids[-1][3])
        if any(t != 0x30 for t, *_rest in signer_kids):
            raise _NotPlain
        signers = tuple(_signer_fast(value, o, e) for _t3, _o3, o, e in signer_kids)
        if not signers:
            raise _NotPlain
        lso = _lso_fast(econtent)
        if lso is None:
            raise _NotPlain
    except _FAST_ERRORS:
        return None
    return SOD(
        lds_security_object=lso,
        econtent=econtent,
        econtent_type=ID_LDS_SECURITY_OBJECT,
        certificates=certificates,
        signer_infos=signers,
        digest_algorithms=digests,
        signed_data_version=version,
    )


def _sod_asn1(value: bytes) -> SOD:
    """The SOD as asn1crypto reads it (BER, any certificate choice); LDSParseError otherwise."""
    try:
        info = cms.ContentInfo.load(value, strict=True)
        if info["content_type"].native != "signed_data":
            raise LDSParseError(f"EF.SOD: content type {info['content_type'].dotted}")
        sd = info["content"]
        encap = sd["encap_content_info"]
        econtent_type = str(encap["content_type"].dotted)
        if econtent_type != ID_LDS_SECURITY_OBJECT:
            raise LDSParseError(f"EF.SOD: eContentType {econtent_type}, not an LDSSecurityObject")
        content = encap["content"]
        if isinstance(content, core.Void):
            raise LDSParseError("EF.SOD: no eContent (detached signature)")
        # The octets of the OCTET STRING's value (chunks of a constructed BER one joined).
        econtent = bytes(content)
        certificates: list[bytes] = []
        certs = sd["certificates"]
        if not isinstance(certs, core.Void):
            for choice in certs:
                if choice.name == "certificate":
                    # Kept as bytes, parsed when the signer is looked for (find_signer).
                    certificates.append(bytes(choice.chosen.dump()))
        signers = tuple(_parse_signer_info(si) for si in sd["signer_infos"])
        if not signers:
            raise LDSParseError("EF.SOD: no SignerInfo")
        digests = tuple(_digest_name(a) for a in sd["digest_algorithms"])
        version = int(sd["version"])
    except LDSParseError:
        raise
    except ASN1_ERRORS as exc:
        raise LDSParseError(f"EF.SOD: {exc}") from exc
    return SOD(
        lds_security_object=parse_lds_security_object(econtent),
        econtent=econtent,
        econtent_type=econtent_type,
        certificates=tuple(certificates),
        signer_infos=signers,
        digest_algorithms=digests,
        signed_data_version=version,
    )


# --------------------------------------------------------------------------- encoding


def encode_lds_security_object(lso: LDSSecurityObject) -> bytes:
    """DER of an LDSSecurityObject (the eContent to sign)."""
    try:
        value = _LDSSecurityObject(
            {
                "version": lso.version,
                "hash_algorithm": {"algorithm": lso.hash_algorithm},
                "data_group_hash_values": [
                    {"data_group_number": n, "data_group_hash_value": h} for n, h in lso.dg_hashes
                ],
            }
        )
        if lso.lds_version is not None:
            value["lds_version_info"] = {
                "lds_version": lso.lds_version[0],
                "unicode_version": lso.lds_version[1],
            }
        return bytes(value.dump())
    except ASN1_ERRORS as exc:
        raise ValueError(f"cannot encode LDSSecurityObject: {exc}") from exc


_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}

SignerKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def _time_choice(when: datetime.datetime) -> cms.Time:
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    if when.year < 1000:
        raise ValueError("signing time before year 1000 cannot be encoded")
    # RFC 5652 §11.3: UTCTime for 1950..2049, GeneralizedTime otherwise.
    if 1950 <= when.year < 2050:
        return cms.Time({"utc_time": when})
    return cms.Time({"generalized_time": when})


def encode(
    lso: LDSSecurityObject,
    *,
    signer_cert_der: bytes,
    signer_key: SignerKey,
    digest_algorithm: str = "sha256",
    signing_time: datetime.datetime | None = None,
    extra_certificates: Iterable[bytes] = (),
) -> bytes:
    """A signed EF.SOD (tag 77) for the card simulator.

    CMS SignedData v3 with the LDSSecurityObject as eContent, the Document
    Signer Certificate in ``certificates``, one SignerInfo v1 identified by
    issuer and serial number, signed attributes contentType + messageDigest
    (+ signingTime when given; naive datetimes are taken as UTC), signed with
    RSA PKCS#1 v1.5 (sha*WithRSAEncryption) or deterministic ECDSA (ecdsa-with-SHA*),
    so the same inputs always give the same bytes.
    """
    hash_cls = _HASHES.get(digest_algorithm)
    if hash_cls is None:
        raise ValueError(f"unsupported digest algorithm {digest_algorithm!r}")
    econtent = encode_lds_security_object(lso)
    digest = hashes.Hash(hash_cls())
    digest.update(econtent)
    attr_list: list[dict[str, Any]] = [
        {"type": "content_type", "values": [ID_LDS_SECURITY_OBJECT]},
        {"type": "message_digest", "values": [digest.finalize()]},
    ]
    if signing_time is not None:
        attr_list.append({"type": "signing_time", "values": [_time_choice(signing_time)]})
    signed_attrs = cms.CMSAttributes(attr_list)
    to_sign = signed_attrs.dump()
    if isinstance(signer_key, rsa.RSAPrivateKey):
        signature = signer_key.sign(to_sign, padding.PKCS1v15(), hash_cls())
        sig_alg = f"{digest_algorithm}_rsa"
    elif isinstance(signer_key, ec.EllipticCurvePrivateKey):
        # RFC 6979 deterministic ECDSA: the same inputs give the same file (reproducible cards).
        signature = signer_key.sign(to_sign, ec.ECDSA(hash_cls(), deterministic_signing=True))
        sig_alg = f"{digest_algorithm}_ecdsa"
    else:
        raise TypeError(f"unsupported signer key {type(signer_key).__name__}")
    cert = x509.Certificate.load(signer_cert_der)
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": {
                        "issuer": cert.issuer,
                        "serial_number": cert.serial_number,
                    }
                }
            ),
            "digest_algorithm": {"algorithm": digest_algorithm},
            "signed_attrs": signed_attrs,
            "signature_algorithm": {"algorithm": sig_alg},
            "signature": signature,
        }
    )
    certificates = [cert] + [x509.Certificate.load(d) for d in extra_certificates]
    signed_data = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [{"algorithm": digest_algorithm}],
            "encap_content_info": {
                "content_type": ID_LDS_SECURITY_OBJECT,
                "content": econtent,
            },
            "certificates": certificates,
            "signer_infos": [signer_info],
        }
    )
    content_info = cms.ContentInfo({"content_type": "signed_data", "content": signed_data})
    return tlv.encode(_TAG, content_info.dump())
