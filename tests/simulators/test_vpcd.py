"""simulators/vpcd.py and ``cccd-sim vpcd``: the vpcd wire protocol against a stand-in vpcd
(a loopback listener speaking the same framing), then (marker ``pcsc``) the command line
behind the real pcscd: --remove-after, stdin commands and signals."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from drivers import pcsc
from kiosk.cccd import access
from kiosk.emrtd.session import ReaderSession
from kiosk.transport import CardRemoved
from simulators import vpcd
from simulators.card.personalize import make_chip
from tests.fixtures.pcscd import Pcscd, call_with_timeout

SELECT_EMRTD = bytes.fromhex("00A4040C07A0000002471001")


class FakeVpcd:
    """vpcd's side of the protocol: listens on 127.0.0.1, one card at a time."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(5)
        self.port = self.server.getsockname()[1]
        self.conn: socket.socket | None = None

    def accept(self) -> None:
        self.conn, _ = self.server.accept()
        self.conn.settimeout(5)

    def send(self, payload: bytes) -> None:
        assert self.conn is not None
        self.conn.sendall(len(payload).to_bytes(2, "big") + payload)

    def recv(self) -> bytes | None:
        """One message from the card, or None when it closed the connection."""
        assert self.conn is not None
        head = self._exact(2)
        if head is None:
            return None
        return self._exact(int.from_bytes(head, "big"))

    def _exact(self, n: int) -> bytes | None:
        assert self.conn is not None
        buf = b""
        while len(buf) < n:
            chunk = self.conn.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return buf

    def exchange(self, apdu: bytes) -> bytes | None:
        self.send(apdu)
        return self.recv()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.server.close()


@pytest.fixture
def fake() -> Iterator[FakeVpcd]:
    f = FakeVpcd()
    yield f
    f.close()


def test_atr_apdus_and_power_controls(fake: FakeVpcd) -> None:
    chip = make_chip("default")
    with vpcd.VpcdCard(chip, port=fake.port).start() as card:
        fake.accept()
        assert card.wait_connected(5)
        fake.send(bytes([vpcd.CTRL_POWER_ON]))  # not answered
        assert fake.exchange(bytes([vpcd.CTRL_GET_ATR])) == chip.atr
        assert fake.exchange(SELECT_EMRTD) == b"\x90\x00"
        assert card.apdus == 1
        fake.send(bytes([vpcd.CTRL_RESET]))
        assert fake.exchange(bytes([vpcd.CTRL_GET_ATR])) == chip.atr  # reset was not answered
        # the reset ended the selection: reading DG1 by SFI needs access again
        assert fake.exchange(bytes.fromhex("00B0810000"))[-2:] != b"\x90\x00"  # type: ignore[index]


def test_remove_closes_the_socket_and_insert_reconnects(fake: FakeVpcd) -> None:
    chip = make_chip("default")
    with vpcd.VpcdCard(chip, port=fake.port, retry_s=0.01).start() as card:
        fake.accept()
        assert fake.exchange(bytes([vpcd.CTRL_GET_ATR])) == chip.atr
        card.remove()
        assert fake.recv() is None and not card.connected and chip.removed
        card.insert()
        fake.accept()
        assert card.wait_connected(5) and card.connects == 2 and not chip.removed
        assert fake.exchange(SELECT_EMRTD) == b"\x90\x00"


def test_remove_after_n_apdus_pulls_at_the_next(fake: FakeVpcd) -> None:
    removed: list[bool] = []
    with vpcd.VpcdCard(make_chip("default"), port=fake.port) as card:
        card.on_removed = lambda: removed.append(True)
        card.start()
        card.remove_after(2)
        fake.accept()
        assert fake.exchange(SELECT_EMRTD) == b"\x90\x00"
        assert fake.exchange(SELECT_EMRTD) == b"\x90\x00"
        assert fake.exchange(SELECT_EMRTD) is None  # the third finds the card gone
        deadline = time.monotonic() + 5
        while not removed and time.monotonic() < deadline:  # called just after the close
            time.sleep(0.01)
        assert removed == [True] and not card.inserted and card.apdus == 2


def test_vpcd_going_away_is_survived(fake: FakeVpcd) -> None:
    """pcscd restarting closes vpcd's end; the inserted card connects again by itself."""
    with vpcd.VpcdCard(make_chip("default"), port=fake.port, retry_s=0.01).start() as card:
        fake.accept()
        assert fake.exchange(SELECT_EMRTD) == b"\x90\x00"
        assert fake.conn is not None
        fake.conn.close()
        fake.accept()
        assert fake.exchange(SELECT_EMRTD) == b"\x90\x00"
        assert card.connects == 2 and card.inserted


@pytest.mark.parametrize("host", ["10.0.0.1", "0.0.0.0", "example.org", "192.168.1.10"])
def test_only_loopback(host: str) -> None:
    with pytest.raises(vpcd.VpcdError, match="loopback"):
        vpcd.VpcdCard(make_chip("default"), host=host)
    assert vpcd.check_loopback("127.0.0.1") == "127.0.0.1"
    assert vpcd.check_loopback("::1") == "::1"


def _cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "simulators.cli", "vpcd", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", "10.1.2.3"], "loopback"),
        (["--port", "0"], "TCP port"),
        (["--remove-after", "-1"], ">= 0"),
    ],
)
def test_cli_usage_errors(args: list[str], message: str) -> None:
    proc = _cli(*args)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2 and message in err and "Traceback" not in err


def test_cli_unknown_card() -> None:
    proc = _cli("--card", "nobody", "--port", "1")
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 1 and "nobody" in err and "Traceback" not in err


# ---- the command line behind the real pcscd --------------------------------------------

READER0 = "Virtual PCD 00 00"
KEY = access.key_from_id("001088034517")


def _read() -> dict[str, bytes]:
    with pcsc.open_pcsc(READER0) as t:
        return ReaderSession(t).read([KEY]).files


def _line(proc: subprocess.Popen[str], want: str, timeout: float = 20) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = call_with_timeout(proc.stdout.readline, timeout)
        if not line:
            break
        if want in line:
            return line
    pytest.fail(f"cccd-sim vpcd never printed {want!r}")


@pytest.mark.pcsc
def test_cli_remove_after_stdin_and_signals(running_pcscd: Pcscd) -> None:
    port = str(running_pcscd.port)
    proc = _cli("--card", "default", "--port", port, "--remove-after", "7")
    assert proc.stdin is not None
    try:
        _line(proc, "inserted")
        pcsc.wait_for_card(READER0, timeout=10)
        with pytest.raises(CardRemoved):
            call_with_timeout(_read, 30)
        _line(proc, "removed")
        pcsc.wait_for_removal(READER0, timeout=10)
        proc.stdin.write("insert\n")
        proc.stdin.flush()
        _line(proc, "inserted")
        pcsc.wait_for_card(READER0, timeout=10)
        assert "DG13" in call_with_timeout(_read, 30)
        proc.send_signal(signal.SIGUSR1)
        _line(proc, "removed")
        pcsc.wait_for_removal(READER0, timeout=10)
        proc.send_signal(signal.SIGUSR2)
        _line(proc, "inserted")
        pcsc.wait_for_card(READER0, timeout=10)
        proc.stdin.write("status\n")
        proc.stdin.flush()
        assert _line(proc, "apdus=").startswith("connected")
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        assert proc.wait(20) == 0
        pcsc.wait_for_removal(READER0, timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
