"""The chart as an SVG document: the laid-out scene written as small, escaped SVG elements, no library.

Self-contained (no fonts, scripts or links fetched when a page shows it); a ``viewBox`` with no fixed
width lets it scale to a phone or a desktop; ``<title>`` and ``<desc>`` carry the labels for screen readers.
"""

from __future__ import annotations

from lib.charts.scene import WIDTH, Area, Box, Label, Line, Scene, lay_out
from lib.charts.spec import ChartSpec

FONT = "system-ui, -apple-system, 'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif"


def render_svg(spec: ChartSpec, width: int = WIDTH) -> str:
    """The chart of ``spec`` as a standalone SVG document (UTF-8 text), laid out ``width`` pixels wide
    (``lib.charts.scene.PHONE_WIDTH`` keeps the text large on a phone; the picture scales either way)."""
    return scene_svg(lay_out(spec, width), " · ".join(spec.labels()[2:]))


_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})


def escape(text: str) -> str:
    """``text`` safe inside an element or a double-quoted attribute (``xml.sax.saxutils`` imports urllib)."""
    return text.translate(_ESCAPES)


def _num(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _points(points: tuple[tuple[float, float], ...]) -> str:
    return " ".join(f"{_num(x)},{_num(y)}" for x, y in points)


def scene_svg(scene: Scene, description: str = "") -> str:
    lang = "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in scene.title + description) else "en"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {scene.width} {scene.height}" '
        f'role="img" lang="{lang}" font-family="{escape(FONT)}" style="max-width:100%;height:auto">',
        f"<title>{escape(scene.title)}</title>",
        f"<desc>{escape(description)}</desc>",
        f'<rect width="{scene.width}" height="{scene.height}" fill="#ffffff"/>',
    ]
    for shape in scene.shapes:
        if isinstance(shape, Line):
            stroke = shape.stroke
            dash = f' stroke-dasharray="{" ".join(_num(d) for d in stroke.dash)}"' if stroke.dash else ""
            out.append(
                f'<polyline points="{_points(shape.points)}" fill="none" stroke="{stroke.colour}" '
                f'stroke-width="{_num(stroke.width)}"{dash} stroke-linejoin="round"/>'
            )
        elif isinstance(shape, Area):
            out.append(
                f'<polygon points="{_points(shape.points)}" fill="{shape.fill}" fill-opacity="{shape.opacity}"/>'
            )
        elif isinstance(shape, Box):
            opacity = f' fill-opacity="{shape.opacity}"' if shape.opacity < 1 else ""
            out.append(
                f'<rect x="{_num(shape.x)}" y="{_num(shape.y)}" width="{_num(shape.width)}" '
                f'height="{_num(shape.height)}" fill="{shape.fill}"{opacity}/>'
            )
        elif isinstance(shape, Label):
            weight = ' font-weight="bold"' if shape.bold else ""
            out.append(
                f'<text x="{_num(shape.x)}" y="{_num(shape.y)}" font-size="{shape.size}" fill="{shape.colour}" '
                f'text-anchor="{shape.anchor}"{weight}>{escape(shape.text)}</text>'
            )
    out.append("</svg>")
    return "\n".join(out) + "\n"
