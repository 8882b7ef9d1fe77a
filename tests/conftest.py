"""Shared test configuration: hypothesis profiles.

The default profile keeps `make test` fast; `make fuzz` selects the ``fuzz``
profile (set by CCCD_FUZZ=1) which runs every property far longer.
"""

from __future__ import annotations

import os
import tempfile

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("CCCD_FUZZ_EXAMPLES", "20000")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
settings.load_profile("fuzz" if os.environ.get("CCCD_FUZZ") else "ci")

# The simulator keeps its test PKI and personalised cards in CCCD_SIM_HOME. Tests use
# their own folder (shared by the xdist workers; creation is locked) and never the user's.
os.environ["CCCD_SIM_HOME"] = os.environ.get(
    "CCCD_TEST_SIM_HOME",
    os.path.join(tempfile.gettempdir(), f"cccd-kiosk-test-sim-{os.getuid()}"),
)

# The BHXH gateway simulator as a real process per worker (tests/fixtures/gateway.py).
from tests.fixtures.gateway import clean_gateway, gateway  # noqa: E402, F401

# PC/SC tests: a private pcscd per worker (tests/fixtures/pcscd.py). Importing it also points the
# PC/SC client library of every test at that private socket, never at the system pcscd.
from tests.fixtures.pcscd import pcscd, running_pcscd, vpcd_card  # noqa: E402, F401

# Shared-storage tests: a private PostgreSQL server per worker (tests/fixtures/postgres.py).
from tests.fixtures.postgres import pg_url, postgres  # noqa: E402, F401

# The storage contract: one fixture over both adapters (tests/fixtures/storage_adapters.py).
from tests.fixtures.storage_adapters import adapter  # noqa: E402, F401

# A cable to that server a test can pull (offline spool tests: tests/fixtures/tcp_cut.py).
from tests.fixtures.tcp_cut import cable  # noqa: E402, F401
