"""Passive Authentication (ICAO 9303-11 §5.1, 9303-12): is the data intact, signed and trusted?

:func:`passive_authentication` grades a read (or a dump) into one of three
verdicts, never a bare bool:

* ``verified`` — every data group present matches its hash in EF.SOD, the
  SOD's signature verifies with the Document Signer Certificate (DSC) it
  carries, and the DSC chains to a CSCA in the trust store;
* ``issuer_unknown`` — data intact and signed by the DSC, but no trusted CSCA
  of the DSC's issuer name is known (the honest state of a real CCCD today,
  until the deployment installs its CSCA, "CSCA Vietnam");
* ``failed`` — anything else, with short reasons a receptionist can read.

Checks, in order:

1. Signature: the signed attributes hold contentType = LDSSecurityObject and a
   messageDigest equal to the digest of the eContent; their signature (over
   the received encoding, tried first since on a DER chip it is the DER SET, or
   their DER encoding) verifies with the DSC's key (RSA PKCS#1 v1.5, RSA-PSS,
   ECDSA; see :mod:`kiosk.emrtd.certs`).
   The DSC is the carried certificate the SignerInfo names, found tolerantly
   (:meth:`~kiosk.emrtd.lds.sod.SOD.find_signer`); ``signer_match`` says which rule found it.
2. Data groups: each ``DGn`` in ``files`` is hashed with the SOD's algorithm
   (``ok`` / ``mismatch``); a DG present but not listed in the SOD is
   ``not_listed`` and fails; a listed DG the chip refused is ``protected``
   (noted); a listed DG absent from ``files`` is ``missing`` — not a failure by
   itself, so a dump holding only EF.SOD still says whether signature and chain hold.
3. Chain: trusted CSCAs with the DSC's issuer name are tried (the one whose
   subject key identifier equals the DSC's authority key identifier first).
   None of that name → ``unknown_issuer``. Some, but none whose key verifies
   the DSC → ``invalid`` (an impostor CSCA, or a forged DSC, under a trusted name).

Validity policy (documented here because it decides verdicts):

* The reference time is the SOD's signingTime; without one, the document's
  date of issue (the caller's ``date_of_issue``, else DG12's 5F26 or DG13 field
  11 — the CCCD's — when that DG matches its hash); without either, it is
  unknown. A DSC must have been valid at the reference time (on the date of
  issue: that day, with :data:`ISSUE_GRACE` after the DSC's end, since a
  document signed on the DSC's last day may be handed out later). An expired
  DSC on a document signed while it was valid is fine — passports and CCCDs
  outlive their signers by design; a document signed outside the DSC's
  validity fails. With the reference time unknown, DSC expiry alone never
  fails: the verdict follows signature, hashes and chain, with a note that
  the signing time is unknown and when the DSC expired (the check's own date
  is never presented as a signing date); a DSC not yet valid today still fails.
* A signingTime more than one day after ``now`` fails (a clock cannot sign the future).
* The CSCA must have been valid when it issued the DSC (at the DSC's
  notBefore); its later expiry does not matter, for the same reason.
* A DSC whose keyUsage lacks digitalSignature, or a CSCA whose basicConstraints
  or keyUsage forbid issuing certificates, fails.
* Revocation: when the store holds a CRL of the issuing CSCA whose signature
  verifies, a DSC listed on it fails, whatever the revocation date (ICAO
  9303-12: a revoked DSC invalidates the documents it signed). No CRL → not
  checked (the usual state offline), and nothing is claimed about it.

Speed: thousands of cards share a DSC, so what the chain check concludes
independently of the card's reference time is cached per trust store and DSC
(:class:`_ChainCache`; :func:`chain_cache_info` shows its hits), the DSC is
parsed once (:meth:`Certificate.cached`), and per card only the SOD, its
signature, the DG hashes and the DSC's validity at the reference time are
checked. ``make bench`` times it next to pymrtd's steps.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from kiosk.emrtd import tlv
from kiosk.emrtd.certs import Certificate, PassiveAuthError, verify_signature
from kiosk.emrtd.errors import LDSParseError, TLVError
from kiosk.emrtd.lds import dg13
from kiosk.emrtd.lds._common import ASN1_ERRORS, outer_object
from kiosk.emrtd.lds.files import DATA_GROUPS
from kiosk.emrtd.lds.sod import ID_LDS_SECURITY_OBJECT, SOD, SignerInfo
from kiosk.emrtd.trust import TrustSource, TrustStore

Verdict = Literal["verified", "issuer_unknown", "failed"]
SignatureStatus = Literal["valid", "invalid"]
ChainStatus = Literal["trusted", "unknown_issuer", "invalid"]
DGStatus = Literal["ok", "mismatch", "not_listed", "protected", "missing", "not_read"]

#: A signingTime this far after the time of the check is accepted (clock skew).
FUTURE_TOLERANCE = dt.timedelta(days=1)
#: A date of issue this long after the DSC's notAfter still counts as within its validity.
ISSUE_GRACE = dt.timedelta(days=31)
#: What the DSC's validity was checked against (see the module docstring).
ReferenceBasis = Literal["signing_time", "date_of_issue", "unknown"]
_HASHLIB = ("sha1", "sha224", "sha256", "sha384", "sha512")
_DG_NAMES = {info.name: n for n, info in DATA_GROUPS.items()}


@dataclass(frozen=True)
class SignerSummary:
    """Who signed the SOD: the DSC's subject, its issuer, and its serial number (decimal)."""

    subject: str
    issuer: str
    serial: str


@dataclass(frozen=True)
class CSCASummary:
    """The trusted CSCA that vouched for the card: its subject, common name and country (as
    the certificate says; None when absent), and where the kiosk trusts it from."""

    subject: str
    common_name: str | None
    country: str | None
    source: TrustSource | None

    @classmethod
    def of(cls, csca: Certificate, trust: TrustStore | None) -> CSCASummary:
        """The summary of ``csca``, a certificate of ``trust``."""
        cn = country = None
        try:
            native = csca.asn1.subject.native
            cn, country = native.get("common_name"), native.get("country_name")
        except ASN1_ERRORS:
            pass  # an odd name still has its subject text; CN and country stay unknown
        return cls(
            subject=csca.subject,
            common_name=None if cn is None else str(cn),
            country=None if country is None else str(country),
            source=None if trust is None else trust.source_of(csca),
        )

    def to_json(self) -> dict[str, Any]:
        """``{"subject", "common_name", "country", "source": {"kind", "name"} | None}``."""
        src = self.source
        return {
            "subject": self.subject,
            "common_name": self.common_name,
            "country": self.country,
            "source": None if src is None else {"kind": src.kind, "name": src.name},
        }


@dataclass(frozen=True)
class PassiveAuthResult:
    """The graded outcome of passive authentication (see the module docstring)."""

    verdict: Verdict
    signature: SignatureStatus
    chain: ChainStatus
    reasons: tuple[str, ...]
    signer: SignerSummary | None
    data_groups: dict[str, DGStatus] = field(default_factory=dict)
    signing_time: dt.datetime | None = None
    #: Subject of the trusted CSCA the DSC chains to, when it does.
    csca: str | None = None
    #: How the DSC was found among the SOD's certificates (``SignerMatch`` in ``lds.sod``).
    signer_match: str | None = None
    #: Remarks that do not change the verdict (e.g. the signing time is unknown).
    notes: tuple[str, ...] = ()
    #: What the DSC's validity was checked against, and that time or date.
    reference: ReferenceBasis = "unknown"
    reference_time: dt.datetime | None = None
    #: The trusted CSCA the DSC chains to (name, country, source file), when it does.
    csca_info: CSCASummary | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the ``passive_auth`` object of ``cccd-kiosk verify --json``)."""
        return {
            "verdict": self.verdict,
            "signature": self.signature,
            "chain": self.chain,
            "reasons": list(self.reasons),
            "signer": None
            if self.signer is None
            else {
                "subject": self.signer.subject,
                "issuer": self.signer.issuer,
                "serial": self.signer.serial,
            },
            "data_groups": dict(self.data_groups),
            "signing_time": None if self.signing_time is None else self.signing_time.isoformat(),
            "csca": self.csca,
            "csca_info": None if self.csca_info is None else self.csca_info.to_json(),
            "signer_match": self.signer_match,
            "notes": list(self.notes),
            "reference": self.reference,
            "reference_time": None
            if self.reference_time is None
            else self.reference_time.isoformat(),
        }


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _day(value: dt.datetime) -> str:
    return value.date().isoformat()


def _dg_hash(name: str, raw: bytes, n: int) -> list[bytes]:
    """Candidate hashes of a DG file: as given, and without trailing chip padding."""
    out = [hashlib.new(name, raw).digest()]
    info = DATA_GROUPS[n]
    if info.tag is not None:
        try:
            _start, end = outer_object(raw, info.tag, info.name, len(raw))
        except LDSParseError:
            return out
        if end < len(raw):
            out.append(hashlib.new(name, raw[:end]).digest())
    return out


def _check_data_groups(
    sod: SOD, files: Mapping[str, bytes], protected: set[str], reasons: list[str]
) -> tuple[dict[str, DGStatus], bool]:
    """Status of every DG listed or present; the flag says whether any check failed."""
    algorithm = sod.hash_algorithm
    statuses: dict[str, DGStatus] = {}
    failed = False
    listed = {n: h for n, h in sod.dg_hashes}
    present = {_DG_NAMES[k]: bytes(v) for k, v in files.items() if k in _DG_NAMES}
    if algorithm not in _HASHLIB and present:
        reasons.append(f"The SOD uses an unsupported hash algorithm ({algorithm})")
        failed = True
    for n in sorted(set(listed) | set(present)):
        name = DATA_GROUPS[n].name
        if n in present:
            if n not in listed:
                statuses[name] = "not_listed"
                reasons.append(f"{name} is on the card but not listed in the SOD")
                failed = True
            elif algorithm in _HASHLIB and listed[n] in _dg_hash(algorithm, present[n], n):
                statuses[name] = "ok"
            else:
                statuses[name] = "mismatch"
                if algorithm in _HASHLIB:
                    reasons.append(f"{name} does not match its hash in the SOD")
                failed = True
        elif name in protected:
            statuses[name] = "protected"
        else:
            statuses[name] = "missing"
    return statuses, failed


def _check_signature(sod: SOD, dsc: Certificate | None, reasons: list[str]) -> bool:
    """The CMS signature: content type, message digest, and the DSC's signature."""
    si = sod.signer_info
    if dsc is None:
        return False
    if si.signed_attrs is None:
        reasons.append("The SOD has no signed attributes")
        return False
    if si.content_type != ID_LDS_SECURITY_OBJECT:
        reasons.append("The SOD's signed content type is wrong")
        return False
    digest_name = si.digest_algorithm
    if digest_name not in _HASHLIB:
        reasons.append(f"The SOD uses an unsupported digest algorithm ({digest_name})")
        return False
    if si.message_digest != hashlib.new(digest_name, sod.econtent).digest():
        reasons.append("The SOD's hash list does not match its signed digest")
        return False
    # The received bytes first: on a DER chip they are the DER SET that CMS signs, so one
    # check suffices and no re-encoding is made; then the DER form, when it differs (BER).
    # Either verifying is a valid signature over these attributes, so the order is cost only.
    ok = False
    try:
        for signed in _signed_candidates(si):
            ok = verify_signature(
                dsc.public_key(),
                si.signature_algorithm_oid,
                signed,
                si.signature,
                parameters=si.signature_parameters_der,
                digest=digest_name,
            )
            if ok:
                break
    except PassiveAuthError as exc:
        reasons.append(f"The SOD's signature cannot be checked: {exc}")
        return False
    if not ok:
        reasons.append("The SOD's signature does not verify with the document signer's key")
    return ok


def _signed_candidates(si: SignerInfo) -> Iterator[bytes]:
    """The received signed attributes, then their DER form when that differs."""
    if si.signed_attrs is None:
        return
    yield si.signed_attrs
    try:
        der = si.signed_attrs_der
    except LDSParseError:
        return
    if der is not None and der != si.signed_attrs:
        yield der


@dataclass(frozen=True)
class _Reference:
    """What the DSC's validity is checked against: a basis and its time (None: unknown)."""

    basis: ReferenceBasis
    when: dt.datetime | None
    now: dt.datetime


def _dsc_validity(dsc: Certificate, ref: _Reference, reasons: list[str], notes: list[str]) -> bool:
    """False (with a reason) when the DSC's validity rules the document out; see the policy."""
    valid = f"valid {_day(dsc.not_before)} to {_day(dsc.not_after)}"
    if ref.basis == "signing_time" and ref.when is not None:
        if not dsc.valid_at(ref.when):
            reasons.append(
                f"The document signer's certificate ({valid}) was not valid when the "
                f"document was signed ({_day(ref.when)})"
            )
            return False
        return True
    if ref.basis == "date_of_issue" and ref.when is not None:
        day_end = ref.when + dt.timedelta(days=1)
        if dsc.not_before >= day_end or dsc.not_after + ISSUE_GRACE < ref.when:
            reasons.append(
                f"The document signer's certificate ({valid}) was not valid on the "
                f"document's date of issue ({_day(ref.when)})"
            )
            return False
        return True
    if dsc.not_before > ref.now + FUTURE_TOLERANCE:
        reasons.append(
            f"The document signer's certificate ({valid}) is not valid yet, and the SOD "
            "does not say when it was signed"
        )
        return False
    if dsc.not_after < ref.now:
        notes.append(
            "The SOD does not say when it was signed (no signing time, no date of issue); "
            f"the document signer's certificate expired on {_day(dsc.not_after)}, which "
            "alone does not make the document invalid"
        )
    return True


IssuerOutcome = Literal["no_candidates", "none_verifies", "found"]


@dataclass(frozen=True)
class _IssuerPart:
    """The part of the chain check that does not depend on the reference time.

    ``usage`` holds the reason when the DSC's keyUsage forbids signing;
    ``outcome`` says whether trusted CSCAs of the DSC's issuer name exist and
    whether one of them verifies the DSC (``csca``); ``issuer_reasons`` are
    that CSCA's failures (not a CA, not valid at the DSC's notBefore, the DSC
    on its verified CRL).
    """

    usage: tuple[str, ...]
    outcome: IssuerOutcome
    csca: Certificate | None
    issuer_reasons: tuple[str, ...]


def _issuer_part(dsc: Certificate, trust: TrustStore | None, *, memo: bool = True) -> _IssuerPart:
    """The DSC's keyUsage, its issuer among the trusted CSCAs, and that CSCA's rules.

    ``memo`` False checks the DSC's signature under each candidate afresh instead of
    through the store's per-pair memo (:meth:`TrustStore.issued_by`).
    """
    usage: tuple[str, ...] = ()
    if dsc.key_usage is not None and "digital_signature" not in dsc.key_usage:
        usage = ("The document signer's certificate is not allowed to sign documents",)
    candidates = trust.issuer_candidates(dsc) if trust is not None else []
    if trust is None or not candidates:
        return _IssuerPart(usage, "no_candidates", None, ())
    csca = None
    for cand in candidates:
        try:
            if trust.issued_by(dsc, cand) if memo else dsc.signed_by(cand.public_key()):
                csca = cand
                break
        except PassiveAuthError:
            continue
    if csca is None:
        return _IssuerPart(usage, "none_verifies", None, ())
    reasons: list[str] = []
    if csca.is_ca is False or (
        csca.key_usage is not None and "key_cert_sign" not in csca.key_usage
    ):
        reasons.append("The CSCA certificate is not allowed to issue certificates")
    if not csca.valid_at(dsc.not_before):
        reasons.append(
            f"The CSCA certificate (valid {_day(csca.not_before)} to {_day(csca.not_after)}) "
            "was not valid when it issued the document signer's certificate"
        )
    if trust.revoked(dsc, csca):
        reasons.append("The document signer's certificate has been revoked")
    return _IssuerPart(usage, "found", csca, tuple(reasons))


@dataclass(frozen=True)
class ChainCacheInfo:
    """How a trust store's chain cache has been used: ``hits`` and ``misses`` since the
    store was made, and ``size`` entries held (at most :data:`CHAIN_CACHE_SIZE`)."""

    hits: int
    misses: int
    size: int


#: Document signers remembered per trust store (a country issues a few hundred a decade).
CHAIN_CACHE_SIZE = 4096
_ChainKey = tuple[bytes, int, tuple[bytes, ...]]


class _ChainCache:
    """A bounded LRU of :class:`_IssuerPart` per DSC, for one trust store.

    Key: the DSC's SHA-256 fingerprint (everything the part reads from the DSC:
    issuer name, authority key identifier, keyUsage, notBefore, serial, the
    signature under the CSCA), the store's :attr:`~TrustStore.version` (bumped
    by every certificate or CRL added or removed, so adding or removing a CSCA
    or a CRL is seen by the next card) and the store's CRL state for the DSC's
    issuer name (the fingerprints of its CRLs: with the version this is
    redundant, but it names in the key what revocation depends on). The
    reference time is *not* in the key because the cached part does not use
    it: the DSC's validity at the signing time, date of issue or today
    (:func:`_dsc_validity`) is checked on every card, it is a few comparisons.
    The CSCA's validity is checked at the DSC's notBefore, fixed by the
    fingerprint; revocation applies whatever the date, and a stale CRL is
    still applied (ICAO 9303-12), so neither moves with the clock.
    """

    def __init__(self) -> None:
        self.entries: OrderedDict[_ChainKey, _IssuerPart] = OrderedDict()
        self.hits = 0
        self.misses = 0
        self.lock = threading.Lock()

    def get(self, dsc: Certificate, trust: TrustStore) -> _IssuerPart:
        key = (dsc.fingerprint, trust.version, trust.crl_state(dsc.issuer_key))
        with self.lock:
            part = self.entries.get(key)
            if part is not None:
                self.entries.move_to_end(key)
                self.hits += 1
                return part
        part = _issuer_part(dsc, trust)
        with self.lock:
            self.misses += 1
            self.entries[key] = part
            while len(self.entries) > CHAIN_CACHE_SIZE:
                self.entries.popitem(last=False)
        return part


_CHAIN_CACHES: weakref.WeakKeyDictionary[TrustStore, _ChainCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def _chain_cache(trust: TrustStore) -> _ChainCache:
    with _CACHES_LOCK:
        cache = _CHAIN_CACHES.get(trust)
        if cache is None:
            cache = _CHAIN_CACHES[trust] = _ChainCache()
        return cache


def chain_cache_info(trust: TrustStore) -> ChainCacheInfo:
    """Hits, misses and size of ``trust``'s chain cache (all zero before its first card)."""
    cache = _chain_cache(trust)
    with cache.lock:
        return ChainCacheInfo(cache.hits, cache.misses, len(cache.entries))


def _check_chain(
    dsc: Certificate,
    trust: TrustStore | None,
    ref: _Reference,
    reasons: list[str],
    notes: list[str],
    *,
    use_cache: bool = True,
) -> tuple[ChainStatus, Certificate | None]:
    """Validity of the DSC, then its issuer among the trusted CSCAs (see the policy).

    The time-independent part comes from the store's chain cache
    (:class:`_ChainCache`) unless ``use_cache`` is False (then everything, the DSC's
    signature under the CSCA included, is checked afresh); the verdict is the same.
    """
    invalid = not _dsc_validity(dsc, ref, reasons, notes)
    if trust is not None and use_cache:
        part = _chain_cache(trust).get(dsc, trust)
    else:
        part = _issuer_part(dsc, trust, memo=use_cache)
    reasons.extend(part.usage)
    invalid |= bool(part.usage)
    if part.outcome == "no_candidates":
        if invalid:
            return "invalid", None
        reasons.append(f"The issuer of the document signer ({dsc.issuer}) is not trusted")
        return "unknown_issuer", None
    if part.outcome == "none_verifies":
        reasons.append(
            "The document signer's certificate is not signed by the trusted CSCA of that name"
        )
        return "invalid", None
    reasons.extend(part.issuer_reasons)
    invalid |= bool(part.issuer_reasons)
    return ("invalid" if invalid else "trusted"), part.csca


def passive_authentication(
    sod: SOD,
    files: Mapping[str, bytes],
    trust: TrustStore | None,
    *,
    protected: Iterable[str] = (),
    now: dt.datetime | None = None,
    date_of_issue: dt.date | None = None,
    chain_cache: bool = True,
) -> PassiveAuthResult:
    """Verify ``files`` (name → raw bytes, e.g. ``ReadResult.files``) against ``sod``.

    Only entries named ``DG1``…``DG16`` are checked; ``protected`` names DGs the
    chip refused (``ReadResult.protected``); ``trust`` None means no trusted
    CSCAs (the best outcome is then ``issuer_unknown``); ``now`` defaults to the
    current UTC time; ``date_of_issue`` is the document's, when the caller knows
    it (else it is read from DG12 or DG13 when they match their hashes): it is
    the reference time when the SOD has no signingTime; ``chain_cache`` False
    checks the chain afresh instead of from the store's cache (same verdict;
    see :class:`_ChainCache`). Never raises for bad
    signatures or certificates: those are results.
    """
    now = _utc(now) if now is not None else dt.datetime.now(dt.UTC)
    reasons: list[str] = []
    notes: list[str] = []
    failed = False
    si = sod.signer_info
    signing_time = _utc(si.signing_time) if si.signing_time is not None else None

    dsc: Certificate | None = None
    signer: SignerSummary | None = None
    signer_match: str | None = None
    try:
        found = sod.find_signer()
    except LDSParseError:
        found = None
    der = None
    if found is not None:
        der, signer_match = found
    if der is None:
        reasons.append("The SOD does not carry its document signer's certificate")
    else:
        try:
            dsc = Certificate.cached(der)
            signer = SignerSummary(dsc.subject, dsc.issuer, str(dsc.serial_number))
        except PassiveAuthError:
            reasons.append("The document signer's certificate is unreadable")

    signature_ok = _check_signature(sod, dsc, reasons)
    failed |= not signature_ok

    statuses, dg_failed = _check_data_groups(sod, files, set(protected), reasons)
    failed |= dg_failed

    if signing_time is not None and signing_time > now + FUTURE_TOLERANCE:
        reasons.append(f"The document claims to be signed in the future ({_day(signing_time)})")
        failed = True

    if signing_time is not None:
        ref = _Reference("signing_time", signing_time, now)
    else:
        issued = date_of_issue if date_of_issue is not None else _issue_date(files, statuses)
        if issued is not None:
            midnight = dt.datetime(issued.year, issued.month, issued.day, tzinfo=dt.UTC)
            ref = _Reference("date_of_issue", midnight, now)
        else:
            ref = _Reference("unknown", None, now)

    chain: ChainStatus = "invalid"
    csca: Certificate | None = None
    if dsc is not None:
        chain, csca = _check_chain(dsc, trust, ref, reasons, notes, use_cache=chain_cache)
    failed |= chain == "invalid"

    verdict: Verdict
    if failed:
        verdict = "failed"
        # The "not trusted" note is noise next to a real failure.
        reasons = [r for r in reasons if "is not trusted" not in r]
    elif chain == "unknown_issuer":
        verdict = "issuer_unknown"
    else:
        verdict = "verified"
    return PassiveAuthResult(
        verdict=verdict,
        signature="valid" if signature_ok else "invalid",
        chain=chain,
        reasons=tuple(reasons),
        signer=signer,
        data_groups=statuses,
        signing_time=signing_time,
        csca=None if csca is None else csca.subject,
        signer_match=signer_match,
        notes=tuple(notes),
        reference=ref.basis,
        reference_time=ref.when,
        csca_info=None if csca is None else CSCASummary.of(csca, trust),
    )


def _issue_date(files: Mapping[str, bytes], statuses: Mapping[str, DGStatus]) -> dt.date | None:
    """The document's date of issue from a hash-verified DG12 (5F26) or DG13 (field 11), or None.

    DG13 is read with :mod:`kiosk.emrtd.lds.dg13` (the CCCD's layout, the only
    DG13 this library knows); anything unreadable simply gives None.
    """
    if statuses.get("DG12") == "ok":
        found = _dg12_issue_date(files["DG12"])
        if found is not None:
            return found
    if statuses.get("DG13") == "ok":
        try:
            return dg13.parse(files["DG13"]).issue_date
        except LDSParseError:
            return None
    return None


def _dg12_issue_date(raw: bytes) -> dt.date | None:
    """DG12's date of issue (tag 5F26: ``YYYYMMDD`` digits, or 4 BCD bytes), or None."""
    try:
        outer, _rest = tlv.decode_prefix(raw, max_length=DATA_GROUPS[12].max_size)
    except TLVError:
        return None
    item = outer.find(0x5F26)
    if item is None:
        return None
    value = item.value
    text = value.hex() if len(value) == 4 else value.decode("ascii", "replace")
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None
