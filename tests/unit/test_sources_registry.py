"""The source registry: lookup by name, one catalogue per source read by configuration and the API."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from lib.api.openapi import document
from lib.config.metrics import METRICS, find_metric
from lib.config.models import Budget
from lib.errors import ApiError, CollectError, ConfigError
from lib.model import Failure, Observation, Period
from lib.sources import SOURCES, source_for
from lib.sources.billing import BillingSource
from lib.sources.cdn_source import CdnSource
from lib.sources.source import Source
from lib.sources.teo_source import TeoSource

NOW = datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc)


def test_source_for_finds_each_registered_source() -> None:
    assert isinstance(source_for("teo"), TeoSource)
    assert isinstance(source_for("billing"), BillingSource)
    for name, source in SOURCES.items():
        assert source_for(name) is source and source.name == name


def test_an_unknown_source_is_a_config_error_naming_the_allowed_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        source_for("cvm")
    assert caught.value.field == "source"
    assert "'cvm'" in str(caught.value) and "billing, cdn, teo" in str(caught.value)


def test_backtest_support_belongs_to_the_source() -> None:
    assert source_for("teo").supports_backtest is True
    billing = source_for("billing")
    assert billing.supports_backtest is False and "as of now" in billing.backtest_note


def test_every_catalogue_entry_names_its_own_source() -> None:
    for name, source in SOURCES.items():
        assert source.metrics, name
        for metric_name, metric in source.metrics.items():
            assert (metric.source, metric.name) == (name, metric_name)
            assert metric.default_aggregate in metric.aggregates


def test_configuration_reads_the_catalogue_of_the_registry() -> None:
    assert set(METRICS) == set(SOURCES)
    assert find_metric("teo", "acc_flux") is SOURCES["teo"].metrics["acc_flux"]
    assert find_metric("billing", "acc_flux") is None
    assert find_metric("nowhere", "cost") is None
    assert find_metric("teo", "acc_bandwidth").aggregates == ("max", "p95", "avg", "sum")  # type: ignore[union-attr]
    assert find_metric("billing", "cost").periods == ("day", "month")  # type: ignore[union-attr]


def test_the_openapi_document_lists_the_catalogue() -> None:
    metric = document()["components"]["schemas"]["Usage"]["properties"]["metric"]
    assert set(metric["enum"]) == {m for source in SOURCES.values() for m in source.metrics}


def test_sources_plan_their_own_requests() -> None:
    sh = ZoneInfo("Asia/Shanghai")
    budgets = [
        Budget.model_validate({"name": "t", "source": "teo", "metric": "acc_flux", "limit": "1TB"}),
        Budget.model_validate({"name": "c", "source": "billing", "metric": "cost", "limit": 10}),
        Budget.model_validate({"name": "b", "source": "billing", "metric": "balance", "below": 10}),
    ]
    teo_calls = source_for("teo").plan(budgets, NOW, sh)
    billing_calls = source_for("billing").plan(budgets, NOW, sh)
    assert [(c.service, c.action, c.params["MetricName"]) for c in teo_calls] == [
        ("teo", "DescribeBillingData", "acc_flux")
    ]
    assert [(c.action, dict(c.params)) for c in billing_calls] == [
        ("DescribeBillSummaryByProduct", {"BeginTime": "2026-11", "EndTime": "2026-11"}),
        ("DescribeAccountBalance", {}),
    ]


def test_the_registered_plugins_satisfy_the_protocol() -> None:
    plugins: list[Source] = [TeoSource(), CdnSource(), BillingSource()]  # used through the protocol only
    assert [p.name for p in plugins] == ["teo", "cdn", "billing"]


def test_a_failure_is_typed_and_reads_as_before() -> None:
    period = Period(NOW, NOW)
    api = Failure.of(ApiError("ResourceNotFound", "no such zone", retryable=False))
    assert (api.error, api.code, str(api)) == ("ApiError", "ResourceNotFound", "ResourceNotFound: no such zone")
    collect = Failure.of(CollectError("Data is not a list"))
    assert (collect.error, collect.code, str(collect)) == ("CollectError", None, "CollectError: Data is not a list")
    obs = Observation("b", (), period, None, "B", failure=api)
    assert obs.error == "ResourceNotFound: no such zone" and not obs.ok
    assert Observation("b", (), period, None, "B", error="kept as given").failure is None
