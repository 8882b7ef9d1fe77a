"""The call board on the shared PostgreSQL: every desk and calling display sees one state.

:class:`PgCallBoard` implements :class:`offline_cache.calls.CallBoard` over the ``calls`` and
``calls_version`` tables (schema version 2) next to the shared journal's check-ins. Two
desks calling the same department at once never get the same number: the choice of the next
waiting check-in and the row that marks it called are one transaction under an advisory
lock per (day, department), with ``PRIMARY KEY (day, department, queue_number)`` as the
safety net. Only non-personal columns are read: numbers, rooms, desks and times.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import psycopg_pool

from offline_cache.calls import (
    ANNOUNCEMENT_COUNT,
    NEXT_COUNT,
    Board,
    Called,
    CallState,
    DepartmentBoard,
    clean_desk,
)
from offline_cache.pg.connect import pg_errors
from offline_cache.pg.journal import Conn

_COLUMNS = (
    "day, department, queue_number, room, desk, state, called_at, announce_seq, announcements"
)


def _called(row: tuple[Any, ...]) -> Called:
    day, dept, number, room, desk, state, called_at, seq, count = row
    return Called(
        day=day,
        department=str(dept),
        number=int(number),
        room=str(room),
        desk=str(desk),
        state=state,
        called_at=called_at,
        announce_seq=int(seq),
        announcements=int(count),
    )


class PgCallBoard:
    """:class:`offline_cache.calls.CallBoard` on the shared database (the pool is the
    store's)."""

    def __init__(self, pool: psycopg_pool.ConnectionPool) -> None:
        self._pool = pool

    @contextmanager
    def _tx(self) -> Iterator[Conn]:
        with self._pool.connection() as conn:
            yield conn

    def close(self) -> None:
        """Nothing of its own to close: the pool is the store's."""

    @staticmethod
    def _bump(conn: Conn) -> int:
        row = conn.execute(
            "UPDATE calls_version SET version = version + 1 WHERE id = 1 RETURNING version"
        ).fetchone()
        assert row is not None
        return int(row[0])

    @staticmethod
    def _get(conn: Conn, day: date, department: str, number: int) -> Called | None:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM calls WHERE day = %s AND department = %s"
            " AND queue_number = %s",
            (day, department, number),
        ).fetchone()
        return _called(row) if row else None

    @pg_errors
    def call_next(
        self, day: date, department: str, desk: str, *, now: datetime | None = None
    ) -> Called | None:
        """See :meth:`offline_cache.calls.CallBoard.call_next`."""
        desk = clean_desk(desk)
        department = department.strip().upper()
        at = (now or datetime.now(UTC)).astimezone(UTC)
        with self._tx() as conn:
            conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                (f"calls|{day}|{department}",),
            )
            closed = conn.execute(
                "UPDATE calls SET state = 'served', updated_at = %s"
                " WHERE day = %s AND department = %s AND desk = %s AND state = 'called'",
                (at, day, department, desk),
            ).rowcount
            row = conn.execute(
                "SELECT c.queue_number, c.room FROM checkins c WHERE c.day = %s"
                " AND c.department = %s AND NOT EXISTS (SELECT 1 FROM calls k"
                " WHERE k.day = c.day AND k.department = c.department"
                " AND k.queue_number = c.queue_number)"
                " ORDER BY c.created_at, c.queue_number LIMIT 1",
                (day, department),
            ).fetchone()
            if row is None:
                if closed:
                    self._bump(conn)
                return None
            seq = self._bump(conn)
            conn.execute(
                "INSERT INTO calls (day, department, queue_number, state, desk, room,"
                " called_at, updated_at, announce_seq)"
                " VALUES (%s, %s, %s, 'called', %s, %s, %s, %s, %s)",
                (day, department, int(row[0]), desk, str(row[1]), at, at, seq),
            )
            return self._get(conn, day, department, int(row[0]))

    @pg_errors
    def recall(self, day: date, department: str, number: int) -> Called | None:
        """See :meth:`offline_cache.calls.CallBoard.recall`."""
        department = department.strip().upper()
        with self._tx() as conn:
            found = conn.execute(
                "SELECT state FROM calls WHERE day = %s AND department = %s"
                " AND queue_number = %s FOR UPDATE",
                (day, department, number),
            ).fetchone()
            if found is None or found[0] != "called":
                return None
            conn.execute(
                "UPDATE calls SET announce_seq = %s, announcements = announcements + 1,"
                " updated_at = %s WHERE day = %s AND department = %s AND queue_number = %s",
                (self._bump(conn), datetime.now(UTC), day, department, number),
            )
            return self._get(conn, day, department, number)

    def _close_call(self, day: date, department: str, number: int, state: CallState) -> bool:
        with self._tx() as conn:
            changed = conn.execute(
                "UPDATE calls SET state = %s, updated_at = %s WHERE day = %s"
                " AND department = %s AND queue_number = %s AND state = 'called'",
                (state, datetime.now(UTC), day, department.strip().upper(), number),
            ).rowcount
            if changed:
                self._bump(conn)
        return bool(changed)

    @pg_errors
    def mark_served(self, day: date, department: str, number: int) -> bool:
        """See :meth:`offline_cache.calls.CallBoard.mark_served`."""
        return self._close_call(day, department, number, "served")

    @pg_errors
    def mark_no_show(self, day: date, department: str, number: int) -> bool:
        """See :meth:`offline_cache.calls.CallBoard.mark_no_show`."""
        return self._close_call(day, department, number, "no_show")

    @pg_errors
    def current(self, day: date, department: str, desk: str) -> Called | None:
        """See :meth:`offline_cache.calls.CallBoard.current`."""
        with self._tx() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM calls WHERE day = %s AND department = %s"
                " AND desk = %s AND state = 'called' ORDER BY announce_seq DESC LIMIT 1",
                (day, department.strip().upper(), clean_desk(desk)),
            ).fetchone()
        return _called(row) if row else None

    @pg_errors
    def states(self, day: date) -> dict[tuple[str, int], CallState]:
        """See :meth:`offline_cache.calls.CallBoard.states`."""
        with self._tx() as conn:
            rows = conn.execute(
                "SELECT department, queue_number, state FROM calls WHERE day = %s", (day,)
            ).fetchall()
        return {(str(r[0]), int(r[1])): r[2] for r in rows}

    @pg_errors
    def board(self, day: date, *, next_count: int = NEXT_COUNT) -> Board:
        """See :meth:`offline_cache.calls.CallBoard.board` (one REPEATABLE READ snapshot)."""
        with self._tx() as conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            version = self._version(conn)
            waiting_rows = conn.execute(
                "SELECT c.department, c.queue_number FROM checkins c"
                " WHERE c.day = %s AND NOT EXISTS (SELECT 1 FROM calls k WHERE"
                " k.day = c.day AND k.department = c.department"
                " AND k.queue_number = c.queue_number)"
                " ORDER BY c.department, c.created_at, c.queue_number",
                (day,),
            ).fetchall()
            rooms = {
                str(r[0]): str(r[1])
                for r in conn.execute(
                    "SELECT DISTINCT ON (department) department, room FROM checkins"
                    " WHERE day = %s ORDER BY department, created_at DESC",
                    (day,),
                ).fetchall()
            }
            called = [
                _called(r)
                for r in conn.execute(
                    f"SELECT {_COLUMNS} FROM calls WHERE day = %s ORDER BY announce_seq DESC",
                    (day,),
                ).fetchall()
            ]
        waiting: dict[str, list[int]] = {}
        for dept, number in waiting_rows:
            waiting.setdefault(str(dept), []).append(int(number))
        departments = []
        for dept in sorted(set(rooms) | {c.department for c in called}):
            nums = waiting.get(dept, [])
            departments.append(
                DepartmentBoard(
                    department=dept,
                    room=str(rooms.get(dept, "")),
                    serving=tuple(
                        c for c in called if c.department == dept and c.state == "called"
                    ),
                    next_numbers=tuple(nums[:next_count]),
                    waiting=len(nums),
                )
            )
        announced = tuple(c for c in called if c.state == "called")[:ANNOUNCEMENT_COUNT]
        return Board(day, tuple(departments), announced, version)

    @staticmethod
    def _version(conn: Conn) -> str:
        calls = conn.execute("SELECT version FROM calls_version WHERE id = 1").fetchone()
        # every check-in bumps one counter row: their sum changes with each new check-in
        numbers = conn.execute(
            "SELECT COALESCE(SUM(last_number), 0) FROM queue_counters"
        ).fetchone()
        return f"{int(calls[0]) if calls else 0}.{int(numbers[0]) if numbers else 0}"

    @pg_errors
    def version(self) -> str:
        """See :meth:`offline_cache.calls.CallBoard.version`."""
        with self._tx() as conn:
            return self._version(conn)
