"""ICAO CSCA master lists (ICAO 9303-12 §9): parse, check the signer, hand out the CSCAs.

A master list is a CMS ``SignedData`` (RFC 5652) whose encapsulated content,
of type ``id-icao-cscaMasterList`` (2.23.136.1.1.2), is::

    CscaMasterList ::= SEQUENCE {
      version   CscaMasterListVersion,       -- v0
      certList  SET OF Certificate }

signed by a Master List Signer whose certificate is issued by the publishing
state's CSCA. :func:`load_master_list` checks the signer the way passive
authentication checks a Document Signer: the signed attributes carry the
right content type and the digest of the content, their signature verifies
with the signer's key, and the signer certificate is signed by a CSCA found in
the list itself or among ``anchors`` (the trust store), directly or through a
link certificate. The list's CSCAs are then trusted as a set — that is the
point of a master list — so the caller must trust the file's publisher.

Certificates that cannot be used (unreadable, a key on an unknown curve) are
skipped and counted; tolerated irregularities (NULL parameters after an ECDSA
OID, non-positive serial numbers) are counted as warnings. Structural problems
and a failed signer check raise :class:`MasterListError`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from asn1crypto import cms, core

from kiosk.emrtd.certs import (
    Certificate,
    CertificateError,
    PassiveAuthError,
    verify_signature,
)
from kiosk.emrtd.lds._common import ASN1_ERRORS

#: eContentType of a CSCA master list.
ID_CSCA_MASTER_LIST = "2.23.136.1.1.2"
#: The largest master list accepted (the German one is under 1 MB).
MAX_SIZE = 16 * 1024 * 1024
_MAX_CERTS = 20_000


class MasterListError(PassiveAuthError):
    """A master list is unreadable, not a master list, or its signer check failed."""


class _CertSet(core.SetOf):
    _child_spec = core.Any


class _CscaMasterList(core.Sequence):
    _fields: ClassVar[list[tuple[Any, ...]]] = [
        ("version", core.Integer),
        ("cert_list", _CertSet),
    ]


@dataclass(frozen=True)
class MasterList:
    """A master list whose signer has been checked.

    ``certificates`` are the usable CSCA (and link) certificates, duplicates
    removed; ``skipped`` counts unusable ones by reason; ``warnings`` counts
    tolerated irregularities by kind; ``signer`` is the Master List Signer and
    ``signer_issuer`` the CSCA that issued it.
    """

    version: int
    certificates: tuple[Certificate, ...]
    skipped: tuple[tuple[str, int], ...]
    warnings: tuple[tuple[str, int], ...]
    signer: Certificate
    signer_issuer: Certificate
    signing_time: dt.datetime | None
    duplicates: int = 0

    @property
    def skipped_count(self) -> int:
        """How many certificates of the list were skipped."""
        return sum(n for _, n in self.skipped)


_HASHLIB = {"sha1", "sha224", "sha256", "sha384", "sha512"}


def _digest(name: str, data: bytes) -> bytes:
    if name not in _HASHLIB:
        raise MasterListError(f"master list: unsupported digest algorithm {name}", "unsupported")
    return hashlib.new(name, data).digest()


def _signer_cert(si: Any, pool: list[Certificate]) -> Certificate:
    sid = si["sid"]
    for cert in pool:
        if sid.name == "issuer_and_serial_number":
            want = sid.chosen
            if (
                cert.asn1.issuer == want["issuer"]
                and cert.serial_number == want["serial_number"].native
            ):
                return cert
        elif cert.subject_key_identifier == bytes(sid.chosen.native):
            return cert
    raise MasterListError("master list: the signer's certificate is not in the file", "signer")


def _issuer_of(cert: Certificate, candidates: Iterable[Certificate]) -> Certificate | None:
    """A candidate (name match, key identifier preferred) whose key verifies ``cert``."""
    ordered = sorted(
        (c for c in candidates if c.subject_key == cert.issuer_key and c != cert),
        key=lambda c: c.subject_key_identifier != cert.authority_key_identifier,
    )
    for cand in ordered:
        try:
            if cert.signed_by(cand.public_key()):
                return cand
        except PassiveAuthError:
            continue
    return None


def _check_signer(
    si: Any, econtent: bytes, signer: Certificate, anchors: list[Certificate]
) -> Certificate:
    """Verify the SignerInfo and the signer's chain; return the issuing CSCA."""
    attrs = si["signed_attrs"]
    if isinstance(attrs, core.Void) or not len(attrs):
        raise MasterListError("master list: no signed attributes", "signature")
    content_type = message_digest = None
    for attr in attrs:
        kind = attr["type"].native
        if kind == "content_type":
            content_type = attr["values"][0].dotted
        elif kind == "message_digest":
            message_digest = bytes(attr["values"][0].native)
    if content_type != ID_CSCA_MASTER_LIST:
        raise MasterListError(f"master list: signed content type {content_type}", "signature")
    digest_name = str(si["digest_algorithm"]["algorithm"].native)
    if message_digest != _digest(digest_name, econtent):
        raise MasterListError("master list: content does not match its signed digest", "signature")
    signed = b"\x31" + attrs.dump()[1:]
    if not verify_signature(
        signer.public_key(),
        si["signature_algorithm"],
        signed,
        bytes(si["signature"].native),
        digest=digest_name,
    ):
        raise MasterListError("master list: the signature does not verify", "signature")
    issuer = _issuer_of(signer, anchors)
    if issuer is None:
        raise MasterListError(
            f"master list: the signer ({signer.subject}) is not issued by a CSCA in the list "
            "or the trust store",
            "signer_chain",
        )
    return issuer


def load_master_list(data: bytes, anchors: Iterable[Certificate] = ()) -> MasterList:
    """Parse a master list (DER CMS, optionally PEM-free raw bytes) and check its signer.

    ``anchors`` are extra CSCAs (from the trust store) the signer may chain to.
    Raises :class:`MasterListError` on anything structural or a failed signer check.
    """
    data = bytes(data)
    if len(data) > MAX_SIZE:
        raise MasterListError(f"master list larger than {MAX_SIZE} bytes", "too_large")
    try:
        info = cms.ContentInfo.load(data)
        if info["content_type"].native != "signed_data":
            raise MasterListError("not a CMS SignedData", "unreadable")
        sd = info["content"]
        encap = sd["encap_content_info"]
        if encap["content_type"].dotted != ID_CSCA_MASTER_LIST:
            raise MasterListError(
                f"not a CSCA master list (content type {encap['content_type'].dotted})",
                "unreadable",
            )
        content = encap["content"]
        if isinstance(content, core.Void):
            raise MasterListError("master list without content", "unreadable")
        econtent = bytes(content.contents)
        ml = _CscaMasterList.load(econtent)
        version = int(ml["version"].native)
        raw_certs = [bytes(c.dump()) for c in ml["cert_list"]]
        if len(raw_certs) > _MAX_CERTS:
            raise MasterListError(f"master list with {len(raw_certs)} certificates", "too_large")
        carried: list[Certificate] = []
        certs_field = sd["certificates"]
        if not isinstance(certs_field, core.Void):
            for choice in certs_field:
                if choice.name == "certificate":
                    try:
                        carried.append(Certificate.from_der(choice.chosen.dump()))
                    except CertificateError:
                        continue
        signer_infos = list(sd["signer_infos"])
        if not signer_infos:
            raise MasterListError("master list without a SignerInfo", "unreadable")
        si = signer_infos[0]
        signing_time: dt.datetime | None = None
        attrs = si["signed_attrs"]
        if not isinstance(attrs, core.Void):
            for attr in attrs:
                if attr["type"].native == "signing_time":
                    signing_time = attr["values"][0].native
    except PassiveAuthError:
        raise
    except ASN1_ERRORS as exc:
        raise MasterListError(f"unreadable master list: {exc}", "unreadable") from exc

    certificates: list[Certificate] = []
    seen: set[bytes] = set()
    skipped: Counter[str] = Counter()
    warnings: Counter[str] = Counter()
    duplicates = 0
    for der in raw_certs:
        try:
            cert = Certificate.from_der(der, load_key=True)
        except CertificateError as exc:
            skipped[exc.reason] += 1
            continue
        if cert.fingerprint in seen:
            duplicates += 1
            continue
        seen.add(cert.fingerprint)
        warnings.update(cert.warnings)
        certificates.append(cert)

    try:
        signer = _signer_cert(si, carried + certificates)
        issuer = _check_signer(si, econtent, signer, [*certificates, *anchors])
    except PassiveAuthError:
        raise
    except ASN1_ERRORS as exc:
        raise MasterListError(f"unreadable master list signer: {exc}", "unreadable") from exc
    if signing_time is not None and not signer.valid_at(signing_time):
        warnings["signer_not_valid_at_signing_time"] += 1
    return MasterList(
        version=version,
        certificates=tuple(certificates),
        skipped=tuple(sorted(skipped.items())),
        warnings=tuple(sorted(warnings.items())),
        signer=signer,
        signer_issuer=issuer,
        signing_time=signing_time,
        duplicates=duplicates,
    )


def certificate_issuer(cert: Certificate, candidates: Iterable[Certificate]) -> Certificate | None:
    """The candidate whose key verifies ``cert`` (same issuer name; key identifier first)."""
    return _issuer_of(cert, candidates)


__all__ = [
    "ID_CSCA_MASTER_LIST",
    "MasterList",
    "MasterListError",
    "certificate_issuer",
    "load_master_list",
]
