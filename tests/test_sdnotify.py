"""sd_notify against a real AF_UNIX datagram socket the test binds, as systemd would."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk import sdnotify


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    """A bound datagram socket on a path; yields it and its ``$NOTIFY_SOCKET`` value."""
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(5)
    yield sock, str(path)
    sock.close()


def test_ready_reaches_a_path_socket(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    assert sdnotify.notify("READY=1", {"NOTIFY_SOCKET": path}) is True
    assert sock.recv(256) == b"READY=1"


def test_abstract_socket_address() -> None:
    name = f"cccd-kiosk-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(b"\0" + name.encode())
    sock.settimeout(5)
    try:
        assert sdnotify.notify("WATCHDOG=1", {"NOTIFY_SOCKET": "@" + name}) is True
        assert sock.recv(256) == b"WATCHDOG=1"
    finally:
        sock.close()


def test_outside_systemd_nothing_is_sent() -> None:
    assert sdnotify.notify("READY=1", {}) is False
    assert sdnotify.watchdog({}) is None


def test_a_vanished_socket_is_not_fatal(tmp_path: Path) -> None:
    assert sdnotify.notify("READY=1", {"NOTIFY_SOCKET": str(tmp_path / "gone")}) is False


def test_watchdog_interval_is_half_the_period(listener: tuple[socket.socket, str]) -> None:
    _, path = listener
    dog = sdnotify.watchdog({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "30000000"})
    assert dog == sdnotify.Watchdog(interval_s=15.0)
    # a watchdog meant for another process (WATCHDOG_PID) is not ours to feed
    other = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}
    assert sdnotify.watchdog(other) is None
    assert sdnotify.watchdog({"NOTIFY_SOCKET": path}) is None


def test_thread_pings_until_stopped(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    os.environ["NOTIFY_SOCKET"] = path
    try:
        stop = sdnotify.ping_from_thread(sdnotify.Watchdog(interval_s=0.01))
        assert sock.recv(256) == b"WATCHDOG=1"
        assert sock.recv(256) == b"WATCHDOG=1"
        stop.set()
    finally:
        del os.environ["NOTIFY_SOCKET"]
