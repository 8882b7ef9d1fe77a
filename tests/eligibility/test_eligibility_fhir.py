"""FhirEligibilityClient against httpx.MockTransport: request resource, response mapping,
errors, retries and breaker shared with the BHXH client."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from kiosk.eligibility.base import Person
from kiosk.eligibility.errors import GatewayAuthError, GatewayProtocolError, GatewayUnavailable
from kiosk.eligibility.fhir import CCCD_SYSTEM, FhirEligibilityClient

PERSON = Person("001088034517", "Trần Đức Minh", date(1988, 7, 21), sex="Nam")
NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
EXT = "https://baohiemxahoi.gov.vn/fhir/StructureDefinition/"


def response(code: str | None = "000", *, inforce: bool | None = True, **kw: Any) -> dict[str, Any]:
    r: dict[str, Any] = {
        "resourceType": "CoverageEligibilityResponse",
        "status": "active",
        "purpose": ["validation"],
        "outcome": "complete",
        "disposition": f"{code}: Thông tin thẻ chính xác." if code else "ok",
        "insurance": [
            {
                "coverage": {"identifier": {"system": "x", "value": "DN4010188034517"}},
                "inforce": inforce,
                "benefitPeriod": {"start": "2026-01-01", "end": "2026-12-31"},
                "extension": [
                    {"url": EXT + "registered-clinic", "valueIdentifier": {"value": "01001"}},
                    {"url": EXT + "registered-clinic-name", "valueString": "PK"},
                ],
            }
        ],
    }
    if code:
        r["extension"] = [{"url": EXT + "ma-ket-qua", "valueCode": code}]
    r.update(kw)
    return r


class Clock:
    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.t += s


def client(handler: Any, clock: Clock | None = None, **kw: Any) -> FhirEligibilityClient:
    clock = clock or Clock()
    return FhirEligibilityClient(
        "https://fhir.test/fhir",
        transport=httpx.MockTransport(handler),
        clock=clock,
        sleep=clock.sleep,
        now=lambda: NOW,
        **kw,
    )


def test_request_resource_and_mapping() -> None:
    seen: list[httpx.Request] = []

    def h(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        return httpx.Response(200, json=response())

    r = client(h, token="abc").check(PERSON)
    req = seen[0]
    assert req.url.path == "/fhir/CoverageEligibilityRequest/$submit"
    assert req.headers["authorization"] == "Bearer abc"
    assert req.headers["content-type"] == "application/fhir+json"
    body = json.loads(req.content)
    assert body["resourceType"] == "CoverageEligibilityRequest"
    assert body["purpose"] == ["validation"] and body["status"] == "active"
    assert body["patient"] == {"reference": "#p"}
    assert body["insurer"]["display"]
    assert body["created"] == NOW.isoformat(timespec="seconds")
    (patient,) = body["contained"]
    assert patient["identifier"] == [{"system": CCCD_SYSTEM, "value": "001088034517"}]
    assert patient["name"] == [{"text": "Trần Đức Minh"}]
    assert (patient["birthDate"], patient["gender"]) == ("1988-07-21", "male")
    assert (r.status, r.code, r.message) == ("eligible", "000", "Thông tin thẻ chính xác.")
    assert (r.valid_from, r.valid_to) == (date(2026, 1, 1), date(2026, 12, 31))
    assert (r.card_number, r.registered_clinic, r.as_of) == ("DN4010188034517", "01001", NOW)


def test_plain_path_birth_year_no_token() -> None:
    seen: list[httpx.Request] = []

    def h(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        return httpx.Response(200, json=response())

    client(h, submit=False).check(Person("001088034517", "A", None, birth_year=1988))
    assert seen[0].url.path == "/fhir/CoverageEligibilityRequest"
    assert "authorization" not in seen[0].headers
    assert json.loads(seen[0].content)["contained"][0]["birthDate"] == "1988"


@pytest.mark.parametrize(
    ("res", "status", "code"),
    [
        (response("010", inforce=False), "not_eligible", "010"),
        (response("004"), "eligible", "004"),
        (response("110", inforce=False), "not_eligible", "110"),
        (response(None, inforce=True), "eligible", None),
        (response(None, inforce=False), "not_eligible", None),
        (response(None, inforce=None, outcome="error", insurance=[]), "unknown", None),
        (
            {
                "resourceType": "CoverageEligibilityResponse",
                "outcome": "error",
                "disposition": "050: Không thấy thông tin thẻ BHYT.",
                "error": [{"code": {"coding": [{"system": EXT + "ma-ket-qua", "code": "050"}]}}],
            },
            "not_eligible",
            "050",
        ),
        (
            {
                "resourceType": "CoverageEligibilityResponse",
                "outcome": "error",
                "disposition": "060: Sai họ tên.",
            },
            "unknown",
            "060",
        ),
    ],
)
def test_response_mapping(res: dict[str, Any], status: str, code: str | None) -> None:
    r = client(lambda _: httpx.Response(200, json=res)).check(PERSON)
    assert (r.status, r.code) == (status, code)
    assert r.advice_en and r.advice_vi


def test_new_card_extension_is_the_card_number() -> None:
    res = response("004")
    res["insurance"][0]["extension"].append(
        {"url": EXT + "new-card", "valueIdentifier": {"value": "DN4010188099999"}}
    )
    r = client(lambda _: httpx.Response(200, json=res)).check(PERSON)
    assert (r.status, r.card_number) == ("eligible", "DN4010188099999")


def test_error_outcome_has_no_dates() -> None:
    res = {
        "resourceType": "CoverageEligibilityResponse",
        "outcome": "error",
        "disposition": "050: x",
    }
    r = client(lambda _: httpx.Response(200, json=res)).check(PERSON)
    assert (r.valid_from, r.card_number, r.registered_clinic, r.message) == (None, None, None, "x")


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(200, content=b"{oops"),
        httpx.Response(200, json={"resourceType": "OperationOutcome"}),
        httpx.Response(400, json={"resourceType": "OperationOutcome"}),
        httpx.Response(200, json=response(insurance=[{"benefitPeriod": {"start": "1/1/26"}}])),
    ],
)
def test_protocol_errors(reply: httpx.Response) -> None:
    with pytest.raises(GatewayProtocolError):
        client(lambda _: reply).check(PERSON)


@pytest.mark.parametrize("status", [401, 403])
def test_auth_errors(status: int) -> None:
    with pytest.raises(GatewayAuthError):
        client(lambda _: httpx.Response(status, json={}), token="bad").check(PERSON)


def test_retries_and_breaker() -> None:
    calls: list[int] = []

    def h(_: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) <= 6:
            raise httpx.ConnectTimeout("slow")
        return httpx.Response(200, json=response())

    clock = Clock()
    c = client(h, clock, breaker_failures=2, breaker_reset_s=10)
    for _ in range(2):
        with pytest.raises(GatewayUnavailable):
            c.check(PERSON)
    assert len(calls) == 6 and clock.sleeps == [0.2, 0.4, 0.2, 0.4]
    with pytest.raises(GatewayUnavailable, match="circuit open"):
        c.check(PERSON)
    assert len(calls) == 6
    clock.t += 10.001
    assert c.check(PERSON).status == "eligible"
    assert c.breaker.state == "closed"


def test_logs_hold_no_personal_data(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        client(lambda _: httpx.Response(200, json=response()), token="sekret").check(PERSON)
    assert "code=000" in caplog.text
    for s in ("001088034517", "Trần", "1988", "sekret", "DN4010188034517"):
        assert s not in caplog.text
