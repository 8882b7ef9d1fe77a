"""The Qt kiosk tells systemd it is ready and pings the watchdog from its event loop."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from ui.app import KioskWindow, start_watchdog


def _more(sock: socket.socket, seen: list[bytes]) -> list[bytes]:
    """``seen`` with what has arrived since appended (for ``waitUntil``)."""
    seen.extend(_drain(sock))
    return seen


def _drain(sock: socket.socket) -> list[bytes]:
    got = []
    while True:
        try:
            got.append(sock.recv(256))
        except BlockingIOError:
            return got


def test_ready_then_pings_and_a_frozen_loop_stops_them(
    kiosk: KioskWindow, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify"))
    sock.setblocking(False)
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
    monkeypatch.setenv("WATCHDOG_USEC", "40000")  # pings every 20 ms
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    try:
        timer = start_watchdog(kiosk)
        assert timer is not None and timer.interval() == 20
        seen = _drain(sock)
        assert seen[0] == b"READY=1"
        qtbot.waitUntil(lambda: len(_more(sock, seen)) >= 4, timeout=5000)
        assert set(seen[1:]) == {b"WATCHDOG=1"}
        # the event loop frozen (a hung handler): no timer runs, so no ping is sent
        _drain(sock)
        time.sleep(0.3)
        assert _drain(sock) == []
        # back in the loop: the pings resume
        got: list[bytes] = []
        qtbot.waitUntil(lambda: bool(_more(sock, got)), timeout=5000)
        assert set(got) == {b"WATCHDOG=1"}
    finally:
        sock.close()


def test_no_watchdog_outside_systemd(kiosk: KioskWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert start_watchdog(kiosk) is None
