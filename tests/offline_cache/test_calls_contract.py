"""One contract for both call boards: SQLite (the journal's file) and PostgreSQL (a real
server, tests/fixtures/postgres.py). The same calls give the same boards; desks calling the
same department at once from separate connections never get the same number."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from offline_cache.calls import CallBoard, SqliteCallBoard
from offline_cache.crypto import Sealer
from offline_cache.journal import Journal

DAY = date(2026, 11, 24)
T0 = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)

#: The non-personal columns of the shared server's check-ins the call board reads.
PG_CHECKINS = """CREATE TABLE IF NOT EXISTS checkins (
    checkin_id text PRIMARY KEY,
    day date NOT NULL,
    department text NOT NULL DEFAULT '',
    queue_number integer NOT NULL,
    created_at timestamptz NOT NULL,
    room text NOT NULL DEFAULT '',
    UNIQUE (day, department, queue_number)
)"""

Opener = Callable[[], CallBoard]
AddCheckin = Callable[[int, str, str], None]


def _sqlite(tmp_path: Path) -> Iterator[tuple[Opener, AddCheckin]]:
    db = tmp_path / "journal.db"
    with Journal(db, Sealer(bytes(range(32)))) as journal:

        def add(i: int, department: str, room: str) -> None:
            journal.record(
                method="manual",
                chip_verified=False,
                holder={"id_number": f"0010880{i:05d}", "full_name": f"Người {i}"},
                now=T0 + timedelta(seconds=i),
                department=department,
                room=room,
            )

        yield (lambda: SqliteCallBoard(db)), add


def _postgres(url: str) -> Iterator[tuple[Opener, AddCheckin]]:
    import psycopg

    from offline_cache.pg_calls import PgCallBoard

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(PG_CHECKINS)
        with PgCallBoard(url) as b:
            b.ensure_schema()
        counters: dict[str, int] = {}

        def add(i: int, department: str, room: str) -> None:
            counters[department] = counters.get(department, 0) + 1
            conn.execute(
                "INSERT INTO checkins (checkin_id, day, department, queue_number, created_at,"
                " room) VALUES (%s, %s, %s, %s, %s, %s)",
                (f"c{i}", DAY, department, counters[department], T0 + timedelta(seconds=i), room),
            )

        yield (lambda: PgCallBoard(url)), add


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Opener, AddCheckin]]:
    if request.param == "sqlite":
        yield from _sqlite(tmp_path)
    else:
        url = request.getfixturevalue("pg_url")
        yield from _postgres(url)


def test_calls_and_board(store: tuple[Opener, AddCheckin]) -> None:
    opener, add = store
    for i in range(4):
        add(i, "NOI", "203")
    add(10, "NHI", "105")
    with opener() as b:  # type: ignore[attr-defined]
        board: CallBoard = b
        v0 = board.version()
        first = board.call_next(DAY, "noi", "Quầy 1")
        assert first is not None and (first.department, first.number, first.room) == (
            "NOI",
            1,
            "203",
        )
        assert board.version() != v0
        second = board.call_next(DAY, "NOI", "Quầy 2")
        assert second is not None and second.number == 2
        again = board.recall(DAY, "NOI", 1)
        assert again is not None and again.announcements == 2
        assert again.announce_seq > second.announce_seq
        assert board.mark_no_show(DAY, "NOI", 2) is True
        assert board.mark_no_show(DAY, "NOI", 2) is False
        v1 = board.version()
        assert board.call_next(DAY, "NHI", "Quầy 3") is not None
        assert board.call_next(DAY, "NHI", "Quầy 4") is None  # nobody left
        third = board.call_next(DAY, "NOI", "Quầy 1")  # Quầy 1's number 1 becomes served
        assert third is not None and third.number == 3
        assert board.version() != v1
        assert board.current(DAY, "NOI", "Quầy 1") == third
        assert board.states(DAY) == {
            ("NOI", 1): "served",
            ("NOI", 2): "no_show",
            ("NOI", 3): "called",
            ("NHI", 1): "called",
        }
        snap = board.board(DAY, next_count=3)
        assert [d.department for d in snap.departments] == ["NHI", "NOI"]
        nhi, noi = snap.departments
        assert (nhi.room, [c.number for c in nhi.serving], nhi.next_numbers) == ("105", [1], ())
        assert (noi.room, [c.number for c in noi.serving], noi.next_numbers) == ("203", [3], (4,))
        assert [(a.department, a.number) for a in snap.announcements] == [("NOI", 3), ("NHI", 1)]
        assert snap.version == board.version()


def test_two_desks_at_once_never_share_a_number(store: tuple[Opener, AddCheckin]) -> None:
    opener, add = store
    n = 40
    for i in range(n):
        add(i, "NOI", "203")
    got: dict[str, list[int]] = {"Quầy 1": [], "Quầy 2": [], "Quầy 3": []}
    errors: list[Any] = []
    start = threading.Barrier(len(got))

    def desk(name: str) -> None:
        try:
            with opener() as board:  # type: ignore[attr-defined]
                start.wait()
                while (c := board.call_next(DAY, "NOI", name)) is not None:
                    got[name].append(c.number)
        except Exception as exc:  # reported by the test, not lost in a thread
            errors.append(exc)

    threads = [threading.Thread(target=desk, args=(name,)) for name in got]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert sorted(x for v in got.values() for x in v) == list(range(1, n + 1))  # each once
