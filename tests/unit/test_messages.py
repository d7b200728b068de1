"""Message text: human units and the zh/en wording of each notification kind."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.messages import batch_title, compose, format_percent, format_quantity, render_text
from lib.model import Period
from tests.unit.notify_samples import (
    AT,
    BALANCE_OK,
    LOW_BALANCE,
    MONTH,
    NO_DATA,
    OVER,
    SPEND_FORECAST,
    SPIKE,
    TRAFFIC,
    TZ,
)

D = Decimal


@pytest.mark.parametrize(
    ("value", "unit", "language", "expected"),
    [
        ("8.1e12", "B", "en", "8.1 TB"),
        ("1e13", "B", "zh", "10 TB"),
        ("0", "B", "en", "0 B"),
        ("999", "B", "en", "999 B"),
        ("999700", "B", "en", "1 MB"),  # 999.7 KB would round to "1000 KB"
        ("123456789012", "B", "en", "123 GB"),
        ("1.5e18", "B", "en", "1.5 EB"),
        ("1.2e9", "bps", "en", "1.2 Gbps"),
        ("250000000", "bps", "zh", "250 Mbps"),
        ("1234567", "count", "en", "1.23M requests"),
        ("1200000", "count", "zh", "120万次"),
        ("12345678", "count", "zh", "1,235万次"),
        ("123456789", "count", "zh", "1.23亿次"),
        ("9876", "count", "zh", "9,876次"),
        ("950", "count", "en", "950 requests"),
        ("1500", "entries", "en", "1.5K entries"),
        ("1500", "entries", "zh", "1,500条"),
        ("4120.5", "CNY", "zh", "¥4,120.50"),
        ("4120.505", "CNY", "en", "¥4,120.51"),
        ("-12", "CNY", "en", "-¥12.00"),
        ("99.999", "USD", "en", "$100.00"),
        ("3", "EUR", "en", "3.00 EUR"),
        ("850", "ms", "en", "850 ms"),
        ("45", "s", "zh", "45秒"),
        ("750", "s", "en", "12.5 min"),
        ("45000", "s", "zh", "12.5小时"),
        ("0.5", "s", "en", "500 ms"),
        ("81.25", "%", "en", "81.3%"),
        ("12", "widgets", "en", "12 widgets"),
    ],
)
def test_format_quantity(value: str, unit: str, language: str, expected: str) -> None:
    assert format_quantity(D(value), unit, language) == expected


@pytest.mark.parametrize(
    ("percent", "expected"),
    [(81.0, "81%"), (81.25, "81.3%"), (99.96, "99.9%"), (100.0, "100%"), (123.456, "123.5%"), (0.01, "<0.1%")],
)
def test_format_percent_never_rounds_across_the_limit(percent: float, expected: str) -> None:
    assert format_percent(percent) == expected


_PREFIX = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "PB": 10**15, "EB": 10**18}


@settings(max_examples=200, deadline=None)
@given(st.decimals(min_value=1, max_value=D("1e20"), allow_nan=False, allow_infinity=False, places=3))
def test_bytes_read_back_within_half_a_percent(value: Decimal) -> None:
    """Three significant digits: what the reader sees is within 0.5% of the real amount."""
    number, prefix = format_quantity(value, "B", "en").split(" ")
    shown = D(number.replace(",", "")) * _PREFIX[prefix]
    assert abs(shown - value) <= value * D("0.005") + D("0.5")


def test_threshold_title_names_budget_usage_limit_and_percent() -> None:
    zh_title, zh_body = render_text(TRAFFIC, "zh", TZ)
    assert zh_title == "🟠 预算告警：edgeone-traffic · zone-2m2gq4dnpmd2 本月已用 81%（8.1 TB / 10 TB）"
    assert zh_body.splitlines()[:2] == [
        "用量：8.1 TB / 10 TB（81%）",
        "周期：2026年11月，2026-12-01 00:00 UTC+8 结束（还剩 8 天）",
    ]
    assert "预测：周期结束时约 11 TB（限额的 110%）" in zh_body
    assert "占比最高：www.example.com 5.2 TB（64.2%）" in zh_body
    assert zh_body.splitlines()[-1] == f"{TRAFFIC.id} · 数据时间 2026-11-22 10:00 UTC+8"
    en_title, en_body = render_text(TRAFFIC, "en", TZ)
    assert en_title == (
        "🟠 Budget alert: edgeone-traffic · zone-2m2gq4dnpmd2 at 81% of its limit this month (8.1 TB of 10 TB)"
    )
    assert "Period: November 2026, ends 2026-12-01 00:00 UTC+8 (8 days left)" in en_body
    assert "Threshold: 80% (8 TB)" in en_body


def test_over_the_limit_is_red_and_says_so() -> None:
    message = compose(OVER, "zh", TZ)
    assert message.tone == "critical"
    assert message.title.startswith("🔴 ")
    assert "已超出限额" in message.title and "1.23亿次 / 1亿次" in message.title
    assert "over the limit" in compose(OVER, "en", TZ).title
    assert "14 h left" in render_text(OVER, "en", TZ)[1]


def test_forecast_states_projection_and_share_of_limit() -> None:
    title, body = render_text(SPEND_FORECAST, "en", TZ)
    assert "heading for ¥5,618.86 this month, 112.4% of its ¥5,000.00 limit" in title
    assert "Used so far: ¥4,120.50 of ¥5,000.00 (82.4%)" in body


def test_below_and_its_resolution() -> None:
    assert render_text(LOW_BALANCE, "zh", TZ)[0] == "🔴 预算告警：low-balance 当前 ¥820.35，低于下限 ¥1,000.00"
    title, body = render_text(BALANCE_OK, "en", TZ)
    assert title == "✅ Budget resolved: low-balance is back at ¥1,520.00, above ¥1,000.00"
    assert "Period" not in body  # a balance has no period worth telling
    first = replace(LOW_BALANCE, detail={"below": "1000", "repeat": 0, "since": "2026-11-22T01:30:00+00:00"})
    title, body = render_text(first, "en", TZ)
    assert not title.endswith("(reminder)")
    assert "Since: 2026-11-22 09:30 UTC+8" in body
    reminder = replace(first, detail={**first.detail, "repeat": 2})
    assert render_text(reminder, "en", TZ)[0].endswith("(reminder)")
    assert render_text(reminder, "zh", TZ)[0].endswith("（持续提醒）")


def test_spike_shows_ratio_and_baseline() -> None:
    title, body = render_text(SPIKE, "zh", TZ)
    assert "1.2 Gbps，是近期中位数 250 Mbps 的 4.8 倍" in title
    assert "告警倍数：3×" in body
    assert "分组：域名 www.example.com" in body
    assert "4.8× the recent median of 250 Mbps" in render_text(SPIKE, "en", TZ)[0]


def test_no_data_quotes_the_error_and_never_a_zero() -> None:
    title, body = render_text(NO_DATA, "en", TZ)
    assert title == "⚠️ Budget no data: cannot read edgeone-traffic (3 failed fetches in a row)"
    assert "Last error: teo DescribeBillingData" in body
    assert " 0 B" not in title + body
    long_error = replace(NO_DATA, detail={"error": "x" * 500})
    assert "x" * 199 + "…" in render_text(long_error, "en", TZ)[1]


def test_level_kind_from_the_rules_decides_percent_or_amount() -> None:
    """``detail["absolute"]`` lists the budget's absolute levels; ``level_kind`` says which one spoke."""
    percent = replace(TRAFFIC, detail={"level_kind": "percent", "absolute": ["5000000000000"]})
    assert "Threshold: 80% (8 TB)" in render_text(percent, "en", TZ)[1]
    amount = replace(TRAFFIC, level=5e12, detail={"level_kind": "absolute", "absolute": ["5000000000000"]})
    title, body = render_text(amount, "en", TZ)
    assert "Threshold: 5 TB" in body and "past 5 TB" in title


def test_held_by_a_silence_says_so() -> None:
    held = replace(TRAFFIC, detail={"held": True})
    assert "静默期间触发，静默结束后发出" in render_text(held, "zh", TZ)[1]


def test_absolute_level_without_limit() -> None:
    n = replace(TRAFFIC, limit=None, percent=None, level=5e12, forecast=None, breakdown=())
    title, body = render_text(n, "en", TZ)
    assert "has used 8.1 TB this month, past 5 TB" in title
    assert "Threshold: 5 TB" in body


def test_day_period_and_other_zone() -> None:
    ny = ZoneInfo("America/New_York")
    period = Period(datetime(2026, 3, 8, tzinfo=ny), datetime(2026, 3, 9, tzinfo=ny))  # a 23-hour DST day
    n = replace(OVER, period=period, at=datetime(2026, 3, 8, 0, 30, tzinfo=ny))
    body = render_text(n, "en", ny)[1]
    # 22.5 real hours remain (clocks skip 02:00-03:00); wall-clock arithmetic would say 23.
    assert "Period: 8 Mar 2026, ends 2026-03-09 00:00 UTC-4 (22 h left)" in body
    assert "2026-03-08 00:30 UTC-5" in body


def test_past_period_is_named_not_called_this_month() -> None:
    late = replace(TRAFFIC, at=MONTH.end + timedelta(hours=1))
    title = render_text(late, "zh", TZ)[0]
    assert "2026年11月已用" in title and "本月" not in title


def test_batch_title_counts_and_names() -> None:
    messages = [compose(n, "zh", TZ) for n in (OVER, TRAFFIC, BALANCE_OK, SPIKE, NO_DATA)]
    assert (
        batch_title(messages, "zh")
        == "预算通知：4 条告警，1 条恢复（edgeone-requests、edgeone-traffic、low-balance 等）"
    )
    assert batch_title(messages[:1], "en") == messages[0].title


def test_render_is_pure_and_language_falls_back_to_english() -> None:
    assert render_text(TRAFFIC, "zh", TZ) == render_text(TRAFFIC, "zh", TZ)
    assert render_text(TRAFFIC, "fr", TZ) == render_text(TRAFFIC, "en", TZ)
    assert AT.tzinfo is TZ
