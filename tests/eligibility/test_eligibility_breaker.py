"""Circuit breaker transitions, driven by an injected clock."""

from __future__ import annotations

import pytest

from kiosk.eligibility.breaker import CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_opens_after_n_consecutive_failures_and_fails_fast() -> None:
    c = Clock()
    b = CircuitBreaker(3, 30, clock=c)
    for _ in range(2):
        assert b.allow()
        b.record_failure()
    assert b.state == "closed"
    assert b.allow()
    b.record_failure()
    assert b.state == "open"
    assert not b.allow()
    c.t += 29.9
    assert not b.allow()
    assert b.seconds_until_retry() == pytest.approx(0.1)


def test_success_resets_the_count() -> None:
    b = CircuitBreaker(2, 30, clock=Clock())
    b.record_failure()
    b.record_success()
    b.record_failure()
    assert b.state == "closed" and b.consecutive_failures == 1


def test_half_open_single_trial_then_close() -> None:
    c = Clock()
    b = CircuitBreaker(1, 10, clock=c)
    b.record_failure()
    assert b.state == "open"
    c.t += 10
    assert b.state == "half_open"
    assert b.allow()  # the trial
    assert not b.allow()  # others still fail fast while it runs
    b.record_success()
    assert b.state == "closed" and b.allow() and b.allow()


def test_failed_trial_reopens_for_another_period() -> None:
    c = Clock()
    b = CircuitBreaker(3, 10, clock=c)
    for _ in range(3):
        b.record_failure()
    c.t += 10
    assert b.allow()
    b.record_failure()
    assert b.state == "open" and not b.allow()
    c.t += 9.9
    assert not b.allow()
    c.t += 0.1
    assert b.allow()


def test_release_frees_the_trial() -> None:
    c = Clock()
    b = CircuitBreaker(1, 5, clock=c)
    b.record_failure()
    c.t += 5
    assert b.allow()
    b.release()
    assert b.allow()


def test_bad_parameters() -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(0, 1)
    with pytest.raises(ValueError):
        CircuitBreaker(1, -1)
