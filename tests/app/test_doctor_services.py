"""``kiosk.app.doctor`` against real outside parts: the gateway simulator process (right and
wrong credentials, stopped), the stand-in ESC/POS printer (online, out of paper) and a small
HTTP server on 127.0.0.1 whose ``Date`` header lags (the clock check)."""

from __future__ import annotations

import email.utils
import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.app.doctor import CHECKS, Check, run_checks
from kiosk.app.settings import Overrides, resolve
from kiosk.eligibility import bhxh
from tests.fixtures.escpos_printer import EscposPrinter
from tests.fixtures.gateway import set_kiosk_credentials


def _only(name: str) -> tuple[tuple[str, Any], ...]:
    return tuple((n, fn) for n, fn in CHECKS if n == name)


def _gateway_check(url: str, data: Path) -> Check:
    settings = resolve(None, Overrides(gateway_url=url, data_dir=data))
    [check] = run_checks(settings, checks=_only("gateway"), timeout_s=30)
    return check


@pytest.fixture
def creds(monkeypatch: pytest.MonkeyPatch, clean_gateway: Any) -> Iterator[Any]:
    set_kiosk_credentials(monkeypatch, clean_gateway)
    yield clean_gateway


def test_gateway_with_valid_credentials_gets_a_token(creds: Any, tmp_path: Path) -> None:
    check = _gateway_check(creds.url, tmp_path)
    assert check.status == "ok", check
    assert creds.url in check.detail and "token obtained" in check.detail


def test_gateway_wrong_password_fails_with_fix(
    creds: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(bhxh.ENV_PASSWORD, "not-the-password")
    check = _gateway_check(creds.url, tmp_path)
    assert check.status == "fail" and "GatewayAuthError" in check.detail
    assert check.fix_vi and check.fix_en


def test_stopped_gateway_fails(creds: Any, tmp_path: Path) -> None:
    creds.stop()
    check = _gateway_check(creds.url, tmp_path)
    assert check.status == "fail" and "GatewayUnavailable" in check.detail
    assert check.fix_en


@pytest.fixture
def printer(tmp_path: Path) -> Iterator[EscposPrinter]:
    p = EscposPrinter(tmp_path / "printed")
    yield p
    p.close()


def _printer_check(printer: EscposPrinter, tmp_path: Path) -> Check:
    path = tmp_path / "kiosk.toml"
    path.write_text(
        f'[storage]\ndata_dir = "{tmp_path / "data"}"\n'
        f'[printer]\nurl = "{printer.url}"\nhospital = "Bệnh viện Đa khoa Huế"\n',
        encoding="utf-8",
    )
    [check] = run_checks(resolve(path), checks=_only("printer"), timeout_s=30)
    return check


def test_printer_online(printer: EscposPrinter, tmp_path: Path) -> None:
    check = _printer_check(printer, tmp_path)
    assert check.status == "ok" and "paper ok" in check.detail, check


def test_printer_paper_out_fails(printer: EscposPrinter, tmp_path: Path) -> None:
    printer.state = "paper_out"
    check = _printer_check(printer, tmp_path)
    assert check.status == "fail" and "PaperOut" in check.detail
    assert check.fix_vi and check.fix_en


class _OldDate(http.server.BaseHTTPRequestHandler):
    """Answers every GET with a ``Date`` header :attr:`skew_s` seconds in the past."""

    skew_s = 0.0

    def date_time_string(self, timestamp: float | None = None) -> str:
        return email.utils.formatdate(time.time() - self.skew_s, usegmt=True)

    def do_GET(self) -> None:
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def skewed() -> Iterator[tuple[str, type[_OldDate]]]:
    handler = type("Handler", (_OldDate,), {})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("skew_s", "status"), [(0, "ok"), (120, "warn"), (3600, "fail")])
def test_clock_against_the_gateway_date(
    skewed: tuple[str, type[_OldDate]], tmp_path: Path, skew_s: float, status: str
) -> None:
    url, handler = skewed
    handler.skew_s = skew_s
    settings = resolve(None, Overrides(gateway_url=url, data_dir=tmp_path))
    [check] = run_checks(settings, checks=_only("clock"), timeout_s=30)
    assert check.status == status, check
    if status != "ok":
        assert "timedatectl" in check.fix_en and "timedatectl" in check.fix_vi
        shown = float(check.detail.split(" s ", 1)[0])  # the Date header has 1 s resolution
        assert abs(shown - skew_s) <= 2
