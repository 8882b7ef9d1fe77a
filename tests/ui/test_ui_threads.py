"""Answers from the worker thread reach the window on the GUI thread: widgets touched from
another thread corrupt Qt's state (warnings "Cannot create children for a parent that is in a
different thread", then crashes). A signal connected to a lambda or to the plain-Python state
runs on the emitting thread; the window connects its own methods, which Qt queues."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading

from pytestqt.qtbot import QtBot

from ui.app import KioskWindow


def _from_another_thread(emit: object) -> None:
    t = threading.Thread(target=emit)  # type: ignore[arg-type]
    t.start()
    t.join()


def test_the_ticket_answer_and_a_failed_list_arrive_on_the_gui_thread(
    qtbot: QtBot, kiosk: KioskWindow
) -> None:
    seen: list[tuple[str, threading.Thread]] = []
    kiosk.state.on_ticket = lambda result: seen.append(("ticket", threading.current_thread()))  # type: ignore[method-assign]
    kiosk.today.show_message = lambda text: seen.append(("list", threading.current_thread()))  # type: ignore[method-assign]
    _from_another_thread(lambda: kiosk.worker.worker.ticket.emit("printed"))
    _from_another_thread(lambda: kiosk.jobs.list_failed.emit())
    qtbot.waitUntil(lambda: len(seen) == 2)
    assert sorted(seen, key=lambda x: x[0]) == [
        ("list", threading.main_thread()),
        ("ticket", threading.main_thread()),
    ]
