"""The drawn charts: the SVG parses and shows every label; the PNG is a valid image within WeCom's limits."""

from __future__ import annotations

import base64
import hashlib
import itertools
import math
import struct
import subprocess
import sys
import zlib
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

import pytest

from lib.charts.balance import balance_chart
from lib.charts.data import usage_chart
from lib.charts.png import MAX_BYTES, SCALE, render_png, thinned
from lib.charts.raster import Canvas, colour
from lib.charts.scene import BLUE, PHONE_WIDTH, STYLES, TITLE, WIDTH, Area, Box, Label, Line, lay_out, text_em
from lib.charts.spec import ChartSpec
from lib.charts.svg import render_svg
from lib.model import Period, Point

ROOT = Path(__file__).resolve().parents[2]
TZ = timezone(timedelta(hours=8))
SVG = "{http://www.w3.org/2000/svg}"
NOVEMBER = Period(datetime(2026, 11, 1, tzinfo=TZ), datetime(2026, 12, 1, tzinfo=TZ))


def usage(language: str, groups: int = 3, *, name: str = "edgeone-traffic", host: str = "example.com") -> ChartSpec:
    start = NOVEMBER.start.astimezone(timezone.utc)
    hours = [Point(start + timedelta(hours=h), Decimal(4 + h % 5) * 10**9) for h in range(20 * 24)]
    series = {f"host=h{g}.{host}": hours[: len(hours) - g] for g in range(groups)}
    return usage_chart(
        name,
        period_kind="month",
        period=NOVEMBER,
        unit="B",
        series=series,
        now=datetime(2026, 11, 21, 9, tzinfo=TZ),
        tz=TZ,
        language=language,
        limit=Decimal(10**14),
        thresholds=(Decimal(80), Decimal(100)),
    )


def balance(language: str) -> ChartSpec:
    readings = [Point(datetime(2026, 11, 1 + d, 9, tzinfo=TZ), Decimal(9000 - 250 * d)) for d in range(21)]
    now = datetime(2026, 11, 21, 10, tzinfo=TZ)
    return balance_chart(
        "low-balance", unit="CNY", readings=readings, now=now, tz=TZ, language=language, below=Decimal(2000)
    )


def texts(svg: str) -> list[str]:
    root = ElementTree.fromstring(svg)  # noqa: S314 - our own output
    assert root.tag == f"{SVG}svg"
    return [el.text or "" for el in root.iter(f"{SVG}text")]


@pytest.mark.parametrize("make", [usage, balance])
@pytest.mark.parametrize("language", ["zh", "en"])
def test_svg_is_well_formed_and_shows_every_label(make: object, language: str) -> None:
    assert callable(make)
    spec: ChartSpec = make(language)
    svg = render_svg(spec)
    shown = texts(svg)
    for label in spec.labels():
        assert any(label in text for text in shown), label
    root = ElementTree.fromstring(svg)  # noqa: S314 - our own output
    assert root.get("viewBox", "").startswith("0 0 640 ")  # scales to the screen: no fixed width
    assert root.get("width") is None
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing fetched when shown


def test_svg_escapes_text_from_group_names() -> None:
    spec = usage_chart(
        "t",
        period_kind="month",
        period=NOVEMBER,
        unit="B",
        series={"host=<a&b>": [Point(NOVEMBER.start, Decimal(5))], "host=c": [Point(NOVEMBER.start, Decimal(1))]},
        now=datetime(2026, 11, 2, tzinfo=TZ),
        tz=TZ,
        language="en",
    )
    shown = texts(render_svg(spec))
    assert "t · <a&b>" in shown
    assert "<a&b>" in shown


def chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    out, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length : at + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        out.append((kind, body))
        at += 12 + length
    return out


@pytest.mark.parametrize("make", [usage, balance])
def test_png_is_valid_and_within_the_wecom_image_limit(make: object) -> None:
    assert callable(make)
    spec: ChartSpec = make("en")
    data = render_png(spec)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    found = chunks(data)
    assert [kind for kind, _ in found] == [b"IHDR", b"PLTE", b"IDAT", b"IEND"]
    width, height, depth, colour_type = struct.unpack(">IIBB", found[0][1][:10])
    scene = lay_out(spec)
    assert (width, height, depth, colour_type) == (scene.width * SCALE, scene.height * SCALE, 8, 3)  # palette
    palette = found[1][1]
    assert len(palette) % 3 == 0 and palette[:3] == b"\xff\xff\xff"
    colours = [palette[i : i + 3] for i in range(0, len(palette), 3)]
    raw = zlib.decompress(found[2][1])
    assert len(raw) == height * (1 + width)
    assert {raw[y * (1 + width)] for y in range(height)} == {0}  # every row: filter 0 (none)
    assert bytes((colours.index(bytes(colour(BLUE))),)) in raw  # the value line is drawn
    assert len(data) <= MAX_BYTES
    # What a WeCom image message carries: base64 of the bytes and their md5.
    assert base64.b64decode(base64.b64encode(data)) == data
    assert len(hashlib.md5(data).hexdigest()) == 32


def test_png_refuses_a_spec_its_font_cannot_show() -> None:
    with pytest.raises(ValueError, match="language='en'"):
        render_png(usage("zh"))


def test_png_draws_names_from_the_users_data_its_font_lacks_as_boxes_when_told_so() -> None:
    spec = usage("en", groups=2, host="默认项目")  # an English chart of groups named in Chinese
    with pytest.raises(ValueError, match="cannot show"):
        render_png(spec)
    data = render_png(spec, PHONE_WIDTH, unknown="box")
    assert data.startswith(b"\x89PNG") and len(data) < MAX_BYTES


def test_a_dense_line_is_thinned_to_points_a_half_pen_apart_keeping_both_ends() -> None:
    dense = tuple((x * 0.8, 100 - x * 0.3) for x in range(500))
    kept = thinned(dense, 2.5)
    assert kept[0] == dense[0] and kept[-1] == dense[-1]
    assert 150 < len(kept) < 200  # every third or fourth point of a 0.85-pixel step
    gaps = [math.dist(a, b) for a, b in itertools.pairwise(kept[:-1])]  # the last point is kept however close
    assert min(gaps) >= 2.5
    spike = ((0.0, 0.0), (1.0, 0.0), (2.0, 60.0), (3.0, 0.0), (4.0, 0.0))
    assert (2.0, 60.0) in thinned(spike, 2.5)  # a spike moves far: its top is kept
    assert thinned(dense[:2], 2.5) == dense[:2]


@pytest.mark.parametrize("width", [PHONE_WIDTH, WIDTH])
def test_the_compact_layout_is_the_plot_and_its_legend_without_bars_or_top_groups(width: int) -> None:
    spec = usage("en", groups=4)
    assert spec.bars and spec.groups
    full, compact = lay_out(spec, width), lay_out(spec, width, compact=True)
    texts_of = [s.text for s in compact.shapes if isinstance(s, Label)]
    assert spec.bars_label in [s.text for s in full.shapes if isinstance(s, Label)]
    assert spec.bars_label not in texts_of and spec.groups_label not in texts_of
    assert spec.line_label in texts_of and spec.title in " ".join(texts_of)
    assert not [s for s in compact.shapes if isinstance(s, Box) and s.fill in ("#56B4E9", "#009E73")]  # bars
    plot = [s for s in full.shapes if not (isinstance(s, Label) and s.text in (spec.bars_label, spec.groups_label))]
    assert compact.shapes == plot[: len(compact.shapes)]  # the same plot and legend, drawn the same
    assert compact.height < full.height * 0.75
    png = render_png(spec, PHONE_WIDTH, compact=True)
    (png_width, png_height) = struct.unpack(">II", png[16:24])
    assert (png_width, png_height) == (PHONE_WIDTH * SCALE, lay_out(spec, PHONE_WIDTH, compact=True).height * SCALE)


def test_a_line_of_one_reading_is_drawn_as_a_dot() -> None:
    """The first run records one balance reading: the legend names it, so the plot must show it."""
    now = datetime(2026, 11, 21, 10, tzinfo=TZ)
    one = [Point(now, Decimal(740))]
    spec = balance_chart("low-balance", unit="CNY", readings=one, now=now, tz=TZ, language="en", below=Decimal(1000))
    assert len(spec.line) == 1
    scene = lay_out(spec)
    dots = [s for s in scene.shapes if isinstance(s, Box) and s.fill == STYLES["line"].colour]
    assert len(dots) == 1 and dots[0].width == dots[0].height > 0
    assert not [s for s in scene.shapes if isinstance(s, Line) and s.stroke == STYLES["line"] and len(s.points) < 2]
    canvas_png = render_png(spec, PHONE_WIDTH)
    assert canvas_png.startswith(b"\x89PNG")


def test_canvas_draws_where_asked() -> None:
    canvas = Canvas(10, 6)
    canvas.box(2, 1, 3, 2, rgb=(0, 0, 0))
    canvas.polyline(((0, 5), (9, 5)), (255, 0, 0), width=1.0, dash=(3, 3))

    def row(y: int) -> list[tuple[int, ...]]:
        return [canvas.rgb_at(x, y) for x in range(10)]

    assert row(1)[1:6] == [(255, 255, 255), (0, 0, 0), (0, 0, 0), (0, 0, 0), (255, 255, 255)]
    red, white = (255, 0, 0), (255, 255, 255)
    assert row(5) == [red, red, red, white, white, white, red, red, red, white]
    assert row(4) == [white] * 10  # a one-pixel line stays one pixel thick


@pytest.mark.parametrize("bold", [False, True])
def test_text_inks_its_glyph_cells_over_what_is_drawn_and_clips_at_the_edges(bold: bool) -> None:
    """A row of text is written as one masked write: the glyph's cells take the ink, every other pixel
    under the text keeps what was drawn there; text past an edge shows its visible part only."""
    from lib.charts.glyphs import ADVANCE, HEIGHT, glyph

    black, red, white = (0, 0, 0), (200, 0, 0), (255, 255, 255)
    scale, width = 2, 40
    canvas = Canvas(width, 30)
    canvas.box(0, 0, width, 30, rgb=red)  # something under the text that must show between its strokes
    canvas.text(3, 2 + HEIGHT * scale, "A1", rgb=black, scale=scale, bold=bold)
    inked = set()
    for i, char in enumerate("A1"):
        for column, row in glyph(char):
            for dy in range(scale):
                for dx in range(scale + (1 if bold else 0)):
                    inked.add((3 + i * ADVANCE * scale + column * scale + dx, 2 + row * scale + dy))
    drawn = {(x, y) for y in range(30) for x in range(width) if canvas.rgb_at(x, y) == black}
    assert drawn == inked
    assert all(canvas.rgb_at(x, y) == red for y in range(30) for x in range(width) if (x, y) not in inked)

    # The same text half past the left and top edges: exactly the visible part of the same cells.
    clipped = Canvas(width, 30)
    clipped.text(-9, -4 + HEIGHT * scale, "A1", rgb=black, scale=scale, bold=bold)
    shown = {(x, y) for y in range(30) for x in range(width) if clipped.rgb_at(x, y) == black}
    moved = {(x - 12, y - 6) for x, y in inked}
    assert shown == {(x, y) for x, y in moved if 0 <= x < width and 0 <= y < 30}
    assert shown and white == clipped.rgb_at(width - 1, 29)


def test_importing_the_timer_does_not_import_charts() -> None:
    # The timer's cold start stays as it was: charts are imported only where one is drawn.
    code = "import sys, lib.app.timer; print(sorted(m for m in sys.modules if m.startswith('lib.charts')))"
    found = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"


def test_a_runout_date_past_the_axis_is_named_but_not_drawn() -> None:
    # 300 a day, 30,300 left on 20 Nov: runs out in 101 days, past the 30 days the axis looks ahead.
    readings = [Point(datetime(2026, 11, 1 + d, 9, tzinfo=TZ), Decimal(36000 - 300 * d)) for d in range(20)]
    now = datetime(2026, 11, 20, 10, tzinfo=TZ)
    spec = balance_chart("wallet", unit="CNY", readings=readings, now=now, tz=TZ, language="en")
    runway = spec.markers[0]
    assert runway.at == datetime(2027, 3, 1, 9, tzinfo=TZ) and runway.at > spec.end
    assert runway.label == "runs out 1 Mar"
    scene = lay_out(spec)
    assert runway.label in [s.text for s in scene.shapes if isinstance(s, Label)]
    drawn = [s.points for s in scene.shapes if isinstance(s, Line) and s.stroke == STYLES["runway"]]
    assert len(drawn) == 1 and drawn[0][0][1] == drawn[0][1][1]  # its legend swatch only: no vertical line


@pytest.mark.parametrize("width", [PHONE_WIDTH, WIDTH])
def test_every_shape_stays_inside_the_chart_at_phone_and_desktop_width(width: int) -> None:
    for spec in (usage("zh", groups=8), balance("zh")):
        scene = lay_out(spec, width)
        assert scene.width == width
        for shape in scene.shapes:
            if isinstance(shape, Line | Area):
                assert all(0 <= x <= width and 0 <= y <= scene.height for x, y in shape.points), shape
            elif isinstance(shape, Box):
                assert shape.x >= 0 and shape.x + shape.width <= width and shape.y + shape.height <= scene.height
            else:
                assert 0 <= shape.x <= width and 0 < shape.y <= scene.height
                assert _text_inside(shape, width), shape
        ElementTree.fromstring(render_svg(spec, width))  # noqa: S314 - our own output


def _text_inside(label: Label, width: int) -> bool:
    extent = text_em(label.text) * label.size
    left = {"start": label.x, "middle": label.x - extent / 2, "end": label.x - extent}[label.anchor]
    return left >= 0 and left + extent <= width


@pytest.mark.parametrize("width", [PHONE_WIDTH, WIDTH])
def test_a_long_title_and_long_group_names_fit_the_chart(width: int) -> None:
    """A budget named at length, showing a group with a long name (a host of a zone, in Chinese too):
    the title takes two lines (the budget, then the group), everything under it moves down, and every
    text fits inside the chart, cut with "…" only where a line still cannot hold it."""
    name = "security-requests-of-the-whole-shop-" + "x" * 30
    host = "static-assets.shop-北京-east.example.com.cn"
    short, long = lay_out(usage("en", groups=4), width), lay_out(usage("en", groups=4, name=name, host=host), width)
    titles = [s for s in long.shapes if isinstance(s, Label) and s.size == TITLE]
    assert [t.y for t in titles] == [26, 48]
    assert titles[0].text.startswith("security-requests-of-the")
    assert titles[1].text.startswith("h0.static-assets")
    assert all(_text_inside(t, width) for t in titles)
    assert any(t.text.endswith("…") for t in titles)  # the name is too long for any width: cut, not clipped
    for shape in long.shapes:
        if isinstance(shape, Label):
            assert _text_inside(shape, width), shape
    assert long.height == short.height + 22  # one more title line, the rest as it was
    one = [s for s in lay_out(usage("en", groups=1), width).shapes if isinstance(s, Label) and s.size == TITLE]
    assert [t.text for t in one] == ["edgeone-traffic · h0.example.com"]  # a title that fits stays whole


def test_a_runout_date_on_the_axis_is_drawn_as_a_vertical_line() -> None:
    spec = balance("en")  # 4,000 left at 250 a day: runs out on 7 Dec, inside the axis
    assert spec.markers[0].label == "runs out 7 Dec"
    drawn = [s.points for s in lay_out(spec).shapes if isinstance(s, Line) and s.stroke == STYLES["runway"]]
    assert any(a[0] == b[0] and a[1] != b[1] for a, b in drawn)
