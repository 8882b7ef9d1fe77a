"""Calling patients: "call next" per department, shared by every desk and the calling display.

A check-in is *waiting* until a desk calls it; then it is *called* (by that desk, at that
time), and finally *served* or a *no-show*. :class:`CallBoard` is the port (what the
application layer asks); :class:`SqliteCallBoard` keeps the calls in their own table in the
journal's SQLite file, next to the check-ins they refer to (so one transaction sees both).
A PostgreSQL adapter implements the same protocol over the shared server.

Two desks calling the same department at once never get the same number: the choice of the
next waiting check-in and the row that marks it called are one ``BEGIN IMMEDIATE``
transaction, with ``PRIMARY KEY (day, department, queue_number)`` as the safety net.

Only non-personal columns are touched here — day, department, room, queue number, desk,
times — never the sealed holder: the calling display shows numbers and rooms, nothing else.

:meth:`CallBoard.version` changes whenever a call or a new check-in changes what a board
shows, so a display can poll it cheaply and rebuild the board only then.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal, Protocol

from offline_cache.journal import ensure_schema, immediate
from offline_cache.store import DEFAULT_BUSY_TIMEOUT_S, map_errors, open_db

CallState = Literal["called", "served", "no_show"]
#: How many waiting numbers a board lists per department by default.
NEXT_COUNT = 5
#: How many of the latest announcements (calls and recalls) a board carries.
ANNOUNCEMENT_COUNT = 8
#: A desk's name as it is shown and stored: short, no control characters.
MAX_DESK_LEN = 40

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS calls (
        day TEXT NOT NULL,
        department TEXT NOT NULL,
        queue_number INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('called', 'served', 'no_show')),
        desk TEXT NOT NULL,
        room TEXT NOT NULL DEFAULT '',
        called_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        announce_seq INTEGER NOT NULL,
        announcements INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (day, department, queue_number)
    )""",
    "CREATE INDEX IF NOT EXISTS calls_announce ON calls (day, announce_seq)",
    # One row: bumped by every change to the calls, so pollers compare one integer.
    """CREATE TABLE IF NOT EXISTS calls_version (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version INTEGER NOT NULL
    )""",
    "INSERT OR IGNORE INTO calls_version (id, version) VALUES (1, 0)",
)


@dataclass(frozen=True)
class Called:
    """One called number: where the patient goes and which desk called them.

    ``announce_seq`` grows with every call and recall (across departments), so a display
    announces each once; ``announcements`` counts how often this number was announced.
    """

    day: date
    department: str
    number: int
    room: str
    desk: str
    state: CallState
    called_at: datetime
    announce_seq: int
    announcements: int = 1


@dataclass(frozen=True)
class DepartmentBoard:
    """What a display shows for one department: the numbers being served now (latest call
    first), the next waiting numbers in order, and how many are waiting in all."""

    department: str
    room: str
    serving: tuple[Called, ...]
    next_numbers: tuple[int, ...]
    waiting: int


@dataclass(frozen=True)
class Board:
    """A day's board: one entry per department with check-ins that day (by code), and the
    latest announcements, newest first."""

    day: date
    departments: tuple[DepartmentBoard, ...]
    announcements: tuple[Called, ...]
    version: str


class CallBoard(Protocol):
    """The calling port: what desks and the calling display ask of the shared queue."""

    def call_next(
        self, day: date, department: str, desk: str, *, now: datetime | None = None
    ) -> Called | None:
        """Call the lowest waiting number of ``department`` on ``day`` for ``desk`` (the
        desk's previous call there, if still open, becomes served); None: nobody waits."""
        ...

    def recall(self, day: date, department: str, number: int) -> Called | None:
        """Announce a called number again; None when it is not currently called."""
        ...

    def mark_served(self, day: date, department: str, number: int) -> bool:
        """Close a called number as served; False when it was not called."""
        ...

    def mark_no_show(self, day: date, department: str, number: int) -> bool:
        """Close a called number as a no-show; False when it was not called."""
        ...

    def current(self, day: date, department: str, desk: str) -> Called | None:
        """The number ``desk`` has called in ``department`` and not closed yet."""
        ...

    def states(self, day: date) -> dict[tuple[str, int], CallState]:
        """(department, number) → call state of every number called on ``day``."""
        ...

    def board(self, day: date, *, next_count: int = NEXT_COUNT) -> Board:
        """The day's board (see :class:`Board`)."""
        ...

    def version(self) -> str:
        """An opaque token that changes whenever a board could have changed."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


def clean_desk(desk: str) -> str:
    """A desk name fit to store and show: printable, trimmed, at most 40 characters."""
    text = "".join(c for c in desk if c.isprintable()).strip()
    if not text:
        raise ValueError("a desk needs a name")
    return text[:MAX_DESK_LEN]


def assemble_board(
    day: date,
    waiting_rows: list[tuple[str, int]],
    rooms: dict[str, str],
    called: list[Called],
    version: str,
    next_count: int,
) -> Board:
    """A :class:`Board` from what an adapter read in one transaction: the waiting (department,
    number) pairs in number order, each department's room, the day's calls newest
    announcement first, and the version token. Shared by the adapters so boards agree."""
    waiting: dict[str, list[int]] = {}
    for dept, number in waiting_rows:
        waiting.setdefault(dept, []).append(number)
    departments = []
    for dept in sorted(set(rooms) | {c.department for c in called}):
        nums = waiting.get(dept, [])
        departments.append(
            DepartmentBoard(
                department=dept,
                room=str(rooms.get(dept, "")),
                serving=tuple(c for c in called if c.department == dept and c.state == "called"),
                next_numbers=tuple(nums[:next_count]),
                waiting=len(nums),
            )
        )
    announced = tuple(c for c in called if c.state == "called")[:ANNOUNCEMENT_COUNT]
    return Board(day, tuple(departments), announced, version)


class SqliteCallBoard:
    """:class:`CallBoard` in the journal's SQLite file ``db_path`` (its own tables).

    One connection usable from any thread (a display server's request threads, a kiosk's
    worker), serialised by a lock; writers take the write lock up front, so two processes
    on one file queue on the busy timeout instead of failing.
    """

    @map_errors
    def __init__(self, db_path: Path, *, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S) -> None:
        self.db_path = Path(db_path)
        self._lock = threading.RLock()
        self.db = open_db(self.db_path, check_same_thread=False, busy_timeout_s=busy_timeout_s)
        try:
            ensure_schema(self.db)  # the check-ins the calls refer to
            for statement in _SCHEMA:
                self.db.conn.execute(statement)
            self.db.conn.commit()
        except BaseException:
            self.db.conn.close()
            raise

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self.db.conn.close()

    def __enter__(self) -> SqliteCallBoard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _bump(self) -> int:
        row = self.db.conn.execute(
            "UPDATE calls_version SET version = version + 1 WHERE id = 1 RETURNING version"
        ).fetchone()
        return int(row[0])

    _COLUMNS = (
        "day, department, queue_number, room, desk, state, called_at, announce_seq, announcements"
    )

    @staticmethod
    def _called(row: tuple[object, ...]) -> Called:
        day, dept, number, room, desk, state, called_at, seq, count = row
        return Called(
            day=date.fromisoformat(str(day)),
            department=str(dept),
            number=int(str(number)),
            room=str(room),
            desk=str(desk),
            state=str(state),  # type: ignore[arg-type]
            called_at=datetime.fromisoformat(str(called_at)),
            announce_seq=int(str(seq)),
            announcements=int(str(count)),
        )

    def _get(self, day: date, department: str, number: int) -> Called | None:
        row = self.db.conn.execute(
            f"SELECT {self._COLUMNS} FROM calls WHERE day = ? AND department = ?"
            " AND queue_number = ?",
            (day.isoformat(), department, number),
        ).fetchone()
        return self._called(row) if row else None

    @map_errors
    def call_next(
        self, day: date, department: str, desk: str, *, now: datetime | None = None
    ) -> Called | None:
        """See :meth:`CallBoard.call_next`."""
        desk = clean_desk(desk)
        department = department.strip().upper()
        at = (now or datetime.now(UTC)).astimezone(UTC).isoformat()
        d = day.isoformat()
        conn = self.db.conn
        with self._lock, immediate(conn):
            closed = conn.execute(
                "UPDATE calls SET state = 'served', updated_at = ?"
                " WHERE day = ? AND department = ? AND desk = ? AND state = 'called'",
                (at, d, department, desk),
            ).rowcount
            row = conn.execute(
                "SELECT c.queue_number, c.room FROM checkins c WHERE c.day = ?"
                " AND c.department = ? AND NOT EXISTS (SELECT 1 FROM calls k"
                " WHERE k.day = c.day AND k.department = c.department"
                " AND k.queue_number = c.queue_number)"
                " ORDER BY c.created_at, c.queue_number LIMIT 1",
                (d, department),
            ).fetchone()
            if row is None:
                if closed:
                    self._bump()
                return None
            seq = self._bump()
            conn.execute(
                "INSERT INTO calls (day, department, queue_number, state, desk, room,"
                " called_at, updated_at, announce_seq) VALUES (?, ?, ?, 'called', ?, ?, ?, ?, ?)",
                (d, department, int(row[0]), desk, str(row[1]), at, at, seq),
            )
            called = self._get(day, department, int(row[0]))
        return called

    @map_errors
    def recall(self, day: date, department: str, number: int) -> Called | None:
        """See :meth:`CallBoard.recall`."""
        department = department.strip().upper()
        conn = self.db.conn
        with self._lock, immediate(conn):
            if (found := self._get(day, department, number)) is None or found.state != "called":
                return None
            conn.execute(
                "UPDATE calls SET announce_seq = ?, announcements = announcements + 1,"
                " updated_at = ? WHERE day = ? AND department = ? AND queue_number = ?",
                (
                    self._bump(),
                    datetime.now(UTC).isoformat(),
                    day.isoformat(),
                    department,
                    number,
                ),
            )
            return self._get(day, department, number)

    def _close_call(self, day: date, department: str, number: int, state: CallState) -> bool:
        conn = self.db.conn
        with self._lock, immediate(conn):
            changed = conn.execute(
                "UPDATE calls SET state = ?, updated_at = ? WHERE day = ? AND department = ?"
                " AND queue_number = ? AND state = 'called'",
                (
                    state,
                    datetime.now(UTC).isoformat(),
                    day.isoformat(),
                    department.strip().upper(),
                    number,
                ),
            ).rowcount
            if changed:
                self._bump()
        return bool(changed)

    @map_errors
    def mark_served(self, day: date, department: str, number: int) -> bool:
        """See :meth:`CallBoard.mark_served`."""
        return self._close_call(day, department, number, "served")

    @map_errors
    def mark_no_show(self, day: date, department: str, number: int) -> bool:
        """See :meth:`CallBoard.mark_no_show`."""
        return self._close_call(day, department, number, "no_show")

    @map_errors
    def current(self, day: date, department: str, desk: str) -> Called | None:
        """See :meth:`CallBoard.current`."""
        with self._lock:
            row = self.db.conn.execute(
                f"SELECT {self._COLUMNS} FROM calls WHERE day = ? AND department = ?"
                " AND desk = ? AND state = 'called' ORDER BY announce_seq DESC LIMIT 1",
                (day.isoformat(), department.strip().upper(), clean_desk(desk)),
            ).fetchone()
        return self._called(row) if row else None

    @map_errors
    def states(self, day: date) -> dict[tuple[str, int], CallState]:
        """See :meth:`CallBoard.states`."""
        with self._lock:
            rows = self.db.conn.execute(
                "SELECT department, queue_number, state FROM calls WHERE day = ?",
                (day.isoformat(),),
            ).fetchall()
        return {(str(r[0]), int(r[1])): r[2] for r in rows}

    @map_errors
    def board(self, day: date, *, next_count: int = NEXT_COUNT) -> Board:
        """See :meth:`CallBoard.board`. One read transaction, so the board is consistent."""
        d = day.isoformat()
        conn = self.db.conn
        with self._lock:
            conn.execute("BEGIN")
            try:
                version = self._version()
                waiting_rows = conn.execute(
                    "SELECT c.department, c.queue_number, c.room FROM checkins c"
                    " WHERE c.day = ? AND NOT EXISTS (SELECT 1 FROM calls k WHERE"
                    " k.day = c.day AND k.department = c.department"
                    " AND k.queue_number = c.queue_number)"
                    " ORDER BY c.department, c.created_at, c.queue_number",
                    (d,),
                ).fetchall()
                # the room of each department's latest check-in (SQLite takes the bare
                # column from the row MAX() picks)
                rooms = {
                    str(r[0]): str(r[1])
                    for r in conn.execute(
                        "SELECT department, room, MAX(created_at) FROM checkins WHERE day = ?"
                        " GROUP BY department",
                        (d,),
                    ).fetchall()
                }
                called = [
                    self._called(r)
                    for r in conn.execute(
                        f"SELECT {self._COLUMNS} FROM calls WHERE day = ?"
                        " ORDER BY announce_seq DESC",
                        (d,),
                    ).fetchall()
                ]
            finally:
                conn.rollback()
        return assemble_board(
            day,
            [(str(r[0]), int(r[1])) for r in waiting_rows],
            rooms,
            called,
            version,
            next_count,
        )

    def _version(self) -> str:
        calls = self.db.conn.execute("SELECT version FROM calls_version WHERE id = 1").fetchone()
        checkins = self.db.conn.execute("SELECT MAX(rowid) FROM checkins").fetchone()
        return f"{int(calls[0]) if calls else 0}.{int(checkins[0] or 0)}"

    @map_errors
    def version(self) -> str:
        """See :meth:`CallBoard.version`: the calls' counter and the newest check-in's rowid."""
        with self._lock:
            return self._version()
