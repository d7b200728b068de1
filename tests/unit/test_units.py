"""Quantities with units: bytes (decimal and binary), bits per second, counts, durations, money."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from lib.config.units import UnitError, parse_percent, parse_quantity, parse_seconds


@pytest.mark.parametrize(
    ("raw", "unit", "expected"),
    [
        ("10TB", "B", 10 * 10**12),
        ("10 TB", "B", 10 * 10**12),
        ("1.5GB", "B", 1_500_000_000),
        ("512B", "B", 512),
        ("1kB", "B", 1000),
        ("1KB", "B", 1000),
        ("1KiB", "B", 1024),
        ("2MiB", "B", 2 * 1024**2),
        ("1GiB", "B", 1024**3),
        ("1TiB", "B", 1024**4),
        ("1PiB", "B", 1024**5),
        ("1PB", "B", 10**15),
        (10**13, "B", 10**13),
        ("1e13", "B", 10**13),
        (1.5, "B", Decimal("1.5")),
        ("100Mbps", "bps", 10**8),
        ("100mbps", "bps", 10**8),
        ("1Gbps", "bps", 10**9),
        ("2.5Kbps", "bps", 2500),
        ("1Tbps", "bps", 10**12),
        ("800bps", "bps", 800),
        ("5000", "count", 5000),
        ("10k", "count", 10_000),
        ("2M", "count", 2_000_000),
        ("3万", "count", 30_000),
        ("1亿", "count", 10**8),
        ("5,000", "CNY", 5000),
        ("5_000", "CNY", 5000),
        ("¥4,120.50", "CNY", Decimal("4120.50")),
        ("4120.5 CNY", "CNY", Decimal("4120.5")),
        ("1000元", "CNY", 1000),
        (-50, "CNY", -50),
        ("2h", "s", 7200),
        ("1h30m", "s", 5400),
        ("90", "s", 90),
        ("500ms", "ms", 500),
        ("2s", "ms", 2000),
        ("1h", "ms", 3_600_000),
    ],
)
def test_parse_quantity(raw: object, unit: str, expected: int | Decimal) -> None:
    assert parse_quantity(raw, unit) == Decimal(expected)


@pytest.mark.parametrize(
    ("raw", "unit", "message"),
    [
        ("10TB", "bps", "is a data size but this metric is measured as a bandwidth (bps)"),
        ("100Mbps", "B", "is a bandwidth but this metric is measured as a data size (B)"),
        ("10Tb", "B", "bytes are a capital B, e.g. TB; bits per second are Tbps"),
        ("10XB", "B", "unknown unit 'XB'"),
        ("5GB", "count", "is a data size but this metric is measured as a count"),
        ("2h", "CNY", "is a duration but this metric is measured as an amount of money"),
        ("ten", "B", "not a quantity"),
        (True, "B", "not a quantity"),
        ([1], "B", "not a quantity"),
        ("NaN", "B", "not a quantity"),
        ("1e999999999", "B", "too large"),
        (float("inf"), "B", "not a finite number"),
    ],
)
def test_parse_quantity_errors(raw: object, unit: str, message: str) -> None:
    with pytest.raises(UnitError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_quantity(raw, unit)


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [("24h", 86400), ("30m", 1800), ("7d", 604800), ("1w", 604800), ("90s", 90), ("1h30m", 5400),
     ("1.5h", 5400), (3600, 3600), ("45 min", 2700), ("250ms", Decimal("0.25"))],
)  # fmt: skip
def test_parse_seconds(raw: object, seconds: int | Decimal) -> None:
    assert parse_seconds(raw) == Decimal(seconds)


@pytest.mark.parametrize("raw", ["24", "soon", "1x", "h"])
def test_parse_seconds_errors(raw: str) -> None:
    if raw == "24":
        assert parse_seconds(raw) == 24  # a plain number is seconds
        return
    with pytest.raises(UnitError, match="not a duration"):
        parse_seconds(raw)


@pytest.mark.parametrize(("raw", "percent"), [(80, 80), ("80%", 80), ("12.5 %", Decimal("12.5")), (100.0, 100)])
def test_parse_percent(raw: object, percent: int | Decimal) -> None:
    assert parse_percent(raw) == Decimal(percent)


def test_parse_percent_refuses_units() -> None:
    with pytest.raises(UnitError, match="not a percentage"):
        parse_percent("80TB")


@pytest.mark.parametrize(
    ("parse", "raw", "digit"),
    [
        (parse_seconds, "١٢h", "U+0661"),  # Arabic-Indic: would otherwise read as 12 hours
        (parse_seconds, "۱۲", "U+06F1"),  # Extended Arabic-Indic, a plain number of seconds
        (parse_seconds, "1h٣٠m", "U+0663"),
        (lambda raw: parse_quantity(raw, "B"), "１０TB", "U+FF11"),  # full-width
        (lambda raw: parse_quantity(raw, "bps"), "१००Mbps", "U+0967"),  # Devanagari
        (lambda raw: parse_quantity(raw, "count"), "٣万", "U+0663"),
        (lambda raw: parse_quantity(raw, "CNY"), "¥٥٠٠", "U+0665"),
        (lambda raw: parse_quantity(raw, "ms"), "٥s", "U+0665"),
        (parse_percent, "٨٠%", "U+0668"),
    ],
)
def test_only_ascii_digits_are_numbers(parse: Any, raw: str, digit: str) -> None:
    with pytest.raises(UnitError) as info:
        parse(raw)
    assert f"({digit}): write numbers with the digits 0-9" in str(info.value)
    assert repr(raw) in str(info.value)


def test_ascii_digits_next_to_chinese_units_still_read() -> None:
    assert parse_quantity("3万", "count") == 30_000
    assert parse_quantity("1000元", "CNY") == 1000
