from __future__ import annotations

import struct
import zlib


def read_png(data):
    """(width, height, rows of RGB tuples) of a PNG this module wrote (8-bit RGB, filter 0): for tests."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    position, width, height, compressed = 8, 0, 0, b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            raise ValueError(f"bad CRC in {kind!r}")
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            compressed += body
        position += 12 + length
    raw = zlib.decompress(compressed)
    stride = 3 * width + 1
    rows = []
    for y in range(height):
        line = raw[y * stride + 1 : (y + 1) * stride]
        rows.append([tuple(line[3 * x : 3 * x + 3]) for x in range(width)])
    return width, height, rows


def test_line_chart_draws_each_series_in_its_colour():
    from ansible_collections.keel.platform.plugins.module_utils._png_chart import BACKGROUND, colours, line_chart

    palette = colours(["a", "b"])
    data = line_chart({"a": {"p1": 1.0, "p2": 3.0}, "b": {"p1": 2.0}}, ["p1", "p2"], palette, width=200, height=100)
    width, height, rows = read_png(data)
    assert (width, height) == (200, 100)
    seen = {pixel for row in rows for pixel in row}
    assert {palette["a"], palette["b"], BACKGROUND} <= seen
    # series a peaks on the top grid line (y = margin), in the right half
    assert palette["a"] in rows[40][100:]
    assert palette["a"] not in rows[30]


def find_text(rows, text, colour, scale=1):
    """Top left corners where `text` is drawn exactly (glyph pixels in colour, the cells between them not)."""
    from ansible_collections.keel.platform.plugins.module_utils._png_chart import ADVANCE, glyph

    cells = []
    for index, char in enumerate(text):
        for row, line in enumerate(glyph(char)):
            for column, on in enumerate(line):
                for dy in range(scale):
                    for dx in range(scale):
                        cells.append(((index * ADVANCE + column) * scale + dx, row * scale + dy, on))
    found = []
    for y in range(len(rows) - 7 * scale):
        for x in range(len(rows[0]) - len(text) * ADVANCE * scale):
            if all((rows[y + dy][x + dx] == colour) == on for dx, dy, on in cells):
                found.append((x, y))
    return found


def test_the_font_draws_known_glyphs_and_a_question_mark_for_the_rest():
    from ansible_collections.keel.platform.plugins.module_utils._png_chart import glyph

    def art(char):
        return ["".join("#" if on else "." for on in row) for row in glyph(char)]

    assert art("T") == ["#####"] + ["..#.."] * 6
    assert art("1") == ["..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."]
    assert art("-") == ["....."] * 3 + ["#####"] + ["....."] * 3
    assert art("é") == art("?")
    assert art(" ") == ["....."] * 7
    # every printable glyph but the space draws something, and no two letters or digits look alike
    shapes = [tuple(map(tuple, glyph(chr(code)))) for code in range(33, 127)]
    assert all(any(any(row) for row in shape) for shape in shapes)
    assert len(set(shapes)) == len(shapes)


def test_line_chart_has_a_title_axis_values_and_a_legend_of_the_series_names():
    from ansible_collections.keel.platform.plugins.module_utils._png_chart import TEXT, colours, line_chart

    palette = colours(["payments", "(untagged)"])
    series = {"payments": {"2026-01": 40.0, "2026-02": 80.0}, "(untagged)": {"2026-01": 10.0}}
    data = line_chart(series, ["2026-01", "2026-02"], palette, width=360, height=180, title="Cost by team")
    _width, _height, rows = read_png(data)
    assert len(find_text(rows, "Cost by team", TEXT, scale=2)) == 1
    ((legend_x, legend_y),) = find_text(rows, "payments", TEXT)
    assert len(find_text(rows, "(untagged)", TEXT)) == 1
    assert rows[legend_y + 3][legend_x - 8] == palette["payments"]  # its colour key, left of the name
    assert len(find_text(rows, "80.00", TEXT)) == 1  # the top grid line's value
    assert len(find_text(rows, "2026-01", TEXT)) == 1
    assert len(find_text(rows, "2026-02", TEXT)) == 1


def test_cost_report_rows_summary_csv_and_markdown():
    from ansible_collections.keel.platform.plugins.module_utils._cost_report import rows, summarise, to_csv, to_markdown

    periods = [
        {
            "TimePeriod": {"Start": "2026-01-01", "End": "2026-02-01"},
            "Groups": [
                {"Keys": ["team$a", "S3"], "Metrics": {"UnblendedCost": {"Amount": "3", "Unit": "USD"}}},
                {"Keys": ["team$", "EC2"], "Metrics": {"UnblendedCost": {"Amount": "1", "Unit": "USD"}}},
            ],
        }
    ]
    table = rows(periods, "team", "UnblendedCost")
    assert [row["tag"] for row in table] == ["a", "(untagged)"]
    summary = summarise(table)
    assert summary["untagged"] == {"amount": 1.0, "share": 25.0}
    assert summary["by_service"] == {"S3": 3.0, "EC2": 1.0}
    assert to_csv(table).splitlines()[1] == "2026-01-01,2026-02-01,a,S3,3.0,USD"
    assert "| a | 3.00 | 75.00 % | #010203 |" in to_markdown(summary, "team", "x", "y", {"a": (1, 2, 3)})
