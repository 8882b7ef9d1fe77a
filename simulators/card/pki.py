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
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import platformdirs
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from simulators.card.profile import SimulatorError

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


def _new_pki(directory: Path, now: dt.datetime) -> TestPKI:
    curve = ec.BrainpoolP256R1()
    csca_key = ec.generate_private_key(curve)
    ds_key = ec.generate_private_key(curve)
    csca_ski = x509.SubjectKeyIdentifier.from_public_key(csca_key.public_key())
    start = min(VALID_FROM, now - dt.timedelta(days=1))
    csca = (
        x509.CertificateBuilder()
        .subject_name(CSCA_SUBJECT)
        .issuer_name(CSCA_SUBJECT)
        .public_key(csca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(now + dt.timedelta(days=365 * CSCA_YEARS + 4))
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
        .add_extension(csca_ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(csca_ski),
            critical=False,
        )
        .sign(csca_key, hashes.SHA256())
    )
    ds = (
        x509.CertificateBuilder()
        .subject_name(DS_SUBJECT)
        .issuer_name(CSCA_SUBJECT)
        .public_key(ds_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(now + dt.timedelta(days=365 * DS_YEARS + 2))
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(csca_ski),
            critical=False,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ds_key.public_key()), critical=False
        )
        .add_extension(
            x509.UnrecognizedExtension(OID_DOCUMENT_TYPE_LIST, _document_type_list("ID")),
            critical=False,
        )
        .sign(csca_key, hashes.SHA256())
    )
    return TestPKI(directory, csca, csca_key, ds, ds_key)


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
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
