"""Render every kiosk screen to PNG: ``make screenshots`` (``SCREENSHOTS_DIR=...`` to move them).

For each mode (self-check, reception), size (1920×1080, 1280×800), language (vi, en) and
screen (idle, key needed, reading, verifying, result, error) it builds the real window of
:func:`ui.app.build_window` on Qt's offscreen platform (no display needed), drives its
:class:`ui.state.KioskState` to that screen and saves ``QWidget.grab()`` as
``{mode}-{screen}-{lang}-{W}x{H}.png``. Reception's result screen is also drawn for every
other sample card (long addresses, parents, an old ID, a BAC-only chip), as
``reception-result-{card}-{lang}-{W}x{H}.png``, since that is where fields are most at risk
of being cut.

Why drive the state instead of clicking through: the screens render only what the state's
``view()`` says, so setting the state shows exactly what a patient sees, without timing on
the worker thread. The result screen shows a real check-in of the ``default`` sample card
(made-up person) run synchronously through the same pipeline, against the gateway simulator
the demo window starts on loopback; every file lives in a temporary folder removed at exit.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ui.state import Mode
    from ui.strings import Lang

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: (width, height) of the pictures: a 1080p kiosk screen and a 1280×800 tablet.
SIZES: tuple[tuple[int, int], ...] = ((1920, 1080), (1280, 800))
LANGS: tuple[Lang, ...] = ("vi", "en")
MODES: tuple[Mode, ...] = ("self", "reception")
SCREENS = ("idle", "key_needed", "reading", "verifying", "result", "error")
#: Screens only reception has: today's check-ins, manual entry, the PIN and the settings.
RECEPTION_SCREENS = ("today", "manual", "pin", "settings")
#: Screens only self-check has: the queue number after the card left; the department choice
#: (the sample clinic's departments at 18:00: surgery closed, dentistry at the desk); a
#: BAC-only card's ID + birth-date entry.
SELF_SCREENS = ("number", "department", "birth_date")


def screens_of(mode: str) -> tuple[str, ...]:
    """Every screen ``mode`` has, in the order they are rendered."""
    return SCREENS + (RECEPTION_SCREENS if mode == "reception" else SELF_SCREENS)


DEFAULT_DIR = ROOT / "docs" / "screenshots"


def card_outcome(folder: Path, backend: Any, card: str = "default") -> Any:
    """One real check-in of the sample card ``card`` (for the result screen); each card keeps
    its own journal and cache files in ``folder``."""
    from drivers.registry import open_transport
    from drivers.simulated import LinkModel
    from kiosk.app.kiosk import load_trust_store
    from kiosk.cccd import access
    from kiosk.checkin import CheckInPipeline
    from kiosk.emrtd.passwords import MRZKey
    from offline_cache.cache import EligibilityCache
    from offline_cache.crypto import Sealer, load_or_create_key
    from offline_cache.journal import Journal
    from simulators.card.profile import load_profile

    sealer = Sealer(load_or_create_key(folder))
    cache = EligibilityCache(folder / f"shots-{card}-cache.db", sealer, ttl=timedelta(hours=24))
    journal = Journal(folder / f"shots-{card}-journal.db", sealer)
    profile = load_profile(card)
    if profile.chip.mode == "bac":  # a BAC-only chip opens with the MRZ key only
        td1 = profile.person.td1()
        keys: list[Any] = [MRZKey(td1.document_number, td1.date_of_birth, td1.date_of_expiry)]
    else:
        keys = [access.key_from_id(profile.id_number)]
    transport = open_transport(f"sim:{card}", link=LinkModel.zero())
    try:
        with CheckInPipeline(
            backend, cache, journal, trust=load_trust_store([], demo=True, origin="demo")
        ) as p:
            return p.checkin_card(transport, keys)
    finally:
        transport.close()
        cache.close()
        journal.close()


def _steps(window: Any, outcome: Any) -> dict[str, Callable[[], None]]:
    """How to bring ``window``'s state to each screen (from a wiped idle state)."""
    from kiosk.app.messages import message_for
    from kiosk.cccd import access
    from kiosk.checkin import CheckInEvent
    from kiosk.transport import CardRemoved

    state = window.state
    key = access.CAN("034517")

    def number() -> None:  # the card left after a printed ticket: only the number stays
        state.on_outcome(outcome)
        state.on_ticket("printed")
        state.card_removed()

    def birth_date() -> None:  # a CAN on a BAC-only chip: the ID + birth-date entry
        from kiosk.emrtd.errors import UnsupportedProtocol

        state.card_present([key])
        state.on_error(message_for(UnsupportedProtocol("BAC only")))

    def reading() -> None:
        state.card_present([key])  # → reading; the returned action is not sent to the worker
        state.on_event(CheckInEvent("reading", "DG2", 9_000, 14_571))

    def verifying() -> None:
        state.card_present([key])
        state.on_event(CheckInEvent("verified", "verified"))

    def department() -> None:  # several departments: chosen before any number is taken
        import dataclasses
        from datetime import datetime

        from kiosk.app.demo import SAMPLE_DEPARTMENTS
        from kiosk.app.departments import department_options
        from kiosk.checkin import PendingCheckIn
        from offline_cache.journal import VIETNAM_TZ

        pending = dataclasses.replace(
            outcome, checkin_id="", queue_number=0, pending=PendingCheckIn({}, None)
        )
        options = department_options(
            SAMPLE_DEPARTMENTS,
            pending,
            self_check=True,
            at=datetime(2026, 12, 3, 18, 0, tzinfo=VIETNAM_TZ),
            existing={"NHI": (3, "110")},  # this patient already queues at paediatrics
        )
        state.departments = SAMPLE_DEPARTMENTS
        state.on_choice(pending, options)

    return {
        "idle": lambda: None,
        "department": department,
        "key_needed": lambda: state.card_present(None),
        "reading": reading,
        "verifying": verifying,
        "result": lambda: state.on_outcome(outcome),
        "error": lambda: state.on_error(message_for(CardRemoved("removed"))),
        "number": number,
        "birth_date": birth_date,
        "today": window.open_today,
        "manual": state.open_manual,
        "pin": state.open_pin,
        # the doctor's checks of the running demo, run on their thread (waited for below)
        "settings": lambda: (state.open_pin(), state.open_settings(), window.run_checks()),
    }


def _warn_if_cramped(window: Any, screen: str, width: int, height: int) -> None:
    """Say on stderr when the shown screen's layout needs more room than it gets."""
    need = window.stack.currentWidget().minimumSizeHint()
    have = window.stack.size()
    if need.width() > have.width() or need.height() > have.height():
        print(
            f"screenshots: at {width}x{height} the {screen} screen needs "
            f"{need.width()}x{need.height()} but gets {have.width()}x{have.height()}",
            file=sys.stderr,
        )


def _shoot(
    app: Any,
    window: Any,
    steps: dict[str, Callable[[], None]],
    mode: str,
    size: tuple[int, int],
    out_dir: Path,
) -> list[Path]:
    """Every screen of ``window`` in both languages at ``size``; the files written."""
    width, height = size
    # Fixed, so a screen whose layout wants more room is squeezed (and reported) instead of
    # silently growing the picture past the screen.
    window.setFixedSize(width, height)
    window.show()
    written = []
    for lang in LANGS:
        for screen in screens_of(mode):
            window.state.wipe()
            window.state.set_language(lang)  # a patient's wipe brings back Vietnamese
            steps[screen]()
            if window.state.screen != screen or window.state.lang != lang:
                raise RuntimeError(f"could not reach the {screen} screen in {lang}")
            app.processEvents()
            if screen == "today":  # the list comes back from the worker thread
                for _ in range(40):
                    app.processEvents()
                    time.sleep(0.025)
            if screen == "settings":  # the checks come back from the doctor's thread
                for _ in range(600):
                    app.processEvents()
                    if window.settings.checks_note.text() == "":
                        break
                    time.sleep(0.025)
                for _ in range(10):  # the wrapped lines get their height a turn later
                    app.processEvents()
                    time.sleep(0.02)
            _warn_if_cramped(window, screen, width, height)
            path = out_dir / f"{mode}-{screen}-{lang}-{width}x{height}.png"
            picture = window.grab()
            if (picture.width(), picture.height()) != (width, height):
                raise RuntimeError(f"{path.name}: the window is not {width}x{height}")
            if not picture.save(str(path), "PNG"):
                raise OSError(f"cannot write {path}")
            written.append(path)
    return written


def _shoot_cards(
    app: Any,
    window: Any,
    folder: Path,
    backend: Any,
    sizes: Sequence[tuple[int, int]],
    out_dir: Path,
) -> list[Path]:
    """Reception's result for every sample card but ``default`` (drawn with the others)."""
    from simulators.card.profile import list_profiles

    written = []
    for card in sorted(list_profiles()):
        if card == "default":
            continue
        outcome = card_outcome(folder, backend, card)
        for width, height in sizes:
            window.setFixedSize(width, height)
            window.show()
            for lang in LANGS:
                window.state.set_language(lang)
                window.state.wipe()
                window.state.on_outcome(outcome)
                app.processEvents()
                _warn_if_cramped(window, f"result ({card})", width, height)
                path = out_dir / f"reception-result-{card}-{lang}-{width}x{height}.png"
                if not window.grab().save(str(path), "PNG"):
                    raise OSError(f"cannot write {path}")
                written.append(path)
        window.state.wipe()
    return written


def _shoot_large(
    app: Any, window: Any, steps: dict[str, Callable[[], None]], out_dir: Path
) -> list[Path]:
    """Self-check in large-text mode at its largest floor, 1280×800, both languages, as
    ``self-large-{screen}-{lang}-1280x800.png``."""
    from ui.theme import MAX_LARGE_PX

    window.large_text_px = lambda: MAX_LARGE_PX
    window.setFixedSize(1280, 800)
    window.show()
    written = []
    for lang in LANGS:
        for screen in ("idle", "reading", "result", "number"):
            window.state.wipe()
            window.state.set_language(lang)
            window.state.large_text = True
            window._render()
            steps[screen]()
            app.processEvents()
            path = out_dir / f"self-large-{screen}-{lang}-1280x800.png"
            if not window.grab().save(str(path), "PNG"):
                raise OSError(f"cannot write {path}")
            written.append(path)
    window.state.wipe()
    return written


def render(out_dir: Path, *, sizes: Sequence[tuple[int, int]] = SIZES) -> list[Path]:
    """Write every screenshot into ``out_dir``; returns the files written."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from kiosk.config import Config, ReaderConfig
    from ui.app import build_window

    app = QApplication.instance() or QApplication([sys.argv[0]])
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    config = Config(reader=ReaderConfig("sim:default"))
    outcome: Any = None
    with tempfile.TemporaryDirectory(prefix="cccd-kiosk-shots-") as tmp:
        for mode in MODES:
            window, gateway = build_window(
                config, mode=mode, lang="vi", data_dir=Path(tmp) / mode, demo_gateway=True
            )
            try:
                if outcome is None:  # one check-in (queue number 1) for every picture
                    backend = gateway.client() if gateway is not None else None
                    outcome = card_outcome(Path(tmp), backend)
                steps = _steps(window, outcome)
                for width, height in sizes:
                    written += _shoot(app, window, steps, mode, (width, height), out_dir)
                window.state.wipe()
                if mode == "reception":
                    backend = gateway.client() if gateway is not None else None
                    written += _shoot_cards(app, window, Path(tmp), backend, sizes, out_dir)
                else:
                    written += _shoot_large(app, window, steps, out_dir)
            finally:
                window.close()
                if gateway is not None:
                    gateway.stop()
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """``python scripts/screenshots.py [--out DIR]``; DIR defaults to $SCREENSHOTS_DIR, else
    docs/screenshots."""
    p = argparse.ArgumentParser(description="Render every kiosk screen to PNG (offscreen).")
    p.add_argument(
        "--out",
        type=Path,
        default=Path(os.environ.get("SCREENSHOTS_DIR") or DEFAULT_DIR),
        help="output folder (default: $SCREENSHOTS_DIR, else docs/screenshots)",
    )
    args = p.parse_args(argv)
    files = render(args.out)
    print(f"screenshots: {len(files)} PNG files in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
