"""The gateway simulator as a child process: what the terminal kiosk, the tests and the
benchmarks start when they need a real BHXH gateway on loopback.

``python -m simulators.cli gateway --host 127.0.0.1 --port 0`` with random credentials
passed through the environment (never argv, which ``ps`` shows); the port is read from the
server's ``listening on`` line and the process counts as started once ``/admin/health``
answers. A restart (``stop()`` then ``start()``) reuses the same port, so a client built on
:attr:`GatewayProcess.url` keeps working across a simulated outage.
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
import threading
import time
from pathlib import Path
from typing import Any

import httpx

_LISTENING = re.compile(r"listening on (http://\S+):(\d+)")
#: The repository (or site-packages) folder holding ``simulators``: the child's cwd.
_ROOT = Path(__file__).resolve().parents[2]


class GatewayProcess:
    """One ``cccd-sim gateway`` process, its credentials and its admin controls.

    ``extra_args`` go to ``cccd-sim gateway`` (e.g. ``--latency-ms 300``); the server's
    stderr (one line per request, no personal data) goes to ``log_path`` when given.
    """

    def __init__(self, *extra_args: str, log_path: Path | None = None) -> None:
        self.username = f"sim-{secrets.token_hex(4)}"
        self.password = secrets.token_urlsafe(16)
        self.extra_args = list(extra_args)
        self.log_path = log_path
        self.port = 0
        self.url = ""
        self.proc: subprocess.Popen[str] | None = None

    @property
    def password_md5(self) -> str:
        """The password as clients send it (MD5 hex)."""
        return hashlib.md5(self.password.encode()).hexdigest()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 15.0) -> None:
        """Start the server (on the same port as before after a stop); wait until it answers."""
        if self.proc is not None:
            raise RuntimeError("gateway simulator already running")
        env = dict(os.environ)
        env["CCCD_SIM_GATEWAY_USERNAME"] = self.username
        env["CCCD_SIM_GATEWAY_PASSWORD"] = self.password
        argv = [sys.executable, "-m", "simulators.cli", "gateway", "--port", str(self.port)]
        if "--host" not in self.extra_args:
            argv += ["--host", "127.0.0.1"]
        with contextlib.ExitStack() as stack:
            err: Any = subprocess.DEVNULL
            if self.log_path is not None:
                err = stack.enter_context(self.log_path.open("a"))
            self.proc = subprocess.Popen(
                [*argv, *self.extra_args],
                cwd=_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )
        line = self._first_line(timeout)
        match = _LISTENING.search(line)
        if match is None:
            self.stop()
            raise RuntimeError(f"the gateway simulator did not start: {line!r}")
        self.port = int(match.group(2))
        self.url = f"{match.group(1)}:{self.port}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/admin/health", timeout=1).status_code == 200:
                    return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("the gateway simulator did not answer /admin/health")

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
        """SIGTERM, then SIGKILL after ``timeout``; wait for the process (idempotent)."""
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

    def __enter__(self) -> GatewayProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- for clients ---------------------------------------------------------------------

    def client_env(self) -> dict[str, str]:
        """The ``CCCD_KIOSK_BHXH_*`` environment a kiosk needs to use this gateway: its
        credentials, and the simulator's first registered (made-up) staff member, whom the
        2024 API asks for."""
        from kiosk.eligibility import bhxh
        from simulators.gateway.data import InsuredData

        staff = next(iter(InsuredData.load(None).staff.values()))
        return {
            bhxh.ENV_USERNAME: self.username,
            bhxh.ENV_PASSWORD: self.password,
            bhxh.ENV_STAFF_NAME: staff.name,
            bhxh.ENV_STAFF_CCCD: staff.cccd,
        }

    # ---- admin (loopback only on the server side) ---------------------------------------

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
