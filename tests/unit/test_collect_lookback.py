"""Spike lookback in the planner: how far back a budget reaches, and (property) that with it the spike rule
always has its baseline, from the first minute of a period, in any zone, while the value stays the period's."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from lib.config.models import Budget
from lib.model import Observation
from lib.rules.spike import check_spike
from lib.sources import teo, teo_plan

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
ZONES = [ZoneInfo(n) for n in ("Asia/Shanghai", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe")]
SECONDS = {"hour": 3600, "day": 86400}


def budget(name: str, **fields: Any) -> Budget:
    return Budget.model_validate({"name": name, "source": "teo", "metric": "acc_flux", **fields})


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_a_budget_without_spike_reaches_nowhere_and_its_request_is_unchanged() -> None:
    p = teo_plan.plan([budget("a")], at("2026-11-02T10:00:00+08:00"), SH)
    assert p.budgets[0].since is None
    assert p.fetches[0].start == at("2026-11-01T00:00:00+08:00")


def test_lookback_per_baseline_and_step() -> None:
    month = teo_plan.plan([budget("m")], at("2026-11-02T10:00:00+08:00"), SH).budgets[0].period
    day = teo_plan.plan([budget("d", period="day")], at("2026-11-22T01:00:00+08:00"), SH).budgets[0].period

    def since(b: Budget, period: Any, step: teo_plan.Step) -> str:
        found = teo_plan.lookback(b, period, step, SH)
        assert found is not None
        return found.astimezone(SH).isoformat()

    assert since(budget("m", spike={"window": 7}), month, "day") == "2026-10-24T00:00:00+08:00"
    assert since(budget("m", spike={"window": 3}), month, "day") == "2026-10-28T00:00:00+08:00"
    assert since(budget("m", spike={"baseline": "yesterday"}), month, "day") == "2026-10-30T00:00:00+08:00"
    assert since(budget("d", spike={"window": 7}), day, "hour") == "2026-11-21T16:00:00+08:00"
    assert since(budget("d", spike={"baseline": "yesterday"}), day, "hour") == "2026-11-20T23:00:00+08:00"


def test_bucket_start_takes_day_buckets_by_date_in_the_periods_offset() -> None:
    anchor = at("2026-11-01T00:00:00+01:00")  # November in Berlin: +01:00
    local_midnight = at("2026-10-24T00:00:00+02:00")  # 23:00 on the 23rd in +01:00
    assert teo_plan.bucket_start(local_midnight, "day", anchor, BERLIN) == at("2026-10-24T00:00:00+01:00")
    assert teo_plan.bucket_start(local_midnight, "hour", anchor, BERLIN) == local_midnight
    assert teo_plan.bucket_start(at("2026-10-24T00:07:00+02:00"), "5min", anchor, BERLIN) == at(
        "2026-10-24T00:05:00+02:00"
    )


def _answer(query: teo_plan.Query) -> dict[str, Any]:
    """Every bucket of the query's window, value 1, the way the API lists them."""
    step = timedelta(seconds=teo_plan.INTERVAL_SECONDS[query.interval])
    rows, bucket = [], query.start
    while True:
        rows.append({"Time": bucket.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "Value": 1})
        bucket += step
        if bucket > query.end:
            return {"Data": rows}


@settings(max_examples=200, deadline=None)
@given(
    tz=st.sampled_from(ZONES),
    moment=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31)),
    period=st.sampled_from(["day", "month"]),
    spike=st.one_of(
        st.just({"baseline": "yesterday"}), st.integers(min_value=3, max_value=45).map(lambda w: {"window": w})
    ),
)
def test_the_spike_rule_always_has_its_baseline_and_the_value_stays_the_periods(
    tz: ZoneInfo, moment: datetime, period: str, spike: dict[str, Any]
) -> None:
    now = moment.replace(tzinfo=timezone.utc)
    obs, bp = _observe(budget("s", period=period, spike=spike), now, tz)
    plain, _ = _observe(budget("s", period=period), now, tz)
    assert (obs.value, obs.series) == (plain.value, plain.series)  # the lookback changes neither
    assert plain.history == () and obs.history
    assert bp.since is not None and obs.history[0].time >= bp.since
    assert all(p.time < bp.period.start for p in obs.history)
    check = check_spike(bp.budget.spike, (*obs.history, *obs.series), now, tz)  # type: ignore[arg-type]
    assert check.evaluated, check.reason
    assert check.baseline == 1  # one bucket of 1 per step: the baseline was found, not guessed


def _observe(b: Budget, now: datetime, tz: ZoneInfo) -> tuple[Observation, teo_plan.BudgetPlan]:
    plan = teo_plan.plan([b], now, tz)
    (bp,) = plan.budgets
    result = teo.Result(plan.fetches[0])
    for query in plan.queries:
        assert query.end - query.start <= teo_plan.MAX_WINDOW
        assert query.start.utcoffset() == bp.period.start.utcoffset()  # the period's offset throughout
        result.add(query, _answer(query))
    (obs,) = teo.observe(bp, result, None, tz)
    return obs, bp
