from __future__ import annotations

import re

import pytest
from ansible_collections.keel.platform.plugins.module_utils._cost_report import period, request


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2026-07-01", "2026-10-01", ("2026-07-01", "2026-10-01")),
        (" 2026-02-28", "2026-03-01 ", ("2026-02-28", "2026-03-01")),
        ("2024-02-29", "2024-03-01", ("2024-02-29", "2024-03-01")),
    ],
)
def test_iso_periods_are_accepted(start, end, expected):
    assert period(start, end) == expected


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (
            "2026-02-30",
            "2026-03-01",
            "start must be a date written YYYY-MM-DD (for example 2026-07-01): "
            "'2026-02-30' is not a day of the calendar",
        ),
        (
            "last month",
            "2026-03-01",
            "start must be a date written YYYY-MM-DD (for example 2026-07-01): 'last month' is not written YYYY-MM-DD",
        ),
        (
            "2026-01-01",
            "2026-1-5",
            "end must be a date written YYYY-MM-DD (for example 2026-07-01): '2026-1-5' is not written YYYY-MM-DD",
        ),
        ("20260101", "2026-02-01", "'20260101' is not written YYYY-MM-DD"),
        ("2026-01-01T00:00", "2026-02-01", "is not written YYYY-MM-DD"),
        ("2026-09-01", "2026-10-01x", "end must be"),
        # compared as strings, '2026-10-01' < '2026-9-01'; as dates the period is backwards
        ("2026-11-01", "2026-08-01", "start (2026-11-01) must be before end (2026-08-01); end is exclusive"),
        ("2026-08-01", "2026-08-01", "must be before end"),
    ],
)
def test_anything_else_is_refused_naming_the_option(start, end, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        period(start, end)


def test_the_request_asks_for_the_tag_and_the_service_per_period():
    assert request("2026-07-01", "2026-10-01", "DAILY", "team", "AmortizedCost") == {
        "TimePeriod": {"Start": "2026-07-01", "End": "2026-10-01"},
        "Granularity": "DAILY",
        "Metrics": ["AmortizedCost"],
        "GroupBy": [{"Type": "TAG", "Key": "team"}, {"Type": "DIMENSION", "Key": "SERVICE"}],
    }
