"""A small palette canvas and its PNG encoding, in pure Python (zlib and struct from the standard library).

Enough for charts: boxes, thick dashed polylines, filled polygons and bitmap text, each blended with an
opacity. No anti-aliasing: ``png`` draws at twice the scene's size instead, which reads as sharp on phones.

Why a palette (one byte a pixel, PNG colour type 3) rather than RGB: a chart has a dozen colours, so
every fill is a third of the bytes, a blend is one ``bytes.translate`` over a row run instead of a loop
per pixel, and zlib compresses a third of the data. All drawing is row runs written as slices: Python
never loops over single pixels.
"""

from __future__ import annotations

import functools
import itertools
import math
import struct
import zlib

from lib.charts.glyphs import ADVANCE, DROP, HEIGHT, glyph, plain_text

SIGNATURE = b"\x89PNG\r\n\x1a\n"
Colour = tuple[int, int, int]
WHITE: Colour = (255, 255, 255)
MAX_COLOURS = 256  # an 8-bit palette
# zlib level 3: measured on an 800 x 1,556 chart's palette rows, 1.8 ms for 15 KB against 4.8 ms for 8.6 KB
# at the default 6 (in RGB: 6.7 ms / 37 KB against 20 ms / 19 KB); either is far under WeCom's 2 MB.
ZLIB_LEVEL = 3


def colour(hex_text: str) -> Colour:
    """``#0072B2`` → (0, 114, 178)."""
    value = hex_text.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


class Canvas:
    """A white ``width`` x ``height`` image; coordinates are pixels, (0, 0) at the top left.

    ``pixels`` holds the rows as PNG stores them before compression: each a filter byte (0: none), then
    one palette index a pixel (``stride`` bytes a row), so ``png`` compresses it as it is, with no copy;
    ``palette`` holds the colours in index order."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.stride = width + 1
        self.pixels = bytearray(self.stride * height)  # all zero: filter 0, and index 0 (white)
        self.palette: list[Colour] = [WHITE]
        self._indexes: dict[Colour, int] = {WHITE: 0}
        self._blends: dict[tuple[Colour, float], tuple[int, bytes]] = {}

    def rgb_at(self, x: int, y: int) -> Colour:
        return self.palette[self.pixels[y * self.stride + 1 + x]]

    def index(self, rgb: Colour) -> int:
        """The palette index of ``rgb``, added when new."""
        found = self._indexes.get(rgb)
        if found is None:
            if len(self.palette) >= MAX_COLOURS:  # a chart uses a few dozen: a drawing bug, say so
                raise ValueError(f"a chart PNG takes at most {MAX_COLOURS} colours")
            found = self._indexes[rgb] = len(self.palette)
            self.palette.append(rgb)
        return found

    def _blend(self, rgb: Colour, opacity: float) -> bytes:
        """A ``bytes.translate`` table: each palette index → the index of ``rgb`` laid over it at ``opacity``."""
        cached = self._blends.get((rgb, opacity))
        if cached is not None and cached[0] == len(self.palette):
            return cached[1]
        table = bytearray(range(256))
        for i, under in enumerate(list(self.palette)):
            mixed = tuple(round(u * (1 - opacity) + c * opacity) for u, c in zip(under, rgb, strict=True))
            table[i] = self.index((mixed[0], mixed[1], mixed[2]))
        self._blends[(rgb, opacity)] = (len(self.palette), bytes(table))
        return bytes(table)

    def _span(self, y: int, x0: int, x1: int, ink: int) -> None:
        x0, x1 = max(0, x0), min(self.width, x1)
        if x1 > x0 and 0 <= y < self.height:
            start = y * self.stride + 1 + x0
            self.pixels[start : start + x1 - x0] = _run(ink, x1 - x0)

    def _blend_span(self, y: int, x0: int, x1: int, table: bytes) -> None:
        x0, x1 = max(0, x0), min(self.width, x1)
        if x1 > x0 and 0 <= y < self.height:
            start = y * self.stride + 1 + x0
            self.pixels[start : start + x1 - x0] = self.pixels[start : start + x1 - x0].translate(table)

    def box(self, x: float, y: float, width: float, height: float, *, rgb: Colour, opacity: float = 1.0) -> None:
        x0, y0 = max(0, round(x)), max(0, round(y))
        x1, y1 = min(self.width, round(x + width)), min(self.height, round(y + height))
        if x1 <= x0 or y1 <= y0:
            return
        if opacity >= 1.0:
            run, px, stride = _run(self.index(rgb), x1 - x0), self.pixels, self.stride
            for start in range(y0 * stride + 1 + x0, y1 * stride, stride):
                px[start : start + x1 - x0] = run
            return
        table = self._blend(rgb, opacity)
        for yy in range(y0, y1):
            self._blend_span(yy, x0, x1, table)

    def polyline(
        self, points: tuple[tuple[float, float], ...], rgb: Colour, *, width: float, dash: tuple[float, ...] = ()
    ) -> None:
        """Segments drawn with a square pen ``width`` pixels wide; ``dash`` (on, off ...) runs along the line."""
        thickness = max(1, round(width))
        pattern = sum(dash) if dash else 0.0
        pieces: list[tuple[float, float, float, float]] = []
        walked = 0.0
        for (xa, ya), (xb, yb) in itertools.pairwise(points):
            if not pattern:
                pieces.append((xa, ya, xb, yb))
                continue
            length = math.hypot(xb - xa, yb - ya)
            ex, ey = xb - xa, yb - ya
            for on, off in _inked(walked, length, dash, pattern):
                a, b = (on / length, off / length) if length else (0.0, 0.0)
                pieces.append((xa + ex * a, ya + ey * a, xa + ex * b, ya + ey * b))
            walked += length
        self._stroke(pieces, thickness, self.index(rgb))

    def _stroke(self, pieces: list[tuple[float, float, float, float]], thickness: int, ink: int) -> None:
        """Straight pieces (xa, ya, xb, yb): the pixels a square pen covers with its centre on each, a run a row.

        The pen's centre rounds to a pixel; row ``y`` is covered while the centre's row is within
        ``thickness`` of it, so each row's run is the part of the piece whose y lies in that band. The
        rows whose band holds the whole piece (all of them for a short, flat piece of a long line) share
        one run, computed once."""
        offset = thickness // 2
        px, width, height, stride, floor = self.pixels, self.width, self.height, self.stride, math.floor
        ink_row = _run(ink, width)
        for xa, ya, xb, yb in pieces:
            low, high = (ya, yb) if ya <= yb else (yb, ya)
            first, last = floor(low + 0.5) - offset, floor(high + 0.5) - offset + thickness
            left, right = (xa, xb) if xa <= xb else (xb, xa)
            x0, x1 = floor(left + 0.5) - offset, floor(right + 0.5) - offset + thickness
            x0, x1 = (0 if x0 < 0 else x0), (width if x1 > width else x1)
            top, bottom = last - thickness, first + thickness  # the rows [top, bottom) hold the whole piece
            top, bottom = (0 if top < 0 else top), (height if bottom > height else bottom)
            if x1 > x0 and bottom > top:
                run = ink_row[: x1 - x0]
                for start in range(top * stride + 1 + x0, bottom * stride, stride):
                    px[start : start + x1 - x0] = run
            if first >= top and last <= bottom:
                continue  # every row held the whole piece
            dy, dx = yb - ya, xb - xa
            for yy in itertools.chain(range(max(0, first), top), range(max(bottom, top), min(height, last))):
                lo, hi = yy + offset - thickness + 0.5, yy + offset + 0.5
                lo, hi = (low if low > lo else lo), (high if high < hi else hi)
                left, right = xa + (lo - ya) / dy * dx, xa + (hi - ya) / dy * dx
                if left > right:
                    left, right = right, left
                x0, x1 = max(0, floor(left + 0.5) - offset), min(width, floor(right + 0.5) - offset + thickness)
                if x1 > x0:
                    start = yy * stride + 1 + x0
                    px[start : start + x1 - x0] = ink_row[: x1 - x0]

    def polygon(self, points: tuple[tuple[float, float], ...], rgb: Colour, opacity: float) -> None:
        """Even-odd scanline fill, sampled at pixel centres."""
        top = max(0, math.floor(min(y for _, y in points)))
        bottom = min(self.height - 1, math.ceil(max(y for _, y in points)))
        edges = list(zip(points, points[1:] + points[:1], strict=True))
        table = self._blend(rgb, opacity) if opacity < 1.0 else b""
        ink = self.index(rgb)
        for yy in range(top, bottom + 1):
            centre = yy + 0.5
            crossings = sorted(
                xa + (centre - ya) * (xb - xa) / (yb - ya)
                for (xa, ya), (xb, yb) in edges
                if (ya <= centre < yb) or (yb <= centre < ya)
            )
            for left, right in zip(crossings[::2], crossings[1::2], strict=False):
                x0, x1 = math.ceil(left - 0.5), math.floor(right - 0.5) + 1
                if table:
                    self._blend_span(yy, x0, x1, table)
                else:
                    self._span(yy, x0, x1, ink)

    def text(self, x: float, baseline: float, text: str, *, rgb: Colour, scale: int, bold: bool = False) -> None:
        """Bitmap text whose glyph bottoms sit on ``baseline``; ``scale`` pixels per font cell."""
        left, top = round(x), round(baseline) - HEIGHT * scale
        ink = self.index(rgb)
        chars = plain_text(text)
        width, rows = _text_rows(chars, scale, bold)
        if left >= 0 and top >= 0 and left + width <= self.width and top + (HEIGHT + DROP) * scale <= self.height:
            # The common case, no clipping: a row of the text is one masked write of the canvas row it covers.
            px, stride = self.pixels, self.stride
            for dy, mask, ones in rows:
                start = (top + dy) * stride + 1 + left
                under = int.from_bytes(px[start : start + width], "big")
                px[start : start + width] = ((under & ~mask) | ones * ink).to_bytes(width, "big")
            return
        for char in chars:
            for dy, dx, n in _glyph_runs(char, scale, bold):
                self._span(top + dy, left + dx, left + dx + n, ink)
            left += ADVANCE * scale

    def png(self) -> bytes:
        """The image as a PNG file: 8-bit palette, no interlace, every row with filter 0 (none)."""
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 3, 0, 0, 0)
        palette = b"".join(bytes(rgb) for rgb in self.palette)
        idat = zlib.compress(self.pixels, ZLIB_LEVEL)
        return (
            SIGNATURE
            + _chunk(b"IHDR", header)
            + _chunk(b"PLTE", palette)
            + _chunk(b"IDAT", idat)
            + _chunk(b"IEND", b"")
        )


def text_width(text: str, scale: int) -> int:
    return len(plain_text(text)) * ADVANCE * scale - scale


@functools.lru_cache(maxsize=64)
def _run(ink: int, length: int) -> bytes:
    return bytes((ink,)) * length


@functools.lru_cache(maxsize=1024)
def _text_rows(chars: str, scale: int, bold: bool) -> tuple[int, tuple[tuple[int, int, int], ...]]:
    """``chars`` at ``scale`` as its pixel width and, per inked pixel row, (row, mask, ones): ``mask`` has
    0xFF in each inked byte of the row (as a big-endian integer over the width), ``ones`` 0x01 there, so
    ``ones * ink`` is the ink in those bytes and ``under & ~mask`` keeps the rest. Python's integers do
    the masked write of a whole row at C speed instead of one slice per glyph run. A chart repeats its
    labels (axis ticks, units), and the cache keeps them across a run's charts."""
    cell = ADVANCE * scale
    rows: dict[int, int] = {}
    for i, char in enumerate(chars):
        shift = (len(chars) - 1 - i) * cell * 8  # the character's cell, counted from the text's right end
        for row, ones in _glyph_rows(char, scale, bold):
            rows[row] = rows.get(row, 0) | ones << shift
    width = len(chars) * cell + 1  # bold widens a glyph's last run by a pixel
    # A font row is ``scale`` pixel rows alike.
    out = tuple((row * scale + dy, ones * 0xFF, ones) for row, ones in sorted(rows.items()) for dy in range(scale))
    return width, out


@functools.lru_cache(maxsize=512)
def _glyph_rows(char: str, scale: int, bold: bool) -> tuple[tuple[int, int], ...]:
    """``char``'s inked font rows at ``scale``: (font row, 0x01 in each inked byte of its cell, a big-endian
    integer over the cell's ``ADVANCE * scale + 1`` bytes; bold widens each run by a pixel)."""
    last = ADVANCE * scale  # the cell's last byte, where bold may reach
    rows: dict[int, int] = {}
    for column, row, cells in _glyph_spans(char):
        n = cells * scale + (1 if bold else 0)
        end = column * scale + n - 1
        rows[row] = rows.get(row, 0) | (((1 << (8 * n)) - 1) // 0xFF) << ((last - end) * 8)
    return tuple(rows.items())


def _glyph_runs(char: str, scale: int, bold: bool) -> tuple[tuple[int, int, int], ...]:
    """``char``'s pixel runs at ``scale`` as (row, column, length) from its top left, for clipped text."""
    return tuple(
        (row * scale + dy, column * scale, cells * scale + (1 if bold else 0))
        for column, row, cells in _glyph_spans(char)
        for dy in range(scale)
    )


@functools.lru_cache(maxsize=256)
def _glyph_spans(char: str) -> tuple[tuple[int, int, int], ...]:
    """``char``'s cells as (column, row, cells) spans: cells that touch in a row are one span."""
    spans: list[tuple[int, int, int]] = []
    cells = glyph(char)
    index = 0
    while index < len(cells):
        column, row = cells[index]
        end = column
        while index + 1 < len(cells) and cells[index + 1] == (end + 1, row):
            index += 1
            end += 1
        spans.append((column, row, end - column + 1))
        index += 1
    return tuple(spans)


def _inked(start: float, length: float, dash: tuple[float, ...], pattern: float) -> list[tuple[float, float]]:
    """The (from, to) stretches of a segment ``length`` long that a dash pattern inks, the pattern already
    ``start`` along when the segment begins (a zero-length segment: one point, inked or not).

    A stretch the pattern ends stops a pixel early: the pen at ``to`` would ink the pixel where the gap
    starts, so an on-length of 3 at width 1 is three pixels, as the dash says."""
    position = start % pattern
    i = 0
    while position >= dash[i]:
        position -= dash[i]
        i = (i + 1) % len(dash)
    out: list[tuple[float, float]] = []
    at = 0.0
    while True:
        end = at + dash[i] - position
        if i % 2 == 0:
            out.append((at, min(end, length)) if end > length else (at, max(at, end - 1)))
        if end >= length:
            return out
        at, position, i = end, 0.0, (i + 1) % len(dash)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
