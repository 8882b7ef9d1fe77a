"""Several kiosks on one PostgreSQL (issue 13): N kiosk processes × check-ins in parallel.

For N = 1, 5, 30 separate processes (tests/fixtures/pg_workers.py, each its own pool, all
starting at one moment) × :data:`PER_KIOSK` check-ins over two departments against one local
PostgreSQL started like the tests' (tests/fixtures/postgres.py: a private ``initdb`` on
loopback, ``fsync=off`` — so the figures are the adapter's and the server's CPU, not a
disk's): throughput, p50/p99 latency of one :meth:`PgJournal.record` (number allocation and
journal write, one transaction; after one warm-up check-in per process, not counted),
duplicates, gaps and lost check-ins (must be 0), then two
outbox drains at once into a local HIS receiver: deliveries per check-in (must be 1). The
same run against SQLite for one kiosk is the baseline (``synchronous=FULL`` on this disk).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from offline_cache.crypto import Sealer
from offline_cache.journal import Journal
from offline_cache.pg.journal import OFFLINE_FIRST, ONLINE_OVERFLOW
from offline_cache.pg.schema import upgrade
from tests.fixtures.his_receiver import HisReceiver
from tests.fixtures.pg_workers import KEY, WARMUP, holder
from tests.fixtures.postgres import PgServer, running_server, why_not

ROOT = Path(__file__).resolve().parents[1]
KIOSKS = (1, 5, 30)
PER_KIOSK = 100
DEPTS = "NOI,RHM"
#: The paced run: 30 kiosks each checking in once every this many seconds (60 check-ins/s
#: offered — a hospital's 30 kiosks at one patient each per 30 s offer 1/s).
PACED_EVERY_S = 0.5


def online_numbers(count: int) -> list[int]:
    """The first ``count`` numbers the shared counter hands out: 1 … 999, then 100000 …
    (the kiosks' offline blocks 1001 … 99999 skipped, offline_cache/spool.py)."""
    return [
        i if i < OFFLINE_FIRST else ONLINE_OVERFLOW + i - OFFLINE_FIRST for i in range(1, count + 1)
    ]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _worker(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.fixtures.pg_workers", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _run_pg(server: PgServer, kiosks: int, every_s: float = 0.0) -> dict[str, Any]:
    url = server.create_database()
    upgrade(url, Sealer(KEY))
    start_at = time.time() + 2.0 + 0.15 * kiosks  # every process connected by then
    procs = [
        _worker("checkins", url, str(PER_KIOSK), DEPTS, str(start_at), str(every_s))
        for _ in range(kiosks)
    ]
    numbers: list[tuple[str, int]] = []
    latencies: list[float] = []
    t_end = start_at
    for p in procs:
        out, _ = p.communicate(timeout=600)
        if p.returncode != 0:
            raise RuntimeError("a kiosk process failed")
        doc = json.loads(out)
        numbers += [(d, n) for d, n in doc["numbers"]]
        latencies += doc["latencies_ms"]
        t_end = max(t_end, doc["t_end"])
    expected = kiosks * PER_KIOSK
    dup = sum(c - 1 for c in Counter(numbers).values() if c > 1)
    gaps = 0
    for dept in DEPTS.split(","):
        got = {n for d, n in numbers if d == dept}
        gaps += len(set(online_numbers(len(got))) - got)
    with HisReceiver(keep_bodies=False) as his:
        drains = [_worker("drain", url, his.url) for _ in range(2)]
        for p in drains:
            p.communicate(timeout=600)
        stats = his.stats()
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE department <> %s), count(*) FROM cccd.checkins",
            (WARMUP,),
        ).fetchone()
    stored, stored_all = (int(row[0]), int(row[1])) if row else (0, 0)
    return {
        "kiosks": kiosks,
        "every_s": every_s,
        "checkins": len(numbers),
        "per_s": len(numbers) / max(t_end - start_at, 1e-9),
        "p50_ms": _pct(latencies, 0.50),
        "p99_ms": _pct(latencies, 0.99),
        "duplicates": dup,
        "gaps": gaps,
        "lost": expected - stored,
        "deliveries_per_checkin": stats["requests"] / max(stored_all, 1),
        "his_max_per_key": stats["max_per_key"],
    }


def _run_sqlite() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, Journal(Path(tmp) / "j.db", Sealer(KEY)) as j:
        latencies: list[float] = []
        numbers: list[tuple[str, int]] = []
        depts = DEPTS.split(",")
        t0 = time.perf_counter()
        for i in range(PER_KIOSK):
            s = time.perf_counter()
            rec = j.record(
                method="manual", chip_verified=False, holder=holder(i), department=depts[i % 2]
            )
            latencies.append((time.perf_counter() - s) * 1000)
            numbers.append((rec.department, rec.queue_number))
        elapsed = time.perf_counter() - t0
    return {
        "kiosks": 1,
        "checkins": len(numbers),
        "per_s": len(numbers) / elapsed,
        "p50_ms": _pct(latencies, 0.50),
        "p99_ms": _pct(latencies, 0.99),
        "duplicates": sum(c - 1 for c in Counter(numbers).values() if c > 1),
    }


SPOOLED = 500


def _run_spool(server: PgServer) -> dict[str, Any]:
    """One kiosk with the cable to the server pulled: :data:`SPOOLED` check-ins into its
    spool (latency of each), then the cable plugged and the sync timed; duplicates and lost
    check-ins on the server afterwards."""
    import psycopg

    from kiosk.app.storage import Storage, upgrade_schema
    from kiosk.config import StorageConfig
    from offline_cache import spool as spool_module
    from tests.fixtures.tcp_cut import Cable

    spool_module.RETRY_S = spool_module.HEARTBEAT_S = 3600.0  # the bench probes itself
    url = server.create_database()
    cable = Cable(server.port)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "kiosk"
        upgrade_schema(folder, StorageConfig(), url)
        storage = Storage.open(folder, StorageConfig(url=cable.url(url), connect_timeout_s=1.0))
        try:
            cable.cut()
            storage.journal.record(method="manual", chip_verified=False, holder=holder(0))
            latencies, numbers = [], []
            for i in range(1, SPOOLED):
                t = time.perf_counter()
                rec = storage.journal.record(
                    method="manual", chip_verified=False, holder=holder(i), department="NOI"
                )
                latencies.append((time.perf_counter() - t) * 1000)
                numbers.append(rec.queue_number)
            cable.plug()
            spooling = storage.spooling
            assert spooling is not None
            t = time.perf_counter()
            online = spooling.probe()
            sync_s = time.perf_counter() - t
        finally:
            storage.close()
            cable.cut()
    with psycopg.connect(url, options="-c search_path=cccd") as conn:
        rows = conn.execute("SELECT department, queue_number FROM checkins").fetchall()
        outbox = conn.execute("SELECT COUNT(*) FROM outbox").fetchone()
    on_server = Counter(rows)
    return {
        "spooled": SPOOLED,
        "online_after": online,
        "p50_ms": _pct(latencies, 0.50),
        "p99_ms": _pct(latencies, 0.99),
        "sync_s": sync_s,
        "synced_per_s": SPOOLED / sync_s,
        "duplicates": sum(c - 1 for c in on_server.values() if c > 1),
        "lost": SPOOLED - len(rows),
        "outbox_rows": int(outbox[0]) if outbox else 0,
        "numbers_kept": sorted(n for d, n in rows if d == "NOI") == sorted(numbers),
    }


def main() -> None:
    """Print one line per run (PostgreSQL N = 1, 5, 30; SQLite 1) and a JSON summary."""
    print(
        f"storage: {PER_KIOSK} check-ins per kiosk, departments {DEPTS}, {os.cpu_count()} cores,"
        f" load average {os.getloadavg()[0]:.1f}"
    )
    base = _run_sqlite()
    print(
        f"  sqlite      1 kiosk : {base['per_s']:7.0f} check-ins/s  p50 {base['p50_ms']:5.2f} ms"
        f"  p99 {base['p99_ms']:5.2f} ms  duplicates {base['duplicates']}"
    )
    reason = why_not()
    if reason:
        print(f"  postgresql: skipped ({reason})")
        return
    results = []
    with running_server() as server:
        for n, every in [(n, 0.0) for n in KIOSKS] + [(KIOSKS[-1], PACED_EVERY_S)]:
            r = _run_pg(server, n, every)
            results.append(r)
            paced = f" paced 1/{every:g}s" if every else ""
            print(
                f"  postgresql {n:2d} kiosks{paced}: {r['per_s']:7.0f} check-ins/s  p50 "
                f"{r['p50_ms']:5.2f} ms  p99 {r['p99_ms']:6.2f} ms  duplicates {r['duplicates']}"
                f"  gaps {r['gaps']}  lost {r['lost']}  deliveries/check-in "
                f"{r['deliveries_per_checkin']:.2f}"
            )
        spool = _run_spool(server)
        print(
            f"  offline spool 1 kiosk: {spool['spooled']} check-ins spooled  p50 "
            f"{spool['p50_ms']:5.2f} ms  p99 {spool['p99_ms']:5.2f} ms; synced in "
            f"{spool['sync_s']:.2f} s ({spool['synced_per_s']:.0f}/s)  duplicates "
            f"{spool['duplicates']}  lost {spool['lost']}  outbox rows {spool['outbox_rows']}"
            f"  numbers kept {spool['numbers_kept']}"
        )
    print(json.dumps({"sqlite": base, "postgresql": results, "spool": spool}, default=float))
    if spool["duplicates"] or spool["lost"] or not spool["numbers_kept"]:
        raise SystemExit("storage bench: the spool lost, duplicated or renumbered check-ins")
    if any(r["duplicates"] or r["gaps"] or r["lost"] for r in results):
        raise SystemExit("storage bench: duplicates, gaps or lost check-ins")
    if statistics.fmean(r["deliveries_per_checkin"] for r in results) != 1.0:
        raise SystemExit("storage bench: an outbox delivery count other than 1 per check-in")


if __name__ == "__main__":
    main()
