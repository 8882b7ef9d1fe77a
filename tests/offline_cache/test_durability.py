"""Durability: a kiosk killed with SIGKILL mid-stream loses no committed check-in.

A writer process (this module run as ``python -m tests.offline_cache.test_durability DB KEYHEX N``)
journals N check-ins and prints each checkin_id only after :meth:`Journal.record` returned.
The test kills it with SIGKILL after some hundreds, then checks that

* every printed (= acknowledged) check-in is in the journal, queue numbers without gaps;
* ``PRAGMA integrity_check`` is ``ok``;
* the SQLite files (db, -wal, -shm) hold none of the names or ID numbers in clear;
* the outbox delivers every journaled check-in to a receiving HIS exactly once by
  idempotency key, although one 2xx reply is lost and that check-in is sent twice.
"""

from __future__ import annotations

import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from offline_cache.crypto import Sealer
from offline_cache.journal import Journal
from offline_cache.outbox import Outbox
from tests.fixtures.his_receiver import HisReceiver

ROOT = Path(__file__).resolve().parents[2]
TOTAL = 1000
WINDOW = 100
NAMES = (
    "Trần Đức Minh",
    "Nguyễn Thị Ánh Tuyết",
    "Võ Minh Khôi",
    "Đặng Quốc Việt",
    "Lê Thị Hoa",
    "Bùi Thanh Tâm",
    "Vi Thị Thu Hà",
    "Phạm Gia Bảo",
)
ADDRESS = "Số 27 Đường Nguyễn Trãi, TP. Hồ Chí Minh"


def holder(i: int) -> dict[str, str]:
    """The i-th made-up patient: sample names, a distinct 12-digit ID number each."""
    return {
        "id_number": f"0791{i:08d}",
        "full_name": NAMES[i % len(NAMES)],
        "date_of_birth": f"{1940 + i % 70}-0{1 + i % 9}-1{i % 10}",
        "sex": "Nam" if i % 2 else "Nữ",
        "place_of_residence": ADDRESS,
    }


def writer(db: Path, key: bytes, n: int) -> None:
    """Journal n check-ins; print each id once record() has returned (it is committed).

    Every WINDOW check-ins it waits for the test to say it has read them, so a busy machine
    cannot let the writer run to the end before the kill: it is at most WINDOW ahead.
    """
    with Journal(db, Sealer(key)) as journal:
        for i in range(n):
            rec = journal.record(
                method="chip", chip_verified=True, holder=holder(i), bhyt_card=f"DN479{i:010d}"
            )
            sys.stdout.write(rec.checkin_id + "\n")
            sys.stdout.flush()
            if (i + 1) % WINDOW == 0:
                sys.stdin.readline()


def _files(db: Path) -> bytes:
    return b"".join(
        p.read_bytes() for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists()
    )


def _assert_nothing_in_clear(db: Path) -> None:
    data = _files(db)
    assert len(data) > 4096
    # Every ID and card number used has a fixed prefix: one regex scan finds any of them
    # (standing alone: twelve digits inside a hex HMAC index are not an ID in clear).
    standalone_id = rb"(?<![0-9a-fA-F])0791\d{8}(?![0-9a-fA-F])"
    for pattern in (standalone_id, rb"DN479\d{10}", "0791".encode("utf-16-le")):
        assert re.search(pattern, data) is None, "an ID or card number in clear"
    secrets = set(NAMES) | {ADDRESS} | {name.split()[-1] for name in NAMES}
    for secret in secrets:
        for encoding in ("utf-8", "utf-16-le"):
            needle = secret.encode(encoding)
            if len(needle) < 6:  # "Hoa" (3 bytes) turns up in 1 MB of ciphertext by chance
                continue
            assert needle not in data, "a name or address in clear"


def test_sigkill_loses_no_committed_checkin(tmp_path: Path) -> None:
    db = tmp_path / "kiosk.db"
    key = os.urandom(32)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.offline_cache.test_durability",
            str(db),
            key.hex(),
            str(TOTAL),
        ],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    kill_after = random.randint(200, 700)
    printed: list[str] = []
    for line in proc.stdout:
        printed.append(line)
        if len(printed) >= kill_after:
            break
        if len(printed) % WINDOW == 0:  # let the writer go on
            proc.stdin.write("\n")
            proc.stdin.flush()
    os.kill(proc.pid, signal.SIGKILL)
    printed += proc.stdout.read().splitlines(keepends=True)  # acknowledged before the kill
    proc.wait()
    proc.stdin.close()
    assert proc.returncode == -signal.SIGKILL, "the writer finished before it was killed"
    acknowledged = [line.strip() for line in printed if line.endswith("\n")]
    assert kill_after <= len(acknowledged) < TOTAL

    # Bytes as the crash left them (WAL not yet checkpointed): nothing personal in clear.
    _assert_nothing_in_clear(db)

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute("SELECT checkin_id, day, queue_number FROM checkins").fetchall()
        outbox = {r[0] for r in conn.execute("SELECT checkin_id FROM outbox")}
    conn.close()
    journaled = {r[0] for r in rows}
    assert set(acknowledged) <= journaled, "a committed check-in was lost"
    assert len(journaled) - len(acknowledged) <= 1  # at most one committed but unprinted
    assert outbox == journaled  # check-in and outbox row are one transaction
    for day in {r[1] for r in rows}:
        numbers = sorted(r[2] for r in rows if r[1] == day)
        assert numbers == list(range(1, len(numbers) + 1))

    sealer = Sealer(key)
    with Journal(db, sealer) as journal:  # the sealed rows still open after the crash
        records = journal.get_many(sorted(journaled))
    assert len(records) == len(journaled)

    # Deliver to the HIS; the first 2xx is lost on the way back, so that check-in goes twice.
    now = datetime.now(UTC)
    with HisReceiver() as his:
        his.lose_replies = 1
        with Outbox(db, sealer, url=his.url, backoff_s=1.0) as outbox_:
            first = outbox_.drain(now=now)
            assert (first.delivered, first.failed, first.pending) == (len(journaled) - 1, 1, 1)
            second = outbox_.drain(now=now + timedelta(seconds=5))
            assert (second.delivered, second.failed, second.pending) == (1, 0, 0)
            assert outbox_.drain(now=now + timedelta(days=1)) == (0, 0, 0, 0)
        stats = his.stats()
        assert set(his.accepted) == journaled  # every check-in, by its idempotency key
        assert stats["max_per_key"] == 1  # ...stored exactly once
        assert stats["duplicates"] == 1 and stats["requests"] == len(journaled) + 1
        for checkin_id in list(journaled)[:20]:
            body = his.bodies[checkin_id]
            assert body["ma_lk"] == checkin_id
            assert body["so_cccd"] == records[checkin_id].holder["id_number"]
            assert body["ho_ten"] == records[checkin_id].holder["full_name"]

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    _assert_nothing_in_clear(db)


if __name__ == "__main__":
    writer(Path(sys.argv[1]), bytes.fromhex(sys.argv[2]), int(sys.argv[3]))
