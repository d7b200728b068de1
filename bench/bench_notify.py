"""Notification delivery benchmark: render and send 1,000 notifications to the local receiver.

1. WeCom, batched (the product's way: as few markdown messages as the 4096-byte limit allows) vs the
   one-notification-per-request baseline, both measured here against the same local receiver. Reports
   notifications per second, milliseconds per notification and messages sent; also the minutes a real
   robot's 20-messages-a-minute limit would need for each (the figure that matters in production).
   The rate limiter is off here so the local measurement is not capped.
2. Informative: the signed generic webhook (one POST per notification by design), and pure rendering
   throughput per channel.

Run: ``python -m bench.bench_notify`` (or ``python -m bench notify``).
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
N = 1000
REPEATS = 3
ROBOT_PER_MINUTE = 20


def notifications(n: int = N) -> list[Any]:
    """``n`` distinct alerts of every kind, with varied groups and values."""
    from tests.unit.notify_samples import ALL

    out = []
    for i in range(n):
        base = ALL[i % len(ALL)]
        group = base.group or (("zone-id", f"zone-{i:012d}"),)
        value = None if base.value is None else base.value + Decimal(i)
        out.append(replace(base, id=f"ntf_{i:032x}", group=group, value=value))
    return out


def _best(fn: Any, repeats: int = REPEATS) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def run() -> list[dict[str, Any]]:
    import requests

    from lib.config.models import Channel
    from lib.notify import deliver, render
    from lib.notify.limits import Unlimited
    from sandbox.receivers import Receiver
    from tests.unit.notify_samples import AT, TZ

    items = notifications()
    rows: list[dict[str, Any]] = []
    with Receiver() as receiver, requests.Session() as session:

        def send(kind: str, batch: list[Any]) -> int:
            channel = Channel(type=kind, url=receiver.url(kind), secret=receiver.secret(kind) or None)  # type: ignore[arg-type]
            results = list(
                deliver(kind, channel, batch, language="zh", tz=TZ, session=session, now=AT, limiter=Unlimited())
            )
            bad = [r for r in results if r.outcome != "sent"]
            if bad:
                raise RuntimeError(f"{kind}: {bad[0].reason}")
            return sum(len(r.notification_ids) for r in results)

        def batched() -> int:
            receiver.clear()
            assert send("wecom", items) == N
            return len(receiver.received)

        def one_each() -> int:
            receiver.clear()
            for n in items:
                send("wecom", [n])
            return len(receiver.received)

        def webhook() -> int:
            receiver.clear()
            assert send("webhook", items) == N
            return len(receiver.received)

        t_batch, messages_batch = _best(batched)
        t_each, messages_each = _best(one_each)
        t_hook, _ = _best(webhook)

    rows += [
        {
            "name": f"WeCom: render+send {N} notifications, batched vs one per request",
            "value": N / t_batch,
            "unit": "notifications/s",
            "baseline": N / t_each,
            "ratio": t_each / t_batch,
            "goal": None,
            "ok": None,
        },
        {
            "name": "WeCom: time per notification, batched vs one per request",
            "value": t_batch / N * 1000,
            "unit": "ms",
            "baseline": t_each / N * 1000,
            "ratio": t_batch / t_each,
            "goal": None,
            "ok": None,
        },
        {
            "name": f"WeCom: messages for {N} notifications (4096-byte markdown)",
            "value": float(messages_batch),
            "unit": "messages",
            "baseline": float(messages_each),
            "ratio": messages_batch / messages_each,
            "goal": "<= 0.2x",
            "ok": messages_batch / messages_each <= 0.2,
        },
        {
            "name": f"WeCom: minutes a real robot needs at {ROBOT_PER_MINUTE} messages/min",
            "value": messages_batch / ROBOT_PER_MINUTE,
            "unit": "min",
            "baseline": messages_each / ROBOT_PER_MINUTE,
            "ratio": messages_batch / messages_each,
            "goal": None,
            "ok": None,
        },
        {
            "name": f"signed webhook: {N} POSTs (one per notification by design)",
            "value": N / t_hook,
            "unit": "notifications/s",
            "baseline": None,
            "ratio": None,
            "goal": None,
            "ok": None,
        },
    ]
    for kind in ("wecom", "dingtalk", "feishu", "slack", "webhook"):
        channel = Channel(type=kind, url="https://h.example/hook?key=k", secret=None if kind == "wecom" else "s")
        t_render, _ = _best(lambda ch=channel: render("x", ch, items, language="zh", tz=TZ, now=AT))
        rows.append(
            {
                "name": f"render only, {kind}",
                "value": N / t_render,
                "unit": "notifications/s",
                "baseline": None,
                "ratio": None,
                "goal": None,
                "ok": None,
            }
        )
    for row in rows:
        row["bench"] = "notify"
    return rows


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    from bench.__main__ import table

    print(table(run()))
