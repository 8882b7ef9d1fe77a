"""The journal's queue-number allocation, run on both servers it is meant for.

The SQLite journal takes each number from a counter row bumped in the check-in's own
transaction (``INSERT … ON CONFLICT DO UPDATE … RETURNING``), the allocation issue 13 asks
of the shared PostgreSQL store. Here the journal's own counter table and statement run on a
real PostgreSQL (tests/fixtures/postgres.py) from many connections at once: no number twice,
no gap — where ``MAX()+1`` over the rows hands out duplicates under the same load.
"""

from __future__ import annotations

import threading
from typing import Any

import psycopg

from offline_cache import journal

#: The counter table exactly as the journal creates it.
COUNTERS_DDL = next(s for s in journal._SCHEMA if "queue_counters" in s)
#: The journal's allocation statement, with PostgreSQL's placeholders.
ALLOCATE = (
    "INSERT INTO queue_counters (day, department, last_number) VALUES (%s, %s, 1)"
    " ON CONFLICT (day, department) DO UPDATE SET last_number = queue_counters.last_number + 1"
    " RETURNING last_number"
)


def _allocate_many(url: str, department: str, n: int, out: list[int], errors: list[Any]) -> None:
    try:
        with psycopg.connect(url) as conn:
            for _ in range(n):
                with conn.transaction():
                    row = conn.execute(ALLOCATE, ("2026-12-03", department)).fetchone()
                    assert row is not None
                    out.append(int(row[0]))
    except Exception as exc:  # reported by the test, not lost in a thread
        errors.append(exc)


def test_counter_rows_give_gap_free_unique_numbers_on_postgresql(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(COUNTERS_DDL)
    got: dict[str, list[int]] = {"NOI": [], "RHM": []}
    errors: list[Any] = []
    threads = [
        threading.Thread(target=_allocate_many, args=(pg_url, dept, 25, got[dept], errors))
        for dept in ("NOI", "RHM")
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for numbers in got.values():  # 8 connections × 25 each, per department
        assert sorted(numbers) == list(range(1, 201))


def test_a_rolled_back_allocation_gives_its_number_back(pg_url: str, postgres: Any) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(COUNTERS_DDL)
    with psycopg.connect(pg_url) as conn:
        with conn.transaction():
            conn.execute(ALLOCATE, ("2026-12-03", "NOI"))
        try:
            with conn.transaction():
                conn.execute(ALLOCATE, ("2026-12-03", "NOI"))
                raise RuntimeError("the check-in's insert failed")
        except RuntimeError:
            pass
    postgres.restart()  # and the committed counter survives an abrupt server restart
    with psycopg.connect(pg_url) as conn:
        row = conn.execute(ALLOCATE, ("2026-12-03", "NOI")).fetchone()
    assert row is not None and row[0] == 2
