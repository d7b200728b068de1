"""Plain-text status table of a result document, for the terminal and the demo."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def _quantity(value: Any, unit: str) -> str:
    if value is None:
        return "-"
    from lib.messages import format_quantity

    return format_quantity(Decimal(str(value)), unit, "en")


def status_table(result: dict[str, Any]) -> str:
    rows = [("budget", "group", "value", "limit", "percent", "forecast", "status")]
    for e in result["evaluations"]:
        group = ",".join(f"{k}={v}" for k, v in e["group"].items()) or "-"
        percent = "-" if e.get("percent") is None else f"{e['percent']:.1f}%"
        status = e["status"] + (" (silenced)" if e.get("silenced") else "")
        rows.append(
            (
                e["budget"],
                group,
                _quantity(e.get("value"), e["unit"]),
                _quantity(e.get("limit"), e["unit"]),
                percent,
                _quantity(e.get("forecast"), e["unit"]),
                status,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    sent = sum(1 for d in result["notifications"] if d["outcome"] == "sent")
    lines.append(
        f"\nrun {result['run_id']} at {result['at']}: {sent} sent, "
        f"{len(result['notifications']) - sent} other deliveries, {len(result['errors'])} errors"
    )
    for err in result["errors"]:
        lines.append(f"  error: {err.get('budget', err['source'])}: {err['message']}")
    return "\n".join(lines)
