"""Shared helpers for the sandbox CDN tests: a small scenario with CDN domains, direct action calls."""

from __future__ import annotations

import copy
from datetime import timedelta, timezone
from typing import Any

import pytest

from sandbox import cdn
from sandbox.api3 import ApiFailure, Context
from sandbox.scenario import Scenario
from sandbox.verify import Caller
from tests.unit.sandbox_support import SECRET_ID

CDN: dict[str, Any] = {
    "name": "cdn-small",
    "seed": 11,
    "timezone": "Asia/Shanghai",
    "epoch": "2026-11-01T00:00:00+08:00",
    "clock": {"now": "2026-11-10T12:00:00+08:00"},
    "patterns": {"p": {"daily": [1] * 6 + [2] * 6 + [3] * 6 + [4] * 6, "weekly": [1, 1, 1, 1, 1, 2, 2]}},
    "cdn": {
        "domains": [
            {
                "domain": "img.example.com",
                "area": "global",
                "areas": {"mainland": 3, "overseas": 1},
                "project": 7,
                "created": "2026-10-01T00:00:00+08:00",
                "tags": {"env": "prod"},
                "hit_ratio": "0.8",
                "usage": {
                    "flux": {"daily": "100 GB", "pattern": "p", "noise": "0.2", "growth": "0.01"},
                    "request": {"daily": "2M", "pattern": "p", "noise": "0.1"},
                    "https": {"daily": "500k", "noise": "0.1"},
                },
            },
            {
                "domain": "dl.example.org",
                "project": 8,
                "service_type": "download",
                "created": "2026-11-03T06:07:00+08:00",
                "usage": {"flux": {"daily": "20 GB", "noise": "0.1"}, "request": {"daily": "100k"}},
            },
            {"domain": "e.example.net", "product": "ecdn", "usage": {"flux": {"daily": "1 GB"}}},
        ]
    },
    "spikes": [
        {
            "domain": "img.example.com",
            "region": "mainland",
            "metrics": ["flux"],
            "start": "2026-11-05T10:00:00+08:00",
            "end": "2026-11-05T12:00:00+08:00",
            "factor": 6,
        }
    ],
}
DAY = {"StartTime": "2026-11-05 00:00:00", "EndTime": "2026-11-05 23:59:59"}
BJ = timezone(timedelta(hours=8))


def scenario(**overrides: Any) -> Scenario:
    data = copy.deepcopy(CDN)
    data.update(overrides)
    return Scenario.from_dict(data)


def _ctx(sc: Scenario) -> Context:
    return Context(sc, sc.now(), Caller(SECRET_ID, "TC3-HMAC-SHA256", "cdn"))


def call(sc: Scenario, action: str, **params: Any) -> dict[str, Any]:
    return cdn.PRODUCT.actions[action].handler(params, _ctx(sc))


def code(sc: Scenario, action: str, **params: Any) -> str:
    with pytest.raises(ApiFailure) as info:
        call(sc, action, **params)
    return info.value.code
