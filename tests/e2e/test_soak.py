"""The month soak, fast: five days of 10-minute runs (720) against the sandbox, receivers and a local state folder.

``make soak`` (``scripts/soak.py``) runs the whole month. Here: the table of expected deliveries is recomputed
from ``tests/soak/month.yaml`` with this file's own arithmetic (so it is not a copy of what the code did), the
checker is shown to catch doubled, lost and late deliveries, and the five-day window runs end to end.
"""

from __future__ import annotations

import functools
import statistics
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
import yaml

from tests.soak_support import (
    EXPECTED,
    FAST,
    MONTH,
    OUTAGES,
    SCENARIO,
    SILENCES,
    SPIKES_A,
    SPIKES_B,
    STEP,
    ZONE_A,
    ZONE_B,
    Delivery,
    Expected,
    Report,
    _compare,
    at,
    balance,
    bucket_gb,
    expected_between,
    hours_ended,
    next_step,
    retry_arrival,
    run_soak,
    steps,
    used_gb,
)

pytestmark = pytest.mark.e2e
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def _instant(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


# --- the model is the scenario file ------------------------------------------------------------------------


def test_the_model_reads_the_scenario_file() -> None:
    data = yaml.safe_load(SCENARIO.read_text(encoding="utf-8"))
    zones = {z["id"]: z for z in data["zones"]}
    assert zones[ZONE_A]["usage"] == {"acc_flux": {"daily": "288 GB"}}  # 1 GB per bucket
    assert zones[ZONE_B]["usage"] == {"acc_flux": {"daily": "144 GB"}}  # 0.5 GB per bucket
    assert all(len(z["hosts"]) == 1 and len(z["regions"]) == 1 for z in zones.values())
    spikes = {
        z: tuple((_instant(s["start"]), _instant(s["end"]), s["factor"]) for s in data["spikes"] if s["zone"] == z)
        for z in zones
    }
    assert spikes == {ZONE_A: SPIKES_A, ZONE_B: SPIKES_B}
    assert bucket_gb(ZONE_A, at(3, 20, 5)) == 25
    assert bucket_gb(ZONE_B, at(7, 20, 55)) == 30
    assert bucket_gb(ZONE_B, at(7, 21)) == Decimal("0.5")
    money = data["billing"]
    assert (money["cash"], money["products"][0]["daily"]) == (2000, 240)  # 10 yuan an hour
    assert [(_instant(t["at"]), t["amount"]) for t in money["topups"]] == [(at(6, 11, 55), 3000), (at(24, 8, 55), 5000)]
    assert balance(at(5, 4)) == 1000
    assert balance(at(5, 5)) == 990


def _fault_steps(action: str) -> list[datetime]:
    """Steps whose fetch fails for good: an unlimited fault window (a ``count: 1`` fault is retried away)."""
    data = yaml.safe_load(SCENARIO.read_text(encoding="utf-8"))
    out = []
    for fault in data["faults"]:
        if fault["action"] == action and "count" not in fault:
            lo, hi = _instant(fault["start"]), _instant(fault["end"])
            out += [t for t in steps(*MONTH) if lo <= t < hi]
    return out


# --- an independent reading of the rules (rules.md) applied to the model -------------------------------------


@functools.cache
def _hour_gb(zone: str, start: datetime) -> Decimal:
    """GB in the hour from ``start``, from the buckets (reaching back before the month when asked)."""
    return sum((bucket_gb(zone, start + k * timedelta(minutes=5)) for k in range(12)), Decimal(0))


def _crossings() -> list[tuple[str, str, str, str, float | None, datetime, Decimal | None, Decimal | None]]:
    """(budget, zone, kind, status, level, decided, value, forecast) for everything the rules should decide."""
    out: list[tuple[str, str, str, str, float | None, datetime, Decimal | None, Decimal | None]] = []
    teo_down = set(_fault_steps("DescribeBillingData"))
    teo_steps = [t for t in steps(*MONTH) if t not in teo_down]
    # traffic-month: levels of 10 TB on zone-a's month so far (seen only by steps whose fetch works).
    for level in (50, 80, 100):
        t = next(t for t in steps(*MONTH) if used_gb(ZONE_A, at(1), t) * 100 >= 10_000 * level)
        told = next(s for s in teo_steps if s >= t)
        out.append(("traffic-month", "", "threshold", "firing", level, t, used_gb(ZONE_A, at(1), told) * 10**9, None))
    # forecast: after 3 complete days, used + median of the last 7 complete days x days left >= 10 TB.
    for t in teo_steps:
        if t < at(4):
            continue
        done = [used_gb(ZONE_A, at(d), at(d + 1)) for d in range(1, 31) if at(d + 1) <= t][-7:]
        used = used_gb(ZONE_A, at(1), t)
        left = Fraction(int((at(31) - t).total_seconds()), 86400)  # days left, exactly
        exact = Fraction(used) + Fraction(statistics.median(done)) * left
        projection = Decimal(exact.numerator) / exact.denominator
        if projection >= 10_000:
            out.append(("traffic-month", "", "forecast", "firing", None, t, used * 10**9, projection * 10**9))
            break
    # traffic-day: 400 GB a day per zone; spikes: the latest complete hour against the 6 before it.
    for zone in (ZONE_A, ZONE_B):
        for day in range(1, 31):
            when = next((t for t in steps(at(day), at(day + 1)) if used_gb(zone, at(day), t) >= 400), None)
            if when is not None:
                out.append(
                    ("traffic-day", zone, "threshold", "firing", 100, when, used_gb(zone, at(day), when) * 10**9, None)
                )
        firing = False
        for t in teo_steps:
            latest = datetime(t.year, t.month, t.day, t.hour, tzinfo=t.tzinfo) - HOUR  # complete by t
            value, before = _hour_gb(zone, latest), [_hour_gb(zone, latest - k * HOUR) for k in range(6, 0, -1)]
            median = statistics.median(before)
            mad = statistics.median(abs(v - median) for v in before)
            now = value > 3 * median and value > median + 3 * Decimal("1.4826") * mad and value >= 20
            if now != firing:
                out.append(("traffic-spike", zone, "spike", "firing" if now else "resolved", None, t, None, None))
                firing = now
    # monthly-spend: 10 yuan per hour ended; low-balance: below 1000, 24h repeats from the first message.
    for level in (50, 90):
        t = next(t for t in steps(*MONTH) if 10 * hours_ended(t) * 100 >= 6000 * level)
        out.append(("monthly-spend", "", "threshold", "firing", level, t, Decimal(10 * hours_ended(t)), None))
    below = False
    for t in steps(*MONTH):
        if (balance(t) < 1000) != below:
            below = not below
            out.append(
                ("low-balance", "", "below", "firing" if below else "resolved", None, t, Decimal(balance(t)), None)
            )
    # no-data: the third failed fetch in a row; resolved by the next fetch that works.
    run = 0
    for t in steps(*MONTH):
        run = run + 1 if t in teo_down else 0
        if run == 3:
            for budget in ("traffic-month", "traffic-day", "traffic-spike"):
                out.append((budget, "", "no-data", "firing", None, t, None, None))
                resolved = next(s for s in teo_steps if s > t)
                out.append((budget, "", "no-data", "resolved", None, resolved, None, None))
    return out


def _silenced(budget: str, zone: str, t: datetime) -> datetime | None:
    """When the silence holding (budget, zone) at ``t`` ends, or None."""
    for plan in SILENCES:
        labels = {"budget": budget, **({"zone-id": zone} if zone else {})}
        if plan.starts <= t < plan.ends and all(labels.get(k) == v for k, v in plan.matchers.items()):
            return plan.ends
    return None


def _worked_out() -> list[Expected]:
    channels = {"traffic-month": ("ops", "audit"), "monthly-spend": ("ops", "audit")}
    balance_down = set(_fault_steps("DescribeAccountBalance"))
    teo_down = set(_fault_steps("DescribeBillingData"))
    rows: list[Expected] = []
    episodes = {}
    for budget, zone, kind, status, level, decided, value, forecast in _crossings():
        told = decided
        down = balance_down if budget in ("low-balance", "monthly-spend") else teo_down
        while told in down and kind != "no-data":  # a failed fetch decides nothing; the next working one does
            told += STEP
        if kind == "below":
            value = Decimal(balance(told))
        held_until = _silenced(budget, zone, told)
        if held_until is not None:
            # Held: told when the silence ends if still true (crossings stay crossed; a spike that cleared
            # inside the silence is never told, nor is its clearing).
            if kind == "spike":
                continue
            told, value = next_step(held_until), None
        if kind == "below" and status == "firing":
            episodes[decided] = told
        for channel in channels.get(budget, ("ops",)):
            arrives = retry_arrival(told, OUTAGES.get(channel, ()))
            rows.append(Expected(arrives, channel, budget, kind, status, level, zone, value, forecast, decided))
    # Reminders: every 24h from each low-balance episode's first message while it stays below, skipped
    # (not queued) inside a silence.
    resolved = sorted(r.when_decided for r in rows if r.budget == "low-balance" and r.status == "resolved")
    for began, first in episodes.items():
        end = next((r for r in resolved if r > began), at(31))
        reminder = first + DAY
        while reminder < end:
            if _silenced("low-balance", "", reminder) is None:
                rows.append(Expected(reminder, "ops", "low-balance", "below", value=Decimal(balance(reminder))))
            reminder += DAY
    return rows


def test_the_table_is_what_the_scenario_and_the_rules_say() -> None:
    """EXPECTED (hand-written) equals what this file works out from the YAML and the documented semantics."""
    worked = sorted(_worked_out(), key=lambda e: e.key())
    table = sorted(EXPECTED, key=lambda e: e.key())
    assert [e.key() for e in table] == [e.key() for e in worked]
    for mine, theirs in zip(table, worked, strict=True):
        assert mine.when_decided == theirs.when_decided, mine.note
        if mine.value is not None:
            assert mine.value == theirs.value, mine.note
        if mine.forecast is not None:
            assert mine.forecast == theirs.forecast, mine.note
    assert len(EXPECTED) == 38
    assert len(expected_between(*FAST)) == 15


# --- the checker can fail ---------------------------------------------------------------------------------------


def _deliveries(rows: list[Expected]) -> list[Delivery]:
    out = []
    for n, e in enumerate(rows):
        payload = {
            "id": f"ntf_{n}",
            "budget": e.budget,
            "group": {"zone-id": e.zone} if e.zone else {},
            "kind": e.kind,
            "status": e.status,
            "level": e.level,
            "value": None if e.value is None else str(e.value),
            "forecast": None if e.forecast is None else str(e.forecast),
        }
        out.append(Delivery(e.at, e.channel, f"ntf_{n}", True, payload))
    return out


def test_the_checker_finds_doubled_lost_late_and_wrong_values() -> None:
    rows = expected_between(*FAST)
    good = Report(*FAST)
    _compare(good, rows, _deliveries(rows))
    assert (good.problems, good.sent, good.doubled, good.lost, good.unexpected) == ([], 15, 0, 0, 0)

    log = _deliveries(rows)
    log.append(replace(log[3]))  # the same webhook-id accepted twice
    del log[0]  # one never arrives
    log[1] = replace(log[1], step=log[1].step + STEP)  # one a step late
    log[2].payload["value"] = "1"  # one with the wrong number
    bad = Report(*FAST)
    _compare(bad, rows, log)
    assert (bad.doubled, bad.lost, bad.unexpected) == (1, 1, 0)
    text = "\n".join(bad.problems)
    assert "doubled" in text
    assert "expected, not delivered in that step" in text
    assert "delivered, not expected" in text  # the late one, at its wrong step
    assert sum("expected, not delivered" in p for p in bad.problems) == 2  # the lost one and the late one
    refused = Report(*FAST)
    _compare(refused, rows, [replace(d, accepted=False) for d in _deliveries(rows)])
    assert (refused.sent, refused.lost) == (0, 15)


# --- the run ---------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_five_days_of_timer_runs_deliver_exactly_the_table() -> None:
    report = run_soak(*FAST)
    assert report.problems == [], "\n" + report.table() + "\n" + "\n".join(report.problems)
    assert report.steps == 720
    assert (report.expected, report.sent, report.doubled, report.lost, report.unexpected) == (15, 15, 0, 0, 0)
    assert report.runs == 720 + report.overlapping > 720  # overlapping pairs ran
    assert report.api_faults > 0
    assert report.runs_with_fetch_errors == 5  # F1 (4 runs) and F2 (1 run); F3 is retried away
    assert report.webhook_refusals > 0  # the audit outage refused requests; each got through later
    assert report.silences == 1
    assert (report.cos_faults, report.state_failures) == (0, 0)  # the COS blips need --store cos


@pytest.mark.slow
def test_a_day_with_the_state_in_cos_survives_cos_blips() -> None:
    """State in the sandbox's COS: the 03:00 run loses COS entirely (SCF retries it twice, the step is lost),
    and two PutObjects of the 20:40 crossing run fail and are retried by the store; the day's three alerts
    still arrive once each, in their steps."""
    report = run_soak(at(3), at(4), store="cos")
    assert report.problems == [], "\n" + report.table() + "\n" + "\n".join(report.problems)
    assert (report.expected, report.sent, report.doubled, report.lost) == (3, 3, 0, 0)
    assert (report.state_failures, report.scf_retries, report.lost_steps) == (3, 2, 1)
    assert report.cos_faults >= 3 + 2  # every call of the lost step (each retried by the store), and the 2 puts
