"""The sandbox's money model: hourly charges per billed product, the balance, monthly and daily bills.

Money model (all in fen, integers): every product is charged once per UTC hour, at the end of the
hour. A product's charge for an hour is ``round_half_up(sum over its priced metrics of usage(hour, all
zones) * yuan / per * 100)`` plus, for a fixed ``daily`` price D fen, ``floor((i+1)*D/24) -
floor(i*D/24)`` for the hour's index i within its UTC day (so 24 hours add up to D exactly). The balance
at instant t starts from the scenario's amounts at ``as_of``, adds top-ups made by t, and subtracts the
charges of every hour that ended in (as_of, t]; cash below zero becomes ``OweAmount``. Monthly bills
(months in the scenario's time zone) add up the charges of the month's hours that ended by the data
clock, so bills and balance always agree.

Priced metrics are EdgeOne usage of every zone, or (``cdn:<metric>``) CDN usage of every domain; a
paused, offline or stopped resource accrues nothing, so it costs nothing (caches follow the switches).
The billing actions are in ``sandbox/billing.py`` and ``sandbox/billing_dims.py``.
"""

from __future__ import annotations

import re
import threading
import weakref
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sandbox.api3 import ApiFailure
from sandbox.catalogue import CDN_METRIC_UNITS, METRIC_UNITS, parse_instant, parse_quantity
from sandbox.scenario import Scenario, month_start, next_month_start
from sandbox.scenario_spec import ProductSpec

HOUR = 3600
_MONTH = re.compile(r"^(\d{4})-(\d{2})(?:-\d{2}(?:[ T]\d{2}:\d{2}:\d{2})?)?$")
PAY_MODE_NAMES = {"postPay": "按量计费", "prePay": "包年包月"}
ACTION_TYPES = {"postPay": ("postpay_deduct_h", "按量计费小时结"), "prePay": ("prepay_purchase", "包年包月新购")}


def yuan(fen: int) -> str:
    """``123456`` fen -> ``"1234.56000000"`` (the bill APIs' 8-decimal yuan strings)."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}000000"


def fen_of(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value(ROUND_HALF_UP))


class Ledger:
    """Hourly charges, the balance and monthly bills of a scenario (cached; thread-safe)."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        spec = scenario.spec.billing
        self.products: tuple[ProductSpec, ...] = spec.products
        self.as_of = parse_instant(spec.as_of, scenario.tz).timestamp()
        self.topups = [(parse_instant(t.at, scenario.tz).timestamp(), fen_of(t.amount)) for t in spec.topups]
        self._per = {
            (p.code, metric): parse_quantity(price.per, _unit(metric))
            for p in self.products
            for metric, price in p.prices.items()
        }
        self._hours: dict[int, tuple[int, ...]] = {}
        self._usage: dict[tuple[str, int], list[int]] = {}
        self._lock = threading.Lock()
        self._switches_seen = scenario.switches.version

    def _follow_switches(self) -> None:
        # A pause, an offline host or a stopped domain changes usage from its instant on: recompute.
        version = self.scenario.switches.version
        if version != self._switches_seen:
            with self._lock:
                self._hours.clear()
                self._usage.clear()
                self._switches_seen = version

    def _hour_usage(self, metric: str, hour: int) -> int:
        day = hour // 24
        key = (metric, day)
        with self._lock:
            totals = self._usage.get(key)
        if totals is None:
            if metric.startswith("cdn:"):
                totals = self.scenario.cdn_engine.hourly_totals(metric[4:], day)
            else:
                totals = self.scenario.usage_engine.hourly_totals(metric, day)
            with self._lock:
                self._usage[key] = totals
        return totals[hour % 24]

    def hour_charges(self, hour: int) -> tuple[int, ...]:
        """Fen charged per product (in ``products`` order) for UTC hour ``hour`` (= timestamp // 3600)."""
        self._follow_switches()
        with self._lock:
            hit = self._hours.get(hour)
        if hit is not None:
            return hit
        out = []
        for product in self.products:
            fen = 0
            if product.daily is not None:
                daily = fen_of(product.daily)
                i = hour % 24
                fen += (i + 1) * daily // 24 - i * daily // 24
            if product.prices:
                cost = Decimal(0)
                for metric, price in product.prices.items():
                    cost += Decimal(self._hour_usage(metric, hour)) * price.yuan / self._per[(product.code, metric)]
                fen += fen_of(cost)
            out.append(fen)
        charges = tuple(out)
        with self._lock:
            self._hours[hour] = charges
        return charges

    def charges(self, start: float, end: float) -> list[int]:
        """Fen per product for the hours that start at or after ``start`` and end at or before ``end``."""
        totals = [0] * len(self.products)
        first = -(-int(start) // HOUR)
        last = int(end) // HOUR  # hours [first, last) have ended by `end`
        for hour in range(first, last):
            for i, fen in enumerate(self.hour_charges(hour)):
                totals[i] += fen
        return totals

    def balance(self, at: float) -> dict[str, Any]:
        """The DescribeAccountBalance amounts (fen) at timestamp ``at``."""
        spec = self.scenario.spec.billing
        spent = sum(self.charges(self.as_of, at)) if at > self.as_of else 0
        cash = fen_of(spec.cash) + sum(fen for ts, fen in self.topups if ts <= at) - spent
        owe = 0
        if cash < 0:
            cash, owe = 0, -cash
        present, income, freeze, credit = (
            fen_of(spec.present),
            fen_of(spec.income),
            fen_of(spec.freeze),
            fen_of(spec.credit),
        )
        real = cash + income + present - freeze - owe
        credit_balance = cash + income + present + credit - owe
        return {
            "Balance": real,
            "Uin": self.scenario.spec.account.uin,
            "RealBalance": real,
            "CashAccountBalance": cash,
            "IncomeIntoAccountBalance": income,
            "PresentAccountBalance": present,
            "FreezeAmount": freeze,
            "OweAmount": owe,
            "IsAllowArrears": spec.allow_arrears,
            "IsCreditLimited": spec.credit_limited,
            "CreditAmount": credit,
            "CreditBalance": credit_balance,
            "RealCreditBalance": credit_balance - freeze,
        }

    def month(self, year: int, month: int, now: float) -> list[int]:
        """Fen per product for the month (scenario time zone), counting hours that ended by ``now``."""
        tz = self.scenario.tz
        first = month_start(datetime(year, month, 15, tzinfo=tz), tz)
        after = next_month_start(first, tz)
        return self.charges(first.timestamp(), min(after.timestamp(), now))

    def day(self, day: date, now: float) -> list[int]:
        """Fen per product for one local calendar day (scenario time zone), hours ended by ``now``."""
        tz = self.scenario.tz
        first = datetime(day.year, day.month, day.day, tzinfo=tz)
        after = datetime.combine(day + timedelta(days=1), datetime.min.time(), tz)
        return self.charges(first.timestamp(), min(after.timestamp(), now))

    def ready(self, year: int, month: int) -> bool:
        spec = self.scenario.spec.billing
        return spec.ready and f"{year:04d}-{month:02d}" not in spec.not_ready


def _unit(metric: str) -> str:
    return CDN_METRIC_UNITS[metric[4:]] if metric.startswith("cdn:") else METRIC_UNITS[metric]


_LEDGERS: weakref.WeakKeyDictionary[Scenario, Ledger] = weakref.WeakKeyDictionary()
_LEDGERS_LOCK = threading.Lock()


def ledger_of(scenario: Scenario) -> Ledger:
    """The scenario's ledger (one per scenario object, so its caches are shared by all requests)."""
    with _LEDGERS_LOCK:
        ledger = _LEDGERS.get(scenario)
        if ledger is None:
            ledger = _LEDGERS[scenario] = Ledger(scenario)
        return ledger


# --- shared by the bill actions ------------------------------------------------------------------


def bill_month(params: dict[str, Any]) -> tuple[int, int]:
    for name in ("BeginTime", "EndTime"):
        if not params.get(name):
            raise ApiFailure("MissingParameter", f"The request is missing a required parameter `{name}`.")
    parsed = []
    for name in ("BeginTime", "EndTime"):
        match = _MONTH.match(params[name].strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise ApiFailure("InvalidParameterValue", f"`{name}` must be a month like 2026-11, not {params[name]!r}.")
        parsed.append((int(match.group(1)), int(match.group(2))))
    if parsed[0] != parsed[1]:
        raise ApiFailure(
            "InvalidParameterValue",
            "`BeginTime` and `EndTime` must be in the same month; the result covers that whole month.",
        )
    return parsed[0]


def amounts(fen: int, total: int) -> dict[str, str]:
    ratio = (Decimal(fen) * 100 / Decimal(total)).quantize(Decimal("0.01"), ROUND_HALF_UP) if total else Decimal("0.00")
    return {
        "RealTotalCostRatio": f"{ratio:.2f}",
        "RealTotalCost": yuan(fen),
        "CashPayAmount": yuan(fen),
        "IncentivePayAmount": yuan(0),
        "VoucherPayAmount": yuan(0),
        "TransferPayAmount": yuan(0),
        "TotalCost": yuan(fen),
    }
