"""The call board: waiting → called → served / no-show, per department, shared by desks.

Real SQLite files, real threads and real processes on one file: two desks calling the same
department at once must never be handed the same number.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from offline_cache.calls import SqliteCallBoard, clean_desk
from offline_cache.crypto import Sealer
from offline_cache.journal import Journal

KEY = bytes(range(32))
T0 = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)  # 08:30 in Vietnam
DAY = date(2026, 11, 24)


def _holder(i: int) -> dict[str, str]:
    return {"id_number": f"0010880{i:05d}", "full_name": f"Người Thứ {i}"}


def _checkin(j: Journal, i: int, department: str = "NOI", room: str = "203") -> int:
    rec = j.record(
        method="manual",
        chip_verified=False,
        authenticity=None,
        holder=_holder(i),
        bhyt_card=None,
        now=T0 + timedelta(minutes=i),
        department=department,
        room=room,
    )
    return rec.queue_number


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "journal.db"


@pytest.fixture
def journal(db: Path) -> Iterator[Journal]:
    with Journal(db, Sealer(KEY)) as j:
        yield j


@pytest.fixture
def board(db: Path, journal: Journal) -> Iterator[SqliteCallBoard]:
    with SqliteCallBoard(db) as b:
        yield b


def test_call_next_takes_numbers_in_order_per_department(
    journal: Journal, board: SqliteCallBoard
) -> None:
    for i in range(3):
        _checkin(journal, i, "NOI", "203")
    _checkin(journal, 10, "NHI", "105")
    first = board.call_next(DAY, "NOI", "Quầy 1")
    assert first is not None
    assert (first.department, first.number, first.room, first.desk, first.state) == (
        "NOI",
        1,
        "203",
        "Quầy 1",
        "called",
    )
    other = board.call_next(DAY, "nhi", "Quầy 2")  # codes are case-insensitive
    assert other is not None and (other.department, other.number, other.room) == ("NHI", 1, "105")
    second = board.call_next(DAY, "NOI", "Quầy 2")
    assert second is not None and second.number == 2
    # nobody else waits there: nothing called, but the desk's open call there is done
    assert board.call_next(DAY, "NHI", "Quầy 2") is None
    # a desk's next call closes its previous one as served
    third = board.call_next(DAY, "NOI", "Quầy 1")
    assert third is not None and third.number == 3
    assert board.states(DAY) == {
        ("NOI", 1): "served",
        ("NOI", 2): "called",
        ("NOI", 3): "called",
        ("NHI", 1): "served",
    }
    assert board.call_next(DAY, "NOI", "Quầy 3") is None
    # another day is another queue
    assert board.call_next(DAY + timedelta(days=1), "NOI", "Quầy 1") is None


def test_served_no_show_and_recall(journal: Journal, board: SqliteCallBoard) -> None:
    for i in range(2):
        _checkin(journal, i)
    called = board.call_next(DAY, "NOI", "Quầy 1")
    assert called is not None and called.announcements == 1
    again = board.recall(DAY, "NOI", 1)
    assert again is not None
    assert again.announcements == 2 and again.announce_seq > called.announce_seq
    assert board.current(DAY, "NOI", "Quầy 1") == again
    assert board.mark_no_show(DAY, "NOI", 1) is True
    assert board.mark_served(DAY, "NOI", 1) is False  # already closed
    assert board.recall(DAY, "NOI", 1) is None  # a closed number is not announced again
    assert board.current(DAY, "NOI", "Quầy 1") is None
    assert board.recall(DAY, "NOI", 2) is None  # never called
    nxt = board.call_next(DAY, "NOI", "Quầy 1")
    assert nxt is not None and nxt.number == 2  # a no-show is not called again by "next"
    assert board.mark_served(DAY, "NOI", 2) is True
    assert board.states(DAY) == {("NOI", 1): "no_show", ("NOI", 2): "served"}


def test_board_shows_serving_next_and_no_personal_data(
    journal: Journal, board: SqliteCallBoard
) -> None:
    for i in range(8):
        _checkin(journal, i, "NOI", "203")
    _checkin(journal, 20, "NHI", "105")
    board.call_next(DAY, "NOI", "Quầy 1")
    board.call_next(DAY, "NOI", "Quầy 2")
    b = board.board(DAY, next_count=3)
    assert [d.department for d in b.departments] == ["NHI", "NOI"]
    noi = b.departments[1]
    assert [c.number for c in noi.serving] == [2, 1]  # the latest call first
    assert noi.next_numbers == (3, 4, 5) and noi.waiting == 6 and noi.room == "203"
    nhi = b.departments[0]
    assert nhi.serving == () and nhi.next_numbers == (1,) and nhi.room == "105"
    assert [(a.department, a.number) for a in b.announcements] == [("NOI", 2), ("NOI", 1)]
    assert "Người" not in repr(b) and "0010880" not in repr(b)


def test_version_changes_with_calls_and_checkins(journal: Journal, board: SqliteCallBoard) -> None:
    v0 = board.version()
    _checkin(journal, 1)
    v1 = board.version()
    assert v1 != v0
    assert board.call_next(DAY, "NOI", "Quầy 1") is not None
    v2 = board.version()
    assert v2 != v1
    assert board.call_next(DAY, "NOI", "Quầy 2") is None  # nothing changed
    assert board.version() == v2
    assert board.recall(DAY, "NOI", 1) is not None
    v3 = board.version()
    assert v3 != v2
    assert board.mark_served(DAY, "NOI", 1)
    assert board.version() != v3
    assert board.board(DAY).version == board.version()


def test_a_second_connection_sees_the_calls(db: Path, journal: Journal) -> None:
    _checkin(journal, 1)
    with SqliteCallBoard(db) as desk1, SqliteCallBoard(db) as display:
        before = display.version()
        assert desk1.call_next(DAY, "NOI", "Quầy 1") is not None
        assert display.version() != before
        assert [c.number for c in display.board(DAY).departments[0].serving] == [1]


def test_two_desks_in_threads_never_get_the_same_number(db: Path, journal: Journal) -> None:
    n = 60
    for i in range(n):
        _checkin(journal, i)
    got: dict[str, list[int]] = {"Quầy 1": [], "Quầy 2": []}
    start = threading.Barrier(2)

    def desk(name: str) -> None:
        with SqliteCallBoard(db) as b:  # each desk its own connection, like two kiosks
            start.wait()
            while (c := b.call_next(DAY, "NOI", name)) is not None:
                got[name].append(c.number)

    threads = [threading.Thread(target=desk, args=(name,)) for name in got]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    both = got["Quầy 1"] + got["Quầy 2"]
    assert sorted(both) == list(range(1, n + 1))  # each number called exactly once
    assert got["Quầy 1"] == sorted(got["Quầy 1"]) and got["Quầy 2"] == sorted(got["Quầy 2"])


def _desk_process(db: str, name: str, out: multiprocessing.Queue[list[int]]) -> None:
    numbers = []
    with SqliteCallBoard(Path(db)) as b:
        while (c := b.call_next(DAY, "NOI", name)) is not None:
            numbers.append(c.number)
    out.put(numbers)


def test_two_desk_processes_never_get_the_same_number(db: Path, journal: Journal) -> None:
    n = 40
    for i in range(n):
        _checkin(journal, i)
    ctx = multiprocessing.get_context("spawn")
    out: multiprocessing.Queue[list[int]] = ctx.Queue()
    procs = [ctx.Process(target=_desk_process, args=(str(db), f"Quầy {k}", out)) for k in (1, 2)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    assert sorted(results[0] + results[1]) == list(range(1, n + 1))


def test_desk_names_are_cleaned() -> None:
    assert clean_desk("  Quầy 1\n") == "Quầy 1"
    assert len(clean_desk("x" * 100)) == 40
    with pytest.raises(ValueError):
        clean_desk(" \t ")
