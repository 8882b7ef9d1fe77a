"""The calling display: how long from a desk's "call next" to the event on a TV's stream.

A clinic's data folder with one department and 100 check-ins; the display server (its own
kiosk, its own connection, polling every 0.2 s as ``cccd-kiosk display`` does) on 127.0.0.1;
an SSE client (httpx) reading ``/events``. Each round a desk calls the next number and the
time until the board event carrying that number arrives is taken. Target: ≤ 1 s.
Also: one call_next transaction alone, and the announcement's WAV from espeak-ng.
"""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx

from kiosk.app.kiosk import Kiosk
from kiosk.app.settings import Overrides, resolve
from kiosk.display.server import DisplayServer
from kiosk.voice import EspeakVoice

CALLS = 60
CONFIG = """
[reader]
name = "sim:default"
[display]
desk = "Quầy 1"
[[departments]]
code = "NOI"
name_vi = "Khoa Nội"
room = "203"
"""


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    print("== display: desk call → event on the display's stream ==")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "kiosk.toml"
        path.write_text(CONFIG, encoding="utf-8")
        settings = resolve(path, Overrides(data_dir=Path(tmp) / "data"))
        with Kiosk(settings, demo_gateway=False) as desk:
            for i in range(CALLS + 40):
                desk.checkin_manual(f"0010880{i:05d}", f"Người {i}", date(1990, 1, 2))
            with Kiosk(settings, demo_gateway=False) as source:
                server = DisplayServer(source, port=0).start()
                try:
                    lat, tx = _rounds(desk, server)
                finally:
                    server.stop()
    print(
        f"  call → event: median {statistics.median(lat):.0f} ms, p99 {_percentile(lat, 0.99):.0f}"
        f" ms, max {max(lat):.0f} ms (n={CALLS}, poll 0.2 s; target ≤ 1000 ms)"
    )
    print(f"  call_next transaction alone: median {statistics.median(tx):.2f} ms")
    if shutil.which("espeak-ng"):
        voice = EspeakVoice()
        times = []
        for n in range(5):
            t0 = time.perf_counter()
            voice.wav(f"Mời số {n + 10} đến phòng 203")
            times.append((time.perf_counter() - t0) * 1000)
        print(f"  espeak-ng announcement WAV: median {statistics.median(times):.0f} ms (n=5)")


def _rounds(desk: Kiosk, server: DisplayServer) -> tuple[list[float], list[float]]:
    latencies: list[float] = []
    transactions: list[float] = []
    with (
        httpx.Client(base_url=server.url, timeout=30) as client,
        client.stream("GET", "/events") as r,
    ):
        lines = r.iter_lines()

        def next_board() -> dict[str, object]:
            for line in lines:
                if line.startswith("data:"):
                    doc: dict[str, object] = json.loads(line[5:])
                    return doc
            raise RuntimeError("the stream ended")

        next_board()
        for _ in range(CALLS):
            time.sleep(0.05)  # the desk is not in lockstep with the poller
            t0 = time.perf_counter()
            called = desk.call_next("NOI")
            transactions.append((time.perf_counter() - t0) * 1000)
            assert called is not None
            while True:
                doc = next_board()
                depts = doc["departments"]
                assert isinstance(depts, list)
                if any(c["number"] == called.number for c in depts[0]["serving"]):
                    break
            latencies.append((time.perf_counter() - t0) * 1000)
    return latencies, transactions
