"""The software chip behind a real pcscd: a virtual card for vsmartcard's ``vpcd`` driver.

``vpcd`` is a pcscd reader driver that *listens* on TCP (35963 for its first
slot, +1 per further slot); a virtual card connects to it, and pcscd then sees
a card in that reader. This is the mode that works with Debian's vsmartcard
3.3 (``DEVICENAME /dev/null:0x8C7B``); the reversed mode, where vpcd connects
out, made pcscd abort (see CCCD.md). Closing the socket is pulling the card.

Wire format, both directions: a 2-byte big-endian length, then the payload.
A 1-byte payload from vpcd is a control code — 0 power off, 1 power on,
2 reset, 4 get ATR (only ATR is answered, with the chip's ATR); anything
longer is a command APDU, answered with response data + SW1 SW2.

:class:`VpcdCard` runs the connection on its own thread and reconnects after
vpcd goes away (pcscd restarted) as long as the card is "inserted". It only
connects to loopback addresses: vpcd accepts any card that connects, so it is
a test tool and never belongs on a deployed kiosk.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
from collections.abc import Callable

from kiosk.transport import CardRemoved
from simulators.card.chip import Chip
from simulators.card.profile import SimulatorError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 0x8C7B  # 35963, vpcd's first slot

CTRL_POWER_OFF = 0
CTRL_POWER_ON = 1
CTRL_RESET = 2
CTRL_GET_ATR = 4


class VpcdError(SimulatorError):
    """The bridge cannot run as asked (e.g. a host that is not loopback)."""


def check_loopback(host: str) -> str:
    """``host`` if it names a loopback address; raise :class:`VpcdError` otherwise.

    A name (``localhost``) must resolve to loopback addresses only: a hosts file
    can point it anywhere.
    """
    if host == "localhost":
        try:
            infos = socket.getaddrinfo(host, None)
        except OSError:
            raise VpcdError("--host localhost does not resolve here; use 127.0.0.1") from None
        if infos and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos):
            return host
        raise VpcdError("--host localhost does not resolve to loopback only; use 127.0.0.1")
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        raise VpcdError(f"--host must be a loopback address, not {host!r}") from None
    if not addr.is_loopback:
        raise VpcdError(f"--host must be a loopback address (127.0.0.1 or ::1), not {host}")
    return host


def _quickack(sock: socket.socket) -> None:
    """Acknowledge at once: vpcd writes the length and the payload separately, and Nagle on
    its side plus delayed ACKs on ours would add ~40 ms to every APDU (Linux only)."""
    quickack = getattr(socket, "TCP_QUICKACK", None)
    if quickack is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    """Exactly ``n`` bytes, or None when the peer closed the connection."""
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
        _quickack(sock)
    return bytes(buf)


class VpcdCard:
    """A :class:`Chip` connected to vpcd on ``host:port``, with insert/remove controls.

    Thread-safe: :meth:`insert`, :meth:`remove` and :meth:`remove_after` may be
    called from any thread (signal handlers, a stdin loop, tests). Counters:
    ``apdus`` (APDUs answered over vpcd), ``connects`` (successful connections).
    ``on_removed`` is called (on the bridge thread) when the chip leaves the field
    because of :meth:`remove_after`.
    """

    def __init__(
        self,
        chip: Chip,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        *,
        retry_s: float = 0.05,
        on_removed: Callable[[], None] | None = None,
    ) -> None:
        self.chip = chip
        self.host = check_loopback(host)
        if not 0 < port < 65536:
            raise VpcdError(f"--port {port} is not a TCP port")
        self.port = port
        self.retry_s = retry_s
        self.on_removed = on_removed
        self.apdus = 0
        self.connects = 0
        self._lock = threading.Lock()
        self._inserted = threading.Event()
        self._stop = threading.Event()
        self._sock: socket.socket | None = None
        self._connected = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"vpcd-{port}", daemon=True)

    # -- controls -------------------------------------------------------------------------

    @property
    def inserted(self) -> bool:
        return self._inserted.is_set()

    @property
    def connected(self) -> bool:
        """Whether vpcd currently has the card (the socket is up)."""
        return self._connected.is_set()

    def start(self, *, inserted: bool = True) -> VpcdCard:
        """Start the bridge thread; with ``inserted`` the card goes in at once."""
        if inserted:
            self.insert()
        self._thread.start()
        return self

    def insert(self) -> None:
        """Put the card in the reader: a power-up of the chip, then connect to vpcd."""
        with self._lock:
            self.chip.insert()
            self._inserted.set()

    def remove(self) -> None:
        """Pull the card: the chip leaves the field and the socket to vpcd closes."""
        with self._lock:
            self._inserted.clear()
            self.chip.remove()
            self._drop()

    def remove_after(self, apdus: int) -> None:
        """Pull the card when it is sent its ``apdus + 1``-th APDU from now (0: at the next)."""
        with self._lock:
            self.chip.remove_after(apdus)

    def wait_connected(self, timeout: float) -> bool:
        """Wait until vpcd holds the card; False on timeout."""
        return self._connected.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Pull the card and end the bridge thread."""
        self._stop.set()
        self.remove()
        self._inserted.set()  # wake the thread so it sees the stop
        if self._thread.is_alive():
            self._thread.join(timeout)

    def __enter__(self) -> VpcdCard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the connection -------------------------------------------------------------------

    def _drop(self) -> None:
        """Close the socket (caller holds the lock)."""
        sock, self._sock = self._sock, None
        self._connected.clear()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._inserted.wait()
            if self._stop.is_set():
                break
            try:
                sock = socket.create_connection((self.host, self.port), timeout=1.0)
            except OSError:
                self._stop.wait(self.retry_s)  # vpcd not listening (yet): retry
                continue
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                if not self._inserted.is_set() or self._stop.is_set():
                    sock.close()
                    continue
                self._sock = sock
                self.connects += 1
                self._connected.set()
            with contextlib.suppress(OSError):
                self._serve(sock)
            with self._lock:
                if self._sock is sock:
                    self._drop()
            self._stop.wait(self.retry_s)

    def _serve(self, sock: socket.socket) -> None:
        """Answer vpcd until it hangs up or the card leaves the field."""
        while True:
            head = _recv_exact(sock, 2)
            if head is None:
                return
            payload = _recv_exact(sock, int.from_bytes(head, "big"))
            if payload is None:
                return
            if len(payload) == 1:
                reply = self._control(payload[0])
            else:
                with self._lock:
                    if self._sock is not sock:
                        return  # pulled meanwhile
                    try:
                        reply = self.chip.process(payload)
                    except CardRemoved:
                        self._inserted.clear()
                        self._drop()
                        removed = True
                    else:
                        self.apdus += 1
                        removed = False
                if removed:
                    if self.on_removed is not None:
                        self.on_removed()
                    return
            if reply is not None:
                sock.sendall(len(reply).to_bytes(2, "big") + reply)

    def _control(self, code: int) -> bytes | None:
        with self._lock:
            if code in (CTRL_POWER_ON, CTRL_RESET, CTRL_POWER_OFF):
                self.chip.reset()  # every power cycle or reset wipes the chip's session
                return None
            if code == CTRL_GET_ATR:
                return self.chip.atr
        return None
