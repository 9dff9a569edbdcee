"""`make bench` reports the read model during the HTTP writes: the follower's rate beside the
write rate, the lag (head - position, sampled every 0.1 s) and the time to catch up afterwards.
(`python -m bench.run --teachers 200 --http-only` runs the HTTP part alone on a small region.)"""

from __future__ import annotations

import threading

import pytest

from bench.run import LagSampler, Sample, follower_run, read_model_figures


def samples(*rows: tuple[float, int, int]) -> list[Sample]:
    return [Sample(at, head, position) for at, head, position in rows]


def test_the_figures_of_a_run_hand_computed() -> None:
    run = follower_run(samples(
        (0.0, 100, 100),  # before the run: not counted
        (1.0, 110, 100),
        (1.1, 150, 110),  # its head, 150, is applied by 1.3
        (1.2, 150, 130),
        (1.3, 160, 160),
        (1.4, 165, 160),  # after the run (ended at 1.35): the last writes' events
        (1.5, 165, 165),
    ), started=1.0, ended=1.35)
    assert run.written_per_second == pytest.approx(50 / 0.3)  # 110 → 160 over 1.0 → 1.3
    assert run.applied_per_second == pytest.approx(60 / 0.3)  # 100 → 160
    assert (run.lag_events_p50, run.lag_events_p99) == (15.0, 40.0)  # lags 10, 40, 20, 0
    assert run.lag_seconds_p50 == pytest.approx(0.1)  # waits 0.1, 0.2, 0.1, 0
    assert run.lag_seconds_p99 == pytest.approx(0.2)
    assert run.catch_up_seconds == pytest.approx(0.15)  # 1.35 → 1.5


def test_a_read_model_that_never_catches_up_says_so() -> None:
    run = follower_run(samples((0.0, 10, 0), (0.1, 20, 5), (0.2, 30, 10), (0.3, 30, 15)), started=0.0, ended=0.2)
    assert run.catch_up_seconds is None
    # waits: 0.2 (the first head, 10, is applied at 0.2), then 0.2 and 0.1 (never: to the last sample)
    assert run.lag_seconds_p99 == pytest.approx(0.2)
    figures = {f.name.strip(): f for f in read_model_figures("test", run)}
    assert figures["caught up after the writes stopped, s"].met is False
    assert figures["read-model lag p99, s"].met is True


def test_too_short_a_run_is_refused() -> None:
    with pytest.raises(RuntimeError, match="too few samples"):
        follower_run(samples((0.0, 1, 1)), started=0.0, ended=0.05)


def test_the_sampler_waits_for_the_read_model_to_reach_the_head() -> None:
    state = {"head": 10, "position": 0}
    closed = threading.Event()
    sampler = LagSampler(lambda: (state["head"], state["position"]), every=0.005, close=closed.set)
    sampler.start()
    try:
        assert not sampler.caught_up(0.05)
        state["position"] = 10
        assert sampler.caught_up(5)
    finally:
        sampler.stop()
    assert closed.is_set()
    assert len(sampler.samples) >= 2
    assert sampler.samples[-1].position == 10
