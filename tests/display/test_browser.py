"""The calling display's page in a real headless browser: Debian's Chromium driven by
Playwright (PyPI ``playwright``, its driver only — no browser download: the system
``/usr/bin/chromium`` through ``executable_path``).

A desk calls the next number through the application layer; the page, fed by the server-sent
event stream, must show it for that room within a generous wait — and the page's text must
never hold a name or an ID from the journal.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.app.kiosk import Kiosk
from kiosk.display.server import DisplayServer
from tests.display.conftest import PEOPLE, check_in_everyone, serve

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: The flags a sandboxed root machine with no network needs (no background connections).
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--autoplay-policy=no-user-gesture-required",
]
WAIT_MS = 20_000  # a generous bound for the page to show a call (not a speed assertion)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (scripts/bootstrap.sh BROWSER_DEBS)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield b
        finally:
            b.close()


def test_the_page_shows_a_call_within_the_wait(
    browser: Any, kiosk: Kiosk, display: DisplayServer
) -> None:
    check_in_everyone(kiosk, "NOI")
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(display.url)
        noi = page.locator('section.dept[data-department="NOI"]')
        # before any call: the department, its room, nobody called, the next numbers
        noi.get_by_text("Tiếp theo / Next:").wait_for(timeout=WAIT_MS)
        assert "Khoa Nội" in noi.inner_text() and "Phòng 203 / Room 203" in noi.inner_text()
        assert noi.locator(".number").count() == 0
        assert noi.locator(".next .n").all_inner_texts() == ["1", "2", "3"]

        called = kiosk.call_next("NOI")  # the desk, through the application layer
        assert called is not None and called.number == 1
        noi.locator('.number[data-number="1"]').wait_for(timeout=WAIT_MS)
        assert noi.locator(".desk").first.inner_text() == "Quầy 1"
        assert noi.locator(".next .n").all_inner_texts() == ["2", "3"]  # same render
        second = kiosk.call_next("NOI")
        assert second is not None
        noi.locator('.number[data-number="2"]').wait_for(timeout=WAIT_MS)
        assert noi.locator('.number[data-number="1"]').count() == 0  # served: off the board
        assert page.locator("#status").get_attribute("data-state") == "live"
        # the other department is on the board, untouched
        nhi = page.locator('section.dept[data-department="NHI"]')
        assert "Phòng 105 / Room 105" in nhi.inner_text()

        text = page.inner_text("body")
        html = page.content()
        for id_number, name in PEOPLE:
            for shown in (text, html):
                assert id_number not in shown and id_number[-6:] not in shown
                assert name not in shown and name.split()[-1] not in shown
        assert errors == []
        shot = os.environ.get("DISPLAY_SCREENSHOT")
        if shot:  # for a person to look at (the README's picture)
            page.screenshot(path=shot)
    finally:
        page.close()


def test_the_page_asks_for_the_spoken_call_when_sound_is_on(
    browser: Any, kiosk: Kiosk, display_kiosk: Kiosk
) -> None:
    """With a voice on the server and sound allowed on the TV (``?sound=on``, what a kiosk
    browser started with ``--autoplay-policy=no-user-gesture-required`` is given), each new
    call is asked of ``/api/announce`` and spoken — the number and room, nothing else."""
    from tests.display.test_server import RecordingVoice

    check_in_everyone(kiosk, "NOI")
    voice = RecordingVoice()
    server = serve(display_kiosk, voice)
    page = browser.new_page()
    try:
        page.goto(server.url + "?sound=on")
        page.locator('section.dept[data-department="NOI"] .next .n').first.wait_for(timeout=WAIT_MS)
        assert voice.said == []  # what was called before the page opened is not announced
        kiosk.call_next("NOI")
        page.locator('.number[data-number="1"]').wait_for(timeout=WAIT_MS)
        deadline = WAIT_MS / 50
        while voice.said == [] and deadline > 0:
            page.wait_for_timeout(50)
            deadline -= 1
        assert voice.said == ["Mời số 1 đến phòng 203"]
        assert page.locator("#sound").is_hidden()  # sound already on: no button
    finally:
        page.close()
        server.stop()
