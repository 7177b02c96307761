# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cost Explorer results grouped by a cost-allocation tag and by service, as rows, totals, CSV and Markdown (pure)."""

from __future__ import annotations

import csv
import datetime
import io
import re

UNTAGGED = "(untagged)"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def iso_date(value, option):
    """The date of an option written YYYY-MM-DD (what Cost Explorer takes); ValueError naming the option otherwise."""
    text = str(value).strip()
    try:
        if _ISO_DATE.match(text):
            return datetime.date.fromisoformat(text)
        problem = "is not written YYYY-MM-DD"
    except ValueError:
        problem = "is not a day of the calendar"
    raise ValueError(f"{option} must be a date written YYYY-MM-DD (for example 2026-07-01): {value!r} {problem}")


def period(start, end):
    """(start, end) as YYYY-MM-DD strings: real dates, start before end (exclusive); else a ValueError."""
    first, after = iso_date(start, "start"), iso_date(end, "end")
    if first >= after:
        raise ValueError(
            f"start ({first.isoformat()}) must be before end ({after.isoformat()}); end is exclusive, the day after "
            "the period"
        )
    return first.isoformat(), after.isoformat()


def last_day(end):
    """The last day of a period given by its exclusive end (an ISO date), as an ISO date."""
    return (datetime.date.fromisoformat(end) - datetime.timedelta(days=1)).isoformat()


def request(start, end, granularity, tag_key, metric):
    """GetCostAndUsage parameters: one group per (tag value, service)."""
    return {
        "TimePeriod": {"Start": start, "End": end},
        "Granularity": granularity,
        "Metrics": [metric],
        "GroupBy": [{"Type": "TAG", "Key": tag_key}, {"Type": "DIMENSION", "Key": "SERVICE"}],
    }


def _tag_value(key, tag_key):
    """Cost Explorer names tag groups '<key>$<value>'; an empty value means untagged."""
    value = key.split("$", 1)[1] if key.startswith(tag_key + "$") else key
    return value or UNTAGGED


def rows(results_by_time, tag_key, metric):
    """[{start, end, tag, service, amount, unit}] of GetCostAndUsage ResultsByTime pages."""
    out = []
    for period in results_by_time:
        start, end = period["TimePeriod"]["Start"], period["TimePeriod"]["End"]
        for group in period.get("Groups", ()):
            keys = group.get("Keys", [])
            value = group.get("Metrics", {}).get(metric, {})
            out.append(
                {
                    "start": start,
                    "end": end,
                    "tag": _tag_value(keys[0] if keys else "", tag_key),
                    "service": keys[1] if len(keys) > 1 else "",
                    "amount": round(float(value.get("Amount", 0)), 6),
                    "unit": value.get("Unit", "USD"),
                }
            )
    return out


def _add(totals, key, amount):
    totals[key] = round(totals.get(key, 0.0) + amount, 6)


def summarise(table):
    """Totals by tag value, by service, by period and tag; the untagged amount and share (percent)."""
    by_tag, by_service, by_period = {}, {}, {}
    for row in table:
        _add(by_tag, row["tag"], row["amount"])
        _add(by_service, row["service"], row["amount"])
        _add(by_period.setdefault(row["start"], {}), row["tag"], row["amount"])
    total = round(sum(by_tag.values()), 6)
    untagged = by_tag.get(UNTAGGED, 0.0)
    return {
        "total": total,
        "unit": table[0]["unit"] if table else "USD",
        "by_tag": dict(sorted(by_tag.items(), key=lambda item: (-item[1], item[0]))),
        "by_service": dict(sorted(by_service.items(), key=lambda item: (-item[1], item[0]))),
        "by_period": {start: by_period[start] for start in sorted(by_period)},
        "untagged": {"amount": untagged, "share": round(100.0 * untagged / total, 2) if total else 0.0},
    }


def to_csv(table):
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=["start", "end", "tag", "service", "amount", "unit"], lineterminator="\n"
    )
    writer.writeheader()
    writer.writerows(table)
    return buffer.getvalue()


def to_markdown(summary, tag_key, start, end, colours=None, chart=None, chart_skipped=None):
    """A report for people: totals by tag value (with chart colours), the untagged share, top services, and the
    chart (file name `chart`) or why it was skipped (`chart_skipped`)."""
    unit = summary["unit"]
    lines = [
        f"# Cost by `{tag_key}` from {start} to {end}",
        "",
        f"Total: **{summary['total']:.2f} {unit}**. Untagged: **{summary['untagged']['amount']:.2f} {unit}**"
        f" ({summary['untagged']['share']:.2f} %).",
        "",
        f"| {tag_key} | Cost ({unit}) | Share | Chart colour |",
        "|---|---:|---:|---|",
    ]
    for value, amount in summary["by_tag"].items():
        share = 100.0 * amount / summary["total"] if summary["total"] else 0.0
        colour = "#{:02x}{:02x}{:02x}".format(*colours[value]) if colours and value in colours else ""
        lines.append(f"| {value} | {amount:.2f} | {share:.2f} % | {colour} |")
    lines += ["", f"| Service | Cost ({unit}) |", "|---|---:|"]
    lines += [f"| {service} | {amount:.2f} |" for service, amount in summary["by_service"].items()]
    if chart:
        lines += ["", f"![Cost by {tag_key} per period]({chart})"]
    elif chart_skipped:
        lines += ["", f"Chart skipped: {chart_skipped}."]
    return "\n".join(lines) + "\n"
