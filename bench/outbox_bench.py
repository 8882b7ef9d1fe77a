"""Outbox drain throughput: 10,000 journaled check-ins to a local HIS receiver.

The receiver (``tests/fixtures/his_receiver.py``) runs as its own process on 127.0.0.1, so
client and server do not share one interpreter lock. The outbox reuses one keep-alive
:class:`httpx.Client` and marks results one transaction per batch; measured one request in
flight (the default, queue order) and four. Each check-in is opened
from its sealed row and turned into its payload at send time, as in production. Also prints
the journal's own rate (one fsynced transaction per check-in, synchronous=FULL).
Target: drain >= 1,000 check-ins/s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from offline_cache.crypto import Sealer
from offline_cache.journal import Journal
from offline_cache.outbox import Outbox, PayloadFormat

ROOT = Path(__file__).resolve().parent.parent
N = 10_000
TARGET = 1_000.0
NAMES = ("Trần Đức Minh", "Nguyễn Thị Ánh Tuyết", "Lê Thị Hoa", "Phạm Gia Bảo")


def _receiver() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fixtures.his_receiver", "--port", "0"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().split()
    if len(line) != 2 or line[0] != "PORT":
        proc.kill()
        raise RuntimeError("the HIS receiver did not start")
    return proc, f"http://127.0.0.1:{line[1]}"


def _fill(db: Path, sealer: Sealer) -> float:
    """Journal N check-ins with eligibility attached; returns check-ins/s of record()."""
    elig = {
        "status": "eligible",
        "code": "000",
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
        "registered_clinic": "01001",
        "card_number": None,
        "source": "live",
        "as_of": datetime.now(UTC).isoformat(),
        "stale": False,
    }
    with Journal(db, sealer) as journal:
        t0 = time.perf_counter()
        ids = []
        for i in range(N):
            holder = {
                "id_number": f"0791{i:08d}",
                "full_name": NAMES[i % len(NAMES)],
                "date_of_birth": "1988-03-04",
                "sex": "Nam" if i % 2 else "Nữ",
            }
            ids.append(journal.record(method="chip", chip_verified=True, holder=holder).checkin_id)
        rate = N / (time.perf_counter() - t0)
        for i, checkin_id in enumerate(ids):
            journal.attach_eligibility(checkin_id, {**elig, "card_number": f"DN479{i:010d}"})
    return rate


def _drain(
    db: Path, sealer: Sealer, fmt: PayloadFormat, concurrency: int
) -> tuple[float, dict[str, int]]:
    proc, base = _receiver()
    try:
        with Journal(db, sealer) as journal:
            journal.db.conn.execute(  # every row due again (the second format)
                "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = 0"
            )
            journal.db.conn.commit()
        with Outbox(
            db, sealer, url=f"{base}/checkins", payload_format=fmt, concurrency=concurrency
        ) as outbox:
            t0 = time.perf_counter()
            report = outbox.drain()
            elapsed = time.perf_counter() - t0
        if report.delivered != N or report.pending != 0:
            raise RuntimeError(f"drain did not deliver everything: {report}")
        with urllib.request.urlopen(f"{base}/stats", timeout=5) as resp:
            stats = json.load(resp)
        return N / elapsed, stats
    finally:
        proc.kill()
        proc.wait()


def main() -> None:
    """Print journal and drain rates (XML 130 and FHIR payloads)."""
    print(f"== outbox: drain {N:,} check-ins to a local HIS receiver (127.0.0.1) ==")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "kiosk.db"
        sealer = Sealer(os.urandom(32))
        rate = _fill(db, sealer)
        print(f"journal record(): {rate:,.0f} check-ins/s (one fsynced transaction each)")
        runs: tuple[tuple[PayloadFormat, int], ...] = (("xml130", 1), ("fhir", 1), ("xml130", 4))
        for fmt, concurrency in runs:
            drain_rate, stats = _drain(db, sealer, fmt, concurrency)
            ok = "ok" if stats["unique"] == N and stats["requests"] == N else f"MISMATCH {stats}"
            print(
                f"drain {fmt:6}, {concurrency} in flight: {drain_rate:,.0f} check-ins/s"
                f"  (target >= {TARGET:,.0f}/s)"
                f"  receiver: {stats['unique']:,} unique / {stats['requests']:,} requests {ok}"
            )


if __name__ == "__main__":
    main()
