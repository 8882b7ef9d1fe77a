"""A clinic with two departments on a temporary data folder, and its calling display served
by a real HTTP server thread on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from kiosk.app.kiosk import Kiosk
from kiosk.app.settings import Overrides, resolve
from kiosk.display.server import DisplayServer
from kiosk.voice import Voice

CONFIG = """
[reader]
name = "sim:default"

[display]
desk = "Quầy 1"

[[departments]]
code = "NOI"
name_vi = "Khoa Nội"
name_en = "Internal medicine"
room = "203"

[[departments]]
code = "NHI"
name_vi = "Khoa Nhi"
name_en = "Paediatrics"
room = "105"
"""

#: Patients checked in by the tests: their names and IDs must never reach the display.
PEOPLE = [
    ("001088034517", "Trần Đức Minh"),
    ("046196008821", "Nguyễn Thị Ánh Tuyết"),
    ("079301000123", "Lê Văn Bình"),
]


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def open_kiosk(config_path: Path, data: Path, desk: str | None = None) -> Kiosk:
    """A kiosk (or desk) of the clinic, without a gateway, on ``data``."""
    text = config_path.read_text(encoding="utf-8")
    if desk is not None:
        path = config_path.with_name(f"desk-{abs(hash(desk))}.toml")
        path.write_text(text.replace('desk = "Quầy 1"', f'desk = "{desk}"'), encoding="utf-8")
        config_path = path
    return Kiosk(resolve(config_path, Overrides(data_dir=data)), demo_gateway=False)


@pytest.fixture
def kiosk(config_path: Path, tmp_path: Path) -> Iterator[Kiosk]:
    with open_kiosk(config_path, tmp_path / "data") as k:
        yield k


def check_in_everyone(kiosk: Kiosk, department: str = "NOI") -> None:
    for id_number, name in PEOPLE:
        kiosk.checkin_manual(id_number, name, date(1990, 1, 2), department=department)


@pytest.fixture
def display_kiosk(config_path: Path, tmp_path: Path, kiosk: Kiosk) -> Iterator[Kiosk]:
    """The display's own kiosk on the same data folder (its own connections, like the
    `cccd-kiosk display` process next to the desks)."""
    kiosk.storage  # noqa: B018 (the desk creates the journal first)
    with open_kiosk(config_path, tmp_path / "data") as k:
        yield k


def serve(source: Kiosk, voice: Voice | None = None) -> DisplayServer:
    return DisplayServer(source, host="127.0.0.1", port=0, voice=voice, poll_s=0.05).start()


@pytest.fixture
def display(display_kiosk: Kiosk) -> Iterator[DisplayServer]:
    server = serve(display_kiosk)
    try:
        yield server
    finally:
        server.stop()
