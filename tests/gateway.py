"""The simulated BHXH gateway as a real process for the tests (`gateway`, `clean_gateway`).

Each xdist worker starts its own ``python -m simulators.cli gateway --port 0`` (session
scope) on 127.0.0.1 with random credentials passed in the environment, reads the port from
the ``listening on`` line and waits for ``/admin/health``. A restart (``stop()`` then
``start()``) reuses the same port, so a client built on ``url`` keeps working — that is how
the eligibility tests take the gateway down and bring it back. The server's stderr goes to a
file (``log()``) that the privacy tests read.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
_LISTENING = re.compile(r"listening on (http://\S+):(\d+)")


class GatewayProcess:
    """One ``cccd-sim gateway`` process and its admin controls."""

    def __init__(self, *extra_args: str) -> None:
        self.username = f"test-{secrets.token_hex(4)}"
        self.password = secrets.token_urlsafe(16)
        self.extra_args = list(extra_args)
        self.port = 0
        self.url = ""
        self.proc: subprocess.Popen[str] | None = None
        fd, name = tempfile.mkstemp(prefix="cccd-gateway-", suffix=".log")
        os.close(fd)
        self.log_path = Path(name)

    @property
    def password_md5(self) -> str:
        """The password as clients send it (MD5 hex)."""
        return hashlib.md5(self.password.encode()).hexdigest()

    def start(self, timeout: float = 15.0) -> None:
        """Start the server (same port as before after a stop) and wait until it answers."""
        if self.proc is not None:
            raise RuntimeError("gateway already running")
        env = dict(os.environ)
        env["CCCD_SIM_GATEWAY_USERNAME"] = self.username
        env["CCCD_SIM_GATEWAY_PASSWORD"] = self.password
        argv = [sys.executable, "-m", "simulators.cli", "gateway", "--port", str(self.port)]
        with self.log_path.open("a") as log:
            self.proc = subprocess.Popen(
                [*argv, *self.extra_args],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        line = self._first_line(timeout)
        match = _LISTENING.search(line)
        if match is None:
            self.stop()
            raise RuntimeError(f"gateway did not start: {line!r} {self.log()[-2000:]}")
        self.port = int(match.group(2))
        self.url = f"{match.group(1)}:{self.port}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/admin/health", timeout=1).status_code == 200:
                    return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("gateway did not answer /admin/health")

    def _first_line(self, timeout: float) -> str:
        """The server's first stdout line, or '' if it exits or stays silent for ``timeout``."""
        proc = self.proc
        assert proc is not None and proc.stdout is not None
        stdout = proc.stdout
        box: list[str] = []
        reader = threading.Thread(target=lambda: box.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        return box[0] if box else ""

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if needed; wait for the process."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        if proc.stdout is not None:
            proc.stdout.close()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def admin(self, method: str, path: str, json: Any = None) -> Any:
        """One admin call; its JSON reply (raises on an HTTP error)."""
        resp = httpx.request(method, f"{self.url}{path}", json=json, timeout=5)
        resp.raise_for_status()
        return resp.json()

    def set_fault(self, fault: str, target: str = "*", **kw: Any) -> Any:
        """Switch on a fault (``count=N`` for N requests; ``ms=``, ``status=``, ``seconds=``)."""
        return self.admin("POST", "/admin/faults", {"fault": fault, "target": target, **kw})

    def clear_faults(self) -> None:
        self.admin("DELETE", "/admin/faults")

    def stats(self) -> dict[str, Any]:
        """Requests per endpoint, tokens issued, replies per code, faults standing."""
        result: dict[str, Any] = self.admin("GET", "/admin/stats")
        return result

    def log(self) -> str:
        """Everything the server wrote to stderr so far."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def close(self) -> None:
        self.stop()
        with contextlib.suppress(OSError):
            self.log_path.unlink()


@pytest.fixture(scope="session")
def gateway() -> Iterator[GatewayProcess]:
    """This worker's gateway simulator process (started once, stopped at the end)."""
    gw = GatewayProcess()
    gw.start()
    try:
        yield gw
    finally:
        gw.close()


@pytest.fixture
def clean_gateway(gateway: GatewayProcess) -> Iterator[GatewayProcess]:
    """The worker's gateway, running (restarted if a test stopped it) and without faults."""
    if not gateway.running:
        gateway.start()
    gateway.clear_faults()
    yield gateway
    if gateway.running:
        gateway.clear_faults()
