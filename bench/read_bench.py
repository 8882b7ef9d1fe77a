"""Full read of a sample card: APDUs, bytes, modeled link time against the ideal, reader CPU.

*Ideal* is computed independently of the reader's own decisions: the same
protocol exchanges (PACE/BAC, SELECT) plus, for every file that was read, the
fewest READ BINARY commands at the largest Ne the transport and the chip allow
(``ceil(size / max_ne)``), with their exact protected sizes; a refused file
(DG3, 6982) costs one minimal exchange. The link model prices both the actual
transcript and the ideal one, so ``modeled / ideal`` isolates the reader's
read strategy. Reader CPU is the process time of a read minus the time spent
inside the simulated chip and link model (zero-latency link), median of N.
"""

from __future__ import annotations

import gc
import math
import os
import statistics
import tempfile
import time
from dataclasses import dataclass

from bench.common import ChipClock
from drivers.simulated import LinkModel, SimulatedTransport
from kiosk.cccd import access
from kiosk.emrtd.apdu import INS_READ_BINARY, INS_READ_BINARY_ODD, SHORT_MAX_NE, CommandAPDU
from kiosk.emrtd.lds.files import EF_CARD_ACCESS, by_name
from kiosk.emrtd.session import DEFAULT_STEPS, READ_STEPS, ReaderSession, ReadResult, Step
from kiosk.emrtd.sm import SecureMessaging
from simulators.card.chip import Chip
from simulators.card.personalize import make_chip
from simulators.card.pki import demo_trust_store
from simulators.card.profile import load_profile

RATES = (106_000, 424_000, 848_000)
READS = 60


def _fresh_chip(template: Chip) -> Chip:
    return Chip(template.files, template.options)


def _read(
    chip: Chip, key: access.AccessKey, link: LinkModel, extended: bool
) -> tuple[ReadResult, SimulatedTransport, ReaderSession]:
    transport = SimulatedTransport(chip, link, extended_length=extended)
    session = ReaderSession(transport, keep_log=True, steps=READ_STEPS)
    return session.read([key]), transport, session


def _ideal_exchanges(
    result: ReadResult, session: ReaderSession, transport: SimulatedTransport, chip: Chip
) -> list[tuple[bytes, bytes]]:
    """The cheapest transcript that reads the same files (see the module docstring)."""
    sm_live = session.channel.sm
    assert sm_live is not None
    sm = SecureMessaging(sm_live.kind, sm_live.ks_enc, sm_live.ks_mac)
    ext = transport.extended_length and chip.extended_length
    limit = transport.max_response_len if ext else SHORT_MAX_NE + 2
    max_ne = sm.max_plain_response(limit)
    if chip.options.max_read is not None:
        max_ne = min(max_ne, chip.options.max_read)
    out: list[tuple[bytes, bytes]] = []
    for rec in session.channel.log:  # protocol exchanges: the same for any reader
        if rec.command[1] not in (INS_READ_BINARY, INS_READ_BINARY_ODD):
            out.append((rec.command, rec.response))
    for name, raw in result.files.items():
        info = by_name(name)
        if info is EF_CARD_ACCESS:  # read in the clear, before access control
            per = min(transport.max_response_len - 2, 65536 if ext else SHORT_MAX_NE)
            for i in range(math.ceil(len(raw) / per)):
                n = min(per, len(raw) - i * per)
                out.append((bytes(5 if n <= 256 else 7), bytes(n + 2)))
            continue
        left = len(raw)
        while left:
            n = min(max_ne, left)
            cmd = sm.protect(CommandAPDU(0, INS_READ_BINARY, 0x80 | info.sfi, 0, ne=n), ext)
            out.append((cmd.to_bytes(ext or cmd.needs_extended), bytes(sm.protected_reply_size(n))))
            left -= n
    for _ in result.protected:
        cmd = sm.protect(CommandAPDU(0, INS_READ_BINARY, 0x83, 0, ne=max_ne), ext)
        out.append((cmd.to_bytes(ext or cmd.needs_extended), bytes(sm.protected_reply_size(0))))
    return out


@dataclass
class Row:
    label: str
    apdus: int
    ideal_apdus: int
    bytes_: int
    ideal_bytes: int
    modeled: dict[int, float]
    ideal: dict[int, float]


def measure_transcript(card: str, extended: bool) -> Row:
    profile = load_profile(card)
    key = access.key_from_id(profile.id_number)
    template = make_chip(card, extended_length=extended)
    result, transport, session = _read(_fresh_chip(template), key, LinkModel.zero(), extended)
    ideal = _ideal_exchanges(result, session, transport, template)
    modeled: dict[int, float] = {}
    ideal_s: dict[int, float] = {}
    for rate in RATES:
        link = LinkModel.preset(rate)
        modeled[rate] = sum(link.apdu_seconds(r.command, r.response) for r in session.channel.log)
        ideal_s[rate] = sum(link.apdu_seconds(c, r) for c, r in ideal)
    return Row(
        label=f"{card} ({result.access_protocol}, {'extended' if extended else 'short'} APDUs)",
        apdus=result.apdus,
        ideal_apdus=len(ideal),
        bytes_=result.bytes_total,
        ideal_bytes=sum(len(c) + len(r) for c, r in ideal),
        modeled=modeled,
        ideal=ideal_s,
    )


def measure_cpu(card: str, steps: tuple[Step, ...], reads: int = READS) -> list[float]:
    """Reader-side CPU seconds per read (chip and link-model time subtracted)."""
    profile = load_profile(card)
    key = access.key_from_id(profile.id_number)
    template = make_chip(card)
    trust = demo_trust_store()
    samples: list[float] = []
    for _ in range(reads + 3):
        timed = ChipClock(SimulatedTransport(_fresh_chip(template), LinkModel.zero()))
        gc.collect()
        t0 = time.process_time()
        ReaderSession(timed, steps=steps, trust=trust).read([key])
        samples.append(time.process_time() - t0 - timed.inside)
    return samples[3:]  # the first reads warm caches and imports


def main() -> None:
    os.environ.setdefault(
        "CCCD_SIM_HOME", os.path.join(tempfile.gettempdir(), f"cccd-kiosk-bench-{os.getuid()}")
    )
    print("== read: full read of a sample card ==")
    for card, extended in (
        ("default", False),
        ("default", True),
        ("big-photo", True),
        ("fussy", True),
    ):
        row = measure_transcript(card, extended)
        print(f"{row.label}")
        print(
            f"  APDUs {row.apdus} (ideal {row.ideal_apdus}), "
            f"bytes {row.bytes_} (ideal {row.ideal_bytes})"
        )
        for rate in RATES:
            ratio = row.modeled[rate] / row.ideal[rate]
            print(
                f"  modeled at {rate // 1000:>3} kbit/s: {row.modeled[rate]:6.3f} s"
                f"  ideal {row.ideal[rate]:6.3f} s  ratio {ratio:5.3f}  (target <= 1.10)"
            )
    for label, steps in (("read only", READ_STEPS), ("read + CA + AA + PA", DEFAULT_STEPS)):
        samples = measure_cpu("default", steps)
        med = statistics.median(samples) * 1000
        p90 = statistics.quantiles(samples, n=10)[-1] * 1000
        print(
            f"reader-side CPU per read, {label} (default card, zero-latency link, "
            f"n={len(samples)}): median {med:.2f} ms, p90 {p90:.2f} ms  (target <= 20 ms)"
        )


if __name__ == "__main__":
    main()
