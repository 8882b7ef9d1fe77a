"""PC/SC overhead: the software chip behind a real pcscd + vpcd against the same chip in process.

* per APDU: the median wall time of one short plain APDU (SELECT of the eMRTD
  application, answered 9000) through pyscard → pcscd → vpcd → the bridge,
  against :class:`drivers.simulated.SimulatedTransport` with a zero-latency
  link; the difference is what PC/SC itself costs per exchange;
* full read: the median wall time of a whole PACE read of the default card
  (connect, reset and extended-length probe included) both ways;
* card detection: insert → pcscd reports the card (pcscd polls vpcd every 0.4 s,
  so this is about the polling period, not the kiosk's speed).

It starts its own pcscd exactly as the tests do (tests/fixtures/pcscd.py: a mount
namespace, so root or password-less sudo) and says why when it cannot.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable

from kiosk.cccd import access
from kiosk.emrtd.session import ReaderSession

APDU = bytes.fromhex("00A4040C07A0000002471001")  # SELECT eMRTD application, no FCI
APDUS = 1000
READS = 20
INSERTS = 5
KEY = access.key_from_id("001088034517")
READER = "Virtual PCD 00 00"


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _per_apdu(transmit: Callable[[bytes], bytes], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        reply = transmit(APDU)
        out.append(time.perf_counter() - t0)
        if reply[-2:] != b"\x90\x00":
            raise RuntimeError(f"SELECT answered {reply.hex()}")
    return out


def main() -> None:
    os.environ.setdefault(
        "CCCD_SIM_HOME", os.path.join(tempfile.gettempdir(), f"cccd-kiosk-bench-{os.getuid()}")
    )
    print("== pcsc: the simulator behind a real pcscd + vpcd, against in-process ==")
    from tests.fixtures import pcscd as private  # sets PCSCLITE_CSOCK_NAME before pyscard is used

    reason = private.why_not()
    if reason is not None:
        print(f"  skipped: {reason}")
        return
    from drivers import pcsc
    from drivers.simulated import open_simulated
    from simulators.card.personalize import make_chip
    from simulators.vpcd import VpcdCard

    # in process
    sim = open_simulated("default")
    local_apdu = _per_apdu(sim.transmit, APDUS)
    local_read = []
    for _ in range(READS):
        t0 = time.perf_counter()
        ReaderSession(open_simulated("default")).read([KEY])
        local_read.append(time.perf_counter() - t0)

    daemon = private.Pcscd()
    daemon.start()
    try:
        with VpcdCard(make_chip("default"), port=daemon.port).start() as card:
            pcsc.wait_for_card(READER, timeout=10)
            with pcsc.open_pcsc(READER) as t:
                pcsc_apdu = _per_apdu(t.transmit, APDUS)
            pcsc_read = []
            apdus = 0
            for _ in range(READS):
                t0 = time.perf_counter()
                with pcsc.open_pcsc(READER) as t:
                    ReaderSession(t).read([KEY])
                    apdus = t.apdu_count
                pcsc_read.append(time.perf_counter() - t0)
            detect = []
            for _ in range(INSERTS):
                card.remove()
                pcsc.wait_for_removal(READER, timeout=10)
                t0 = time.perf_counter()
                card.insert()
                pcsc.wait_for_card(READER, timeout=10)
                detect.append(time.perf_counter() - t0)
    finally:
        daemon.stop()
        shutil.rmtree(daemon.workdir, ignore_errors=True)

    lo, pc = _median_ms(local_apdu), _median_ms(pcsc_apdu)
    print(f"  per APDU (SELECT, n={APDUS}): in-process {lo:.3f} ms, pcscd+vpcd {pc:.3f} ms")
    print(f"    PC/SC round-trip overhead: {pc - lo:.3f} ms per APDU (median)")
    lr, pr = _median_ms(local_read), _median_ms(pcsc_read)
    print(
        f"  full PACE read, default card ({apdus} APDUs, n={READS}): "
        f"in-process {lr:.1f} ms, pcscd+vpcd {pr:.1f} ms (connect + probe included)"
    )
    print(f"  card detection after insert (n={INSERTS}): median {_median_ms(detect):.0f} ms")
