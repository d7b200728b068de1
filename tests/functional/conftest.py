"""Fixtures of the functional tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lib.client import ApiClient, Credentials, RetryPolicy
from lib.client.ratelimit import unlimited


@pytest.fixture
def client() -> Iterator[ApiClient]:
    with ApiClient(
        Credentials("AKIDcollectors", "collectors-secret"), rate_limiter=unlimited(), retry=RetryPolicy(attempts=1)
    ) as c:
        yield c
