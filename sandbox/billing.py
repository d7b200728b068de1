"""Billing (billing 2018-07-09) in the sandbox: balance and bill summaries by product and pay mode.

DescribeAccountBalance (fen), DescribeBillSummaryByProduct and DescribeBillSummaryByPayMode (yuan
strings with 8 decimals, ``Ready``; BeginTime and EndTime in the same month). The money model is
``sandbox/ledger.py``; the summaries by project, region, tag and day are ``sandbox/billing_dims.py``.
"""

from __future__ import annotations

from typing import Any

from sandbox.api3 import Action, Context, Product
from sandbox.billing_dims import ACTIONS as DIMENSION_ACTIONS
from sandbox.ledger import ACTION_TYPES, PAY_MODE_NAMES, Ledger, amounts, bill_month, fen_of, ledger_of, yuan
from sandbox.scenario import month_start, next_month_start

__all__ = ["PRODUCT", "VERSION", "Ledger", "ledger_of", "yuan"]

VERSION = "2018-07-09"


# --- actions -------------------------------------------------------------------------------------


def describe_account_balance(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    ledger = ledger_of(ctx.scenario)
    out = ledger.balance(ctx.now.timestamp())
    temp = fen_of(ctx.scenario.spec.billing.temp_credit)
    out["TempCredit"] = temp
    out["TempAmountInfoList"] = []
    if params.get("TempCredit") and temp:
        now = ctx.now.astimezone(ctx.scenario.tz)
        out["TempAmountInfoList"] = [
            {
                "Uin": str(ctx.scenario.spec.account.uin),
                "TempAmount": temp,
                "StartTime": month_start(now, ctx.scenario.tz).strftime("%Y-%m-%d %H:%M:%S"),
                "EndTime": next_month_start(now, ctx.scenario.tz).strftime("%Y-%m-%d %H:%M:%S"),
            }
        ]
    return out


def describe_bill_summary_by_product(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    year, month = bill_month(params)
    ledger = ledger_of(ctx.scenario)
    scale = ctx.scenario.scale_for(ctx.caller.account)  # a member's bill: the account's, scaled
    per_product = [fen * scale for fen in ledger.month(year, month, ctx.now.timestamp())]
    total = sum(per_product)
    overview = []
    for product, fen in zip(ledger.products, per_product, strict=True):
        if fen:
            item = {"BusinessCode": product.code, "BusinessCodeName": product.name, **amounts(fen, total)}
            item["BillMonth"] = f"{year:04d}-{month:02d}"
            overview.append(item)
    summary = {k: v for k, v in amounts(total, total).items() if k != "RealTotalCostRatio"}
    return {
        "Ready": 1 if ledger.ready(year, month) else 0,
        "SummaryTotal": summary,
        "SummaryOverview": overview,
    }


def describe_bill_summary_by_pay_mode(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    year, month = bill_month(params)
    ledger = ledger_of(ctx.scenario)
    per_product = ledger.month(year, month, ctx.now.timestamp())
    total = sum(per_product)
    by_mode: dict[str, int] = {}
    for product, fen in zip(ledger.products, per_product, strict=True):
        by_mode[product.pay_mode] = by_mode.get(product.pay_mode, 0) + fen
    overview = []
    for mode, fen in by_mode.items():
        if not fen:
            continue
        action_type, action_name = ACTION_TYPES[mode]
        detail = {"ActionType": action_type, "ActionTypeName": action_name, **amounts(fen, fen)}
        detail["BillMonth"] = f"{year:04d}-{month:02d}"
        overview.append(
            {"PayMode": mode, "PayModeName": PAY_MODE_NAMES[mode], **amounts(fen, total), "Detail": [detail]}
        )
    return {"Ready": 1 if ledger.ready(year, month) else 0, "SummaryOverview": overview}


BILL_PARAMS = {"BeginTime": str, "EndTime": str, "PayerUin": str, "PayType": str}

PRODUCT = Product(
    name="billing",
    version=VERSION,
    actions={
        "DescribeAccountBalance": Action(describe_account_balance, {"TempCredit": bool}),
        "DescribeBillSummaryByProduct": Action(describe_bill_summary_by_product, BILL_PARAMS),
        "DescribeBillSummaryByPayMode": Action(describe_bill_summary_by_pay_mode, BILL_PARAMS),
        **DIMENSION_ACTIONS,
    },
)
