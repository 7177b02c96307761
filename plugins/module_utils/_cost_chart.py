# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cost report's chart: one stacked bar per period, a segment per tag value, drawn by matplotlib.

matplotlib is optional: without it HAS_MATPLOTLIB is false and skipped_reason() says why, so the
report still writes its CSV and Markdown. Only matplotlib's object API and its Agg canvas are used,
never pyplot: no display, no global figure state in a module process.
"""

from __future__ import annotations

import datetime
import io

try:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import StrMethodFormatter
except ImportError as error:
    HAS_MATPLOTLIB = False
    IMPORT_ERROR = str(error)
else:
    HAS_MATPLOTLIB = True
    IMPORT_ERROR = None

# matplotlib's tab10 without its grey, which is kept for the untagged share.
PALETTE = (
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (188, 189, 34),
    (23, 190, 207),
)
UNTAGGED_COLOUR = (127, 127, 127)
WIDTH, HEIGHT, DPI = 1000, 500, 100
# Past this many bars the labels of every bar would overlap: label every n-th period, no totals.
MAX_LABELLED = 13


def skipped_reason():
    """Why there is no chart, for the report and the module's result; None when matplotlib is there."""
    if HAS_MATPLOTLIB:
        return None
    return (
        f"matplotlib is not installed for the Python that runs the module ({IMPORT_ERROR}); "
        "install it (pip install matplotlib) to get the chart"
    )


def colours(names, untagged):
    """{name: RGB} in the order given, cycling through the palette; `untagged` is grey."""
    tagged = [name for name in names if name != untagged]
    palette = {name: PALETTE[index % len(PALETTE)] for index, name in enumerate(tagged)}
    return {name: UNTAGGED_COLOUR if name == untagged else palette[name] for name in names}


def hex_colour(rgb):
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def period_label(start, granularity):
    """Aug 2026 for a month, 2026-08-05 for a day (Cost Explorer's periods start on an ISO date)."""
    day = datetime.date.fromisoformat(start)
    return day.strftime("%b %Y") if granularity == "MONTHLY" else day.isoformat()


def figure(by_period, names, palette, title, unit, tag_key, granularity="MONTHLY"):
    """The chart as a matplotlib Figure: for each period of `by_period` ({start: {name: amount}}) one bar,
    stacked from the first of `names` up, coloured by `palette`, with its total on top."""
    periods = list(by_period)
    fig = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.add_subplot()
    positions = list(range(len(periods)))
    bottoms = [0.0] * len(periods)
    bars = None
    for name in names:
        values = [by_period[start].get(name, 0.0) for start in periods]
        bars = axes.bar(
            positions, values, 0.6, bottom=bottoms, label=name, color=hex_colour(palette[name]), edgecolor="white"
        )
        bottoms = [bottom + value for bottom, value in zip(bottoms, values)]
    labelled = len(periods) <= MAX_LABELLED
    if bars is not None and labelled:
        axes.bar_label(bars, labels=[f"{total:,.0f}" for total in bottoms], padding=3)
    step = 1 if labelled else -(-len(periods) // MAX_LABELLED)
    axes.set_xticks(positions[::step], [period_label(start, granularity) for start in periods[::step]])
    if not labelled:
        for label in axes.get_xticklabels():
            label.set(rotation=45, horizontalalignment="right", rotation_mode="anchor")
    axes.set_xlabel("Month" if granularity == "MONTHLY" else "Day")
    axes.set_ylabel(f"Cost ({unit})")
    axes.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    axes.margins(y=0.1)
    axes.grid(axis="y", color="#dddddd")
    axes.set_axisbelow(True)
    axes.spines[["top", "right"]].set_visible(False)
    axes.set_title(title)
    # Listed top to bottom, as the segments are stacked.
    handles, labels = axes.get_legend_handles_labels()
    axes.legend(handles[::-1], labels[::-1], title=tag_key, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    return fig


def png(fig):
    """PNG bytes of a figure; the same figure gives the same bytes (no timestamp, no version)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
