"""Loading budgets.yaml: the example file, ${VAR} expansion, and errors that name budget, field and line."""

from __future__ import annotations

import sys
import types
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest

from lib.config.loader import load_config, parse_config, parse_cos_url
from lib.errors import ConfigError, ConfigErrors

REPO = Path(__file__).resolve().parents[2]
ENV = {
    "WECOM_URL": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
    "DINGTALK_URL": "https://oapi.dingtalk.com/robot/send?access_token=t",
    "DINGTALK_SECRET": "SECd",
    "FEISHU_URL": "https://open.feishu.cn/open-apis/bot/v2/hook/h",
    "FEISHU_SECRET": "f",
    "SLACK_URL": "https://hooks.slack.com/services/T/B/X",
    "WEBHOOK_URL": "https://example.com/hooks/budget",
    "WEBHOOK_SECRET": "whsec",
}

# Lines: 1 timezone, 2 channels:, 3 ops, 4 budgets:, 5 "- name: b"; a case's lines start at 6.
HEAD = """timezone: Asia/Shanghai
channels:
  ops: {type: wecom, url: "https://qyapi.example/hook"}
budgets:
  - name: b
"""
GOOD = ["source: teo", "metric: acc_flux", "limit: 10TB", "channels: [ops]"]


def _doc(lines: list[str], head: str = HEAD) -> str:
    return head + "".join(f"    {line}\n" for line in lines)


def _errors(text: str, environ: dict[str, str] | None = None) -> list[ConfigError]:
    with pytest.raises(ConfigErrors) as info:
        parse_config(text, environ=environ or {})
    return info.value.errors


def test_the_example_file_loads() -> None:
    config = load_config(str(REPO / "budgets.yaml"), environ=ENV)
    assert config.timezone == "Asia/Shanghai"
    assert config.language == "zh"
    assert sorted(config.channels) == ["audit", "chat", "finance", "lark", "ops"]
    assert config.channels["finance"].secret == "SECd"
    assert config.channels["ops"].url == ENV["WECOM_URL"]
    traffic, spend, balance = config.budgets
    assert (traffic.name, traffic.limit, traffic.thresholds) == ("edgeone-traffic", Decimal(10**13), (50, 80, 100))
    assert traffic.group_by == ("zone-id",) and traffic.forecast and traffic.channels == ("ops", "audit", "lark")
    assert (spend.source, spend.metric, spend.limit, spend.channels) == ("billing", "cost", 5000, ("finance", "chat"))
    assert (balance.below, balance.repeat, balance.channels) == (1000, 86400.0, ("finance", "audit"))


def test_source_defaults_to_budget_config_then_budgets_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "budgets.yaml").write_text(_doc(GOOD), encoding="utf-8")
    other = tmp_path / "other.yaml"
    other.write_text(_doc([*GOOD, "period: day"]), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert load_config(None, environ={}).budgets[0].period == "month"
    assert load_config(None, environ={"BUDGET_CONFIG": str(other)}).budgets[0].period == "day"
    with pytest.raises(ConfigError, match="not found"):
        load_config(str(tmp_path / "missing.yaml"), environ={})


@pytest.mark.parametrize(
    ("lines", "field", "line", "message"),
    [
        ("source: teo | metric: acc_flux | limt: 10TB | channels: [ops]",
         "limt", 8, "unknown key 'limt' (did you mean 'limit'?)"),
        ("source: teo | metric: acc_flx | limit: 10TB | channels: [ops]", "metric", 7, "unknown teo metric 'acc_flx'"),
        ("source: billing | metric: spend | limit: 10 | channels: [ops]", "metric", 7, "known: balance, cost"),
        ("source: tencent | metric: cost | limit: 10 | channels: [ops]",
         "source", 6, "must be one of 'teo', 'cdn' or 'billing', not 'tencent'"),
        ("metric: acc_flux | limit: 10TB | channels: [ops]", "source", 5, "is required"),
        ("source: teo | metric: acc_flux | limit: 10Tb | channels: [ops]", "limit", 8, "capital B"),
        ("source: teo | metric: acc_bandwidth | limit: 10TB | channels: [ops]",
         "limit", 8, "'10TB' is a data size but this metric is measured as a bandwidth (bps)"),
        ("source: teo | metric: sec_request_clean | limit: 5GB | channels: [ops]", "limit", 8, "is a data size"),
        ("source: teo | metric: acc_flux | limit: -1 | channels: [ops]", "limit", 8, "more than zero"),
        ("source: teo | metric: acc_flux | limit: 10TB | channels: [ops, nope]",
         "channels[1]", 9, "unknown channel 'nope'; channels: ops"),
        ("source: teo | metric: acc_flux | limit: 10TB", "channels", 5, "no channels"),
        ("source: teo | metric: acc_flux | thresholds: [50, 80] | channels: [ops]",
         "thresholds", 8, "percent of a limit: set limit"),
        ("source: teo | metric: acc_flux | limit: 1TB | thresholds: [80, 5000] | channels: [ops]",
         "thresholds", 9, "use 'absolute: [5000]'"),
        ("source: teo | metric: acc_flux | limit: 1TB | thresholds: [80, 80%] | channels: [ops]",
         "thresholds", 9, "listed twice"),
        ("source: teo | metric: acc_flux | limit: 1TB | thresholds: [0] | channels: [ops]", "thresholds", 9, "above 0"),
        ("source: teo | metric: acc_bandwidth | limit: 1Gbps | forecast: true | channels: [ops]",
         "forecast", 9, "cannot be forecast"),
        ("source: teo | metric: acc_flux | absolute: [1TB] | forecast: true | channels: [ops]",
         "forecast", 9, "set limit"),
        ("source: teo | metric: quic_request | limit: plan | channels: [ops]", "limit", 8, "quic_request has none"),
        ("source: billing | metric: cost | limit: plan | channels: [ops]", "limit", 8, "cost has none"),
        ("source: teo | metric: acc_flux | below: 1TB | channels: [ops]", "below", 8, "metric balance only"),
        ("source: billing | metric: balance | limit: 100 | below: 10 | channels: [ops]",
         "limit", 8, "a balance is a level"),
        ("source: billing | metric: balance | channels: [ops]", None, 5, "a balance needs below"),
        ("source: teo | metric: acc_flux | channels: [ops]", None, 5, "nothing to alert on"),
        ("source: billing | metric: cost | period: day | group_by: [product, project] | limit: 10 | channels: [ops]",
         "group_by", 9, "a day cost budget groups by one key"),
        ("source: billing | metric: cost | group_by: [project] | filters: {tag:env: [prod]} | channels: [ops]",
         "filters", 9, "billing cost combines product with at most one of project, region, pay-mode"),
        ("source: teo | metric: acc_flux | runway: 7d | limit: 1TB | channels: [ops]",
         "runway", 8, "runway applies to metric balance only"),
        ("source: billing | metric: cost | zones: [zone-1] | limit: 10 | channels: [ops]",
         "zones", 8, "source teo only"),
        ("source: teo | metric: acc_flux | aggregate: p95 | limit: 1TB | channels: [ops]",
         "aggregate", 8, "bandwidth metrics only"),
        ("source: teo | metric: acc_flux | group_by: [zone-id, host, region-id] | limit: 1TB | channels: [ops]",
         "group_by", 8, "at most 2 items (got 3)"),
        ("source: teo | metric: acc_flux | group_by: [zone] | limit: 1TB | channels: [ops]",
         "group_by[0]", 8, "'zone-id'"),
        ("source: teo | metric: acc_flux | zones: ['*', zone-1] | limit: 1TB | channels: [ops]",
         "zones", 8, "every zone"),
        ("source: teo | metric: acc_flux | filters: {country: [CN]} | limit: 1TB | channels: [ops]",
         "filters.country", 8, "'host', 'proxy-id' or 'region-id'"),
        ("source: billing | metric: balance | below: 10 | repeat: soon | channels: [ops]",
         "repeat", 9, "not a duration"),
        ("source: billing | metric: balance | below: 10 | repeat: 10s | channels: [ops]", "repeat", 9, "at least 1m"),
        ("source: teo | metric: acc_flux | spike: {factor: 0.5} | channels: [ops]",
         "spike.factor", 8, "must be greater than 1, not 0.5"),
        ("source: teo | metric: acc_flux | spike: {min_value: 5Mbps} | channels: [ops]",
         "spike", 8, "min_value: '5Mbps' is a bandwidth"),
        ("source: teo | metric: acc_flux | spike: {baseline: lastweek} | channels: [ops]",
         "spike.baseline", 8, "'yesterday' or 'median'"),
        ("name: c | source: teo | metric: acc_flux | limit: 1 | channels: [ops]",
         "name", 6, "key 'name' appears twice"),
        ("source: teo | metric: acc_flux | no_data_after: -1 | limit: 1 | channels: [ops]",
         "no_data_after", 8, "must be at least 0, not -1"),
    ],
)  # fmt: skip
def test_errors_name_budget_field_and_line(lines: str, field: str | None, line: int, message: str) -> None:
    """Each case is budget "b"'s keys (from line 6 on), separated by " | "."""
    budget = "b"
    errors = _errors(_doc(lines.split(" | ")))
    matching = [e for e in errors if message in str(e)]
    assert matching, [str(e) for e in errors]
    error = matching[0]
    assert error.line == line, str(error)
    if "appears twice" not in message:  # YAML-level errors know the line only
        assert (error.budget, error.field) == (budget, field), str(error)
        assert str(error).startswith(f"budget '{budget}'")


def test_budget_names_must_be_unique_and_the_second_is_named() -> None:
    text = _doc([*GOOD, ""]) + "  - name: b\n" + "".join(f"    {line}\n" for line in GOOD)
    (error,) = _errors(text)
    assert (error.budget, error.field, error.line) == ("b", "name", 11)
    assert "already used by budget #1" in str(error)


def test_a_budget_without_a_name_is_named_by_position() -> None:
    text = HEAD.replace("  - name: b\n", "  - source: teo\n    metric: acc_flux\n    limit: x\n")
    errors = _errors(text)
    assert {(e.budget, e.field) for e in errors} >= {("#1", "name"), ("#1", "limit")}


@pytest.mark.parametrize(
    ("head", "field", "line", "message"),
    [
        (HEAD.replace("Asia/Shanghai", "Mars/Olympus"), "timezone", 1, "unknown IANA time zone 'Mars/Olympus'"),
        (HEAD.replace("Asia/Shanghai", "America"), "timezone", 1, "unknown IANA time zone"),
        (HEAD.replace("https://qyapi.example/hook", "qyapi.example/hook"), "channels.ops.url", 3, "http(s)://"),
        (HEAD.replace("type: wecom", "type: teams"), "channels.ops.type", 3, "'wecom', 'dingtalk'"),
        (HEAD.replace("type: wecom,", "type: wecom, token: x,"), "channels.ops.token", 3, "unknown key 'token'"),
        (HEAD.replace("  ops:", "  o p:"), "channels.o p", 3, "letters, digits, - and _"),
        (HEAD.replace("timezone:", "timezon:"), "timezon", 1, "did you mean 'timezone'"),
        (HEAD.replace("timezone: Asia/Shanghai", "language: fr"), "language", 1, "'zh' or 'en'"),
    ],
)
def test_top_level_and_channel_errors(head: str, field: str, line: int, message: str) -> None:
    errors = _errors(_doc(GOOD, head=head))
    matching = [e for e in errors if message in str(e)]
    assert matching, [str(e) for e in errors]
    assert (matching[0].budget, matching[0].field, matching[0].line) == (None, field, line)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("budgets: [\n  {name: b\n", 3, "not valid YAML"),
        ("timezone: Asia/Shanghai\n  bad: indent\n", 2, "not valid YAML"),
        ("- just\n- a list\n", 1, "must be a mapping"),
        ("timezone: UTC\ntimezone: UTC\n", 2, "key 'timezone' appears twice (lines 1 and 2)"),
    ],
)
def test_yaml_errors_have_lines(text: str, line: int, message: str) -> None:
    (error,) = _errors(text)
    assert message in str(error)
    assert error.line == line


def test_an_empty_file_is_an_empty_configuration() -> None:
    config = parse_config("", environ={})
    assert (config.budgets, config.channels) == ((), {})


def test_several_problems_are_reported_together() -> None:
    with pytest.raises(ConfigErrors) as info:
        parse_config(_doc(["source: teo", "metric: nope", "limit: 10XB", "colour: red"]), environ={}, source="x.yaml")
    text = str(info.value)
    assert text.startswith("x.yaml: 3 problems\n")
    assert [e.field for e in info.value.errors] == ["metric", "limit", "colour"]


# -- ${VAR} -----------------------------------------------------------------------------------------

VARS_HEAD = """channels:
  ops: {type: wecom, url: "${WECOM_URL}"}
  audit: {type: webhook, url: "https://h.example/${PATH_PART:-default}", secret: "${SECRET}"}
  lit: {type: slack, url: "https://h.example/$${NOT_A_VAR}"}
budgets:
  - name: b
"""


def test_variables_expand_from_the_given_environment() -> None:
    env = {"WECOM_URL": "https://qyapi.example/k", "SECRET": "s3"}
    config = parse_config(_doc(GOOD, head=VARS_HEAD), environ=env)
    assert config.channels["ops"].url == "https://qyapi.example/k"
    assert config.channels["audit"].url == "https://h.example/default"
    assert config.channels["audit"].secret == "s3"
    assert config.channels["lit"].url == "https://h.example/${NOT_A_VAR}"
    env["PATH_PART"] = "p"
    assert parse_config(_doc(GOOD, head=VARS_HEAD), environ=env).channels["audit"].url == "https://h.example/p"


def test_every_missing_variable_is_named_with_its_line() -> None:
    errors = _errors(_doc(GOOD, head=VARS_HEAD), environ={})
    assert [str(e) for e in errors] == [
        "field 'channels.ops.url', line 2: environment variable WECOM_URL is not set",
        "field 'channels.audit.secret', line 3: environment variable SECRET is not set",
    ]


def test_an_empty_variable_is_set_but_still_has_to_be_valid() -> None:
    errors = _errors(_doc(GOOD, head=VARS_HEAD), environ={"WECOM_URL": "", "SECRET": ""})
    assert [(e.field, e.line) for e in errors] == [("channels.ops.url", 2)]


@pytest.mark.parametrize(
    ("value", "message"),
    [("${UNCLOSED", "is not closed"), ("${not-a-name}", "is not a variable reference"), ("${}", "not a variable")],
)
def test_bad_references(value: str, message: str) -> None:
    head = HEAD.replace("https://qyapi.example/hook", value)
    (error,) = _errors(_doc(GOOD, head=head))
    assert message in str(error) and error.field == "channels.ops.url" and error.line == 3


def test_secrets_never_appear_in_errors() -> None:
    head = HEAD.replace('url: "https://qyapi.example/hook"', 'url: "${HOOK}", secret: 42')
    errors = _errors(_doc(GOOD, head=head), environ={"HOOK": "ftp://user:hunter2@host"})
    assert errors and all("hunter2" not in str(e) for e in errors)


# -- COS --------------------------------------------------------------------------------------------


def test_cos_urls() -> None:
    assert parse_cos_url("cos://budgets-1250000000.ap-guangzhou/conf/budgets.yaml") == (
        "budgets-1250000000",
        "ap-guangzhou",
        "conf/budgets.yaml",
    )
    for bad in ("cos://budgets.ap-guangzhou/x.yaml", "cos://b-1.ap-guangzhou/", "cos:/b-1.ap/x"):
        with pytest.raises(ConfigError, match="cos://<bucket-appid>"):
            parse_cos_url(bad)


class _FakeCosStore:
    """Stands in for lib.state.cos.CosStore: records how it was built and serves one object."""

    built: ClassVar[list[dict[str, Any]]] = []
    objects: ClassVar[dict[str, bytes]] = {}
    closed: ClassVar[int] = 0

    def __init__(self, **kwargs: Any) -> None:
        _FakeCosStore.built.append(kwargs)

    def get(self, key: str) -> Any:
        data = _FakeCosStore.objects.get(key)
        return None if data is None else types.SimpleNamespace(data=data, etag="v1")

    def close(self) -> None:
        _FakeCosStore.closed += 1


def test_config_from_cos(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("lib.state.cos")
    module.CosStore = _FakeCosStore  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "lib.state.cos", module)
    _FakeCosStore.built.clear()
    _FakeCosStore.closed = 0
    _FakeCosStore.objects = {"conf/budgets.yaml": _doc(GOOD).encode("utf-8")}
    env = {
        "BUDGET_CONFIG": "cos://budgets-1250000000.ap-guangzhou/conf/budgets.yaml",
        "BUDGET_COS_ENDPOINT": "http://127.0.0.1:9",
        "TENCENTCLOUD_SECRETID": "AKIDtest",
        "TENCENTCLOUD_SECRETKEY": "key",
        "HOME": "/nonexistent",
    }
    config = load_config(None, environ=env)
    assert config.budgets[0].limit == Decimal(10**13)
    (built,) = _FakeCosStore.built
    assert (built["bucket"], built["region"], built["prefix"], built["endpoint"]) == (
        "budgets-1250000000",
        "ap-guangzhou",
        "",
        "http://127.0.0.1:9",
    )
    assert built["credentials"].secret_id == "AKIDtest"
    with pytest.raises(ConfigError, match="not found"):
        load_config("cos://budgets-1250000000.ap-guangzhou/missing.yaml", environ=env)
    assert _FakeCosStore.closed == 2  # the store's HTTP session is closed every time
    no_keys = {k: v for k, v in env.items() if not k.startswith("TENCENTCLOUD_")}
    with pytest.raises(ConfigError, match="cannot read configuration cos://") as info:
        load_config(None, environ=no_keys)
    assert "TENCENTCLOUD_SECRETID" in str(info.value)
