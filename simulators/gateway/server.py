"""The simulated BHXH eligibility gateway: a real HTTP server for the kiosk's client to talk to.

Why the standard library's ``ThreadingHTTPServer``: the simulator has to be a real process on
a real socket (so client timeouts, retries, connection errors and the circuit breaker are
tested against the network stack, not a mock), and it needs only a handful of JSON routes.
``http.server`` does that with no dependency for the kiosk to ship or keep patched, starts in
milliseconds (one per xdist worker), and one thread per connection means a ``hang`` fault
sleeps in its own thread while every other request is still answered. An ASGI/WSGI stack
(Starlette + uvicorn, Flask + werkzeug) would add dependencies and an event loop or worker
model to reason about, for features (routing DSL, validation, HTTP/2) the simulator does not
use. It is a test double on loopback, not a production server: no TLS, no keep-alive tuning.

Endpoints (JSON bodies, UTF-8):

- ``POST /api/token/take`` ``{"username", "password": md5 hex}`` → ``{"maKetQua": "200",
  "APIKey": {"access_token", "id_token", "token_type": "bearer", "username",
  "expires_in": seconds}}``; wrong credentials → HTTP 401 ``{"maKetQua": "401"}``.
- ``POST /api/egw/KQNhanLichSuKCB2024?token=&id_token=&username=&password=`` with
  ``{"maThe", "hoTen", "ngaySinh", "hoTenCb", "cccdCb"}`` and ``KQNhanLichSuKCB2019`` with the
  first three → HTTP 200 with every field of :data:`~simulators.gateway.data.RESPONSE_FIELDS`
  (null where not applicable; ``dsLichSuKCB2018`` always null). All four query parameters
  must match a live token (``password`` = the same MD5 hex) else HTTP 401 ``maKetQua`` 401;
  a body that is not a JSON object → HTTP 400 ``maKetQua`` 205. Codes: see
  :mod:`simulators.gateway.data`.
- ``POST /fhir/CoverageEligibilityRequest/$submit`` (or without ``/$submit``): see
  :mod:`simulators.gateway.fhir`.
- Admin, from a loopback address only (else HTTP 403): ``GET /admin/health``,
  ``GET /admin/stats`` (requests per endpoint, tokens issued, replies per code),
  ``GET|POST|DELETE /admin/faults``.

Faults: ``POST /admin/faults {"target": "*" | maThe, "fault": F, "count": N | null, ...}``
where F is ``latency`` (``"ms"``), ``5xx`` (``"status"``, default 500), ``hang`` (``"seconds"``,
default 60; the reply comes after, if the client still listens), ``malformed`` (HTTP 200,
truncated JSON), ``401`` (HTTP 401 ``maKetQua`` 401) or ``token-expiry`` (every token issued so
far dies at once; with ``count`` N the next N tokens are born dead too, ``null`` = all tokens
issued while the fault stands; they still advertise the normal ``expires_in``). ``count`` is
how many requests the fault hits (null: until ``DELETE /admin/faults``). A ``maThe`` target
hits card checks and FHIR requests for that person (the value as sent); ``*`` hits every
non-admin request. Latency faults add up; of the others, a person's fault wins over ``*``.

Logs (stderr): one line per request — method, route name, status, duration, maKetQua — and
nothing else: no query string, body, name, ID or token ever reaches the log.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import secrets
import socket
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from simulators.gateway import fhir
from simulators.gateway.data import MESSAGES, CheckResult, InsuredData

FAULTS = ("latency", "5xx", "hang", "malformed", "token-expiry", "401")
MAX_BODY = 1 << 20

ROUTES = {
    ("POST", "/api/token/take"): "token",
    ("POST", "/api/egw/KQNhanLichSuKCB2024"): "check2024",
    ("POST", "/api/egw/KQNhanLichSuKCB2019"): "check2019",
    ("POST", "/fhir/CoverageEligibilityRequest/$submit"): "fhir",
    ("POST", "/fhir/CoverageEligibilityRequest"): "fhir",
    ("GET", "/admin/health"): "admin-health",
    ("GET", "/admin/stats"): "admin-stats",
    ("GET", "/admin/faults"): "admin-faults",
    ("POST", "/admin/faults"): "admin-faults",
    ("DELETE", "/admin/faults"): "admin-faults",
}


def md5_hex(password: str) -> str:
    """What clients send as ``password``: the MD5 hex digest of the password."""
    return hashlib.md5(password.encode("utf-8")).hexdigest()


def is_loopback(host: str) -> bool:
    """Whether an address (or ``localhost``) is loopback; IPv4-mapped IPv6 counts."""
    if host == "localhost":
        return True
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped.is_loopback
    return addr.is_loopback


@dataclass
class Fault:
    """One switched-on fault; ``count`` None means until cleared."""

    fault: str
    target: str = "*"
    count: int | None = None
    ms: int = 0
    status: int = 500
    seconds: float = 60.0

    @classmethod
    def from_json(cls, body: Any) -> Fault:
        """Validate an admin request body; ValueError says what is wrong."""
        if not isinstance(body, dict):
            raise ValueError("body must be a JSON object")
        fault = body.get("fault")
        if fault not in FAULTS:
            raise ValueError(f"fault must be one of {', '.join(FAULTS)}")
        target = body.get("target", "*")
        count = body.get("count")
        if not isinstance(target, str) or not target:
            raise ValueError("target must be '*' or a maThe")
        if count is not None and (not isinstance(count, int) or count < 0):
            raise ValueError("count must be a non-negative integer or null")
        out = cls(fault, target, count)
        if fault == "latency":
            ms = body.get("ms")
            if not isinstance(ms, int) or ms < 0:
                raise ValueError("latency needs ms >= 0")
            out.ms = ms
        if fault == "5xx":
            status = body.get("status", 500)
            if not isinstance(status, int) or not 500 <= status <= 599:
                raise ValueError("status must be 500..599")
            out.status = status
        if fault == "hang":
            seconds = body.get("seconds", 60)
            if not isinstance(seconds, int | float) or seconds < 0:
                raise ValueError("seconds must be >= 0")
            out.seconds = float(seconds)
        if fault == "token-expiry" and target != "*":
            raise ValueError("token-expiry is global: target must be '*'")
        return out


@dataclass
class Token:
    id_token: str
    username: str
    expires_at: float


class GatewayState:
    """Everything the request threads share: data, credentials, tokens, faults, counters."""

    def __init__(
        self,
        data: InsuredData,
        username: str,
        password: str,
        *,
        token_ttl: int = 3600,
        latency_ms: int = 0,
        log_requests: bool = True,
    ) -> None:
        self.data = data
        #: Whether each request gets its line on stderr (the in-process demo keeps quiet).
        self.log_requests = log_requests
        self.username = username
        self.password_md5 = md5_hex(password)
        self.token_ttl = token_ttl
        self.latency_ms = latency_ms
        self.lock = threading.Lock()
        self.tokens: dict[str, Token] = {}
        self.faults: list[Fault] = []
        self.requests: Counter[str] = Counter()
        self.codes: Counter[str] = Counter()
        self.tokens_issued = 0
        self.stopping = threading.Event()

    # tokens -------------------------------------------------------------------------------

    def issue_token(self) -> dict[str, Any]:
        """A new token; born dead while a token-expiry fault says so."""
        access, id_token = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        expires_at = time.monotonic() + self.token_ttl
        with self.lock:
            for f in self.faults:
                if f.fault == "token-expiry" and (f.count is None or f.count > 0):
                    expires_at = 0.0
                    if f.count is not None:
                        f.count -= 1
                    break
            self.faults = [f for f in self.faults if f.count != 0 or f.fault == "token-expiry"]
            self.tokens[access] = Token(id_token, self.username, expires_at)
            self.tokens_issued += 1
        return {
            "access_token": access,
            "id_token": id_token,
            "token_type": "bearer",
            "username": self.username,
            "expires_in": self.token_ttl,
        }

    def token_ok(self, access: str, id_token: str | None = None) -> bool:
        """Whether ``access`` is live (and ``id_token`` its pair, when given)."""
        with self.lock:
            token = self.tokens.get(access)
            if token is None:
                return False
            if token.expires_at <= time.monotonic():
                del self.tokens[access]
                return False
            return id_token is None or secrets.compare_digest(token.id_token, id_token)

    # faults -------------------------------------------------------------------------------

    def add_fault(self, fault: Fault) -> None:
        with self.lock:
            if fault.fault == "token-expiry":
                for token in self.tokens.values():
                    token.expires_at = 0.0
            self.faults.append(fault)

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def take_faults(self, target: str | None) -> tuple[int, Fault | None]:
        """For one request: (total extra latency in ms, the fault to act on or None).

        Uses up one ``count`` of each fault applied; spent faults disappear.
        """
        delay = self.latency_ms
        action: Fault | None = None
        with self.lock:
            matching = [
                f
                for f in self.faults
                if f.fault != "token-expiry" and f.target in ("*", target) and f.count != 0
            ]
            for f in matching:
                if f.fault == "latency":
                    delay += f.ms
                    self._spend(f)
            others = [f for f in matching if f.fault != "latency"]
            others.sort(key=lambda f: f.target == "*")  # the person's own fault first
            if others:
                action = others[0]
                self._spend(action)
            self.faults = [f for f in self.faults if f.count != 0 or f.fault == "token-expiry"]
        return delay, action

    @staticmethod
    def _spend(fault: Fault) -> None:
        if fault.count is not None:
            fault.count -= 1

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "requests": dict(self.requests),
                "tokens_issued": self.tokens_issued,
                "codes": dict(self.codes),
                "faults": [asdict(f) for f in self.faults],
            }


class GatewayServer(ThreadingHTTPServer):
    """ThreadingHTTPServer holding the shared :class:`GatewayState`."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: GatewayState) -> None:
        self.state = state
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, GatewayHandler)


class GatewayHandler(BaseHTTPRequestHandler):
    """One request: route, faults, auth, answer; then one privacy-safe log line."""

    server: GatewayServer
    protocol_version = "HTTP/1.1"
    server_version = "cccd-sim-gateway/1"

    def log_message(self, format: str, *args: Any) -> None:
        """Silence http.server's own log: it prints the request line (query = token)."""

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PUT(self) -> None:
        self._handle("PUT")

    # plumbing -----------------------------------------------------------------------------

    def _handle(self, method: str) -> None:
        start = time.monotonic()
        split = urlsplit(self.path)
        route = ROUTES.get((method, split.path))
        self._status, self._code = 0, "-"
        state = self.server.state
        with state.lock:
            state.requests[route or "other"] += 1
        try:
            body = self._read_body()
            if body is None:
                return
            if route is None:
                self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})
            elif route.startswith("admin"):
                self._admin(method, route, body)
            else:
                self._service(route, split.query, body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            ms = (time.monotonic() - start) * 1000
            with state.lock:
                if self._code != "-":
                    state.codes[self._code] += 1
            if state.log_requests:
                sys.stderr.write(
                    f"gateway: {method} {route or 'other'} {self._status or '-'} "
                    f"{ms:.1f}ms code={self._code}\n"
                )
                sys.stderr.flush()

    def _read_body(self) -> bytes | None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "bad Content-Length"})
            self.close_connection = True
            return None
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, payload: bytes, content_type: str) -> None:
        self._status = status
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _json(self, status: int, obj: Any, content_type: str = "application/json") -> None:
        data = json.dumps(obj, ensure_ascii=False).encode("utf-8")
        self._send(status, data, f"{content_type}; charset=utf-8")

    def _gateway(self, status: int, code: str, obj: dict[str, Any] | None = None) -> None:
        self._code = code
        self._json(status, obj or {"maKetQua": code, "ghiChu": MESSAGES.get(code, "")})

    # admin --------------------------------------------------------------------------------

    def _admin(self, method: str, route: str, body: bytes) -> None:
        state = self.server.state
        if not is_loopback(self.client_address[0]):
            self._json(HTTPStatus.FORBIDDEN, {"error": "admin is loopback only"})
            return
        if route == "admin-health":
            self._json(HTTPStatus.OK, {"status": "ok", "people": len(state.data.people)})
        elif route == "admin-stats":
            self._json(HTTPStatus.OK, state.stats())
        elif method == "DELETE":
            state.clear_faults()
            self._json(HTTPStatus.OK, {"faults": []})
        elif method == "POST":
            try:
                fault = Fault.from_json(json.loads(body or b"null"))
            except ValueError as exc:  # JSONDecodeError is a ValueError
                self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
                return
            state.add_fault(fault)
            self._json(HTTPStatus.OK, {"faults": state.stats()["faults"]})
        else:
            self._json(HTTPStatus.OK, {"faults": state.stats()["faults"]})

    # the gateway --------------------------------------------------------------------------

    def _service(self, route: str, query: str, body: bytes) -> None:
        state = self.server.state
        try:
            parsed: Any = json.loads(body) if body else None
        except ValueError:
            parsed = None
        target = _target_of(route, parsed)
        delay, fault = state.take_faults(target)
        if delay and state.stopping.wait(delay / 1000):
            return
        if fault is not None:
            if fault.fault == "hang" and state.stopping.wait(fault.seconds):
                return
            if fault.fault == "5xx":
                self._gateway(fault.status, "500")
                return
            if fault.fault == "401":
                self._gateway(HTTPStatus.UNAUTHORIZED, "401")
                return
            if fault.fault == "malformed":
                self._code = "malformed"
                self._send(200, b'{"maKetQua": "000", "ghiChu": "Th', "application/json")
                return
        if route == "token":
            self._token(parsed)
        elif route == "fhir":
            self._fhir(parsed)
        else:
            self._check(route, query, parsed)

    def _token(self, body: Any) -> None:
        state = self.server.state
        if not isinstance(body, dict):
            self._gateway(HTTPStatus.BAD_REQUEST, "205")
            return
        user, pw = body.get("username"), body.get("password")
        if not (
            isinstance(user, str)
            and isinstance(pw, str)
            and secrets.compare_digest(user.encode(), state.username.encode())
            and secrets.compare_digest(pw.lower().encode(), state.password_md5.encode())
        ):
            self._gateway(HTTPStatus.UNAUTHORIZED, "401")
            return
        self._gateway(HTTPStatus.OK, "200", {"maKetQua": "200", "APIKey": state.issue_token()})

    def _authorised(self, query: str) -> bool:
        state = self.server.state
        q = {k: v[0] for k, v in parse_qs(query).items()}
        return (
            state.token_ok(q.get("token", ""), q.get("id_token", ""))
            and q.get("username") == state.username
            and q.get("password", "").lower() == state.password_md5
        )

    def _check(self, route: str, query: str, body: Any) -> None:
        state = self.server.state
        if not self._authorised(query):
            self._gateway(HTTPStatus.UNAUTHORIZED, "401")
            return
        if not isinstance(body, dict):
            self._gateway(HTTPStatus.BAD_REQUEST, "205")
            return
        staff = (body.get("hoTenCb"), body.get("cccdCb")) if route == "check2024" else None
        result = state.data.check(body.get("maThe"), body.get("hoTen"), body.get("ngaySinh"), staff)
        self._gateway(HTTPStatus.OK, result.code, result.to_gateway())

    def _fhir(self, body: Any) -> None:
        state = self.server.state
        auth = self.headers.get("Authorization")
        if auth is not None:
            scheme, _, token = auth.partition(" ")
            if scheme.lower() != "bearer" or not state.token_ok(token.strip()):
                self._code = "401"
                self._json(
                    HTTPStatus.UNAUTHORIZED,
                    fhir.operation_outcome("invalid or expired token", "login"),
                    "application/fhir+json",
                )
                return
        try:
            value, result = fhir.check(state.data, body)
        except fhir.FhirError as exc:
            self._code = "205"
            self._json(
                HTTPStatus.BAD_REQUEST, fhir.operation_outcome(str(exc)), "application/fhir+json"
            )
            return
        self._code = result.code
        self._json(HTTPStatus.OK, fhir.response(value, result, body), "application/fhir+json")


def _target_of(route: str, body: Any) -> str | None:
    """The person a request is about (for per-person faults), as sent; None if unknown."""
    if not isinstance(body, dict):
        return None
    if route.startswith("check"):
        value = body.get("maThe")
        return value.strip() if isinstance(value, str) else None
    if route == "fhir":
        try:
            return fhir.patient_of(body)[0]
        except fhir.FhirError:
            return None
    return None


def make_server(host: str, port: int, state: GatewayState) -> GatewayServer:
    """Bind (not yet serving) a gateway on ``host:port``; port 0 picks a free one."""
    return GatewayServer((host, port), state)


__all__ = [
    "FAULTS",
    "CheckResult",
    "Fault",
    "GatewayServer",
    "GatewayState",
    "is_loopback",
    "make_server",
    "md5_hex",
]
