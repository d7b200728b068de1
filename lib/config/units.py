"""Quantities written in ``budgets.yaml``, parsed to ``Decimal`` in a metric's base unit.

Kinds and their base units (what collectors report in ``Observation.unit``):

    bytes      B      B KB MB GB TB PB (x1000) and KiB MiB GiB TiB PiB (x1024)
    bandwidth  bps    bps Kbps Mbps Gbps Tbps (x1000; the prefix letter may be any case)
    count      count  plain numbers, k/K (1e3), M (1e6), 万 (1e4), 亿 (1e8)
    duration   s, ms  s ms m/min h d w, or combined like 1h30m
    money      CNY    plain numbers, optionally ¥ / ￥ / $ before or CNY / USD / 元 after

A plain number is always taken in the metric's base unit. Thousands separators (``5,000``,
``5_000``) are accepted. A unit of the wrong kind (``10TB`` for a bandwidth) is an error that names
both kinds, so a typo cannot silently turn bytes into bits.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Literal

MAX_EXPONENT = 24
_AT_MOST = f"write at most {MAX_EXPONENT + 1} digits before the decimal point"

Kind = Literal["bytes", "bandwidth", "count", "duration", "money"]

KIND_BY_UNIT: dict[str, Kind] = {
    "B": "bytes",
    "bps": "bandwidth",
    "count": "count",
    "s": "duration",
    "ms": "duration",
    "CNY": "money",
    "USD": "money",
}

KIND_NAMES: dict[Kind, str] = {
    "bytes": "a data size",
    "bandwidth": "a bandwidth",
    "count": "a count",
    "duration": "a duration",
    "money": "an amount of money",
}

_BYTE_FACTORS: dict[str, int] = {
    "": 1,
    "K": 1000,
    "M": 1000**2,
    "G": 1000**3,
    "T": 1000**4,
    "P": 1000**5,
    "KI": 1024,
    "MI": 1024**2,
    "GI": 1024**3,
    "TI": 1024**4,
    "PI": 1024**5,
}
_BIT_FACTORS: dict[str, int] = {"": 1, "K": 1000, "M": 1000**2, "G": 1000**3, "T": 1000**4}
_COUNT_FACTORS: dict[str, int] = {"": 1, "k": 1000, "K": 1000, "M": 1000**2, "万": 10**4, "亿": 10**8}
_SECONDS: dict[str, Decimal] = {
    "ms": Decimal("0.001"),
    "s": Decimal(1),
    "sec": Decimal(1),
    "m": Decimal(60),
    "min": Decimal(60),
    "h": Decimal(3600),
    "d": Decimal(86400),
    "w": Decimal(7 * 86400),
}
_MONEY_PREFIXES = ("¥", "￥", "$")
_MONEY_SUFFIXES = ("CNY", "RMB", "USD", "元", "yuan")

# [0-9], not \d: \d and Decimal() also read other scripts' digits ("١٢h" would be 12 hours), which a
# reader of the file may not recognise as a number at all; such text is refused with a message instead.
_NUMBER = r"[+-]?(?:[0-9][0-9_,]*(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_SPLIT = re.compile(rf"^\s*({_NUMBER})\s*(.*?)\s*$")
_BYTES = re.compile(r"^(?:([kKmMgGtTpP])(i)?)?B$")
_BITS = re.compile(r"^([kKmMgGtT])?bps$", re.IGNORECASE)
_DURATION_PART = re.compile(rf"({_NUMBER})\s*(ms|sec|min|s|m|h|d|w)", re.IGNORECASE)

UNIT_HELP = (
    "data sizes: B, KB, MB, GB, TB, PB (x1000) or KiB, MiB, GiB, TiB, PiB (x1024); "
    "bandwidths: bps, Kbps, Mbps, Gbps, Tbps; counts: k, M, 万, 亿; "
    "durations: ms, s, m, h, d, w; money: ¥ or CNY"
)


class UnitError(ValueError):
    """A quantity that cannot be read, or whose unit does not fit the metric."""


def unit_kind(unit: str) -> Kind:
    """The kind of a base unit (``B`` → bytes)."""
    try:
        return KIND_BY_UNIT[unit]
    except KeyError as exc:
        raise UnitError(f"unknown base unit {unit!r}") from exc


def _ascii_digits(raw: str) -> None:
    """Refuse digits other than 0-9 (Arabic-Indic, full-width, ...), naming the first one."""
    for char in raw:
        if char.isdigit() and not "0" <= char <= "9":
            raise UnitError(f"{raw!r} has the digit {char!r} (U+{ord(char):04X}): write numbers with the digits 0-9")


def _number(text: str, raw: object) -> Decimal:
    try:
        value = Decimal(text.replace("_", "").replace(",", ""))
    except InvalidOperation as exc:
        raise UnitError(f"{raw!r} is not a number") from exc
    if not value.is_finite():
        raise UnitError(f"{raw!r} is not a finite number")
    if value and value.adjusted() > MAX_EXPONENT:  # keeps later arithmetic far from Decimal overflow
        raise UnitError(f"{raw!r} is too large: {_AT_MOST}")
    return value


def _plain(raw: object) -> Decimal | None:
    """A YAML number as an exact Decimal, or None when ``raw`` is text that needs parsing."""
    if isinstance(raw, bool):
        raise UnitError(f"{raw!r} is not a quantity")
    if isinstance(raw, int | Decimal):
        value = Decimal(raw)
        # The same bounds as written text: a 30-digit YAML integer must not bypass MAX_EXPONENT.
        if not value.is_finite():
            raise UnitError(f"{raw!r} is not a finite number")
        if value and value.adjusted() > MAX_EXPONENT:
            shown = repr(raw) if value.adjusted() < 40 else f"a number of {value.adjusted() + 1} digits"
            raise UnitError(f"{shown} is too large: {_AT_MOST}")
        return value
    if isinstance(raw, float):
        # str() keeps what the user wrote for short decimals (0.1 stays 0.1, not 0.1000000000000000055…).
        return _number(str(raw), raw)
    if not isinstance(raw, str):
        raise UnitError(f"{raw!r} is not a quantity")
    _ascii_digits(raw)
    return None


def classify(suffix: str) -> tuple[Kind, Decimal] | None:
    """What a unit suffix means: its kind and its factor to that kind's base unit (seconds for durations)."""
    if m := _BYTES.match(suffix):
        prefix = (m.group(1) or "").upper() + ("I" if m.group(2) else "")
        return "bytes", Decimal(_BYTE_FACTORS[prefix])
    if m := _BITS.match(suffix):
        return "bandwidth", Decimal(_BIT_FACTORS[(m.group(1) or "").upper()])
    if suffix in _COUNT_FACTORS and suffix:
        return "count", Decimal(_COUNT_FACTORS[suffix])
    if suffix in _MONEY_SUFFIXES:
        return "money", Decimal(1)
    if suffix.lower() in _SECONDS:
        return "duration", _SECONDS[suffix.lower()]
    return None


def _hint(suffix: str) -> str:
    low = suffix.lower()
    if low.endswith("b") and not low.endswith("ib") and suffix[-1] == "b":
        return f": bytes are a capital B, e.g. {suffix[:-1].upper()}B; bits per second are {suffix[:-1].upper()}bps"
    return ""


def parse_quantity(raw: object, unit: str) -> Decimal:
    """``raw`` (a YAML number or text such as ``"10TB"``) in the base unit ``unit`` (B, bps, count, s, ms, CNY)."""
    kind = unit_kind(unit)
    plain = _plain(raw)
    if plain is not None:
        return plain
    assert isinstance(raw, str)
    text = raw.strip()
    if kind == "money":
        for symbol in _MONEY_PREFIXES:
            if text.startswith(symbol):
                text = text[len(symbol) :].strip()
                break
    if kind == "duration" and _is_compound_duration(text):
        seconds = parse_seconds(text)
        return seconds * 1000 if unit == "ms" else seconds
    m = _SPLIT.match(text)
    if not m:
        raise UnitError(f"{raw!r} is not a quantity: write a number, optionally followed by a unit ({UNIT_HELP})")
    value = _number(m.group(1), raw)
    suffix = m.group(2)
    if not suffix:
        return value
    found = classify(suffix)
    if found is None:
        hint = _hint(suffix) or f"; units are {UNIT_HELP}"
        raise UnitError(f"unknown unit {suffix!r} in {raw!r}{hint}")
    found_kind, factor = found
    if found_kind != kind:
        raise UnitError(
            f"{raw!r} is {KIND_NAMES[found_kind]} but this metric is measured as {KIND_NAMES[kind]} ({unit})"
        )
    if kind == "duration" and unit == "ms":
        factor *= 1000
    return value * factor


def _is_compound_duration(text: str) -> bool:
    parts = _DURATION_PART.findall(text)
    return len(parts) > 1 and "".join(a + b for a, b in parts) == text.replace(" ", "")


def parse_seconds(raw: object) -> Decimal:
    """A duration such as ``24h``, ``30m``, ``7d``, ``1h30m`` or a plain number of seconds."""
    plain = _plain(raw)
    if plain is not None:
        return plain
    assert isinstance(raw, str)
    text = raw.strip().replace(" ", "")
    parts = _DURATION_PART.findall(text)
    if parts and "".join(a + b for a, b in parts) == text:
        return sum((_number(num, raw) * _SECONDS[name.lower()] for num, name in parts), Decimal(0))
    m = _SPLIT.match(text)
    if m and not m.group(2):
        return _number(m.group(1), raw)
    raise UnitError(f"{raw!r} is not a duration: write e.g. 90s, 30m, 24h, 7d or 1h30m")


def parse_percent(raw: object) -> Decimal:
    """A threshold: ``80`` or ``"80%"``."""
    plain = _plain(raw)
    if plain is not None:
        return plain
    assert isinstance(raw, str)
    text = raw.strip()
    if text.endswith("%"):
        text = text[:-1]
    m = _SPLIT.match(text)
    if not m or m.group(2):
        raise UnitError(f"{raw!r} is not a percentage: write e.g. 80 or 80%")
    return _number(m.group(1), raw)
