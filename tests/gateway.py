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
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulators.gateway import process

ROOT = Path(__file__).resolve().parent.parent


class GatewayProcess(process.GatewayProcess):
    """The shared launcher, with the server's stderr kept in a file the privacy tests read."""

    def __init__(self, *extra_args: str) -> None:
        fd, name = tempfile.mkstemp(prefix="cccd-gateway-", suffix=".log")
        os.close(fd)
        super().__init__(*extra_args, log_path=Path(name))
        self.log_path: Path = Path(name)

    def log(self) -> str:
        """Everything the server wrote to stderr so far."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def close(self) -> None:
        """Stop the process and remove its log."""
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
