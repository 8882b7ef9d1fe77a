"""Every kiosk screen fits the window: 1280×800 and 1920×1080, both modes, both languages.

For each screen it checks that no visible widget reaches outside the window, that no two
visible, non-empty labels overlap, that word-wrapped labels get the height their text needs
(nothing clipped), and that every visible button is a touch target of at least
:data:`ui.screens.MIN_TOUCH` px. The result screen shows a real check-in of the ``default``
sample card (the same one ``make screenshots`` draws).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QWidget

from kiosk.config import Config, ReaderConfig
from tests import ROOT
from ui.app import KioskWindow, build_window
from ui.screens import MIN_TOUCH

sys.path.insert(0, str(ROOT / "scripts"))
import screenshots

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SIZES = [(1280, 800), (1920, 1080)]


def _window(qtbot: Any, tmp_path: Path, mode: str) -> KioskWindow:
    window, gateway = build_window(
        Config(reader=ReaderConfig("sim:default")),
        mode=mode,  # type: ignore[arg-type]
        data_dir=tmp_path / mode,
        demo_gateway=False,
        idle_timeout_s=3600,
    )
    assert gateway is None
    qtbot.addWidget(window)
    return window


def _rect(widget: QWidget, window: QWidget) -> QRect:
    """``widget``'s rectangle in ``window``'s coordinates."""
    return QRect(widget.mapTo(window, widget.rect().topLeft()), widget.size())


def _has_content(label: QLabel) -> bool:
    pixmap = label.pixmap()
    return bool(label.text()) or (pixmap is not None and not pixmap.isNull())


def _problems(window: KioskWindow) -> list[str]:
    """What does not fit on the shown screen (empty when the layout is sound)."""
    bounds = window.rect()
    found = []
    widgets = [w for w in window.findChildren(QWidget) if w.isVisible()]
    for w in widgets:
        r = _rect(w, window)
        if r.width() > 0 and r.height() > 0 and not bounds.contains(r):
            found.append(f"{type(w).__name__} {w.objectName()!r} {r} outside {bounds}")
    labels = [w for w in widgets if isinstance(w, QLabel) and _has_content(w)]
    for i, a in enumerate(labels):
        ra = _rect(a, window)
        if a.wordWrap() and a.pixmap().isNull():
            need = a.heightForWidth(a.width())
            if need > a.height():
                found.append(f"{a.text()[:30]!r} needs {need} px of height, has {a.height()}")
        for b in labels[i + 1 :]:
            if a.isAncestorOf(b) or b.isAncestorOf(a):
                continue
            if ra.intersects(_rect(b, window)):
                found.append(f"{a.text()[:30]!r} overlaps {b.text()[:30]!r}")
    buttons = [w for w in widgets if isinstance(w, QAbstractButton) and w.text()]
    for btn in buttons:
        if btn.height() < MIN_TOUCH or btn.width() < MIN_TOUCH:
            found.append(f"button {btn.text()!r} is {btn.width()}x{btn.height()}")
        text_width = btn.fontMetrics().horizontalAdvance(btn.text())
        if text_width > btn.contentsRect().width():
            found.append(f"button {btn.text()!r} cut: {text_width} px of text in {btn.width()}")
    return found


@pytest.mark.parametrize("mode", ["self", "reception"])
def test_every_screen_fits(qtbot: Any, tmp_path: Path, outcome: Any, mode: str) -> None:
    window = _window(qtbot, tmp_path, mode)
    steps = screenshots._steps(window, outcome)
    app = QApplication.instance()
    assert app is not None
    problems: list[str] = []
    try:
        for width, height in SIZES:
            window.setFixedSize(width, height)
            window.show()
            for lang in ("vi", "en"):
                for screen in screenshots.screens_of(mode):
                    window.state.wipe()
                    window.state.set_language(lang)  # a patient's wipe brings back Vietnamese
                    steps[screen]()
                    assert window.state.screen == screen and window.state.lang == lang
                    app.processEvents()
                    where = f"{mode} {screen} {lang} {width}x{height}"
                    problems += [f"{where}: {p}" for p in _problems(window)]
    finally:
        window.state.wipe()
        window.close()
    assert not problems, "\n".join(problems)


def test_result_shows_every_field_once(qtbot: Any, tmp_path: Path, outcome: Any) -> None:
    """Reception packs short fields two to a row; each field still appears exactly once."""
    window = _window(qtbot, tmp_path, "reception")
    try:
        window.setFixedSize(1280, 800)
        window.show()
        window.state.on_outcome(outcome)
        shown = [(k.text(), v.text()) for k, v in window.result.labels if k.isVisible()]
        assert shown == list(window.state.view().lines)
        window.state.wipe()
        assert not any(k.isVisible() or v.text() for k, v in window.result.labels)
    finally:
        window.close()


#: Screens allowed not to fit in large text (none: the English result used to overflow
#: 1280×800 until Done moved under everything and each key above its value).
KNOWN_LARGE_GAPS: frozenset[tuple[str, str, int]] = frozenset()


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_self_check_screen_fits_in_large_text(
    qtbot: Any, tmp_path: Path, outcome: Any, lang: str
) -> None:
    """Large-text mode at its largest (:data:`ui.theme.MAX_LARGE_PX`) still fits every
    self-check screen, and every text a patient reads is at least that large."""
    from PySide6.QtGui import QFontInfo

    from ui.theme import MAX_LARGE_PX

    window = _window(qtbot, tmp_path, "self")
    window.large_text_px = lambda: MAX_LARGE_PX  # type: ignore[method-assign]
    steps = screenshots._steps(window, outcome)
    app = QApplication.instance()
    assert app is not None
    problems: list[str] = []
    gaps: list[str] = []
    try:
        for width, height in SIZES:
            window.setFixedSize(width, height)
            window.show()
            for screen in screenshots.screens_of("self"):
                window.state.wipe()
                window.state.set_language(lang)  # type: ignore[arg-type]
                window.state.large_text = True
                window._render()
                steps[screen]()
                assert window.state.screen == screen and window.state.large_text, screen
                assert window.state.lang == lang, screen
                app.processEvents()
                where = f"large {screen} {lang} {width}x{height}"
                found = [f"{where}: {p}" for p in _problems(window)]
                if (screen, lang, width) in KNOWN_LARGE_GAPS:
                    gaps += found
                    continue
                problems += found
                page = window.stack.currentWidget()
                assert page is not None
                for label in page.findChildren(QLabel):
                    if label.isVisible() and label.text() and not label.text().startswith("<"):
                        px = QFontInfo(label.font()).pixelSize()
                        if px < MAX_LARGE_PX:
                            problems.append(f"{where}: {label.text()[:20]!r} is {px} px")
    finally:
        window.state.wipe()
        window.close()
    assert not problems, "\n".join(problems)
    assert not gaps or KNOWN_LARGE_GAPS, gaps
