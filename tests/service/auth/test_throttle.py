"""Wrong passwords slow down: after 5 within 15 minutes, 30 s, then doubling up to 15 minutes."""

from __future__ import annotations

import pytest

from service.auth.throttle import Throttle, TooManyAttempts


class Ticker:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def refused_for(throttle: Throttle, *keys: str) -> int | None:
    try:
        throttle.check(*keys)
    except TooManyAttempts as refusal:
        return refusal.retry_after
    return None


def test_the_refusal_says_too_many_attempts() -> None:
    throttle = Throttle(Ticker())
    for _ in range(5):
        throttle.failed("account:a")
    with pytest.raises(TooManyAttempts) as refused:
        throttle.check("account:a")
    assert (refused.value.code, refused.value.retry_after) == ("too_many_attempts", 30)
    assert str(refused.value) == "too many wrong passwords; try again in 30 seconds"


def test_five_failures_within_the_window_block_for_30_seconds_then_doubling() -> None:
    clock = Ticker()
    throttle = Throttle(clock)
    for _ in range(4):
        throttle.failed("account:a")
        assert refused_for(throttle, "account:a") is None
    throttle.failed("account:a")  # the fifth
    assert refused_for(throttle, "account:a") == 30
    clock.now += 30
    assert refused_for(throttle, "account:a") is None
    throttle.failed("account:a")  # the sixth: 60 s
    assert refused_for(throttle, "account:a") == 60
    clock.now += 60
    throttle.failed("account:a")  # the seventh: 120 s
    assert refused_for(throttle, "account:a") == 120


def test_the_delay_stops_growing_at_15_minutes() -> None:
    clock = Ticker()
    throttle = Throttle(clock)
    for _ in range(10):  # 5 + 5 beyond: 30 * 2**5 = 960 s, capped at 900
        throttle.failed("address:x")
    assert refused_for(throttle, "address:x") == 900


def test_failures_older_than_15_minutes_are_forgotten() -> None:
    clock = Ticker()
    throttle = Throttle(clock)
    for _ in range(4):
        throttle.failed("account:a")
    clock.now += 15 * 60 + 1
    throttle.failed("account:a")  # only one within the window
    assert refused_for(throttle, "account:a") is None


@pytest.mark.parametrize("blocked", ["account:a", "address:x"])
def test_either_key_blocks_and_success_clears_only_the_account(blocked: str) -> None:
    throttle = Throttle(Ticker())
    for _ in range(5):
        throttle.failed(blocked)
    assert refused_for(throttle, "account:a", "address:x") == 30
    throttle.succeeded("account:a")
    expected = None if blocked == "account:a" else 30
    assert refused_for(throttle, "account:a", "address:x") == expected
