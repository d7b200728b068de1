"""Shared helpers for the sandbox tests: a small scenario, signed requests, an in-process API."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from lib.signing import tc3_headers
from sandbox import billing, teo
from sandbox.api3 import Api3, Context, Request
from sandbox.scenario import Scenario
from sandbox.verify import Caller, Credential

SHANGHAI = ZoneInfo("Asia/Shanghai")
SECRET_ID = "AKIDTESTSANDBOX"
SECRET_KEY = "test-secret-key"
HOST = "127.0.0.1:8080"
WALL = 1_800_000_000.0  # the fixed wall clock of in-process API tests

SMALL: dict[str, Any] = {
    "name": "small",
    "seed": 7,
    "timezone": "Asia/Shanghai",
    "epoch": "2026-11-01T00:00:00+08:00",
    "clock": {"now": "2026-11-10T12:00:00+08:00"},
    "patterns": {
        "p": {
            "daily": [1, 1, 1, 1, 1, 1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 5, 5, 4, 2, 1.5],
            "weekly": [1, 1, 1, 1, 1.25, 1.5, 1.25],
        }
    },
    "plans": [
        {"id": "edgeone-p1", "type": "plan-enterprise", "capacity": {"AccTrafficCapacity": "1 TB", "VAUCapacity": 5}},
        {"id": "edgeone-p2", "type": "plan-basic", "area": "mainland"},
    ],
    "zones": [
        {
            "id": "zone-a",
            "name": "a.example.com",
            "plan": "edgeone-p1",
            "created": "2026-10-01T00:00:00+08:00",
            "tags": {"env": "prod"},
            "regions": {"CH": 3, "NA": 1},
            "hosts": {"www.a.example.com": 3, "img.a.example.com": 1},
            "proxies": {"sid-a1": 2, "sid-a2": 1},
            "usage": {
                "acc_flux": {"daily": 288_000_000_000, "pattern": "p", "growth": "0.01", "noise": "0.2"},
                "l4_flux": {"daily": "1 GB", "noise": "0.1"},
                "sec_request_clean": {"daily": "2M", "pattern": "p", "noise": "0.1"},
                "ddos_bandwidth": {"mean": "1 Mbps", "noise": "0.1"},
            },
        },
        {
            "id": "zone-b",
            "name": "b.example.org",
            "plan": "edgeone-p2",
            "created": "2026-11-03T06:07:00+08:00",
            "regions": {"CH": 1},
            "hosts": {"b.example.org": 1},
            "usage": {"acc_flux": {"daily": "100 GB"}},
        },
        {"id": "zone-c", "name": "c.example.net", "status": "pending", "hosts": {"c.example.net": 1}},
    ],
    "spikes": [
        {
            "zone": "zone-a",
            "host": "img.a.example.com",
            "metrics": ["acc_flux"],
            "start": "2026-11-05T10:00:00+08:00",
            "end": "2026-11-05T12:00:00+08:00",
            "factor": 5,
        }
    ],
    "billing": {
        "as_of": "2026-11-01T00:00:00+08:00",
        "cash": "3000.00",
        "present": "50.00",
        "freeze": "10.00",
        "credit": "200.00",
        "topups": [{"at": "2026-11-05T00:00:00+08:00", "amount": "300"}],
        "products": [
            {"code": "p_teo", "name": "EdgeOne", "prices": {"acc_flux": {"per": "1 GB", "yuan": "0.50"}}},
            {"code": "p_cvm", "name": "CVM", "daily": "24.10"},
            {"code": "p_cdb", "name": "CDB", "pay_mode": "prePay", "daily": "3.33"},
        ],
    },
}


def small(**overrides: Any) -> Scenario:
    data = copy.deepcopy(SMALL)
    data.update(overrides)
    return Scenario.from_dict(data)


def local(  # noqa: PLR0917 - the fields of a datetime, in datetime's order
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


def context(scenario: Scenario) -> Context:
    return Context(scenario, scenario.now(), Caller(SECRET_ID, "TC3-HMAC-SHA256", "teo"))


def billing_data(scenario: Scenario, **params: Any) -> list[dict[str, Any]]:
    """Call the DescribeBillingData handler directly and return ``Data``."""
    out = teo.describe_billing_data(params, context(scenario))
    return out["Data"]  # type: ignore[no-any-return]


def api(scenario: Scenario | None = None, *, token: str | None = None, sleep: Any = None) -> Api3:
    scenario = scenario or small()
    return Api3(
        scenario,
        {SECRET_ID: Credential(SECRET_ID, SECRET_KEY, token)},
        {"teo": teo.PRODUCT, "billing": billing.PRODUCT},
        signature_clock=lambda: WALL,
        sleep=sleep or (lambda _s: None),
    )


def signed(
    action: str,
    params: dict[str, Any],
    *,
    service: str = "teo",
    version: str | None = None,
    timestamp: int = int(WALL),
    secret_key: str = SECRET_KEY,
    secret_id: str = SECRET_ID,
    token: str | None = None,
    host: str = HOST,
) -> Request:
    """A TC3-signed POST JSON request, as the official SDK builds it."""
    body = json.dumps(params).encode()
    version = version or {"teo": teo.VERSION, "billing": billing.VERSION}.get(service, "2020-01-01")
    headers = tc3_headers(
        secret_id,
        secret_key,
        service=service,
        host=host,
        action=action,
        version=version,
        payload=body,
        timestamp=timestamp,
        token=token,
    )
    return Request("POST", "/", "", {k.lower(): v for k, v in headers.items()}, body)


def reply_json(reply: tuple[int, dict[str, str], bytes]) -> dict[str, Any]:
    status, headers, body = reply
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    doc = json.loads(body)
    assert set(doc) == {"Response"}
    assert doc["Response"]["RequestId"]
    return doc["Response"]  # type: ignore[no-any-return]


def error_code(reply: tuple[int, dict[str, str], bytes]) -> str | None:
    response = reply_json(reply)
    error = response.get("Error")
    return None if error is None else str(error["Code"])
