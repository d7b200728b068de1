"""Shared pieces of the CDN source tests: a fake cdn 2018-06-06 over ``responses`` that checks every request
against the API reference and answers from simple rules the tests can add up by hand."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import responses

from lib.config.models import Config
from tests.api_contract import check_request

CDN_URL = "https://cdn.tencentcloudapi.com/"
STEP = 300
SECONDS = {"5min": 300, "hour": 3600, "day": 86400}
NOW = datetime.fromisoformat("2026-11-22T10:00:00+08:00")
_ZONE = re.compile(r"^UTC([+-])(\d{2}):(\d{2})$")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def domains(n: int, start: int = 0) -> list[str]:
    return [f"d{i:04d}.example.com" for i in range(start, start + n)]


def rate(domain: str, area: str) -> int:
    """Units per 5-minute slot: the domain's number plus one, three times as much in mainland."""
    return (int(domain[1:5]) + 1) * (3 if area == "mainland" else 1)


class FakeCdn:
    """Every domain uses ``amount(domain, area)`` per 5-minute slot (flux, https, request) or runs at
    ``level(domain, area, t)`` bps, reported once the slot has ended by ``reported`` (default: now).
    Buckets from the one holding StartTime to the one holding EndTime, labelled in ``TimeZone``."""

    def __init__(
        self,
        names: list[str],
        *,
        now: datetime = NOW,
        reported: datetime | None = None,
        amount: Callable[[str, str], int] = rate,
        level: Callable[[str, str, int], int] = lambda d, a, t: 1000,
        fail: Callable[[str, dict[str, Any]], tuple[str, str] | None] = lambda a, p: None,
        listed: list[dict[str, Any]] | None = None,
    ) -> None:
        self.names = names
        self.now = now
        self.reported = reported or now
        self.amount = amount
        self.level = level
        self.fail = fail
        self.listed = listed if listed is not None else [{"Domain": d, "Status": "online"} for d in names]
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.problems: list[str] = []
        self.lock = threading.Lock()

    def of(self, action: str) -> list[dict[str, Any]]:
        return [p for a, p in self.requests if a == action]

    def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
        action = request.headers["X-TC-Action"]
        params = json.loads(request.body)
        with self.lock:
            self.requests.append((action, params))
            self.problems += [f"{action}: {p}" for p in check_request("cdn", "2018-06-06", action, params)]
        failure = self.fail(action, params)
        if failure:
            code, message = failure
            return 200, {}, json.dumps({"Response": {"Error": {"Code": code, "Message": message}, "RequestId": "r"}})
        body: dict[str, Any]
        if action == "DescribeDomains":
            page = self.listed[params["Offset"] : params["Offset"] + params["Limit"]]
            body = {"Domains": page, "TotalNumber": len(self.listed)}
        elif action == "DescribeBillingData":
            name = params.get("Domain")
            resource = name or "all"
            series = self._series(params, [name] if name else self.names)
            body = {"Interval": params["Interval"], "Data": [{"Resource": resource, "BillingData": [series]}]}
        else:
            names = params.get("Domains") or []
            if names and params.get("Detail"):
                data = [{"Resource": d, "CdnData": [self._series(params, [d])]} for d in names]
            else:
                resource = "multiDomains" if names else "all"
                data = [{"Resource": resource, "CdnData": [self._series(params, names or self.names)]}]
            body = {"Interval": params["Interval"], "Data": data}
        body["RequestId"] = "r"
        return 200, {}, json.dumps({"Response": body})

    def _series(self, params: dict[str, Any], names: list[str]) -> dict[str, Any]:
        match = _ZONE.match(params["TimeZone"])
        assert match, params["TimeZone"]
        sign = -1 if match.group(1) == "-" else 1
        tz = timezone(sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3))))
        start = datetime.strptime(params["StartTime"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=tz)
        end = datetime.strptime(params["EndTime"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=tz)
        step = SECONDS[params["Interval"]]
        first, last = _floor(start, step), _floor(end, step)
        area = params["Area"]
        peak = params["Metric"] == "bandwidth"
        cut = int(min(self.reported, self.now).timestamp())
        detail = []
        t = first
        while t <= last:
            slots = [s for s in range(t, t + step, STEP) if s + STEP <= cut]
            if peak:
                value = max((sum(self.level(d, area, s) for d in names) for s in slots), default=0)
            else:
                value = sum(self.amount(d, area) for d in names) * len(slots)
            label = datetime.fromtimestamp(t, tz).strftime("%Y-%m-%d %H:%M:%S")
            detail.append({"Time": label, "Value": value})
            t += step
        return {"Metric": params["Metric"], "DetailData": detail, "SummarizedData": {"Name": "sum", "Value": 0}}


def _floor(instant: datetime, step: int) -> int:
    offset = int((instant.utcoffset() or timedelta(0)).total_seconds())
    stamp = int(instant.timestamp())
    return stamp - (stamp + offset) % step


def serve(fake: FakeCdn) -> responses.RequestsMock:
    mock = responses.RequestsMock(assert_all_requests_are_fired=False)
    mock.add_callback(responses.POST, CDN_URL, callback=fake)
    return mock


def config(tz: str, *budgets: dict[str, Any]) -> Config:
    return Config.model_validate(
        {"timezone": tz, "budgets": [{"source": "cdn", "metric": "flux", "limit": 10**15, **b} for b in budgets]}
    )


def slots(start: datetime, now: datetime) -> int:
    """5-minute slots in [start, now) that have ended."""
    return int((now - start).total_seconds()) // STEP
