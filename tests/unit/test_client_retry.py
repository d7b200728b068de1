"""Retry policy: which codes and statuses are retryable; full-jitter delays stay within their bounds."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.client.retry import RetryPolicy, is_retryable_code, is_retryable_status


@pytest.mark.parametrize(
    ("code", "retryable"),
    [
        ("RequestLimitExceeded", True),
        ("RequestLimitExceeded.IPLimitExceeded", True),
        ("RequestLimitExceeded.UinLimitExceeded", True),
        ("InternalError", True),
        ("InternalError.GatewayError", True),
        ("ServiceUnavailable", True),
        ("RequestSizeLimitExceeded", False),
        ("RequestLimitExceededButNotReally", False),
        ("LimitExceeded", False),
        ("AuthFailure.SignatureExpire", False),
        ("FailedOperation", False),
        ("ResourceUnavailable", False),
        ("", False),
    ],
)
def test_retryable_codes(code: str, retryable: bool) -> None:
    assert is_retryable_code(code) is retryable


@pytest.mark.parametrize(("status", "retryable"), [(500, True), (503, True), (429, True), (400, False), (403, False)])
def test_retryable_statuses(status: int, retryable: bool) -> None:
    assert is_retryable_status(status) is retryable


@settings(max_examples=200, deadline=None)
@given(
    base=st.floats(min_value=0, max_value=10),
    cap=st.floats(min_value=0, max_value=60),
    retry=st.integers(min_value=0, max_value=200),
    draw=st.floats(min_value=0, max_value=1, exclude_max=True),
)
def test_full_jitter_delay_is_within_zero_and_the_capped_exponential(
    base: float, cap: float, retry: int, draw: float
) -> None:
    policy = RetryPolicy(attempts=3, base=base, cap=cap, deadline=1)
    ceiling = policy.ceiling(retry)
    assert ceiling == min(cap, base * 2.0 ** min(retry, 62))
    assert ceiling <= cap
    assert policy.ceiling(retry + 1) >= ceiling
    delay = policy.delay(retry, lambda: draw)
    assert 0 <= delay <= ceiling
    assert delay == ceiling * draw


@pytest.mark.parametrize("kwargs", [{"attempts": 0}, {"base": -1}, {"cap": -0.1}, {"deadline": 0}])
def test_nonsense_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
