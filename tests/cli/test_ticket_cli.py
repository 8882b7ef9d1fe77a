"""``checkin`` prints the queue ticket when ``[printer] url`` is set; ``ticket ID`` reprints.

Against the stand-in ESC/POS printer on 127.0.0.1: the page's QR decodes (zbar) to the
check-in id the JSON gives; a printer out of paper never fails the check-in.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyzbar import pyzbar

from kiosk import cli
from tests.fixtures.escpos_printer import EscposPrinter

MANUAL = ["--manual", "--id", "046196008821", "--name", "Nguyễn Thị Ánh Tuyết"]
MANUAL += ["--dob", "1996-11-23", "--json"]


@pytest.fixture
def printer(tmp_path: Path) -> Iterator[EscposPrinter]:
    p = EscposPrinter(tmp_path / "printed")
    yield p
    p.close()


@pytest.fixture
def config(tmp_path: Path, printer: EscposPrinter) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(
        '[reader]\nname = "pcsc"\n'
        f'[storage]\ndata_dir = "{tmp_path / "data"}"\n'
        f'[printer]\nurl = "{printer.url}"\nhospital = "Bệnh viện Đa khoa Huế"\n',
        encoding="utf-8",
    )
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _qr(page_path: Path | None) -> list[bytes]:
    from PIL import Image

    assert page_path is not None
    return [s.data for s in pyzbar.decode(Image.open(page_path).convert("L"))]


def test_checkin_prints_and_ticket_reprints(
    config: Path, printer: EscposPrinter, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "checkin", "--config", str(config), *MANUAL)
    assert code == 0, err
    checkin_id = json.loads(out)["checkin_id"]
    (first,) = printer.wait_pages(1)
    assert _qr(first.path) == [checkin_id.encode()]
    assert first.text == [] and first.unknown == []
    code, _, err = _run(capsys, "ticket", checkin_id, "--config", str(config))
    assert code == 0 and "Ticket printed" in err
    pages = printer.wait_pages(2)
    assert _qr(pages[1].path) == [checkin_id.encode()]
    assert pages[1].image.tobytes() == first.image.tobytes()  # the same ticket again


def test_a_printer_out_of_paper_never_fails_the_checkin(
    config: Path, printer: EscposPrinter, capsys: pytest.CaptureFixture[str]
) -> None:
    printer.state = "paper_out"
    code, out, err = _run(capsys, "checkin", "--config", str(config), *MANUAL)
    assert code == 0 and json.loads(out)["queue_number"] == 1  # journaled all the same
    assert len(err.strip().splitlines()) == 1
    assert "The ticket printer is out of paper" in err and "reception desk" in err
    assert printer.pages == []
    checkin_id = json.loads(out)["checkin_id"]
    code, _, err = _run(capsys, "ticket", checkin_id, "--config", str(config))
    assert code == 1 and "out of paper" in err  # the reprint says why it did not print
    printer.state = "ok"
    assert _run(capsys, "ticket", checkin_id, "--config", str(config))[0] == 0
    assert len(printer.wait_pages(1)) == 1


def test_ticket_for_an_unknown_checkin(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(capsys, "checkin", "--config", str(config), *MANUAL)[0] == 0
    code, _, err = _run(capsys, "ticket", "20990101-0001-00000000", "--config", str(config))
    assert code == 2 and "no check-in" in err


def test_the_ticket_names_the_department_and_room(
    config: Path, printer: EscposPrinter, capsys: pytest.CaptureFixture[str]
) -> None:
    """A check-in in a department prints its name and room: the page is taller than the same
    ticket without them, and the ticket model carries exactly the configured words."""
    from kiosk.app.kiosk import Kiosk
    from kiosk.app.settings import resolve

    code, out, _ = _run(capsys, "checkin", "--config", str(config), *MANUAL)
    assert code == 0
    (plain,) = printer.wait_pages(1)
    config.write_text(
        config.read_text(encoding="utf-8")
        + '[[departments]]\ncode = "NOI"\nname_vi = "Khoa Nội"\nname_en = "Internal medicine"\n'
        'room = "203"\n',
        encoding="utf-8",
    )
    code, out, err = _run(capsys, "checkin", "--config", str(config), *MANUAL)
    assert code == 0, err
    doc = json.loads(out)
    assert (doc["department"], doc["room"], doc["queue_number"]) == ("NOI", "203", 1)
    pages = printer.wait_pages(2)
    assert pages[1].image.height > plain.image.height  # two more lines: department, room
    assert _qr(pages[1].path) == [doc["checkin_id"].encode()]
    with Kiosk(resolve(config), demo_gateway=False) as kiosk:
        ticket = kiosk.ticket_for(doc["checkin_id"])
    assert (ticket.department_vi, ticket.department_en, ticket.room) == (
        "Khoa Nội",
        "Internal medicine",
        "203",
    )
    assert ticket.queue_number == 1
