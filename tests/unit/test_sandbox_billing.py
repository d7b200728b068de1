"""billing in the sandbox: the money model (hourly charges, balance, bills) and its three actions."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from sandbox import billing
from sandbox.api3 import ApiFailure
from sandbox.billing import ledger_of, yuan
from sandbox.scenario import Scenario
from tests.unit.sandbox_support import context, local, small

YUAN = re.compile(r"^\d+\.\d{8}$")


def test_yuan_strings() -> None:
    assert yuan(0) == "0.00000000"
    assert yuan(5) == "0.05000000"
    assert yuan(123456) == "1234.56000000"


def test_an_hour_of_edgeone_costs_its_usage_times_the_price() -> None:
    sc = small()
    ledger = ledger_of(sc)
    start = local(2026, 11, 5, 10)  # inside the spike
    hour = int(start.timestamp()) // 3600
    usage = sum(
        sc.usage("acc_flux", z, start=start, end=start + timedelta(hours=1), as_of=1e12) for z in ("zone-a", "zone-b")
    )
    fen = int((Decimal(usage) * Decimal("0.50") / Decimal(10**9) * 100).to_integral_value(ROUND_HALF_UP))
    teo_fen, cvm_fen, cdb_fen = ledger.hour_charges(hour)
    assert teo_fen == fen
    assert fen > 0
    day = [ledger.hour_charges(h) for h in range(hour - hour % 24, hour - hour % 24 + 24)]
    assert sum(c[1] for c in day) == 2410  # 24.10 yuan a day, exactly
    assert sum(c[2] for c in day) == 333
    assert 0 < cvm_fen < 2410
    assert cdb_fen in (13, 14)


def test_balance_identities_and_agreement_with_the_bill() -> None:
    sc = small()
    ledger = ledger_of(sc)
    now = sc.now().timestamp()
    bal = ledger.balance(now)
    assert bal["Balance"] == bal["RealBalance"]
    assert bal["RealBalance"] == (
        bal["CashAccountBalance"]
        + bal["IncomeIntoAccountBalance"]
        + bal["PresentAccountBalance"]
        - bal["FreezeAmount"]
        - bal["OweAmount"]
    )
    assert bal["CreditBalance"] == (
        bal["CashAccountBalance"]
        + bal["IncomeIntoAccountBalance"]
        + bal["PresentAccountBalance"]
        + bal["CreditAmount"]
        - bal["OweAmount"]
    )
    assert bal["RealCreditBalance"] == bal["CreditBalance"] - bal["FreezeAmount"]
    assert all(isinstance(v, int) for k, v in bal.items() if k not in ("IsAllowArrears", "IsCreditLimited"))
    spent = sum(ledger.month(2026, 11, now))  # as_of is the start of November
    assert bal["CashAccountBalance"] == 300_000 + 30_000 - spent
    assert bal["OweAmount"] == 0
    assert (bal["PresentAccountBalance"], bal["FreezeAmount"], bal["CreditAmount"]) == (5000, 1000, 20000)
    before_topup = ledger.balance(local(2026, 11, 4, 23, 59).timestamp())["CashAccountBalance"]
    after_topup = ledger.balance(local(2026, 11, 5).timestamp())["CashAccountBalance"]
    assert after_topup - before_topup == 30_000 - sum(
        ledger.hour_charges(int(local(2026, 11, 4, 23).timestamp()) // 3600)
    )


def test_cash_below_zero_becomes_debt() -> None:
    sc = small(
        billing={
            "as_of": "2026-11-01T00:00:00+08:00",
            "cash": "10",
            "products": [{"code": "p_cvm", "name": "CVM", "daily": "100"}],
        }
    )
    bal = ledger_of(sc).balance(sc.now().timestamp())
    assert bal["CashAccountBalance"] == 0
    assert bal["OweAmount"] == 9 * 10_000 + 12 * 10_000 // 24 - 1000  # 9.5 days of 100 yuan, minus 10 yuan
    assert bal["RealBalance"] == -bal["OweAmount"]


def _summary(sc: Scenario, **params: Any) -> dict[str, Any]:
    return billing.describe_bill_summary_by_product(params, context(sc))


def test_bill_summary_by_product() -> None:
    sc = small()
    out = _summary(sc, BeginTime="2026-11", EndTime="2026-11")
    assert out["Ready"] == 1
    per_product = ledger_of(sc).month(2026, 11, sc.now().timestamp())
    codes = [item["BusinessCode"] for item in out["SummaryOverview"]]
    assert codes == ["p_teo", "p_cvm", "p_cdb"]
    assert [item["RealTotalCost"] for item in out["SummaryOverview"]] == [yuan(f) for f in per_product]
    assert out["SummaryTotal"]["RealTotalCost"] == yuan(sum(per_product))
    for item in out["SummaryOverview"]:
        assert item["BillMonth"] == "2026-11"
        for key in (
            "RealTotalCost",
            "CashPayAmount",
            "IncentivePayAmount",
            "VoucherPayAmount",
            "TransferPayAmount",
            "TotalCost",
        ):
            assert YUAN.match(item[key])
        assert re.match(r"^\d+\.\d{2}$", item["RealTotalCostRatio"])
    ratios = sum((Decimal(i["RealTotalCostRatio"]) for i in out["SummaryOverview"]), Decimal(0))
    assert abs(ratios - 100) <= Decimal("0.03")
    assert set(out["SummaryTotal"]) == {
        "RealTotalCost",
        "VoucherPayAmount",
        "IncentivePayAmount",
        "CashPayAmount",
        "TransferPayAmount",
        "TotalCost",
    }


def test_bill_months_and_readiness() -> None:
    sc = small()
    same = _summary(sc, BeginTime="2026-11-01 00:00:00", EndTime="2026-11-30 23:59:59")
    assert same == {**_summary(sc, BeginTime="2026-11", EndTime="2026-11")}
    future = _summary(sc, BeginTime="2026-12", EndTime="2026-12")
    assert future["SummaryOverview"] == []
    assert future["SummaryTotal"]["RealTotalCost"] == "0.00000000"
    october = _summary(sc, BeginTime="2026-10", EndTime="2026-10")
    assert [i["BusinessCode"] for i in october["SummaryOverview"]] == ["p_teo", "p_cvm", "p_cdb"]
    not_ready = small(billing={"ready": False})
    assert _summary(not_ready, BeginTime="2026-11", EndTime="2026-11")["Ready"] == 0


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"BeginTime": "2026-10", "EndTime": "2026-11"}, "InvalidParameterValue"),
        ({"BeginTime": "2026-13", "EndTime": "2026-13"}, "InvalidParameterValue"),
        ({"BeginTime": "Nov 2026", "EndTime": "2026-11"}, "InvalidParameterValue"),
        ({"EndTime": "2026-11"}, "MissingParameter"),
    ],
)
def test_bill_summary_errors(params: dict[str, Any], code: str) -> None:
    for handler in (billing.describe_bill_summary_by_product, billing.describe_bill_summary_by_pay_mode):
        with pytest.raises(ApiFailure) as info:
            handler(params, context(small()))
        assert info.value.code == code


def test_bill_summary_by_pay_mode() -> None:
    sc = small()
    out = billing.describe_bill_summary_by_pay_mode({"BeginTime": "2026-11", "EndTime": "2026-11"}, context(sc))
    teo_fen, cvm_fen, cdb_fen = ledger_of(sc).month(2026, 11, sc.now().timestamp())
    modes = {item["PayMode"]: item for item in out["SummaryOverview"]}
    assert modes["postPay"]["RealTotalCost"] == yuan(teo_fen + cvm_fen)
    assert modes["prePay"]["RealTotalCost"] == yuan(cdb_fen)
    assert modes["postPay"]["PayModeName"] == "按量计费"
    assert modes["postPay"]["Detail"][0]["ActionType"] == "postpay_deduct_h"


def test_account_balance_action_and_temp_credit() -> None:
    sc = small(billing={"cash": "500", "temp_credit": "50"})
    out = billing.describe_account_balance({"TempCredit": True}, context(sc))
    assert out["TempCredit"] == 5000
    assert out["TempAmountInfoList"][0]["TempAmount"] == 5000
    assert out["TempAmountInfoList"][0]["StartTime"] == "2026-11-01 00:00:00"
    assert out["Uin"] == sc.spec.account.uin
    plain = billing.describe_account_balance({}, context(sc))
    assert plain["TempAmountInfoList"] == []
