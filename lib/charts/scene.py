"""The chart laid out: a ``ChartSpec`` → shapes in pixels (rectangles, lines, areas, texts).

One layout for both outputs, so the SVG and the PNG show the same thing: ``svg`` writes these shapes as
elements and ``png`` rasterises them. Colours are the Okabe–Ito palette, safe for the common kinds of
colour blindness, and every series differs by line style too (solid, dashed, dotted), never by colour
alone. The width is fixed (a ``viewBox`` scales it to a phone or a desktop); the height grows with the
legend and the top groups. The shapes are named tuples (cheaper to define than dataclasses: see ``spec``).
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from decimal import Decimal
from typing import Literal, NamedTuple

from lib.charts.spec import ChartSpec

WIDTH = 640  # desktop pages and channel images
PHONE_WIDTH = 400  # the same chart for a phone: text keeps its size, the plot gets narrower
MARGIN = 16
LEFT, RIGHT = 88, 16
PLOT_TOP, PLOT_HEIGHT = 64, 220
BARS_HEIGHT = 70
ROW = 20
TEXT = 12
TITLE = 17
NAME_CHARS = 40  # a group's name, cut to fit on its line
TITLE_LINE = 22  # pixels between a two-line title's lines
DOT = 6  # a line of one point (the first reading) is a dot this wide
# Widths of text, in ems, for fitting it to the chart: the PNG's bitmap font advances 0.53-0.55 em a
# character, a sans-serif averages about that for Latin text; CJK characters are an em wide in both.
NARROW_EM, WIDE_EM = 0.6, 1.0

# Okabe–Ito: https://jfly.uni-koeln.de/color/ (the reference palette for colour-blind-safe charts).
INK = "#000000"
GRID = "#d9d9d9"
MUTED = "#595959"
BLUE = "#0072B2"
ORANGE = "#E69F00"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
SKY = "#56B4E9"
GREEN = "#009E73"

Anchor = Literal["start", "middle", "end"]


class Stroke(NamedTuple):
    colour: str
    width: float = 2.0
    dash: tuple[float, ...] = ()  # on, off lengths in pixels; empty: solid


class Line(NamedTuple):
    points: tuple[tuple[float, float], ...]
    stroke: Stroke


class Area(NamedTuple):
    points: tuple[tuple[float, float], ...]  # a closed polygon
    fill: str
    opacity: float


class Box(NamedTuple):
    x: float
    y: float
    width: float
    height: float
    fill: str
    opacity: float = 1.0


class Label(NamedTuple):
    x: float
    y: float  # the baseline
    text: str
    size: int = TEXT
    colour: str = INK
    anchor: Anchor = "start"
    bold: bool = False


Shape = Line | Area | Box | Label


class Scene:
    """The laid-out chart: its size in pixels, its title and its shapes in drawing order."""

    def __init__(self, width: int, height: int, title: str, shapes: list[Shape] | None = None) -> None:
        self.width, self.height, self.title = width, height, title
        self.shapes: list[Shape] = [] if shapes is None else shapes


STYLES = {
    "line": Stroke(BLUE, 2.5),
    "forecast": Stroke(ORANGE, 2.0, (6, 4)),
    "limit": Stroke(VERMILLION, 2.0),
    "threshold": Stroke(PURPLE, 1.5, (2, 3)),
    "below": Stroke(VERMILLION, 2.0, (8, 3)),
    "runway": Stroke(VERMILLION, 1.5, (4, 2)),
    "runway-alert": Stroke(PURPLE, 1.5, (2, 3)),
    "now": Stroke(MUTED, 1.0, (1, 3)),
}


class _Axes:
    """Maps instants and amounts to pixels inside one plot box."""

    def __init__(self, spec: ChartSpec, width: int, top: float, height: float, ceiling: Decimal) -> None:
        self.t0 = spec.start.timestamp()
        self.span = max(spec.end.timestamp() - self.t0, 1.0)
        self.top, self.height = top, height
        self.ceiling = float(ceiling) or 1.0
        self.right = width - RIGHT

    def x(self, at: datetime) -> float:
        share = (at.timestamp() - self.t0) / self.span
        return round(LEFT + min(max(share, 0.0), 1.0) * (self.right - LEFT), 1)

    def y(self, value: Decimal) -> float:
        share = min(max(float(value) / self.ceiling, 0.0), 1.0)
        return round(self.top + self.height * (1 - share), 1)


def lay_out(spec: ChartSpec, width: int = WIDTH, *, compact: bool = False) -> Scene:
    """Title, the main plot with its legend, the per-step bars, the top groups and the notes, top down.

    ``width`` in pixels (``PHONE_WIDTH`` for a phone); texts keep their size at any width, and the
    legend holds one entry per row, so nothing long has to share a line with a plot. ``compact``: the
    title, the plot, its legend and the notes only (an image in a chat message, see ``png``)."""
    scene = Scene(width, 0, spec.title)
    add = scene.shapes.append
    titles = title_lines(spec.title, width - 2 * MARGIN)
    for i, line in enumerate(titles):
        add(Label(MARGIN, 26 + i * TITLE_LINE, line, TITLE, bold=True))
    shift = (len(titles) - 1) * TITLE_LINE  # a second title line moves everything under it down
    add(Label(MARGIN, 46 + shift, spec.subtitle, TEXT, MUTED))
    legend = _plot(spec, scene, PLOT_TOP + shift)
    y: float = PLOT_TOP + shift + PLOT_HEIGHT + 28
    for text, stroke in legend:
        if stroke is None:  # the forecast's range: a swatch of its band
            add(Box(MARGIN, y + 3, 28, 10, ORANGE, 0.18))
        else:
            add(Line(((MARGIN, y + 8), (MARGIN + 28, y + 8)), stroke))
        add(Label(MARGIN + 36, y + 12, text, TEXT))
        y += ROW
    if spec.bars and not compact:
        y = _bars(spec, scene, y + 10)
    if spec.groups and not compact:
        y = _groups(spec, scene, y + 10)
    for note in spec.notes:
        add(Label(MARGIN, y + 14, note, TEXT, MUTED))
        y += ROW
    scene.height = int(y + 12)
    return scene


Legend = list[tuple[str, Stroke | None]]  # None: the forecast range's band


def title_lines(title: str, room: float) -> list[str]:
    """``title`` on one line when it fits ``room`` pixels, else on two split at its first `` · `` (the
    budget, then the group it shows), each line cut with "…" where it still does not fit."""
    if text_em(title) * TITLE <= room:
        return [title]
    head, separator, tail = title.partition(" · ")
    return [_cut(line, room / TITLE) for line in ([head, tail] if separator else [title])]


def text_em(text: str) -> float:
    """``text``'s width in ems, a little generous, so that what is fitted by it fits in either output."""
    return sum(WIDE_EM if unicodedata.east_asian_width(ch) in "WF" else NARROW_EM for ch in text)


def _cut(text: str, ems: float) -> str:
    if text_em(text) <= ems:
        return text
    while text and text_em(text) + NARROW_EM > ems:
        text = text[:-1]
    return text.rstrip() + "…"


def _plot(spec: ChartSpec, scene: Scene, top: float) -> Legend:
    """The main plot: grid, ticks, range band, forecast, rules, markers, then the line on top; its legend."""
    add = scene.shapes.append
    axes = _Axes(spec, scene.width, top, PLOT_HEIGHT, spec.top)
    bottom = top + PLOT_HEIGHT
    for tick in spec.y_ticks:
        y = axes.y(tick.value)
        add(Line(((LEFT, y), (axes.right, y)), Stroke(GRID, 1.0)))
        add(Label(LEFT - 6, y + 4, tick.label, TEXT - 1, MUTED, "end"))
    for time_tick in spec.x_ticks:
        x = axes.x(time_tick.at)
        add(Line(((x, bottom), (x, bottom + 4)), Stroke(MUTED, 1.0)))
        add(Label(x, bottom + 17, time_tick.label, TEXT - 1, MUTED, "middle"))
    legend: Legend = [(spec.line_label, STYLES["line"])]
    legend += _projection(spec, scene, axes)
    for rule in spec.rules:
        y = axes.y(rule.value)
        add(Line(((LEFT, y), (axes.right, y)), STYLES[rule.role]))
        legend.append((rule.label, STYLES[rule.role]))
    for marker in spec.markers:
        if marker.early is not None and marker.late is not None and marker.early < min(marker.late, spec.end):
            x0, x1 = axes.x(marker.early), axes.x(marker.late)
            add(Box(x0, top, max(x1 - x0, 1.0), PLOT_HEIGHT, VERMILLION, 0.12))
        if spec.start <= marker.at <= spec.end:  # a date past the axis is named in the legend only
            x = axes.x(marker.at)
            add(Line(((x, top), (x, bottom)), STYLES[marker.role]))
        legend.append((marker.label, STYLES[marker.role]))
    if len(spec.line) == 1:  # one reading so far: a dot, or the legend would name a line no one can see
        x, y = axes.x(spec.line[0].at), axes.y(spec.line[0].value)
        add(Box(x - DOT / 2, y - DOT / 2, DOT, DOT, STYLES["line"].colour))
    elif spec.line:
        add(Line(tuple((axes.x(p.at), axes.y(p.value)) for p in spec.line), STYLES["line"]))
    add(Line(((LEFT, top), (LEFT, bottom), (axes.right, bottom)), Stroke(INK, 1.0)))
    return legend


def _projection(spec: ChartSpec, scene: Scene, axes: _Axes) -> Legend:
    """The forecast line, over a band from the slowest to the fastest recent rate when they differ."""
    projection = spec.projection
    if projection is None:
        return []
    legend: Legend = [(projection.label, STYLES["forecast"])]
    if projection.low is not None and projection.high is not None and projection.low != projection.high:
        x0, x1 = axes.x(projection.start.at), axes.x(projection.end.at)
        y0 = axes.y(projection.start.value)
        band = ((x0, y0), (x1, axes.y(projection.high)), (x1, axes.y(projection.low)))
        scene.shapes.append(Area(band, ORANGE, 0.18))
        legend.append((projection.range_label, None))
    ends = (projection.start, projection.end)
    scene.shapes.append(Line(tuple((axes.x(p.at), axes.y(p.value)) for p in ends), STYLES["forecast"]))
    return legend


def _bars(spec: ChartSpec, scene: Scene, y: float) -> float:
    add = scene.shapes.append
    add(Label(MARGIN, y + 12, spec.bars_label, TEXT, bold=True))
    top = y + 20
    axes = _Axes(spec, scene.width, top, BARS_HEIGHT, spec.bars_top)
    for bar in spec.bars:
        x0, x1 = axes.x(bar.start), axes.x(bar.end)
        y0 = axes.y(bar.value)
        add(Box(x0 + 0.5, y0, max(x1 - x0 - 1.0, 1.0), top + BARS_HEIGHT - y0, SKY))
    highest = max(spec.bars, key=lambda b: b.value)
    add(Label(LEFT - 6, axes.y(highest.value) + 4, highest.text, TEXT - 1, MUTED, "end"))
    add(Line(((LEFT, top + BARS_HEIGHT), (axes.right, top + BARS_HEIGHT)), Stroke(INK, 1.0)))
    return top + BARS_HEIGHT + 8


def _groups(spec: ChartSpec, scene: Scene, y: float) -> float:
    add = scene.shapes.append
    add(Label(MARGIN, y + 12, spec.groups_label, TEXT, bold=True))
    y += ROW + 4
    widest = max(g.percent for g in spec.groups) or 1.0
    room = scene.width - 2 * MARGIN
    for share in spec.groups:  # the name and the amount on one line, the bar under them
        amount = f"{share.text} ({share.percent:g}%)"
        name = share.name if len(share.name) <= NAME_CHARS else share.name[: NAME_CHARS - 1] + "…"
        name = _cut(name, room / TEXT - text_em(amount) - 1)  # an em of space before the amount
        add(Label(MARGIN, y + 12, name, TEXT))
        add(Label(scene.width - MARGIN, y + 12, amount, TEXT, anchor="end"))
        add(Box(MARGIN, y + 17, max(room * share.percent / widest, 1.0), 8, GREEN))
        y += ROW + 12
    return y
