"""Period boundaries in the rules: 23:59:59 local belongs to the old period, 00:00:00 starts a fresh one."""

from __future__ import annotations

import pytest

from lib.model import notification_id
from tests.unit.rules_support import Runner, at, budget, config, observation


@pytest.mark.parametrize(
    ("tz", "period", "first", "second", "fresh_start"),
    [
        # Same local day / month: nothing new.
        ("Asia/Shanghai", "day", "2026-11-22T00:00:00+08:00", "2026-11-22T23:59:59+08:00", None),
        ("Asia/Shanghai", "month", "2026-11-01T00:00:00+08:00", "2026-11-30T23:59:59+08:00", None),
        # Local midnight: a new period, told again from the lowest level.
        ("Asia/Shanghai", "day", "2026-11-22T23:59:59+08:00", "2026-11-23T00:00:00+08:00", "2026-11-23T00:00:00+08:00"),
        # 16:00 UTC is already tomorrow in Shanghai.
        ("Asia/Shanghai", "day", "2026-11-22T15:59:59+00:00", "2026-11-22T16:00:00+00:00", "2026-11-23T00:00:00+08:00"),
        (
            "Asia/Shanghai",
            "month",
            "2026-11-30T23:59:59+08:00",
            "2026-12-01T00:00:00+08:00",
            "2026-12-01T00:00:00+08:00",
        ),
        (
            "Asia/Shanghai",
            "month",
            "2026-12-31T23:59:59+08:00",
            "2027-01-01T00:00:00+08:00",
            "2027-01-01T00:00:00+08:00",
        ),
        # Leap day: February 2028 ends after the 29th.
        ("Asia/Shanghai", "month", "2028-02-28T23:59:59+08:00", "2028-02-29T00:00:00+08:00", None),
        ("Asia/Shanghai", "day", "2028-02-28T23:59:59+08:00", "2028-02-29T00:00:00+08:00", "2028-02-29T00:00:00+08:00"),
        (
            "Asia/Shanghai",
            "month",
            "2028-02-29T23:59:59+08:00",
            "2028-03-01T00:00:00+08:00",
            "2028-03-01T00:00:00+08:00",
        ),
        # DST: New York springs forward on 2026-03-08 (a 23-hour day), falls back on 2026-11-01 (25 hours).
        (
            "America/New_York",
            "day",
            "2026-03-08T23:59:59-04:00",
            "2026-03-09T00:00:00-04:00",
            "2026-03-09T00:00:00-04:00",
        ),
        ("America/New_York", "day", "2026-03-08T00:00:00-05:00", "2026-03-08T23:59:59-04:00", None),
        ("America/New_York", "day", "2026-11-01T00:30:00-04:00", "2026-11-01T23:30:00-05:00", None),
        (
            "America/New_York",
            "month",
            "2026-10-31T23:59:59-04:00",
            "2026-11-01T00:00:00-04:00",
            "2026-11-01T00:00:00-04:00",
        ),
        # Berlin: 2026-10-25 is 25 hours long; the month still ends at local midnight.
        ("Europe/Berlin", "day", "2026-10-25T23:59:59+01:00", "2026-10-26T00:00:00+01:00", "2026-10-26T00:00:00+01:00"),
        (
            "Europe/Berlin",
            "month",
            "2026-10-31T23:59:59+01:00",
            "2026-11-01T00:00:00+01:00",
            "2026-11-01T00:00:00+01:00",
        ),
    ],
)
def test_rollover(tz: str, period: str, first: str, second: str, fresh_start: str | None) -> None:
    cfg = config(budget(period=period, limit=100, thresholds=[50, 100]), timezone=tz)
    runner = Runner(cfg)
    one = runner.step(at(first), [observation(cfg, "traffic", 100, at(first))])
    assert [n.level for n in one.notifications] == [100.0]
    two = runner.step(at(second), [observation(cfg, "traffic", 60, at(second))])
    if fresh_start is None:
        assert two.notifications == []
    else:
        (n,) = two.notifications
        assert n.level == 50.0
        assert n.period.start.isoformat() == fresh_start
        assert n.id == notification_id("traffic", "", fresh_start, "threshold", "50%")
        assert n.id != one.notifications[0].id
