"""Link sizes benchmark: how long signed links are, and what they cost in chat messages per batch.

For batches of 1, 5, 20 and 60 alerts (each with one action waiting for approval, zh), the messages a
channel sends with links against the same batch without links (the baseline, rendered in the same
run), and the longest request body against the channel's limit. Also the length of each kind of link
with a typical Function URL host. Goal: every body within its limit; WeCom (20 messages a minute per
robot) at most 2x the messages of the same batch without links.

Run: ``python -m bench.bench_links`` (or ``python -m bench links``).
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = "https://1250000000-k3q9z7xa.ap-guangzhou.tencentscf.com"
BATCHES = (1, 5, 20, 60)


def run() -> list[dict[str, Any]]:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from lib.config.models import Channel
    from lib.notify import dingtalk, feishu, render, wecom
    from lib.notify.links import LinkMaker
    from tests.unit.notify_samples import AT, TRAFFIC, TZ

    maker = LinkMaker(PUBLIC, "bench-link-secret-0123456789abcdef", AT)
    pending = {"id": "act_215e8958d180bf430a5f52a0", "type": "pause-zone", "state": "pending-approval"}
    alert = replace(TRAFFIC, detail={"actions": [{**pending, "targets": ["zone-2m2gq4dnpmd2"]}]})
    rows: list[dict[str, Any]] = [
        {"name": f"{o.key} link length", "value": len(o.url), "unit": "chars"} for o in maker.links(alert)
    ]
    limits = {"wecom": wecom.MAX_BYTES + 200, "dingtalk": dingtalk.MAX_BYTES + 400, "feishu": feishu.MAX_BODY_BYTES}
    for kind in ("wecom", "dingtalk", "feishu", "slack"):
        channel = Channel.model_validate({"type": kind, "url": "https://hooks.example/x?key=K"})
        for count in BATCHES:
            alerts = [replace(alert, id=f"ntf_{i:032x}", group=(("zone-id", f"zone-{i:012d}"),)) for i in range(count)]
            plain = render("ops", channel, alerts, language="zh", tz=TZ, now=AT)
            linked = render("ops", channel, alerts, language="zh", tz=TZ, now=AT, links=maker.offers(alerts))
            largest = max(len(r.body) for r in linked)
            limit = limits.get(kind)
            fits = limit is None or largest <= limit
            ratio = len(linked) / len(plain)
            rows.append(
                {
                    "name": f"{kind} {count} alerts: messages with links (largest body {largest} B)",
                    "value": len(linked),
                    "unit": "messages",
                    "baseline": len(plain),
                    "ratio": ratio,
                    "goal": "fits; wecom <= 2x" if kind == "wecom" else "fits",
                    "ok": fits and (kind != "wecom" or ratio <= 2),
                }
            )
    return rows


if __name__ == "__main__":
    from bench.__main__ import table

    print(table(run()))
