"""TLS to the shared database with ``sslmode=verify-full``, on a real server with ``ssl=on``.

A private server (tests/fixtures/postgres.py) gets a certificate for ``localhost`` signed by
a CA made here with ``cryptography``, and a ``pg_hba.conf`` that accepts TCP only over TLS.
The adapter connects with the hospital's CA (``sslrootcert``) and the connection is
encrypted (``pg_stat_ssl``); a kiosk trusting another CA, or asking for a name the
certificate does not carry, is refused with :class:`StorageUnreachable` before a byte of
a check-in is sent.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from offline_cache.crypto import Sealer, StorageUnreachable
from offline_cache.pg.schema import upgrade
from offline_cache.pg.store import PgStore
from tests.fixtures.pg_workers import KEY, holder
from tests.fixtures.postgres import PgServer, running_server, why_not


def _ca(name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _server_cert(
    ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PgServer, Path]]:
    """A private server with ``ssl=on`` (TCP only over TLS) and the CA file that trusts it."""
    reason = why_not()
    if reason:
        pytest.skip(reason)
    files = tmp_path_factory.mktemp("tls")
    ca_key, ca = _ca("Bệnh viện test CA")
    key, cert = _server_cert(ca_key, ca)
    (files / "ca.pem").write_bytes(_pem(ca))
    _, other = _ca("Some other CA")
    (files / "other-ca.pem").write_bytes(_pem(other))
    with running_server() as server:
        crt, pk = server.folder / "server.crt", server.folder / "server.key"
        crt.write_bytes(_pem(cert))
        pk.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        os.chmod(pk, 0o600)
        if os.geteuid() == 0:
            for f in (crt, pk):
                os.chown(f, 65534, 65534)
        with (server.data / "postgresql.conf").open("a") as conf:
            conf.write(f"ssl = on\nssl_cert_file = '{crt}'\nssl_key_file = '{pk}'\n")
        (server.data / "pg_hba.conf").write_text(
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\n"
        )
        server.restart("fast")
        yield server, files


def _url(server: PgServer, dbname: str, ca: Path, host: str = "localhost") -> str:
    """A verify-full URL; ``host`` is the name checked against the certificate (the address
    is always 127.0.0.1, where the server listens)."""
    return (
        f"postgresql://postgres@{host}:{server.port}/{dbname}"
        f"?hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert={ca}"
    )


def test_verify_full_with_the_hospitals_ca_is_encrypted(tls_server: tuple[PgServer, Path]) -> None:
    server, files = tls_server
    name = server.create_database().rsplit("/", 1)[1]
    url = _url(server, name, files / "ca.pem")
    upgrade(url, Sealer(KEY))
    store = PgStore.open(url, Sealer(KEY))
    try:
        rec = store.journal.record(method="manual", chip_verified=False, holder=holder(1))
        assert rec.queue_number == 1
        with store.pool.connection() as conn:
            row = conn.execute(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
            ).fetchone()
        assert row == (True,)
    finally:
        store.close()


def test_plain_tcp_is_refused_by_the_server(tls_server: tuple[PgServer, Path]) -> None:
    server, _ = tls_server
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(f"postgresql://postgres@127.0.0.1:{server.port}/postgres?sslmode=disable")


@pytest.mark.parametrize("case", ["another CA", "a name not in the certificate"])
def test_a_server_that_cannot_be_verified_is_refused(
    tls_server: tuple[PgServer, Path], case: str
) -> None:
    server, files = tls_server
    if case == "another CA":
        url = _url(server, "postgres", files / "other-ca.pem")
    else:
        url = _url(server, "postgres", files / "ca.pem", host="db.benhvien.invalid")
    with pytest.raises(psycopg.OperationalError) as why:  # refused for the certificate
        psycopg.connect(url)
    assert "certificate" in str(why.value) or "does not match" in str(why.value)
    with pytest.raises(StorageUnreachable):
        PgStore.open(url, Sealer(KEY), connect_timeout_s=2.0)
