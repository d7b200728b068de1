"""Shared test doubles for the HTTP API tests: a configuration, a stub App and event builders."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from lib.app.result import RunResult
from lib.app.runtime import App
from lib.config.models import Budget, Channel, Config
from lib.deliveries import DeliveryReport
from lib.model import Evaluation, Period, Point, group_key

NOW = datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc)
TOKENS = ("tok-alpha-0123456789", "tok-beta-9876543210")
WECOM_KEY = "wecom-key-5f3a9c1e"
DING_TOKEN = "ding-token-77aa33bb"
DING_SECRET = "SECding-secret-0042"

CONFIG = Config(
    timezone="Asia/Shanghai",
    channels={
        "ops": Channel(type="wecom", url=f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WECOM_KEY}"),
        "finance": Channel(
            type="dingtalk", url=f"https://oapi.dingtalk.com/robot/send?access_token={DING_TOKEN}", secret=DING_SECRET
        ),
    },
    budgets=(
        Budget(
            name="edgeone-traffic",
            source="teo",
            metric="acc_flux",
            group_by=("zone-id",),
            limit=Decimal(10**13),
            thresholds=(Decimal(50), Decimal(80), Decimal(100)),
            forecast=True,
            channels=("ops",),
        ),
        Budget(name="monthly-spend", source="billing", metric="cost", limit=Decimal(5000), channels=("finance",)),
    ),
)


def evaluation(budget: str, group: dict[str, str], value: float, limit: float, status: str) -> Evaluation:
    period = Period(
        datetime(2026, 10, 31, 16, 0, tzinfo=timezone.utc), datetime(2026, 11, 30, 16, 0, tzinfo=timezone.utc)
    )
    return Evaluation(
        budget=budget,
        group=group_key(group),
        period=period,
        value=Decimal(str(value)),
        unit="B" if budget == "edgeone-traffic" else "CNY",
        limit=Decimal(str(limit)),
        percent=round(value / limit * 100, 1),
        forecast=Decimal(str(value * 1.3)),
        level=80 if status == "firing" else None,
        status=status,  # type: ignore[arg-type]
    )


@dataclass
class StubApp(App):
    """An App whose check run is canned (the pipeline has its own tests); it records like the real one."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    fail_with: Exception | None = None

    def run_check(self, *, at: datetime | None = None, dry_run: bool = False, trigger: str = "cli") -> RunResult:
        if self.fail_with is not None:
            raise self.fail_with
        self.calls.append({"at": at, "dry_run": dry_run, "trigger": trigger})
        when = at or self.now()
        result = RunResult(
            run_id=f"run-{len(self.calls)}",
            at=when.isoformat(),
            trigger=trigger,
            dry_run=dry_run,
            evaluations=[
                evaluation("edgeone-traffic", {"zone-id": "zone-a"}, 8.1e12, 1e13, "firing"),
                evaluation("edgeone-traffic", {"zone-id": "zone-b"}, 1.0e12, 1e13, "ok"),
                evaluation("monthly-spend", {}, 1200.5, 5000, "ok"),
            ],
            notifications=[DeliveryReport(id="ntf_1", budget="edgeone-traffic", channel="ops", outcome="sent")],
        )
        if not dry_run:
            self.repo.runs.record(result.to_dict())
            self.repo.series.save(
                "edgeone-traffic",
                "zone-id=zone-a",
                [Point(NOW - timedelta(days=1), Decimal("4e12")), Point(NOW, Decimal("4.1e12"))],
            )
        return result


def make_repo() -> Any:
    from lib.state.memory import MemoryStore
    from lib.state.repo import StateRepository

    return StateRepository(MemoryStore("api-tests"))


def make_app(repo: Any = None, *, tokens: tuple[str, ...] = TOKENS, clock_at: datetime = NOW) -> StubApp:
    store: Any = None
    if repo is None:
        repo = make_repo()
        store = getattr(repo, "store", None)
    environ = {"BUDGET_API_TOKEN": ",".join(tokens)} if tokens else {"BUDGET_API_TOKEN": ""}
    return StubApp(
        config=CONFIG,
        store=store,
        repo=repo,
        client=None,  # type: ignore[arg-type]
        session=None,  # type: ignore[arg-type]
        clock=lambda: clock_at,
        environ=environ,
    )


def event(
    method: str,
    path: str,
    *,
    token: str | None = TOKENS[0],
    body: Any = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    base64_body: bool = False,
) -> dict[str, Any]:
    """An API-gateway event shaped like the real one (reference §2.2)."""
    hdrs = {"Host": "service-abc-1250000000.gz.apigw.tencentcs.com", "User-Agent": "pytest"}
    if token is not None:
        hdrs["Authorization"] = f"Bearer {token}"
    hdrs.update(headers or {})
    text: str | None
    if body is None:
        text = None
    elif isinstance(body, (bytes, str)):
        raw = body.encode() if isinstance(body, str) else body
        text = base64.b64encode(raw).decode() if base64_body else raw.decode("utf-8", "surrogateescape")
    else:
        raw = json.dumps(body).encode()
        text = base64.b64encode(raw).decode() if base64_body else raw.decode()
    return {
        "requestContext": {
            "serviceId": "service-abc",
            "path": path,
            "httpMethod": method,
            "requestId": "req-0001",
            "identity": {},
            "sourceIp": "10.0.0.1",
            "stage": "release",
        },
        "headers": hdrs,
        "body": text,
        "isBase64Encoded": base64_body,
        "pathParameters": {},
        "queryStringParameters": dict(query or {}),
        "headerParameters": {},
        "stageVariables": {"stage": "release"},
        "path": path,
        "queryString": dict(query or {}),
        "httpMethod": method,
    }


def call(app: App | None, ev: Any, context: Any = None) -> tuple[int, dict[str, Any], Any]:
    """Run the handler with ``app`` injected; returns (status, headers, parsed JSON body or None);
    a page or an image (not JSON) comes back as the integrated response's body string, as it is."""
    import lib.api
    from handlers.api import main_handler

    lib.api.set_app(app)
    try:
        response = main_handler(ev, {} if context is None else context)
    finally:
        lib.api.set_app(None)
    assert set(response) == {"isBase64Encoded", "statusCode", "headers", "body"}
    assert isinstance(response["body"], str)
    is_json = response["headers"].get("Content-Type", "application/json").startswith("application/json")
    body = (json.loads(response["body"]) if is_json else response["body"]) if response["body"] else None
    return response["statusCode"], response["headers"], body
