"""Eligibility cache at scale: fill 1,000,000 entries, then time ``get()`` (issue 5 §8).

The target is p99 <= 2 ms per lookup with 1 M patients cached. Every row is genuine:
its own synthetic 12-digit ID number, HMAC key, nonce and AES-GCM seal bound to its key,
written by :meth:`EligibilityCache.put_many` in one transaction (sealing streams, so memory
stays flat). Lookups go through the public ``get()`` — HMAC, primary-key probe, decrypt,
JSON parse — for random patients in random order, plus a smaller set of misses (patients
never seen, the common case for a first visit). The database lives in a temporary
directory with the production settings (WAL, ``synchronous=FULL``).

``CCCD_BENCH_CACHE_ENTRIES`` / ``CCCD_BENCH_CACHE_LOOKUPS`` shrink or grow the run.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from offline_cache.cache import EligibilityCache
from offline_cache.crypto import Sealer

ENTRIES = int(os.environ.get("CCCD_BENCH_CACHE_ENTRIES", "1000000"))
LOOKUPS = int(os.environ.get("CCCD_BENCH_CACHE_LOOKUPS", "20000"))
MISSES = max(LOOKUPS // 10, 1)
AS_OF = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
NOW = AS_OF + timedelta(hours=3)


def _id_number(i: int) -> str:
    """Synthetic 12-digit CCCD number: province 001-096, then a serial (distinct per i)."""
    return f"{1 + i % 96:03d}{i:09d}"


def _payload(i: int) -> dict[str, Any]:
    """A result about the size of the real one (~300 bytes of JSON), distinct per patient."""
    return {
        "status": "eligible",
        "code": "000",
        "message": "Thẻ còn giá trị sử dụng!",
        "message_vi": "Thẻ BHYT còn hiệu lực. Mời bạn đến quầy tiếp đón.",
        "message_en": "Health insurance card valid. Please go to reception.",
        "card_number": f"GD47{i:011d}",
        "registered_clinic": f"{i % 99999:05d}",
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
        "as_of": AS_OF.isoformat(),
    }


def _entries(n: int) -> Iterator[tuple[str, dict[str, Any]]]:
    for i in range(n):
        yield _id_number(i), _payload(i)


def _pct(samples_ns: list[int], q: float) -> float:
    """The q-quantile in milliseconds (nearest rank)."""
    ordered = sorted(samples_ns)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6


def _time_gets(cache: EligibilityCache, ids: list[str], expect_hit: bool) -> list[int]:
    samples: list[int] = []
    clock = time.perf_counter_ns
    for id_number in ids:
        t0 = clock()
        entry = cache.get(id_number, now=NOW)
        samples.append(clock() - t0)
        if (entry is not None) != expect_hit:
            raise AssertionError("cache lookup returned the wrong kind of answer")
    return samples


def _report(label: str, samples: list[int]) -> None:
    print(
        f"  {label}: p50 {_pct(samples, 0.50):.3f} ms, p99 {_pct(samples, 0.99):.3f} ms, "
        f"max {max(samples) / 1e6:.2f} ms, mean {statistics.fmean(samples) / 1e6:.3f} ms "
        f"(n={len(samples)})"
    )


def main() -> None:
    """Fill, then measure; prints fill time, file size and lookup percentiles."""
    print(f"Eligibility cache, {ENTRIES:,} entries (bench/cache_bench.py):")
    rng = random.Random(5)
    with tempfile.TemporaryDirectory(prefix="cccd-cache-bench-") as tmp:
        db_path = Path(tmp) / "cache.db"
        sealer = Sealer(os.urandom(32))
        with EligibilityCache(db_path, sealer) as cache:
            t0 = time.perf_counter()
            cache.put_many(_entries(ENTRIES), as_of=AS_OF)
            fill = time.perf_counter() - t0
            count = len(cache)
            if count != ENTRIES:
                raise AssertionError(f"filled {count} rows, expected {ENTRIES}")
            size = db_path.stat().st_size  # the WAL has been checkpointed into it on commit
            print(
                f"  fill: {fill:.1f} s ({ENTRIES / fill:,.0f} rows/s, one transaction), "
                f"database {size / 2**20:.0f} MiB"
            )
        hits = [_id_number(rng.randrange(ENTRIES)) for _ in range(LOOKUPS)]
        misses = [_id_number(ENTRIES + rng.randrange(ENTRIES)) for _ in range(MISSES)]
        # A fresh connection, as after a kiosk restart: SQLite's page cache starts empty and
        # nothing is warmed up (the OS file cache is warm; dropping it needs root).
        with EligibilityCache(db_path, sealer) as cache:
            _report("get, hit ", _time_gets(cache, hits, expect_hit=True))
            _report("get, miss", _time_gets(cache, misses, expect_hit=False))
        print("  target: p99 <= 2 ms at 1 M entries")


if __name__ == "__main__":
    main()
