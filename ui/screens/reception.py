"""Reception: today's check-ins from the journal, with search, a CSV export and "call next".

:class:`TodayScreen` shows the rows it is given and asks for searches and exports by signal;
:class:`ReceptionJobs` does the journal work on the check-in worker's thread (the journal is
opened there), so the GUI thread never touches the database. The call bar above the list
(:class:`CallBar`: a department, "Gọi số tiếp theo / Call next", recall, no-show) calls
through the same kiosk (:meth:`kiosk.app.kiosk.Kiosk.call_next`), so every desk and the
calling display share one queue; the list shows each number's call state. The rows are
personal data in clear: they live only in the table while the screen is shown
(:meth:`TodayScreen.wipe`), and nothing here logs them.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QScroller,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kiosk.app.kiosk import Kiosk
from kiosk.app.messages import message_for
from kiosk.config import Department
from ui.screens import MIN_TOUCH, body_label, button, title_label
from ui.state import ScreenView, StartManual
from ui.strings import Lang, t

log = logging.getLogger(__name__)

#: The table's columns (``col.*`` strings), in order.
COLUMNS = ("queue", "time", "name", "id", "method", "verified", "eligibility", "call")
#: A number's call states (``call.*`` strings), as :meth:`Kiosk.today` gives them.
CALL_STATES = ("waiting", "called", "served", "no_show")
#: The one column that takes the width left over (names are the longest, most varied text);
#: every other column is as wide as its contents, so numbers and times are never cut.
STRETCH_COLUMN = COLUMNS.index("name")
#: Row height: a touch target (:data:`ui.screens.MIN_TOUCH`) for picking a row to reprint.
ROW_HEIGHT = MIN_TOUCH


def today() -> date:
    """Today in the journal's time zone (Vietnam): the day the queue numbers count in."""
    from kiosk.app.kiosk import local_today

    return local_today()


def cells(row: dict[str, Any], lang: Lang) -> tuple[str, ...]:
    """One export row (:func:`offline_cache.export.row`) as the table's text in ``lang``."""
    method = str(row.get("method") or "")
    status = str(row.get("eligibility_status") or "unknown")
    number = str(row.get("queue_number") or "")
    if row.get("department"):  # numbers count per department: "NOI 15"
        number = f"{row['department']} {number}"
    return (
        number,
        str(row.get("time") or ""),
        str(row.get("full_name") or ""),
        str(row.get("id_number") or ""),
        t(f"method.{method}", lang) if method in ("chip", "bhyt_qr", "manual") else method,
        t("verified.yes" if row.get("chip_verified") else "verified.no", lang),
        t(f"status.{status}", lang) if status in ("eligible", "not_eligible") else
        t("status.unknown", lang),
        t(f"call.{call}", lang) if (call := str(row.get("call") or "")) in CALL_STATES else "",
    )  # fmt: skip


class CallBar(QWidget):
    """A department selector, "Call next", "Recall", "No-show" and the number this desk is
    calling. ``call_next(code)``, ``recall((code, number))``, ``no_show((code, number))``,
    ``current(code)`` (the desk's open call when the department changes); the code is ""
    for the clinic's one queue."""

    call_next = Signal(str)
    recall = Signal(object)
    no_show = Signal(object)
    current = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lang: Lang = "vi"
        self._departments: tuple[Department, ...] = ()
        #: The number this desk has called and not closed, per department code.
        self.calling: dict[str, tuple[int, str]] = {}
        self._note = ""
        self.department = QComboBox()
        self.department.setObjectName("call_department")
        self.department.currentIndexChanged.connect(self._changed)
        self.next_button = button()
        self.next_button.setObjectName("call_next")
        self.next_button.clicked.connect(lambda: self.call_next.emit(self.code()))
        self.recall_button = button()
        self.recall_button.setObjectName("call_recall")
        self.recall_button.clicked.connect(lambda: self._on_number(self.recall))
        self.no_show_button = button()
        self.no_show_button.setObjectName("call_no_show")
        self.no_show_button.clicked.connect(lambda: self._on_number(self.no_show))
        self.status = QLabel()
        self.status.setObjectName("call_status")
        self.status.setStyleSheet("font-size: 22pt; font-weight: bold;")
        self.status.setWordWrap(True)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.department, 1)
        row.addWidget(self.next_button)
        row.addWidget(self.recall_button)
        row.addWidget(self.no_show_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(row)
        column.addWidget(self.status)  # its own line: the buttons keep their whole labels
        self.set_departments(())

    def set_departments(self, departments: tuple[Department, ...]) -> None:
        """The departments to call in (none: the clinic's one queue)."""
        self._departments = departments
        self._fill()

    def _fill(self) -> None:
        keep = self.code()
        self.department.blockSignals(True)
        self.department.clear()
        if not self._departments:
            self.department.addItem(t("call.one_queue", self._lang), "")
        for d in self._departments:
            label = d.name(self._lang) + (f" · {d.room}" if d.room else "")
            self.department.addItem(label, d.code)
        found = self.department.findData(keep)
        self.department.setCurrentIndex(max(found, 0))
        self.department.blockSignals(False)
        self.department.setVisible(len(self._departments) > 1)

    def code(self) -> str:
        """The selected department's code ("" : the clinic's one queue)."""
        data = self.department.currentData()
        return str(data) if data else ""

    def set_lang(self, lang: Lang) -> None:
        """Relabel in ``lang``."""
        self._lang = lang
        self.next_button.setText(t("call.next", lang))
        self.recall_button.setText(t("call.recall", lang))
        self.no_show_button.setText(t("call.no_show_button", lang))
        self.department.setToolTip(t("call.department", lang))
        self._fill()
        self._show()

    def _changed(self) -> None:
        self._note = ""
        self._show()
        self.current.emit(self.code())

    def _on_number(self, signal: Any) -> None:
        held = self.calling.get(self.code())
        if held is not None:
            signal.emit((self.code(), held[0]))

    def show_called(
        self, code: str, number: int | None, room: str = "", *, empty: bool = False
    ) -> None:
        """What the desk calls in ``code`` now (None: nothing; ``empty``: nobody waits)."""
        if number is None:
            self.calling.pop(code, None)
        else:
            self.calling[code] = (number, room)
        self._note = t("call.empty", self._lang) if empty else ""
        self._show()

    def _show(self) -> None:
        held = self.calling.get(self.code())
        if held is None:
            text = self._note or t("call.none", self._lang)
        elif held[1]:
            text = t("call.now", self._lang, number=held[0], room=held[1])
        else:
            text = t("call.now_no_room", self._lang, number=held[0])
        if held is not None and self._note:
            text = f"{text} · {self._note}"
        self.status.setText(text)
        self.recall_button.setEnabled(held is not None)
        self.no_show_button.setEnabled(held is not None)


class TodayScreen(QWidget):
    """The list. ``search_changed(text)``, ``export_requested()``, ``back()``."""

    search_changed = Signal(str)
    export_requested = Signal()
    reprint_requested = Signal(str)
    back = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[dict[str, Any]] = []
        self._lang: Lang = "vi"
        self.title = title_label()
        self.search = QLineEdit()
        self.search.setObjectName("today_search")
        self.search.textChanged.connect(self.search_changed)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("today_table")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        header = self.table.horizontalHeader()
        for col in range(len(COLUMNS)):
            header.setSectionResizeMode(
                col,
                QHeaderView.ResizeMode.Stretch
                if col == STRETCH_COLUMN
                else QHeaderView.ResizeMode.ResizeToContents,
            )
        # A finger drags the list (kinetic scrolling) instead of selecting rows on the way.
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        QScroller.grabGesture(
            self.table.viewport(), QScroller.ScrollerGestureType.LeftMouseButtonGesture
        )
        self.count = QLabel()
        self.message = body_label()
        self.export_button = button()
        self.export_button.setObjectName("export")
        self.export_button.clicked.connect(self.export_requested)
        self.reprint_button = button()
        self.reprint_button.setObjectName("reprint")
        self.reprint_button.clicked.connect(self._reprint)
        self.back_button = button()
        self.back_button.clicked.connect(self.back)
        self.calls = CallBar()
        # Filters of a shared queue: by department and by kiosk (each shown only when the
        # day's rows have more than one); the choice survives a refresh, the wipe resets it.
        self._all: list[dict[str, Any]] = []
        self.by_department = QComboBox()
        self.by_department.setObjectName("today_department")
        self.by_kiosk = QComboBox()
        self.by_kiosk.setObjectName("today_kiosk")
        for box in (self.by_department, self.by_kiosk):
            box.setMinimumHeight(48)
            box.currentIndexChanged.connect(self._filter_changed)
        filters = QHBoxLayout()
        filters.addWidget(self.by_department)
        filters.addWidget(self.by_kiosk)
        filters.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.count, 1)
        row.addWidget(self.reprint_button)
        row.addWidget(self.export_button)
        row.addWidget(self.back_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.calls)
        layout.addWidget(self.search)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        layout.addLayout(row)

    def show_view(self, view: ScreenView, lang: Lang) -> None:
        """Show ``view`` (a today view) in ``lang`` (the rows are relabelled)."""
        self._lang = lang
        self.title.setText(view.title)
        self.search.setPlaceholderText(t("today.search", lang))
        self.export_button.setText(t("today.export", lang))
        self.reprint_button.setText(t("today.reprint", lang))
        self.back_button.setText(t("nav.back", lang))
        self.calls.set_lang(lang)
        self.table.setHorizontalHeaderLabels([t(f"col.{c}", lang) for c in COLUMNS])
        self._fill_filters()
        self._apply_filters()

    def show_rows(self, rows: list[dict[str, Any]]) -> None:
        """Fill the table with export rows (given oldest first, as the journal lists the day),
        newest first: the patient at the desk is usually the one who just checked in."""
        keep = self.selected_checkin()  # before the rows change under the selection
        self._all = list(reversed(rows))
        self._fill_filters()
        self._apply_filters(keep)

    def _fill_filters(self) -> None:
        """The selectors' choices from the rows (the current choice kept when still there)."""
        for box, key, everything in (
            (self.by_department, "department", "today.all_departments"),
            (self.by_kiosk, "kiosk", "today.all_kiosks"),
        ):
            chosen = box.currentData()
            values = sorted({str(r[key]) for r in self._all if r.get(key)})
            box.blockSignals(True)
            box.clear()
            box.addItem(t(everything, self._lang), None)
            for v in values:
                box.addItem(v, v)
            found = box.findData(chosen) if chosen is not None else 0
            box.setCurrentIndex(max(0, found))
            box.blockSignals(False)
            box.setVisible(len(values) > 1)

    def _filter_changed(self) -> None:
        self._apply_filters()

    def _apply_filters(self, keep: str | None = None) -> None:
        """Show the rows the selectors let through (``keep``: the check-in to select)."""
        keep = keep or self.selected_checkin()
        dept, kiosk = self.by_department.currentData(), self.by_kiosk.currentData()
        self._rows = [
            r
            for r in self._all
            if (dept is None or r.get("department") == dept)
            and (kiosk is None or r.get("kiosk") == kiosk)
        ]
        self._fill(keep)

    def _fill(self, selected: str | None = None) -> None:
        """Draw :attr:`_rows` in the current language (the ``selected`` check-in and the
        scroll position kept: a refresh by itself must not lose the row staff are on)."""
        scroll = self.table.verticalScrollBar().value()
        self._draw()
        if selected is not None:
            for i, r in enumerate(self._rows):
                if r.get("checkin_id") == selected:
                    self.table.selectRow(i)
                    break
        self.table.verticalScrollBar().setValue(scroll)

    def _draw(self) -> None:
        rows = self._rows
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            for j, text in enumerate(cells(r, self._lang)):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
                self.table.setItem(i, j, item)
        self.count.setText(t("today.count", self._lang, n=len(rows)))

    @Slot(object)
    def on_called(self, answer: object) -> None:
        """A call's answer from :class:`ReceptionJobs` (``(code, number | None, room,
        nobody_waiting)``): show it on the call bar and reload the list with its states."""
        assert isinstance(answer, tuple) and len(answer) == 4
        code, number, room, empty = answer
        self.calls.show_called(str(code), number, str(room), empty=bool(empty))
        if self.isVisible():
            self.search_changed.emit(self.search.text())

    @Slot(object)
    def on_call_failed(self, message: object) -> None:
        """A call that did not go through (storage problem): the error table's words."""
        title = getattr(message, "title", None)
        action = getattr(message, "action", None)
        if callable(title) and callable(action):
            self.show_message(f"⚠ {title(self._lang)}. {action(self._lang)}")

    def selected_checkin(self) -> str | None:
        """The check-in id of the selected row (None: no row selected)."""
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or not 0 <= rows[0].row() < len(self._rows):
            return None
        value = self._rows[rows[0].row()].get("checkin_id")
        return str(value) if value else None

    def _reprint(self) -> None:
        checkin_id = self.selected_checkin()
        if checkin_id is None:
            self.show_message(t("today.reprint_select", self._lang))
            return
        self.reprint_requested.emit(checkin_id)

    def show_message(self, text: str) -> None:
        """A line under the table (export saved / failed)."""
        self.message.setText(text)

    def row_texts(self) -> list[tuple[str, ...]]:
        """What the table shows, row by row (for tests and screenshots)."""
        out = []
        for i in range(self.table.rowCount()):
            items = [self.table.item(i, j) for j in range(self.table.columnCount())]
            out.append(tuple(it.text() if it is not None else "" for it in items))
        return out

    def wipe(self) -> None:
        """Forget the rows, the search and the filters."""
        self._rows = []
        self._all = []
        for box in (self.by_department, self.by_kiosk):
            box.blockSignals(True)
            box.clear()
            box.blockSignals(False)
            box.setVisible(False)
        self.table.clearContents()
        self.table.setRowCount(0)
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self.message.clear()
        self.count.clear()


def _which(value: object) -> tuple[str, int]:
    """A ``(department code, number)`` pair from the call bar."""
    assert isinstance(value, tuple) and len(value) == 2
    return str(value[0]), int(value[1])


class ReceptionJobs(QObject):
    """Journal work for reception, on the check-in worker's thread (see the module docstring),
    through the same :class:`kiosk.app.Kiosk` the worker uses.

    ``listed(rows)`` answers :meth:`list_today`; ``outcome`` / ``failed`` answer :meth:`manual`
    like the worker's own signals; ``exported(ok)`` answers :meth:`export_today`.
    ``storage_notice((quarantined, cache_problem))`` follows a list when staff must know of a
    storage problem: check-ins set aside because they do not open, or a cache that failed.
    """

    listed = Signal(object)
    storage_notice = Signal(object)
    list_failed = Signal()
    outcome = Signal(object)
    failed = Signal(object)
    exported = Signal(bool)
    reprinted = Signal(object)
    #: The call board's version (:meth:`poll_version`): Today re-lists when it changes;
    #: ``listed_at(version)`` is the version read just before a list (the baseline).
    board_version = Signal(str)
    listed_at = Signal(str)
    choose = Signal(object, object)
    decision_done = Signal(str, bool)
    called = Signal(object)
    call_failed = Signal(object)

    def __init__(self, kiosk: Kiosk) -> None:
        super().__init__()
        self.kiosk = kiosk  # used only on the worker thread this object lives on

    @Slot()
    def poll_version(self) -> None:
        """Emit the call board's version (changes with every call and new check-in at any
        desk or kiosk); nothing when the storage does not answer (the banner says so)."""
        try:
            version = self.kiosk.calls.version()
        except Exception as exc:
            log.debug("board version not read: %s", type(exc).__name__)
            return
        self.board_version.emit(version)

    @Slot(str)
    def list_today(self, text: str) -> None:
        """Today's check-ins whose name or ID contains ``text`` (all when empty)."""
        try:
            version: str | None = self.kiosk.calls.version()
        except Exception:
            version = None
        try:
            rows = self.kiosk.today(text)
        except Exception as exc:
            log.warning("journal list failed: %s", type(exc).__name__)
            self.list_failed.emit()
            return
        self.listed.emit(rows)
        if version is not None:
            self.listed_at.emit(version)
        try:
            quarantined = self.kiosk.quarantined()
        except Exception as exc:
            log.warning("journal quarantine count failed: %s", type(exc).__name__)
            return
        problem = self.kiosk.cache_problem
        if quarantined or problem:
            self.storage_notice.emit((quarantined, problem))

    @Slot(object)
    def manual(self, action: object) -> None:
        """A manual check-in (not chip-verified)."""
        assert isinstance(action, StartManual)
        try:
            report = self.kiosk.checkin_manual(
                action.id_number, action.full_name, action.date_of_birth, choose_later=True
            )
            if report.outcome.is_pending:  # staff choose the department on the result
                from ui.worker import offer

                self.choose.emit(*offer(self.kiosk, report.outcome))
                return
        except Exception as exc:
            log.warning("manual check-in failed: %s", type(exc).__name__)
            self.failed.emit(message_for(exc))
            return
        self.outcome.emit(report.outcome)  # the window asks for its ticket, as for a card

    @Slot(str, bool)
    def decide(self, checkin_id: str, accepted: bool) -> None:
        """Journal reception's decision on a card that failed its checks; ``decision_done``
        carries ``(checkin_id, accepted)`` (``failed`` the message when it was not kept)."""
        try:
            self.kiosk.decide_authenticity(checkin_id, accepted=accepted)
        except Exception as exc:
            log.warning("authenticity decision failed: %s", type(exc).__name__)
            self.failed.emit(message_for(exc))
            return
        self.decision_done.emit(checkin_id, accepted)

    @Slot(str)
    def reprint(self, checkin_id: str) -> None:
        """Print a check-in's ticket again (paper ran out, a ticket was lost)."""
        from ui.worker import print_ticket_for

        self.reprinted.emit(print_ticket_for(self.kiosk, checkin_id, reprint=True))

    def _call(self, code: str, work: Any) -> None:
        try:
            work()
            open_call = self.kiosk.current_call(code or None)
        except Exception as exc:
            log.warning("call failed: %s", type(exc).__name__)
            self.call_failed.emit(message_for(exc))
            return
        self._answer(code, open_call)

    def _answer(self, code: str, open_call: Any, *, empty: bool = False) -> None:
        if open_call is None:
            self.called.emit((code, None, "", empty))
        else:
            self.called.emit((code, open_call.number, open_call.room, empty))

    @Slot(str)
    def call_next(self, code: str) -> None:
        """Call the next waiting number of department ``code`` ("" : the one queue)."""
        try:
            called = self.kiosk.call_next(code or None)
        except Exception as exc:
            log.warning("call next failed: %s", type(exc).__name__)
            self.call_failed.emit(message_for(exc))
            return
        self._answer(code, called, empty=called is None)

    @Slot(object)
    def recall(self, which: object) -> None:
        """Announce ``(code, number)`` again."""
        code, number = _which(which)
        self._call(code, lambda: self.kiosk.recall(number, code or None))

    @Slot(object)
    def no_show(self, which: object) -> None:
        """Close ``(code, number)`` as a no-show."""
        code, number = _which(which)
        self._call(code, lambda: self.kiosk.mark_no_show(number, code or None))

    @Slot(str)
    def current_call(self, code: str) -> None:
        """The number this desk is calling in ``code`` (when the department changes)."""
        self._call(code, lambda: None)

    @Slot(str)
    def export_today(self, path: str) -> None:
        """Write today's check-ins as UTF-8 CSV (with a BOM, so spreadsheets keep the
        diacritics) to ``path``, readable by the owner only."""
        try:
            self.kiosk.write_export(Path(path), today())
        except Exception as exc:
            log.warning("export failed: %s", type(exc).__name__)
            self.exported.emit(False)
            return
        self.exported.emit(True)


class ReceptionRequests(QObject):
    """GUI-thread side of the queued connections into :class:`ReceptionJobs`."""

    list_today = Signal(str)
    manual = Signal(object)
    export_today = Signal(str)
    reprint = Signal(str)
    decide = Signal(str, bool)
    call_next = Signal(str)
    recall = Signal(object)
    no_show = Signal(object)
    current_call = Signal(str)
    poll_version = Signal()

    def connect_to(self, jobs: ReceptionJobs) -> None:
        """Wire each request to its slot (queued: ``jobs`` lives on the worker thread)."""
        self.list_today.connect(jobs.list_today)
        self.manual.connect(jobs.manual)
        self.export_today.connect(jobs.export_today)
        self.reprint.connect(jobs.reprint)
        self.decide.connect(jobs.decide)
        self.call_next.connect(jobs.call_next)
        self.recall.connect(jobs.recall)
        self.no_show.connect(jobs.no_show)
        self.current_call.connect(jobs.current_call)
        self.poll_version.connect(jobs.poll_version)


def wire_calls(
    today: TodayScreen,
    requests: ReceptionRequests,
    jobs: ReceptionJobs,
    departments: tuple[Department, ...],
) -> None:
    """Connect the Today screen's call bar to the worker's call jobs (both ways, queued)."""
    today.calls.set_departments(departments)
    today.calls.call_next.connect(requests.call_next)
    today.calls.recall.connect(requests.recall)
    today.calls.no_show.connect(requests.no_show)
    today.calls.current.connect(requests.current_call)
    jobs.called.connect(today.on_called)
    jobs.call_failed.connect(today.on_call_failed)
