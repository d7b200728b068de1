"""Billing collector over ``responses``: the UTC+8 bill month, Ready=0, Decimal money, balance in fen,
failure isolation, and the order of a whole ``collect`` run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
import responses

from lib.client import ApiClient, Credentials, RetryPolicy
from lib.client.ratelimit import unlimited
from lib.config.models import Config
from lib.errors import CollectError
from lib.sources import collect
from lib.sources.billing import parse_balance, parse_cost

BILLING_URL = "https://billing.tencentcloudapi.com/"
TEO_URL = "https://teo.tencentcloudapi.com/"

SUMMARY = {
    "Ready": 1,
    "SummaryTotal": {"RealTotalCost": "1458.10000000", "TotalCost": "2000.00000000"},
    "SummaryOverview": [
        {"BusinessCode": "p_cvm", "BusinessCodeName": "Cloud Virtual Machine", "RealTotalCost": "300.10000000"},
        {"BusinessCode": "p_teo", "BusinessCodeName": "EdgeOne", "RealTotalCost": "1158.00000000"},
        {"BusinessCode": "p_ssl", "BusinessCodeName": "SSL", "RealTotalCost": "0E-8"},
    ],
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture
def client() -> Iterator[ApiClient]:
    with ApiClient(
        Credentials("AKIDcollectors", "collectors-secret"), rate_limiter=unlimited(), retry=RetryPolicy(attempts=1)
    ) as c:
        yield c


class FakeBilling:
    def __init__(self, answers: dict[str, dict[str, Any]]) -> None:
        self.answers = answers
        self.requests: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
        action = request.headers["X-TC-Action"]
        assert request.headers["X-TC-Version"] == "2018-07-09"
        self.requests.append((action, json.loads(request.body)))
        body = self.answers[action]
        return 200, {}, json.dumps({"Response": {**body, "RequestId": "req"}})


def config(*budgets: dict[str, Any], tz: str = "Asia/Shanghai") -> Config:
    return Config.model_validate({"timezone": tz, "budgets": [{"source": "billing", **b} for b in budgets]})


def run(cfg: Config, client: ApiClient, now: datetime, answers: dict[str, dict[str, Any]]) -> tuple[Any, FakeBilling]:
    fake = FakeBilling(answers)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.POST, BILLING_URL, callback=fake)
        return collect(cfg, client, now), fake


def test_cost_asks_for_the_utc8_bill_month_and_keeps_money_exact(client: ApiClient) -> None:
    # 16:30 UTC on 30 November is already 1 December in UTC+8: December's bill.
    now = at("2026-11-30T16:30:00+00:00")
    (obs,), fake = run(
        config({"name": "spend", "metric": "cost", "limit": 5000}, tz="Europe/Berlin"),
        client,
        now,
        {"DescribeBillSummaryByProduct": SUMMARY},
    )
    assert fake.requests == [("DescribeBillSummaryByProduct", {"BeginTime": "2026-12", "EndTime": "2026-12"})]
    assert obs.value == Decimal("1458.10000000") and isinstance(obs.value, Decimal)
    assert obs.unit == "CNY" and obs.ready and obs.error is None
    assert obs.breakdown == (("EdgeOne", Decimal("1158.00000000")), ("Cloud Virtual Machine", Decimal("300.10000000")))
    assert obs.limit == Decimal(5000)
    assert obs.period.start == at("2026-12-01T00:00:00+08:00")
    assert obs.period.end == at("2027-01-01T00:00:00+08:00")
    assert str(obs.period.start.tzinfo) == "Europe/Berlin"


def test_not_ready_is_not_zero(client: ApiClient) -> None:
    (obs,), _ = run(
        config({"name": "spend", "metric": "cost", "limit": 5000}),
        client,
        at("2026-11-01T00:05:00+08:00"),
        {"DescribeBillSummaryByProduct": {"Ready": 0, "SummaryOverview": [], "SummaryTotal": None}},
    )
    assert (obs.ready, obs.value, obs.error, obs.ok) == (False, None, None, False)


def test_balance_is_real_balance_in_yuan(client: ApiClient) -> None:
    answer = {"Balance": 999999, "RealBalance": 123456, "CashAccountBalance": 200000, "OweAmount": 0}
    (obs,), fake = run(
        config({"name": "low", "metric": "balance", "below": 1000}),
        client,
        at("2026-11-22T10:00:00+08:00"),
        {"DescribeAccountBalance": answer},
    )
    assert fake.requests == [("DescribeAccountBalance", {})]
    assert obs.value == Decimal("1234.56") and obs.unit == "CNY"
    assert obs.period.start == at("2026-11-01T00:00:00+08:00")


def test_balance_parsing() -> None:
    assert parse_balance({"RealBalance": -5050}) == Decimal("-50.50")
    assert parse_balance({"RealBalance": 12345.0}) == Decimal("123.45")  # a float from JSON stays exact
    assert parse_balance({"Balance": 100}) == Decimal(1)  # older answers: the compatibility field
    with pytest.raises(CollectError):
        parse_balance({"CashAccountBalance": 1})
    with pytest.raises(CollectError):
        parse_balance({"RealBalance": "lots"})


def test_cost_parsing_without_summary_total() -> None:
    answer = {"Ready": 1, "SummaryOverview": SUMMARY["SummaryOverview"]}
    ready, value, breakdown = parse_cost(answer)
    assert ready and value == Decimal("1458.10000000") and len(breakdown) == 2
    assert parse_cost({"Ready": 1, "SummaryOverview": None, "SummaryTotal": None}) == (True, Decimal(0), ())
    with pytest.raises(CollectError):
        parse_cost({"Ready": 1, "SummaryOverview": [{"BusinessCode": "p_x", "RealTotalCost": "-"}]})


def test_a_failed_balance_does_not_fail_cost(client: ApiClient) -> None:
    fake = FakeBilling({"DescribeBillSummaryByProduct": SUMMARY})

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        if request.headers["X-TC-Action"] == "DescribeAccountBalance":
            error = {"Code": "UnauthorizedOperation.CamNoAuth", "Message": "no finance:DescribeAccountBalance"}
            return 200, {}, json.dumps({"Response": {"Error": error, "RequestId": "r"}})
        return fake(request)

    cfg = config({"name": "low", "metric": "balance", "below": 1000}, {"name": "spend", "metric": "cost"})
    with responses.RequestsMock() as mock:
        mock.add_callback(responses.POST, BILLING_URL, callback=answer)
        low, spend = collect(cfg, client, at("2026-11-22T10:00:00+08:00"))
    assert (low.value, low.error) == (None, "UnauthorizedOperation.CamNoAuth: no finance:DescribeAccountBalance")
    assert spend.ok
    assert low.failure is not None
    assert (low.failure.error, low.failure.code) == ("ApiError", "UnauthorizedOperation.CamNoAuth")


def test_international_site_reports_usd() -> None:
    with ApiClient(
        Credentials("AKIDcollectors", "collectors-secret"),
        site="intl",
        rate_limiter=unlimited(),
        retry=RetryPolicy(attempts=1),
    ) as intl:
        fake = FakeBilling({"DescribeAccountBalance": {"RealBalance": 100}})
        with responses.RequestsMock() as mock:
            mock.add_callback(responses.POST, "https://billing.intl.tencentcloudapi.com/", callback=fake)
            (obs,) = collect(
                config({"name": "low", "metric": "balance", "below": 1}), intl, at("2026-11-22T10:00:00+08:00")
            )
    assert (obs.value, obs.unit) == (Decimal(1), "USD")


def test_one_run_keeps_budget_order_and_sends_nothing_it_does_not_need(client: ApiClient) -> None:
    cfg = Config.model_validate(
        {
            "timezone": "Asia/Shanghai",
            "budgets": [
                {"name": "spend", "source": "billing", "metric": "cost"},
                {
                    "name": "traffic",
                    "source": "teo",
                    "metric": "acc_flux",
                    "zones": ["zone-a", "zone-b"],
                    "group_by": ["zone-id"],
                },
                {"name": "low", "source": "billing", "metric": "balance", "below": 10},
            ],
        }
    )
    teo_data = [
        {"Time": "2026-11-21T16:00:00Z", "Value": 5, "ZoneId": "zone-a"},
        {"Time": "2026-11-21T16:00:00Z", "Value": 7, "ZoneId": "zone-b"},
    ]
    fake = FakeBilling({"DescribeBillSummaryByProduct": SUMMARY, "DescribeAccountBalance": {"RealBalance": 1}})
    with responses.RequestsMock() as mock:
        mock.add_callback(responses.POST, BILLING_URL, callback=fake)
        mock.add(responses.POST, TEO_URL, json={"Response": {"Data": teo_data, "RequestId": "r"}})
        obs = collect(cfg, client, at("2026-11-22T10:00:00+08:00"))
        assert len(mock.calls) == 3
    assert [(o.budget, o.value) for o in obs] == [
        ("spend", Decimal("1458.10000000")),
        ("traffic", Decimal(5)),
        ("traffic", Decimal(7)),
        ("low", Decimal("0.01")),
    ]
    assert sorted(a for a, _ in fake.requests) == ["DescribeAccountBalance", "DescribeBillSummaryByProduct"]
