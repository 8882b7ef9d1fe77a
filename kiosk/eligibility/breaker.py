"""A circuit breaker so a gateway outage costs one timeout, not one per patient.

Closed: calls go through; ``failures`` consecutive *unavailable* outcomes (timeouts, refused
connections, 5xx after retries) open it. Open: calls fail at once for ``reset_s`` seconds, so
the check-in pipeline falls back to the cache immediately. Half-open: after ``reset_s`` one
trial call is let through (others still fail fast); its success closes the breaker, its
failure opens it for another ``reset_s``. Answers from the gateway — even "not found" — count
as success: the breaker is about reachability, not about the patient.

The clock is injected (``time.monotonic`` by default) so tests can move time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Literal

BreakerState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """Thread-safe closed/open/half-open breaker (see the module docstring)."""

    def __init__(
        self,
        failures: int = 3,
        reset_s: float = 30.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failures < 1:
            raise ValueError("failures must be >= 1")
        if reset_s < 0:
            raise ValueError("reset_s must be >= 0")
        self._threshold = failures
        self._reset_s = reset_s
        self._clock = clock
        self._lock = threading.Lock()
        self._state: BreakerState = "closed"
        self._consecutive = 0
        self._opened_at = 0.0
        self._trial_running = False

    @property
    def state(self) -> BreakerState:
        """The current state; an open breaker whose time is up reads as half-open."""
        with self._lock:
            if self._state == "open" and self._clock() - self._opened_at >= self._reset_s:
                return "half_open"
            return self._state

    @property
    def consecutive_failures(self) -> int:
        """Unavailable outcomes in a row since the last success."""
        with self._lock:
            return self._consecutive

    def allow(self) -> bool:
        """Whether a call may go to the gateway now (claims the half-open trial if it is free)."""
        with self._lock:
            if self._state == "closed":
                return True
            if self._state == "open":
                if self._clock() - self._opened_at < self._reset_s:
                    return False
                self._state = "half_open"
                self._trial_running = False
            if self._trial_running:
                return False
            self._trial_running = True
            return True

    def record_success(self) -> None:
        """The gateway answered: close the breaker and forget past failures."""
        with self._lock:
            self._state = "closed"
            self._consecutive = 0
            self._trial_running = False

    def record_failure(self) -> None:
        """The gateway was unavailable: count it; open on the threshold or a failed trial."""
        with self._lock:
            self._consecutive += 1
            if self._state == "half_open" or self._consecutive >= self._threshold:
                self._state = "open"
                self._opened_at = self._clock()
            self._trial_running = False

    def release(self) -> None:
        """A call ended with neither verdict (e.g. a protocol error): free the half-open trial."""
        with self._lock:
            self._trial_running = False

    def seconds_until_retry(self) -> float:
        """How long an open breaker keeps failing fast (0 when calls may go through)."""
        with self._lock:
            if self._state != "open":
                return 0.0
            return max(0.0, self._reset_s - (self._clock() - self._opened_at))
