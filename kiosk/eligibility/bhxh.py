"""The BHXH eligibility gateway client (``/api/token/take`` + ``KQNhanLichSuKCB2024/2019``).

What it does, in the order a check runs:

1. The circuit breaker (``breaker.py``) is asked first: while it is open the check fails at once
   with ``GatewayUnavailable`` so an outage costs one timeout, not one per patient.
2. A token is taken from ``/api/token/take`` (username + MD5 hex of the password, as hospital
   systems do) and kept until a minute before it expires; a 401 (HTTP or ``maKetQua`` "401")
   on the card check renews it once, a second 401 is ``GatewayAuthError``.
3. The card check posts ``maThe`` (the 12-digit CCCD), ``hoTen``, ``ngaySinh`` (dd/MM/yyyy, or
   yyyy when only the year is known) and, for the 2024 API, ``hoTenCb``/``cccdCb`` (the staff
   member from configuration).
4. The answer becomes an ``EligibilityResult`` through ``codes.meaning``.

Every HTTP exchange has a connect timeout (~2 s) and shares one total budget per check
(``total_timeout``, token + card check + retries), so no patient waits longer than that: the
budget is a real deadline, enforced on every socket operation and between body chunks
(``bounded_http``), so a server dripping bytes is cut off at it (``GatewayDeadlineExceeded``,
a failure for the breaker). Each answer is read as a stream, decompressed by us and refused
past ``max_answer_bytes`` (1 MiB; ``GatewayAnswerTooLarge``). Strings of the answer are
sanitised (``sanitize``) before anyone stores or shows them. The token lock is never held
across a network call.
Timeouts and 5xx are retried (``retries`` times, exponential backoff from ``backoff_s``); a
refused connection, a TLS failure or a 4xx is not. TLS verification is on, with an optional CA
bundle for gateways under a private CA.

Privacy: logs carry only result codes, HTTP statuses, attempt counts and durations. The token
and password hash travel in the query string (the gateway's design), so a filter strips the
query and any userinfo from httpx's request log lines. The gateway URL must be ``https``
unless it is loopback (``allow_insecure_http`` is a lab switch, warned when used).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import ssl
import threading
import time
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any, Literal

import httpx

from kiosk.bounded_http import (
    ACCEPT_ENCODING,
    MAX_BODY_BYTES,
    DeadlineTransport,
    check_url,
    deadline_scope,
    install_log_filter,
    is_tls_error,
    read_body,
)
from kiosk.eligibility.base import EligibilityResult, Person, ask_staff
from kiosk.eligibility.breaker import CircuitBreaker
from kiosk.eligibility.codes import meaning
from kiosk.eligibility.errors import (
    ConfigurationError,
    GatewayAnswerTooLarge,
    GatewayAuthError,
    GatewayDeadlineExceeded,
    GatewayProtocolError,
    GatewayTlsError,
    GatewayUnavailable,
)
from kiosk.eligibility.sanitize import (
    MAX_CARD_CHARS,
    MAX_CLINIC_CHARS,
    MAX_RESULT_CODE_CHARS,
    clean_code,
    clean_text,
)

log = logging.getLogger(__name__)

ENV_USERNAME = "CCCD_KIOSK_BHXH_USERNAME"
ENV_PASSWORD = "CCCD_KIOSK_BHXH_PASSWORD"
ENV_STAFF_NAME = "CCCD_KIOSK_BHXH_STAFF_NAME"
ENV_STAFF_CCCD = "CCCD_KIOSK_BHXH_STAFF_CCCD"

TOKEN_PATH = "/api/token/take"
CHECK_PATHS = {
    "2024": "/api/egw/KQNhanLichSuKCB2024",
    "2019": "/api/egw/KQNhanLichSuKCB2019",
}
#: Renew the token this long before the gateway says it expires.
TOKEN_RENEW_EARLY_S = 60.0
#: Used when the token answer has no usable ``expires_in`` (clients cache it ~50 min).
DEFAULT_TOKEN_LIFETIME_S = 50 * 60.0

ApiVersion = Literal["2024", "2019"]


@dataclass(frozen=True)
class BhxhConfig:
    """How to reach the gateway. Credentials and staff identity are kept out of ``repr``."""

    base_url: str
    username: str
    password: str = field(repr=False)
    staff_name: str = field(default="", repr=False)
    staff_cccd: str = field(default="", repr=False)
    api_version: ApiVersion = "2024"
    connect_timeout: float = 2.0
    total_timeout: float = 8.0
    retries: int = 2
    backoff_s: float = 0.2
    ca_bundle: str | None = None
    verify_tls: bool = True
    breaker_failures: int = 3
    breaker_reset_s: float = 30.0
    max_answer_bytes: int = MAX_BODY_BYTES
    #: Plain http to a host other than this machine: for a lab only (warned).
    allow_insecure_http: bool = False

    def __post_init__(self) -> None:
        if self.api_version not in CHECK_PATHS:
            raise ConfigurationError(f"api_version must be 2024 or 2019, not {self.api_version!r}")
        if not self.base_url.startswith(("https://", "http://")):
            raise ConfigurationError("base_url must be an http(s) URL")
        check_url(
            self.base_url,
            allow_insecure_http=self.allow_insecure_http,
            what="the BHXH gateway URL",
            error=ConfigurationError,
        )
        if self.retries < 0 or self.connect_timeout <= 0 or self.total_timeout <= 0:
            raise ConfigurationError("retries must be >= 0 and timeouts > 0")
        if self.max_answer_bytes < 1024:
            raise ConfigurationError("max_answer_bytes must be at least 1024")
        if self.api_version == "2024" and not (self.staff_name and self.staff_cccd):
            raise ConfigurationError(
                f"the 2024 API needs the staff name and CCCD ({ENV_STAFF_NAME}, {ENV_STAFF_CCCD})"
            )

    @classmethod
    def from_env(
        cls, base_url: str, *, env: Mapping[str, str] | None = None, **overrides: Any
    ) -> BhxhConfig:
        """Credentials and staff identity from the environment, the rest from ``overrides``.

        Raises ``ConfigurationError`` naming the first missing variable; the staff variables
        are only required by the 2024 API.
        """
        env = os.environ if env is None else env
        version = overrides.get("api_version", "2024")
        needed = [ENV_USERNAME, ENV_PASSWORD]
        if version == "2024":
            needed += [ENV_STAFF_NAME, ENV_STAFF_CCCD]
        for name in needed:
            if not env.get(name):
                raise ConfigurationError(f"{name} is not set")
        cfg = cls(
            base_url=base_url,
            username=env[ENV_USERNAME],
            password=env[ENV_PASSWORD],
            staff_name=unicodedata.normalize("NFC", env.get(ENV_STAFF_NAME, "")),
            staff_cccd=env.get(ENV_STAFF_CCCD, ""),
            api_version=version,
        )
        return replace(cfg, **overrides) if overrides else cfg


@dataclass
class _Token:
    access_token: str
    id_token: str
    username: str
    expires_at: float  # on the client's injected clock


def md5_hex(password: str) -> str:
    """The password as the gateway expects it: lowercase MD5 hex of its UTF-8 bytes."""
    return hashlib.md5(password.encode("utf-8"), usedforsecurity=False).hexdigest()


def parse_gateway_date(value: Any) -> date | None:
    """``dd/MM/yyyy`` → date; empty/None → None. Anything else is a protocol error."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise GatewayProtocolError("date field is not a string")
    try:
        return datetime.strptime(value.strip(), "%d/%m/%Y").date()
    except ValueError:
        raise GatewayProtocolError("date field is not dd/MM/yyyy") from None


def _opt_str(d: Mapping[str, Any], key: str) -> str | None:
    v = d.get(key)
    if v is None or v == "":
        return None
    if not isinstance(v, str):
        raise GatewayProtocolError(f"{key} is not a string")
    return v


def _result_code(d: Mapping[str, Any]) -> str:
    code = d.get("maKetQua")
    if isinstance(code, int) and not isinstance(code, bool):
        return f"{code:03d}"
    if not isinstance(code, str) or not code.strip():
        raise GatewayProtocolError("answer has no maKetQua")
    clean = clean_code(code, MAX_RESULT_CODE_CHARS)
    if clean is None:
        raise GatewayProtocolError("maKetQua is not a short code")
    return clean


def tls_verify(verify_tls: bool, ca_bundle: str | None) -> ssl.SSLContext | bool:
    """httpx's ``verify``: the system/default trust (or ``ca_bundle`` alone), or off (warned)."""
    if not verify_tls:
        log.warning("eligibility gateway TLS verification is OFF (verify_tls=false)")
        return False
    try:
        return ssl.create_default_context(cafile=ca_bundle)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(f"ca_bundle cannot be loaded ({type(exc).__name__})") from exc


class BhxhClient:
    """``EligibilityBackend`` for the BHXH gateway (see the module docstring).

    ``transport`` replaces the deadline-aware network transport (``bounded_http``; tests use
    ``httpx.MockTransport``, whose bodies are still capped and timed between chunks);
    ``clock`` (monotonic seconds) drives the token lifetime, the time budget and the breaker;
    ``sleep`` waits between retries; ``now`` stamps ``as_of``. Safe to share between threads.
    """

    def __init__(
        self,
        config: BhxhConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.config = config
        self._clock = clock
        self._sleep = sleep
        self._now = now or (lambda: datetime.now(UTC))
        self.verify = tls_verify(config.verify_tls, config.ca_bundle)
        self.breaker = CircuitBreaker(config.breaker_failures, config.breaker_reset_s, clock=clock)
        self._token: _Token | None = None
        self._token_lock = threading.Lock()
        self._password_md5 = md5_hex(config.password)
        install_log_filter()
        self._http = httpx.Client(
            base_url=config.base_url,
            transport=transport or DeadlineTransport(verify=self.verify),
            verify=self.verify,
            timeout=httpx.Timeout(config.total_timeout, connect=config.connect_timeout),
            headers={"Accept-Encoding": ACCEPT_ENCODING},
            follow_redirects=False,
        )
        self._poster = RetryingPoster(
            self._http,
            clock=clock,
            sleep=sleep,
            connect_timeout=config.connect_timeout,
            retries=config.retries,
            backoff_s=config.backoff_s,
            max_bytes=config.max_answer_bytes,
        )
        #: Tokens taken so far (for tests and diagnostics).
        self.tokens_taken = 0

    @property
    def attempts(self) -> int:
        """HTTP requests sent so far, retries included (for tests and diagnostics)."""
        return self._poster.attempts

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> BhxhClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the check ----------------------------------------------------------------------------

    def check(self, person: Person) -> EligibilityResult:
        """Ask the gateway about ``person``.

        Returns a result for every gateway answer; raises ``GatewayUnavailable`` (no answer in
        time, or the breaker is open), ``GatewayAuthError`` or ``GatewayProtocolError``.
        """
        body = self._body(person)
        if body is None:
            return ask_staff(
                "Thiếu ngày sinh: nhập ngày sinh rồi kiểm tra lại.",
                "No birth date: enter the birth date and check again.",
                now=self._now(),
            )
        if not self.breaker.allow():
            log.info(
                "bhxh check skipped: circuit open, %.1f s left", self.breaker.seconds_until_retry()
            )
            raise GatewayUnavailable("BHXH gateway circuit open (recent outage)")
        started = self._clock()
        deadline = started + self.config.total_timeout
        try:
            answer = self._check_with_renewal(body, deadline)
        except GatewayUnavailable as exc:
            self.breaker.record_failure()
            log.log(
                logging.ERROR if isinstance(exc, GatewayTlsError) else logging.WARNING,
                "bhxh check unavailable after %.0f ms: %s (breaker %s)",
                (self._clock() - started) * 1000,
                exc,
                self.breaker.state,
            )
            raise
        except GatewayAuthError:
            self.breaker.record_success()  # reachable; the credentials are the problem
            log.error("bhxh check: credentials rejected")
            raise
        except GatewayProtocolError as exc:
            self.breaker.release()
            log.error("bhxh check: unexpected answer: %s", exc)
            raise
        except BaseException as exc:
            # Anything else (a bug, an interrupt) still ends a half-open trial.
            self.breaker.release()
            log.error("bhxh check: %s", type(exc).__name__)
            raise
        self.breaker.record_success()
        result = self._to_result(answer)
        log.info(
            "bhxh check maKetQua=%s status=%s in %.0f ms",
            result.code,
            result.status,
            (self._clock() - started) * 1000,
        )
        return result

    def _body(self, person: Person) -> dict[str, str] | None:
        if person.date_of_birth is not None:
            dob = person.date_of_birth.strftime("%d/%m/%Y")
        elif person.birth_year is not None:
            dob = f"{person.birth_year:04d}"
        else:
            return None
        body = {
            "maThe": person.id_number.strip(),
            "hoTen": unicodedata.normalize("NFC", person.full_name.strip()),
            "ngaySinh": dob,
        }
        if self.config.api_version == "2024":
            body["hoTenCb"] = self.config.staff_name
            body["cccdCb"] = self.config.staff_cccd
        return body

    def _check_with_renewal(self, body: dict[str, str], deadline: float) -> dict[str, Any]:
        path = CHECK_PATHS[self.config.api_version]
        for renewal in (False, True):
            token = self._get_token(deadline, force=renewal)
            params = {
                "token": token.access_token,
                "id_token": token.id_token,
                "username": token.username,
                "password": self._password_md5,
            }
            resp = self._post(path, body, deadline, params=params)
            if resp.status_code == 401:
                log.info("bhxh card check: HTTP 401%s", " again" if renewal else ", renewing")
                continue
            if resp.status_code >= 400:
                # The gateway answers a parameter error (205) as HTTP 400 with maKetQua: that
                # is still an answer; a 4xx without one is not.
                try:
                    answer = self._json(resp)
                    _result_code(answer)
                except GatewayProtocolError:
                    raise GatewayProtocolError(
                        f"card check answered HTTP {resp.status_code}"
                    ) from None
            else:
                answer = self._json(resp)
            if _result_code(answer) == "401":
                log.info("bhxh card check: maKetQua 401%s", " again" if renewal else ", renewing")
                continue
            return answer
        with self._token_lock:
            self._token = None
        raise GatewayAuthError("the gateway rejected the token after one renewal")

    # -- token --------------------------------------------------------------------------------

    def probe(self) -> None:
        """Take a fresh token within the total timeout (``cccd-kiosk doctor``): the gateway is
        reachable, TLS holds and the credentials are accepted, or its error is raised."""
        self._get_token(self._clock() + self.config.total_timeout, force=True)

    def _get_token(self, deadline: float, *, force: bool) -> _Token:
        """The cached token, or a new one. The lock guards only the cache, never the network
        call: a token request stuck until the deadline must not hold other check-ins."""
        with self._token_lock:
            tok = self._token
            if not force and tok is not None and self._clock() < tok.expires_at:
                return tok
            self._token = None
        tok = self._take_token(deadline)
        with self._token_lock:
            self._token = tok
        return tok

    def _take_token(self, deadline: float) -> _Token:
        body = {"username": self.config.username, "password": self._password_md5}
        resp = self._post(TOKEN_PATH, body, deadline)
        if resp.status_code == 401:
            raise GatewayAuthError("the gateway rejected the kiosk's credentials (HTTP 401)")
        if resp.status_code >= 400:
            raise GatewayProtocolError(f"token endpoint answered HTTP {resp.status_code}")
        answer = self._json(resp)
        code = _result_code(answer)
        if code == "401":
            raise GatewayAuthError("the gateway rejected the kiosk's credentials (maKetQua 401)")
        if code != "200":
            if code in ("500", "101"):
                raise GatewayUnavailable(f"token endpoint maKetQua {code}")
            raise GatewayProtocolError(f"token endpoint maKetQua {code}")
        key = answer.get("APIKey")
        if not isinstance(key, dict):
            raise GatewayProtocolError("token answer has no APIKey")
        access, id_token = key.get("access_token"), key.get("id_token")
        if not isinstance(access, str) or not access or not isinstance(id_token, str):
            raise GatewayProtocolError("token answer has no access_token/id_token")
        user = key.get("username")
        lifetime = self._lifetime(key.get("expires_in"))
        self.tokens_taken += 1
        log.info("bhxh token taken, valid %.0f s", lifetime)
        return _Token(
            access_token=access,
            id_token=id_token,
            username=user if isinstance(user, str) and user else self.config.username,
            expires_at=self._clock() + max(0.0, lifetime - TOKEN_RENEW_EARLY_S),
        )

    def _lifetime(self, expires_in: Any) -> float:
        """Seconds the token lives: a number of seconds, or an ISO 8601 expiry time."""
        if isinstance(expires_in, bool):
            return DEFAULT_TOKEN_LIFETIME_S
        if isinstance(expires_in, int | float):
            return float(expires_in)
        if isinstance(expires_in, str) and expires_in.strip():
            s = expires_in.strip()
            try:
                return float(s)
            except ValueError:
                pass
            try:
                at = datetime.fromisoformat(s.replace("Z", "+00:00"))
            except ValueError:
                return DEFAULT_TOKEN_LIFETIME_S
            if at.tzinfo is None:
                at = at.replace(tzinfo=UTC)
            return (at - self._now()).total_seconds()
        return DEFAULT_TOKEN_LIFETIME_S

    # -- HTTP ---------------------------------------------------------------------------------

    def _post(
        self,
        path: str,
        body: dict[str, str],
        deadline: float,
        *,
        params: dict[str, str] | None = None,
    ) -> Answer:
        what = "token" if path == TOKEN_PATH else "card check"
        return self._poster.post(path, body, deadline, what=what, params=params)

    @staticmethod
    def _json(resp: Answer) -> dict[str, Any]:
        return resp.json_object()

    def _to_result(self, d: dict[str, Any]) -> EligibilityResult:
        code = _result_code(d)
        m = meaning(code)
        new_card = clean_code(_opt_str(d, "maTheMoi"), MAX_CARD_CHARS)
        return EligibilityResult(
            status=m.status,
            code=code,
            message=clean_text(_opt_str(d, "ghiChu")),
            advice_vi=m.advice_vi,
            advice_en=m.advice_en,
            valid_from=parse_gateway_date(d.get("gtTheTu")),
            valid_to=parse_gateway_date(d.get("gtTheDen")),
            registered_clinic=clean_code(_opt_str(d, "maDKBD"), MAX_CLINIC_CHARS),
            # A new card (003/004) is the number the hospital system should use from now on.
            card_number=new_card or clean_code(_opt_str(d, "maThe"), MAX_CARD_CHARS),
            as_of=self._now(),
        )


@dataclass(frozen=True)
class Answer:
    """One HTTP answer, read to the end within the size cap and the deadline."""

    status_code: int
    headers: httpx.Headers
    content: bytes

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object; anything else (not JSON, nested too deep for the
        parser, not an object) is ``GatewayProtocolError``."""
        try:
            data = json.loads(self.content)
        except (ValueError, RecursionError):
            raise GatewayProtocolError("answer is not JSON (or nested too deep)") from None
        if not isinstance(data, dict):
            raise GatewayProtocolError("answer is not a JSON object")
        return data


class RetryingPoster:
    """POSTs JSON with the per-check time budget and the retry policy both clients share.

    Each attempt gets the connect timeout (capped by what is left of the budget) and the rest
    of the budget for the rest, as a *total* deadline (``bounded_http.deadline_scope``, and a
    check between body chunks): past it the attempt ends with ``GatewayDeadlineExceeded``.
    Timeouts and 5xx are retried with exponential backoff (``backoff_s``, ×2 each time) while
    retries and budget last; any other transport failure (refused, reset, TLS) raises
    ``GatewayUnavailable`` at once; other replies are read (at most ``max_bytes`` after
    decompression, else ``GatewayAnswerTooLarge``) and returned.
    """

    def __init__(
        self,
        http: httpx.Client,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        connect_timeout: float,
        retries: int,
        backoff_s: float,
        max_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self._http = http
        self._max_bytes = max_bytes
        self._clock = clock
        self._sleep = sleep
        self._connect_timeout = connect_timeout
        self._retries = retries
        self._backoff_s = backoff_s
        self.attempts = 0

    def post(
        self,
        path: str,
        body: Any,
        deadline: float,
        *,
        what: str,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """One logical request; see the class docstring for what is retried."""
        last = "no attempt"
        for attempt in range(self._retries + 1):
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise GatewayDeadlineExceeded(f"{what}: time budget used up ({last})")
            timeout = httpx.Timeout(remaining, connect=min(self._connect_timeout, remaining))
            self.attempts += 1
            try:
                answer = self._attempt(path, body, params, headers, timeout, remaining, deadline)
            except httpx.TimeoutException as exc:
                last = type(exc).__name__
                if self._clock() >= deadline - _DEADLINE_SLACK_S:
                    raise GatewayDeadlineExceeded(f"{what}: total deadline reached") from exc
            except httpx.TransportError as exc:
                if is_tls_error(exc):
                    raise GatewayTlsError(f"{what}: TLS verification failed") from exc
                raise GatewayUnavailable(f"{what}: {type(exc).__name__}") from exc
            except GatewayAnswerTooLarge as exc:
                raise GatewayAnswerTooLarge(f"{what}: {exc}") from None
            except GatewayDeadlineExceeded as exc:
                raise GatewayDeadlineExceeded(f"{what}: {exc}") from None
            else:
                if isinstance(answer, Answer):
                    return answer
                last = f"HTTP {answer}"
            log.info("%s attempt %d failed: %s", what, attempt + 1, last)
            if attempt < self._retries:
                delay = self._backoff_s * (2**attempt)
                if self._clock() + delay >= deadline:
                    last += " (no time left to retry)"
                    break
                self._sleep(delay)
        raise GatewayUnavailable(f"{what}: {last}")

    def _attempt(
        self,
        path: str,
        body: Any,
        params: dict[str, str] | None,
        headers: dict[str, str] | None,
        timeout: httpx.Timeout,
        remaining: float,
        deadline: float,
    ) -> Answer | int:
        """One POST as a stream under a total deadline: the answer, or the 5xx status."""
        with (
            deadline_scope(time.monotonic() + remaining),
            self._http.stream(
                "POST", path, json=body, params=params, headers=headers, timeout=timeout
            ) as resp,
        ):
            if resp.status_code >= 500:
                return resp.status_code  # not read: retried or given up on
            content = read_body(
                resp,
                max_bytes=self._max_bytes,
                deadline=deadline,
                clock=self._clock,
                too_large=GatewayAnswerTooLarge,
                undecodable=GatewayProtocolError,
                late=GatewayDeadlineExceeded,
            )
            return Answer(resp.status_code, resp.headers, content)


#: A timeout this close to the deadline is the deadline (timers may fire a hair early).
_DEADLINE_SLACK_S = 0.05
