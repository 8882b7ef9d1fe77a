"""Circuit breaker transitions, driven by an injected clock."""

from __future__ import annotations

from typing import Any

import pytest

from kiosk.eligibility.breaker import CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_opens_after_n_consecutive_failures_and_fails_fast() -> None:
    c = Clock()
    b = CircuitBreaker(3, 30, clock=c)
    for _ in range(2):
        assert b.allow()
        b.record_failure()
    assert b.state == "closed"
    assert b.allow()
    b.record_failure()
    assert b.state == "open"
    assert not b.allow()
    c.t += 29.9
    assert not b.allow()
    assert b.seconds_until_retry() == pytest.approx(0.1)


def test_success_resets_the_count() -> None:
    b = CircuitBreaker(2, 30, clock=Clock())
    b.record_failure()
    b.record_success()
    b.record_failure()
    assert b.state == "closed" and b.consecutive_failures == 1


def test_half_open_single_trial_then_close() -> None:
    c = Clock()
    b = CircuitBreaker(1, 10, clock=c)
    b.record_failure()
    assert b.state == "open"
    c.t += 10
    assert b.state == "half_open"
    assert b.allow()  # the trial
    assert not b.allow()  # others still fail fast while it runs
    b.record_success()
    assert b.state == "closed" and b.allow() and b.allow()


def test_failed_trial_reopens_for_another_period() -> None:
    c = Clock()
    b = CircuitBreaker(3, 10, clock=c)
    for _ in range(3):
        b.record_failure()
    c.t += 10
    assert b.allow()
    b.record_failure()
    assert b.state == "open" and not b.allow()
    c.t += 9.9
    assert not b.allow()
    c.t += 0.1
    assert b.allow()


def test_release_frees_the_trial() -> None:
    c = Clock()
    b = CircuitBreaker(1, 5, clock=c)
    b.record_failure()
    c.t += 5
    assert b.allow()
    b.release()
    assert b.allow()


def test_bad_parameters() -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(0, 1)
    with pytest.raises(ValueError):
        CircuitBreaker(1, -1)


# --- any exception ends a half-open trial (issue 10) -----------------------------------------


def _half_open_client(handler: Any) -> Any:
    import httpx

    from kiosk.eligibility.bhxh import BhxhClient, BhxhConfig

    clock = [0.0]
    cfg = BhxhConfig(
        base_url="https://gw.test",
        username="kiosk",
        password="pw",
        staff_name="A",
        staff_cccd="001185000123",
        breaker_failures=1,
        breaker_reset_s=10.0,
    )
    c = BhxhClient(cfg, transport=httpx.MockTransport(handler), clock=lambda: clock[0])
    c.breaker.record_failure()
    clock[0] = 20.0
    assert c.breaker.state == "half_open"
    return c


def _token_then(reply: Any) -> Any:
    import httpx

    from tests.fixtures.hostile_http import TOKEN

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/token/take":
            return httpx.Response(200, json=TOKEN)
        return reply(request)

    return handler


def test_deep_json_in_the_trial_is_a_protocol_error_and_frees_the_trial() -> None:
    import httpx

    from kiosk.eligibility.errors import GatewayProtocolError
    from tests.eligibility.test_eligibility_bhxh import PERSON

    deep = b"[" * 100_000 + b"]" * 100_000
    c = _half_open_client(_token_then(lambda r: httpx.Response(200, content=deep)))
    with pytest.raises(GatewayProtocolError):
        c.check(PERSON)
    assert c.breaker.allow()  # not stuck half-open with the trial taken


def test_an_unexpected_exception_in_the_trial_frees_it() -> None:
    from tests.eligibility.test_eligibility_bhxh import PERSON

    def boom(_: Any) -> Any:
        raise AttributeError("a bug somewhere below")

    c = _half_open_client(_token_then(boom))
    with pytest.raises(AttributeError):
        c.check(PERSON)
    assert c.breaker.allow()


def test_a_fhir_answer_of_the_wrong_shape_is_a_protocol_error_and_frees_the_trial() -> None:
    import httpx

    from kiosk.eligibility.errors import GatewayProtocolError
    from kiosk.eligibility.fhir import FhirEligibilityClient
    from tests.eligibility.test_eligibility_bhxh import PERSON

    clock = [0.0]
    bad = {"resourceType": "CoverageEligibilityResponse", "error": [{"code": "x"}]}
    c = FhirEligibilityClient(
        "https://fhir.test",
        breaker_failures=1,
        breaker_reset_s=10.0,
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json=bad)),
        clock=lambda: clock[0],
    )
    c.breaker.record_failure()
    clock[0] = 20.0
    with pytest.raises(GatewayProtocolError):
        c.check(PERSON)  # AttributeError ('str' has no .get) before
    assert c.breaker.allow()
