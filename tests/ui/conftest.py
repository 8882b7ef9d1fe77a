"""The Qt kiosk windows the UI tests share: self-check (``kiosk``) and reception."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from tests.fixtures.kiosk_window import demo_window
from ui.app import KioskWindow


@pytest.fixture
def kiosk(qtbot: QtBot, tmp_path: Path) -> Iterator[KioskWindow]:
    """The demo in self-check mode, shown at 1280×800."""
    yield from demo_window(qtbot, tmp_path, "self")


@pytest.fixture
def reception(qtbot: QtBot, tmp_path: Path) -> Iterator[KioskWindow]:
    """The demo in reception mode, shown at 1280×800."""
    yield from demo_window(qtbot, tmp_path, "reception")
