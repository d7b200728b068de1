"""``source: cdn`` in budgets.yaml: the keys it takes, the errors validate gives in the user's words, the JSON
Schema, and the "data up to" fact its late data adds to a message."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from lib.config.loader import parse_config
from lib.config.models import Config
from lib.errors import ConfigError
from lib.messages.text import render_text
from lib.model import Notification, Period

CHANNELS = {"ops": {"type": "wecom", "url": "https://qyapi.example/hook"}}
TZ = ZoneInfo("Asia/Shanghai")


def parse(**budget: Any) -> Config:
    doc = {"channels": CHANNELS, "budgets": [{"name": "b", "channels": ["ops"], **budget}]}
    return parse_config(yaml.safe_dump(doc, allow_unicode=True), environ={})


def problem(**budget: Any) -> str:
    with pytest.raises(ConfigError) as info:
        parse(**budget)
    return str(info.value)


def test_the_design_example_parses_with_its_defaults() -> None:
    cfg = parse(source="cdn", metric="flux", domains=["*"], group_by=["domain"], limit="5TB", thresholds=[80, 100])
    (budget,) = cfg.budgets
    assert (budget.domains, budget.area, budget.group_by, budget.limit) == (("*",), "all", ("domain",), 5 * 10**12)
    many = parse(source="cdn", metric="request", domains=[f"d{i}.example.com" for i in range(3000)], limit=10**9)
    assert len(many.budgets[0].domains) == 3000  # no cap: the planner splits them


@pytest.mark.parametrize(
    ("budget", "words"),
    [
        ({"source": "cdn", "metric": "acc_flux", "limit": 1}, ["metric", "flux", "bandwidth", "https", "request"]),
        ({"source": "cdn", "metric": "flux", "limit": 1, "area": "asia"}, ["area", "mainland", "overseas", "all"]),
        ({"source": "cdn", "metric": "flux", "limit": 1, "domains": ["*", "a.com"]}, ["domains", '"*" means every']),
        ({"source": "cdn", "metric": "flux", "limit": 1, "domains": ["a.com", "a.com"]}, ["domains", "twice"]),
        (
            {"source": "cdn", "metric": "flux", "limit": 1, "group_by": ["host"]},
            ["group_by", "one of 'domain'", "not 'host'"],
        ),
        ({"source": "cdn", "metric": "flux", "limit": 1, "filters": {"host": ["a"]}}, ["filters", "no filters"]),
        ({"source": "cdn", "metric": "flux", "limit": 1, "zones": ["zone-1"]}, ["zones", "source teo", "domains"]),
        ({"source": "teo", "metric": "acc_flux", "limit": 1, "domains": ["a.com"]}, ["domains", "cdn only"]),
        ({"source": "teo", "metric": "acc_flux", "limit": 1, "area": "all"}, ["area", "cdn only"]),
        (
            {"source": "teo", "metric": "acc_flux", "limit": 1, "group_by": ["domain"]},
            ["group_by", "'zone-id'", "not 'domain'"],
        ),
        ({"source": "cdn", "metric": "bandwidth", "limit": "5TB"}, ["limit"]),
    ],
)
def test_validate_names_the_field_and_what_is_allowed(budget: dict[str, Any], words: list[str]) -> None:
    text = problem(**budget)
    for word in words:
        assert word in text, text


def test_the_json_schema_offers_the_cdn_keys() -> None:
    schema = Config.model_json_schema()
    budget = schema["$defs"]["Budget"]["properties"]
    assert "cdn" in budget["source"]["enum"]
    assert {"flux", "bandwidth", "https", "request"} <= set(budget["metric"]["enum"])
    assert budget["area"]["enum"] == ["mainland", "overseas", "all"]
    assert "domain" in str(budget["group_by"])
    assert "maxItems" not in budget["domains"]


def notification(data_until: datetime | None) -> Notification:
    at = datetime(2026, 11, 22, 10, 0, tzinfo=TZ)
    detail: dict[str, Any] = {"source": "cdn", "metric": "flux", "period_kind": "month"}
    if data_until is not None:
        detail["data_until"] = data_until.isoformat()
    return Notification(
        id="ntf_1",
        budget="cdn-traffic",
        group=(("domain", "img.example.com"),),
        kind="threshold",
        status="firing",
        period=Period(datetime(2026, 11, 1, tzinfo=TZ), datetime(2026, 12, 1, tzinfo=TZ)),
        at=at,
        value=Decimal(4 * 10**12),
        unit="B",
        limit=Decimal(5 * 10**12),
        percent=80.0,
        level=80,
        detail=detail,
    )


def test_late_data_says_how_far_it_goes_in_both_languages() -> None:
    until = datetime(2026, 11, 22, 5, 35, tzinfo=timezone.utc)  # 13:35 in Shanghai
    _, zh = render_text(notification(until), "zh", TZ)
    _, en = render_text(notification(until), "en", TZ)
    assert "数据截至：13:35" in zh or "数据截至: 13:35" in zh, zh
    assert "Data up to: 13:35" in en, en
    assert "CDN 域名 img.example.com" in zh and "domain img.example.com" in en
    yesterday = datetime(2026, 11, 21, 14, 0, tzinfo=timezone.utc)  # 22:00 on the 21st in Shanghai
    assert "Data up to: 2026-11-21 22:00" in render_text(notification(yesterday), "en", TZ)[1]
    assert "Data up to" not in render_text(notification(None), "en", TZ)[1]
