"""The chart as a PNG image, for channels that show an image (WeCom, DingTalk ...): pure Python, no library.

The same layout as the SVG, drawn at ``SCALE`` times its size. The bitmap font has Latin letters, digits
and amounts' marks but no Chinese, so a PNG is drawn from a spec built in English (``language="en"``);
a spec with text the font cannot show is refused rather than drawn with holes, unless the caller says
the only such text is user data (``unknown="box"``: a project, tag or member name in Chinese), which is
then drawn as hollow boxes, as fonts show a character they lack; the message beside the image names it.
"""

from __future__ import annotations

from typing import Literal

from lib.charts.glyphs import covers
from lib.charts.raster import Canvas, colour, text_width
from lib.charts.scene import WIDTH, Area, Box, Label, Line, lay_out
from lib.charts.spec import ChartSpec

SCALE = 2
MAX_BYTES = 2 * 1024 * 1024  # WeCom's limit for an image message, before base64


def render_png(
    spec: ChartSpec, width: int = WIDTH, *, unknown: Literal["refuse", "box"] = "refuse", compact: bool = False
) -> bytes:
    """The chart of ``spec`` as PNG bytes (8-bit palette), laid out ``width`` wide and drawn ``SCALE`` x that.

    ``unknown``: what to do with a character the font lacks: refuse the spec (its words are not English),
    or draw a hollow box (the spec is English and only names from the user's data hold such characters).
    ``compact``: the title, the plot, its legend and notes only (``lay_out``), for a chat message."""
    missing = [text for text in spec.labels() if not covers(text)]
    if missing and unknown == "refuse":
        raise ValueError(f"the PNG font cannot show {missing[0]!r}; build the chart spec with language='en'")
    scene = lay_out(spec, width, compact=compact)
    canvas = Canvas(scene.width * SCALE, scene.height * SCALE)
    for shape in scene.shapes:
        if isinstance(shape, Box):
            s = SCALE
            canvas.box(
                shape.x * s,
                shape.y * s,
                shape.width * s,
                shape.height * s,
                rgb=colour(shape.fill),
                opacity=shape.opacity,
            )
        elif isinstance(shape, Area):
            points = tuple((x * SCALE, y * SCALE) for x, y in shape.points)
            canvas.polygon(points, colour(shape.fill), shape.opacity)
    for shape in scene.shapes:  # lines and text over the areas, in the scene's order
        if isinstance(shape, Line):
            points = tuple((x * SCALE, y * SCALE) for x, y in shape.points)
            stroke = shape.stroke
            dash = tuple(d * SCALE for d in stroke.dash)
            if not dash:  # a dash pattern runs along every point's length; thinning would move its gaps
                points = thinned(points, stroke.width * SCALE / 2)
            canvas.polyline(points, colour(stroke.colour), width=stroke.width * SCALE, dash=dash)
        elif isinstance(shape, Label):
            scale = 3 if shape.size > 14 else 2
            width = text_width(shape.text, scale)
            x = shape.x * SCALE
            if shape.anchor == "end":
                x -= width
            elif shape.anchor == "middle":
                x -= width / 2
            canvas.text(x, shape.y * SCALE, shape.text, rgb=colour(shape.colour), scale=scale, bold=shape.bold)
    data = canvas.png()
    if len(data) > MAX_BYTES:  # a layout bug, not an input a user can fix: say so loudly
        raise ValueError(f"chart PNG is {len(data)} bytes, over the {MAX_BYTES}-byte image limit")
    return data


def thinned(points: tuple[tuple[float, float], ...], step: float) -> tuple[tuple[float, float], ...]:
    """``points`` without those closer than ``step`` pixels to the last one kept (the first and the last
    always kept). A month of hourly points puts a point every pixel or so; a pen ``2 * step`` wide drawn
    through every other one covers the same pixels to within one at its edge, in half the strokes."""
    if len(points) <= 2:
        return points
    kept = [points[0]]
    x0, y0 = points[0]
    limit = step * step
    for x, y in points[1:-1]:
        if (x - x0) ** 2 + (y - y0) ** 2 >= limit:
            kept.append((x, y))
            x0, y0 = x, y
    kept.append(points[-1])
    return tuple(kept)
