"""The cost chart read back from its matplotlib artists (bars, labels, legend), and rendered to a real PNG."""

from __future__ import annotations

import importlib
import io
import sys

from ansible_collections.keel.platform.plugins.module_utils import _cost_chart
from matplotlib.colors import to_hex
from PIL import Image

UNTAGGED = "(untagged)"
BY_PERIOD = {
    "2026-08-01": {"payments": 120.0, "search": 80.0, UNTAGGED: 50.0},
    "2026-09-01": {"payments": 130.0, "search": 60.0, UNTAGGED: 50.0},
    "2026-10-01": {"payments": 150.0, UNTAGGED: 60.0},  # search spent nothing in October
}
NAMES = ["payments", "search", UNTAGGED]


def chart(by_period=None, names=None, granularity="MONTHLY"):
    by_period, names = by_period or BY_PERIOD, names or NAMES
    palette = _cost_chart.colours(names, UNTAGGED)
    return _cost_chart.figure(by_period, names, palette, "Cost by team", "USD", "team", granularity)


def segments(fig):
    """{label: [(x centre, bottom, height, colour)]} of the bars, one list per stacked series."""
    axes = fig.axes[0]
    return {
        container.get_label(): [
            (
                round(rect.get_x() + rect.get_width() / 2, 6),
                rect.get_y(),
                rect.get_height(),
                to_hex(rect.get_facecolor()),
            )
            for rect in container
        ]
        for container in axes.containers
    }


def test_one_stacked_bar_per_month_with_a_segment_per_tag_value():
    bars = segments(chart())
    assert list(bars) == NAMES
    assert bars["payments"] == [(0, 0, 120.0, "#1f77b4"), (1, 0, 130.0, "#1f77b4"), (2, 0, 150.0, "#1f77b4")]
    assert bars["search"] == [(0, 120.0, 80.0, "#ff7f0e"), (1, 130.0, 60.0, "#ff7f0e"), (2, 150.0, 0.0, "#ff7f0e")]
    # untagged on top, in grey
    assert bars[UNTAGGED] == [(0, 200.0, 50.0, "#7f7f7f"), (1, 190.0, 50.0, "#7f7f7f"), (2, 150.0, 60.0, "#7f7f7f")]


def test_a_person_can_read_it_title_axes_in_usd_month_names_totals_and_legend():
    axes = chart().axes[0]
    assert axes.get_title() == "Cost by team"
    assert axes.get_ylabel() == "Cost (USD)"
    assert axes.get_xlabel() == "Month"
    assert [label.get_text() for label in axes.get_xticklabels()] == ["Aug 2026", "Sep 2026", "Oct 2026"]
    totals = [text.get_text() for text in axes.texts]
    assert totals == ["250", "240", "210"]
    legend = axes.get_legend()
    assert legend.get_title().get_text() == "team"
    # top to bottom, as the segments are stacked
    assert [text.get_text() for text in legend.get_texts()] == [UNTAGGED, "search", "payments"]
    assert axes.yaxis.get_major_formatter()(2500, 0) == "2,500"


def test_many_days_label_every_few_bars_without_totals():
    days = {f"2026-08-{day:02d}": {"payments": 10.0 + day} for day in range(1, 32)}
    axes = chart(days, ["payments"], "DAILY").axes[0]
    assert len(axes.containers[0]) == 31
    labels = [label.get_text() for label in axes.get_xticklabels()]
    assert labels[0] == "2026-08-01"
    assert len(labels) <= _cost_chart.MAX_LABELLED
    assert axes.get_xlabel() == "Day"
    assert not axes.texts


def test_colours_cycle_and_keep_grey_for_untagged():
    names = [f"team{n}" for n in range(len(_cost_chart.PALETTE) + 1)] + [UNTAGGED]
    palette = _cost_chart.colours(names, UNTAGGED)
    assert palette["team0"] == palette[f"team{len(_cost_chart.PALETTE)}"] == (31, 119, 180)
    assert palette[UNTAGGED] == _cost_chart.UNTAGGED_COLOUR
    assert _cost_chart.UNTAGGED_COLOUR not in [palette[name] for name in names[:-1]]


def test_the_png_is_a_real_image_of_the_documented_size_and_the_same_bytes_every_time():
    data = _cost_chart.png(chart())
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    assert image.size == (_cost_chart.WIDTH, _cost_chart.HEIGHT) == (1000, 500)
    colours = {colour for _count, colour in image.convert("RGB").getcolors(1_000_000)}
    assert {(31, 119, 180), (255, 127, 14), (127, 127, 127)} <= colours
    assert _cost_chart.png(chart()) == data  # idempotent report files


def test_without_matplotlib_the_chart_is_skipped_and_says_why(monkeypatch):
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "matplotlib", None)  # import matplotlib raises ImportError
        for name in [name for name in sys.modules if name.startswith("matplotlib.")]:
            patch.delitem(sys.modules, name)
        without = importlib.reload(_cost_chart)
        assert not without.HAS_MATPLOTLIB
        reason = without.skipped_reason()
    importlib.reload(_cost_chart)
    assert reason.startswith("matplotlib is not installed for the Python that runs the module (")
    assert reason.endswith("install it (pip install matplotlib) to get the chart")
    assert _cost_chart.HAS_MATPLOTLIB
    assert _cost_chart.skipped_reason() is None
