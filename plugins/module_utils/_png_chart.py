# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small PNG line chart (one line per series over time) with the standard library only (zlib, struct).

Text (title, axis values, legend) is drawn with a built-in 5x7 bitmap font of printable ASCII;
other characters are drawn as '?'.
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
TEXT = (0, 0, 0)
# 5x7 glyphs of ASCII 32..126: 9 hex digits each, the 35 bits row by row, leftmost pixel first.
_FONT = (
    "000000000108421004294000000295f57d4a11f4717c463222226332544564d108000000088842082208210888009575480"
    "0084f90800000030880000f800000000018c0022222003a33ae62e11842108e3a211111f7c441062e08ca97c427e1e0862e"
    "1910f462e7c22221083a317462e3a317844c018c03180018c03088088882082001f07c002082088883a21110043a216d6ae"
    "3a31fc6317a31f463e3a308422e72518c65c7e10f421f7e10f42103a30bc62f4631fc63138842108e1c4210a4c4654c5251"
    "42108421f4775ac6314639ace313a318c62e7a31f42103a318d64d7a31f52513e107043e7c842108446318c62e46318c544"
    "4631ad6aa462a22a314631510847c222221f39084210e02082082038421084e11510000000000001f208000000000e0be2f"
    "4216cc63e000e8422e042d9c62f000e8fe0e1928e210801f18bc2e4216cc631100c2108e080610a4c4212a629230842108e"
    "001aad6310016cc631000e8c62e001e8fa10000d9bc210016cc210000e8383e211c4212600118c66d00118c54400118d6aa"
    "00115115100118bc2e001f1111f0884410821084210842084110880008a8800"
)
GLYPH_WIDTH, GLYPH_HEIGHT, ADVANCE = 5, 7, 6


def glyph(char):
    """The 7 rows (5 booleans each) of a character; '?' for what the font lacks."""
    code = ord(char) if 32 <= ord(char) < 127 else ord("?")
    bits = int(_FONT[9 * (code - 32) : 9 * (code - 31)], 16)
    cells = [bool(bits >> (34 - n) & 1) for n in range(35)]
    return [cells[row * GLYPH_WIDTH : (row + 1) * GLYPH_WIDTH] for row in range(GLYPH_HEIGHT)]


def text_width(text, scale=1):
    return max(len(text) * ADVANCE - 1, 0) * scale


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

    def text(self, x, y, text, colour=TEXT, scale=1):
        """Draw text with its top left corner at (x, y)."""
        for index, char in enumerate(text):
            for row, cells in enumerate(glyph(char)):
                for column, on in enumerate(cells):
                    if on:
                        for dy in range(scale):
                            for dx in range(scale):
                                self.dot(x + (index * ADVANCE + column) * scale + dx, y + row * scale + dy, colour)

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


def _amounts(values):
    """The labels of the grid lines: whole numbers when the largest is 100 or more, else cents."""
    digits = 0 if max(values) >= 100 else 2
    return [f"{value:,.{digits}f}" for value in values]


def line_chart(series, periods, palette, width=800, height=400, title="", margin=40):
    """PNG bytes: one line per series ({name: {period: value}}) over `periods`, y from 0 to the maximum.

    With a title on top, the y values of the grid lines on the left, the first and last period
    under the x axis, and a legend (colour and name of each series) on the right.
    """
    canvas = _Canvas(width, height)
    top = max((value for points in series.values() for value in points.values()), default=0.0) or 1.0
    labels = _amounts([top * tick / 4 for tick in range(5)])
    legend = max((text_width(name) for name in series), default=0) + 16
    left = margin + max(text_width(label) for label in labels)
    bottom, right, upper = height - margin, width - margin - legend, margin
    if title:
        canvas.text((width - text_width(title, 2)) // 2, (margin - 2 * GLYPH_HEIGHT) // 2, title, scale=2)
    for tick, label in enumerate(labels):
        y = round(bottom - (bottom - upper) * tick / 4)
        if tick:
            canvas.line(left, y, right, y, GRID)
        canvas.text(left - 4 - text_width(label), y - GLYPH_HEIGHT // 2, label)
    canvas.line(left, bottom, right, bottom, AXIS)
    canvas.line(left, bottom, left, upper, AXIS)
    if periods:
        canvas.text(left, bottom + 6, str(periods[0]))
        if len(periods) > 1:
            canvas.text(right - text_width(str(periods[-1])), bottom + 6, str(periods[-1]))
    span = max(len(periods) - 1, 1)

    def point(index, value):
        x = left + (right - left) * index / span if len(periods) > 1 else (left + right) / 2
        return round(x), round(bottom - (bottom - upper) * value / top)

    for position, (name, points) in enumerate(series.items()):
        colour = palette[name]
        previous = None
        for index, period in enumerate(periods):
            current = point(index, points.get(period, 0.0))
            canvas.dot(*current, colour, size=5)
            if previous is not None:
                canvas.line(*previous, *current, colour, size=2)
            previous = current
        y = upper + position * (GLYPH_HEIGHT + 5)
        canvas.dot(right + 14, y + GLYPH_HEIGHT // 2, colour, size=7)
        canvas.text(right + 22, y, name)
    return canvas.png()
