"""The call board's contract over both adapters (the journal's SQLite file, the shared
PostgreSQL): numbers called in order per department, recall, served and no-show, the board a
display shows, its version token, and two desks calling at once never given one number."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

from tests.fixtures.storage_adapters import Adapter

T0 = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)  # 08:30 in Vietnam
DAY = date(2026, 11, 24)


def _checkin(adapter: Adapter, i: int, department: str = "NOI", room: str = "203") -> int:
    rec = adapter.journal.record(
        method="manual",
        chip_verified=False,
        holder={"id_number": f"0010880{i:05d}", "full_name": f"Người Thứ {i}"},
        now=T0 + timedelta(minutes=i),
        department=department,
        room=room,
    )
    return rec.queue_number


def test_call_next_in_order_recall_and_close(adapter: Adapter) -> None:
    board = adapter.calls()
    for i in range(3):
        _checkin(adapter, i, "NOI", "203")
    _checkin(adapter, 10, "NHI", "105")
    first = board.call_next(DAY, "noi", "Quầy 1", now=T0)
    assert first is not None
    assert (first.department, first.number, first.room, first.desk) == ("NOI", 1, "203", "Quầy 1")
    assert first.day == DAY and first.called_at == T0
    second = board.call_next(DAY, "NOI", "Quầy 2")
    assert second is not None and second.number == 2
    again = board.recall(DAY, "NOI", 1)
    assert again is not None and again.announcements == 2
    assert again.announce_seq > second.announce_seq
    assert board.current(DAY, "NOI", "Quầy 1") == again
    third = board.call_next(DAY, "NOI", "Quầy 1")  # closes Quầy 1's open call as served
    assert third is not None and third.number == 3
    assert board.mark_no_show(DAY, "NOI", 2) and not board.mark_served(DAY, "NOI", 2)
    assert board.recall(DAY, "NOI", 2) is None
    assert board.call_next(DAY, "NOI", "Quầy 2") is None  # nobody waits
    assert board.states(DAY) == {("NOI", 1): "served", ("NOI", 2): "no_show", ("NOI", 3): "called"}
    assert board.call_next(DAY + timedelta(days=1), "NOI", "Quầy 1") is None


def test_the_board_and_its_version_seen_from_another_desk(adapter: Adapter) -> None:
    desk, display = adapter.calls(), adapter.calls()
    v0 = display.version()
    for i in range(6):
        _checkin(adapter, i, "NOI", "203")
    _checkin(adapter, 20, "NHI", "105")
    v1 = display.version()
    assert v1 != v0
    desk.call_next(DAY, "NOI", "Quầy 1")
    desk.call_next(DAY, "NOI", "Quầy 2")
    assert display.version() != v1
    b = display.board(DAY, next_count=3)
    assert b.version == display.version()
    assert [d.department for d in b.departments] == ["NHI", "NOI"]
    noi = b.departments[1]
    assert [c.number for c in noi.serving] == [2, 1]
    assert noi.next_numbers == (3, 4, 5) and noi.waiting == 4 and noi.room == "203"
    assert b.departments[0].next_numbers == (1,) and b.departments[0].room == "105"
    assert [(a.department, a.number) for a in b.announcements] == [("NOI", 2), ("NOI", 1)]
    assert "Người" not in repr(b) and "0010880" not in repr(b)


def test_two_desks_calling_at_once_never_get_one_number(adapter: Adapter) -> None:
    n = 40
    for i in range(n):
        _checkin(adapter, i)
    got: dict[str, list[int]] = {"Quầy 1": [], "Quầy 2": []}
    boards = {name: adapter.calls() for name in got}  # each desk its own connection
    start = threading.Barrier(2)

    def desk(name: str) -> None:
        start.wait()
        while (c := boards[name].call_next(DAY, "NOI", name)) is not None:
            got[name].append(c.number)

    threads = [threading.Thread(target=desk, args=(name,)) for name in got]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(got["Quầy 1"] + got["Quầy 2"]) == list(range(1, n + 1))
