"""The Qt kiosk: cold start to the idle screen, and resident memory over 100 check-ins.

Both run in fresh child processes (``python -m bench.ui_bench --child start|memory``) on Qt's
offscreen platform, :data:`RUNS` of each; the parent prints the medians.

* *Cold start* (target ≤ 1.5 s): inside a fresh interpreter, from before PySide6 and the
  kiosk are imported to the idle screen exposed — imports, ``QApplication``,
  :func:`ui.app.build_window` (demo gateway on loopback, trust store, worker thread) and
  ``show()`` until the window is exposed with the idle screen current. The child prints its
  own timing; interpreter start-up itself is not included.
* *Memory* (target ≤ 250 MB, no growth trend): the demo window in-process; each check-in
  clicks the tester panel's tap button (sample cards in turn), waits for the result (or an
  error screen), then clicks remove. ``VmRSS`` from ``/proc/self/status`` after every 10
  check-ins. The trend is the least-squares slope of the series after the first point
  (warm-up), in MB per 10 check-ins.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 5
CHECKINS = 100
EVERY = 10
START_TARGET_S = 1.5
RSS_TARGET_MB = 250.0
#: Generous bound for one check-in (a loaded machine); never reported as a timing.
CHECKIN_BOUND_S = 60.0


def rss_mb() -> float:
    """This process's resident set size in MB (``VmRSS`` of ``/proc/self/status``)."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def slope(values: list[float]) -> float:
    """Least-squares slope of ``values`` against their index (0 for fewer than two)."""
    n = len(values)
    if n < 2:
        return 0.0
    mx = (n - 1) / 2
    my = sum(values) / n
    num = sum((i - mx) * (v - my) for i, v in enumerate(values))
    den = sum((i - mx) ** 2 for i in range(n))
    return num / den


def _child_start() -> dict[str, float]:
    """Cold start to the idle screen, measured in this (fresh) process."""
    t0 = time.perf_counter()
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from kiosk.config import Config, ReaderConfig
    from ui.app import build_window

    t_import = time.perf_counter()
    app = QApplication.instance() or QApplication([sys.argv[0]])
    with tempfile.TemporaryDirectory(prefix="cccd-kiosk-uibench-") as tmp:
        window, gateway = build_window(
            Config(reader=ReaderConfig("sim:default")), data_dir=Path(tmp)
        )
        window.resize(1280, 800)
        window.show()
        QTest.qWaitForWindowExposed(window)
        app.processEvents()
        if window.stack.currentWidget() is not window.idle or not window.idle.isVisible():
            raise RuntimeError("the idle screen is not shown")
        t_idle = time.perf_counter()
        window.close()
        if gateway is not None:
            gateway.stop()
    return {"import_s": t_import - t0, "start_s": t_idle - t0}


def _child_memory() -> dict[str, list[float]]:
    """RSS every :data:`EVERY` check-ins over :data:`CHECKINS` tester-panel taps."""
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    from kiosk.config import Config, ReaderConfig
    from ui.app import build_window

    app = QApplication.instance() or QApplication([sys.argv[0]])
    series: list[float] = []
    screens: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="cccd-kiosk-uibench-") as tmp:
        window, gateway = build_window(
            Config(reader=ReaderConfig("sim:default")), data_dir=Path(tmp), idle_timeout_s=3600
        )
        window.resize(1280, 800)
        window.show()
        tester = window.tester
        assert tester is not None
        cards = [tester.card_box.itemText(i) for i in range(tester.card_box.count())]
        try:
            for n in range(1, CHECKINS + 1):
                tester.card_box.setCurrentText(cards[(n - 1) % len(cards)])
                tester.tap_button.click()
                deadline = time.monotonic() + CHECKIN_BOUND_S
                while window.state.screen not in ("result", "error"):
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"check-in {n} did not finish")
                    app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)
                screens[window.state.screen] = screens.get(window.state.screen, 0) + 1
                tester.remove_button.click()
                window.state.cancel()  # reception keeps a result; both modes go back to idle
                app.processEvents()
                if n % EVERY == 0:
                    series.append(round(rss_mb(), 1))
        finally:
            window.close()
            if gateway is not None:
                gateway.stop()
    if screens.get("result", 0) == 0:
        raise RuntimeError(f"no check-in reached the result screen: {screens}")
    return {"rss_mb": series, "results": [float(screens.get("result", 0))]}


def _spawn(kind: str) -> dict[str, list[float]] | dict[str, float]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run(
        [sys.executable, "-m", "bench.ui_bench", "--child", kind],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"ui bench child {kind} failed:\n{proc.stderr[-2000:]}")
    result: dict[str, list[float]] | dict[str, float] = json.loads(proc.stdout.splitlines()[-1])
    return result


def main(runs: int = RUNS) -> None:
    """Print the cold-start and memory medians (each from ``runs`` fresh processes)."""
    print(f"== ui: Qt kiosk cold start and memory (offscreen, {runs} fresh processes each) ==")
    starts = [_spawn("start") for _ in range(runs)]
    start = statistics.median(float(s["start_s"]) for s in starts)  # type: ignore[arg-type]
    imports = statistics.median(float(s["import_s"]) for s in starts)  # type: ignore[arg-type]
    verdict = "ok" if start <= START_TARGET_S else "OVER"
    print(
        f"cold start to idle screen: median {start:.2f} s (imports {imports:.2f} s)"
        f"  target ≤ {START_TARGET_S} s  {verdict}"
    )
    print("  runs: " + ", ".join(f"{float(s['start_s']):.2f}" for s in starts))  # type: ignore[arg-type]
    series_runs: list[list[float]] = []
    for i in range(runs):
        out = _spawn("memory")
        rss = [float(v) for v in out["rss_mb"]]  # type: ignore[union-attr]
        series_runs.append(rss)
        print(f"  run {i + 1}: RSS MB every {EVERY} check-ins: {rss}")
    median_series = [statistics.median(col) for col in zip(*series_runs, strict=True)]
    peak = max(median_series)
    trend = slope(median_series[1:])
    verdict = "ok" if peak <= RSS_TARGET_MB else "OVER"
    print(f"RSS after {CHECKINS} check-ins (median series, MB): {median_series}")
    print(
        f"  peak {peak:.1f} MB  target ≤ {RSS_TARGET_MB:.0f} MB  {verdict};"
        f"  trend after warm-up {trend:+.2f} MB per {EVERY} check-ins"
    )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child = {"start": _child_start, "memory": _child_memory}[sys.argv[2]]
        print(json.dumps(child()))
    else:
        main()
