"""FHIR R4 eligibility adapter, for deployments outside the BHXH network.

Posts a ``CoverageEligibilityRequest`` (purpose ``validation``, the patient as a contained
``Patient`` with the CCCD identifier, name and birth date) to
``{base}/CoverageEligibilityRequest/$submit`` and turns the ``CoverageEligibilityResponse`` into
the same ``EligibilityResult`` the BHXH client returns, behind the same interface, with the same
time budget, retry policy (timeouts and 5xx only), circuit breaker and TLS settings.

Assumptions (no national FHIR eligibility service exists yet):

- Identifier system for the CCCD number: ``http://fhir.ehealth.gov.vn/core/NamingSystem/cccd``,
  in the style of the draft Vietnamese core IG (canonical ``http://fhir.ehealth.gov.vn/core``);
  configurable, since the IG's NamingSystems are not final.
- The result code: servers bridging to BHXH (like the project's simulator) carry ``maKetQua``
  in an extension whose URL ends ``/ma-ket-qua``, in ``error[].code.coding`` or as the
  ``"NNN: text"`` prefix of ``disposition``; when present it decides the status through
  ``codes.meaning`` exactly as for the BHXH API. Without one, ``outcome``/``inforce`` decide:
  ``complete`` + ``inforce`` true → eligible, ``inforce`` false → not eligible, anything else
  → unknown ("ask staff").
- ``insurance[0].coverage.identifier`` is the BHYT card number; ``benefitPeriod`` the validity;
  the registered clinic (maDKBD) an ``insurance[0].extension`` whose URL ends
  ``/registered-clinic`` (``valueIdentifier`` or ``valueString``); a new card (003/004) one
  ending ``/new-card``, which then becomes ``card_number`` as with the BHXH API's ``maTheMoi``.

The URL must be ``https`` unless it is loopback (``allow_insecure_http``: a lab switch,
warned). A static bearer ``token`` is sent when given; HTTP 401/403 is ``GatewayAuthError``
(a static token cannot be renewed here). Logs carry only codes, statuses and durations. Answers are
bounded like the BHXH client's (a real total deadline, ``max_answer_bytes`` after
decompression) and their strings sanitised; a response of the wrong shape (a string where an
object belongs, JSON nested too deep) is ``GatewayProtocolError``, never a stray
``AttributeError`` that would leave the breaker's half-open trial taken.
"""

from __future__ import annotations

import logging
import time
import unicodedata
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import httpx

from kiosk.bounded_http import (
    ACCEPT_ENCODING,
    MAX_BODY_BYTES,
    DeadlineTransport,
    check_url,
    install_log_filter,
)
from kiosk.eligibility.base import EligibilityResult, Person
from kiosk.eligibility.bhxh import Answer, RetryingPoster, tls_verify
from kiosk.eligibility.breaker import CircuitBreaker
from kiosk.eligibility.codes import meaning
from kiosk.eligibility.errors import (
    ConfigurationError,
    GatewayAuthError,
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

CCCD_SYSTEM = "http://fhir.ehealth.gov.vn/core/NamingSystem/cccd"
INSURER_DISPLAY = "Bảo hiểm xã hội Việt Nam"
FHIR_JSON = "application/fhir+json"


class FhirEligibilityClient:
    """``EligibilityBackend`` over FHIR R4 (see the module docstring for the mapping)."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        cccd_system: str = CCCD_SYSTEM,
        insurer_display: str = INSURER_DISPLAY,
        submit: bool = True,
        connect_timeout: float = 2.0,
        total_timeout: float = 8.0,
        retries: int = 2,
        backoff_s: float = 0.2,
        ca_bundle: str | None = None,
        verify_tls: bool = True,
        breaker_failures: int = 3,
        breaker_reset_s: float = 30.0,
        max_answer_bytes: int = MAX_BODY_BYTES,
        allow_insecure_http: bool = False,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        check_url(
            base_url,
            allow_insecure_http=allow_insecure_http,
            what="the FHIR eligibility URL",
            error=ConfigurationError,
        )
        install_log_filter()
        self.path = "CoverageEligibilityRequest" + ("/$submit" if submit else "")
        self.cccd_system = cccd_system
        self.insurer_display = insurer_display
        self.total_timeout = total_timeout
        self._clock = clock
        self._now = now or (lambda: datetime.now(UTC))
        self._token = token
        self.verify = tls_verify(verify_tls, ca_bundle)
        self.breaker = CircuitBreaker(breaker_failures, breaker_reset_s, clock=clock)
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            transport=transport or DeadlineTransport(verify=self.verify),
            verify=self.verify,
            timeout=httpx.Timeout(total_timeout, connect=connect_timeout),
            headers={"Accept-Encoding": ACCEPT_ENCODING},
            follow_redirects=False,
        )
        self._poster = RetryingPoster(
            self._http,
            clock=clock,
            sleep=sleep,
            connect_timeout=connect_timeout,
            retries=retries,
            backoff_s=backoff_s,
            max_bytes=max_answer_bytes,
        )

    @property
    def attempts(self) -> int:
        """HTTP requests sent so far, retries included."""
        return self._poster.attempts

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> FhirEligibilityClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request_resource(self, person: Person) -> dict[str, Any]:
        """The ``CoverageEligibilityRequest`` sent for ``person``."""
        patient: dict[str, Any] = {
            "resourceType": "Patient",
            "id": "p",
            "identifier": [{"system": self.cccd_system, "value": person.id_number.strip()}],
            "name": [{"text": unicodedata.normalize("NFC", person.full_name.strip())}],
        }
        if person.date_of_birth is not None:
            patient["birthDate"] = person.date_of_birth.isoformat()
        elif person.birth_year is not None:
            patient["birthDate"] = f"{person.birth_year:04d}"
        if person.sex in ("Nam", "Nữ"):
            patient["gender"] = "male" if person.sex == "Nam" else "female"
        return {
            "resourceType": "CoverageEligibilityRequest",
            "id": str(uuid.uuid4()),
            "contained": [patient],
            "status": "active",
            "purpose": ["validation"],
            "patient": {"reference": "#p"},
            "created": self._now().isoformat(timespec="seconds"),
            "insurer": {"display": self.insurer_display},
        }

    def check(self, person: Person) -> EligibilityResult:
        """Ask the FHIR server; same outcomes and exceptions as ``BhxhClient.check``."""
        if not self.breaker.allow():
            raise GatewayUnavailable("FHIR eligibility circuit open (recent outage)")
        started = self._clock()
        headers = {"Content-Type": FHIR_JSON, "Accept": FHIR_JSON}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        try:
            resp = self._poster.post(
                self.path,
                self.request_resource(person),
                started + self.total_timeout,
                what="fhir eligibility",
                headers=headers,
            )
            if resp.status_code in (401, 403):
                raise GatewayAuthError(f"FHIR server refused the token (HTTP {resp.status_code})")
            if resp.status_code >= 400:
                raise GatewayProtocolError(f"FHIR server answered HTTP {resp.status_code}")
            try:
                result = self.to_result(_json(resp))
            except (AttributeError, TypeError, KeyError, IndexError, RecursionError) as exc:
                what = type(exc).__name__
                raise GatewayProtocolError(f"answer has the wrong shape ({what})") from None
        except GatewayUnavailable as exc:
            self.breaker.record_failure()
            level = logging.ERROR if isinstance(exc, GatewayTlsError) else logging.WARNING
            log.log(level, "fhir check unavailable: %s (breaker %s)", exc, self.breaker.state)
            raise
        except GatewayAuthError:
            self.breaker.record_success()
            raise
        except GatewayProtocolError as exc:
            self.breaker.release()
            log.error("fhir check: unexpected answer: %s", exc)
            raise
        except BaseException as exc:
            # Anything else (a bug, an interrupt) still ends a half-open trial.
            self.breaker.release()
            log.error("fhir check: %s", type(exc).__name__)
            raise
        self.breaker.record_success()
        log.info(
            "fhir check code=%s status=%s in %.0f ms",
            result.code,
            result.status,
            (self._clock() - started) * 1000,
        )
        return result

    def to_result(self, res: dict[str, Any]) -> EligibilityResult:
        """Map a ``CoverageEligibilityResponse`` to an ``EligibilityResult``."""
        if res.get("resourceType") != "CoverageEligibilityResponse":
            raise GatewayProtocolError("answer is not a CoverageEligibilityResponse")
        outcome = res.get("outcome")
        insurance = res.get("insurance") or []
        if not isinstance(insurance, list):
            raise GatewayProtocolError("insurance is not a list")
        ins: dict[str, Any] = insurance[0] if insurance and isinstance(insurance[0], dict) else {}
        disposition = res.get("disposition")
        disposition = disposition if isinstance(disposition, str) and disposition else None
        code = _result_code(res, disposition)
        if code is not None:
            code = clean_code(code, MAX_RESULT_CODE_CHARS)
            if code is None:
                raise GatewayProtocolError("the result code is not a short code")
        message = disposition
        if code and message and message.startswith(code + ":"):
            message = message[len(code) + 1 :].strip() or None
        if code is not None:
            m = meaning(code)
            status, vi, en = m.status, m.advice_vi, m.advice_en
        elif outcome == "complete" and ins.get("inforce") is True:
            status, vi, en = "eligible", "Thẻ hợp lệ.", "Card valid."
        elif outcome == "complete" and ins.get("inforce") is False:
            status = "not_eligible"
            vi = "Thẻ không còn hiệu lực: kiểm tra thẻ BHYT."
            en = "The coverage is not in force: check the BHYT card."
        else:
            status = "unknown"
            vi = "Không xác định được quyền lợi BHYT: hỏi nhân viên."
            en = "The server could not confirm coverage: ask staff."
        period = ins.get("benefitPeriod") or {}
        if not isinstance(period, dict):
            raise GatewayProtocolError("benefitPeriod is not an object")
        coverage = ins.get("coverage") or {}
        ident = coverage.get("identifier") if isinstance(coverage, dict) else None
        card = ident.get("value") if isinstance(ident, dict) else None
        return EligibilityResult(
            status=status,
            code=code,
            message=clean_text(message),
            advice_vi=vi,
            advice_en=en,
            valid_from=_fhir_date(period.get("start")),
            valid_to=_fhir_date(period.get("end")),
            registered_clinic=clean_code(_registered_clinic(ins), MAX_CLINIC_CHARS),
            # A new card (003/004) is the number the hospital system should use from now on.
            card_number=clean_code(_identifier_extension(ins, "/new-card"), MAX_CARD_CHARS)
            or clean_code(card if isinstance(card, str) and card else None, MAX_CARD_CHARS),
            as_of=self._now(),
        )


def _json(resp: Answer) -> dict[str, Any]:
    return resp.json_object()


def _extensions(obj: dict[str, Any]) -> list[dict[str, Any]]:
    ext = obj.get("extension") or []
    return [e for e in ext if isinstance(e, dict)] if isinstance(ext, list) else []


def _result_code(res: dict[str, Any], disposition: str | None) -> str | None:
    for e in _extensions(res):
        if str(e.get("url", "")).endswith("/ma-ket-qua"):
            v = e.get("valueCode") or e.get("valueString")
            if isinstance(v, str) and v:
                return v
    for err in res.get("error") or []:
        coding = (err.get("code") or {}).get("coding") if isinstance(err, dict) else None
        for c in coding or []:
            if isinstance(c, dict) and str(c.get("system", "")).endswith("/ma-ket-qua"):
                v = c.get("code")
                if isinstance(v, str) and v:
                    return v
    if disposition and len(disposition) > 4 and disposition[3] == ":":
        head = disposition[:3]
        if head.isdigit():
            return head
    return None


def _registered_clinic(ins: dict[str, Any]) -> str | None:
    return _identifier_extension(ins, "/registered-clinic")


def _identifier_extension(ins: dict[str, Any], suffix: str) -> str | None:
    for e in _extensions(ins):
        if str(e.get("url", "")).endswith(suffix):
            vi = e.get("valueIdentifier")
            v = vi.get("value") if isinstance(vi, dict) else e.get("valueString")
            if isinstance(v, str) and v:
                return v
    return None


def _fhir_date(v: Any) -> date | None:
    """FHIR ``date``/``dateTime`` → date (its calendar day); absent → None."""
    if v is None or v == "":
        return None
    if not isinstance(v, str) or len(v) < 10:
        raise GatewayProtocolError("benefitPeriod date is not yyyy-MM-dd")
    try:
        return date.fromisoformat(v[:10])
    except ValueError:
        raise GatewayProtocolError("benefitPeriod date is not yyyy-MM-dd") from None
