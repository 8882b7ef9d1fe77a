"""The simulator's test PKI: a test CSCA and the Document Signer it issues, made once per machine.

Real CCCD document signers chain to a CSCA that is not public, so the
simulator signs its EF.SOD with its own, clearly labelled test CSCA. The kiosk
may trust that CSCA in demo mode only (``TestPKI.csca_cert_path``).

Both certificates follow ICAO 9303-12 §7.1 profiles: the CSCA is self-signed
with basicConstraints CA (path length 0), keyUsage keyCertSign + cRLSign and
both key identifiers; the Document Signer has keyUsage digitalSignature
(critical), the authority key identifier of the CSCA, its own subject key
identifier and the optional document type list extension (``ID``). Keys are
ECDSA on brainpoolP256r1 with SHA-256. Both are valid from 2020-01-01 (so
sample cards issued since then verify at their issue date) until 15 (CSCA)
and 10 (DS) years after they were made.

The PKI lives in the simulator home (``$CCCD_SIM_HOME`` or the per-user data
dir) and is generated on first use under an exclusive file lock, each file
written to a temporary name and renamed into place, so two processes (e.g.
pytest-xdist workers) starting together end up with one consistent PKI.
Private keys are written with mode 0600 and never belong in the repository.

For the simulator's bad cards there is a second, separate set made the same
way (:func:`load_or_create_fault_pki`): a CSCA nobody trusts, an impostor CSCA
with the test CSCA's name, an expired and a revoked Document Signer under the
test CSCA, and the test CSCA's CRL revoking the latter (``csca.crl`` beside
``csca.pem``: :attr:`TestPKI.trust_paths` is what a test trust store loads).
:func:`make_crl` / :meth:`TestPKI.issue_crl` make further CRLs for tests.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from simulators.card.profile import SimulatorError

if TYPE_CHECKING:
    from kiosk.emrtd.trust import TrustStore

#: Environment variable naming the simulator's data directory.
HOME_ENV = "CCCD_SIM_HOME"
#: ICAO document type list extension (9303-12 §7.1.1.3), id-icao-mrtd-security-extensions 2.
OID_DOCUMENT_TYPE_LIST = x509.ObjectIdentifier("2.23.136.1.1.6.2")

CSCA_SUBJECT = x509.Name(
    [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cccd-kiosk simulator"),
        x509.NameAttribute(NameOID.COMMON_NAME, "CSCA Test Vietnam CCCD"),
    ]
)
DS_SUBJECT = x509.Name(
    [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cccd-kiosk simulator"),
        x509.NameAttribute(NameOID.COMMON_NAME, "Document Signer Test Vietnam CCCD 01"),
    ]
)
CSCA_YEARS = 15
DS_YEARS = 10
#: Start of validity of both certificates: before the earliest sample card was issued, so
#: an EF.SOD signed "on the card's issue date" lies inside the Document Signer's validity.
VALID_FROM = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
PKI_DIR = "pki"
_FILES = ("csca.pem", "csca-key.pem", "ds.pem", "ds-key.pem")
#: The test CSCA's CRL (DER), beside ``csca.pem``.
CRL_FILE = "csca.crl"
#: Validity of a test CRL (nextUpdate − thisUpdate). Real CSCAs publish every ≤ 90 days; a
#: cached test CRL must not go stale under a long-lived simulator home, so it runs for years.
CRL_DAYS = 3650


class PKIError(SimulatorError):
    """The simulator's PKI files are unreadable or inconsistent."""


def sim_home(home: Path | None = None) -> Path:
    """The simulator data directory: ``home``, else ``$CCCD_SIM_HOME``, else the user data dir."""
    if home is not None:
        return Path(home)
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("cccd-kiosk")) / "simulator"


@dataclass(frozen=True)
class TestPKI:
    """The test CSCA and Document Signer (certificates and private keys) and where they live."""

    __test__ = False  # not a pytest test class

    directory: Path
    csca_cert: x509.Certificate
    csca_key: ec.EllipticCurvePrivateKey
    ds_cert: x509.Certificate
    ds_key: ec.EllipticCurvePrivateKey

    @property
    def csca_cert_path(self) -> Path:
        """PEM file of the test CSCA: what a kiosk in demo mode adds to its trust store."""
        return self.directory / "csca.pem"

    @property
    def ds_cert_path(self) -> Path:
        return self.directory / "ds.pem"

    @property
    def csca_cert_der(self) -> bytes:
        return self.csca_cert.public_bytes(serialization.Encoding.DER)

    @property
    def ds_cert_der(self) -> bytes:
        return self.ds_cert.public_bytes(serialization.Encoding.DER)

    @property
    def crl_path(self) -> Path:
        """DER CRL of the test CSCA, beside its certificate (written by :meth:`write_crl`).

        A test trust store loads it together with :attr:`csca_cert_path`
        (see :attr:`trust_paths`); the simulator's fault profiles write here
        the CRL that revokes their ``revoked-dsc`` Document Signer.
        """
        return self.directory / CRL_FILE

    @property
    def trust_paths(self) -> tuple[Path, ...]:
        """What a test or demo trust store loads: the CSCA and, once written, its CRL."""
        if self.crl_path.is_file():
            return (self.csca_cert_path, self.crl_path)
        return (self.csca_cert_path,)

    def issue_crl(
        self,
        revoked: Iterable[x509.Certificate | int] = (),
        *,
        now: dt.datetime | None = None,
        next_update_days: int = CRL_DAYS,
        crl_number: int = 1,
    ) -> x509.CertificateRevocationList:
        """A CRL signed by the test CSCA listing ``revoked`` (certificates or serial numbers)."""
        return make_crl(
            self.csca_cert,
            self.csca_key,
            revoked,
            now=now,
            next_update_days=next_update_days,
            crl_number=crl_number,
        )

    def write_crl(self, crl: x509.CertificateRevocationList) -> Path:
        """Write ``crl`` (DER) to :attr:`crl_path` atomically and return the path."""
        write_atomic(self.crl_path, crl.public_bytes(serialization.Encoding.DER))
        return self.crl_path


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path`` (created if missing) for the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _document_type_list(*doc_types: str) -> bytes:
    """DER of DocumentTypeListSyntax ::= SEQUENCE { version 0, SET OF PrintableString }."""

    def tlv(tag: int, value: bytes) -> bytes:
        assert len(value) < 128
        return bytes([tag, len(value)]) + value

    items = b"".join(sorted(tlv(0x13, t.encode("ascii")) for t in doc_types))
    return tlv(0x30, tlv(0x02, b"\x00") + tlv(0x31, items))


_DS_KEY_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)


def _subject_key_id(cert: x509.Certificate) -> x509.SubjectKeyIdentifier:
    """The certificate's subject key identifier extension (computed from its key if absent)."""
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return x509.SubjectKeyIdentifier.from_public_key(cert.public_key())


def issue_document_signer(
    issuer_cert: x509.Certificate,
    issuer_key: ec.EllipticCurvePrivateKey,
    subject: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    *,
    not_before: dt.datetime,
    not_after: dt.datetime,
    serial_number: int | None = None,
) -> x509.Certificate:
    """A Document Signer certificate (ICAO 9303-12 §7.1 profile) issued by ``issuer_cert``.

    keyUsage digitalSignature (critical), the issuer's key identifier as
    authority key identifier, its own subject key identifier and the document
    type list ``ID``; signed with ECDSA-SHA256 by ``issuer_key``. The issuer
    name and key identifier are copied from ``issuer_cert`` as they are, so a
    CSCA that merely *claims* another's name and key identifier (an impostor)
    yields a DSC that names the real CSCA but is not signed by it.
    """
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_cert.subject)
        .public_key(public_key)
        .serial_number(serial_number or x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(_DS_KEY_USAGE, critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                _subject_key_id(issuer_cert)
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.UnrecognizedExtension(OID_DOCUMENT_TYPE_LIST, _document_type_list("ID")),
            critical=False,
        )
        .sign(issuer_key, hashes.SHA256())
    )


def make_csca(
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    *,
    not_before: dt.datetime,
    not_after: dt.datetime,
    key_identifier: bytes | None = None,
) -> x509.Certificate:
    """A self-signed CSCA certificate (ICAO 9303-12 §7.1 profile) for ``key``.

    basicConstraints CA with path length 0 and keyUsage keyCertSign + cRLSign
    (both critical), subject and authority key identifiers. ``key_identifier``
    overrides the key identifier normally computed from the key: an impostor
    CSCA copies the genuine CSCA's name *and* key identifier, so only the key
    itself tells them apart.
    """
    ski = (
        x509.SubjectKeyIdentifier(key_identifier)
        if key_identifier is not None
        else x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    )
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )


def _new_pki(directory: Path, now: dt.datetime) -> TestPKI:
    curve = ec.BrainpoolP256R1()
    csca_key = ec.generate_private_key(curve)
    ds_key = ec.generate_private_key(curve)
    start = min(VALID_FROM, now - dt.timedelta(days=1))
    csca = make_csca(
        CSCA_SUBJECT,
        csca_key,
        not_before=start,
        not_after=now + dt.timedelta(days=365 * CSCA_YEARS + 4),
    )
    ds = issue_document_signer(
        csca,
        csca_key,
        DS_SUBJECT,
        ds_key.public_key(),
        not_before=start,
        not_after=now + dt.timedelta(days=365 * DS_YEARS + 2),
    )
    return TestPKI(directory, csca, csca_key, ds, ds_key)


def _pem_key(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _save(pki: TestPKI) -> None:
    d = pki.directory
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(d, 0o700)
    pem = serialization.Encoding.PEM
    # A CRL left from an earlier CSCA would not verify under the new one.
    (d / CRL_FILE).unlink(missing_ok=True)
    # Keys first, certificates last: csca.pem present means the set is complete.
    write_atomic(d / "ds-key.pem", _pem_key(pki.ds_key), 0o600)
    write_atomic(d / "csca-key.pem", _pem_key(pki.csca_key), 0o600)
    write_atomic(d / "ds.pem", pki.ds_cert.public_bytes(pem))
    write_atomic(d / "csca.pem", pki.csca_cert.public_bytes(pem))


def _load(directory: Path) -> TestPKI:
    try:
        csca = x509.load_pem_x509_certificate((directory / "csca.pem").read_bytes())
        ds = x509.load_pem_x509_certificate((directory / "ds.pem").read_bytes())
        csca_key = serialization.load_pem_private_key(
            (directory / "csca-key.pem").read_bytes(), None
        )
        ds_key = serialization.load_pem_private_key((directory / "ds-key.pem").read_bytes(), None)
    except (OSError, ValueError) as exc:
        raise PKIError(f"cannot load the test PKI in {directory}: {exc}") from exc
    if not isinstance(csca_key, ec.EllipticCurvePrivateKey) or not isinstance(
        ds_key, ec.EllipticCurvePrivateKey
    ):
        raise PKIError(f"test PKI keys in {directory} are not EC keys")
    pki = TestPKI(directory, csca, csca_key, ds, ds_key)
    _check(pki)
    return pki


def _check(pki: TestPKI) -> None:
    """Raise :class:`PKIError` unless keys match certificates and the DS is signed by the CSCA."""
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER

    def same(a: ec.EllipticCurvePublicKey, b: ec.EllipticCurvePublicKey) -> bool:
        return a.public_bytes(der, spki) == b.public_bytes(der, spki)

    csca_pub = pki.csca_cert.public_key()
    ds_pub = pki.ds_cert.public_key()
    if not isinstance(csca_pub, ec.EllipticCurvePublicKey) or not isinstance(
        ds_pub, ec.EllipticCurvePublicKey
    ):
        raise PKIError("test PKI certificates do not hold EC keys")
    if not same(csca_pub, pki.csca_key.public_key()) or not same(ds_pub, pki.ds_key.public_key()):
        raise PKIError(f"test PKI in {pki.directory}: a key does not match its certificate")
    try:
        pki.ds_cert.verify_directly_issued_by(pki.csca_cert)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise PKIError(f"test PKI in {pki.directory}: DS not issued by the CSCA") from exc


def load_or_create_pki(home: Path | None = None) -> TestPKI:
    """The test PKI in ``home`` (see :func:`sim_home`), generated and saved on first use.

    Safe to call from several processes at once: generation happens under an
    exclusive lock and the loser of the race loads what the winner wrote.
    """
    directory = sim_home(home) / PKI_DIR
    if all((directory / name).is_file() for name in _FILES):
        try:
            return _load(directory)
        except PKIError:
            pass  # half-written by a crashed process: fall through, take the lock, redo
    with file_lock(sim_home(home) / ".pki.lock"):
        if all((directory / name).is_file() for name in _FILES):
            try:
                return _load(directory)
            except PKIError:
                pass
        pki = _new_pki(directory, dt.datetime.now(dt.UTC))
        _save(pki)
        return pki


# ---- CRLs -------------------------------------------------------------------------------------


def make_crl(
    issuer_cert: x509.Certificate,
    issuer_key: ec.EllipticCurvePrivateKey,
    revoked: Iterable[x509.Certificate | int] = (),
    *,
    now: dt.datetime | None = None,
    next_update_days: int = CRL_DAYS,
    crl_number: int = 1,
) -> x509.CertificateRevocationList:
    """A v2 CRL issued by ``issuer_cert`` (ICAO 9303-12 §7.1.4 profile) listing ``revoked``.

    thisUpdate is a day before ``now`` (clock skew between simulator and
    kiosk), nextUpdate ``next_update_days`` after ``now``; extensions are the
    authority key identifier of the issuer and the CRL number; every entry is
    revoked a day before ``now`` with reason keyCompromise. Signed ECDSA-SHA256.
    """
    now = now or dt.datetime.now(dt.UTC)
    when = now - dt.timedelta(days=1)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer_cert.subject)
        .last_update(when)
        .next_update(now + dt.timedelta(days=next_update_days))
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                _subject_key_id(issuer_cert)
            ),
            critical=False,
        )
        .add_extension(x509.CRLNumber(crl_number), critical=False)
    )
    for item in revoked:
        serial = item.serial_number if isinstance(item, x509.Certificate) else item
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(when)
            .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
            .build()
        )
    return builder.sign(issuer_key, hashes.SHA256())


# ---- the fault PKI ----------------------------------------------------------------------------
#
# Certificates for the simulator's bad cards (simulators/card/faults.py): a CSCA nobody trusts
# and its DS, an impostor CSCA with exactly the test CSCA's name and key identifier but its own
# key (and a DS under it), and two DSs issued by the genuine test CSCA: one expired, one revoked
# by the CSCA's CRL. Made once per simulator home like the test PKI (lock, atomic renames, keys
# 0600) in ``<sim home>/pki-faults/``; tied to the test CSCA by its fingerprint, so a new test
# PKI means a new fault PKI. The CRL goes beside the test CSCA (TestPKI.crl_path), where a
# test trust store loads it; it revokes only the fault DS, never the DS that signs good cards.

FAULT_PKI_DIR = "pki-faults"
_FAULT_MARKER = "for-csca.sha256"

UNTRUSTED_CSCA_SUBJECT = x509.Name(
    [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cccd-kiosk simulator (untrusted)"),
        x509.NameAttribute(NameOID.COMMON_NAME, "CSCA Test Untrusted"),
    ]
)
UNTRUSTED_DS_SUBJECT = x509.Name(
    [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cccd-kiosk simulator (untrusted)"),
        x509.NameAttribute(NameOID.COMMON_NAME, "Document Signer Test Untrusted"),
    ]
)
EXPIRED_DS_SUBJECT = x509.Name(
    [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cccd-kiosk simulator"),
        x509.NameAttribute(NameOID.COMMON_NAME, "Document Signer Test Vietnam CCCD 90 expired"),
    ]
)
REVOKED_DS_SUBJECT = x509.Name(
    [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cccd-kiosk simulator"),
        x509.NameAttribute(NameOID.COMMON_NAME, "Document Signer Test Vietnam CCCD 91 revoked"),
    ]
)
#: Days before the fault PKI was made on which the expired DS stopped being valid.
EXPIRED_DAYS_AGO = 2


@dataclass(frozen=True)
class Signer:
    """A Document Signer certificate and its private key."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def cert_der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)


@dataclass(frozen=True)
class FaultPKI:
    """The extra certificates and keys the simulator's bad cards are made with.

    ``untrusted_csca`` / ``untrusted_ds``: a CSCA the kiosk does not trust and
    its DS. ``impostor_csca`` / ``impostor_ds``: a CSCA with the test CSCA's
    subject and key identifier but another key, and a DS (with the genuine
    DS's subject) it signed. ``expired_ds`` and ``revoked_ds``: issued by the
    genuine test CSCA; the first expired :data:`EXPIRED_DAYS_AGO` days before
    the set was made, the second is listed in ``crl`` (signed by the test
    CSCA, written to :attr:`TestPKI.crl_path`). ``clone_rsa_key``: an RSA-2048
    key for cloned chips whose DG15 holds an RSA key.
    """

    directory: Path
    untrusted_csca: x509.Certificate
    untrusted_ds: Signer
    impostor_csca: x509.Certificate
    impostor_ds: Signer
    expired_ds: Signer
    revoked_ds: Signer
    crl: x509.CertificateRevocationList
    clone_rsa_key: rsa.RSAPrivateKey


_FAULT_CERTS = ("untrusted-csca", "impostor-csca")
_FAULT_SIGNERS = ("untrusted-ds", "impostor-ds", "expired-ds", "revoked-ds")


def _fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


def _new_fault_pki(directory: Path, pki: TestPKI, now: dt.datetime) -> FaultPKI:
    curve = ec.BrainpoolP256R1()
    start = min(VALID_FROM, now - dt.timedelta(days=1))
    ca_end = now + dt.timedelta(days=365 * CSCA_YEARS + 4)
    ds_end = now + dt.timedelta(days=365 * DS_YEARS + 2)

    def signer(
        issuer: x509.Certificate,
        issuer_key: ec.EllipticCurvePrivateKey,
        subject: x509.Name,
        end: dt.datetime,
    ) -> Signer:
        key = ec.generate_private_key(curve)
        cert = issue_document_signer(
            issuer, issuer_key, subject, key.public_key(), not_before=start, not_after=end
        )
        return Signer(cert, key)

    untrusted_key = ec.generate_private_key(curve)
    untrusted = make_csca(UNTRUSTED_CSCA_SUBJECT, untrusted_key, not_before=start, not_after=ca_end)
    impostor_key = ec.generate_private_key(curve)
    impostor = make_csca(
        CSCA_SUBJECT,
        impostor_key,
        not_before=start,
        not_after=ca_end,
        key_identifier=_subject_key_id(pki.csca_cert).digest,
    )
    expired_end = max(start + dt.timedelta(days=1), now - dt.timedelta(days=EXPIRED_DAYS_AGO))
    revoked = signer(pki.csca_cert, pki.csca_key, REVOKED_DS_SUBJECT, ds_end)
    return FaultPKI(
        directory=directory,
        untrusted_csca=untrusted,
        untrusted_ds=signer(untrusted, untrusted_key, UNTRUSTED_DS_SUBJECT, ds_end),
        impostor_csca=impostor,
        impostor_ds=signer(impostor, impostor_key, DS_SUBJECT, ds_end),
        expired_ds=signer(pki.csca_cert, pki.csca_key, EXPIRED_DS_SUBJECT, expired_end),
        revoked_ds=revoked,
        crl=pki.issue_crl([revoked.cert], now=now),
        clone_rsa_key=rsa.generate_private_key(65537, 2048),
    )


def _save_fault_pki(fp: FaultPKI, pki: TestPKI) -> None:
    d = fp.directory
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(d, 0o700)
    (d / _FAULT_MARKER).unlink(missing_ok=True)  # incomplete until the marker is back
    pem = serialization.Encoding.PEM
    for name, s in zip(
        _FAULT_SIGNERS, (fp.untrusted_ds, fp.impostor_ds, fp.expired_ds, fp.revoked_ds), strict=True
    ):
        write_atomic(d / f"{name}-key.pem", _pem_key(s.key), 0o600)
        write_atomic(d / f"{name}.pem", s.cert.public_bytes(pem))
    write_atomic(d / "clone-aa-rsa-key.pem", _pem_key(fp.clone_rsa_key), 0o600)
    for name, cert in zip(_FAULT_CERTS, (fp.untrusted_csca, fp.impostor_csca), strict=True):
        write_atomic(d / f"{name}.pem", cert.public_bytes(pem))
    pki.write_crl(fp.crl)
    write_atomic(d / _FAULT_MARKER, _fingerprint(pki.csca_cert).encode("ascii"))


def _load_fault_pki(directory: Path, pki: TestPKI) -> FaultPKI:
    """Load and check the fault PKI made for ``pki``; :class:`PKIError` if absent or stale."""
    try:
        if (directory / _FAULT_MARKER).read_text("ascii").strip() != _fingerprint(pki.csca_cert):
            raise PKIError(f"fault PKI in {directory} was made for another test CSCA")
        certs = {
            n: x509.load_pem_x509_certificate((directory / f"{n}.pem").read_bytes())
            for n in (*_FAULT_CERTS, *_FAULT_SIGNERS)
        }
        keys = {
            n: serialization.load_pem_private_key((directory / f"{n}-key.pem").read_bytes(), None)
            for n in (*_FAULT_SIGNERS, "clone-aa-rsa")
        }
        crl = x509.load_der_x509_crl(pki.crl_path.read_bytes())
    except (OSError, ValueError) as exc:
        raise PKIError(f"cannot load the fault PKI in {directory}: {exc}") from exc
    signers: dict[str, Signer] = {}
    for n in _FAULT_SIGNERS:
        key = keys[n]
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise PKIError(f"fault PKI key {n} is not an EC key")
        signers[n] = Signer(certs[n], key)
    clone = keys["clone-aa-rsa"]
    if not isinstance(clone, rsa.RSAPrivateKey):
        raise PKIError("fault PKI clone AA key is not an RSA key")
    fp = FaultPKI(
        directory=directory,
        untrusted_csca=certs["untrusted-csca"],
        untrusted_ds=signers["untrusted-ds"],
        impostor_csca=certs["impostor-csca"],
        impostor_ds=signers["impostor-ds"],
        expired_ds=signers["expired-ds"],
        revoked_ds=signers["revoked-ds"],
        crl=crl,
        clone_rsa_key=clone,
    )
    _check_fault_pki(fp, pki)
    return fp


def _check_fault_pki(fp: FaultPKI, pki: TestPKI) -> None:
    """Raise :class:`PKIError` unless every DS is issued as claimed and the CRL revokes one."""
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    pairs = (
        (fp.untrusted_ds, fp.untrusted_csca),
        (fp.impostor_ds, fp.impostor_csca),
        (fp.expired_ds, pki.csca_cert),
        (fp.revoked_ds, pki.csca_cert),
    )
    for s, issuer in pairs:
        if s.cert.public_key().public_bytes(der, spki) != s.key.public_key().public_bytes(
            der, spki
        ):
            raise PKIError(f"fault PKI in {fp.directory}: a key does not match its certificate")
        try:
            s.cert.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature) as exc:
            raise PKIError(f"fault PKI in {fp.directory}: a DS is not issued as claimed") from exc
    csca_pub = pki.csca_cert.public_key()
    if (
        not isinstance(csca_pub, ec.EllipticCurvePublicKey)
        or not fp.crl.is_signature_valid(csca_pub)
        or fp.crl.get_revoked_certificate_by_serial_number(fp.revoked_ds.cert.serial_number) is None
    ):
        raise PKIError(f"{pki.crl_path}: not the test CSCA's CRL revoking the fault DS")


def load_or_create_fault_pki(home: Path | None = None) -> FaultPKI:
    """The fault PKI for the test PKI in ``home``, made and saved (with its CRL) on first use.

    Like :func:`load_or_create_pki`: safe from several processes at once, and
    a set that is half written or made for another test CSCA is made again.
    """
    pki = load_or_create_pki(home)
    directory = sim_home(home) / FAULT_PKI_DIR
    try:
        return _load_fault_pki(directory, pki)
    except PKIError:
        pass
    with file_lock(sim_home(home) / ".pki-faults.lock"):
        try:
            return _load_fault_pki(directory, pki)
        except PKIError:
            pass
        fp = _new_fault_pki(directory, pki, dt.datetime.now(dt.UTC))
        _save_fault_pki(fp, pki)
        return fp


def demo_trust_paths(home: Path | None = None) -> tuple[Path, ...]:
    """What demo mode trusts: the test CSCA and its CRL, the CRL guaranteed to exist.

    The CRL lists the revoked-DSC fault's signer; it is written with the fault
    PKI, so that is made (once, then cached) before the paths are handed out —
    otherwise the first ``sim:CARD+revoked-dsc`` read in a fresh simulator home
    would trust a store without the CRL and call a revoked signer valid.
    """
    load_or_create_fault_pki(home)
    return load_or_create_pki(home).trust_paths


def demo_trust_store(home: Path | None = None) -> TrustStore:
    """A store trusting only the simulator's test CSCA and its CRL (demo mode, not production)."""
    from kiosk.emrtd.trust import TrustStore

    return TrustStore.from_paths(demo_trust_paths(home))
