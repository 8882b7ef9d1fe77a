"""The reception result names the CSCA that vouched for the card, or the missing CCCD CSCA.

A real check-in of the ``default`` sample card (its PA against the simulator's test CSCA),
shown on the real result screen (pytest-qt, offscreen) at 1280×800 in both languages; the
issuer-unknown case is the same card's SOD re-verified with no trust store. The view's
``extra["trust"]`` is what the reception view brings (see ``ui.screens.result``; the words
come from ``ui.strings.trust_text``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from kiosk.emrtd.pa import PassiveAuthResult, passive_authentication
from tests.ui.test_ui_layout import _problems, _window
from ui.strings import INSTALL_COMMAND, Lang, trust_text

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _unknown(outcome: Any) -> PassiveAuthResult:
    read = outcome.read
    return passive_authentication(read.sod, read.files, None, protected=read.protected)


def test_trust_text_names_the_test_csca_and_its_file(outcome: Any) -> None:
    pa = outcome.authenticity.passive_auth
    assert pa.verdict == "verified"
    assert (
        trust_text(pa, "en") == "Vouched for by CSCA: CSCA Test Vietnam CCCD (VN) — file csca.pem"
    )
    assert trust_text(pa, "vi") == (
        "Bảo chứng bởi CSCA: CSCA Test Vietnam CCCD (VN) — tệp csca.pem"
    )


def test_trust_text_of_an_unknown_issuer_names_csca_vietnam_and_the_command(
    outcome: Any,
) -> None:
    pa = _unknown(outcome)
    assert pa.verdict == "issuer_unknown" and pa.csca_info is None
    langs: tuple[Lang, ...] = ("vi", "en")
    for lang in langs:
        text = trust_text(pa, lang)
        assert "CSCA Vietnam" in text and INSTALL_COMMAND in text
        assert "Vouched" not in text and "Bảo chứng" not in text
    assert trust_text(None, "en") == ""


@pytest.mark.parametrize("case", ["verified", "issuer_unknown"])
def test_reception_result_shows_the_csca_line_and_fits(
    qtbot: Any, tmp_path: Path, outcome: Any, case: str
) -> None:
    pa = outcome.authenticity.passive_auth if case == "verified" else _unknown(outcome)
    window = _window(qtbot, tmp_path, "reception")
    app = QApplication.instance()
    assert app is not None
    problems: list[str] = []
    try:
        window.setFixedSize(1280, 800)
        window.show()
        langs: tuple[Lang, ...] = ("vi", "en")
        for lang in langs:
            window.state.set_language(lang)
            window.state.on_outcome(outcome)
            view = window.state.view()
            text = trust_text(pa, lang)
            view = dataclasses.replace(view, extra={**view.extra, "trust": text})
            window.result.show_view(view, lang)
            app.processEvents()
            assert window.result.trust.isVisible()
            assert window.result.trust.text() == text
            problems += [f"{case} {lang}: {p}" for p in _problems(window)]
            window.state.wipe()
            window.result.wipe()
            assert window.result.trust.text() == "" and not window.result.trust.isVisible()
    finally:
        window.close()
    assert not problems, "\n".join(problems)


def test_a_view_without_trust_text_hides_the_line(qtbot: Any, tmp_path: Path, outcome: Any) -> None:
    window = _window(qtbot, tmp_path, "self")
    try:
        window.show()
        window.state.on_outcome(outcome)
        assert "trust" not in window.state.view().extra
        assert not window.result.trust.isVisible()
    finally:
        window.close()


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_state_gives_reception_the_csca_line_and_self_check_none(
    outcome: Any, lang: Lang
) -> None:
    """The state machine (what the window renders) fills ``extra["trust"]`` for reception
    from the real outcome's PA result; a patient at self-check never gets it."""
    from kiosk.cccd.access import CAN
    from ui.state import KioskState

    for mode in ("reception", "self"):
        s = KioskState(mode=mode, lang=lang)
        s.card_present([CAN("034517")])
        s.on_outcome(outcome)
        extra = s.view().extra
        if mode == "reception":
            assert extra.get("trust") == trust_text(outcome.authenticity.passive_auth, lang)
            assert "CSCA" in extra["trust"]
        else:
            assert "trust" not in extra
