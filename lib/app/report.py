"""Plain-text status table of a run, for the terminal and the demo."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from lib.app.result import RunResult
from lib.model import group_dict


def _quantity(value: Decimal | None, unit: str) -> str:
    if value is None:
        return "-"
    from lib.messages import format_quantity

    return format_quantity(value, unit, "en")


def status_table(result: RunResult) -> str:
    rows = [("budget", "group", "value", "limit", "percent", "forecast", "status")]
    for e in result.evaluations:
        group = ",".join(f"{k}={v}" for k, v in group_dict(e.group).items()) or "-"
        percent = "-" if e.percent is None else f"{e.percent:.1f}%"
        rows.append(
            (
                e.budget,
                group,
                _quantity(e.value, e.unit),
                _quantity(e.limit, e.unit),
                percent,
                _quantity(e.forecast, e.unit),
                e.status + (" (silenced)" if e.silenced else ""),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    sent = sum(1 for d in result.notifications if d["outcome"] == "sent")
    lines.append(
        f"\nrun {result.run_id} at {result.at}: {sent} sent, "
        f"{len(result.notifications) - sent} other deliveries, {len(result.errors)} errors"
    )
    lines.extend(f"  error: {err.budget or err.source}: {err.message}" for err in result.errors)
    lines.extend(_action_line(a) for a in result.actions)  # issue 16: the budget actions of this run
    return "\n".join(lines)


def _action_line(row: Mapping[str, Any]) -> str:
    targets = ",".join(str(t) for t in row.get("targets") or ())
    by = f" (by {row['by']})" if row.get("by") else ""
    return f"  action {row.get('id')} {row.get('type')} {targets}: {row.get('state')}{by}"
