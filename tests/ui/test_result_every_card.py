"""Reception's result screen shows every sample card's fields whole at 1280×800.

The layout test (test_ui_layout.py) covers every screen with the ``default`` card; real
patients have long addresses, a mother's name and an old ID number (``elder``, ``big-photo``,
``bac-only``), so here every sample card's real check-in is laid out in both languages and
checked with the same rules: nothing outside the window, no overlap, every wrapped label as
tall as its text needs, and every field the view has on screen, once.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from simulators.card.profile import list_profiles
from tests import ROOT
from tests.ui.test_ui_layout import _problems, _window

sys.path.insert(0, str(ROOT / "scripts"))
import screenshots

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CARDS = sorted(list_profiles())


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A real check-in of every sample card against the gateway simulator."""
    from ui.tester import DemoGateway

    gateway = DemoGateway()
    folder = tmp_path_factory.mktemp("every-card")
    try:
        yield {c: screenshots.card_outcome(folder, gateway.client(), c) for c in CARDS}
    finally:
        gateway.stop()


def test_every_sample_card_is_checked(outcomes: dict[str, Any]) -> None:
    """The cards this file lays out are the simulator's whole set, each a real check-in."""
    assert {"default", "elder", "bac-only", "big-photo", "anh-tuyet"} <= set(outcomes)
    for card, outcome in outcomes.items():
        assert outcome.method == "chip" and outcome.holder is not None, card
        assert outcome.authenticity is not None and outcome.authenticity.verified, card


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
@pytest.mark.parametrize("card", CARDS)
def test_reception_result_fits(
    qtbot: Any, tmp_path: Path, outcomes: dict[str, Any], card: str, size: tuple[int, int]
) -> None:
    window = _window(qtbot, tmp_path, "reception")
    app = QApplication.instance()
    assert app is not None
    problems: list[str] = []
    try:
        window.setFixedSize(*size)
        window.show()
        for lang in ("vi", "en"):
            window.state.set_language(lang)
            window.state.wipe()
            window.state.on_outcome(outcomes[card])
            assert window.state.screen == "result"
            app.processEvents()
            problems += [f"{card} {lang} {size}: {p}" for p in _problems(window)]
            shown = [(k.text(), v.text()) for k, v in window.result.labels if k.isVisible()]
            assert shown == list(window.state.view().lines), (card, lang)
    finally:
        window.state.wipe()
        window.close()
    assert not problems, "\n".join(problems)
