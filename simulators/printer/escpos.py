"""A stand-in ESC/POS thermal printer on 127.0.0.1: a real TCP server that parses what a
printer would receive and writes each cut page as a PNG.

What it understands, as an Epson-compatible 80 mm printer does: ESC @ (initialise), ESC a
(alignment), ESC d / LF (feed), ESC ! / ESC E / ESC - / ESC t / ESC 2 / ESC 3 / GS ! / GS B
(text modes, kept as settings), GS v 0 (raster bit image), GS ( k with cn=49 (QR: model, size,
error level, store, print — printed by drawing the stored data with the ``qrcode`` library),
GS V (cut: the page ends), DLE EOT 1/2/4 (real-time status: answered from :attr:`state`).
Anything else is recorded in :attr:`Page.unknown` so tests see it. Printable bytes are kept
as text lines (a kiosk that sends Vietnamese as text is caught by the tests).

``state`` is ``ok``, ``paper_low``, ``paper_out`` or ``cover_open``; ``offline`` closes
every connection at once. ``python -m simulators.printer.escpos --port 9100 --out DIR`` runs
it on its own. The demo (``make run``) runs one in-process (:func:`start_standin`: port 9100,
or a free port when that is taken) and its tester panel shows the last page; the tests use
it through ``tests/fixtures/escpos_printer.py``. A ticket carries no personal data (no name,
no ID number), so pages may be written to disk.
"""

from __future__ import annotations

import argparse
import io
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

#: Dots across an 80 mm page.
WIDTH = 576
#: Bytes one connection may send before it is dropped (a page is well under 200 KiB).
MAX_JOB_BYTES = 8 * 1024 * 1024


@dataclass
class Page:
    """One cut page: its image, text lines, QR payloads and the commands not understood."""

    image: Image.Image
    text: list[str] = field(default_factory=list)
    qr: list[bytes] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    rasters: int = 0
    path: Path | None = None

    def png(self) -> bytes:
        """The page as PNG bytes (what the tester panel shows)."""
        buf = io.BytesIO()
        self.image.save(buf, "PNG")
        return buf.getvalue()


class _Job:
    """The parser of one connection's bytes."""

    def __init__(self, printer: EscposPrinter, conn: socket.socket) -> None:
        self.printer = printer
        self.conn = conn
        self.buf = b""
        self._new_page()

    def _new_page(self) -> None:
        self.rows: list[Image.Image] = []
        self.text: list[str] = []
        self.qr: list[bytes] = []
        self.unknown: list[str] = []
        self.rasters = 0
        self.qr_store = b""
        self.qr_size = 3
        self.line = b""

    def _feed_blank(self, dots: int) -> None:
        self.rows.append(Image.new("1", (WIDTH, dots), 1))

    def _end_text_line(self) -> None:
        if self.line:
            self.text.append(self.line.decode("latin-1"))
            self.line = b""

    def cut(self) -> None:
        self._end_text_line()
        height = sum(r.height for r in self.rows) or 1
        page = Image.new("1", (WIDTH, height), 1)
        y = 0
        for row in self.rows:
            page.paste(row, (0, y))
            y += row.height
        self.printer._finish(Page(page, self.text, self.qr, self.unknown, self.rasters))
        self._new_page()

    def need(self, n: int) -> bool:
        return len(self.buf) >= n

    def parse(self) -> None:
        """Consume every complete command in the buffer."""
        while self.buf:
            b = self.buf
            c = b[0]
            if c == 0x1B:  # ESC
                if not self.need(2):
                    return
                op = b[1]
                if op == 0x40:
                    self.buf = b[2:]
                elif op in (0x61, 0x21, 0x45, 0x2D, 0x74, 0x33, 0x4D, 0x64, 0x4A):
                    if not self.need(3):
                        return
                    if op in (0x64, 0x4A):
                        self._end_text_line()
                        self._feed_blank(24 * b[2] if op == 0x64 else b[2])
                    self.buf = b[3:]
                elif op == 0x32:
                    self.buf = b[2:]
                else:
                    self.unknown.append(f"ESC {op:02X}")
                    self.buf = b[2:]
            elif c == 0x1D:  # GS
                if not self.need(2):
                    return
                op = b[1]
                if op == 0x76:  # GS v 0 m xL xH yL yH d...
                    if not self.need(8):
                        return
                    xb = b[4] | b[5] << 8
                    yd = b[6] | b[7] << 8
                    size = xb * yd
                    if not self.need(8 + size):
                        return
                    bits = b[8 : 8 + size]
                    img = Image.frombytes("1", (xb * 8, yd), bytes(x ^ 0xFF for x in bits))
                    row = Image.new("1", (WIDTH, yd), 1)
                    row.paste(img.crop((0, 0, min(WIDTH, xb * 8), yd)), (0, 0))
                    self.rows.append(row)
                    self.rasters += 1
                    self.buf = b[8 + size :]
                elif op == 0x28:  # GS ( k pL pH cn fn ...
                    if not self.need(5):
                        return
                    n = b[3] | b[4] << 8
                    if not self.need(5 + n):
                        return
                    body = b[5 : 5 + n]
                    self.buf = b[5 + n :]
                    if b[2] != 0x6B or len(body) < 2 or body[0] != 0x31:
                        self.unknown.append(f"GS ( {b[2]:02X}")
                        continue
                    fn = body[1]
                    if fn == 0x43 and len(body) >= 3:
                        self.qr_size = body[2]
                    elif fn == 0x50:
                        self.qr_store = body[3:]
                    elif fn == 0x51:
                        self._print_qr()
                elif op == 0x56:  # GS V m [n]
                    if not self.need(3):
                        return
                    self.buf = b[4:] if b[2] in (0x41, 0x42, 65, 66) and self.need(4) else b[3:]
                    self.cut()
                elif op in (0x21, 0x42, 0x61):
                    if not self.need(3):
                        return
                    self.buf = b[3:]
                else:
                    self.unknown.append(f"GS {op:02X}")
                    self.buf = b[2:]
            elif c == 0x10:  # DLE EOT n: real-time status
                if not self.need(3):
                    return
                if b[1] == 0x04:
                    self.conn.sendall(bytes([self.printer.status_byte(b[2])]))
                else:
                    self.unknown.append(f"DLE {b[1]:02X}")
                self.buf = b[3:]
            elif c == 0x0A:
                self._end_text_line()
                self._feed_blank(24)
                self.buf = b[1:]
            elif c >= 0x20:
                self.line += bytes([c])
                self.buf = b[1:]
            else:
                self.unknown.append(f"byte {c:02X}")
                self.buf = b[1:]

    def _print_qr(self) -> None:
        import qrcode

        self.qr.append(self.qr_store)
        code = qrcode.QRCode(border=2, box_size=max(1, self.qr_size))
        code.add_data(self.qr_store)
        code.make(fit=True)
        img = code.make_image().get_image().convert("1")
        row = Image.new("1", (WIDTH, img.height), 1)
        row.paste(
            img.crop((0, 0, min(WIDTH, img.width), img.height)), ((WIDTH - img.width) // 2, 0)
        )
        self.rows.append(row)


class EscposPrinter:
    """The stand-in printer serving on 127.0.0.1:``port`` (0: a free port) in a thread.

    ``out`` is the folder each page is written to as ``page-NNN.png`` (None: kept in memory
    only); ``keep`` bounds the pages held (None: all — a test; the demo keeps a few);
    ``on_page`` is called with each finished page, on the server's thread.
    """

    def __init__(
        self,
        out: Path | None = None,
        port: int = 0,
        *,
        keep: int | None = None,
        on_page: Callable[[Page], None] | None = None,
    ) -> None:
        self.out = out
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
        self.keep = keep
        self.on_page = on_page
        self.state = "ok"
        self.pages: list[Page] = []
        #: Pages finished since the start (``pages`` may hold fewer when ``keep`` is set).
        self.printed = 0
        self.connections = 0
        self._printed = threading.Condition()
        self._sock = socket.create_server(("127.0.0.1", port))
        self._sock.settimeout(0.2)
        self.port = int(self._sock.getsockname()[1])
        self.url = f"tcp://127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def status_byte(self, n: int) -> int:
        """The DLE EOT ``n`` answer for the current :attr:`state` (Epson's bit layout)."""
        if n == 1:
            return 0x16 | (0x08 if self.state == "cover_open" else 0)
        if n == 2:
            return (
                0x12
                | (0x04 if self.state == "cover_open" else 0)
                | (0x20 if self.state == "paper_out" else 0)
            )
        if n == 4:
            return 0x12 | {"paper_low": 0x0C, "paper_out": 0x6C}.get(self.state, 0)
        return 0x12

    def _finish(self, page: Page) -> None:
        with self._printed:
            self.printed += 1
            if self.out is not None:
                page.path = self.out / f"page-{self.printed:03d}.png"
                page.image.save(page.path)
            self.pages.append(page)
            if self.keep is not None:
                del self.pages[: -self.keep or None]
            self._printed.notify_all()
        if self.on_page is not None:
            self.on_page(page)

    @property
    def last_page(self) -> Page | None:
        """The page printed last (None: nothing printed yet)."""
        with self._printed:
            return self.pages[-1] if self.pages else None

    def wait_pages(self, n: int, timeout: float = 30.0) -> list[Page]:
        """The pages once ``n`` are printed (the job is parsed on the server's thread)."""
        with self._printed:
            if not self._printed.wait_for(lambda: self.printed >= n, timeout):
                raise TimeoutError(f"{self.printed} pages printed, {n} expected")
            return list(self.pages)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            if self.state == "offline":
                conn.close()
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        job = _Job(self, conn)
        total = 0
        conn.settimeout(10)
        with conn:
            while not self._stop.is_set():
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                total += len(data)
                if total > MAX_JOB_BYTES:
                    return
                job.buf += data
                job.parse()

    def close(self) -> None:
        self._stop.set()
        self._sock.close()
        self._thread.join(5)


#: The port a receipt printer listens on (raw TCP, "JetDirect").
STANDARD_PORT = 9100


def start_standin(*, keep: int = 5, on_page: Callable[[Page], None] | None = None) -> EscposPrinter:
    """The demo's printer: on 127.0.0.1:9100, or on a free port when 9100 is taken (another
    demo, a real print server); pages kept in memory only (the last ``keep``)."""
    try:
        return EscposPrinter(None, STANDARD_PORT, keep=keep, on_page=on_page)
    except OSError:
        return EscposPrinter(None, 0, keep=keep, on_page=on_page)


def main() -> None:
    parser = argparse.ArgumentParser(description="A stand-in ESC/POS printer on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--out", type=Path, default=Path("printed"))
    args = parser.parse_args()
    printer = EscposPrinter(args.out, args.port)
    print(f"printer: {printer.url} → {args.out}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        printer.close()


if __name__ == "__main__":
    main()
