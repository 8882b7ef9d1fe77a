"""The Qt kiosk windows the UI tests share: self-check (``kiosk``) and reception."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from tests import ROOT
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


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One real check-in of the default sample card, against the gateway simulator (the
    outcome ``make screenshots`` renders)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import screenshots

    from ui.tester import DemoGateway

    gateway = DemoGateway()
    try:
        yield screenshots.card_outcome(tmp_path_factory.mktemp("outcome"), gateway.client())
    finally:
        gateway.stop()
