"""Ticket printing through python-escpos to a stand-in ESC/POS printer on 127.0.0.1.

The stand-in (tests/fixtures/escpos_printer.py) parses the bytes a thermal printer receives
and writes each cut page as a PNG; the tests read the page back: the raster is the rendered
ticket dot for dot, the QR decodes (zbar) to the check-in id, nothing went as text.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image, ImageChops
from pyzbar import pyzbar

from drivers.printer import (
    CoverOpen,
    PaperOut,
    PrinterOffline,
    PrinterSpec,
    PrinterSpecError,
    print_ticket,
)
from kiosk.ticket import Ticket, TicketError
from kiosk.ticket.render import PAPER_58MM, PAPER_80MM, render
from tests.fixtures.escpos_printer import EscposPrinter

CHECKIN = "20261203-0015-45c55390"
TICKET = Ticket(
    hospital="Bệnh viện Đa khoa Tỉnh Thừa Thiên Huế",
    queue_number=15,
    checkin_id=CHECKIN,
    issued_at=datetime(2026, 12, 3, 8, 42),
    eligibility="eligible",
    department_vi="Khoa Nội tổng hợp",
    department_en="Internal medicine",
    room="203",
)


@pytest.fixture
def printer(tmp_path: Path) -> Iterator[EscposPrinter]:
    p = EscposPrinter(tmp_path / "printed")
    yield p
    p.close()


def _decoded(image: Image.Image) -> list[bytes]:
    return [s.data for s in pyzbar.decode(image.convert("L"))]


def test_the_ticket_prints_as_a_raster_with_the_printers_qr(printer: EscposPrinter) -> None:
    page = render(TICKET)
    status = print_ticket(printer.url, page, qr_data=CHECKIN)
    assert status is not None and status.paper == "ok"
    (printed,) = printer.wait_pages(1)
    assert printed.path is not None and printed.path.is_file()
    assert printed.unknown == [] and printed.text == []  # no Vietnamese sent as text
    assert printed.rasters >= 1 and printed.qr == [CHECKIN.encode()]
    assert printed.image.width == PAPER_80MM
    # The page starts with the rendered ticket, dot for dot.
    top = printed.image.crop((0, 0, page.width, page.height))
    assert ImageChops.difference(top.convert("L"), page.convert("L")).getbbox() is None
    assert _decoded(printed.image) == [CHECKIN.encode()]


def test_without_native_qr_the_qr_is_in_the_image(printer: EscposPrinter) -> None:
    page = render(TICKET, qr=True)
    print_ticket(printer.url, page, qr_data=CHECKIN, native_qr=False)
    (printed,) = printer.wait_pages(1)
    assert printed.qr == []  # the printer drew none of its own
    assert _decoded(printed.image) == [CHECKIN.encode()]


def test_the_queue_number_is_the_biggest_thing_on_the_ticket() -> None:
    """The number's block is the tallest run of inked rows (what the patient reads first)."""
    page = render(TICKET).convert("L")
    rows = [any(page.getpixel((x, y)) == 0 for x in range(page.width)) for y in range(page.height)]
    runs: list[int] = []
    run = 0
    for inked in rows:
        run = run + 1 if inked else 0
        if run == 1:
            runs.append(0)
        if inked:
            runs[-1] = run
    other = render(
        Ticket("Bệnh viện", 7, CHECKIN, datetime(2026, 12, 3, 8, 42), "unknown")
    ).convert("L")
    assert max(runs) >= 100  # ~150 px glyphs on 80 mm paper
    assert other.width == PAPER_80MM and render(TICKET, width=PAPER_58MM).width == PAPER_58MM


@pytest.mark.parametrize(
    ("state", "error"),
    [("paper_out", PaperOut), ("cover_open", CoverOpen), ("offline", PrinterOffline)],
)
def test_a_printer_that_cannot_print_says_why_and_gets_nothing(
    printer: EscposPrinter, state: str, error: type[Exception]
) -> None:
    printer.state = state
    with pytest.raises(error):
        print_ticket(printer.url, render(TICKET), qr_data=CHECKIN)
    assert printer.pages == []


def test_low_paper_still_prints(printer: EscposPrinter) -> None:
    printer.state = "paper_low"
    status = print_ticket(printer.url, render(TICKET), qr_data=CHECKIN)
    assert status is not None and status.paper == "low" and len(printer.wait_pages(1)) == 1


def test_nothing_listening_is_offline(tmp_path: Path) -> None:
    p = EscposPrinter(tmp_path)
    url = p.url
    p.close()
    with pytest.raises(PrinterOffline):
        print_ticket(url, render(TICKET), timeout=2.0)


def test_a_file_target_gets_the_raw_job(tmp_path: Path) -> None:
    out = tmp_path / "lp0"
    assert print_ticket(f"file:{out}", render(TICKET), qr_data=CHECKIN) is None
    data = out.read_bytes()
    assert data.startswith(b"\x1b@") and b"\x1dv0" in data and CHECKIN.encode() in data


@pytest.mark.parametrize(
    ("url", "spec"),
    [
        ("tcp://192.0.2.7", PrinterSpec("tcp", host="192.0.2.7", port=9100)),
        ("tcp://printer.local:9101", PrinterSpec("tcp", host="printer.local", port=9101)),
        ("usb:04b8:0e15", PrinterSpec("usb", vid=0x04B8, pid=0x0E15)),
        ("file:/dev/usb/lp0", PrinterSpec("file", path="/dev/usb/lp0")),
    ],
)
def test_printer_addresses(url: str, spec: PrinterSpec) -> None:
    assert PrinterSpec.parse(url) == spec


@pytest.mark.parametrize("url", ["", "lpt1", "tcp://", "usb:4b8:e15", "http://x", "tcp://h:99999"])
def test_bad_printer_addresses(url: str) -> None:
    with pytest.raises(PrinterSpecError):
        PrinterSpec.parse(url)


def test_a_ticket_carries_no_personal_data_and_checks_its_fields() -> None:
    fields = set(Ticket.__dataclass_fields__)
    assert not fields & {"id_number", "full_name", "address", "date_of_birth"}
    with pytest.raises(TicketError):
        Ticket("Bệnh viện", 0, CHECKIN, datetime(2026, 1, 1), "eligible")
    with pytest.raises(TicketError):
        Ticket("Bệnh viện", 1, CHECKIN, datetime(2026, 1, 1), "maybe")
    t = Ticket("Bệnh\x1b[2J viện\u202e", 1, CHECKIN, datetime(2026, 1, 1), "unknown")
    assert t.hospital == "Bệnh[2J viện"  # control and format characters dropped
