"""Human units for messages: "8.1 TB", "1.2 Gbps", "1.23M requests" / "123万次", "¥4,120.50", "81%".

Pure. Usage keeps three significant digits but never drops integer digits ("1235万", "123 GB");
money keeps exactly two decimals. Bytes use decimal prefixes (1 TB = 10^12 B), as Tencent Cloud bills.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

Language = str  # "zh" | "en"; anything but "zh" reads as English

_BYTE_UNITS = ("B", "KB", "MB", "GB", "TB", "PB", "EB")
_BIT_UNITS = ("bps", "Kbps", "Mbps", "Gbps", "Tbps", "Pbps")
_EN_COUNT = ("", "K", "M", "B", "T")
_ZH_COUNT = (("亿", Decimal(10) ** 8), ("万", Decimal(10) ** 4))

_BYTES = {"b", "byte", "bytes"}
_BITS = {"bps", "bit/s", "bits/s"}
_MILLIS = {"ms", "millisecond", "milliseconds"}
_SECONDS = {"s", "sec", "second", "seconds"}
_MINUTES = {"min", "minute", "minutes"}
_HOURS = {"h", "hour", "hours"}
# Count-like units and how each language names them (EdgeOne reports requests as "count").
_COUNT_NOUNS = {
    "count": ("requests", "次"),
    "requests": ("requests", "次"),
    "request": ("requests", "次"),
    "次": ("requests", "次"),
    "entries": ("entries", "条"),
    "entry": ("entries", "条"),
    "条": ("entries", "条"),
}
_CURRENCY_SYMBOLS = {"CNY": "¥", "RMB": "¥", "USD": "$", "元": "¥", "¥": "¥", "$": "$"}


def significant(value: Decimal) -> str:
    """Three significant digits without dropping integer digits, trailing zeros removed: 8.1, 12.3, 1235."""
    magnitude = abs(value)
    integer_digits = len(str(int(magnitude))) if magnitude >= 1 else 1
    places = max(0, 3 - integer_digits)
    quantum = Decimal(1).scaleb(-places)
    rounded = value.quantize(quantum, rounding=ROUND_HALF_UP)
    text = f"{rounded:,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _scaled(value: Decimal, base: int, names: tuple[str, ...]) -> tuple[str, str]:
    index = 0
    scaled = value
    while abs(scaled) >= base and index < len(names) - 1:
        scaled /= base
        index += 1
    # 999.7 KB rounds to "1000 KB"; promote it so the reader sees "1 MB".
    if abs(Decimal(significant(scaled).replace(",", ""))) >= base and index < len(names) - 1:
        scaled /= base
        index += 1
    return significant(scaled), names[index]


def format_money(value: Decimal, currency: str) -> str:
    """``¥4,120.50``, ``-$3.00``; unknown currencies as ``4,120.50 EUR``."""
    amount = abs(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 and amount != 0 else ""
    symbol = _CURRENCY_SYMBOLS.get(currency.upper() if currency.isascii() else currency)
    if symbol:
        return f"{sign}{symbol}{amount:,.2f}"
    return f"{sign}{amount:,.2f} {currency}"


def format_percent(percent: float | Decimal) -> str:
    """``81%``, ``81.5%``; a value just under 100 never shows as ``100%``, nor a small one as ``0%``."""
    p = Decimal(str(percent))
    if p == p.to_integral_value():
        return f"{int(p)}%"
    rounded = p.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if 0 < p < Decimal("0.05"):
        return "<0.1%"
    if p < 100 <= rounded:
        rounded = p.quantize(Decimal("0.1"), rounding=ROUND_DOWN)
    text = f"{rounded:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def _count(value: Decimal, unit: str, language: Language) -> str:
    en_noun, zh_noun = _COUNT_NOUNS[unit]
    if language == "zh":
        for name, size in _ZH_COUNT:
            if abs(value) >= size:
                return f"{significant(value / size)}{name}{zh_noun}"
        return f"{significant(value)}{zh_noun}"
    number, prefix = _scaled(value, 1000, _EN_COUNT)
    return f"{number}{prefix} {en_noun}"


def format_duration(seconds: Decimal, language: Language) -> str:
    """``850 ms``, ``45 s``, ``12.5 min``, ``3.2 h`` (``毫秒``/``秒``/``分钟``/``小时`` in zh)."""
    names = ("毫秒", "秒", "分钟", "小时") if language == "zh" else (" ms", " s", " min", " h")
    magnitude = abs(seconds)
    if magnitude != 0 and magnitude < 1:
        return f"{significant(seconds * 1000)}{names[0]}"
    if magnitude < 60:
        return f"{significant(seconds)}{names[1]}"
    if magnitude < 3600:
        return f"{significant(seconds / 60)}{names[2]}"
    return f"{significant(seconds / 3600)}{names[3]}"


def format_quantity(value: Decimal, unit: str, language: Language) -> str:
    """``value`` (in the metric's base ``unit``) for a human: bytes, bits/s, counts, durations, money, %."""
    key = unit.strip()
    low = key.lower()
    if low in _BYTES:
        number, name = _scaled(value, 1000, _BYTE_UNITS)
        return f"{number} {name}"
    if low in _BITS:
        number, name = _scaled(value, 1000, _BIT_UNITS)
        return f"{number} {name}"
    if low in _COUNT_NOUNS or key in _COUNT_NOUNS:
        return _count(value, low if low in _COUNT_NOUNS else key, language)
    if low in _MILLIS:
        return format_duration(value / 1000, language)
    if low in _SECONDS:
        return format_duration(value, language)
    if low in _MINUTES:
        return format_duration(value * 60, language)
    if low in _HOURS:
        return format_duration(value * 3600, language)
    if key in _CURRENCY_SYMBOLS or (len(key) == 3 and key.isalpha() and key.isupper()):
        return format_money(value, key)
    if key == "%":
        return format_percent(value)
    return f"{significant(value)} {key}".rstrip()
