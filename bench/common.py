"""Shared benchmark helpers."""

from __future__ import annotations

import time

from drivers.simulated import SimulatedTransport


class ChipClock:
    """Forwards to a SimulatedTransport and adds up the process time spent inside it.

    Subtracting ``inside`` from a measured interval leaves the reader-side CPU
    (the simulated chip and the link model run in the same process).
    """

    def __init__(self, inner: SimulatedTransport) -> None:
        self.inner = inner
        self.inside = 0.0
        self.max_command_len = inner.max_command_len
        self.max_response_len = inner.max_response_len
        self.extended_length = inner.extended_length

    def transmit(self, apdu: bytes) -> bytes:
        t0 = time.process_time()
        try:
            return self.inner.transmit(apdu)
        finally:
            self.inside += time.process_time() - t0

    def close(self) -> None:
        self.inner.close()
