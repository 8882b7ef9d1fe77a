"""ESC/POS ticket printers through python-escpos: ``tcp://HOST[:PORT]``, ``usb:VID:PID``,
``file:PATH``.

:func:`print_ticket` asks a network or USB printer its state first (DLE EOT: online, cover,
paper roll), so a printer that is offline, open or out of paper is reported as such
(:class:`PrinterOffline`, :class:`CoverOpen`, :class:`PaperOut`) before anything is sent —
the kiosk then tells the patient to take their number to the desk and staff see why. The
page goes as one raster image (GS v 0): Vietnamese text drawn by :mod:`kiosk.ticket.render`,
since code pages garble it. The QR of the check-in id is the printer's own (GS ( k) unless
``native_qr`` is false, then it is part of the image. A ``file:`` target (a device node such
as ``/dev/usb/lp0``, or a file for tests) cannot answer status queries; it is written as is.
"""

from __future__ import annotations

import contextlib
import copy
import re
from dataclasses import dataclass
from typing import Any

from PIL import Image

#: Seconds to connect to and talk with a network printer.
DEFAULT_TIMEOUT_S = 5.0
#: DLE EOT n: real-time status requests (printer, offline cause, paper roll sensor).
_STATUS_PRINTER, _STATUS_OFFLINE, _STATUS_PAPER = b"\x10\x04\x01", b"\x10\x04\x02", b"\x10\x04\x04"

_TCP = re.compile(r"\Atcp://(?P<host>[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:]+\])(?::(?P<port>\d{1,5}))?/?\Z")
_USB = re.compile(r"\Ausb:(?P<vid>[0-9A-Fa-f]{4}):(?P<pid>[0-9A-Fa-f]{4})\Z")


class PrinterError(Exception):
    """The ticket could not be printed; the message says why (never personal data)."""


class PrinterSpecError(PrinterError):
    """A printer address that is not ``tcp://HOST[:PORT]``, ``usb:VID:PID`` or ``file:PATH``."""


class PrinterOffline(PrinterError):
    """The printer does not answer, or says it is offline."""


class CoverOpen(PrinterError):
    """The printer's cover is open."""


class PaperOut(PrinterError):
    """The printer has no paper."""


@dataclass(frozen=True)
class PrinterStatus:
    """What the printer says of itself: ``paper`` is ``ok``, ``low`` or ``out``."""

    online: bool
    cover_open: bool
    paper: str


@dataclass(frozen=True)
class PrinterSpec:
    """A parsed printer address."""

    kind: str  # tcp, usb or file
    host: str = ""
    port: int = 9100
    vid: int = 0
    pid: int = 0
    path: str = ""

    @classmethod
    def parse(cls, url: str) -> PrinterSpec:
        text = url.strip()
        if m := _TCP.match(text):
            port = int(m["port"] or 9100)
            if not 0 < port < 65536:
                raise PrinterSpecError(f"printer port out of range in {url!r}")
            return cls("tcp", host=m["host"].strip("[]"), port=port)
        if m := _USB.match(text):
            return cls("usb", vid=int(m["vid"], 16), pid=int(m["pid"], 16))
        if text.startswith("file:") and len(text) > 5:
            return cls("file", path=text[5:])
        raise PrinterSpecError(
            f"printer address {url!r}: use tcp://HOST[:PORT], usb:VID:PID or file:PATH"
        )


def _open(spec: PrinterSpec, timeout: float) -> Any:
    from escpos import printer

    try:
        if spec.kind == "tcp":
            dev = printer.Network(spec.host, spec.port, timeout=timeout)
        elif spec.kind == "usb":
            dev = printer.Usb(spec.vid, spec.pid, timeout=int(timeout * 1000))
        else:
            dev = printer.File(spec.path)
        dev.open()
    except Exception as exc:  # escpos raises its own DeviceNotFoundError, USB errors, OSError
        raise PrinterOffline(f"the printer does not answer ({type(exc).__name__})") from exc
    return dev


def _query(dev: Any, request: bytes) -> int | None:
    dev._raw(request)
    try:
        reply = dev._read()
    except Exception:  # a printer that does not answer status requests
        return None
    return reply[0] if reply else None


def read_status(dev: Any) -> PrinterStatus:
    """Ask an open network or USB printer its state (DLE EOT 1, 2 and 4)."""
    printer_byte = _query(dev, _STATUS_PRINTER)
    if printer_byte is None:
        return PrinterStatus(online=False, cover_open=False, paper="ok")
    offline_byte = _query(dev, _STATUS_OFFLINE) or 0
    paper_byte = _query(dev, _STATUS_PAPER) or 0
    paper = "out" if paper_byte & 0x60 else "low" if paper_byte & 0x0C else "ok"
    return PrinterStatus(
        online=not printer_byte & 0x08, cover_open=bool(offline_byte & 0x04), paper=paper
    )


def query_status(url: str, *, timeout: float) -> PrinterStatus | None:
    """Open the printer at ``url``, ask its state and close it (``cccd-kiosk doctor``); None
    for a ``file:`` printer, which has no state to ask. Raises :class:`PrinterOffline` when
    it cannot be opened, :class:`PrinterSpecError` for a bad address."""
    spec = PrinterSpec.parse(url)
    dev = _open(spec, timeout)
    try:
        return read_status(dev) if spec.kind != "file" else None
    finally:
        dev.close()


def check(status: PrinterStatus) -> None:
    """Raise the error a printer in ``status`` means, if any (low paper still prints)."""
    if status.cover_open:
        raise CoverOpen("the printer's cover is open")
    if status.paper == "out":
        raise PaperOut("the printer has no paper")
    if not status.online:
        raise PrinterOffline("the printer is offline")


def print_ticket(
    url: str,
    page: Image.Image,
    *,
    qr_data: str | None = None,
    native_qr: bool = True,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> PrinterStatus | None:
    """Print ``page`` (a mode "1" image), then the printer's QR of ``qr_data``, and cut.

    Returns the printer's status (None for ``file:``); raises a :class:`PrinterError`.
    """
    spec = PrinterSpec.parse(url)
    dev = _open(spec, timeout)
    try:
        status = None
        if spec.kind != "file":
            status = read_status(dev)
            check(status)
        # The page's own width is the printer's (python-escpos's default profile knows none).
        data = copy.deepcopy(dev.profile.profile_data)
        data.setdefault("media", {}).setdefault("width", {})["pixels"] = page.width
        dev.profile.profile_data = data
        try:
            dev.hw("INIT")
            dev.image(page, impl="bitImageRaster", center=False)
            if qr_data and native_qr:
                dev.set(align="center")
                dev.qr(qr_data, native=True, size=8)
                dev.ln(2)
            dev.cut()
        except PrinterError:
            raise
        except Exception as exc:  # the connection dropped mid-page
            raise PrinterOffline(f"the printer stopped answering ({type(exc).__name__})") from exc
        return status
    finally:
        with contextlib.suppress(Exception):  # closing a dead connection
            dev.close()
