"""A transport that replays a recorded exchange, for exact-byte worked-example tests.

Each expected command must match byte for byte; the recorded reply is
returned. A mismatch fails with both byte strings in hex so the test says
exactly where an implementation drifted.
"""

from __future__ import annotations

from collections.abc import Sequence


class ReplayMismatch(AssertionError):
    pass


class ReplayTransport:
    """Plays back ``[(command, response), ...]``; asserts the commands it is sent."""

    def __init__(
        self,
        exchanges: Sequence[tuple[bytes, bytes]],
        *,
        max_command_len: int = 261,
        max_response_len: int = 258,
        extended_length: bool = False,
    ) -> None:
        self.exchanges = list(exchanges)
        self.index = 0
        self._max_command_len = max_command_len
        self._max_response_len = max_response_len
        self._extended_length = extended_length

    @property
    def max_command_len(self) -> int:
        return self._max_command_len

    @property
    def max_response_len(self) -> int:
        return self._max_response_len

    @property
    def extended_length(self) -> bool:
        return self._extended_length

    def transmit(self, apdu: bytes) -> bytes:
        if self.index >= len(self.exchanges):
            raise ReplayMismatch(f"unexpected extra command {apdu.hex().upper()}")
        expected, reply = self.exchanges[self.index]
        if apdu != expected:
            raise ReplayMismatch(
                f"command {self.index} differs:\n  sent     {apdu.hex().upper()}"
                f"\n  expected {expected.hex().upper()}"
            )
        self.index += 1
        return reply

    @property
    def done(self) -> bool:
        return self.index == len(self.exchanges)

    def close(self) -> None:
        pass
