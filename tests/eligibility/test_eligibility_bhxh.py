"""BhxhClient against httpx.MockTransport: bodies, every code, tokens, retries, breaker, TLS,
configuration and privacy."""

from __future__ import annotations

import json
import logging
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from kiosk.eligibility.base import Person
from kiosk.eligibility.bhxh import BhxhClient, BhxhConfig, md5_hex
from kiosk.eligibility.codes import CODES
from kiosk.eligibility.errors import (
    ConfigurationError,
    GatewayAuthError,
    GatewayProtocolError,
    GatewayUnavailable,
)

PERSON = Person("001088034517", "Trần Đức Minh", date(1988, 3, 4), sex="Nam")
NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


class FakeTime:
    """Monotonic clock + sleep that only moves when told (or when sleeping)."""

    def __init__(self) -> None:
        self.t = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.t += s


@dataclass
class FakeGateway:
    """Scripted gateway: ``check_replies`` are consumed one per card-check request."""

    expires_in: Any = 3600
    token_reply: Callable[[], httpx.Response] | None = None
    check_replies: list[Callable[[httpx.Request], httpx.Response]] = field(default_factory=list)
    default: dict[str, Any] = field(default_factory=lambda: answer("000"))
    requests: list[httpx.Request] = field(default_factory=list)
    tokens: int = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/api/token/take":
            if self.token_reply is not None:
                return self.token_reply()
            self.tokens += 1
            return httpx.Response(
                200,
                json={
                    "maKetQua": "200",
                    "APIKey": {
                        "access_token": f"tok{self.tokens}",
                        "id_token": f"id{self.tokens}",
                        "expires_in": self.expires_in,
                        "username": "kiosk01",
                    },
                },
            )
        if self.check_replies:
            return self.check_replies.pop(0)(request)
        return httpx.Response(200, json=self.default)

    @property
    def checks(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.startswith("/api/egw/")]


def answer(code: str, **kw: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "maKetQua": code,
        "ghiChu": f"ghi chú {code}",
        "maThe": "GD4010120001234",
        "hoTen": "Trần Đức Minh",
        "ngaySinh": "04/03/1988",
        "gioiTinh": "Nam",
        "maDKBD": "01001",
        "gtTheTu": "01/01/2026",
        "gtTheDen": "31/12/2026",
        "maTheMoi": None,
        "dsLichSuKCB2018": None,
    }
    d.update(kw)
    return d


def reply(status: int = 200, body: Any = None, raw: bytes | None = None) -> Callable[..., Any]:
    def f(_: httpx.Request) -> httpx.Response:
        if raw is not None:
            return httpx.Response(status, content=raw)
        return httpx.Response(status, json=body if body is not None else answer("000"))

    return f


def timeout(_: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out")


def refused(_: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] Connection refused")


def config(**kw: Any) -> BhxhConfig:
    base: dict[str, Any] = dict(
        base_url="https://gateway.test",
        username="kiosk01",
        password="s3cret-pässword",
        staff_name="Nguyễn Văn An",
        staff_cccd="001090000001",
    )
    base.update(kw)
    return BhxhConfig(**base)


@pytest.fixture
def ft() -> FakeTime:
    return FakeTime()


def make(gw: FakeGateway, ft: FakeTime, **kw: Any) -> BhxhClient:
    return BhxhClient(
        config(**kw),
        transport=httpx.MockTransport(gw),
        clock=ft.clock,
        sleep=ft.sleep,
        now=lambda: NOW,
    )


# -- request bodies -------------------------------------------------------------------------


def test_2024_request(ft: FakeTime) -> None:
    gw = FakeGateway()
    r = make(gw, ft).check(PERSON)
    assert r.status == "eligible"
    tok, chk = gw.requests
    assert tok.method == "POST" and json.loads(tok.content) == {
        "username": "kiosk01",
        "password": md5_hex("s3cret-pässword"),
    }
    assert len(md5_hex("x")) == 32 and md5_hex("x") == "9dd4e461268c8034f5c8564e155c67a6"
    assert chk.url.path == "/api/egw/KQNhanLichSuKCB2024"
    assert dict(chk.url.params) == {
        "token": "tok1",
        "id_token": "id1",
        "username": "kiosk01",
        "password": md5_hex("s3cret-pässword"),
    }
    assert json.loads(chk.content) == {
        "maThe": "001088034517",
        "hoTen": "Trần Đức Minh",
        "ngaySinh": "04/03/1988",
        "hoTenCb": "Nguyễn Văn An",
        "cccdCb": "001090000001",
    }


def test_2019_request_has_three_fields_and_birth_year(ft: FakeTime) -> None:
    gw = FakeGateway()
    p = Person("001088034517", "Tra\u0302\u0300n Đức Minh", None, birth_year=1988)  # NFD input
    make(gw, ft, api_version="2019", staff_name="", staff_cccd="").check(p)
    chk = gw.checks[0]
    assert chk.url.path == "/api/egw/KQNhanLichSuKCB2019"
    assert json.loads(chk.content) == {
        "maThe": "001088034517",
        "hoTen": "Trần Đức Minh",  # normalised to NFC
        "ngaySinh": "1988",
    }


def test_no_birth_date_asks_staff_without_calling(ft: FakeTime) -> None:
    gw = FakeGateway()
    r = make(gw, ft).check(Person("001088034517", "X", None))
    assert r.status == "unknown" and r.code is None and gw.requests == []


# -- answers --------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [*sorted(set(CODES) - {"401"}), "777"])
def test_every_code_maps_to_a_result(ft: FakeTime, code: str) -> None:
    gw = FakeGateway(default=answer(code))
    r = make(gw, ft).check(PERSON)
    assert r.code == code
    assert r.message == f"ghi chú {code}"
    assert r.status == (CODES[code].status if code in CODES else "unknown")
    assert r.advice_en and r.advice_vi
    assert (r.valid_from, r.valid_to) == (date(2026, 1, 1), date(2026, 12, 31))
    assert (r.registered_clinic, r.card_number) == ("01001", "GD4010120001234")
    assert (r.source, r.stale, r.as_of) == ("live", False, NOW)


def test_new_card_number_and_empty_fields(ft: FakeTime) -> None:
    gw = FakeGateway(default=answer("004", maTheMoi="GD4010120009999"))
    assert make(gw, ft).check(PERSON).card_number == "GD4010120009999"
    gw = FakeGateway(default=answer("050", maThe="", gtTheTu="", gtTheDen=None, maDKBD=None))
    r = make(gw, ft).check(PERSON)
    assert (r.status, r.card_number, r.valid_from, r.valid_to, r.registered_clinic) == (
        "not_eligible",
        None,
        None,
        None,
        None,
    )


def test_integer_code_is_padded(ft: FakeTime) -> None:
    gw = FakeGateway(default=answer("000") | {"maKetQua": 10})
    assert make(gw, ft).check(PERSON).code == "010"


@pytest.mark.parametrize(
    "bad",
    [
        reply(raw=b"{not json"),
        reply(raw=b"[1, 2]"),
        reply(body={"ghiChu": "no code"}),
        reply(body=answer("000", gtTheDen="2026-12-31")),
        reply(body=answer("000", maDKBD=123)),
        reply(404, body={"error": "nope"}),
    ],
)
def test_malformed_answers_are_protocol_errors(ft: FakeTime, bad: Callable[..., Any]) -> None:
    gw = FakeGateway(check_replies=[bad])
    c = make(gw, ft)
    with pytest.raises(GatewayProtocolError):
        c.check(PERSON)
    assert len(gw.checks) == 1  # not retried
    assert c.breaker.state == "closed"


# -- tokens ---------------------------------------------------------------------------------


def test_token_cached_until_a_minute_before_expiry(ft: FakeTime) -> None:
    gw = FakeGateway(expires_in=600)
    c = make(gw, ft)
    c.check(PERSON)
    ft.t += 539
    c.check(PERSON)
    assert gw.tokens == 1
    ft.t += 1.5  # now within the last minute: renewed before use
    c.check(PERSON)
    assert gw.tokens == 2
    assert dict(gw.checks[-1].url.params)["token"] == "tok2"


def test_token_expiry_as_iso_time_and_string_seconds(ft: FakeTime) -> None:
    gw = FakeGateway(expires_in=(NOW + timedelta(minutes=10)).isoformat())
    c = make(gw, ft)
    c.check(PERSON)
    ft.t += 530
    c.check(PERSON)
    assert gw.tokens == 1
    ft.t += 20
    c.check(PERSON)
    assert gw.tokens == 2
    gw2 = FakeGateway(expires_in="120")
    c2 = make(gw2, ft)
    c2.check(PERSON)
    ft.t += 61
    c2.check(PERSON)
    assert gw2.tokens == 2


@pytest.mark.parametrize(
    "unauthorised",
    [reply(401, body={"maKetQua": "401"}), reply(200, body={"maKetQua": "401", "ghiChu": "x"})],
)
def test_401_renews_the_token_once(ft: FakeTime, unauthorised: Callable[..., Any]) -> None:
    gw = FakeGateway(check_replies=[unauthorised])
    r = make(gw, ft).check(PERSON)
    assert r.code == "000" and gw.tokens == 2
    assert [dict(q.url.params)["token"] for q in gw.checks] == ["tok1", "tok2"]


def test_401_twice_is_an_auth_error(ft: FakeTime) -> None:
    gw = FakeGateway(check_replies=[reply(401, body={}), reply(200, body={"maKetQua": "401"})])
    c = make(gw, ft)
    with pytest.raises(GatewayAuthError):
        c.check(PERSON)
    assert gw.tokens == 2 and len(gw.checks) == 2
    assert c.breaker.state == "closed"
    assert c.check(PERSON).code == "000" and gw.tokens == 3  # fresh token next time


@pytest.mark.parametrize(
    "token_reply",
    [
        lambda: httpx.Response(200, json={"maKetQua": "401", "ghiChu": "Sai mật khẩu"}),
        lambda: httpx.Response(401, json={}),
    ],
)
def test_rejected_credentials(ft: FakeTime, token_reply: Callable[[], httpx.Response]) -> None:
    gw = FakeGateway(token_reply=token_reply)
    with pytest.raises(GatewayAuthError):
        make(gw, ft).check(PERSON)
    assert gw.checks == []


@pytest.mark.parametrize(
    "body", [{"maKetQua": "200"}, {"maKetQua": "200", "APIKey": {"id_token": "x"}}]
)
def test_token_answer_without_key(ft: FakeTime, body: dict[str, Any]) -> None:
    gw = FakeGateway(token_reply=lambda: httpx.Response(200, json=body))
    with pytest.raises(GatewayProtocolError):
        make(gw, ft).check(PERSON)


# -- timeouts, retries, breaker -------------------------------------------------------------


def test_retries_timeouts_and_5xx_with_exponential_backoff(ft: FakeTime) -> None:
    gw = FakeGateway(check_replies=[timeout, reply(503, body={})])
    c = make(gw, ft)
    assert c.check(PERSON).code == "000"
    assert len(gw.checks) == 3
    assert ft.sleeps == [0.2, 0.4]


def test_gives_up_after_the_retries(ft: FakeTime) -> None:
    gw = FakeGateway(check_replies=[reply(500, raw=b"<html>")] * 5)
    c = make(gw, ft, retries=2)
    with pytest.raises(GatewayUnavailable, match="HTTP 500"):
        c.check(PERSON)
    assert len(gw.checks) == 3 and ft.sleeps == [0.2, 0.4]


def test_refused_connection_is_not_retried(ft: FakeTime) -> None:
    gw = FakeGateway(check_replies=[refused, reply()])
    with pytest.raises(GatewayUnavailable, match="ConnectError"):
        make(gw, ft).check(PERSON)
    assert len(gw.checks) == 1 and ft.sleeps == []


def test_400_with_a_result_code_is_an_answer(ft: FakeTime) -> None:
    gw = FakeGateway(check_replies=[reply(400, body={"maKetQua": "205", "ghiChu": "x"})])
    r = make(gw, ft).check(PERSON)
    assert (r.status, r.code, r.message) == ("unknown", "205", "x")


def test_4xx_is_not_retried(ft: FakeTime) -> None:
    gw = FakeGateway(check_replies=[reply(400, body={})])
    with pytest.raises(GatewayProtocolError):
        make(gw, ft).check(PERSON)
    assert len(gw.checks) == 1


def test_total_budget_bounds_the_retries(ft: FakeTime) -> None:
    def slow_timeout(req: httpx.Request) -> httpx.Response:
        ft.t += 3.0  # each attempt burns 3 s of the 8 s budget
        raise httpx.ReadTimeout("slow")

    gw = FakeGateway(check_replies=[slow_timeout] * 5)
    with pytest.raises(GatewayUnavailable):
        make(gw, ft, retries=5).check(PERSON)
    assert len(gw.checks) == 3  # 3 + 0.2 + 3 + 0.4 + 3 > 8 before a fourth


def test_per_attempt_timeouts(ft: FakeTime) -> None:
    seen: list[dict[str, float]] = []

    def record(req: httpx.Request) -> httpx.Response:
        seen.append(req.extensions["timeout"])
        return httpx.Response(200, json=answer("000"))

    gw = FakeGateway(check_replies=[record])
    make(gw, ft, connect_timeout=2.0, total_timeout=5.0).check(PERSON)
    assert seen[0]["connect"] == 2.0 and seen[0]["read"] == 5.0


def test_breaker_opens_fails_fast_and_closes(ft: FakeTime) -> None:
    gw = FakeGateway(check_replies=[timeout] * 9)
    c = make(gw, ft, breaker_failures=3, breaker_reset_s=30, retries=2)
    for _ in range(3):
        with pytest.raises(GatewayUnavailable):
            c.check(PERSON)
    assert c.breaker.state == "open" and len(gw.checks) == 9
    with pytest.raises(GatewayUnavailable, match="circuit open"):
        c.check(PERSON)
    assert len(gw.checks) == 9  # fail fast: nothing sent
    ft.t += 30.001
    assert c.breaker.state == "half_open"
    assert c.check(PERSON).code == "000"  # the trial succeeds
    assert c.breaker.state == "closed"


def test_failed_half_open_trial_reopens(ft: FakeTime) -> None:
    gw = FakeGateway(check_replies=[refused] * 4)
    c = make(gw, ft, breaker_failures=3, breaker_reset_s=30)
    for _ in range(3):
        with pytest.raises(GatewayUnavailable):
            c.check(PERSON)
    ft.t += 30.001
    with pytest.raises(GatewayUnavailable, match="ConnectError"):
        c.check(PERSON)
    assert c.breaker.state == "open"


def test_gateway_answers_count_as_reachable(ft: FakeTime) -> None:
    gw = FakeGateway(check_replies=[timeout] * 3 + [reply(body=answer("500"))])
    c = make(gw, ft, breaker_failures=2)
    with pytest.raises(GatewayUnavailable):
        c.check(PERSON)
    assert c.check(PERSON).code == "500"
    assert c.breaker.consecutive_failures == 0


# -- configuration --------------------------------------------------------------------------

ENV = {
    "CCCD_KIOSK_BHXH_USERNAME": "kiosk01",
    "CCCD_KIOSK_BHXH_PASSWORD": "pw",
    "CCCD_KIOSK_BHXH_STAFF_NAME": "Nguyễn Văn An",
    "CCCD_KIOSK_BHXH_STAFF_CCCD": "001090000001",
}


def test_from_env() -> None:
    c = BhxhConfig.from_env("https://g.test", env=ENV, total_timeout=3.0)
    assert (c.username, c.password, c.staff_cccd, c.total_timeout) == (
        "kiosk01",
        "pw",
        "001090000001",
        3.0,
    )
    assert "pw" not in repr(c) and "001090000001" not in repr(c)


@pytest.mark.parametrize("missing", sorted(ENV))
def test_from_env_names_the_missing_variable(missing: str) -> None:
    env = {k: v for k, v in ENV.items() if k != missing}
    with pytest.raises(ConfigurationError, match=missing):
        BhxhConfig.from_env("https://g.test", env=env)


def test_2019_does_not_need_staff() -> None:
    env = {k: v for k, v in ENV.items() if "STAFF" not in k}
    assert BhxhConfig.from_env("https://g.test", env=env, api_version="2019").staff_name == ""


def test_bad_config() -> None:
    with pytest.raises(ConfigurationError):
        config(api_version="2021")
    with pytest.raises(ConfigurationError):
        config(base_url="ftp://x")
    with pytest.raises(ConfigurationError, match="ca_bundle"):
        BhxhClient(config(ca_bundle="/nonexistent/ca.pem"))


# -- TLS against a real HTTPS server on 127.0.0.1 --------------------------------------------


@pytest.fixture(scope="module")
def https_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    d = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test gateway")])
    now = datetime.now(UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    (d / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (d / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path.startswith("/api/token/take"):
                body = {
                    "maKetQua": "200",
                    "APIKey": {"access_token": "t", "id_token": "i", "expires_in": 3600},
                }
            else:
                body = answer("000")
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *a: Any) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(d / "cert.pem", d / "key.pem")
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"https://127.0.0.1:{srv.server_address[1]}", d / "cert.pem"
    srv.shutdown()
    srv.server_close()


def test_tls_verified_by_default(https_gateway: tuple[str, Path]) -> None:
    url, _ = https_gateway
    c = BhxhClient(config(base_url=url, retries=0))
    with c, pytest.raises(GatewayUnavailable, match="TLS verification failed"):
        c.check(PERSON)


def test_tls_with_ca_bundle(https_gateway: tuple[str, Path]) -> None:
    url, ca = https_gateway
    with BhxhClient(config(base_url=url, ca_bundle=str(ca))) as c:
        assert c.check(PERSON).code == "000"


def test_tls_verification_off(
    https_gateway: tuple[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    url, _ = https_gateway
    with caplog.at_level(logging.WARNING), BhxhClient(config(base_url=url, verify_tls=False)) as c:
        assert c.check(PERSON).code == "000"
    assert "verification is OFF" in caplog.text


# -- privacy --------------------------------------------------------------------------------


def test_logs_hold_no_personal_data_or_secrets(
    ft: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    gw = FakeGateway(
        check_replies=[reply(401, body={}), timeout, reply(503, body={}), reply(body={"x": 1})]
    )
    c = make(gw, ft)
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(GatewayProtocolError) as ei:
            c.check(PERSON)
        c.check(PERSON)
        with pytest.raises(ConfigurationError):
            BhxhConfig.from_env("https://g.test", env={})
    text = caplog.text + str(ei.value) + repr(PERSON)
    assert "HTTP Request" in caplog.text  # httpx's own line was captured…
    assert "maKetQua=000" in caplog.text
    for secret in (
        "001088034517",
        "Trần",
        "Minh",
        "1988",
        "04/03/1988",
        "Nguyễn Văn An",
        "001090000001",
        md5_hex("s3cret-pässword"),
        "s3cret",
        "tok1",
        "tok2",
        "id1",
    ):
        assert secret not in text, secret
