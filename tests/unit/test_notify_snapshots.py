"""Message previews for each channel and language, compared with the committed files in tests/snapshots/.

Regenerate after an intended change with ``UPDATE_SNAPSHOTS=1 pytest tests/unit/test_notify_snapshots.py``
and read the diff: a person must see at once which budget, how much, of what limit, by when.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from lib.config.models import Channel
from lib.notify import render
from tests.unit.notify_samples import ALL, AT, BALANCE_OK, NO_DATA, TRAFFIC, TZ

SNAPSHOTS = Path(__file__).resolve().parent.parent / "snapshots"
SECRETS = {"dingtalk": "SECsnapshot", "feishu": "snapshot", "webhook": "whsec_c25hcHNob3Qtc2VjcmV0LWtleS0xMjM0"}
URLS = {
    "wecom": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SNAPSHOT",
    "dingtalk": "https://oapi.dingtalk.com/robot/send?access_token=SNAPSHOT",
    "feishu": "https://open.feishu.cn/open-apis/bot/v2/hook/SNAPSHOT",
    "slack": "https://hooks.slack.com/services/T0/B0/SNAPSHOT",
    "webhook": "https://example.com/hooks/budget",
}


def _channel(kind: str) -> Channel:
    return Channel(type=kind, url=URLS[kind], secret=SECRETS.get(kind))  # type: ignore[arg-type]


def _preview(kind: str, language: str) -> str:
    """The single-alert message first, then one run's batch of every kind of notification."""
    sections = []
    # The webhook sends one POST per notification: show a resolved one and a no-data one instead.
    batch = [BALANCE_OK, NO_DATA] if kind == "webhook" else list(ALL)
    for label, items in (("one notification", [TRAFFIC]), ("a batch of every kind", batch)):
        requests_ = render(kind, _channel(kind), items, language=language, tz=TZ, now=AT)
        for number, request in enumerate(requests_, 1):
            head = f"{label}: request {number}/{len(requests_)}, {len(request.notification_ids)} notification(s)"
            document = request.json()
            if kind == "wecom":
                sections.append(f"<!-- {head} -->\n{document['markdown']['content']}")
            elif kind == "dingtalk":
                title = document["markdown"]["title"]
                sections.append(f"<!-- {head}; url {request.url}; title: {title} -->\n{document['markdown']['text']}")
            else:
                shown = {"request": head, "url": request.url, "headers": dict(request.headers), "body": document}
                sections.append(json.dumps(shown, ensure_ascii=False, indent=2))
    if kind in ("feishu", "slack", "webhook"):
        return "[\n" + ",\n".join(sections) + "\n]\n"
    return "\n\n".join(sections) + "\n"


CASES = [
    (kind, language, f"{kind}.{language}.{'md' if kind in ('wecom', 'dingtalk') else 'json'}")
    for kind in ("wecom", "dingtalk", "feishu", "slack", "webhook")
    for language in ("zh", "en")
]


@pytest.mark.parametrize(("kind", "language", "name"), CASES)
def test_preview_matches_snapshot(kind: str, language: str, name: str) -> None:
    text = _preview(kind, language)
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with UPDATE_SNAPSHOTS=1 and review it"
    assert text == path.read_text(encoding="utf-8"), f"{name} changed: review, then UPDATE_SNAPSHOTS=1"


def _human_text(kind: str, document: dict[str, Any]) -> str:
    """What a person reads, in order, from a request body."""
    if kind == "wecom":
        return str(document["markdown"]["content"])
    if kind == "dingtalk":
        return str(document["markdown"]["text"])
    if kind == "webhook":
        return str(document["message"])
    if kind == "feishu":
        card = document["card"]
        parts = [card["header"]["title"]["content"]]
        for element in card["elements"]:
            if element["tag"] == "div":
                parts.append(element["text"]["content"])
            elif element["tag"] == "note":
                parts.extend(e["content"] for e in element["elements"])
        return "\n".join(parts)
    parts = []
    for block in document["blocks"]:
        if "text" in block:
            parts.append(block["text"]["text"])
        parts.extend(e["text"] for e in block.get("elements", []))
    return "\n".join(parts)


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("kind", ["wecom", "dingtalk", "feishu", "slack", "webhook"])
def test_message_leads_with_budget_amount_limit_then_period_end_then_id(kind: str, language: str) -> None:
    """The first line names the budget, the usage, the limit and the percent; the period end follows;
    the stable id closes the message."""
    (request,) = render(kind, _channel(kind), [TRAFFIC], language=language, tz=TZ, now=AT)
    text = re.sub(r"</?font[^>]*>", "", _human_text(kind, request.json()))
    first_line = text.split("\n", 1)[0]
    for needle in ("edgeone-traffic", "8.1 TB", "10 TB", "81%"):
        assert needle in first_line, (needle, first_line)
    period_end = text.find("2026-12-01 00:00 UTC+8")
    assert period_end > len(first_line)
    as_of = "数据时间" if language == "zh" else "as of"
    assert text.rstrip().endswith(f"{TRAFFIC.id} · {as_of} 2026-11-22 10:00 UTC+8")
