"""A private pcscd with vsmartcard's vpcd driver for the PC/SC tests (pytest marker ``pcsc``).

Isolation: pcsc-lite 1.9.9's daemon ignores ``PCSCLITE_CSOCK_NAME`` and always
uses ``/run/pcscd``, so the fixture starts ``pcscd -f`` inside its own mount
namespace (``unshare --mount``) where a private folder is bind-mounted on
``/run/pcscd``; the client library in this process follows
``PCSCLITE_CSOCK_NAME`` to the same socket. The system pcscd (if any), other
test runs and the other xdist worker are never touched: every worker has its
own folder, its own daemon and its own pair of vpcd ports (picked free; vpcd
listens on all interfaces, so the ports are random, and the virtual card only
ever connects to 127.0.0.1). The reader configuration is a private
``reader.conf.d`` (``pcscd -c``) with one vpcd line: two readers, on ``port`` and
``port + 1``.

Needs root (or password-less sudo) for the mount namespace; without either
the PC/SC tests skip, saying so. Where mount namespaces are not allowed (a
container without CAP_SYS_ADMIN; or ``CCCD_PCSCD_SHARED=1``), the fixture falls
back to one pcscd on the system socket, started only when no other pcscd is
running (else the tests skip, saying so) and shared in turn by the workers
through a lock file; the private socket path is then a symlink to it.
``scripts/bootstrap.sh`` installs pcscd, vsmartcard-vpcd and pyscard, so in CI
(root) they run.

The client socket path must be fixed before libpcsclite is first used in the
process (it reads the variable once), so importing this module sets it.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
WORKDIR = Path(tempfile.gettempdir()) / f"cccd-pcscd-{os.getpid()}"
SOCKET = WORKDIR / "run" / "pcscd.comm"
os.environ["PCSCLITE_CSOCK_NAME"] = str(SOCKET)

SYSTEM_SOCKET = Path("/run/pcscd/pcscd.comm")
SHARED_LOCK = Path(tempfile.gettempdir()) / "cccd-pcscd-shared.lock"

T = TypeVar("T")


def _privilege_prefix() -> list[str] | None:
    """[] as root, ["sudo", "-n"] with password-less sudo, None otherwise."""
    if os.geteuid() == 0:
        return []
    sudo = shutil.which("sudo")
    if sudo and subprocess.run([sudo, "-n", "true"], capture_output=True).returncode == 0:
        return [sudo, "-n"]
    return None


def why_not() -> str | None:
    """None when the PC/SC tests can run here, else the reason they skip."""
    if shutil.which("pcscd") is None and not Path("/usr/sbin/pcscd").exists():
        return "pcscd is not installed (run scripts/bootstrap.sh)"
    if not VPCD_DRIVER.exists():
        return "vsmartcard-vpcd is not installed (run scripts/bootstrap.sh)"
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is missing"
    try:
        import smartcard  # noqa: F401
    except ImportError as exc:
        return f"pyscard cannot be imported ({exc})"
    if _privilege_prefix() is None:
        return "a private pcscd needs root or password-less sudo (mount namespace)"
    return None


class SharedLock:
    """The machine-wide turn for the fallback pcscd on the system socket (flock)."""

    def __init__(self) -> None:
        self._file = SHARED_LOCK.open("a")

    def acquire(self, timeout: float = 1800.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise RuntimeError("waited too long for the shared pcscd") from None
                time.sleep(0.2)

    def release(self) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()


@functools.cache
def namespaces_work() -> bool:
    """Whether pcscd can get a private mount namespace here."""
    if os.environ.get("CCCD_PCSCD_SHARED") == "1":
        return False
    prefix = _privilege_prefix()
    if prefix is None:
        return False
    probe = [*prefix, "unshare", "--mount", "--propagation=private", "true"]
    return subprocess.run(probe, capture_output=True).returncode == 0


def _system_pcscd_running() -> bool:
    with socket.socket(socket.AF_UNIX) as s:
        try:
            s.connect(str(SYSTEM_SOCKET))
        except OSError:
            return False
    return True


def _port_pair_free(port: int) -> bool:
    for p in (port, port + 1):
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("0.0.0.0", p))  # vpcd binds all interfaces: check the same way
            except OSError:
                return False
    return True


def free_port_pair() -> int:
    """A port P with P and P+1 free (vpcd's two slots)."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20000, 60000)
        if _port_pair_free(port):
            return port
    raise RuntimeError("no free pair of TCP ports for vpcd")


class PcscdBusy(RuntimeError):
    """The fallback needs the system socket, and another pcscd holds it."""


class Pcscd:
    """One private ``pcscd -f`` with two vpcd readers on ``port`` and ``port + 1``."""

    def __init__(self, workdir: Path = WORKDIR) -> None:
        self.workdir = workdir
        self.run_dir = workdir / "run"
        self.conf_dir = workdir / "reader.conf.d"
        self.log_path = workdir / "pcscd.log"
        self.port = free_port_pair()
        self.proc: subprocess.Popen[bytes] | None = None
        self.prefix = _privilege_prefix() or []
        self.private = namespaces_work()
        self.starts = 0

    def _write_config(self) -> None:
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        (self.conf_dir / "vpcd").write_text(
            'FRIENDLYNAME "Virtual PCD"\n'
            f"DEVICENAME   /dev/null:0x{self.port:04X}\n"
            f"LIBPATH      {VPCD_DRIVER}\n"
        )

    def start(self, timeout: float = 15.0) -> None:
        """Start the daemon and wait until it lists both vpcd readers."""
        from drivers import pcsc

        if self.proc is not None:
            raise RuntimeError("pcscd already running")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._write_config()
        pcscd = ["pcscd", "--foreground", "--config", str(self.conf_dir), "--error"]
        if self.private:
            script = (
                f"mkdir -p /run/pcscd && mount --bind {self.run_dir} /run/pcscd && "
                f"exec {' '.join(pcscd)}"
            )
            argv = [*self.prefix, "unshare", "--mount", "--propagation=private", "sh", "-c", script]
        else:
            if _system_pcscd_running():
                raise PcscdBusy(
                    "another pcscd is running and this machine allows no private one "
                    "(mount namespace): stop it to run the PC/SC tests"
                )
            if not SOCKET.is_symlink():
                with contextlib.suppress(OSError):
                    SOCKET.unlink()
                SOCKET.symlink_to(SYSTEM_SOCKET)
            argv = [*self.prefix, *pcscd]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"pcscd exited with {self.proc.returncode}: {self.log()}")
            if SOCKET.exists():
                try:
                    if len(pcsc.list_readers()) >= 2:
                        return
                except pcsc.TransportError:
                    pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"pcscd did not come up in {timeout:g} s: {self.log()}")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the daemon (SIGTERM, then SIGKILL) and wait for it."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            self._signal(proc, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(proc, signal.SIGKILL)
                proc.wait(timeout)
        self._forget_socket()

    def kill(self) -> None:
        """SIGKILL the daemon at once (a reader vanishing mid-exchange) and reap it."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            self._signal(proc, signal.SIGKILL)
            proc.wait(10)
        self._forget_socket()

    def _forget_socket(self) -> None:
        """Remove the dead daemon's socket so a restart waits for the new one."""
        target = SOCKET if self.private else SYSTEM_SOCKET
        with contextlib.suppress(OSError):
            if self.prefix:
                subprocess.run([*self.prefix, "rm", "-f", str(target)], check=False)
            else:
                target.unlink()

    def _signal(self, proc: subprocess.Popen[bytes], sig: int) -> None:
        if self.prefix:
            subprocess.run([*self.prefix, "kill", f"-{int(sig)}", str(proc.pid)], check=False)
        else:
            proc.send_signal(sig)

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return ""


@pytest.fixture(scope="session")
def pcscd() -> Iterator[Pcscd]:
    """The worker's private pcscd (started once, stopped at the end of the session)."""
    reason = why_not()
    if reason is not None:
        pytest.skip(reason)
    daemon = Pcscd()
    lock = None if daemon.private else SharedLock()
    if lock is not None:
        lock.acquire()
    try:
        try:
            daemon.start()
        except PcscdBusy as exc:
            pytest.skip(str(exc))
        yield daemon
    finally:
        daemon.stop()
        if lock is not None:
            lock.release()
        shutil.rmtree(WORKDIR, ignore_errors=True)


@pytest.fixture
def running_pcscd(pcscd: Pcscd) -> Pcscd:
    """The private pcscd, (re)started if an earlier test stopped it."""
    if not pcscd.running:
        pcscd.start()
    return pcscd


def call_with_timeout(fn: Callable[[], T], timeout: float) -> T:
    """``fn()`` on a daemon thread; its result or exception, or a test failure if it hangs."""
    values: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            values.append(fn())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        pytest.fail(f"hung for more than {timeout:g} s")
    if errors:
        raise errors[0]
    return values[0]
