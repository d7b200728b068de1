"""``RunResult``: the typed run outcome and its JSON form (DESIGN §3.4)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal

from lib.app.result import RunError, RunResult, Skipped, failed_to_start
from lib.deliveries import DeliveryReport
from lib.model import Evaluation, Period, group_key

PERIOD = Period(datetime(2026, 10, 31, 16, tzinfo=timezone.utc), datetime(2026, 11, 30, 16, tzinfo=timezone.utc))
EVALUATION = Evaluation(
    budget="edgeone-traffic",
    group=group_key({"zone-id": "zone-2m2gq4dnpmd2"}),
    period=PERIOD,
    value=Decimal("8.1e12"),
    unit="B",
    limit=Decimal("1e13"),
    percent=81.0,
    forecast=Decimal("1.1e13"),
    level=80,
    status="firing",
)


def test_the_document_has_the_design_fields() -> None:
    result = RunResult(
        run_id="r1",
        at="2026-11-22T10:00:00+08:00",
        trigger="timer",
        dry_run=False,
        evaluations=[EVALUATION],
        notifications=[DeliveryReport(id="n1", budget="edgeone-traffic", channel="ops", outcome="sent")],
        skipped=[Skipped("prod-spend", "billing reports cost only as of now")],
        errors=[RunError("collect", "timed out", budget="prod-spend")],
    )
    doc = json.loads(json.dumps(result.to_dict()))
    assert set(doc) == {
        "run_id",
        "at",
        "trigger",
        "dry_run",
        "evaluations",
        "notifications",
        "actions",
        "skipped",
        "errors",
    }
    assert doc["evaluations"][0]["group"] == {"zone-id": "zone-2m2gq4dnpmd2"}
    assert doc["evaluations"][0]["value"] == 8.1e12 and doc["evaluations"][0]["level"] == 80
    assert doc["notifications"] == [{"id": "n1", "budget": "edgeone-traffic", "channel": "ops", "outcome": "sent"}]
    assert doc["skipped"] == [{"budget": "prod-spend", "reason": "billing reports cost only as of now"}]
    assert doc["errors"] == [{"source": "collect", "budget": "prod-spend", "message": "timed out"}]
    assert doc["actions"] == []


def test_failed_means_an_error_or_an_undelivered_message() -> None:
    ok = RunResult("r", "t", "cli", False, notifications=[DeliveryReport(id="n", outcome="sent")])
    assert not ok.failed
    for outcome in ("retry", "failed", "rejected"):
        assert RunResult("r", "t", "cli", False, notifications=[DeliveryReport(id="n", outcome=outcome)]).failed
    assert RunResult("r", "t", "cli", False, errors=[RunError("state", "ledger unreadable")]).failed
    assert not RunResult("r", "t", "cli", False, notifications=[DeliveryReport(id="n", outcome="skipped")]).failed


def test_a_run_that_could_not_start() -> None:
    doc = failed_to_start("configuration broken", at="2026-11-22T02:00:00+00:00", trigger="timer").to_dict()
    assert doc["run_id"] is None and doc["evaluations"] == [] and doc["notifications"] == []
    assert doc["errors"] == [{"source": "run", "message": "configuration broken"}]
