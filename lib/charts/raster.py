"""A small RGB canvas and its PNG encoding, in pure Python (zlib and struct from the standard library).

Enough for charts: boxes, thick dashed polylines, filled polygons and bitmap text, each blended with an
opacity. No anti-aliasing: ``png`` draws at twice the scene's size instead, which reads as sharp on phones.
"""

from __future__ import annotations

import itertools
import math
import struct
import zlib
from collections.abc import Iterable

from lib.charts.glyphs import ADVANCE, HEIGHT, glyph, plain_text

SIGNATURE = b"\x89PNG\r\n\x1a\n"
Colour = tuple[int, int, int]


def colour(hex_text: str) -> Colour:
    """``#0072B2`` → (0, 114, 178)."""
    value = hex_text.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


class Canvas:
    """A white ``width`` x ``height`` image; coordinates are pixels, (0, 0) at the top left."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(b"\xff" * (width * height * 3))

    def dot(self, x: int, y: int, rgb: Colour, opacity: float = 1.0) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            i = (y * self.width + x) * 3
            if opacity >= 1.0:
                self.pixels[i : i + 3] = bytes(rgb)
                return
            px = self.pixels
            for k in range(3):
                px[i + k] = round(px[i + k] * (1 - opacity) + rgb[k] * opacity)

    def box(self, x: float, y: float, width: float, height: float, *, rgb: Colour, opacity: float = 1.0) -> None:
        x0, y0 = max(0, round(x)), max(0, round(y))
        x1, y1 = min(self.width, round(x + width)), min(self.height, round(y + height))
        if x1 <= x0 or y1 <= y0:
            return
        if opacity >= 1.0:
            row = bytes(rgb) * (x1 - x0)
            for yy in range(y0, y1):
                start = (yy * self.width + x0) * 3
                self.pixels[start : start + len(row)] = row
            return
        for yy in range(y0, y1):
            for xx in range(x0, x1):
                self.dot(xx, yy, rgb, opacity)

    def polyline(
        self, points: tuple[tuple[float, float], ...], rgb: Colour, *, width: float, dash: tuple[float, ...] = ()
    ) -> None:
        """Segments stamped with a square pen every half pixel; ``dash`` (on, off ...) runs along the line."""
        thickness = max(1, round(width))
        offset = thickness // 2
        pattern = sum(dash) if dash else 0.0
        walked = 0.0
        centres: set[tuple[int, int]] = set()  # each pen position once: samples overlap at half a pixel
        for (xa, ya), (xb, yb) in itertools.pairwise(points):
            length = math.hypot(xb - xa, yb - ya)
            count = max(1, math.ceil(length * 2))
            ex, ey = xb - xa, yb - ya
            picked: Iterable[int] = range(count + 1)
            if pattern:
                picked = (i for i in range(count + 1) if _inked((walked + length * i / count) % pattern, dash))
            centres.update((round(xa + ex * i / count), round(ya + ey * i / count)) for i in picked)
            walked += length
        # The pen's squares merged into one run per row: a long line is a few row writes, not a box per step.
        starts: dict[int, list[int]] = {}
        for cx, cy in centres:
            for yy in range(cy - offset, cy - offset + thickness):
                starts.setdefault(yy, []).append(cx - offset)
        ink = bytes(rgb)
        for yy, row in starts.items():
            if 0 <= yy < self.height:
                self._runs(yy, sorted(row), thickness, ink)

    def _runs(self, y: int, starts: list[int], length: int, ink: bytes) -> None:
        """Paint row ``y`` from each of ``starts`` (sorted) for ``length`` pixels, overlapping runs merged."""
        run_start, run_end = starts[0], starts[0] + length
        for start in starts[1:]:
            if start <= run_end:
                run_end = max(run_end, start + length)
                continue
            self._span(y, run_start, run_end, ink)
            run_start, run_end = start, start + length
        self._span(y, run_start, run_end, ink)

    def _span(self, y: int, x0: int, x1: int, ink: bytes) -> None:
        x0, x1 = max(0, x0), min(self.width, x1)
        if x1 > x0:
            start = (y * self.width + x0) * 3
            self.pixels[start : start + (x1 - x0) * 3] = ink * (x1 - x0)

    def polygon(self, points: tuple[tuple[float, float], ...], rgb: Colour, opacity: float) -> None:
        """Even-odd scanline fill, sampled at pixel centres."""
        top = max(0, math.floor(min(y for _, y in points)))
        bottom = min(self.height - 1, math.ceil(max(y for _, y in points)))
        edges = list(zip(points, points[1:] + points[:1], strict=True))
        for yy in range(top, bottom + 1):
            centre = yy + 0.5
            crossings = sorted(
                xa + (centre - ya) * (xb - xa) / (yb - ya)
                for (xa, ya), (xb, yb) in edges
                if (ya <= centre < yb) or (yb <= centre < ya)
            )
            for left, right in zip(crossings[::2], crossings[1::2], strict=False):
                for xx in range(max(0, math.ceil(left - 0.5)), min(self.width, math.floor(right - 0.5) + 1)):
                    self.dot(xx, yy, rgb, opacity)

    def text(self, x: float, baseline: float, text: str, *, rgb: Colour, scale: int, bold: bool = False) -> None:
        """Bitmap text whose glyph bottoms sit on ``baseline``; ``scale`` pixels per font cell."""
        left, top = round(x), round(baseline) - HEIGHT * scale
        extra = 1 if bold else 0
        for char in plain_text(text):
            # Cells that touch in a row are one box (the same pixels as a box per cell, far fewer writes).
            cells = glyph(char)
            index = 0
            while index < len(cells):
                column, row = cells[index]
                end = column
                while index + 1 < len(cells) and cells[index + 1] == (end + 1, row):
                    index += 1
                    end += 1
                width = (end - column + 1) * scale + extra
                self.box(left + column * scale, top + row * scale, width, scale, rgb=rgb)
                index += 1
            left += ADVANCE * scale

    def png(self) -> bytes:
        """The image as a PNG file: 8-bit RGB, no interlace, every row with filter 0."""
        stride = self.width * 3
        raw = b"".join(b"\x00" + self.pixels[y * stride : (y + 1) * stride] for y in range(self.height))
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 6)) + _chunk(b"IEND", b"")


def text_width(text: str, scale: int) -> int:
    return len(plain_text(text)) * ADVANCE * scale - scale


def _inked(position: float, dash: tuple[float, ...]) -> bool:
    for i, length in enumerate(dash):
        if position < length:
            return i % 2 == 0
        position -= length
    return True


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
