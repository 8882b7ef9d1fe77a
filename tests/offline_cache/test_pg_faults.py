"""The shared PostgreSQL journal under load and faults, with separate kiosk processes.

* 20 processes × 25 check-ins over two departments at once → every number of each
  department from 1 to its count exactly once (0 duplicates, 0 gaps), one outbox row each;
* a kiosk SIGKILLed inside a check-in transaction (counter bumped, row written, not
  committed) → nothing of it stored, and the next check-in takes the number it would have;
* the server restarted mid-run → the call made while it is down raises the typed
  :class:`StorageUnreachable` (with its error-table entry); the next call works and the
  numbers continue;
* an outbox claim held by a killed kiosk is left alone until it expires, then another
  kiosk delivers every row exactly once; two kiosks draining at once never send one twice.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.app.messages import message_for
from offline_cache.crypto import Sealer, StorageUnreachable
from offline_cache.outbox import Outbox
from offline_cache.pg.store import PgStore
from tests.fixtures.his_receiver import HisReceiver
from tests.fixtures.pg_workers import KEY, holder
from tests.fixtures.postgres import PgServer
from tests.fixtures.storage_adapters import open_pg, pg_sql

ROOT = Path(__file__).resolve().parents[2]


def _worker(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.fixtures.pg_workers", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@contextmanager
def _store(url: str) -> Iterator[PgStore]:
    store = open_pg(url)
    try:
        yield store
    finally:
        store.close()


def test_twenty_kiosk_processes_never_share_or_skip_a_number(pg_url: str) -> None:
    with _store(pg_url):
        pass  # schema upgraded, key recorded
    procs = [_worker("checkins", pg_url, "25", "NOI,RHM") for _ in range(20)]
    got: list[tuple[str, int]] = []
    for p in procs:
        out, _ = p.communicate(timeout=300)
        assert p.returncode == 0
        got += [(d, n) for d, n in json.loads(out)["numbers"]]
    per_dept = Counter(d for d, _ in got)
    assert per_dept == {"NOI": 260, "RHM": 240}  # 13 + 12 of each process's 25
    for dept, count in per_dept.items():
        numbers = sorted(n for d, n in got if d == dept)
        assert numbers == list(range(1, count + 1))  # no duplicate, no gap
    sql = pg_sql(pg_url)
    assert sql("SELECT count(*) FROM checkins") == [(500,)]
    assert sql("SELECT count(*) FROM outbox WHERE state = 'pending'") == [(500,)]
    assert sql("SELECT department, last_number FROM queue_counters ORDER BY 1") == [
        ("NOI", 260),
        ("RHM", 240),
    ]


_HANG = """
CREATE FUNCTION hang() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.department = 'NOI' AND NEW.queue_number > 1 THEN PERFORM pg_sleep(3600); END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER hang BEFORE INSERT ON checkins FOR EACH ROW EXECUTE FUNCTION hang();
"""


def test_a_kiosk_killed_inside_a_check_in_leaves_nothing_and_no_gap(pg_url: str) -> None:
    sql = pg_sql(pg_url)
    with _store(pg_url) as store:
        first = store.journal.record(
            method="manual", chip_verified=False, holder=holder(1), department="NOI"
        )
        sql(_HANG)  # the next NOI check-in stops inside its statement: number 2 taken, unsaved
        proc = _worker("hang-in-checkin", pg_url, "NOI")
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "started"
        stuck: list[tuple[object, ...]] = []
        for _ in range(600):
            stuck = sql(
                "SELECT pid FROM pg_stat_activity WHERE wait_event = 'PgSleep'"
                " AND application_name = 'cccd-kiosk'"
            )
            if stuck:
                break
            time.sleep(0.05)
        assert stuck, "the kiosk's check-in never reached the server"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        # what the server does when it notices the client gone (client_connection_check_
        # interval), without waiting for that: end the kiosk's backend
        sql(f"SELECT pg_terminate_backend({stuck[0][0]})")
        sql("DROP TRIGGER hang ON checkins")
        nxt = store.journal.record(
            method="manual", chip_verified=False, holder=holder(2), department="NOI"
        )
        assert (first.queue_number, nxt.queue_number) == (1, 2)
        day = first.created_at.astimezone(store.journal._tz).date()
        assert [r.queue_number for r in store.journal.day(day)] == [1, 2]
    assert pg_sql(pg_url)("SELECT count(*) FROM outbox") == [(2,)]


def test_a_server_restart_fails_one_call_with_the_typed_error_then_works(
    pg_url: str, postgres: PgServer
) -> None:
    with _store(pg_url) as store:
        j = store.journal
        assert j.record(method="manual", chip_verified=False, holder=holder(1)).queue_number == 1
        postgres.stop("immediate")
        try:
            with pytest.raises(StorageUnreachable) as info:
                j.record(method="manual", chip_verified=False, holder=holder(2))
        finally:
            postgres.start()
        assert "database server" in message_for(info.value).title_en
        again = j.record(method="manual", chip_verified=False, holder=holder(3))
        assert again.queue_number == 2  # the failed call took no number
        assert len(j.by_patient(holder(3)["id_number"])) == 1


def test_a_killed_kiosks_claim_expires_and_another_delivers_once(pg_url: str) -> None:
    with _store(pg_url) as store:
        ids = [
            store.journal.record(method="manual", chip_verified=False, holder=holder(i)).checkin_id
            for i in range(5)
        ]
        proc = _worker("claim-and-hang", pg_url)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "5"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        now = datetime.now(UTC)
        with HisReceiver() as his, Outbox(store.journal, Sealer(KEY), url=his.url) as ob:
            assert ob.drain(now=now).delivered == 0  # the dead kiosk's claim still holds
            later = now + timedelta(seconds=store.journal.claim_s + 1)
            assert ob.drain(now=later).delivered == 5
            assert ob.drain(now=later + timedelta(hours=1)).delivered == 0
            assert his.stats() == {"requests": 5, "unique": 5, "duplicates": 0, "max_per_key": 1}
            assert set(his.bodies) == set(ids)


def test_two_kiosks_draining_at_once_send_each_check_in_once(pg_url: str) -> None:
    with _store(pg_url) as store:
        for i in range(200):
            store.journal.record(method="manual", chip_verified=False, holder=holder(i))
        with HisReceiver() as his:
            procs = [_worker("drain", pg_url, his.url) for _ in range(2)]
            reports = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
            assert sum(r["delivered"] for r in reports) == 200
            assert his.stats() == {
                "requests": 200,
                "unique": 200,
                "duplicates": 0,
                "max_per_key": 1,
            }
        assert store.journal.outbox_counts()["delivered"] == 200


def test_one_card_tapped_at_eight_kiosks_at_once_gets_one_number(pg_url: str) -> None:
    stores = [open_pg(pg_url) for _ in range(8)]
    barrier = threading.Barrier(len(stores))
    got: list[tuple[str, int]] = []

    def tap(store: PgStore) -> None:
        barrier.wait()
        rec = store.journal.record(
            method="chip", chip_verified=True, holder=holder(7), reuse_today=True
        )
        got.append((rec.checkin_id, rec.queue_number))

    threads = [threading.Thread(target=tap, args=(s,)) for s in stores]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        for s in stores:
            s.close()
    assert len(got) == 8 and len(set(got)) == 1 and got[0][1] == 1
    assert pg_sql(pg_url)("SELECT count(*) FROM checkins") == [(1,)]
