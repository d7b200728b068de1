"""Token buckets and sliding windows with an injected clock: pacing, refill, burst, per-action limits, thread safety."""

from __future__ import annotations

import math
import threading

import pytest

from lib.client.ratelimit import DEFAULT_LIMITS, RateLimiter, SlidingWindow, TokenBucket, unlimited


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_bucket_paces_requests_at_its_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(5.0, clock=clock)
    assert [bucket.reserve() for _ in range(4)] == pytest.approx([0.0, 0.2, 0.4, 0.6])  # reservations queue up
    clock.now = 10.0  # a long pause refills, but never beyond the burst
    assert bucket.reserve() == 0.0
    assert bucket.reserve() == pytest.approx(0.2)


def test_a_burst_allows_that_many_at_once() -> None:
    clock = Clock()
    bucket = TokenBucket(10.0, burst=3, clock=clock)
    assert [bucket.reserve() for _ in range(4)] == pytest.approx([0.0, 0.0, 0.0, 0.1])


def test_no_one_second_window_sees_more_than_the_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(200):
        limiter.acquire("teo", "DescribeBillingData")
        times.append(clock.now)
    for start in times:
        assert sum(1 for t in times if start <= t < start + 1.0 - 1e-9) <= 50
    assert times[49] == 0.0 and times[50] == pytest.approx(1.0)  # 50 at once, the 51st a second after the 1st
    assert times[-1] == pytest.approx(3.0)


def test_a_window_lets_the_limit_through_at_once_then_follows_the_first_ones() -> None:
    clock = Clock()
    window = SlidingWindow(3, 1.0, clock=clock)
    assert [window.reserve() for _ in range(4)] == pytest.approx([0.0, 0.0, 0.0, 1.0])
    clock.now = 0.5
    assert window.reserve() == pytest.approx(0.5)  # the 5th follows the 2nd (at 0.0) by a whole second
    clock.now = 1.25  # the slots are 0.0, 1.0 and 1.0: the one at 0.0 is a second old
    assert window.reserve() == pytest.approx(0.0)
    assert window.reserve() == pytest.approx(0.75)  # now the oldest of the last three is at 1.0
    clock.now = 10.0  # a long pause frees the whole window again
    assert [window.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]


def test_a_window_never_holds_more_than_its_limit_whatever_the_arrival_times() -> None:
    clock = Clock()
    window = SlidingWindow(5, 0.5, clock=clock)
    slots = []
    for step in [0.0, 0.01, 0.3, 0.05, 0.0, 0.0, 0.2, 0.7, 0.0, 0.0, 0.01, 0.4, 0.0, 0.0, 0.0, 0.0, 0.0]:
        clock.now += step
        slots.append(clock.now + window.reserve())
    assert slots == sorted(slots)
    for start in slots:
        assert sum(1 for t in slots if start <= t < start + 0.5 - 1e-9) <= 5
    assert window.rate == 10.0


def test_windows_for_rates_under_one_a_second_and_fractions() -> None:
    slow = SlidingWindow.per_second(0.5)
    assert (slow.limit, slow.period) == (1, 2.0)
    odd = SlidingWindow.per_second(2.5)  # never more than the rate in any second: 2
    assert (odd.limit, odd.period) == (2, 1.0)


def test_default_limits_per_action() -> None:
    limiter = RateLimiter()
    assert limiter.limit_for("teo", "DescribeBillingData") == 50
    assert limiter.limit_for("teo", "DescribeZones") == 20
    assert limiter.limit_for("billing", "DescribeBillDetail") == 5
    assert limiter.limit_for("billing", "DescribeAccountBalance") == 20
    assert limiter.limit_for("cvm", "DescribeInstances") == 20
    assert DEFAULT_LIMITS["teo.DescribeBillingData"] == 50


def test_actions_have_separate_buckets() -> None:
    clock = Clock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    for _ in range(5):
        limiter.acquire("billing", "DescribeBillDetail")  # 5/s: five at once
    limiter.acquire("billing", "DescribeAccountBalance")  # another action: no wait
    assert clock.slept == []
    assert limiter.acquire("billing", "DescribeBillDetail") == pytest.approx(1.0)
    assert clock.slept == pytest.approx([1.0])


def test_custom_limits_and_unlimited() -> None:
    clock = Clock()
    limiter = RateLimiter({"teo": 2.0}, default=1.0, clock=clock, sleep=clock.sleep)
    assert limiter.limit_for("teo", "Anything") == 2.0
    assert limiter.limit_for("cdn", "Anything") == 1.0
    free = unlimited()
    assert all(free.acquire("teo", "DescribeBillingData") == 0 for _ in range(1000))
    assert math.isinf(free.limit_for("x", "y"))


def test_concurrent_reservations_are_all_distinct_slots() -> None:
    clock = Clock()  # frozen: every wait comes from the reservations alone
    bucket = TokenBucket(50.0, clock=clock)
    waits: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        for _ in range(25):
            wait = bucket.reserve()
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(waits) == pytest.approx([k / 50.0 for k in range(200)])


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0.5)])
def test_nonsense_buckets_are_refused(rate: float, burst: float) -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate, burst)


@pytest.mark.parametrize(("limit", "period"), [(0, 1.0), (1, 0.0), (2, -1.0)])
def test_nonsense_windows_are_refused(limit: int, period: float) -> None:
    with pytest.raises(ValueError):
        SlidingWindow(limit, period)


@pytest.mark.parametrize("rate", [0.0, -1.0, math.nan])
def test_nonsense_rates_are_refused(rate: float) -> None:
    with pytest.raises(ValueError):
        SlidingWindow.per_second(rate)
