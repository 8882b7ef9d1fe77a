"""The call board on PostgreSQL: every desk and display of a hospital calling from one queue.

:class:`PgCallBoard` implements :class:`offline_cache.calls.CallBoard` over the shared
server's ``checkins`` table (``day date``, ``department``, ``queue_number``, ``room``: only
the non-personal columns are read) with its own ``calls`` and ``calls_version`` tables
(:data:`SCHEMA`, to be run by the shared store's migrations; :meth:`PgCallBoard.ensure_schema`
runs it for a database without them).

Two desks never get the same number: every writing transaction first bumps the one
``calls_version`` row, whose row lock queues concurrent calls one after the other; under READ
COMMITTED each later statement then sees every call committed before it, and
``PRIMARY KEY (day, department, queue_number)`` stays the safety net. Database errors
surface as :class:`offline_cache.crypto.StorageError` (the table says what to do).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any, ParamSpec, TypeVar

import psycopg

from offline_cache.calls import (
    NEXT_COUNT,
    Board,
    Called,
    CallState,
    assemble_board,
    clean_desk,
)
from offline_cache.crypto import StorageError

_P = ParamSpec("_P")
_R = TypeVar("_R")

#: The tables the call board needs (idempotent).
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS calls (
        day date NOT NULL,
        department text NOT NULL,
        queue_number integer NOT NULL,
        state text NOT NULL CHECK (state IN ('called', 'served', 'no_show')),
        desk text NOT NULL,
        room text NOT NULL DEFAULT '',
        called_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        announce_seq bigint NOT NULL,
        announcements integer NOT NULL DEFAULT 1,
        PRIMARY KEY (day, department, queue_number)
    )""",
    "CREATE INDEX IF NOT EXISTS calls_announce ON calls (day, announce_seq)",
    """CREATE TABLE IF NOT EXISTS calls_version (
        id integer PRIMARY KEY CHECK (id = 1),
        version bigint NOT NULL
    )""",
    "INSERT INTO calls_version (id, version) VALUES (1, 0) ON CONFLICT DO NOTHING",
)

_COLUMNS = (
    "day, department, queue_number, room, desk, state, called_at, announce_seq, announcements"
)


def _mapped(method: Callable[_P, _R]) -> Callable[_P, _R]:
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(*args, **kwargs)
        except psycopg.Error as exc:
            raise StorageError(f"shared database: {type(exc).__name__}") from exc

    wrapper.__doc__ = method.__doc__
    wrapper.__name__ = method.__name__
    return wrapper


def _called(row: tuple[Any, ...]) -> Called:
    day, dept, number, room, desk, state, called_at, seq, count = row
    return Called(
        day=day,
        department=str(dept),
        number=int(number),
        room=str(room),
        desk=str(desk),
        state=state,
        called_at=called_at.astimezone(UTC),
        announce_seq=int(seq),
        announcements=int(count),
    )


class PgCallBoard:
    """:class:`offline_cache.calls.CallBoard` on the PostgreSQL server at ``url`` (one
    connection, serialised by a lock; each call is one transaction)."""

    @_mapped
    def __init__(self, url: str, *, connect_timeout_s: float = 5.0) -> None:
        self._lock = threading.RLock()
        self._conn = psycopg.connect(url, connect_timeout=max(1, int(connect_timeout_s)))

    @_mapped
    def ensure_schema(self) -> None:
        """Create the call tables when missing (a role allowed to create them)."""
        with self._tx() as cur:
            for statement in SCHEMA:
                cur.execute(statement)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> PgCallBoard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[psycopg.Cursor[Any]]:
        with self._lock, self._conn.transaction(), self._conn.cursor() as cur:
            yield cur

    @staticmethod
    def _bump(cur: psycopg.Cursor[Any]) -> int:
        row = cur.execute(
            "UPDATE calls_version SET version = version + 1 WHERE id = 1 RETURNING version"
        ).fetchone()
        assert row is not None
        return int(row[0])

    @staticmethod
    def _get(cur: psycopg.Cursor[Any], day: date, department: str, number: int) -> Called | None:
        row = cur.execute(
            f"SELECT {_COLUMNS} FROM calls WHERE day = %s AND department = %s"
            " AND queue_number = %s",
            (day, department, number),
        ).fetchone()
        return _called(row) if row else None

    @_mapped
    def call_next(
        self, day: date, department: str, desk: str, *, now: datetime | None = None
    ) -> Called | None:
        """See :meth:`offline_cache.calls.CallBoard.call_next`."""
        desk = clean_desk(desk)
        department = department.strip().upper()
        at = (now or datetime.now(UTC)).astimezone(UTC)
        with self._tx() as cur:
            seq = self._bump(cur)  # the row lock: one call at a time, hospital-wide
            closed = cur.execute(
                "UPDATE calls SET state = 'served', updated_at = %s WHERE day = %s"
                " AND department = %s AND desk = %s AND state = 'called'",
                (at, day, department, desk),
            ).rowcount
            row = cur.execute(
                "SELECT c.queue_number, c.room FROM checkins c WHERE c.day = %s"
                " AND c.department = %s AND NOT EXISTS (SELECT 1 FROM calls k"
                " WHERE k.day = c.day AND k.department = c.department"
                " AND k.queue_number = c.queue_number) ORDER BY c.queue_number LIMIT 1",
                (day, department),
            ).fetchone()
            if row is None:
                if not closed:  # nothing changed: give the version back
                    cur.execute("UPDATE calls_version SET version = version - 1 WHERE id = 1")
                return None
            cur.execute(
                "INSERT INTO calls (day, department, queue_number, state, desk, room, called_at,"
                " updated_at, announce_seq) VALUES (%s, %s, %s, 'called', %s, %s, %s, %s, %s)",
                (day, department, int(row[0]), desk, str(row[1]), at, at, seq),
            )
            return self._get(cur, day, department, int(row[0]))

    @_mapped
    def recall(self, day: date, department: str, number: int) -> Called | None:
        """See :meth:`offline_cache.calls.CallBoard.recall`."""
        department = department.strip().upper()
        with self._tx() as cur:
            seq = self._bump(cur)
            changed = cur.execute(
                "UPDATE calls SET announce_seq = %s, announcements = announcements + 1,"
                " updated_at = %s WHERE day = %s AND department = %s AND queue_number = %s"
                " AND state = 'called'",
                (seq, datetime.now(UTC), day, department, number),
            ).rowcount
            if not changed:
                cur.execute("UPDATE calls_version SET version = version - 1 WHERE id = 1")
                return None
            return self._get(cur, day, department, number)

    def _close_call(self, day: date, department: str, number: int, state: CallState) -> bool:
        with self._tx() as cur:
            self._bump(cur)
            changed = cur.execute(
                "UPDATE calls SET state = %s, updated_at = %s WHERE day = %s AND department = %s"
                " AND queue_number = %s AND state = 'called'",
                (state, datetime.now(UTC), day, department.strip().upper(), number),
            ).rowcount
            if not changed:
                cur.execute("UPDATE calls_version SET version = version - 1 WHERE id = 1")
        return bool(changed)

    @_mapped
    def mark_served(self, day: date, department: str, number: int) -> bool:
        """See :meth:`offline_cache.calls.CallBoard.mark_served`."""
        return self._close_call(day, department, number, "served")

    @_mapped
    def mark_no_show(self, day: date, department: str, number: int) -> bool:
        """See :meth:`offline_cache.calls.CallBoard.mark_no_show`."""
        return self._close_call(day, department, number, "no_show")

    @_mapped
    def current(self, day: date, department: str, desk: str) -> Called | None:
        """See :meth:`offline_cache.calls.CallBoard.current`."""
        with self._tx() as cur:
            row = cur.execute(
                f"SELECT {_COLUMNS} FROM calls WHERE day = %s AND department = %s"
                " AND desk = %s AND state = 'called' ORDER BY announce_seq DESC LIMIT 1",
                (day, department.strip().upper(), clean_desk(desk)),
            ).fetchone()
        return _called(row) if row else None

    @_mapped
    def states(self, day: date) -> dict[tuple[str, int], CallState]:
        """See :meth:`offline_cache.calls.CallBoard.states`."""
        with self._tx() as cur:
            rows = cur.execute(
                "SELECT department, queue_number, state FROM calls WHERE day = %s", (day,)
            ).fetchall()
        return {(str(r[0]), int(r[1])): r[2] for r in rows}

    @_mapped
    def board(self, day: date, *, next_count: int = NEXT_COUNT) -> Board:
        """See :meth:`offline_cache.calls.CallBoard.board` (one REPEATABLE READ snapshot)."""
        with self._lock:
            self._conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            try:
                with self._conn.transaction(), self._conn.cursor() as cur:
                    version = self._version(cur)
                    waiting = cur.execute(
                        "SELECT c.department, c.queue_number FROM checkins c WHERE c.day = %s"
                        " AND NOT EXISTS (SELECT 1 FROM calls k WHERE k.day = c.day"
                        " AND k.department = c.department AND k.queue_number = c.queue_number)"
                        " ORDER BY c.department, c.queue_number",
                        (day,),
                    ).fetchall()
                    rooms = cur.execute(
                        "SELECT DISTINCT ON (department) department, room FROM checkins"
                        " WHERE day = %s ORDER BY department, created_at DESC",
                        (day,),
                    ).fetchall()
                    called = cur.execute(
                        f"SELECT {_COLUMNS} FROM calls WHERE day = %s ORDER BY announce_seq DESC",
                        (day,),
                    ).fetchall()
            finally:
                self._conn.isolation_level = None
        return assemble_board(
            day,
            [(str(r[0]), int(r[1])) for r in waiting],
            {str(r[0]): str(r[1]) for r in rooms},
            [_called(r) for r in called],
            version,
            next_count,
        )

    @staticmethod
    def _version(cur: psycopg.Cursor[Any]) -> str:
        calls = cur.execute("SELECT version FROM calls_version WHERE id = 1").fetchone()
        # the newest check-in: the count and the latest time move with every new one
        checkins = cur.execute("SELECT count(*), max(created_at) FROM checkins").fetchone()
        assert checkins is not None
        latest = checkins[1].timestamp() if checkins[1] is not None else 0
        return f"{int(calls[0]) if calls else 0}.{int(checkins[0])}.{latest:.6f}"

    @_mapped
    def version(self) -> str:
        """See :meth:`offline_cache.calls.CallBoard.version`."""
        with self._tx() as cur:
            return self._version(cur)
