"""The kiosk application: ``python -m ui.app [--config FILE] [--mode reception|self]
[--lang vi|en] [--windowed] [--idle-timeout S]``.

The flags override the config's ``[ui]`` section (mode, language, idle timeout, full screen).

The window is one front-end of :class:`kiosk.app.Kiosk`, built from the same configuration
as the command line and the terminal kiosk. With no config (or a ``sim:`` reader) that is
the demo: the simulated reader with the tester panel, the BHXH gateway simulator on loopback,
the demo's own data folder. :class:`KioskWindow` wires :class:`ui.state.KioskState` to the
screens and to the :class:`ui.worker.WorkerHandle`; the idle timer wipes whatever is shown.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk import sdnotify
from kiosk.app.demo import DemoGateway
from kiosk.app.errors import UsageError
from kiosk.app.kiosk import Kiosk
from kiosk.app.messages import UserMessage, message_for
from kiosk.app.pin import PinGate
from kiosk.app.settings import Settings
from kiosk.checkin import CheckInEvent, CheckInOutcome
from kiosk.config import Config
from ui.checks import DoctorHandle
from ui.header import Header, offline_notice
from ui.scan import WedgeFilter
from ui.screens import STYLE, button
from ui.screens.birth_date import BirthDateScreen
from ui.screens.department import DepartmentScreen
from ui.screens.error import ErrorScreen
from ui.screens.idle import IdleScreen
from ui.screens.key_entry import KeyEntryScreen
from ui.screens.manual import ManualEntryScreen, MrzEntry
from ui.screens.number import NumberScreen
from ui.screens.reading import ReadingScreen
from ui.screens.reception import (
    ReceptionJobs,
    ReceptionRequests,
    TodayScreen,
    today,
    wire_calls,
)
from ui.screens.result import ResultScreen
from ui.screens.settings import PinScreen, SettingsScreen
from ui.state import (
    DEFAULT_IDLE_TIMEOUT_S,
    Action,
    AssignNumber,
    DecideAuthenticity,
    KioskState,
    Mode,
    ScreenView,
    StartBhyt,
    StartManual,
    StartRead,
)
from ui.strings import Lang, t
from ui.tester import TesterPanel
from ui.timeouts import CardReminder, TimeoutWarning
from ui.voice import Speaker, prompt_for
from ui.worker import WorkerHandle

#: Seconds the queue number stays large on screen after the card left (self-check).
NUMBER_HOLD_S = 8.0
#: How often Today asks whether the shared queue changed (ms; a version read, no rows).
TODAY_POLL_MS = 2000
#: Staff screens: their fields get typed keys as they are (no wedge-scan routing).
_STAFF_SCREENS = frozenset({"today", "manual", "pin", "settings"})
#: Events that count as someone using the kiosk (they restart the idle timer).
_ACTIVITY = (
    QEvent.Type.KeyPress,
    QEvent.Type.MouseButtonPress,
    QEvent.Type.TouchBegin,
)


logger = logging.getLogger(__name__)


class KioskWindow(QMainWindow):
    """The main window: screens on the left, the tester panel (simulated reader) on the right."""

    def __init__(
        self,
        kiosk: Kiosk,
        *,
        mode: Mode = "self",
        lang: Lang = "vi",
        idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S,
        pin: PinGate | None = None,
    ) -> None:
        super().__init__()
        self.state = KioskState(
            mode=mode,
            lang=lang,
            on_change=self._render,
            clinic_names=kiosk.config.clinic_names(),
            large_text=kiosk.config.ui.large_text,
        )
        self.kiosk = kiosk
        kiosk.actor = "reception"  # the audit trail: what staff do on these screens
        self.config = kiosk.config
        self.idle_timeout_s = idle_timeout_s
        self.pin = pin or PinGate.from_sources(kiosk.config.ui.operator_pin_hash, kiosk.data_dir)
        self.reader = kiosk.reader
        self.simulated = kiosk.demo
        gateway = kiosk.gateway
        self.worker = WorkerHandle(kiosk)
        self.worker.worker.progress.connect(self._on_progress)
        self.worker.worker.outcome.connect(self._on_outcome)
        self.worker.worker.failed.connect(self._on_failed)
        # A QObject's method as the slot: queued to the GUI thread (the state is plain Python,
        # so connecting it directly would run it, and the render, on the worker's thread).
        self.worker.worker.ticket.connect(self._on_ticket)
        self.worker.worker.choose.connect(self._on_choice)
        self.state.departments = kiosk.departments
        self.state.self_check_photo = kiosk.config.ui.self_check_photo
        self._transport: Any = None
        self.setStyleSheet(STYLE)

        self.idle = IdleScreen()
        self.key_entry = KeyEntryScreen()
        self.reading = ReadingScreen()
        self.result = ResultScreen()
        self.error = ErrorScreen()
        self.today = TodayScreen()
        self.manual = ManualEntryScreen()
        self.pin_screen = PinScreen()
        self.settings = SettingsScreen()
        self.number = NumberScreen()
        self.birth = BirthDateScreen()
        self.department = DepartmentScreen()
        self.stack = QStackedWidget()
        for w in (
            self.idle, self.key_entry, self.reading, self.result, self.error, self.today,
            self.manual, self.pin_screen, self.settings, self.number, self.department,
        ):  # fmt: skip
            self.stack.addWidget(w)
        self.stack.addWidget(self.birth)  # a BAC-only card in self-check: ID + birth date
        self.birth.submitted.connect(lambda text: self._dispatch(self.state.submit_birth(text)))
        self.birth.cancelled.connect(self.state.cancel)
        self.department.chosen.connect(self.choose_department)
        self.department.cancelled.connect(self.state.cancel)
        self.result.selector.chosen.connect(self.choose_department)
        self.idle.scanned.connect(self._scan)
        self.key_entry.submitted.connect(self._scan)
        self.key_entry.cancelled.connect(self.state.cancel)
        self.result.done.connect(self.state.cancel)
        self.result.decided.connect(lambda ok: self._dispatch(self.state.decide(ok)))
        self.error.retry.connect(self.state.retry)
        # MRZ entry on the key screen (reception mode only; a wedge scanner types 3 lines)
        self.mrz = MrzEntry()
        self.mrz.submitted.connect(self._scan)
        key_layout = self.key_entry.layout()
        assert key_layout is not None
        key_layout.addWidget(self.mrz)

        # reception: today's check-ins, export, manual entry (journal work on the worker thread)
        self.jobs = ReceptionJobs(kiosk)
        self.jobs.moveToThread(self.worker.thread)
        self.requests = ReceptionRequests()
        self.requests.connect_to(self.jobs)
        wire_calls(self.today, self.requests, self.jobs, kiosk.departments)
        self.jobs.listed.connect(self._on_listed)
        self.jobs.storage_notice.connect(self._on_storage_notice)
        # Today follows the shared queue by itself (another desk's call, another kiosk's
        # check-in): the board's version is polled on the worker, the list redrawn on change.
        self._board_version: str | None = None
        self.today_poll = QTimer(self)
        self.today_poll.setInterval(TODAY_POLL_MS)
        self.today_poll.timeout.connect(self._poll_board)
        self.today_poll.start()
        self.jobs.board_version.connect(self._on_board_version)
        self.jobs.listed_at.connect(self._on_listed_at)
        self.jobs.list_failed.connect(self._list_failed)  # queued: a method, not a lambda
        self.jobs.outcome.connect(self._on_outcome)
        self.jobs.failed.connect(self._on_failed)
        self.jobs.choose.connect(self._on_choice)
        self.jobs.decision_done.connect(self._on_decision)
        self.jobs.exported.connect(self._on_exported)
        self.today.search_changed.connect(self.refresh_today)
        self.today.export_requested.connect(self.export_today)
        self.today.reprint_requested.connect(self.requests.reprint.emit)
        self.jobs.reprinted.connect(self._on_reprinted)
        self.today.back.connect(self.state.cancel)
        self.manual.submitted.connect(self._submit_manual)
        self.manual.cancelled.connect(self.state.cancel)
        self.pin_screen.submitted.connect(self.try_pin)
        self.pin_screen.cancelled.connect(self.state.cancel)
        self.settings.mode_requested.connect(self._set_mode)
        self.settings.closed.connect(self.state.cancel)
        self.settings.quit_requested.connect(self.request_quit)
        # the doctor's checks for the settings screen, on a thread of their own
        self.doctor = DoctorHandle(kiosk)
        self.doctor.job.done.connect(self._on_checks)
        self.settings.recheck_requested.connect(self.run_checks)
        #: Set by :func:`show` for the full-screen kiosk: closes other than
        #: :meth:`request_quit` are refused.
        self.locked_down = False
        self._quit_requested = False
        self._export_path: Path | None = None

        self.lang_button = button()
        self.lang_button.setObjectName("lang_toggle")
        self.lang_button.clicked.connect(self.state.toggle_language)
        self.today_button = button()
        self.today_button.setObjectName("nav_today")
        self.today_button.clicked.connect(self.open_today)
        self.manual_button = button()
        self.manual_button.setObjectName("nav_manual")
        self.manual_button.clicked.connect(self.state.open_manual)
        self.settings_button = button()
        self.settings_button.setObjectName("nav_settings")
        self.settings_button.clicked.connect(self.state.open_pin)
        self.large_button = button()
        self.large_button.setObjectName("large_text")
        self.large_button.clicked.connect(self.state.toggle_large_text)
        # Spoken prompts ([voice]): a repeat button and a volume a patient may turn up.
        self.speaker: Speaker | None = None
        if kiosk.config.voice.enabled:
            self.speaker = Speaker.from_command(
                kiosk.config.voice.player, volume=kiosk.config.voice.volume
            )
        self._spoken: tuple[str, Lang] | None = None
        self._voice_screen: str | None = None
        self.repeat_button = button()
        self.repeat_button.setObjectName("voice_repeat")
        self.repeat_button.clicked.connect(self.repeat_prompt)
        self.volume_button = button()
        self.volume_button.setObjectName("voice_volume")
        self.volume_button.clicked.connect(self.louder)
        ui_config = kiosk.config.ui
        self.header = Header(ui_config.hospital or kiosk.config.printer.hospital, ui_config.logo)
        self.header.status = self._connection_notice
        top = QHBoxLayout()
        top.addWidget(self.today_button)
        top.addWidget(self.manual_button)
        top.addStretch(1)
        top.addWidget(self.repeat_button)
        top.addWidget(self.volume_button)
        top.addWidget(self.large_button)
        top.addWidget(self.settings_button)
        top.addWidget(self.lang_button)
        left = QVBoxLayout()
        left.addWidget(self.header)
        left.addLayout(top)
        left.addWidget(self.stack, 1)
        # Banners under the screens (ui/timeouts.py): the idle-wipe countdown, the card reminder.
        self.timeout_warning = TimeoutWarning()
        self.timeout_warning.extended.connect(self._more_time)
        self.timeout_warning.expired.connect(self.state.idle_timeout)
        self.card_reminder = CardReminder()
        left.addWidget(self.card_reminder)
        left.addWidget(self.timeout_warning)
        self._shown_screen = ""
        row = QHBoxLayout()
        row.addLayout(left, 1)
        self.tester: TesterPanel | None = None
        if self.simulated:
            # the configured sample card (sim:CARD) is the one in the slot at first
            card = kiosk.config.reader.spec.name.partition("+")[0]
            self.tester = TesterPanel(gateway, card=card, printer=kiosk.printer_standin)
            self.tester.setFixedWidth(320)
            self.tester.tapped.connect(self.card_tapped)
            self.tester.removed.connect(self.card_removed)
            row.addWidget(self.tester)
        from ui.readers import ReaderWatcher

        # Real readers (pcsc, nfc, auto) report cards arriving and leaving; sim: does nothing.
        self.watcher = ReaderWatcher(self.reader, parent=self)
        if self.watcher.active:
            # the window's own methods as slots: queued to the GUI thread (a lambda or the
            # plain-Python state would run on the watcher's thread and touch the widgets there)
            self.watcher.card_present.connect(self._card_present)
            self.watcher.card_removed.connect(self.card_removed)
            self.watcher.reader_problem.connect(self._reader_problem)
            self.watcher.reader_ready.connect(self._reader_ready)
            self.watcher.start()
        central = QWidget()
        central.setLayout(row)
        self.setCentralWidget(central)

        #: How long the queue number stays after a self-check patient took the card away.
        self.number_timer = QTimer(self)
        self.number_timer.setSingleShot(True)
        self.number_timer.setInterval(int(NUMBER_HOLD_S * 1000))
        self.number_timer.timeout.connect(self.state.number_timeout)
        #: How long a self-check BHYT-QR result stays (no card leaves to end it).
        self.result_timer = QTimer(self)
        self.result_timer.setSingleShot(True)
        self.result_timer.setInterval(int(kiosk.config.ui.result_timeout_s * 1000))
        self.result_timer.timeout.connect(self.state.result_timeout)
        self.idle_timer = QTimer(self)
        self.idle_timer.setSingleShot(True)
        self.idle_timer.setInterval(int(idle_timeout_s * 1000))
        self.idle_timer.timeout.connect(self._idle_expired)
        app = QApplication.instance()
        if app is not None:  # typing or touching counts as activity (manual entry, search)
            app.installEventFilter(self)
        # Large-text mode scales these sheets (the stack carries the window's own sheet so the
        # screens without one grow too; the tester panel and the nav buttons stay as they are).
        self._base_sheets: dict[QWidget, str] = {self.stack: STYLE}
        for i in range(self.stack.count()):
            screen = self.stack.widget(i)
            if screen is not None and screen.styleSheet():
                self._base_sheets[screen] = screen.styleSheet()
        self._text_floor = 0
        # A wedge scanner's key bursts go to the scan whatever has focus (ui/scan.py).
        self.wedge = WedgeFilter(self._wedge_accepts, self)
        self.wedge.scanned.connect(self._scan)
        if app is not None:
            app.installEventFilter(self.wedge)
        self._render()

    def _wedge_accepts(self, widget: QWidget) -> bool:
        """Whether keys for ``widget`` may be a wedge scan: a patient screen of this window,
        not the tester panel, not a multi-line field (``raw_keys``)."""
        if self.state.screen in _STAFF_SCREENS or widget.window() is not self:
            return False
        if self.tester is not None and (widget is self.tester or self.tester.isAncestorOf(widget)):
            return False
        return not widget.property("raw_keys")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Restart a running idle timer on any key press or touch in the kiosk."""
        if self.idle_timer.isActive() and event.type() in _ACTIVITY:
            self.idle_timer.start()
        return False

    def _idle_expired(self) -> None:
        """The idle timer ran out: warn with a "More time" countdown first when there is
        something to wipe (``[ui] warning_s``), else wipe (back to the configured mode)."""
        s = self.state
        nothing_shown = s.screen == "idle" or (s.screen == "error" and s.error is s.reader_fault)
        seconds = self.config.ui.warning_s
        if seconds <= 0 or s.busy or nothing_shown:
            s.idle_timeout()
            return
        self.idle_timer.stop()  # the countdown runs instead
        self.timeout_warning.begin(int(seconds + 0.999), s.lang)

    def _more_time(self) -> None:
        """The patient pressed "More time": the screen stays for another idle period."""
        self.idle_timer.start()

    # ---- inputs --------------------------------------------------------------------------

    def card_tapped(self, transport: Any, keys: Sequence[Any] | None) -> None:
        """A card entered the field (from the tester panel or a reader driver)."""
        if self.state.busy:
            return
        self._transport = transport
        self._dispatch(self.state.card_present(keys))

    def _card_present(self, card: Any) -> None:
        """The reader watcher saw a card (on the GUI thread)."""
        self.card_tapped(card, None)

    def _reader_ready(self) -> None:
        """The reader works again (on the GUI thread)."""
        self.state.on_reader_ready()

    def _list_failed(self) -> None:
        """Today's list could not be read (on the GUI thread)."""
        self.today.show_message(t("today.list_failed", self.state.lang))

    def _reader_problem(self, exc: BaseException) -> None:
        """The watcher says the reader cannot be used: show what to do (plug it in, start
        pcscd…) from the error table; the log gets the class name only."""
        logger.warning("reader problem: %s", type(exc).__name__)
        self.state.on_reader_problem(message_for(exc))

    def card_removed(self) -> None:
        """The card left the field."""
        self._transport = None
        self.state.card_removed()

    def _scan(self, text: str) -> None:
        self._dispatch(self.state.scan(text))

    def choose_department(self, code: str) -> None:
        """The patient (self-check) or staff (reception) chose department ``code``."""
        self._dispatch(self.state.choose_department(code))

    def _submit_manual(self, id_number: str, full_name: str, birth_date: str) -> None:
        self._dispatch(self.state.submit_manual(id_number, full_name, birth_date))

    def open_today(self) -> None:
        """Show today's check-ins (reception mode) and load them from the journal."""
        if self.state.open_today():
            self.refresh_today()

    def _poll_board(self) -> None:
        """Every few seconds while Today shows: ask the worker for the board's version."""
        if self.state.screen == "today" and self.isVisible():
            self.requests.poll_version.emit()

    def _on_board_version(self, version: str) -> None:
        """Another desk called a number or a kiosk checked someone in: list again."""
        if self.state.screen == "today" and self._board_version not in (None, version):
            self._board_version = version
            self.refresh_today()

    def _on_listed_at(self, version: str) -> None:
        self._board_version = version

    def refresh_today(self, text: str | None = None) -> None:
        """Ask the worker for today's check-ins matching the search box (or ``text``)."""
        self.requests.list_today.emit(self.today.search.text() if text is None else text)

    @property
    def export_folder(self) -> Path:
        """Where "Export" writes: ``[ui] export_dir``, else ``exports`` in the data folder.
        A fixed folder, never a file dialog: a public kiosk must not browse the disk."""
        configured = self.config.ui.export_dir
        return Path(configured).expanduser() if configured else self.kiosk.data_dir / "exports"

    def export_today(self, path: str | Path | None = None) -> None:
        """Write today's check-ins as CSV to ``path``, by default ``checkins-DATE.csv`` in
        :attr:`export_folder` (created owner-only)."""
        if path is None:
            folder = self.export_folder
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            path = folder / f"checkins-{today().isoformat()}.csv"
        self._export_path = Path(path)
        self.requests.export_today.emit(str(path))

    def try_pin(self, pin: str) -> None:
        """An operator PIN typed on the prompt: open the settings, or say why not."""
        was_locked = self.pin.locked_for() > 0
        result = self.pin.check(pin)
        lang = self.state.lang
        if result == "ok":
            self.state.open_settings()
            self.run_checks()
        elif result == "wrong":
            self.kiosk.audit("pin.failed", actor="operator", tries_left=self.pin.tries_left)
            self.state.pin_refused(t("pin.wrong", lang, n=self.pin.tries_left))
        elif result == "locked":
            seconds = max(1, int(self.pin.locked_for() + 0.999))
            if was_locked:  # typed while the prompt is locked: refused unchecked
                self.kiosk.audit("pin.failed", actor="operator", while_locked=True)
            else:
                self.kiosk.audit("pin.lockout", actor="operator", locked_s=seconds)
            self.state.pin_refused(t("pin.locked", lang, n=seconds))
        else:
            self.state.pin_refused(t("pin.unset", lang))

    def run_checks(self) -> None:
        """Run the doctor's checks again for the settings screen (off the GUI thread)."""
        if self.state.screen == "settings":
            self.settings.show_checking(self.state.lang)
            self.doctor.run()

    def _on_checks(self, checks: list[Any]) -> None:
        if self.state.screen == "settings":  # a late report for a closed screen is dropped
            self.settings.show_checks(checks, self.state.lang)

    def _set_mode(self, mode: str) -> None:
        if mode in ("self", "reception") and self.state.screen == "settings":
            before = self.state.mode
            self.state.set_mode(cast(Mode, mode))
            if before != mode:
                self.kiosk.audit(
                    "settings.mode",
                    actor="operator",
                    target="ui.mode",
                    **{"from": before, "to": mode},
                )

    def _on_listed(self, rows: list[dict[str, Any]]) -> None:
        if self.state.screen == "today":  # rows are personal data: only while shown
            self.today.show_rows(rows)

    def _connection_notice(self, lang: Lang) -> str:
        """The header's staff notice: the shared database unreachable, since when, how
        many check-ins wait to sync (reception only: a patient's number stays valid)."""
        if self.state.mode != "reception":
            return ""
        return offline_notice(self.kiosk.connection, lang)

    def _on_storage_notice(self, notice: tuple[int, str | None]) -> None:
        """Tell staff on the Today screen what the storage set aside or works without."""
        if self.state.screen != "today":
            return
        quarantined, cache_problem = notice
        lang = self.state.lang
        parts = [t("today.quarantined", lang, n=quarantined)] if quarantined else []
        if cache_problem:
            parts.append(t("today.cache_problem", lang))
        self.today.show_message(" · ".join(parts))

    def _on_reprinted(self, result: object) -> None:
        if self.state.screen != "today":
            return
        lang = self.state.lang
        if result == "printed":
            self.today.show_message(t("ticket.reprinted", lang))
        elif isinstance(result, UserMessage):
            self.today.show_message(f"⚠ {result.title(lang)}. {result.action(lang)}")

    def _on_exported(self, ok: bool) -> None:
        if self.state.screen == "today":
            text = t("today.exported" if ok else "today.export_failed", self.state.lang)
            if ok and self._export_path is not None:
                text = f"{text}: {self._export_path}"
            self.today.show_message(text)

    def _dispatch(self, action: Action | None) -> None:
        if isinstance(action, StartRead):
            # The tapped card (tester panel, reader watcher), else the configured reader.
            self.worker.read_card(
                self._transport, action.keys, photo=action.photo, known=action.known
            )
        elif isinstance(action, StartBhyt):
            self.worker.checkin_bhyt(action.text)
        elif isinstance(action, StartManual):
            self.requests.manual.emit(action)
        elif isinstance(action, AssignNumber):
            self.worker.assign(action.outcome, action.code)
        elif isinstance(action, DecideAuthenticity):
            self.requests.decide.emit(action.checkin_id, action.accepted)

    # ---- worker --------------------------------------------------------------------------

    def _on_progress(self, event: CheckInEvent) -> None:
        self.state.on_event(event)

    def _on_outcome(self, outcome: CheckInOutcome) -> None:
        shown = self.state.on_outcome(outcome)  # False: abandoned during the look-up
        failed = outcome.authenticity is not None and outcome.authenticity.failed
        if shown and self.kiosk.prints_tickets and not failed:  # a forged card gets none
            self.state.on_ticket("printing")
            self.worker.print_ticket(outcome.checkin_id)  # the worker's answer follows
        if self.state.mode == "reception":
            self.refresh_today()  # the list is current whenever it is next shown

    def _on_decision(self, checkin_id: str, accepted: bool) -> None:
        """A decision on a failed card was journaled: an accepted one gets its ticket."""
        if self.state.shown_checkin != checkin_id:
            return  # the result has gone meanwhile (the next patient)
        if accepted and self.kiosk.prints_tickets:
            self.state.on_ticket("printing")
            self.worker.print_ticket(checkin_id)

    def _on_ticket(self, result: str | UserMessage) -> None:
        """The printer's answer for the check-in shown (on the GUI thread)."""
        self.state.on_ticket(result)

    def _on_choice(self, outcome: CheckInOutcome, options: Any) -> None:
        """A pending check-in: the department is chosen before any number is taken."""
        self.state.on_choice(outcome, options)

    def _on_failed(self, message: UserMessage) -> None:
        if message.key == "card_removed":
            self._transport = None
            if self.simulated:
                self.state.card_in_field = False
        self.state.on_error(message)

    # ---- rendering -----------------------------------------------------------------------

    def _speak(self, view: ScreenView, lang: Lang, reception: bool) -> None:
        """Say the screen's prompt when it is new (self-check only; ui/voice.py)."""
        assert self.speaker is not None
        if view.screen == "idle" and self._voice_screen not in (None, "idle"):
            self.speaker.reset()  # the next patient starts at the configured volume
        self._voice_screen = view.screen
        text = "" if reception else prompt_for(view)
        if (text, lang) == self._spoken:
            return
        self._spoken = (text, lang)
        self.speaker.say(text, lang)

    def repeat_prompt(self) -> None:
        """Say the current screen's prompt again."""
        if self.speaker is not None and self._spoken is not None and self._spoken[0]:
            self.speaker.say(*self._spoken)

    def louder(self) -> None:
        """Turn the prompts up one step (back to the quietest after the loudest)."""
        if self.speaker is not None:
            self.speaker.louder()
            self._render()
            self.repeat_prompt()

    def large_text_px(self) -> int:
        """Large-text mode's smallest font size on this screen (:mod:`ui.theme`): from
        ``[ui] screen_inches`` when configured, else the display's reported physical DPI."""
        from ui import theme

        inches = self.config.ui.screen_inches
        screen = self.screen()
        if inches:
            size = screen.geometry() if screen is not None else self.geometry()
            ppmm = theme.px_per_mm(size.width(), size.height(), inches)
        else:
            dpi = screen.physicalDotsPerInch() if screen is not None else 96.0
            ppmm = dpi / 25.4
        return theme.large_text_px(ppmm)

    def _apply_text_size(self, large: bool) -> None:
        """Scale every patient screen's sheet for large-text mode (or back)."""
        floor = self.large_text_px() if large else 0
        if floor == self._text_floor:
            return
        from ui.theme import enlarged_sheet

        self._text_floor = floor
        for widget, sheet in self._base_sheets.items():
            widget.setStyleSheet(enlarged_sheet(sheet, floor))
        self.result.text_floor = floor
        self.department.text_floor = floor

    def _render(self) -> None:
        s = self.state
        view = s.view()
        lang = s.lang
        self.setWindowTitle(t("app.title", lang))
        self.lang_button.setText(t("lang.toggle", lang))
        reception = s.mode == "reception"
        self.today_button.setText(t("nav.today", lang))
        self.manual_button.setText(t("nav.manual", lang))
        self.settings_button.setText(t("nav.settings", lang))
        self.large_button.setText(t("nav.normal_text" if s.large_text else "nav.large_text", lang))
        self.large_button.setVisible(not reception)
        speaks = self.speaker is not None and not reception
        self.repeat_button.setVisible(speaks)
        self.volume_button.setVisible(speaks)
        if self.speaker is not None:
            self.repeat_button.setText(t("voice.repeat", lang))
            self.volume_button.setText(t("voice.volume", lang, n=self.speaker.volume))
            self._speak(view, lang, reception)
        self._apply_text_size(s.large_text and not reception)
        self.today_button.setVisible(reception)
        self.manual_button.setVisible(reception)
        self.mrz.setVisible(reception)
        self.mrz.set_language(lang)
        self.header.set_language(lang)
        if self.tester is not None:
            self.tester.set_language(lang)
        if view.screen != "result":
            self.result.wipe()
        if view.screen != "department":
            self.department.wipe()
        if view.screen != "key_needed":
            self.key_entry.wipe()
            self.mrz.wipe()
        if view.screen != "today":
            self.today.wipe()
        if view.screen not in ("manual", "verifying"):
            self.manual.wipe()
        if view.screen != "pin":
            self.pin_screen.wipe()
        if view.screen != "birth_date":
            self.birth.wipe()
        else:
            self.birth.show_view(view, lang)
            self.stack.setCurrentWidget(self.birth)
        if view.screen != "settings":
            self.settings.wipe()
        if view.screen == "idle":
            self.idle.show_view(view)
            self.stack.setCurrentWidget(self.idle)
        elif view.screen == "key_needed":
            self.key_entry.show_view(view, lang)
            self.stack.setCurrentWidget(self.key_entry)
        elif view.screen in ("reading", "verifying"):
            self.reading.show_view(view, lang)
            self.stack.setCurrentWidget(self.reading)
        elif view.screen == "result":
            self.result.show_view(view, lang)
            self.stack.setCurrentWidget(self.result)
        elif view.screen == "today":
            self.today.show_view(view, lang)
            self.stack.setCurrentWidget(self.today)
        elif view.screen == "manual":
            self.manual.show_view(view, lang)
            self.stack.setCurrentWidget(self.manual)
        elif view.screen == "pin":
            self.pin_screen.show_view(view, lang)
            self.stack.setCurrentWidget(self.pin_screen)
        elif view.screen == "settings":
            self.settings.show_settings(
                view,
                lang,
                config=self.config,
                reader=self.reader,
                mode=s.mode,
                idle_timeout_s=self.idle_timeout_s,
                demo_gateway=self.kiosk.gateway.url if self.kiosk.gateway else None,
            )
            self.stack.setCurrentWidget(self.settings)
        elif view.screen == "error":
            self.error.show_view(view, lang)
            self.stack.setCurrentWidget(self.error)
        if view.screen == "department":
            self.department.show_view(view, lang)
            self.stack.setCurrentWidget(self.department)
        if view.screen == "number":
            self.number.show_view(view)
            self.stack.setCurrentWidget(self.number)
            if not self.number_timer.isActive():
                self.number_timer.start()
        else:
            self.number.wipe()
            self.number_timer.stop()
        if not s.result_times_out:
            self.result_timer.stop()
        elif not self.result_timer.isActive():
            self.result_timer.start()
        if s.card_left_behind:  # "Please take your card" after a few seconds
            self.card_reminder.arm(self.config.ui.card_reminder_s, lang)
        else:
            self.card_reminder.stop()
        if view.screen != self._shown_screen:  # a new screen: its own idle period
            self.timeout_warning.stop()
        self._shown_screen = view.screen
        self.timeout_warning.set_language(lang)
        if view.screen == "idle" or s.busy:
            self.idle_timer.stop()
            self.timeout_warning.stop()
        elif not self.timeout_warning.running:
            self.idle_timer.start()

    def request_quit(self) -> None:
        """End the kiosk: the operator's "Quit" (behind the PIN) or SIGTERM/SIGINT. The window
        wipes, stops the watcher and the worker, closes, and the event loop ends."""
        self._quit_requested = True
        self.close()
        app = QApplication.instance()
        if app is not None:
            app.quit()

    def closeEvent(self, event: Any) -> None:
        """Wipe, then stop the worker (quit + wait) before the window goes. A locked-down
        (full-screen) kiosk refuses every other close — Alt+F4, the window manager — so a
        patient cannot leave it."""
        if self.locked_down and not self._quit_requested:
            logger.info("close refused: the kiosk is locked down (quit from the settings)")
            event.ignore()
            return
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
            app.removeEventFilter(self.wedge)
        self.wedge.reset()
        self.state.wipe()
        self.watcher.stop()
        # the doctor's checks use the kiosk's storage and audit log: let a running one end
        # before the worker closes them (a check reading a closed SQLite handle crashed)
        self.doctor.stop()
        self.worker.stop()
        if self.speaker is not None:
            self.speaker.close()
        super().closeEvent(event)


def build_parser() -> argparse.ArgumentParser:
    """The command line of :func:`main`."""
    p = argparse.ArgumentParser(prog="cccd-kiosk-ui", description="The clinic check-in kiosk.")
    p.add_argument("--config", type=Path, help="TOML configuration file (see kiosk/config.py)")
    p.add_argument("--mode", choices=["reception", "self"], help="default: [ui] mode")
    p.add_argument("--lang", choices=["vi", "en"], help="default: [ui] language")
    p.add_argument("--windowed", action="store_true", help="a window instead of full screen")
    p.add_argument(
        "--idle-timeout", type=float, help="seconds before a wipe (default: [ui] idle_timeout_s)"
    )
    return p


@dataclass(frozen=True)
class UiOptions:
    """The kiosk's effective mode, language, idle timeout and full screen: ``[ui]`` in the
    config, overridden by the command-line flags."""

    mode: Mode
    lang: Lang
    idle_timeout_s: float
    fullscreen: bool


def resolve_options(args: argparse.Namespace, config: Config) -> UiOptions:
    """Merge ``config.ui`` with the flags of :func:`build_parser` (flags win)."""
    ui = config.ui
    mode = cast(Mode, args.mode or ui.mode)
    lang = cast(Lang, args.lang or ui.language)
    idle = float(args.idle_timeout) if args.idle_timeout is not None else ui.idle_timeout_s
    if idle <= 0:
        raise UsageError("--idle-timeout must be greater than 0")
    return UiOptions(mode, lang, idle, ui.fullscreen and not args.windowed)


def build_window(
    config: Config | Settings,
    *,
    mode: Mode = "self",
    lang: Lang = "vi",
    data_dir: Path | None = None,
    idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S,
    demo_gateway: bool | None = None,
) -> tuple[KioskWindow, DemoGateway | None]:
    """The window over a :class:`kiosk.app.Kiosk` of ``config`` (``data_dir`` overrides the
    data folder; ``demo_gateway`` forces the gateway simulator on or off). Returns the window
    and the kiosk's demo gateway, if any (closing the window stops it)."""
    settings = config if isinstance(config, Settings) else Settings(config)
    if data_dir is not None:
        settings = dataclasses.replace(settings, data_dir_override=data_dir)
    kiosk = Kiosk(settings, demo_gateway=demo_gateway)
    window = KioskWindow(kiosk, mode=mode, lang=lang, idle_timeout_s=idle_timeout_s)
    return window, kiosk.gateway


def show(window: KioskWindow, *, fullscreen: bool) -> None:
    """Full screen, frameless and locked down (the kiosk: only the operator's Quit or a
    SIGTERM ends it), or a 1280×800 window (development, the demo)."""
    window.locked_down = fullscreen
    if fullscreen:
        # Flags before the first show (changing them later re-creates the native window), and
        # the screen's whole geometry set explicitly: without a window manager (a bare X
        # server, some compositors) the full-screen state alone is ignored and the window
        # keeps its size hint (853×684 on a 1280×800 panel).
        window.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
        screen = window.screen() or QGuiApplication.primaryScreen()
        window.showFullScreen()
        if screen is not None:  # the full-screen state alone needs a window manager
            window.setGeometry(screen.geometry())
    else:
        window.resize(1280, 800)
        window.show()


def _stop_on_signals(window: KioskWindow) -> None:
    """SIGTERM (the service manager) and SIGINT end the kiosk the orderly way: wipe, stop the
    watcher and the worker, close the storage. Qt's event loop runs no Python code between
    events, so a short timer lets the interpreter run the handler promptly."""
    import signal

    def stop(signum: int, frame: object) -> None:
        logger.info("signal %d: stopping the kiosk", signum)
        QTimer.singleShot(0, window.request_quit)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    tick = QTimer(window)
    tick.setInterval(200)
    tick.timeout.connect(lambda: None)
    tick.start()


def start_watchdog(window: KioskWindow) -> QTimer | None:
    """Tell systemd the kiosk is up (``READY=1``) and, when the unit set ``WatchdogSec=``,
    ping it from a timer on the Qt event loop at half the period: a frozen loop stops the
    pings and systemd restarts the kiosk. ``None`` (no timer) outside a watchdog unit."""
    sdnotify.notify("READY=1")
    dog = sdnotify.watchdog()
    if dog is None:
        return None
    timer = QTimer(window)
    timer.setInterval(max(1, int(dog.interval_s * 1000)))
    # a lambda, held by the connection: PySide drops a bound method once its object is gone
    timer.timeout.connect(lambda: dog.ping())
    timer.start()
    dog.ping()
    return timer


def main(argv: Sequence[str] | None = None) -> int:
    """Start the kiosk; returns the Qt exit code, or the error table's exit code (one line on
    stderr, no window) when the configuration cannot be used."""
    from kiosk.app.logs import configure_logging
    from kiosk.app.messages import cli_line, message_for
    from kiosk.app.settings import resolve, with_sample_clinic

    args = build_parser().parse_args(argv)
    configure_logging()
    app = QApplication.instance() or QApplication(list(sys.argv[:1]))
    kiosk: Kiosk | None = None
    try:
        settings = resolve(args.config)
        if args.config is None:  # make run: the sample clinic (departments, a printer)
            settings = with_sample_clinic(settings)
        if settings.path is not None:
            configure_logging(settings.config.logging)
        options = resolve_options(args, settings.config)
        kiosk = Kiosk(settings)
        kiosk.serve_status()
        window = KioskWindow(
            kiosk, mode=options.mode, lang=options.lang, idle_timeout_s=options.idle_timeout_s
        )
    except Exception as exc:  # a bad file, flag, trust path, PIN file or missing credential
        if kiosk is not None:
            kiosk.close()
        print(f"cccd-kiosk: {cli_line(exc)}", file=sys.stderr)
        return message_for(exc).exit_code
    _stop_on_signals(window)
    try:
        show(window, fullscreen=options.fullscreen)
        logger.info(
            "kiosk ready (%s, %s)", options.mode, "full screen" if options.fullscreen else "window"
        )
        start_watchdog(window)
        code = int(app.exec())
    finally:
        sdnotify.notify("STOPPING=1")
        window.close()
        kiosk.close()
    return code


if __name__ == "__main__":
    sys.exit(main())
