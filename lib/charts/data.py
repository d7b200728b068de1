"""Usage and cost charts: a budget's stored series, limit, thresholds and period → a ``ChartSpec``.

Pure: no I/O, ``now`` and the zone are arguments. The series is what ``SeriesStore.load_budget`` gives
(group label → points), in one of three shapes: ``amounts`` per bucket that add up (EdgeOne traffic
and requests, the default), ``readings`` of a running total (month-to-date cost), or ``levels`` per
bucket (bandwidth: the line is the level itself, the budget's value its peak, and there is no forecast,
as the rules make none for a level). The forecast is the rules' own
(``lib.rules.forecast.project``, fed the same series as the rule), so the chart and the alert agree;
its range applies the slowest and the fastest of the same recent steps the median came from.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Literal

from lib.charts.axes import day_ticks, hour_ticks, moment_label, nice_top, period_title, value_ticks, words
from lib.charts.spec import XY, Bar, ChartSpec, Projection, Rule, Share
from lib.messages.units import format_percent, format_quantity
from lib.model import Period, Point
from lib.rules.forecast import CENT, MIN_STEPS, STEP_NAME, WINDOW, Forecast, project, steps

TOP_GROUPS = 5
HEADROOM = Decimal("1.05")  # room above the highest line so it never sits on the frame
_Format = Callable[[Decimal], str]
SeriesShape = Literal["amounts", "readings", "levels"]
_CURRENCIES = {"CNY", "USD", "RMB", "元", "¥", "$"}


def usage_chart(
    name: str,
    *,
    period_kind: Literal["day", "month"],
    period: Period,
    unit: str,
    series: Mapping[str, Sequence[Point]],
    now: datetime,
    tz: tzinfo,
    language: str,
    group: str | None = None,
    limit: Decimal | None = None,
    thresholds: Sequence[Decimal] = (),
    absolute: Sequence[Decimal] = (),
    shape: SeriesShape = "amounts",
) -> ChartSpec:
    """The chart of one group of a usage or cost budget (``group``: its label; default the whole
    budget, or the largest group); the top groups come from every group in ``series``."""
    w = words(language)
    inside = {label: _inside(points, period, now) for label, points in series.items()}
    totals = {label: _total(points, shape) for label, points in inside.items()}
    focus = _focus(totals, group)
    points = inside.get(focus, [])
    bounds = steps(period_kind, period, tz)
    line, value = _line(points, period, now, shape)
    amounts = _step_amounts(points, bounds, shape)

    def fmt(amount: Decimal) -> str:
        return format_quantity(amount, unit, language)

    rules = _rules(limit, thresholds, absolute, fmt, w["limit"])
    rule_series = points if shape == "amounts" else ()  # the rule gets no series for a running total either
    forecast = project(period_kind, period, value, rule_series, now=now, tz=tz) if shape != "levels" else None
    projection = _projection(forecast, amounts, bounds, value=value, period=period, now=now, fmt=fmt, w=w)
    notes: list[str] = []
    if not points:
        notes.append(w["no_data"])
    elif forecast is not None and forecast.value is None:
        notes.append(w["too_early"].format(n=MIN_STEPS[period_kind], step=w[STEP_NAME[period_kind]]))

    highest = max([value, *(r.value for r in rules), *_projection_values(projection)])
    top, step = nice_top(highest * HEADROOM)
    bars = tuple(
        Bar(bounds[i][0], bounds[i][1], amount, fmt(amount)) for i, amount in sorted(amounts.items()) if amount >= 0
    )
    bars_top = nice_top(max((b.value for b in bars), default=Decimal(0)) * HEADROOM, ticks=1)[0]
    if period_kind == "month":
        x_ticks = day_ticks(period.start, period.end, tz, language, every=7)
    else:
        x_ticks = hour_ticks(period.start, period.end, tz)

    label = w["peak"] if shape == "levels" else w["cost"] if unit.strip() in _CURRENCIES else w["usage"]
    line_label = f"{label} {fmt(value)}"
    if limit:
        line_label += f" ({format_percent(round(float(value * 100 / limit), 1))})"
    title = name if not focus else f"{name} · {group_name(focus)}"
    as_of = f"{w['as_of']} {moment_label(now, tz, language)}"
    return ChartSpec(
        kind="usage",
        language=language,
        title=title,
        subtitle=f"{period_title(period_kind, period.start, tz, language)} · {as_of}",
        unit=unit,
        start=period.start,
        end=period.end,
        top=top,
        now=now,
        line=tuple(line),
        line_label=line_label,
        rules=rules,
        projection=projection,
        bars=bars,
        bars_label=w[("daily" if period_kind == "month" else "hourly") + ("_peak" if shape == "levels" else "")],
        bars_top=bars_top,
        groups=_shares(totals, fmt, w["other"]),
        groups_label=w["groups"],
        x_ticks=x_ticks,
        y_ticks=value_ticks(top, step, unit, language),
        notes=tuple(notes),
    )


def group_name(label: str) -> str:
    """``zone-id=zone-1,host=a.com`` → ``zone-1 / a.com``: the values a reader knows the group by."""
    return " / ".join(part.partition("=")[2] or part for part in label.split(",")) if label else ""


def _inside(points: Sequence[Point], period: Period, now: datetime) -> list[Point]:
    # Stored points are in UTC: bounds in UTC too compare without a time-zone lookup per point.
    start, end = period.start.astimezone(timezone.utc), period.end.astimezone(timezone.utc)
    last = now.astimezone(timezone.utc)
    return sorted((p for p in points if start <= p.time < end and p.time <= last), key=lambda p: p.time)


def _total(points: Sequence[Point], shape: SeriesShape) -> Decimal:
    if not points:
        return Decimal(0)
    if shape == "levels":
        return max(p.value for p in points)
    return points[-1].value if shape == "readings" else sum((p.value for p in points), Decimal(0))


def _focus(totals: Mapping[str, Decimal], group: str | None) -> str:
    if group is not None:
        return group
    if "" in totals or not totals:
        return ""
    return max(sorted(totals), key=lambda label: totals[label])


def _line(points: list[Point], period: Period, now: datetime, shape: SeriesShape) -> tuple[list[XY], Decimal]:
    """The line and the value so far: cumulative from zero at the period start, or the levels as they are.

    A bucket's amount is reached at its end (the next bucket's start, by the series' own spacing),
    never later than ``now``; a running total's reading is the value at its instant."""
    if shape == "levels":
        return [XY(p.time, p.value) for p in points], _total(points, shape)
    line = [XY(period.start, Decimal(0))]
    if shape == "readings":
        line += [XY(p.time, p.value) for p in points if p.time > period.start]
        return line, _total(points, shape)
    gaps = [b.time - a.time for a, b in itertools.pairwise(points) if b.time > a.time]
    width = min(gaps, default=timedelta(hours=1))
    total = Decimal(0)
    for p in points:
        total += p.value
        line.append(XY(min(p.time + width, now, period.end), total))
    return line, total


def _step_amounts(
    points: list[Point], bounds: tuple[tuple[datetime, datetime], ...], shape: SeriesShape
) -> dict[int, Decimal]:
    """Each step's amount, or its peak for levels (steps without data are left out, never read as zero)."""
    starts = [start.timestamp() for start, _ in bounds]
    out: dict[int, Decimal] = {}
    if shape != "readings":
        for p in points:
            index = bisect.bisect_right(starts, p.time.timestamp()) - 1
            before = out.get(index)
            if shape == "levels":
                out[index] = p.value if before is None else max(before, p.value)
            else:
                out[index] = (before or Decimal(0)) + p.value
        return out
    last: dict[int, Decimal] = {}
    for p in points:  # sorted: the last reading of a step wins
        last[bisect.bisect_right(starts, p.time.timestamp()) - 1] = p.value
    # A running total starts the period at zero, so a step's amount is its last reading less the step
    # before's. After a step without readings the change spans several days and is no day's amount: that
    # bar is left out (the line still shows the rise) rather than drawn as one day's spend.
    for index in sorted(last):
        before = Decimal(0) if index == 0 else last.get(index - 1)
        if before is not None:
            out[index] = last[index] - before
    return out


def _rules(
    limit: Decimal | None,
    thresholds: Sequence[Decimal],
    absolute: Sequence[Decimal],
    fmt: _Format,
    limit_word: str,
) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    if limit is not None:
        rules.append(Rule(limit, f"{limit_word} {fmt(limit)}", "limit"))
        for percent in sorted(set(thresholds)):
            if percent != 100:  # 100% is the limit line itself
                at = limit * percent / 100
                rules.append(Rule(at, f"{format_percent(percent)} · {fmt(at)}", "threshold"))
    rules += [Rule(amount, fmt(amount), "threshold") for amount in sorted(set(absolute))]
    return tuple(sorted(rules, key=lambda r: r.value))


def _projection(
    forecast: Forecast | None,
    amounts: Mapping[int, Decimal],
    bounds: tuple[tuple[datetime, datetime], ...],
    *,
    value: Decimal,
    period: Period,
    now: datetime,
    fmt: _Format,
    w: Mapping[str, str],
) -> Projection | None:
    if forecast is None or forecast.value is None:
        return None
    label = f"{w['forecast']} {fmt(forecast.value)}"
    low = high = None
    range_label = ""
    if forecast.method == "median-rate":
        complete = [i for i, (_, end) in enumerate(bounds) if end <= now and i in amounts]
        recent = [amounts[i] for i in complete][-WINDOW:]
        left = _steps_left(bounds, now)
        low = (value + min(recent) * left).quantize(CENT)
        high = (value + max(recent) * left).quantize(CENT)
        if low != high:
            range_label = f"{w['range']} {fmt(low)} – {fmt(high)}"
    start, end = XY(min(now, period.end), value), XY(period.end, forecast.value)
    return Projection(start, end, label, low, high, range_label)


def _projection_values(projection: Projection | None) -> list[Decimal]:
    if projection is None:
        return []
    return [v for v in (projection.end.value, projection.low, projection.high) if v is not None]


def _steps_left(bounds: tuple[tuple[datetime, datetime], ...], now: datetime) -> Decimal:
    """Whole future steps plus the unexpired fraction of the current one (as the forecast counts them)."""
    now_ts = now.timestamp()
    left = Decimal(0)
    for start, end in bounds:
        s, e = start.timestamp(), end.timestamp()
        if s >= now_ts:
            left += 1
        elif e > now_ts:
            left += Decimal(int(e - now_ts)) / Decimal(int(e - s))
    return left


def _shares(totals: Mapping[str, Decimal], fmt: _Format, other_word: str) -> tuple[Share, ...]:
    """The largest groups in the period, then the rest as one; nothing for a budget of one group."""
    if len(totals) < 2:
        return ()
    ordered = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    whole = sum(totals.values(), Decimal(0))
    shown = [(group_name(label) or label, amount) for label, amount in ordered[:TOP_GROUPS]]
    rest = sum((amount for _, amount in ordered[TOP_GROUPS:]), Decimal(0))
    if len(ordered) > TOP_GROUPS:
        shown.append((other_word, rest))
    return tuple(
        Share(label, amount, round(float(amount * 100 / whole), 1) if whole else 0.0, fmt(amount))
        for label, amount in shown
    )
