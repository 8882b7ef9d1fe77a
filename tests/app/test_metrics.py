"""The status endpoint: a real scrape over HTTP of a kiosk that checked in every sample card.

The kiosk is the demo (the gateway simulator on loopback, simulated chips); the endpoint is the
real ``[status]`` server on 127.0.0.1. The scrape is parsed with ``prometheus_client.parser``
and its numbers compared with what the check-ins returned; the scrape and ``/health`` are
searched for every sample person's ID number, names (as written and folded), birth dates and
addresses.
"""

from __future__ import annotations

import dataclasses
import json
import unicodedata
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TextIO, cast

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from kiosk.app.demo import sample_keys, tap_sample
from kiosk.app.kiosk import Kiosk
from kiosk.app.settings import Overrides, resolve
from kiosk.config import STATUS_ENV_TOKEN, ConfigValueError, StatusConfig
from kiosk.transport import CardRemoved
from offline_cache.journal import fold
from simulators.card.profile import list_profiles, load_profile
from tests.app.test_privacy import secrets_of_samples

TOKEN = "metrics-test-token-0123456789"


def _kiosk(data: Path, *, port: int | None = 0) -> Kiosk:
    settings = resolve(None, Overrides(data_dir=data))
    config = dataclasses.replace(settings.config, status=StatusConfig(port=port))
    return Kiosk(dataclasses.replace(settings, config=config), link_kbps=0)


@pytest.fixture
def kiosk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Kiosk]:
    monkeypatch.setenv(STATUS_ENV_TOKEN, TOKEN)
    k = _kiosk(tmp_path / "data")
    try:
        yield k
    finally:
        k.close()


def samples(metrics_text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(metrics_text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def scrape(url: str, path: str = "/metrics", token: str | None = TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(url + path, headers=headers, timeout=5.0)


def personal_values() -> set[str]:
    """The secrets of the privacy test, plus folded names and birth dates in every form."""
    out = set(secrets_of_samples())
    for name in list_profiles():
        p = load_profile(name).person
        out.add(fold(p.full_name))
        out.add(fold(p.full_name).upper())
        born: date = p.date_of_birth
        out.update(
            {
                born.isoformat(),
                born.strftime("%d%m%Y"),
                born.strftime("%d/%m/%Y"),
                born.strftime("%y%m%d"),
            }
        )
    return {unicodedata.normalize("NFC", s) for s in out if len(s) >= 6}


def test_a_scrape_counts_the_checkins_and_holds_no_personal_data(kiosk: Kiosk) -> None:
    server = kiosk.serve_status()
    assert server is not None and server.url.startswith("http://127.0.0.1:")
    assert scrape(server.url, token=None).status_code == 401
    assert scrape(server.url, token="wrong-token-wrong-token").status_code == 401
    assert scrape(server.url, "/health", token=None).status_code == 401

    statuses: list[str] = []
    for name in list_profiles():
        report = kiosk.checkin_card(sample_keys(name), transport=tap_sample(name))
        statuses.append(report.outcome.eligibility.status)
    manual = kiosk.checkin_manual("046196008821", "Nguyễn Thị Ánh Tuyết", date(1996, 11, 23))
    with pytest.raises(CardRemoved):
        kiosk.checkin_card(sample_keys("teen"), transport=tap_sample("teen", "tear"))

    resp = scrape(server.url)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
    got = samples(resp.text)
    for status in ("eligible", "not_eligible"):
        key = ("cccd_kiosk_checkins_total", (("method", "chip"), ("outcome", status)))
        assert got.get(key, 0.0) == statuses.count(status), status
    manual_key = (("method", "manual"), ("outcome", manual.outcome.eligibility.status))
    assert got[("cccd_kiosk_checkins_total", manual_key)] == 1
    assert got[("cccd_kiosk_checkins_total", (("method", "chip"), ("outcome", "error")))] == 1
    assert got[("cccd_kiosk_card_removed_mid_read_total", ())] == 1
    n_chip = len(list_profiles())
    assert got[("cccd_kiosk_checkin_latency_seconds_count", (("method", "chip"),))] == n_chip
    assert got[("cccd_kiosk_checkin_latency_seconds_count", (("method", "manual"),))] == 1
    assert got[("cccd_kiosk_eligibility_answers_total", (("source", "live"),))] == n_chip + 1
    assert got[("cccd_kiosk_gateway_breaker_state", (("state", "closed"),))] == 1
    assert got[("cccd_kiosk_gateway_breaker_state", (("state", "open"),))] == 0
    # every check-in waits for a HIS (none configured in the demo); the manual one is a repeat
    # of a chip check-in of today (same patient, same number), so one row each
    assert manual.outcome.repeat
    assert got[("cccd_kiosk_outbox_pending", ())] == n_chip
    assert got[("cccd_kiosk_outbox_oldest_pending_seconds", ())] >= 0
    pa = [k for k in got if k[0] == "cccd_kiosk_last_passive_auth_success_timestamp_seconds"]
    assert pa and all(got[k] > 1.7e9 for k in pa)
    assert {dict(k[1])["source"] for k in pa} <= {"certificate_file", "master_list", "added"}

    health = scrape(server.url, "/health")
    assert health.status_code == 200
    view = health.json()
    assert view["checkins"]["error"] == 1 and view["gateway_breaker"] == "closed"
    assert view["outbox_pending"] == n_chip

    text = unicodedata.normalize("NFC", resp.text + json.dumps(view, ensure_ascii=False))
    leaks = sorted(s for s in personal_values() if s in text)
    assert leaks == []
    assert "Nguyễn Thị Ánh Tuyết" in personal_values()  # the list is the real one


def test_gateway_errors_and_the_breaker_are_counted(kiosk: Kiosk) -> None:
    server = kiosk.serve_status()
    assert server is not None and kiosk.gateway is not None
    kiosk.gateway.set_fault("gateway_down")
    for _ in range(4):
        kiosk.checkin_manual("079301000123", "Lê Văn Bình", date(1990, 1, 2))
    got = samples(scrape(server.url).text)
    errors = sum(v for (n, _), v in got.items() if n == "cccd_kiosk_gateway_errors_total")
    assert errors >= 3
    assert got[("cccd_kiosk_gateway_breaker_state", (("state", "closed"),))] == 0
    assert got[("cccd_kiosk_eligibility_answers_total", (("source", "live"),))] == 0
    assert scrape(server.url, "/health").json()["ok"] is False


def test_the_endpoint_is_off_unless_configured_and_needs_a_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(STATUS_ENV_TOKEN, raising=False)
    with _kiosk(tmp_path / "a", port=None) as k:
        assert k.serve_status() is None
    with _kiosk(tmp_path / "b") as k, pytest.raises(ConfigValueError) as err:
        k.serve_status()
    assert err.value.key == "status.token"


def test_the_terminal_kiosk_serves_its_metrics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``[status] port`` in the file: the terminal kiosk starts the endpoint; a scrape taken
    while it waits for input counts the check-in it made, then the kiosk stops it on exit."""
    import io
    import socket

    from kiosk.terminal import run_terminal

    monkeypatch.setenv(STATUS_ENV_TOKEN, TOKEN)
    with socket.socket() as s:  # a free port for the file (0 would be any, but unknown here)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'[reader]\nname = "sim:default"\n[storage]\ndata_dir = "{tmp_path / "data"}"\n'
        f"[status]\nport = {port}\n",
        encoding="utf-8",
    )
    url = f"http://127.0.0.1:{port}"
    seen: list[str] = []

    class ScrapeThenQuit:
        def readline(self) -> str:
            seen.append(scrape(url).text)
            return "q\n"

    out = io.StringIO()
    inp = cast(TextIO, ScrapeThenQuit())
    assert run_terminal(resolve(config), input=inp, output=out, wipe=False) == 0
    got = samples(seen[0])
    assert got[("cccd_kiosk_checkins_total", (("method", "chip"), ("outcome", "eligible")))] == 1
    with pytest.raises(httpx.ConnectError):  # stopped with the kiosk
        scrape(url)
