"""Shared pieces of the EdgeOne collector tests: a fake teo DescribeBillingData/Zones/Plans and builders."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import responses

from lib.config.models import Config

TEO_URL = "https://teo.tencentcloudapi.com/"
STEP = 300


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def zones(n: int, start: int = 0) -> list[str]:
    return [f"zone-{i:04d}" for i in range(start, start + n)]


NOW = datetime.fromisoformat("2026-11-22T10:00:00+08:00")


class FakeTeo:
    """A small EdgeOne: every zone uses ``rate(zone)`` per 5-minute slot (traffic) or runs at
    ``level(zone, t)`` bps, reported once the slot has ended by ``now``. Buckets overlapping
    [StartTime, EndTime) are listed; each adds its slots (or takes their peak) over the whole bucket,
    as the sandbox does, or, with ``clip``, only the slots inside [StartTime, EndTime]."""

    def __init__(
        self,
        all_zones: list[str],
        *,
        now: datetime = NOW,
        clip: bool = False,
        rate: Callable[[str], int] = lambda z: int(z[-4:]) + 1,
        level: Callable[[str, int], int] = lambda z, t: 1000,
        group_limit: int = 200,
        fail: Callable[[dict[str, Any]], tuple[str, str] | None] = lambda p: None,
        plans: list[dict[str, Any]] | None = None,
        deleted: frozenset[str] = frozenset(),
        planless: frozenset[str] = frozenset(),
    ) -> None:
        self.all_zones = all_zones
        self.now = now
        self.clip = clip
        self.rate = rate
        self.level = level
        self.group_limit = group_limit
        self.fail = fail
        self.plans = plans or []
        self.deleted = deleted
        self.planless = planless
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()

    def of(self, action: str) -> list[dict[str, Any]]:
        return [p for a, p in self.requests if a == action]

    def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
        action = request.headers["X-TC-Action"]
        params = json.loads(request.body)
        with self.lock:
            self.requests.append((action, params))
        failure = self.fail(params)
        if failure:
            return self._error(*failure)
        if action == "DescribeBillingData":
            return self._billing_data(params)
        if action == "DescribeZones":
            page = self.all_zones[params["Offset"] : params["Offset"] + params["Limit"]]
            found = [
                {
                    "ZoneId": z,
                    "Status": "deleted" if z in self.deleted else "active",
                    "Resources": [] if z in self.planless else [{"PlanId": "edgeone-1", "Group": "plan"}],
                }
                for z in page
            ]
            return self._ok({"TotalCount": len(self.all_zones), "Zones": found})
        if action == "DescribePlans":
            plans = self.plans[params["Offset"] : params["Offset"] + params["Limit"]]
            return self._ok({"TotalCount": len(self.plans), "Plans": plans})
        return self._error("InvalidAction", action)

    def _ok(self, body: dict[str, Any]) -> tuple[int, dict[str, str], str]:
        return 200, {}, json.dumps({"Response": {**body, "RequestId": "req"}})

    def _error(self, code: str, message: str) -> tuple[int, dict[str, str], str]:
        return 200, {}, json.dumps({"Response": {"Error": {"Code": code, "Message": message}, "RequestId": "req"}})

    def _billing_data(self, p: dict[str, Any]) -> tuple[int, dict[str, str], str]:
        start, end = at(p["StartTime"]), at(p["EndTime"])
        assert start.utcoffset() == end.utcoffset(), "both ends must carry one offset"
        assert end - start <= timedelta(days=31)
        assert len(p["ZoneIds"]) <= 100
        ids = self.all_zones if p["ZoneIds"] == ["*"] else p["ZoneIds"]
        by_zone = p.get("GroupBy") == ["zone-id"]
        if by_zone and len(ids) > self.group_limit:
            return self._error("InvalidParameter.GroupByLimitExceeded", "too many groups")
        step = {"5min": STEP, "hour": 3600, "day": 86400}[p["Interval"]]
        offset = start.utcoffset() or timedelta(0)
        first = start - timedelta(seconds=(start + offset).timestamp() % step)
        lo_s, hi_s = int(start.timestamp()), int(end.timestamp()) + 1
        reported = int(self.now.timestamp()) - STEP + 1  # slots [t, t+5m) that ended by now
        bandwidth = p["MetricName"].endswith("_bandwidth")
        groups: dict[str, list[tuple[str, int]]] = {}
        bucket = first
        while True:
            b0, b1 = int(bucket.timestamp()), int(bucket.timestamp()) + step
            if self.clip:
                b0, b1 = max(b0, lo_s), min(b1, hi_s)
            slots = range(-(-b0 // STEP) * STEP, min(b1, reported), STEP)
            stamp = bucket.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            for z in ids:
                value = max((self.level(z, t) for t in slots), default=0) if bandwidth else self.rate(z) * len(slots)
                groups.setdefault(z if by_zone else "", []).append((stamp, value))
            bucket += timedelta(seconds=step)
            if bucket >= end:
                break
        data = []
        for key, points in groups.items():
            merged: dict[str, int] = {}
            for stamp, value in points:
                merged[stamp] = max(merged.get(stamp, 0), value) if bandwidth else merged.get(stamp, 0) + value
            for stamp, value in merged.items():
                data.append({"Time": stamp, "Value": value, **({"ZoneId": key} if by_zone else {})})
        return self._ok({"Data": data})


def serve(fake: FakeTeo) -> responses.RequestsMock:
    mock = responses.RequestsMock(assert_all_requests_are_fired=False)
    mock.add_callback(responses.POST, TEO_URL, callback=fake)
    return mock


def config(tz: str, *budgets: dict[str, Any]) -> Config:
    return Config.model_validate(
        {"timezone": tz, "budgets": [{"source": "teo", "metric": "acc_flux", **b} for b in budgets]}
    )


def slots(start: datetime, now: datetime) -> int:
    """5-minute slots in [start, now) that have ended: what a period so far adds up."""
    return int((now - start).total_seconds()) // STEP
