"""The collector's pace: places held from sending until a period after the answer, with an injected clock."""

from __future__ import annotations

import math
import random
import threading
import time

import pytest

from lib.sources.teo_pace import AnsweredWindow, window_for


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_limit_goes_at_once_and_the_next_waits_a_period_after_the_first_answer() -> None:
    clock = Clock()
    window = AnsweredWindow(3, 1.0, clock=clock)
    assert [window.take() for _ in range(3)] == [(True, 0.0)] * 3
    assert window.take() == (False, None)  # all three in flight: wait for an answer, however long it takes
    clock.now = 0.2
    window.done()  # the first answer: its place frees at 1.2
    assert window.take() == (False, pytest.approx(1.0))
    clock.now = 0.5
    window.done()
    window.done()
    clock.now = 1.2
    assert window.take() == (True, 0.0)
    assert window.take() == (False, pytest.approx(0.3))  # the next frees with the answer at 0.5
    clock.now = 1.5
    assert window.take() == (True, 0.0)
    assert window.take() == (True, 0.0)  # both answers at 0.5 have aged out
    assert window.take() == (False, None)


def test_no_second_holds_more_than_the_limit_wherever_the_server_counts_them() -> None:
    """Each request is counted at a random instant between its send and its answer, as a server would."""
    clock = Clock()
    limit = 5
    window = AnsweredWindow(limit, 1.0, clock=clock)
    rng = random.Random(7)
    counted: list[float] = []
    in_flight: list[tuple[float, float]] = []  # (answer time, counted at)
    sent = 0
    while sent < 200:
        taken, wait = window.take()
        if taken:
            sent += 1
            latency = rng.uniform(0.01, 0.6)
            counted_at = clock.now + rng.uniform(0, latency)
            in_flight.append((clock.now + latency, counted_at))
            continue
        next_answer = min(in_flight)[0] if in_flight else math.inf
        clock.now = min(next_answer, clock.now + wait) if wait is not None else next_answer
        for answer in [f for f in in_flight if f[0] <= clock.now]:
            in_flight.remove(answer)
            counted.append(answer[1])
            window.done()
    counted.extend(c for _, c in in_flight)
    counted.sort()
    for i, start in enumerate(counted):
        assert sum(1 for t in counted[i:] if t < start + 1.0) <= limit
    assert counted[-1] < 200 / limit * 1.7  # and it keeps going at about the limit


def test_waiting_threads_go_when_answers_free_places() -> None:
    window = AnsweredWindow(2, 0.05)
    starts: list[float] = []
    answers: list[float] = []
    lock = threading.Lock()

    def request() -> None:
        with window.slot():
            with lock:
                starts.append(time.monotonic())
            time.sleep(0.01)
            with lock:
                answers.append(time.monotonic())

    threads = [threading.Thread(target=request) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    assert len(starts) == 6
    starts.sort()
    answers.sort()
    for k in range(2, 6):  # the k-th start waited until 0.05 s after the (k-2)-th answer
        assert starts[k] >= answers[k - 2] + 0.05 - 1e-3


def test_a_failed_request_frees_its_place_too() -> None:
    clock = Clock()
    window = AnsweredWindow(1, 1.0, clock=clock)
    with pytest.raises(RuntimeError), window.slot():
        raise RuntimeError("no answer")
    assert window.take() == (False, pytest.approx(1.0))


def test_windows_for_documented_rates() -> None:
    fifty = window_for(50.0)
    assert fifty is not None and (fifty.limit, fifty.period) == (50, 1.0)
    slow = window_for(0.5)
    assert slow is not None and (slow.limit, slow.period) == (1, 2.0)
    odd = window_for(2.5)
    assert odd is not None and (odd.limit, odd.period) == (2, 1.0)
    assert window_for(math.inf) is None
    assert window_for(0) is None


@pytest.mark.parametrize(("limit", "period"), [(0, 1.0), (1, 0.0), (2, -1.0)])
def test_nonsense_windows_are_refused(limit: int, period: float) -> None:
    with pytest.raises(ValueError):
        AnsweredWindow(limit, period)
