"""The operator PIN in front of the settings screen.

The PIN is known only as its SHA-256 (``[ui] operator_pin_sha256``), or comes from the
environment (``$CCCD_KIOSK_OPERATOR_PIN``, hashed at once; the environment wins); the clear
PIN is never stored, shown or logged. Checks compare digests in constant time
(:func:`hmac.compare_digest`). :data:`MAX_TRIES` wrong PINs in a row lock the prompt for
:data:`LOCK_S` seconds, during which even the right PIN is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Callable, Mapping
from typing import Literal

#: Environment variable holding the clear operator PIN (instead of the config's hash).
PIN_ENV = "CCCD_KIOSK_OPERATOR_PIN"
#: Wrong PINs in a row before the prompt locks.
MAX_TRIES = 3
#: Seconds the prompt stays locked.
LOCK_S = 60.0

PinResult = Literal["ok", "wrong", "locked", "unset"]


def pin_sha256(pin: str) -> str:
    """The hex SHA-256 of ``pin`` (what ``[ui] operator_pin_sha256`` holds)."""
    return hashlib.sha256(pin.encode("utf-8")).hexdigest()


class PinGate:
    """Checks operator PINs against a SHA-256 digest, with the lock-out above.

    ``clock`` (monotonic seconds) is injectable so tests need not wait out the lock.
    """

    def __init__(
        self,
        sha256_hex: str | None,
        *,
        max_tries: int = MAX_TRIES,
        lock_s: float = LOCK_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._digest = bytes.fromhex(sha256_hex) if sha256_hex else None
        if self._digest is not None and len(self._digest) != 32:
            raise ValueError("the PIN hash must be 64 hex digits (SHA-256)")
        self.max_tries = max_tries
        self.lock_s = lock_s
        self._clock = clock
        self._wrong = 0
        self._locked_until = 0.0

    @classmethod
    def from_config(
        cls, sha256_hex: str | None, environ: Mapping[str, str] | None = None, **kw: object
    ) -> PinGate:
        """The gate for ``[ui] operator_pin_sha256``, or ``$CCCD_KIOSK_OPERATOR_PIN`` if set."""
        env = os.environ if environ is None else environ
        pin = env.get(PIN_ENV)
        digest = pin_sha256(pin) if pin else sha256_hex
        return cls(digest, **kw)  # type: ignore[arg-type]

    @property
    def configured(self) -> bool:
        """Whether any PIN is set (without one the settings stay locked)."""
        return self._digest is not None

    @property
    def tries_left(self) -> int:
        """Wrong PINs still allowed before the lock."""
        return max(0, self.max_tries - self._wrong)

    def locked_for(self) -> float:
        """Seconds until the lock ends (0 when not locked)."""
        return max(0.0, self._locked_until - self._clock())

    def check(self, pin: str) -> PinResult:
        """``ok`` (and the count resets), ``wrong``, ``locked`` or ``unset``."""
        if self._digest is None:
            return "unset"
        if self.locked_for() > 0:
            return "locked"
        typed = hashlib.sha256(pin.encode("utf-8")).digest()
        if hmac.compare_digest(typed, self._digest):
            self._wrong = 0
            return "ok"
        self._wrong += 1
        if self._wrong >= self.max_tries:
            self._wrong = 0
            self._locked_until = self._clock() + self.lock_s
            return "locked"
        return "wrong"
