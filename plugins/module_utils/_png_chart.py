# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small PNG line chart (one line per series over time) with the standard library only (zlib, struct).

No text is drawn: the Markdown report names each series next to its colour.
"""

from __future__ import annotations

import struct
import zlib

PALETTE = (
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
)
BACKGROUND = (255, 255, 255)
AXIS = (0, 0, 0)
GRID = (225, 225, 225)


def colours(names):
    """{series name: RGB} in the order given, cycling through the palette."""
    return {name: PALETTE[index % len(PALETTE)] for index, name in enumerate(names)}


class _Canvas:
    def __init__(self, width, height):
        self.width, self.height = width, height
        self.pixels = [bytearray(bytes(BACKGROUND) * width) for _row in range(height)]

    def dot(self, x, y, colour, size=1):
        for dy in range(-(size // 2), size - size // 2):
            for dx in range(-(size // 2), size - size // 2):
                px, py = x + dx, y + dy
                if 0 <= px < self.width and 0 <= py < self.height:
                    self.pixels[py][3 * px : 3 * px + 3] = bytes(colour)

    def line(self, x0, y0, x1, y1, colour, size=1):
        steps = max(abs(x1 - x0), abs(y1 - y0), 1)
        for step in range(steps + 1):
            self.dot(round(x0 + (x1 - x0) * step / steps), round(y0 + (y1 - y0) * step / steps), colour, size)

    def png(self):
        raw = b"".join(b"\x00" + bytes(row) for row in self.pixels)

        def chunk(kind, data):
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
        )


def line_chart(series, periods, palette, width=800, height=400, margin=40):
    """PNG bytes: one line per series ({name: {period: value}}) over `periods`, y from 0 to the maximum."""
    canvas = _Canvas(width, height)
    top = max((value for points in series.values() for value in points.values()), default=0.0) or 1.0
    left, bottom, right, upper = margin, height - margin, width - margin, margin
    for tick in range(1, 5):
        y = round(bottom - (bottom - upper) * tick / 4)
        canvas.line(left, y, right, y, GRID)
    canvas.line(left, bottom, right, bottom, AXIS)
    canvas.line(left, bottom, left, upper, AXIS)
    span = max(len(periods) - 1, 1)

    def point(index, value):
        x = left + (right - left) * index / span if len(periods) > 1 else (left + right) / 2
        return round(x), round(bottom - (bottom - upper) * value / top)

    for name, points in series.items():
        colour = palette[name]
        previous = None
        for index, period in enumerate(periods):
            current = point(index, points.get(period, 0.0))
            canvas.dot(*current, colour, size=5)
            if previous is not None:
                canvas.line(*previous, *current, colour, size=2)
            previous = current
    return canvas.png()
