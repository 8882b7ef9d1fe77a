"""https for every gateway host but loopback (a lab switch aside); no credentials in logs."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import httpx
import pytest

from kiosk.bounded_http import is_loopback
from kiosk.eligibility.base import Person
from kiosk.eligibility.bhxh import BhxhClient, BhxhConfig
from kiosk.eligibility.errors import ConfigurationError
from kiosk.eligibility.fhir import FhirEligibilityClient
from tests.fixtures.hostile_http import TOKEN, valid_answer

PERSON = Person("001088034517", "Trần Đức Minh", date(1988, 3, 4))


def config(url: str, **kw: Any) -> BhxhConfig:
    return BhxhConfig(
        base_url=url,
        username="kiosk",
        password="pw",
        staff_name="A",
        staff_cccd="001185000123",
        **kw,
    )


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8765", "http://localhost:1", "http://[::1]:2", "https://gw.vn"]
)
def test_https_or_loopback_is_accepted(url: str) -> None:
    config(url)
    FhirEligibilityClient(url).close()


@pytest.mark.parametrize("url", ["http://gw.example.vn", "http://10.0.0.5:8080", "http://0.0.0.0"])
def test_plain_http_to_another_host_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="https"):
        config(url)
    with pytest.raises(ConfigurationError, match="https"):
        FhirEligibilityClient(url)


def test_the_lab_switch_allows_it_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        config("http://gw.lab:8765", allow_insecure_http=True)
        FhirEligibilityClient("http://gw.lab:8765", allow_insecure_http=True).close()
    warnings = [r for r in caplog.records if "in clear" in r.getMessage()]
    assert len(warnings) == 2
    assert all("gw.lab" not in r.getMessage() for r in caplog.records)


def test_loopback_rule() -> None:
    assert is_loopback("127.3.2.1") and is_loopback("::1") and is_loopback("a.localhost")
    assert not is_loopback("127.0.0.1.example") and not is_loopback("his.local")


def test_userinfo_and_query_never_reach_the_log(caplog: pytest.LogCaptureFixture) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/token/take":
            return httpx.Response(200, json=TOKEN)
        return httpx.Response(200, json=valid_answer("/api/egw/x"))

    cfg = config("https://user:s3cret@gw.test")
    with (
        caplog.at_level(logging.DEBUG),
        BhxhClient(cfg, transport=httpx.MockTransport(handler)) as c,
    ):
        assert c.check(PERSON).code == "000"
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "HTTP Request" in text  # httpx did log the requests
    assert "s3cret" not in text and "user:" not in text
    assert "hostile-token" not in text and "token=" not in text and "password=" not in text


# --- TLS failures are shown as what they are, at ERROR -----------------------------------------

from tests.eligibility.test_eligibility_bhxh import https_gateway  # noqa: E402, F401


def test_an_untrusted_certificate_is_a_tls_error_logged_at_error(
    https_gateway: tuple[str, Any],  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    from kiosk.eligibility.errors import GatewayTlsError, GatewayUnavailable

    url, _ = https_gateway
    with caplog.at_level(logging.WARNING):
        with BhxhClient(config(url, retries=0)) as c, pytest.raises(GatewayTlsError) as info:
            c.check(PERSON)
        assert isinstance(info.value, GatewayUnavailable)  # the cache still answers
        with FhirEligibilityClient(url, retries=0) as f, pytest.raises(GatewayTlsError):
            f.check(PERSON)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2 and all("TLS" in r.getMessage() for r in errors)
