"""cost_report's main() against a recorded Cost Explorer: pages, tag activation, files, check mode, no matplotlib."""

from __future__ import annotations

import csv
import io

import botocore.exceptions
import pytest
from ansible_collections.keel.platform.plugins.module_utils import _cost_chart
from ansible_collections.keel.platform.plugins.modules import cost_report
from PIL import Image

MONTHS = [("2026-08-01", "2026-09-01"), ("2026-09-01", "2026-10-01"), ("2026-10-01", "2026-11-01")]
COSTS = {"team$payments": [120.0, 130.0, 150.0], "team$search": [80.0, 60.0, 40.0], "team$": [50.0, 50.0, 60.0]}


def month(index):
    start, end = MONTHS[index]
    groups = [
        {"Keys": [key, "Amazon EC2"], "Metrics": {"UnblendedCost": {"Amount": str(costs[index]), "Unit": "USD"}}}
        for key, costs in COSTS.items()
    ]
    return {"TimePeriod": {"Start": start, "End": end}, "Groups": groups}


class CostExplorer:
    """Answers a month per page (so paging is exercised) and records the calls."""

    def __init__(self, active=(), error=None):
        self.active, self.error, self.calls = set(active), error, []

    def get_cost_and_usage(self, NextPageToken=None, **query):
        self.calls.append(("GetCostAndUsage", NextPageToken))
        if self.error:
            raise self.error
        index = int(NextPageToken or 0)
        page = {"ResultsByTime": [month(index)]}
        if index + 1 < len(MONTHS):
            page["NextPageToken"] = str(index + 1)
        return page

    def list_cost_allocation_tags(self, TagKeys, NextToken=None):
        self.calls.append(("ListCostAllocationTags", tuple(TagKeys)))
        statuses = [{"TagKey": key, "Status": "Active" if key in self.active else "Inactive"} for key in TagKeys]
        return {"CostAllocationTags": statuses}

    def update_cost_allocation_tags_status(self, CostAllocationTagsStatus):
        self.calls.append(("UpdateCostAllocationTagsStatus", tuple(s["TagKey"] for s in CostAllocationTagsStatus)))
        return {"Errors": []}


@pytest.fixture
def ce(monkeypatch):
    explorer = CostExplorer(active={"team"})

    class Clients:
        def __init__(self, params, pool=10):
            pass

        def region(self):
            return "us-east-1"

        def __call__(self, service, region=None):
            assert service == "ce"
            return explorer

    monkeypatch.setattr(cost_report, "Clients", Clients)
    return explorer


ARGS = {"tag_key": "team", "start": MONTHS[0][0], "end": MONTHS[-1][1]}


def test_every_page_is_read_and_summed(run_main, ce):
    result = run_main(cost_report, ARGS)
    assert [call for call in ce.calls if call[0] == "GetCostAndUsage"] == [
        ("GetCostAndUsage", None),
        ("GetCostAndUsage", "1"),
        ("GetCostAndUsage", "2"),
    ]
    assert result["summary"]["total"] == 740.0
    assert result["summary"]["untagged"] == {"amount": 160.0, "share": 21.62}
    assert "files" not in result
    assert result["changed"] is False


def test_the_report_files_then_nothing_changes(run_main, ce, tmp_path):
    result = run_main(cost_report, dict(ARGS, output_dir=str(tmp_path)))
    assert result["changed"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cost-report.csv", "cost-report.md", "cost-report.png"]
    table = list(csv.DictReader(io.StringIO((tmp_path / "cost-report.csv").read_text())))
    assert len(table) == 9
    markdown = (tmp_path / "cost-report.md").read_text()
    assert markdown.startswith("# Cost by `team` from 2026-08-01 to 2026-10-31\n")  # as the chart's title says
    assert "| payments | 400.00 | 54.05 % | #1f77b4 |" in markdown
    assert "| (untagged) | 160.00 | 21.62 % | #7f7f7f |" in markdown
    assert "![Cost by team per period](cost-report.png)" in markdown
    image = Image.open(tmp_path / "cost-report.png")
    assert (image.format, image.size) == ("PNG", (1000, 500))
    assert "chart_skipped" not in result
    again = run_main(cost_report, dict(ARGS, output_dir=str(tmp_path)))
    assert again["changed"] is False


def test_the_chart_shows_a_stacked_bar_per_month_with_its_title(run_main, ce, tmp_path, monkeypatch):
    drawn = []
    figure = _cost_chart.figure
    monkeypatch.setattr(
        _cost_chart, "figure", lambda *args, **kwargs: drawn.append(figure(*args, **kwargs)) or drawn[-1]
    )
    run_main(cost_report, dict(ARGS, output_dir=str(tmp_path)))
    (axes,) = drawn[0].axes
    assert axes.get_title() == "Cost by team, 2026-08-01 to 2026-10-31"
    assert [container.get_label() for container in axes.containers] == ["payments", "search", "(untagged)"]
    assert [len(container) for container in axes.containers] == [3, 3, 3]
    assert [rect.get_height() for rect in axes.containers[1]] == [80.0, 60.0, 40.0]


def test_without_matplotlib_csv_and_markdown_are_written_and_the_skip_is_explained(run_main, ce, tmp_path, monkeypatch):
    monkeypatch.setattr(_cost_chart, "HAS_MATPLOTLIB", False)
    monkeypatch.setattr(_cost_chart, "IMPORT_ERROR", "No module named 'matplotlib'")
    result = run_main(cost_report, dict(ARGS, output_dir=str(tmp_path)))
    assert "failed" not in result
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cost-report.csv", "cost-report.md"]
    assert sorted(result["files"]) == ["csv", "markdown"]
    assert result["chart_skipped"].startswith("matplotlib is not installed for the Python that runs the module")
    markdown = (tmp_path / "cost-report.md").read_text()
    assert f"Chart skipped: {result['chart_skipped']}." in markdown
    assert "![" not in markdown
    (warning,) = result["warnings"]
    assert warning["event"]["msg"] == f"cost_report: the chart was skipped: {result['chart_skipped']}"


def test_check_mode_writes_nothing_and_activates_nothing(run_main, ce, tmp_path):
    result = run_main(cost_report, dict(ARGS, output_dir=str(tmp_path / "new"), activate_tags=["team", "env"]), True)
    assert result["changed"]
    assert result["activated"] == ["env"]
    assert not (tmp_path / "new").exists()
    assert not [call for call in ce.calls if call[0] == "UpdateCostAllocationTagsStatus"]


def test_only_inactive_tag_keys_are_activated(run_main, ce):
    result = run_main(cost_report, dict(ARGS, activate_tags=["team", "env"]))
    assert result["activated"] == ["env"]
    assert ("UpdateCostAllocationTagsStatus", ("env",)) in ce.calls
    assert result["changed"]


def test_a_refused_call_names_the_iam_action(run_main, ce):
    ce.error = botocore.exceptions.ClientError(
        {"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetCostAndUsage"
    )
    result = run_main(cost_report, ARGS)
    assert result["failed"]
    assert "ce:GetCostAndUsage" in result["msg"]
    assert "grant it in IAM" in result["msg"]


def test_a_bad_date_is_refused_before_cost_explorer_is_called(run_main, ce):
    result = run_main(cost_report, dict(ARGS, start="2026-02-30"))
    assert result["failed"]
    assert "start" in result["msg"]
    assert ce.calls == []
