"""USB NFC frontends through nfcpy: Sony RC-S380, PN533 readers, ACS ACR122U.

A CCCD is an ISO/IEC 14443-4 card (type A or B). nfcpy activates it as a
``Type4Tag`` and carries each APDU with ``tag.transceive``, doing the ISO-DEP
block chaining itself (``nfc.tag.tt4.IsoDepInitiator``). This module wraps
that in :class:`NfcTransport` (a :class:`kiosk.transport.Transport`) and adds
what the kiosk needs around it:

* **frame limits per device** (:data:`DEVICES`): every APDU is kept inside one
  ISO-DEP frame of the device nfcpy drives (ACR122U 252/251 bytes, PN533
  263/262, RC-S380 290/290, minus PCB and CRC), and always short: nfcpy's
  Type 4 tags claim no extended length. The reader picks its READ BINARY size
  from these limits, so no command is ever chained on devices whose ISO-DEP
  handling is poor (the ACR122U);
* **removal and timeouts**: nfcpy reports a card that left the field as
  ``Type4TagCommandError`` (timeout / receive / protocol error),
  ``nfc.clf.CommunicationError`` or ``IOError``. After any of them the driver
  runs nfcpy's presence check: no answer → :class:`CardRemoved`, an answer →
  :class:`TransportTimeout` (timeouts) or :class:`TransportError`;
* **one session per tap**: :func:`taps` polls for a card, yields one
  transport for it, then waits until that card has left before looking for
  the next one, so a card lying on the reader is read once, not in a loop;
* **clear setup errors**: nfcpy missing, libusb missing (Debian package
  ``libusb-1.0-0``), no device, no permission, device busy (pcscd holding an
  ACR122U) each give a :class:`TransportError` that says what to do.

nfcpy is imported lazily, only when an NFC reader is opened, so the kiosk and
its other drivers work on machines without nfcpy or libusb. Only this module
imports nfcpy.
"""

from __future__ import annotations

import errno
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from kiosk.transport import CardRemoved, TransportError, TransportTimeout, collect_response

#: Largest short command APDU: header 4 + Lc 1 + 255 data + Le 1.
SHORT_MAX_COMMAND = 261
#: Largest short response APDU: 256 data + SW1 SW2.
SHORT_MAX_RESPONSE = 258
#: Bytes of an ISO-DEP frame that are not APDU: PCB (1) + CRC (2). nfcpy
#: counts the same (``IsoDepInitiator.miu = fsc - 3``).
ISO_DEP_OVERHEAD = 3
#: What nfcpy polls for: ISO/IEC 14443 type A and type B at 106 kbit/s.
DEFAULT_TARGETS = ("106A", "106B")
#: How long :func:`open_nfc` waits for a card by default, in seconds.
DEFAULT_WAIT_S = 15.0

_LIBUSB_HINT = (
    "libusb-1.0 is missing: install the Debian package libusb-1.0-0 "
    "(sudo apt-get install libusb-1.0-0)"
)
_PLUG_IN_HINT = (
    "plug in a Sony RC-S380, a PN533 reader (e.g. SCM SCL3711) or an ACS ACR122U "
    "(`lsusb` should list it), or use a PC/SC reader with --reader pcsc"
)


class NfcUnavailable(TransportError):
    """NFC readers cannot be used on this machine: nfcpy or libusb missing."""


class NfcReaderNotFound(TransportError):
    """No NFC reader at the path (not plugged in, a wrong path, or not one nfcpy knows)."""


class NfcReaderBusy(TransportError):
    """The NFC reader is held by another driver (a kernel NFC driver, pcscd)."""


class NfcPermissionDenied(TransportError):
    """This user may not open the NFC reader (the udev rule is missing)."""


class NfcReaderGone(TransportError):
    """The NFC reader stopped answering or was unplugged."""


@dataclass(frozen=True)
class NfcDevice:
    """A kind of NFC frontend and the frame sizes nfcpy's driver for it allows.

    ``max_send`` / ``max_recv`` are nfcpy's ``get_max_send_data_size`` /
    ``get_max_recv_data_size`` for the device: the largest frame (ISO-DEP
    PCB and INF, the CRC is added by the chip) one ``exchange`` can carry.
    ``driver`` is the nfcpy driver module (``nfc.clf.<driver>``).
    """

    name: str
    driver: str
    max_send: int
    max_recv: int
    usb_ids: tuple[str, ...] = ()
    caveat: str = ""

    @property
    def max_command_len(self) -> int:
        """Largest command APDU that fits one frame to the card (and a short APDU)."""
        return min(SHORT_MAX_COMMAND, self.max_send - ISO_DEP_OVERHEAD)

    @property
    def max_response_len(self) -> int:
        """Largest response APDU (data + SW) that fits one frame from the card."""
        return min(SHORT_MAX_RESPONSE, self.max_recv - ISO_DEP_OVERHEAD)


#: The frontends the kiosk supports, by nfcpy driver name. Frame sizes from
#: nfcpy 1.0.4 (``acr122``: PN532 host frame 254 → 252/251; ``pn533``: 265 →
#: 263/262; ``rcs380``: 290/290) and ../shared/reference/CCCD.md.
DEVICES: dict[str, NfcDevice] = {
    "acr122": NfcDevice(
        "ACS ACR122U",
        "acr122",
        252,
        251,
        ("072f:2200",),
        "PN532 inside, 106 kbit/s type A only in nfcpy, weak ISO-DEP (nfcpy#222); pcscd "
        "claims it as a CCID reader, so stop pcscd or use it as --reader pcsc instead",
    ),
    "pn533": NfcDevice(
        "NXP PN533",
        "pn533",
        263,
        262,
        ("04cc:2533", "04e6:5591", "04e6:5593"),
        "SCM SCL3711/3712 and PN533 boards",
    ),
    "rcs380": NfcDevice("Sony RC-S380", "rcs380", 290, 290, ("054c:06c1", "054c:06c3")),
}
#: Used when the device is none of the above (e.g. a PN532 on a serial port):
#: the smallest frames of the supported devices.
GENERIC = NfcDevice("NFC frontend", "generic", 252, 251)


# ---- nfcpy, imported on demand ----------------------------------------------------------


def import_nfcpy() -> Any:
    """Import nfcpy, turning a missing package or a missing libusb into a clear TransportError.

    nfcpy imports ``usb1`` at import time, which loads libusb-1.0 and raises
    ``OSError`` (not ImportError) when the C library is absent.
    """
    try:
        import nfc
        import nfc.clf
        import nfc.tag
        import nfc.tag.tt4
    except ImportError as exc:
        raise NfcUnavailable(
            f"NFC readers need nfcpy, which is not installed ({exc}): pip install nfcpy"
        ) from exc
    except OSError as exc:
        raise NfcUnavailable(_LIBUSB_HINT) from exc
    return nfc


def device_profile(clf: Any) -> NfcDevice:
    """The :class:`NfcDevice` of an open ``nfc.ContactlessFrontend`` (GENERIC if unknown).

    nfcpy loads one driver module per device kind (``nfc.clf.rcs380`` …);
    the module of ``clf.device`` tells which one is plugged in.
    """
    device = getattr(clf, "device", None)
    module = type(device).__module__ if device is not None else ""
    return DEVICES.get(module.rpartition(".")[2], GENERIC)


def open_frontend(path: str = "usb") -> Any:
    """Open the NFC frontend at ``path`` (``usb``, ``usb:054c:06c3``, ``tty:USB0:pn532`` …).

    Returns an ``nfc.ContactlessFrontend``; every failure is a TransportError
    that names what to install, plug in or change.
    """
    nfc = import_nfcpy()
    try:
        return nfc.ContactlessFrontend(path)
    except OSError as exc:
        if exc.errno == errno.EACCES:
            raise NfcPermissionDenied(
                f"no permission to open the NFC reader at {path!r}: run `python -m nfc` "
                "for the udev rule to install, then replug the reader"
            ) from exc
        if exc.errno == errno.EBUSY:
            raise NfcReaderBusy(
                f"the NFC reader at {path!r} is in use by another driver: a kernel NFC "
                "driver (port100 for the RC-S380, pn533_usb for PN533: `sudo modprobe -r "
                "port100` and blacklist it) or pcscd (ACR122U: read it with --reader pcsc); "
                "`python -m nfc` says which"
            ) from exc
        if "libusb" in str(exc):
            raise NfcUnavailable(_LIBUSB_HINT) from exc
        raise NfcReaderNotFound(f"no NFC reader found at {path!r}: {_PLUG_IN_HINT}") from exc
    except (ValueError, TypeError) as exc:
        raise NfcReaderNotFound(f"not an NFC reader path: {path!r} ({exc})") from exc


# ---- the transport ----------------------------------------------------------------------


def _present(tag: Any) -> bool:
    """nfcpy's presence check (an R(NAK) the card must answer); any failure means absent."""
    try:
        return bool(tag.is_present)
    except Exception:
        return False


class NfcTransport:
    """A :class:`kiosk.transport.Transport` over an activated nfcpy ``Type4Tag``.

    ``device`` sets the APDU limits (one frame each way, short APDUs only);
    ``timeout`` (seconds) overrides the frame waiting time nfcpy derives from
    the card's ATS (None: nfcpy's own, with the card's waiting-time
    extensions). ``on_close`` runs once on :meth:`close` (e.g. to close the
    frontend :func:`open_nfc` opened). Counters: ``apdu_count``,
    ``bytes_sent``, ``bytes_received``.
    """

    def __init__(
        self,
        tag: Any,
        device: NfcDevice = GENERIC,
        *,
        timeout: float | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        if timeout is not None and timeout <= 0:
            raise ValueError("timeout must be positive")
        self.tag = tag
        self.device = device
        self.timeout = timeout
        self._on_close = on_close
        self.closed = False
        self.removed = False
        self.apdu_count = 0
        self.bytes_sent = 0
        self.bytes_received = 0

    @property
    def max_command_len(self) -> int:
        return self.device.max_command_len

    @property
    def max_response_len(self) -> int:
        return self.device.max_response_len

    @property
    def extended_length(self) -> bool:
        return False

    def transmit(self, apdu: bytes) -> bytes:
        """Send one command APDU with ``tag.transceive``; reply is data + SW1 SW2.

        Raises CardRemoved once the card has left the field (and on every
        later call), TransportTimeout when the card is there but did not
        answer in time, TransportError otherwise.
        """
        if self.closed:
            raise TransportError("the NFC reader is closed")
        if self.removed:
            raise CardRemoved("the card left the NFC reader")
        apdu = bytes(apdu)
        if len(apdu) < 4:
            raise TransportError(f"command APDU of {len(apdu)} bytes")
        if len(apdu) > self.max_command_len:
            raise TransportError(
                f"command APDU of {len(apdu)} bytes exceeds the {self.device.name}'s "
                f"{self.max_command_len}"
            )
        return collect_response(self._exchange(apdu), self._exchange)

    def _exchange(self, apdu: bytes) -> bytes:
        """One ``tag.transceive``, errors mapped, counters kept."""
        try:
            reply = self.tag.transceive(bytearray(apdu), self.timeout)
        except Exception as exc:
            raise self._error(exc) from exc
        if reply is None or len(reply) < 2:
            raise TransportError("the card answered without a status word")
        reply = bytes(reply)
        self.apdu_count += 1
        self.bytes_sent += len(apdu)
        self.bytes_received += len(reply)
        return reply

    def _error(self, exc: Exception) -> Exception:
        """Map what nfcpy raised to the project's errors (see the module docstring)."""
        nfc = import_nfcpy()
        tag_error = isinstance(exc, nfc.tag.TagCommandError)
        link_error = isinstance(exc, nfc.clf.CommunicationError)
        if isinstance(exc, OSError) and exc.errno == errno.ENODEV:
            self.removed = True
            return TransportError("the NFC reader was unplugged")
        if not (tag_error or link_error or isinstance(exc, OSError)):
            return TransportError(f"NFC reader failure: {type(exc).__name__}: {exc}")
        if not _present(self.tag):
            self.removed = True
            return CardRemoved("the card left the NFC reader")
        timed_out = isinstance(exc, nfc.clf.TimeoutError) or (
            tag_error and getattr(exc, "errno", None) == nfc.tag.TIMEOUT_ERROR
        )
        if timed_out:
            return TransportTimeout("the card did not answer in time")
        return TransportError(f"NFC link error: {exc}")

    def close(self) -> None:
        """Stop using the card; idempotent. Runs ``on_close`` once."""
        if self.closed:
            return
        self.closed = True
        if self._on_close is not None:
            self._on_close()

    def __enter__(self) -> NfcTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---- finding cards ----------------------------------------------------------------------


def _connect(
    clf: Any, targets: Sequence[str], terminate: Callable[[], bool], interval: float
) -> Any:
    """One ``clf.connect`` for a reader/writer target: the activated tag, or None.

    ``on-connect`` returns False so nfcpy hands the tag back at once instead
    of running its own presence loop; ``beep-on-connect`` is off (the kiosk
    gives its own feedback). A False return from nfcpy means the device
    failed (nfcpy logs and swallows the IOError).
    """
    try:
        result = clf.connect(
            rdwr={
                "targets": list(targets),
                "on-connect": lambda tag: False,
                "beep-on-connect": False,
                "iterations": 5,
                "interval": interval,
            },
            terminate=terminate,
        )
    except OSError as exc:  # raised before nfcpy's own try: the device is already closed
        raise NfcReaderGone(f"the NFC reader is not open ({exc}): {_PLUG_IN_HINT}") from exc
    if result is False:
        raise NfcReaderGone(f"the NFC reader stopped working (unplugged?): {_PLUG_IN_HINT}")
    return result or None


def _wait_removed(
    tag: Any, terminate: Callable[[], bool], interval: float, sleep: Callable[[float], None]
) -> None:
    """Block until ``tag`` no longer answers the presence check (or ``terminate``)."""
    while not terminate() and _present(tag):
        sleep(interval)


def taps(
    clf: Any,
    *,
    device: NfcDevice | None = None,
    targets: Sequence[str] = DEFAULT_TARGETS,
    timeout: float | None = None,
    terminate: Callable[[], bool] = lambda: False,
    interval: float = 0.1,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[NfcTransport]:
    """Yield one :class:`NfcTransport` per tap on the frontend ``clf``, until ``terminate()``.

    Each transport is valid until the caller asks for the next one; then it
    is closed and the generator waits until that card has left the field
    (polling every ``interval`` seconds) before looking for another, so one
    tap gives exactly one session. Tags that are not ISO 14443-4 (transit
    stickers, MIFARE) are skipped the same way. Raises TransportError when
    the reader fails.
    """
    nfc = import_nfcpy()
    profile = device or device_profile(clf)
    while not terminate():
        tag = _connect(clf, targets, terminate, interval)
        if tag is None:
            continue
        if isinstance(tag, nfc.tag.tt4.Type4Tag):
            transport = NfcTransport(tag, profile, timeout=timeout)
            try:
                yield transport
            finally:
                transport.close()
        _wait_removed(tag, terminate, interval, sleep)


def open_nfc(
    path: str = "usb",
    *,
    wait: float = DEFAULT_WAIT_S,
    timeout: float | None = None,
    targets: Sequence[str] = DEFAULT_TARGETS,
) -> NfcTransport:
    """Open the frontend at ``path`` and wait up to ``wait`` seconds for a card.

    For one-shot reads (``--reader nfc[:PATH]``); the kiosk loop uses
    :func:`taps`. Closing the transport closes the frontend. Raises
    TransportTimeout when no card came within ``wait`` seconds (not
    CardRemoved: nothing was removed, the patient has yet to tap).
    """
    nfc = import_nfcpy()
    clf = open_frontend(path)
    deadline = time.monotonic() + wait
    try:
        tag = _connect(clf, targets, lambda: time.monotonic() >= deadline, 0.1)
        if tag is None or not isinstance(tag, nfc.tag.tt4.Type4Tag):
            raise TransportTimeout(
                f"no ID card on the NFC reader at {path!r} within {wait:g} s: place the card "
                "flat on the reader"
            )
    except BaseException:
        clf.close()
        raise
    return NfcTransport(tag, device_profile(clf), timeout=timeout, on_close=clf.close)
