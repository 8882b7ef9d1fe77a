"""The BHXH and FHIR clients against a hostile server on 127.0.0.1: bounded in size and time.

Memory is measured in a separate client process (``tests/fixtures/hostile_client.py``: its
peak RSS by ``resource.getrusage``); outcomes that need no memory figure run in-process.
No test asserts a duration: a call cut off by the deadline must fail with the timeout family
(``GatewayUnavailable``), which fails on the old code (it waited for the dripped answer).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest

from kiosk.eligibility.base import Person
from kiosk.eligibility.bhxh import BhxhClient, BhxhConfig
from kiosk.eligibility.errors import (
    GatewayAnswerTooLarge,
    GatewayDeadlineExceeded,
    GatewayProtocolError,
    GatewayUnavailable,
)
from kiosk.eligibility.fhir import FhirEligibilityClient
from tests.fixtures.hostile_client import run
from tests.fixtures.hostile_http import TOKEN, HostileServer, valid_answer

PERSON = Person("001088034517", "Trần Đức Minh", date(1988, 3, 4))
#: The issue's target for the kiosk process under any server (MiB).
RSS_LIMIT_MB = 150


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer("ok", drip_s=0.25) as hs:
        yield hs


def bhxh(url: str, **kw: Any) -> BhxhClient:
    cfg: dict[str, Any] = dict(
        base_url=url,
        username="kiosk",
        password="pw",
        staff_name="Nguyễn Thị Thu Hằng",
        staff_cccd="001185000123",
        total_timeout=3.0,  # generous: only the drip tests are meant to reach it
        retries=0,
    )
    cfg.update(kw)
    return BhxhClient(BhxhConfig(**cfg))


def fhir(url: str, **kw: Any) -> FhirEligibilityClient:
    return FhirEligibilityClient(url, **({"total_timeout": 3.0, "retries": 0} | kw))


# --- size: a separate process, its peak RSS --------------------------------------------------


@pytest.mark.parametrize("client", ["bhxh", "fhir"])
@pytest.mark.parametrize("mode", ["huge", "huge_nolength", "gzip", "chunked"])
def test_oversized_answers_are_refused_with_bounded_memory(
    hostile: HostileServer, client: str, mode: str
) -> None:
    hostile.mode = mode
    out = run(client, hostile.url, timeout=5.0)
    assert out["outcome"] == "GatewayAnswerTooLarge"
    assert out["maxrss_kb"] < RSS_LIMIT_MB * 1024, out
    assert hostile.bytes_sent < 64 * 1024 * 1024  # stopped reading: the server gave up early


def test_too_large_is_a_protocol_error_and_releases_the_breaker(hostile: HostileServer) -> None:
    hostile.mode = "huge"
    with bhxh(hostile.url, max_answer_bytes=64 * 1024) as c:
        with pytest.raises(GatewayAnswerTooLarge) as info:
            c.check(PERSON)
        assert isinstance(info.value, GatewayProtocolError)
        assert c.breaker.state == "closed" and c.breaker.consecutive_failures == 0


# --- time: the total deadline ----------------------------------------------------------------


@pytest.mark.parametrize("mode", ["drip", "drip_headers"])
@pytest.mark.parametrize("make", [bhxh, fhir])
def test_a_dripping_server_is_cut_off_at_the_deadline(
    hostile: HostileServer, mode: str, make: Any
) -> None:
    hostile.mode = mode
    with make(hostile.url, total_timeout=1.0) as c:
        with pytest.raises(GatewayDeadlineExceeded) as info:
            c.check(PERSON)
        assert isinstance(info.value, GatewayUnavailable)  # the cache fallback catches it
        # A stuck call is a failure for the breaker.
        assert c.breaker.consecutive_failures == 1


def test_the_deadline_opens_the_breaker(hostile: HostileServer) -> None:
    hostile.mode = "drip"
    with bhxh(hostile.url, total_timeout=1.0, breaker_failures=1, breaker_reset_s=60.0) as c:
        with pytest.raises(GatewayDeadlineExceeded):
            c.check(PERSON)
        assert c.breaker.state == "open"
        sent = len(hostile.requests)
        with pytest.raises(GatewayUnavailable):
            c.check(PERSON)
        assert len(hostile.requests) == sent  # failed fast, nothing sent


def test_dripping_in_a_separate_process_ends_with_the_timeout_family(
    hostile: HostileServer,
) -> None:
    hostile.mode = "drip"
    assert run("bhxh", hostile.url, timeout=1.0)["outcome"] == "GatewayDeadlineExceeded"


def test_a_normal_answer_still_comes_through(hostile: HostileServer) -> None:
    with bhxh(hostile.url) as c:
        r = c.check(PERSON)
    assert (r.code, r.status, r.registered_clinic, r.message) == (
        "000",
        "eligible",
        "01001",
        "Thẻ hợp lệ",
    )
    with fhir(hostile.url) as f:
        assert f.check(PERSON).registered_clinic == "01001"


def test_a_gzip_answer_within_the_cap_is_decoded() -> None:
    import gzip
    import json

    body = gzip.compress(json.dumps(valid_answer("/api/egw/x")).encode())

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/token/take":
            return httpx.Response(200, json=TOKEN)
        return httpx.Response(200, content=body, headers={"Content-Encoding": "gzip"})

    cfg = BhxhConfig(
        base_url="https://gw.test",
        username="kiosk",
        password="pw",
        staff_name="A",
        staff_cccd="001185000123",
    )
    with BhxhClient(cfg, transport=httpx.MockTransport(handler)) as c:
        assert c.check(PERSON).code == "000"


# --- garbage and deep JSON ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("garbage", GatewayUnavailable),
        ("notjson", GatewayProtocolError),
        ("deep", GatewayProtocolError),
    ],
)
@pytest.mark.parametrize("make", [bhxh, fhir])
def test_garbage_and_deep_json_are_typed_errors(
    hostile: HostileServer, mode: str, error: type[Exception], make: Any
) -> None:
    hostile.mode = mode
    with make(hostile.url) as c, pytest.raises(error):
        c.check(PERSON)


# --- strings --------------------------------------------------------------------------------


def _is_clean(text: str) -> bool:
    return (
        all(unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in text)
        and "\x1b" not in text
    )


@pytest.mark.parametrize("make", [bhxh, fhir])
def test_escapes_and_bidi_never_reach_the_result(hostile: HostileServer, make: Any) -> None:
    hostile.mode = "escapes"
    with make(hostile.url) as c:
        r = c.check(PERSON)
    assert r.message is not None and _is_clean(r.message)
    assert "Thẻ hợp lệ" in r.message and "pwned" not in r.message
    assert r.registered_clinic is None  # "\x1b[31m01001\u202e99999" is no 5-character code
    assert r.card_number == "DN4010120001234"


@pytest.mark.parametrize("make", [bhxh, fhir])
def test_a_million_character_message_is_capped(hostile: HostileServer, make: Any) -> None:
    hostile.mode = "long"
    with make(hostile.url) as c:
        r = c.check(PERSON)
    assert r.message is not None and len(r.message) <= 500
    assert r.message.startswith("Ả")


# --- the token lock is not held across the network call --------------------------------------


def test_the_token_lock_is_not_held_while_the_token_is_fetched() -> None:
    holder: dict[str, BhxhClient] = {}
    seen: list[bool] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/token/take":
            seen.append(holder["c"]._token_lock.locked())  # while the token "travels"
            return httpx.Response(200, json=TOKEN)
        return httpx.Response(200, json=valid_answer("/api/egw/x"))

    cfg = BhxhConfig(
        base_url="https://gw.test",
        username="kiosk",
        password="pw",
        staff_name="A",
        staff_cccd="001185000123",
    )
    with BhxhClient(cfg, transport=httpx.MockTransport(handler)) as c:
        holder["c"] = c
        assert c.check(PERSON).code == "000"
    assert seen == [False]
