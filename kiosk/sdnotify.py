"""systemd's readiness and watchdog protocol (``sd_notify``), in the standard library.

The packaged ``cccd-kiosk.service`` is ``Type=notify`` with ``WatchdogSec=``: systemd starts
the next unit only once the kiosk says ``READY=1``, and restarts it when the pings
(``WATCHDOG=1``) stop — a hung event loop is then a restart, not a frozen screen. The protocol
is one datagram on the AF_UNIX socket named by ``$NOTIFY_SOCKET`` (``@`` = Linux abstract
namespace), so a few lines here spare the kiosk a dependency on libsystemd or a binding.

Outside systemd (``make run``, tests, Windows) there is no ``$NOTIFY_SOCKET`` and every call is
a no-op returning ``False``. Errors sending are logged and swallowed: a kiosk must not stop
because its supervisor's socket went away.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass

logger = logging.getLogger(__name__)


def _address(env: Mapping[str, str]) -> str | bytes | None:
    """The socket address ``$NOTIFY_SOCKET`` names: a path, or ``\\0name`` for ``@name``."""
    path = env.get("NOTIFY_SOCKET", "")
    if not path:
        return None
    if path.startswith("@"):
        return b"\0" + path[1:].encode()
    if path.startswith("/"):
        return path
    return None  # vsock and other schemes: not ours to speak


def notify(state: str, env: Mapping[str, str] | None = None) -> bool:
    """Send ``state`` (e.g. ``"READY=1"``, ``"WATCHDOG=1"``, ``"STOPPING=1"``) to the service
    manager; ``True`` if a datagram was sent, ``False`` outside systemd or on an error."""
    address = _address(os.environ if env is None else env)
    if address is None:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(state.encode())
    except OSError as exc:
        logger.warning("sd_notify %s failed: %s", state.split("=", 1)[0], exc)
        return False
    return True


@dataclass(frozen=True)
class Watchdog:
    """The watchdog systemd asked for: ping every ``interval_s`` (half ``$WATCHDOG_USEC``)."""

    interval_s: float

    def ping(self, env: Mapping[str, str] | None = None) -> bool:
        """One ``WATCHDOG=1``."""
        return notify("WATCHDOG=1", env)


def watchdog(env: Mapping[str, str] | None = None) -> Watchdog | None:
    """The :class:`Watchdog` when systemd set one for this process (``$WATCHDOG_USEC``, and
    ``$WATCHDOG_PID`` unset or ours), else ``None``."""
    env = os.environ if env is None else env
    if _address(env) is None:
        return None
    try:
        usec = int(env.get("WATCHDOG_USEC", "0"))
        pid = int(env.get("WATCHDOG_PID", str(os.getpid())))
    except ValueError:
        return None
    if usec <= 0 or pid != os.getpid():
        return None
    return Watchdog(interval_s=usec / 2_000_000)


def ping_from_thread(dog: Watchdog) -> threading.Event:
    """Ping ``dog`` from a daemon thread until the returned event is set: for the terminal
    kiosk, whose main thread sits in a blocking ``readline`` while it waits for a patient
    (the thread proves the process is alive, not that a check-in is not stuck)."""
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(dog.interval_s):
            dog.ping()

    threading.Thread(target=run, name="sd-watchdog", daemon=True).start()
    return stop
