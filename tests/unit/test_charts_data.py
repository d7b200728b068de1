"""Golden tests of the chart data: points, lines, ranges and labels, worked out by hand from small series."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from lib.charts.axes import nice_top
from lib.charts.balance import balance_chart
from lib.charts.budget import budget_chart
from lib.charts.data import group_name, usage_chart
from lib.charts.spec import ChartSpec
from lib.config.loader import parse_config
from lib.config.models import Config
from lib.model import Period, Point

TZ = ZoneInfo("Asia/Shanghai")
GB = 10**9
TB = 10**12
NOVEMBER = Period(datetime(2026, 11, 1, tzinfo=TZ), datetime(2026, 12, 1, tzinfo=TZ))
DAY_22 = Period(datetime(2026, 11, 22, tzinfo=TZ), datetime(2026, 11, 23, tzinfo=TZ))


def local(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=TZ)


def utc(day: int, hour: int = 0) -> datetime:
    return local(day, hour).astimezone(timezone.utc)  # series points are stored in UTC


def month_usage(language: str) -> ChartSpec:
    # One bucket per local day: 100, 300, 200, 100, 200 GB; five complete days at 6 Nov 00:00.
    amounts = [100, 300, 200, 100, 200]
    series = {"": [Point(utc(1 + i), Decimal(a * GB)) for i, a in enumerate(amounts)]}
    return usage_chart(
        "edgeone-traffic",
        period_kind="month",
        period=NOVEMBER,
        unit="B",
        series=series,
        now=local(6),
        tz=TZ,
        language=language,
        limit=Decimal(10 * TB),
        thresholds=(Decimal(50), Decimal(80), Decimal(100)),
    )


def test_month_usage_points_lines_and_forecast_range() -> None:
    spec = month_usage("en").to_dict()
    # The cumulative line reaches each day's total at the day's end.
    assert spec["line"] == [
        ["2026-11-01T00:00:00+08:00", "0"],
        ["2026-11-01T16:00:00+00:00", str(100 * GB)],
        ["2026-11-02T16:00:00+00:00", str(400 * GB)],
        ["2026-11-03T16:00:00+00:00", str(600 * GB)],
        ["2026-11-04T16:00:00+00:00", str(700 * GB)],
        ["2026-11-05T16:00:00+00:00", str(900 * GB)],
    ]
    assert spec["line_label"] == "Usage to date 900 GB (9%)"
    assert spec["rules"] == [
        ["threshold", str(5 * TB), "50% · 5 TB"],
        ["threshold", str(8 * TB), "80% · 8 TB"],
        ["limit", str(10 * TB), "Limit 10 TB"],
    ]
    # Median day 200 GB x 25 days left; the range takes the slowest (100 GB) and fastest (300 GB) day.
    assert spec["projection"] == {
        "from": ["2026-11-06T00:00:00+08:00", str(900 * GB)],
        "to": ["2026-12-01T00:00:00+08:00", f"{5900 * GB}.00"],
        "low": f"{3400 * GB}.00",
        "high": f"{8400 * GB}.00",
        "label": "Forecast at period end 5.9 TB",
        "range_label": "forecast range 3.4 TB – 8.4 TB",
    }
    assert [bar[1:] for bar in spec["bars"]] == [[str(a * GB), f"{a} GB"] for a in (100, 300, 200, 100, 200)]
    assert spec["bars_label"] == "Per day"
    # The limit (10 TB) is the highest line; with 5% headroom the axis rounds up to 15 TB in 5 TB steps.
    assert spec["range"] == ["2026-11-01T00:00:00+08:00", "2026-12-01T00:00:00+08:00", str(15 * TB)]
    assert spec["y_ticks"] == [["0", "0 B"], [str(5 * TB), "5 TB"], [str(10 * TB), "10 TB"], [str(15 * TB), "15 TB"]]
    assert spec["x_ticks"] == ["1 Nov", "8 Nov", "15 Nov", "22 Nov", "29 Nov"]
    assert spec["subtitle"] == "November 2026 · as of 6 Nov 00:00 UTC+8"
    assert spec["groups"] == [] and spec["notes"] == []


def test_month_usage_labels_in_chinese() -> None:
    spec = month_usage("zh")
    assert spec.line_label == "累计用量 900 GB (9%)"
    assert [r.label for r in spec.rules] == ["50% · 5 TB", "80% · 8 TB", "限额 10 TB"]
    assert spec.projection is not None
    assert spec.projection.label == "预测期末 5.9 TB"
    assert spec.projection.range_label == "预测区间 3.4 TB – 8.4 TB"
    assert [t.label for t in spec.x_ticks] == ["11月1日", "11月8日", "11月15日", "11月22日", "11月29日"]
    assert spec.subtitle == "2026年11月 · 截至 11月6日 00:00 UTC+8"
    assert spec.bars_label == "每日"


def test_month_usage_too_early_for_a_forecast_says_why() -> None:
    series = {"": [Point(utc(1), Decimal(100 * GB)), Point(utc(2), Decimal(100 * GB))]}
    spec = usage_chart(
        "t", period_kind="month", period=NOVEMBER, unit="B", series=series, now=local(3), tz=TZ, language="en"
    )
    assert spec.projection is None
    assert spec.notes == ("forecast after 3 complete days",)


def day_cost() -> ChartSpec:
    # Hourly cost 00:00-07:00; at 08:00 eight hours are complete.
    amounts = [10, 12, 8, 10, 30, 10, 10, 11]
    series = {"": [Point(utc(22, h), Decimal(a)) for h, a in enumerate(amounts)]}
    return usage_chart(
        "api-spend",
        period_kind="day",
        period=DAY_22,
        unit="CNY",
        series=series,
        now=local(22, 8),
        tz=TZ,
        language="en",
        limit=Decimal(300),
        thresholds=(Decimal(80), Decimal(100)),
    )


def test_day_cost_budget_hourly_bars_and_forecast() -> None:
    spec = day_cost()
    assert spec.line_label == "Cost to date ¥101.00 (33.7%)"
    assert [(r.role, r.value, r.label) for r in spec.rules] == [
        ("threshold", Decimal(240), "80% · ¥240.00"),
        ("limit", Decimal(300), "Limit ¥300.00"),
    ]
    assert spec.line[-1].at == local(22, 8) and spec.line[-1].value == 101
    # The last 7 complete hours: 12, 8, 10, 30, 10, 10, 11 → median 10, slowest 8, fastest 30; 16 hours left.
    assert spec.projection is not None
    assert (spec.projection.end.value, spec.projection.low, spec.projection.high) == (261, 229, 581)
    assert spec.projection.label == "Forecast at period end ¥261.00"
    assert spec.projection.range_label == "forecast range ¥229.00 – ¥581.00"
    assert [b.text for b in spec.bars] == [
        "¥10.00",
        "¥12.00",
        "¥8.00",
        "¥10.00",
        "¥30.00",
        "¥10.00",
        "¥10.00",
        "¥11.00",
    ]
    assert spec.bars_label == "Per hour"
    assert [t.label for t in spec.y_ticks] == ["¥0.00", "¥200.00", "¥400.00", "¥600.00", "¥800.00"]
    assert [t.label for t in spec.x_ticks] == ["00:00", "06:00", "12:00", "18:00"]
    assert spec.subtitle == "22 Nov 2026 · as of 22 Nov 08:00 UTC+8"


def test_running_total_readings_become_daily_changes() -> None:
    # Month-to-date cost read once a day; day 3 has no reading, so day 4's change spans both days.
    readings = [(1, 50), (2, 120), (4, 300), (5, 330)]
    series = {"": [Point(utc(d, 12), Decimal(v)) for d, v in readings]}
    spec = usage_chart(
        "prod-spend",
        period_kind="month",
        period=NOVEMBER,
        unit="CNY",
        series=series,
        now=local(5, 13),
        tz=TZ,
        language="en",
        limit=Decimal(3000),
        shape="readings",
    )
    assert [(p.at, p.value) for p in spec.line] == [(NOVEMBER.start, 0)] + [(utc(d, 12), v) for d, v in readings]
    # Day 3 has no reading: day 4's rise spans days 3 and 4, so it is no day's spend and gets no bar.
    assert [(b.start.day, b.value) for b in spec.bars] == [(1, 50), (2, 70), (5, 30)]
    # Billing cost has no series in the rule either: the forecast is the run rate, without a range.
    assert spec.projection is not None and spec.projection.low is None
    assert spec.projection.label.startswith("Forecast at period end ¥")


def test_top_groups_largest_first_then_the_rest_as_other() -> None:
    series = {f"zone-id=zone-{i}": [Point(utc(2), Decimal(i * GB))] for i in range(1, 8)}
    spec = usage_chart(
        "t", period_kind="month", period=NOVEMBER, unit="B", series=series, now=local(3), tz=TZ, language="en"
    )
    assert [(g.name, g.text, g.percent) for g in spec.groups] == [
        ("zone-7", "7 GB", 25.0),
        ("zone-6", "6 GB", 21.4),
        ("zone-5", "5 GB", 17.9),
        ("zone-4", "4 GB", 14.3),
        ("zone-3", "3 GB", 10.7),
        ("other", "3 GB", 10.7),
    ]
    assert spec.title == "t · zone-7"  # without a group named, the largest is drawn
    assert group_name("zone-id=zone-1,host=a.com") == "zone-1 / a.com"


def balance(language: str, readings: list[tuple[int, int]] | None = None) -> ChartSpec:
    days = readings or [(10 + i, 5000 - 300 * i) for i in range(13)]  # 300 a day, ¥1,400 on 22 Nov
    return balance_chart(
        "low-balance",
        unit="CNY",
        readings=[Point(utc(d, 9), Decimal(v)) for d, v in days],
        now=local(22, 10),
        tz=TZ,
        language=language,
        below=Decimal(1000),
        runway=timedelta(days=7),
    )


def test_balance_with_runway_date() -> None:
    spec = balance("en")
    data = spec.to_dict()
    assert data["line_label"] == "Balance ¥1,400.00"
    assert data["rules"] == [["below", "1000", "alert below ¥1,000.00"]]
    # 1,400 / 300 a day = 4 days 16 hours after the last reading (22 Nov 09:00).
    runs_out = local(27, 1)
    assert spec.projection is not None
    assert (spec.projection.start.at, spec.projection.end.at, spec.projection.end.value) == (utc(22, 9), runs_out, 0)
    assert spec.projection.label == "-¥300.00/day"
    assert [(m.role, m.at, m.label) for m in spec.markers] == [
        ("runway", runs_out, "runs out 27 Nov"),
        ("runway-alert", local(29, 10), "runway alert 7 days"),
    ]
    assert [(b.start.day, b.text) for b in spec.bars] == [(d, "¥300.00") for d in range(11, 23)]
    assert data["range"] == [utc(10, 9).isoformat(), local(30, 10).isoformat(), "6000"]
    assert [t.label for t in spec.y_ticks] == ["¥0.00", "¥2,000.00", "¥4,000.00", "¥6,000.00"]
    assert spec.bars_label == "Spent per day"


def test_balance_labels_in_chinese() -> None:
    spec = balance("zh")
    assert [m.label for m in spec.markers] == ["预计用尽 11月27日", "可用天数告警 7 天"]
    assert spec.rules[0].label == "低于此值告警 ¥1,000.00"
    assert spec.line_label == "余额 ¥1,400.00"


def test_balance_top_up_is_no_spend_and_the_range_spans_fast_and_slow_days() -> None:
    # Spend 100, 200, 400 a day, a top-up on 14 Nov, then 200, 200.
    spec = balance("en", [(10, 2000), (11, 1900), (12, 1700), (13, 1300), (14, 3000), (15, 2800), (16, 2600)])
    assert [(b.start.day, b.value) for b in spec.bars] == [(11, 100), (12, 200), (13, 400), (15, 200), (16, 200)]
    marker = spec.markers[0]
    # Median 200 a day: 2,600 lasts 13 days; at 400 a day 6.5 days, at 100 a day 26 days.
    assert marker.at == utc(29, 9)
    assert marker.early == utc(16, 9) + timedelta(days=6.5)
    assert marker.late == utc(16, 9) + timedelta(days=26)
    assert spec.end == marker.late + timedelta(days=1)  # the axis reaches past the latest run-out date


def test_balance_without_spending_has_no_runout_date() -> None:
    spec = balance("en", [(18, 1000), (19, 1000), (20, 1000), (21, 1000), (22, 1000)])
    assert spec.projection is None
    assert [m.role for m in spec.markers] == ["runway-alert"]
    assert spec.notes == ("no recent spending: no run-out date",)


@pytest.mark.parametrize(
    ("value", "top", "step"),
    [
        (Decimal("10.5e12"), 15 * TB, 5 * TB),
        (Decimal(610), 800, 200),
        (Decimal(1), 1, Decimal("0.25")),
        (Decimal(0), 4, 1),
    ],
)
def test_nice_top_rounds_up_to_round_steps(value: Decimal, top: int, step: Decimal) -> None:
    assert nice_top(value) == (top, step)


def test_bandwidth_levels_show_the_peak_without_a_forecast() -> None:
    levels = [(0, 4), (1, 9), (2, 6), (24, 5), (25, 7)]  # hours after 1 Nov 00:00, in Gbps
    series = {"": [Point(utc(1) + timedelta(hours=h), Decimal(v * GB)) for h, v in levels]}
    spec = usage_chart(
        "bw",
        period_kind="month",
        period=NOVEMBER,
        unit="bps",
        series=series,
        now=local(5),
        tz=TZ,
        language="en",
        limit=Decimal(10 * GB),
        shape="levels",
    )
    assert [(p.at, p.value) for p in spec.line] == [(utc(1) + timedelta(hours=h), v * GB) for h, v in levels]
    assert spec.line_label == "Peak 9 Gbps (90%)"
    assert [(b.start.day, b.text) for b in spec.bars] == [(1, "9 Gbps"), (2, "7 Gbps")]
    assert spec.bars_label == "Peak per day"
    assert spec.projection is None and spec.notes == ()


def config(text: str) -> Config:
    return parse_config(text, environ={})


def test_budget_chart_picks_the_kind_and_the_series_shape() -> None:
    cfg = config(
        """
channels: {ops: {type: webhook, url: "https://example.com/hook"}}
budgets:
  - {name: traffic, source: teo, metric: acc_flux, limit: plan, thresholds: [80, 100], channels: [ops]}
  - {name: spend, source: billing, metric: cost, period: month, limit: 3000, channels: [ops]}
  - {name: wallet, source: billing, metric: balance, below: 1000, channels: [ops]}
  - {name: peak, source: teo, metric: acc_bandwidth, period: day, limit: 10Gbps, channels: [ops]}
"""
    )
    traffic, spend, wallet, peak = cfg.budgets
    now = local(6)
    day = {"": [Point(utc(1 + i), Decimal(100 * GB)) for i in range(5)]}
    # limit: plan is the plan's quota, as the run resolved it.
    chart = budget_chart(traffic, day, unit="B", now=now, tz=TZ, language="en", limit=Decimal(10 * TB))
    assert chart.kind == "usage" and chart.start == NOVEMBER.start
    assert [r.label for r in chart.rules] == ["80% · 8 TB", "Limit 10 TB"]
    assert chart.line[-1].value == 500 * GB  # amounts add up

    readings = {"": [Point(utc(2), Decimal(100)), Point(utc(4), Decimal(250))]}
    chart = budget_chart(spend, readings, unit="CNY", now=now, tz=TZ, language="en")
    assert chart.line[-1].value == 250  # a reading is the total so far
    assert chart.line_label == "Cost to date ¥250.00 (8.3%)"

    balances = {"": [Point(utc(1 + i, 9), Decimal(3000 - 200 * i)) for i in range(5)]}
    chart = budget_chart(wallet, balances, unit="CNY", now=now, tz=TZ, language="zh", runway=timedelta(days=3))
    assert chart.kind == "balance"
    assert [r.label for r in chart.rules] == ["低于此值告警 ¥1,000.00"]
    assert [m.label for m in chart.markers] == ["预计用尽 11月16日", "可用天数告警 3 天"]

    hours = {"": [Point(utc(5, h), Decimal(h * GB)) for h in range(6)]}
    chart = budget_chart(peak, hours, unit="bps", now=local(5, 6), tz=TZ, language="en")
    assert chart.line_label == "Peak 5 Gbps (50%)"
    assert chart.start == local(5) and chart.end == local(6)
    assert chart.bars_label == "Peak per hour"


def test_balance_used_up_or_lasting_for_years_has_no_runout_date() -> None:
    used_up = balance("en", [(18, 300), (19, 200), (20, 100), (21, 0), (22, -50)])
    assert used_up.projection is None and used_up.notes == ("the balance is used up",)
    lasting = balance("zh", [(18, 10**9), (19, 10**9 - 1), (20, 10**9 - 2), (21, 10**9 - 3), (22, 10**9 - 4)])
    assert [m.role for m in lasting.markers] == ["runway-alert"]
    assert lasting.notes == ("按近期消耗，10 年内不会用尽",)
