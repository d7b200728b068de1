"""What the in-process benchmarks share: the median wall time of a call, in milliseconds."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_ms(fn: Callable[[], object], *, repeats: int) -> float:
    """``fn`` called ``repeats`` times; the median of their wall times, in ms."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000
