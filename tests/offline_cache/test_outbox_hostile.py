"""The outbox against a hostile HIS on 127.0.0.1: each delivery bounded in size and time.

Memory is measured in a separate process (``tests/fixtures/hostile_client.py``, peak RSS by
``resource.getrusage``). No test asserts a duration: a dripping HIS must end the delivery
with ``HisDeadlineExceeded`` (the old code waited for the whole dripped answer and counted
it as delivered).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from offline_cache.crypto import Sealer
from offline_cache.journal import Journal
from offline_cache.outbox import Outbox
from tests.fixtures.hostile_client import run
from tests.fixtures.hostile_http import HostileServer

KEY = bytes(range(32))
T0 = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
MINH = {"id_number": "001088034517", "full_name": "Trần Đức Minh", "date_of_birth": "1988-03-04"}
RSS_LIMIT_MB = 150


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer("ok", drip_s=0.25) as hs:
        yield hs


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with Journal(tmp_path / "journal.db", Sealer(KEY)) as j:
        yield j


def _status(journal: Journal, checkin_id: str) -> tuple[str, str | None]:
    row = journal.db.conn.execute(
        "SELECT state, last_status FROM outbox WHERE checkin_id = ?", (checkin_id,)
    ).fetchone()
    journal.db.conn.commit()
    return row[0], row[1]


@pytest.mark.parametrize("mode", ["huge", "huge_nolength", "gzip", "chunked"])
def test_oversized_answers_are_refused_with_bounded_memory(
    hostile: HostileServer, mode: str
) -> None:
    hostile.mode = mode
    out = run("outbox", hostile.url, timeout=5.0)
    assert out == {"outcome": "not_delivered", "status": "HisAnswerTooLarge"} | {
        "maxrss_kb": out["maxrss_kb"]
    }
    assert out["maxrss_kb"] < RSS_LIMIT_MB * 1024, out
    assert hostile.bytes_sent < 64 * 1024 * 1024


@pytest.mark.parametrize("mode", ["drip", "drip_headers"])
def test_a_dripping_his_is_cut_off_and_stops_the_drain(
    hostile: HostileServer, journal: Journal, mode: str
) -> None:
    hostile.mode = mode
    a = journal.record(method="manual", chip_verified=False, holder=MINH, now=T0)
    b = journal.record(method="manual", chip_verified=False, holder=MINH, now=T0)
    with Outbox(journal.db_path, Sealer(KEY), url=hostile.url + "/checkins", timeout=1.0) as ob:
        report = ob.drain(now=T0)
    assert report.delivered == 0
    assert _status(journal, a.checkin_id) == ("pending", "HisDeadlineExceeded")
    # Like an unreachable HIS: the rest of the queue waits for the next drain.
    assert _status(journal, b.checkin_id) == ("pending", None)
    assert len(hostile.requests) == 1


def test_a_small_cap_refuses_and_a_normal_answer_delivers(
    hostile: HostileServer, journal: Journal
) -> None:
    a = journal.record(method="manual", chip_verified=False, holder=MINH, now=T0)
    url = hostile.url + "/checkins"
    hostile.mode = "escapes"  # a normal-sized answer, over a 100-byte cap
    with Outbox(journal.db_path, Sealer(KEY), url=url, max_answer_bytes=100) as ob:
        assert ob.drain(now=T0).delivered == 0
    assert _status(journal, a.checkin_id) == ("pending", "HisAnswerTooLarge")
    hostile.mode = "ok"
    with Outbox(journal.db_path, Sealer(KEY), url=url) as ob:
        assert ob.drain(now=datetime(2026, 11, 25, tzinfo=UTC)).delivered == 1
    assert _status(journal, a.checkin_id) == ("delivered", "201")


# --- the hand-off's transport rules: bearer token, https, nothing secret in logs --------------


def test_the_bearer_token_is_sent(journal: Journal) -> None:
    import httpx

    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Authorization"))
        return httpx.Response(201, json={})

    journal.record(method="manual", chip_verified=False, holder=MINH, now=T0)
    client = httpx.Client(transport=httpx.MockTransport(handler))
    with Outbox(
        journal.db_path, Sealer(KEY), url="https://his.test/c", client=client, token="t0k"
    ) as ob:
        assert ob.drain(now=T0).delivered == 1
    assert seen == ["Bearer t0k"]


@pytest.mark.parametrize("url", ["http://his.local/checkins", "http://192.168.1.20/c", "ftp://x/"])
def test_plain_http_to_another_host_is_refused(journal: Journal, url: str) -> None:
    from offline_cache.his_errors import HisUrlRefused

    with pytest.raises(HisUrlRefused, match="https"):
        Outbox(journal.db_path, Sealer(KEY), url=url)


def test_loopback_and_the_lab_switch(
    journal: Journal, hostile: HostileServer, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    Outbox(journal.db_path, Sealer(KEY), url=hostile.url + "/c").close()
    with caplog.at_level(logging.WARNING):
        Outbox(
            journal.db_path, Sealer(KEY), url="http://his.lab/c", allow_insecure_http=True
        ).close()
    assert any("in clear" in r.getMessage() for r in caplog.records)


def test_userinfo_query_and_token_never_reach_the_log(
    journal: Journal, hostile: HostileServer, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    journal.record(method="manual", chip_verified=False, holder=MINH, now=T0)
    url = hostile.url.replace("http://", "http://u:s3cret@") + "/c?api_key=k3y"
    with (
        caplog.at_level(logging.DEBUG),
        Outbox(journal.db_path, Sealer(KEY), url=url, token="t0k") as ob,
    ):
        assert ob.drain(now=T0).delivered == 1
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "HTTP Request" in text
    assert "s3cret" not in text and "k3y" not in text and "t0k" not in text


from tests.eligibility.test_eligibility_bhxh import https_gateway  # noqa: E402, F401


def test_tls_and_token_failures_are_named_and_logged_at_error(
    journal: Journal,
    https_gateway: tuple[str, Path],  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    import httpx

    a = journal.record(method="manual", chip_verified=False, holder=MINH, now=T0)
    url, _ = https_gateway
    with caplog.at_level(logging.WARNING), Outbox(journal.db_path, Sealer(KEY), url=url) as ob:
        assert ob.drain(now=T0).delivered == 0
    assert _status(journal, a.checkin_id) == ("pending", "HisTlsError")
    assert any(r.levelno == logging.ERROR and "TLS" in r.getMessage() for r in caplog.records)

    caplog.clear()
    client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(401)))
    later = datetime(2026, 11, 25, tzinfo=UTC)
    with (
        caplog.at_level(logging.WARNING),
        Outbox(
            journal.db_path, Sealer(KEY), url="https://his.test/c", client=client, token="bad"
        ) as ob,
    ):
        assert ob.drain(now=later).delivered == 0
    assert _status(journal, a.checkin_id) == ("pending", "HisAuthRefused 401")
    assert any(r.levelno == logging.ERROR and "token" in r.getMessage() for r in caplog.records)
    assert "bad" not in caplog.text


# --- a TLS client certificate ----------------------------------------------------------------


def _pki(d: Path) -> dict[str, Path]:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, as PEM files."""
    import ipaddress
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def cert(subject: str, key: Any, issuer: str, signer: Any, *, ca: bool, san: Any = None) -> Any:
        b = (
            x509.CertificateBuilder()
            .subject_name(name(subject))
            .issuer_name(name(issuer))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if san is not None:
            b = b.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return b.sign(signer, hashes.SHA256())

    def write(stem: str, key: Any, crt: Any) -> None:
        (d / f"{stem}.pem").write_bytes(crt.public_bytes(serialization.Encoding.PEM))
        (d / f"{stem}.key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = cert("test HIS CA", ca_key, "test HIS CA", ca_key, ca=True)
    write("ca", ca_key, ca)
    srv_key = ec.generate_private_key(ec.SECP256R1())
    san = [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    write("server", srv_key, cert("his", srv_key, "test HIS CA", ca_key, ca=False, san=san))
    cli_key = ec.generate_private_key(ec.SECP256R1())
    write("client", cli_key, cert("kiosk-01", cli_key, "test HIS CA", ca_key, ca=False))
    return {s: d / f"{s}.pem" for s in ("ca", "server", "client")}


@pytest.fixture
def mtls_his(tmp_path: Path) -> Iterator[tuple[str, dict[str, Path], list[str]]]:
    import json
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    pki = _pki(tmp_path)
    peers: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            peer = self.connection.getpeercert()
            peers.append(dict(x[0] for x in peer["subject"])["commonName"])
            data = json.dumps({"status": "created"}).encode()
            self.send_response(201)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *a: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            pass

    srv = Server(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki["server"], tmp_path / "server.key")
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(pki["ca"])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    yield f"https://127.0.0.1:{srv.server_address[1]}/checkins", pki, peers
    srv.shutdown()
    srv.server_close()


def test_a_tls_client_certificate_authenticates_the_kiosk(
    journal: Journal, mtls_his: tuple[str, dict[str, Path], list[str]], tmp_path: Path
) -> None:
    url, pki, peers = mtls_his
    a = journal.record(method="manual", chip_verified=False, holder=MINH, now=T0)
    ca = str(pki["ca"])
    with Outbox(journal.db_path, Sealer(KEY), url=url, ca_bundle=ca, timeout=3.0) as ob:
        assert ob.drain(now=T0).delivered == 0  # no client certificate: refused
    assert peers == []
    later = datetime(2026, 11, 25, tzinfo=UTC)
    with Outbox(
        journal.db_path,
        Sealer(KEY),
        url=url,
        ca_bundle=ca,
        client_cert=str(pki["client"]),
        client_key=str(tmp_path / "client.key"),
    ) as ob:
        assert ob.drain(now=later).delivered == 1
    assert peers == ["kiosk-01"]
    assert _status(journal, a.checkin_id) == ("delivered", "201")


def test_unloadable_tls_files_are_refused_at_once(journal: Journal, tmp_path: Path) -> None:
    from offline_cache.his_errors import HisTlsError

    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    with pytest.raises(HisTlsError, match="ca_bundle"):
        Outbox(journal.db_path, Sealer(KEY), url="https://his.test/c", ca_bundle=str(junk))
    with pytest.raises(HisTlsError, match="client_cert"):
        Outbox(journal.db_path, Sealer(KEY), url="https://his.test/c", client_cert=str(junk))
