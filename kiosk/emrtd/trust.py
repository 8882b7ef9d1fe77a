"""The trust store: CSCA certificates (from files and master lists) and CRLs.

Passive authentication trusts a Document Signer when its certificate is
signed by a CSCA in this store. Everything added is a trust anchor: a CSCA
certificate file, every CSCA of a master list whose signer checked out (see
:mod:`kiosk.emrtd.masterlist`), and link certificates (a CSCA's new key
certified by its previous key — same subject name, different key), which are
stored like any CSCA so a Document Signer issued under the new key finds its
issuer by name and key identifier.

:meth:`TrustStore.from_paths` takes certificate files (PEM or DER, several per
PEM file), master lists (``.ml``), CRLs (``.crl``, PEM or DER) and folders of
those (recursively; files with other suffixes are ignored). A file named
directly that cannot be used raises :class:`TrustStoreError`; inside a folder
it is skipped and counted in :attr:`TrustStore.stats`, so one stray file does
not take the kiosk down. Unusable certificates (unknown curve, unreadable) are
skipped and counted too.

CRLs are kept as given and used only once their signature verifies with the
CSCA that issued the certificate being checked (:meth:`TrustStore.revoked`).

Each trusted certificate remembers where it came from (:class:`TrustSource`: a
certificate file or a master list, by file name), so a verdict can say which CSCA
vouched for a card and from which file the kiosk trusts it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

from asn1crypto import crl as asn1_crl
from asn1crypto import pem

from kiosk.emrtd.certs import (
    Certificate,
    CertificateError,
    PassiveAuthError,
    name_key,
    name_text,
    verify_signature,
)
from kiosk.emrtd.lds._common import ASN1_ERRORS
from kiosk.emrtd.masterlist import MasterList, load_master_list

#: Suffixes read from folders (lower case).
CERT_SUFFIXES = frozenset({".pem", ".crt", ".cer", ".der", ".cert"})
ML_SUFFIXES = frozenset({".ml"})
CRL_SUFFIXES = frozenset({".crl"})
#: The largest single trust file read (master lists are under 1 MB today).
MAX_FILE_SIZE = 16 * 1024 * 1024
_MAX_FILES = 10_000


#: How a certificate entered the store.
SourceKind = Literal["certificate_file", "master_list", "added"]


@dataclass(frozen=True)
class TrustSource:
    """Where a trusted certificate came from: its kind and the file's name ("" when it was
    added in memory, e.g. by a test or a caller holding the bytes)."""

    kind: SourceKind
    name: str = ""


class TrustStoreError(PassiveAuthError):
    """A trust input (file, folder, master list, CRL) cannot be used."""


class CRLError(TrustStoreError):
    """A certificate revocation list is unreadable."""


@dataclass(frozen=True)
class CRL:
    """A parsed CRL: issuer, dates and the revoked serial numbers (not yet verified)."""

    der: bytes
    issuer: str
    issuer_key: str
    this_update: dt.datetime | None
    next_update: dt.datetime | None
    revoked: frozenset[int]
    authority_key_identifier: bytes | None

    @cached_property
    def fingerprint(self) -> bytes:
        """SHA-256 of the DER CRL (what :meth:`TrustStore.crl_state` is made of)."""
        return hashlib.sha256(self.der).digest()

    @classmethod
    def from_der(cls, der: bytes) -> CRL:
        """Parse a DER CRL; :class:`CRLError` when it is unreadable."""
        try:
            value = asn1_crl.CertificateList.load(bytes(der))
            tbs = value["tbs_cert_list"]
            revoked: set[int] = set()
            for entry in tbs["revoked_certificates"]:
                revoked.add(int(entry["user_certificate"].native))
            this_update = tbs["this_update"].native
            next_update = tbs["next_update"].native
            aki = value.authority_key_identifier
            value["signature"].native  # noqa: B018 - force the lazy parse
            value["signature_algorithm"]["algorithm"].native  # noqa: B018
            return cls(
                der=bytes(value.dump()),
                issuer=name_text(tbs["issuer"]),
                issuer_key=name_key(tbs["issuer"]),
                this_update=this_update,
                next_update=next_update,
                revoked=frozenset(revoked),
                authority_key_identifier=None if aki is None else bytes(aki),
            )
        except ASN1_ERRORS as exc:
            raise CRLError(f"unreadable CRL: {exc}", "unreadable_crl") from exc

    def signed_by(self, issuer: Certificate) -> bool:
        """True when the CRL's signature verifies with ``issuer``'s key."""
        value = asn1_crl.CertificateList.load(self.der)
        try:
            return verify_signature(
                issuer.public_key(),
                value["signature_algorithm"],
                bytes(value["tbs_cert_list"].dump()),
                bytes(value["signature"].native),
            )
        except PassiveAuthError:
            return False


@dataclass(frozen=True)
class TrustStoreStats:
    """What the store holds and what it had to leave out.

    ``skipped`` and ``warnings`` map a reason code to a count (e.g.
    ``{"unsupported_curve": 2}``, ``{"ecdsa_null_parameters": 13}``);
    ``skipped_files`` names files inside folders that could not be used.
    """

    certificates: int
    master_lists: int
    crls: int
    skipped: dict[str, int]
    warnings: dict[str, int]
    duplicates: int
    skipped_files: tuple[tuple[str, str], ...]

    @property
    def loaded(self) -> int:
        """Certificates in the store (alias kept for readability in reports)."""
        return self.certificates

    @property
    def skipped_count(self) -> int:
        """Total certificates and files skipped."""
        return sum(self.skipped.values())


def _pem_or_der(data: bytes, label_pattern: str) -> list[bytes]:
    """The DER objects in ``data``: every matching PEM block, or ``data`` itself if not PEM."""
    if pem.detect(data):
        out: list[bytes] = []
        try:
            for kind, _headers, der in pem.unarmor(data, multiple=True):
                if re.fullmatch(label_pattern, kind):
                    out.append(bytes(der))
        except ASN1_ERRORS as exc:
            raise TrustStoreError(f"unreadable PEM: {exc}", "unreadable") from exc
        return out
    return [data]


class TrustStore:
    """CSCA certificates and CRLs, indexed by subject name.

    Mutable by design: build it with :meth:`from_paths` or the ``add_*``
    methods, then share it read-only between reads.
    """

    def __init__(self) -> None:
        self._by_subject: dict[str, list[Certificate]] = {}
        self._fingerprints: set[bytes] = set()
        self._sources: dict[bytes, TrustSource] = {}
        self._crls: list[CRL] = []
        self._crl_ok: dict[tuple[bytes, bytes], bool] = {}
        self._issued: dict[tuple[bytes, bytes], bool] = {}
        self._master_lists = 0
        self._skipped: Counter[str] = Counter()
        self._warnings: Counter[str] = Counter()
        self._duplicates = 0
        self._skipped_files: list[tuple[str, str]] = []
        self._version = 0

    @property
    def version(self) -> int:
        """A counter bumped on every certificate or CRL added or removed.

        Whatever is derived from the store's contents (the chain results that
        :mod:`kiosk.emrtd.pa` caches per document signer) keys on it, so a
        change of trust is seen by the very next verification.
        """
        return self._version

    # ------------------------------------------------------------------ building

    @classmethod
    def from_paths(cls, paths: Iterable[str | Path]) -> TrustStore:
        """A store from certificate files, master lists, CRLs and folders of them.

        Master lists are loaded after the single certificates, so a list signed
        under a CSCA given as a file is accepted. Raises :class:`TrustStoreError`
        for a named path that is missing or unusable.
        """
        store = cls()
        store.add_paths(paths)
        return store

    def add_paths(self, paths: Iterable[str | Path]) -> None:
        """Add files and folders (see :meth:`from_paths`)."""
        named: list[Path] = []
        in_folders: list[Path] = []
        for raw in paths:
            path = Path(raw)
            if path.is_dir():
                found = sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file()
                    and p.suffix.lower() in CERT_SUFFIXES | ML_SUFFIXES | CRL_SUFFIXES
                )
                if len(found) > _MAX_FILES:
                    raise TrustStoreError(f"{path}: more than {_MAX_FILES} files", "too_many")
                in_folders.extend(found)
            elif path.is_file():
                named.append(path)
            else:
                raise TrustStoreError(f"{path}: no such file or folder", "missing")

        def order(p: Path) -> int:
            suffix = p.suffix.lower()
            return 2 if suffix in CRL_SUFFIXES else 1 if suffix in ML_SUFFIXES else 0

        for path in sorted(named, key=order):
            self.add_file(path)
        for path in sorted(in_folders, key=order):
            try:
                self.add_file(path)
            except PassiveAuthError as exc:
                self._skipped[f"file_{exc.reason}"] += 1
                self._skipped_files.append((str(path), str(exc)))

    def add_file(self, path: str | Path) -> None:
        """Add one file, its kind chosen by suffix (``.ml``, ``.crl``) or content.

        Raises :class:`TrustStoreError` (or :class:`MasterListError`) when unusable.
        """
        path = Path(path)
        try:
            size = path.stat().st_size
            if size > MAX_FILE_SIZE:
                raise TrustStoreError(f"{path}: larger than {MAX_FILE_SIZE} bytes", "too_large")
            data = path.read_bytes()
        except OSError as exc:
            raise TrustStoreError(f"{path}: {exc.strerror or exc}", "unreadable") from exc
        suffix = path.suffix.lower()
        try:
            if suffix in ML_SUFFIXES:
                self.add_master_list(data, source=TrustSource("master_list", path.name))
            elif suffix in CRL_SUFFIXES or (pem.detect(data) and b"X509 CRL" in data[:200]):
                self.add_crl(data)
            else:
                added = 0
                for der in _pem_or_der(data, r"(TRUSTED |X509 )?CERTIFICATE"):
                    self.add_certificate(
                        der, strict=True, source=TrustSource("certificate_file", path.name)
                    )
                    added += 1
                if not added:
                    raise TrustStoreError("no certificate in the file", "unreadable")
        except PassiveAuthError as exc:
            raise type(exc)(f"{path}: {exc}", exc.reason) from exc

    def add_certificate(
        self,
        cert: Certificate | bytes,
        *,
        strict: bool = False,
        source: TrustSource | None = None,
    ) -> bool:
        """Trust one CSCA (or link) certificate; False if it was already there (its first
        ``source`` is kept).

        An unusable certificate is skipped and counted, or with ``strict`` raises
        :class:`CertificateError`.
        """
        if not isinstance(cert, Certificate):
            try:
                cert = Certificate.from_der(bytes(cert), load_key=True)
            except CertificateError as exc:
                if strict:
                    raise
                self._skipped[exc.reason] += 1
                return False
        else:
            try:
                cert.public_key()
            except CertificateError as exc:
                if strict:
                    raise
                self._skipped[exc.reason] += 1
                return False
        if cert.fingerprint in self._fingerprints:
            self._duplicates += 1
            return False
        self._fingerprints.add(cert.fingerprint)
        self._sources[cert.fingerprint] = source or TrustSource("added")
        self._warnings.update(cert.warnings)
        self._by_subject.setdefault(cert.subject_key, []).append(cert)
        self._version += 1
        return True

    def remove_certificate(self, fingerprint: bytes) -> Certificate | None:
        """Stop trusting the certificate of that SHA-256 fingerprint; the removed one, or None."""
        for key, group in self._by_subject.items():
            for cert in group:
                if cert.fingerprint == fingerprint:
                    group.remove(cert)
                    if not group:
                        del self._by_subject[key]
                    self._fingerprints.discard(fingerprint)
                    self._sources.pop(fingerprint, None)
                    self._version += 1
                    return cert
        return None

    def add_master_list(
        self, data: bytes | MasterList, *, source: TrustSource | None = None
    ) -> MasterList:
        """Check a master list's signer (against the list and this store) and trust its CSCAs."""
        ml = data if isinstance(data, MasterList) else load_master_list(data, self.certificates())
        self._master_lists += 1
        for reason, count in ml.skipped:
            self._skipped[reason] += count
        self._duplicates += ml.duplicates
        for cert in ml.certificates:
            self.add_certificate(cert, source=source or TrustSource("master_list"))
        return ml

    def add_crl(self, data: bytes | CRL) -> CRL:
        """Keep a CRL (PEM or DER); it is applied once its signature checks out."""
        if isinstance(data, CRL):
            crl = data
        else:
            ders = _pem_or_der(bytes(data), r"X509 CRL")
            if len(ders) != 1:
                raise CRLError(f"expected one CRL, found {len(ders)}", "unreadable_crl")
            crl = CRL.from_der(ders[0])
        self._crls.append(crl)
        self._version += 1
        return crl

    def remove_crl(self, fingerprint: bytes) -> CRL | None:
        """Drop the CRL of that SHA-256 fingerprint (of its DER); the removed one, or None."""
        for crl in self._crls:
            if crl.fingerprint == fingerprint:
                self._crls.remove(crl)
                self._version += 1
                return crl
        return None

    # ------------------------------------------------------------------ queries

    def certificates(self) -> list[Certificate]:
        """Every trusted certificate."""
        return [c for group in self._by_subject.values() for c in group]

    def crls(self) -> list[CRL]:
        """Every CRL held (verified or not: :meth:`crls_for` checks signatures)."""
        return list(self._crls)

    def source_of(self, cert: Certificate) -> TrustSource | None:
        """Where a trusted certificate came from; None when it is not in the store."""
        return self._sources.get(cert.fingerprint)

    def __len__(self) -> int:
        return len(self._fingerprints)

    def issuer_candidates(self, cert: Certificate) -> list[Certificate]:
        """Trusted certificates whose subject is ``cert``'s issuer name.

        Those whose subject key identifier equals ``cert``'s authority key
        identifier come first; the others follow (a CSCA may lack the
        extension, or an impostor may use a trusted name — the signature
        check decides).
        """
        group = self._by_subject.get(cert.issuer_key, [])
        aki = cert.authority_key_identifier
        return sorted(
            (c for c in group if c != cert),
            key=lambda c: not (aki is not None and c.subject_key_identifier == aki),
        )

    def issued_by(self, cert: Certificate, issuer: Certificate) -> bool:
        """Whether ``cert``'s signature verifies with ``issuer``'s key, remembered per pair.

        Thousands of cards share one document signer: its signature under the CSCA is
        checked once per store (keyed by both fingerprints, so another certificate or a
        reloaded store checks again). CRLs are not part of it: revocation is asked each
        time (:meth:`revoked`). Raises :class:`PassiveAuthError` like
        :meth:`Certificate.signed_by` (not remembered).
        """
        memo = (cert.fingerprint, issuer.fingerprint)
        ok = self._issued.get(memo)
        if ok is None:
            ok = cert.signed_by(issuer.public_key())
            self._issued[memo] = ok
        return ok

    def crls_for(self, issuer: Certificate) -> list[CRL]:
        """CRLs that name ``issuer`` and whose signature verifies with its key."""
        out: list[CRL] = []
        for crl in self._crls:
            if crl.issuer_key != issuer.subject_key:
                continue
            memo = (crl.der, issuer.fingerprint)
            ok = self._crl_ok.get(memo)
            if ok is None:
                ok = crl.signed_by(issuer)
                self._crl_ok[memo] = ok
                if not ok:
                    self._warnings["crl_signature_invalid"] += 1
            if ok:
                out.append(crl)
        return out

    def crl_state(self, issuer_key: str) -> tuple[bytes, ...]:
        """Fingerprints of the CRLs held that name the issuer ``issuer_key`` (a
        :func:`~kiosk.emrtd.certs.name_key`), sorted: what revocation of its
        certificates depends on, verified or not."""
        return tuple(sorted(c.fingerprint for c in self._crls if c.issuer_key == issuer_key))

    def revoked(self, cert: Certificate, issuer: Certificate) -> bool | None:
        """Whether ``cert`` (issued by ``issuer``) is on a verified CRL of ``issuer``.

        ``None`` when no verified CRL of that issuer is held (status unknown).
        """
        crls = self.crls_for(issuer)
        if not crls:
            return None
        return any(cert.serial_number in crl.revoked for crl in crls)

    @property
    def stats(self) -> TrustStoreStats:
        """Counts of what was loaded and skipped."""
        return TrustStoreStats(
            certificates=len(self),
            master_lists=self._master_lists,
            crls=len(self._crls),
            skipped=dict(self._skipped),
            warnings=dict(self._warnings),
            duplicates=self._duplicates,
            skipped_files=tuple(self._skipped_files),
        )


__all__ = [
    "CRL",
    "CRLError",
    "Certificate",
    "PassiveAuthError",
    "TrustSource",
    "TrustStore",
    "TrustStoreError",
    "TrustStoreStats",
]
