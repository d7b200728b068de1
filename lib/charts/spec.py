"""The chart spec: typed, drawing-free values a chart is made of (points, lines, bars, labels).

``lib.charts.data`` builds it from a budget's series; ``svg`` and ``png`` draw it. Everything a reader
sees as text is already in the spec, in the spec's language, so golden tests can check it without pixels.

The types are named tuples, not dataclasses: as immutable and typed, and a process that draws its first
chart builds them in a fraction of the time (a frozen dataclass costs ~1 ms to define; see docs/charts.md).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, NamedTuple

RuleRole = Literal["limit", "threshold", "below"]
MarkerRole = Literal["runway", "runway-alert", "now"]


class XY(NamedTuple):
    """One point of a line: an aware instant and a value in the metric's base unit."""

    at: datetime
    value: Decimal


class Rule(NamedTuple):
    """A horizontal line across the chart: the limit, a threshold, or the low-balance line."""

    value: Decimal
    label: str
    role: RuleRole


class Projection(NamedTuple):
    """The forecast: a straight line from the latest value to ``end``, and the range it may land in."""

    start: XY
    end: XY
    label: str
    low: Decimal | None = None  # the value at ``end.at`` at the slowest recent rate
    high: Decimal | None = None  # ... and at the fastest
    range_label: str = ""  # "range 3.4 TB – 8.4 TB", when low and high differ


class Bar(NamedTuple):
    """One step's amount (a local day of a month, an hour of a day): [start, end)."""

    start: datetime
    end: datetime
    value: Decimal
    text: str  # the value in human units


class Marker(NamedTuple):
    """A vertical line at an instant; ``early``/``late`` bound the span it may move within."""

    at: datetime
    label: str
    role: MarkerRole
    early: datetime | None = None
    late: datetime | None = None


class TimeTick(NamedTuple):
    at: datetime
    label: str


class ValueTick(NamedTuple):
    value: Decimal
    label: str


class Share(NamedTuple):
    """One of the top groups: its name, its amount in the period and its share of all groups."""

    name: str
    value: Decimal
    percent: float
    text: str


class ChartSpec(NamedTuple):
    """One budget's chart. ``line`` is the cumulative value (usage, cost) or the balance."""

    kind: Literal["usage", "balance"]
    language: str
    title: str
    subtitle: str
    unit: str
    start: datetime  # the x axis runs from start to end
    end: datetime
    top: Decimal  # the y axis runs from 0 to top
    now: datetime
    line: tuple[XY, ...]
    line_label: str
    rules: tuple[Rule, ...] = ()
    projection: Projection | None = None
    markers: tuple[Marker, ...] = ()
    bars: tuple[Bar, ...] = ()
    bars_label: str = ""
    bars_top: Decimal = Decimal(0)
    groups: tuple[Share, ...] = ()
    groups_label: str = ""
    x_ticks: tuple[TimeTick, ...] = ()
    y_ticks: tuple[ValueTick, ...] = ()
    notes: tuple[str, ...] = ()  # why something is missing ("forecast after 3 complete days")

    def labels(self) -> list[str]:
        """Every text the chart shows, in drawing order (for tests and for alt text)."""
        out = [self.title, self.subtitle, self.line_label]
        out += [r.label for r in self.rules]
        if self.projection is not None:
            out += [text for text in (self.projection.label, self.projection.range_label) if text]
        out += [m.label for m in self.markers]
        out += [t.label for t in self.y_ticks] + [t.label for t in self.x_ticks]
        if self.bars:
            out.append(self.bars_label)
        if self.groups:
            out.append(self.groups_label)
            out += [text for g in self.groups for text in (g.name, g.text)]
        return out + list(self.notes)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (instants in ISO 8601, amounts as strings) for golden tests and the API."""

        def xy(p: XY) -> list[str]:
            return [p.at.isoformat(), str(p.value)]

        projection = self.projection
        return {
            "kind": self.kind,
            "title": self.title,
            "subtitle": self.subtitle,
            "range": [self.start.isoformat(), self.end.isoformat(), str(self.top)],
            "line": [xy(p) for p in self.line],
            "line_label": self.line_label,
            "rules": [[r.role, str(r.value), r.label] for r in self.rules],
            "projection": None
            if projection is None
            else {
                "from": xy(projection.start),
                "to": xy(projection.end),
                "low": None if projection.low is None else str(projection.low),
                "high": None if projection.high is None else str(projection.high),
                "label": projection.label,
                "range_label": projection.range_label,
            },
            "markers": [
                [m.role, m.at.isoformat(), m.label, m.early and m.early.isoformat(), m.late and m.late.isoformat()]
                for m in self.markers
            ],
            "bars": [[b.start.isoformat(), str(b.value), b.text] for b in self.bars],
            "bars_label": self.bars_label,
            "groups": [[g.name, str(g.value), g.percent, g.text] for g in self.groups],
            "x_ticks": [t.label for t in self.x_ticks],
            "y_ticks": [[str(t.value), t.label] for t in self.y_ticks],
            "notes": list(self.notes),
        }
