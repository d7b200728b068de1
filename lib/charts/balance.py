"""Balance charts: balance readings, the low-balance line and the runway → a ``ChartSpec``.

Pure: ``now`` and the zone are arguments. A day's spend is the drop from the previous local day's last
reading to this day's last one; a day that rose (a top-up) or follows a day without readings is no
spend measurement and is left out. The burn rate is the median of the last ``WINDOW`` complete days'
spend, from ``MIN_STEPS`` of them on, as the usage forecast counts; the run-out date is the latest
reading's time plus balance / rate, and the fastest and slowest of those days bound it.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal

from lib.charts.axes import day_label, day_ticks, local_midnights, moment_label, nice_top, value_ticks, words
from lib.charts.spec import XY, Bar, ChartSpec, Marker, Projection, Rule
from lib.messages.units import format_quantity
from lib.model import Point
from lib.rules.forecast import MIN_STEPS, WINDOW

SHOWN_DAYS = 30  # the readings shown: the last month
AHEAD_DAYS = 30  # how far past now the axis may reach for a run-out date
MIN_AHEAD = timedelta(days=7)
MAX_DAYS = 3650  # a run-out date further away is no date: the burn rate says nothing that far ahead
DAY = timedelta(days=1)


def balance_chart(
    name: str,
    *,
    unit: str,
    readings: Sequence[Point],
    now: datetime,
    tz: tzinfo,
    language: str,
    below: Decimal | None = None,
    runway: timedelta | None = None,
) -> ChartSpec:
    """The balance over the last ``SHOWN_DAYS`` days, its daily spend, and when it runs out."""
    w = words(language)

    def fmt(amount: Decimal) -> str:
        return format_quantity(amount, unit, language)

    recent = (XY(p.time, p.value) for p in readings if now - timedelta(days=SHOWN_DAYS) <= p.time <= now)
    shown = sorted(recent, key=lambda r: r.at)
    start = shown[0].at if shown else now - MIN_AHEAD
    spend = _daily_spend(shown, tz, now)
    complete = [amount for day, amount in spend if day + DAY <= now][-WINDOW:]
    rate = _median(complete) if len(complete) >= MIN_STEPS["month"] else None

    notes: list[str] = []
    markers: list[Marker] = []
    projection = None
    end = now + MIN_AHEAD
    runs_out = None if not shown or not rate or rate <= 0 else _days_after(shown[-1], rate)
    if not shown:
        notes.append(w["no_data"])
    elif shown[-1].value <= 0:
        notes.append(w["used_up"])
    elif rate is None or rate <= 0:
        notes.append(w["no_burn"])
    elif runs_out is None:
        notes.append(w["far"].format(years=MAX_DAYS // 365))
    else:
        last = shown[-1]
        early = _days_after(last, max(complete)) or runs_out
        late = _days_after(last, min(complete))
        end = min(max(end, (late or runs_out) + DAY), now + timedelta(days=AHEAD_DAYS))
        label = f"{w['runs_out']} {day_label(runs_out, tz, language)}"
        markers.append(Marker(runs_out, label, "runway", early, late))  # the plot clips what lies past its end
        reach = min(runs_out, end)
        left = last.value - rate * Decimal((reach - last.at) / DAY)
        projection = Projection(XY(last.at, last.value), XY(reach, max(left, Decimal(0))), f"-{fmt(rate)}/{w['day']}")
    if runway is not None:
        days = Decimal(runway / DAY).normalize()
        markers.append(Marker(now + runway, f"{w['runway']} {format(days, 'f')} {w['days']}", "runway-alert"))
        end = max(end, now + runway + DAY)

    rules = (Rule(below, f"{w['below']} {fmt(below)}", "below"),) if below is not None else ()
    highest = max([r.value for r in shown] + [r.value for r in rules] + [Decimal(0)])
    top, step = nice_top(highest * Decimal("1.05"))
    bars = tuple(Bar(day, day + DAY, amount, fmt(amount)) for day, amount in spend)
    bars_top = nice_top(max((b.value for b in bars), default=Decimal(0)) * Decimal("1.05"), ticks=1)[0]
    value = shown[-1].value if shown else None
    span = max(1, (end - start).days)
    return ChartSpec(
        kind="balance",
        language=language,
        title=name,
        subtitle=f"{w['as_of']} {moment_label(now, tz, language)}",
        unit=unit,
        start=start,
        end=end,
        top=top,
        now=now,
        line=tuple(shown),
        line_label=w["balance"] if value is None else f"{w['balance']} {fmt(value)}",
        rules=rules,
        projection=projection,
        markers=tuple(markers),
        bars=bars,
        bars_label=w["spend"],
        bars_top=bars_top,
        x_ticks=day_ticks(start, end, tz, language, every=math.ceil(span / 5)),
        y_ticks=value_ticks(top, step, unit, language),
        notes=tuple(notes),
    )


def _days_after(reading: XY, rate: Decimal) -> datetime | None:
    """When ``reading``'s balance is used up at ``rate`` a day; None past ``MAX_DAYS`` (or without spend)."""
    if rate <= 0 or reading.value / rate > MAX_DAYS:
        return None
    return reading.at + DAY * float(reading.value / rate)


def _daily_spend(readings: list[XY], tz: tzinfo, now: datetime) -> list[tuple[datetime, Decimal]]:
    """(local day start, spend) for each day whose previous day has a reading and whose balance fell or held."""
    if not readings:
        return []
    days = local_midnights(readings[0].at - DAY, now + DAY, tz)
    closing: dict[datetime, Decimal] = {}
    for reading in readings:  # sorted: the day's last reading wins
        closing[days[bisect.bisect_right(days, reading.at) - 1]] = reading.value
    out: list[tuple[datetime, Decimal]] = []
    for before, day in itertools.pairwise(days):
        if before in closing and day in closing and closing[before] >= closing[day]:
            out.append((day, closing[before] - closing[day]))
    return out


def _median(values: Sequence[Decimal]) -> Decimal:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
