"""Reception: today's check-ins from the journal, with search and a CSV export.

:class:`TodayScreen` shows the rows it is given and asks for searches and exports by signal;
:class:`ReceptionJobs` does the journal work on the check-in worker's thread (the journal is
opened there), so the GUI thread never touches the database. The rows are personal data in
clear: they live only in the table while the screen is shown (:meth:`TodayScreen.wipe`), and
nothing here logs them.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
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
from ui.screens import MIN_TOUCH, body_label, button, title_label
from ui.state import ScreenView, StartManual
from ui.strings import Lang, t

log = logging.getLogger(__name__)

#: The table's columns (``col.*`` strings), in order.
COLUMNS = ("queue", "time", "name", "id", "method", "verified", "eligibility")
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
    )  # fmt: skip


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
        row = QHBoxLayout()
        row.addWidget(self.count, 1)
        row.addWidget(self.reprint_button)
        row.addWidget(self.export_button)
        row.addWidget(self.back_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.search)
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
        self.table.setHorizontalHeaderLabels([t(f"col.{c}", lang) for c in COLUMNS])
        self._fill()

    def show_rows(self, rows: list[dict[str, Any]]) -> None:
        """Fill the table with export rows (given oldest first, as the journal lists the day),
        newest first: the patient at the desk is usually the one who just checked in."""
        self._rows = list(reversed(rows))
        self._fill()

    def _fill(self) -> None:
        """Draw :attr:`_rows` in the current language."""
        rows = self._rows
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            for j, text in enumerate(cells(r, self._lang)):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
                self.table.setItem(i, j, item)
        self.count.setText(t("today.count", self._lang, n=len(rows)))

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
        """Forget the rows and the search."""
        self._rows = []
        self.table.clearContents()
        self.table.setRowCount(0)
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self.message.clear()
        self.count.clear()


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
    ticket = Signal(object)
    reprinted = Signal(object)

    def __init__(self, kiosk: Kiosk) -> None:
        super().__init__()
        self.kiosk = kiosk  # used only on the worker thread this object lives on

    @Slot(str)
    def list_today(self, text: str) -> None:
        """Today's check-ins whose name or ID contains ``text`` (all when empty)."""
        try:
            rows = self.kiosk.today(text)
        except Exception as exc:
            log.warning("journal list failed: %s", type(exc).__name__)
            self.list_failed.emit()
            return
        self.listed.emit(rows)
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
                action.id_number, action.full_name, action.date_of_birth
            )
        except Exception as exc:
            log.warning("manual check-in failed: %s", type(exc).__name__)
            self.failed.emit(message_for(exc))
            return
        self.outcome.emit(report.outcome)
        if self.kiosk.prints_tickets:
            from ui.worker import print_ticket_for

            self.ticket.emit(print_ticket_for(self.kiosk, report.outcome.checkin_id))

    @Slot(str)
    def reprint(self, checkin_id: str) -> None:
        """Print a check-in's ticket again (paper ran out, a ticket was lost)."""
        from ui.worker import print_ticket_for

        self.reprinted.emit(print_ticket_for(self.kiosk, checkin_id))

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

    def connect_to(self, jobs: ReceptionJobs) -> None:
        """Wire each request to its slot (queued: ``jobs`` lives on the worker thread)."""
        self.list_today.connect(jobs.list_today)
        self.manual.connect(jobs.manual)
        self.export_today.connect(jobs.export_today)
        self.reprint.connect(jobs.reprint)
