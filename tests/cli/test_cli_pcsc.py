"""``cccd-kiosk read --reader pcsc`` as a user runs it: the simulated card behind a real
pcscd (vsmartcard vpcd, started by ``cccd-sim vpcd``), the CLI in its own process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from drivers import pcsc
from tests.fixtures.pcscd import Pcscd, call_with_timeout

READER0 = "Virtual PCD 00 00"


def _kiosk(*args: str) -> subprocess.CompletedProcess[str]:
    # The environment carries PCSCLITE_CSOCK_NAME: the CLI talks to the test's private pcscd.
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        env=dict(os.environ),
    )


def _wait_line(proc: subprocess.Popen[str], want: str, timeout: float = 20) -> None:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = call_with_timeout(proc.stdout.readline, timeout)
        if want in line:
            return
        if not line:
            break
    pytest.fail(f"cccd-sim vpcd never printed {want!r}")


@pytest.mark.pcsc
def test_read_through_pcscd_from_the_command_line(running_pcscd: Pcscd) -> None:
    port = str(running_pcscd.port)
    card = subprocess.Popen(
        [sys.executable, "-m", "simulators.cli", "vpcd", "--card", "anh-tuyet", "--port", port],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_line(card, "inserted")
        pcsc.wait_for_card(READER0, timeout=10)
        proc = _kiosk("read", "--reader", "pcsc", "--can", "008821", "--trust", "demo", "--json")
        assert proc.returncode == 0, proc.stderr
        doc = json.loads(proc.stdout)
        assert doc["holder"]["full_name"] == "Nguyễn Thị Ánh Tuyết"
        assert doc["read"]["access"] == "PACE"
        assert doc["passive_auth"]["verdict"] == "verified"
        assert doc["chip_auth"]["result"] == "passed"
        assert doc["active_auth"]["result"] == "passed"
        assert doc["read"]["modeled_seconds"] is None  # a real reader: nothing modeled
        wrong = _kiosk("read", "--reader", f"pcsc:{READER0}", "--can", "000000")
        assert wrong.returncode == 5 and "Traceback" not in wrong.stderr
    finally:
        card.kill()
        card.wait(10)


@pytest.mark.pcsc
def test_no_card_on_the_pcsc_reader_says_so(running_pcscd: Pcscd) -> None:
    pcsc.wait_for_removal(READER0, timeout=10)
    proc = _kiosk("read", "--reader", "pcsc", "--can", "034517")
    assert proc.returncode == 1
    assert "No card on the reader" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
