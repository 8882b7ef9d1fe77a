"""Watching over the kiosk: what a Prometheus scrape of ``/metrics`` costs (over HTTP, on a
demo kiosk with check-ins journaled), a doctor run over the running kiosk (what the settings
screen waits for), and one audit-trail append (``synchronous=FULL``) and a chain check."""

from __future__ import annotations

import dataclasses
import os
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx

from kiosk.app.doctor import run_checks
from kiosk.app.kiosk import Kiosk
from kiosk.app.settings import Overrides, resolve
from kiosk.config import STATUS_ENV_TOKEN, StatusConfig

TOKEN = "bench-status-token-0123456789"
SCRAPES = 200
APPENDS = 200


def main() -> None:
    print("== ops: status scrape, doctor run, audit append ==")
    os.environ[STATUS_ENV_TOKEN] = TOKEN
    with tempfile.TemporaryDirectory() as tmp:
        base = resolve(None, Overrides(data_dir=Path(tmp) / "data"))
        config = dataclasses.replace(base.config, status=StatusConfig(port=0))
        settings = dataclasses.replace(base, config=config)
        with Kiosk(settings, link_kbps=0) as kiosk:
            server = kiosk.serve_status()
            assert server is not None
            for i in range(50):
                kiosk.checkin_manual(f"0790010{i:05d}", "Lê Văn Bình", date(1990, 1, 2))
            times = []
            with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}) as client:
                for _ in range(SCRAPES):
                    t0 = time.perf_counter()
                    body = client.get(server.url + "/metrics").content
                    times.append((time.perf_counter() - t0) * 1000)
            times.sort()
            print(
                f"  /metrics scrape: median {statistics.median(times):.2f} ms, "
                f"p95 {times[int(SCRAPES * 0.95)]:.2f} ms, {len(body)} bytes (n={SCRAPES}, "
                "50 check-ins pending)"
            )
            t0 = time.perf_counter()
            checks = run_checks(settings, kiosk=kiosk)
            print(f"  doctor over the running demo: {time.perf_counter() - t0:.2f} s, "
                  f"{len(checks)} checks")  # fmt: skip
            t0 = time.perf_counter()
            for _ in range(APPENDS):
                kiosk.audit("export", target="2026-12-03", format="csv")
            per = (time.perf_counter() - t0) / APPENDS * 1000
            t0 = time.perf_counter()
            v = kiosk.audit_log.verify()
            verify_ms = (time.perf_counter() - t0) * 1000
            print(f"  audit append: {per:.2f} ms each; verify {v.rows} rows: {verify_ms:.1f} ms")
