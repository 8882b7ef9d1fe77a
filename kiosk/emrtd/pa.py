"""Passive Authentication (ICAO 9303-11 §5.1, 9303-12): is the data intact, signed and trusted?

:func:`passive_authentication` grades a read (or a dump) into one of three
verdicts, never a bare bool:

* ``verified`` — every data group present matches its hash in EF.SOD, the
  SOD's signature verifies with the Document Signer Certificate (DSC) it
  carries, and the DSC chains to a CSCA in the trust store;
* ``issuer_unknown`` — data intact and signed by the DSC, but no trusted CSCA
  of the DSC's issuer name is known (the honest state of a real CCCD today,
  whose CSCA is not public);
* ``failed`` — anything else, with short reasons a receptionist can read.

Checks, in order:

1. Signature: the signed attributes hold contentType = LDSSecurityObject and a
   messageDigest equal to the digest of the eContent; their signature verifies
   with the DSC's key (RSA PKCS#1 v1.5, RSA-PSS, ECDSA; see :mod:`kiosk.emrtd.certs`).
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

* The reference time is the SOD's signingTime; without one, the time of the
  check (``now``). A DSC must have been valid at the reference time. An
  expired DSC on a document signed while it was valid is fine — passports and
  CCCDs outlive their signers by design; a document signed outside the DSC's
  validity fails.
* A signingTime more than one day after ``now`` fails (a clock cannot sign the future).
* The CSCA must have been valid when it issued the DSC (at the DSC's
  notBefore); its later expiry does not matter, for the same reason.
* A DSC whose keyUsage lacks digitalSignature, or a CSCA whose basicConstraints
  or keyUsage forbid issuing certificates, fails.
* Revocation: when the store holds a CRL of the issuing CSCA whose signature
  verifies, a DSC listed on it fails, whatever the revocation date (ICAO
  9303-12: a revoked DSC invalidates the documents it signed). No CRL → not
  checked (the usual state offline), and nothing is claimed about it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from kiosk.emrtd.certs import Certificate, PassiveAuthError, verify_signature
from kiosk.emrtd.errors import LDSParseError
from kiosk.emrtd.lds._common import outer_object
from kiosk.emrtd.lds.files import DATA_GROUPS
from kiosk.emrtd.lds.sod import ID_LDS_SECURITY_OBJECT, SOD
from kiosk.emrtd.trust import TrustStore

Verdict = Literal["verified", "issuer_unknown", "failed"]
SignatureStatus = Literal["valid", "invalid"]
ChainStatus = Literal["trusted", "unknown_issuer", "invalid"]
DGStatus = Literal["ok", "mismatch", "not_listed", "protected", "missing"]

#: A signingTime this far after the time of the check is accepted (clock skew).
FUTURE_TOLERANCE = dt.timedelta(days=1)
_HASHLIB = ("sha1", "sha224", "sha256", "sha384", "sha512")
_DG_NAMES = {info.name: n for n, info in DATA_GROUPS.items()}


@dataclass(frozen=True)
class SignerSummary:
    """Who signed the SOD: the DSC's subject, its issuer, and its serial number (decimal)."""

    subject: str
    issuer: str
    serial: str


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
    if si.signed_attrs_der is None:
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
    try:
        ok = verify_signature(
            dsc.public_key(),
            si.signature_algorithm_oid,
            si.signed_attrs_der,
            si.signature,
            parameters=si.signature_parameters_der,
            digest=digest_name,
        )
    except PassiveAuthError as exc:
        reasons.append(f"The SOD's signature cannot be checked: {exc}")
        return False
    if not ok:
        reasons.append("The SOD's signature does not verify with the document signer's key")
    return ok


def _check_chain(
    dsc: Certificate, trust: TrustStore | None, when: dt.datetime, reasons: list[str]
) -> tuple[ChainStatus, Certificate | None]:
    """Validity of the DSC, then its issuer among the trusted CSCAs (see the policy)."""
    invalid = False
    if not dsc.valid_at(when):
        reasons.append(
            f"The document signer's certificate (valid {_day(dsc.not_before)} to "
            f"{_day(dsc.not_after)}) was not valid when the document was signed ({_day(when)})"
        )
        invalid = True
    if dsc.key_usage is not None and "digital_signature" not in dsc.key_usage:
        reasons.append("The document signer's certificate is not allowed to sign documents")
        invalid = True
    candidates = trust.issuer_candidates(dsc) if trust is not None else []
    if not candidates:
        if invalid:
            return "invalid", None
        reasons.append(f"The issuer of the document signer ({dsc.issuer}) is not trusted")
        return "unknown_issuer", None
    csca = None
    for cand in candidates:
        try:
            if dsc.signed_by(cand.public_key()):
                csca = cand
                break
        except PassiveAuthError:
            continue
    if csca is None:
        reasons.append(
            "The document signer's certificate is not signed by the trusted CSCA of that name"
        )
        return "invalid", None
    if csca.is_ca is False or (
        csca.key_usage is not None and "key_cert_sign" not in csca.key_usage
    ):
        reasons.append("The CSCA certificate is not allowed to issue certificates")
        invalid = True
    if not csca.valid_at(dsc.not_before):
        reasons.append(
            f"The CSCA certificate (valid {_day(csca.not_before)} to {_day(csca.not_after)}) "
            "was not valid when it issued the document signer's certificate"
        )
        invalid = True
    if trust is not None and trust.revoked(dsc, csca):
        reasons.append("The document signer's certificate has been revoked")
        invalid = True
    return ("invalid" if invalid else "trusted"), csca


def passive_authentication(
    sod: SOD,
    files: Mapping[str, bytes],
    trust: TrustStore | None,
    *,
    protected: Iterable[str] = (),
    now: dt.datetime | None = None,
) -> PassiveAuthResult:
    """Verify ``files`` (name → raw bytes, e.g. ``ReadResult.files``) against ``sod``.

    Only entries named ``DG1``…``DG16`` are checked; ``protected`` names DGs the
    chip refused (``ReadResult.protected``); ``trust`` None means no trusted
    CSCAs (the best outcome is then ``issuer_unknown``); ``now`` defaults to the
    current UTC time. Never raises for bad signatures or certificates: those
    are results.
    """
    now = _utc(now) if now is not None else dt.datetime.now(dt.UTC)
    reasons: list[str] = []
    failed = False
    si = sod.signer_info
    signing_time = _utc(si.signing_time) if si.signing_time is not None else None

    dsc: Certificate | None = None
    signer: SignerSummary | None = None
    try:
        der = sod.signer_certificate()
    except LDSParseError:
        der = None
    if der is None:
        reasons.append("The SOD does not carry its document signer's certificate")
    else:
        try:
            dsc = Certificate.from_der(der)
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

    chain: ChainStatus = "invalid"
    csca: Certificate | None = None
    if dsc is not None:
        when = signing_time if signing_time is not None else now
        chain, csca = _check_chain(dsc, trust, when, reasons)
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
    )
