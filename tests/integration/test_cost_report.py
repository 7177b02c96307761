# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cost_report against moto_server on 127.0.0.1: results set through moto's own CE API; tag activation
(which moto lacks) answered by the loopback proxy in Cost Explorer's JSON protocol."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.fixtures.ansible_module import CREDENTIALS, run_module  # noqa: E402
from tests.fixtures.aws_estate import seed_cost_explorer  # noqa: E402
from tests.fixtures.aws_proxy import AwsProxy  # noqa: E402
from tests.fixtures.moto_server import MotoServer  # noqa: E402

MONTHS = [("2026-08-01", "2026-09-01"), ("2026-09-01", "2026-10-01"), ("2026-10-01", "2026-11-01")]
COSTS = {"team$payments": [120.0, 130.0, 150.0], "team$search": [80.0, 60.0, 40.0], "team$": [50.0, 50.0, 60.0]}
PALETTE_FIRST, UNTAGGED_GREY = (31, 119, 180), (127, 127, 127)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    here = tmp_path_factory.mktemp("cost-report")
    os.environ.update(CREDENTIALS)
    with MotoServer(here / "moto.log") as moto:
        seed_cost_explorer(moto.url, MONTHS, COSTS)
        with AwsProxy(moto.port) as proxy:
            yield {"proxy": proxy, "dir": here}


def report(server, **args):
    params = {
        "tag_key": "team",
        "start": MONTHS[0][0],
        "end": MONTHS[-1][1],
        "endpoint_url": server["proxy"].url,
        **args,
    }
    flags = ("--check",) if params.pop("check", False) else ()
    return run_module("cost_report", params, server["dir"] / "ansible-home", *flags)


def test_report_as_data_csv_markdown_and_png_then_nothing_changes(server, tmp_path):
    result = report(server, output_dir=str(tmp_path))
    assert result["changed"]
    summary = result["summary"]
    assert summary["total"] == 740.0
    assert summary["by_tag"] == {"payments": 400.0, "search": 180.0, "(untagged)": 160.0}
    assert summary["untagged"] == {"amount": 160.0, "share": 21.62}
    with open(result["files"]["csv"], encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == 9
    assert {row["tag"] for row in table} == {"payments", "search", "(untagged)"}
    markdown = Path(result["files"]["markdown"]).read_text()
    assert "Untagged: **160.00 USD** (21.62 %)" in markdown
    assert "| payments | 400.00 | 54.05 % | #1f77b4 |" in markdown
    image = Image.open(result["files"]["png"])
    assert (image.format, image.size) == ("PNG", (1000, 500))
    drawn = {colour for _count, colour in image.convert("RGB").getcolors(1_000_000)}
    assert {PALETTE_FIRST, UNTAGGED_GREY} <= drawn
    again = report(server, output_dir=str(tmp_path))
    assert not again["changed"]


def test_check_mode_writes_nothing(server, tmp_path):
    result = report(server, output_dir=str(tmp_path / "new"), check=True)
    assert result["changed"]
    assert not (tmp_path / "new").exists()


def test_tag_keys_are_activated_once(server):
    rules = server["proxy"].rules
    rules.answers = {
        "ListCostAllocationTags": {
            "CostAllocationTags": [{"TagKey": "team", "Type": "UserDefined", "Status": "Inactive"}]
        },
        "UpdateCostAllocationTagsStatus": {"Errors": []},
    }
    rules.requests = {}
    first = report(server, activate_tags=["team", "env"])
    assert first["changed"]
    assert first["activated"] == ["team", "env"]
    assert rules.requests["UpdateCostAllocationTagsStatus"] == [
        {"CostAllocationTagsStatus": [{"TagKey": "team", "Status": "Active"}, {"TagKey": "env", "Status": "Active"}]}
    ]
    rules.answers["ListCostAllocationTags"] = {
        "CostAllocationTags": [{"TagKey": key, "Type": "UserDefined", "Status": "Active"} for key in ("team", "env")]
    }
    second = report(server, activate_tags=["team", "env"])
    assert not second["changed"]
    assert len(rules.requests["UpdateCostAllocationTagsStatus"]) == 1
    rules.reset()


def test_a_bad_period_says_what_to_do(server):
    result = report(server, start="2026-11-01", end="2026-08-01")
    assert result["failed"]
    assert "must be before end" in result["msg"]


@pytest.mark.parametrize(
    ("option", "value", "problem"),
    [
        ("start", "2026-02-30", "is not a day of the calendar"),
        ("start", "last month", "is not written YYYY-MM-DD"),
        ("end", "2026-1-5", "is not written YYYY-MM-DD"),
    ],
)
def test_a_date_other_than_yyyy_mm_dd_is_refused_before_any_call(server, option, value, problem):
    rules = server["proxy"].rules
    rules.reset()
    result = report(server, **{option: value})
    assert result["failed"]
    assert result["msg"] == (
        f"{option} must be a date written YYYY-MM-DD (for example 2026-07-01): {value!r} {problem}"
    )
    assert rules.total() == 0


def page(start, end, groups, token=None):
    """One GetCostAndUsage answer: one period, {(tag key$value, service): amount}."""
    answer = {
        "ResultsByTime": [
            {
                "TimePeriod": {"Start": start, "End": end},
                "Total": {},
                "Groups": [
                    {"Keys": list(keys), "Metrics": {"UnblendedCost": {"Amount": str(amount), "Unit": "USD"}}}
                    for keys, amount in groups.items()
                ],
                "Estimated": False,
            }
        ],
        "DimensionValueAttributes": [],
    }
    if token:
        answer["NextPageToken"] = token
    return answer


def test_cost_explorer_is_asked_for_the_tag_granularity_and_period_and_every_page_is_read(server):
    rules = server["proxy"].rules
    rules.reset()
    rules.answers["GetCostAndUsage"] = [
        page("2026-09-01", "2026-09-02", {("env$prod", "Amazon EC2"): 10.0, ("env$", "Amazon S3"): 2.5}, "page-2"),
        page("2026-09-02", "2026-09-03", {("env$prod", "Amazon EC2"): 11.0}),
    ]
    result = report(server, tag_key="env", start="2026-09-01", end="2026-09-03", granularity="DAILY")
    assert not result.get("failed"), result.get("msg")
    asked = {
        "TimePeriod": {"Start": "2026-09-01", "End": "2026-09-03"},
        "Granularity": "DAILY",
        "Metrics": ["UnblendedCost"],
        "GroupBy": [{"Type": "TAG", "Key": "env"}, {"Type": "DIMENSION", "Key": "SERVICE"}],
    }
    assert rules.requests["GetCostAndUsage"] == [asked, dict(asked, NextPageToken="page-2")]
    assert result["summary"]["by_tag"] == {"prod": 21.0, "(untagged)": 2.5}
    assert result["summary"]["by_period"] == {
        "2026-09-01": {"prod": 10.0, "(untagged)": 2.5},
        "2026-09-02": {"prod": 11.0},
    }
    rules.reset()


def test_the_moto_backed_report_asks_for_the_months_of_the_period(server):
    rules = server["proxy"].rules
    rules.reset()
    result = report(server)
    assert result["summary"]["total"] == 740.0
    assert rules.requests["GetCostAndUsage"] == [
        {
            "TimePeriod": {"Start": MONTHS[0][0], "End": MONTHS[-1][1]},
            "Granularity": "MONTHLY",
            "Metrics": ["UnblendedCost"],
            "GroupBy": [{"Type": "TAG", "Key": "team"}, {"Type": "DIMENSION", "Key": "SERVICE"}],
        }
    ]


def test_access_denied_names_the_iam_action_to_grant(server):
    rules = server["proxy"].rules
    rules.reset()
    rules.fail["GetCostAndUsage"] = 403
    result = report(server)
    rules.reset()
    assert result["failed"]
    assert result["msg"].startswith("ce:GetCostAndUsage failed (AccessDeniedException: An error occurred")
    assert "GetCostAndUsage refused by the test proxy (us-east-1)" in result["msg"]
    assert result["msg"].endswith("the credentials in use are not allowed to call ce:GetCostAndUsage; grant it in IAM")


def test_module_defaults_set_the_connection_once_for_the_aws_group(server, tmp_path):
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        json.dumps(
            [
                {
                    "hosts": "localhost",
                    "gather_facts": False,
                    "module_defaults": {"group/keel.platform.aws": {"endpoint_url": server["proxy"].url}},
                    "tasks": [
                        {
                            "keel.platform.cost_report": {
                                "tag_key": "team",
                                "start": MONTHS[0][0],
                                "end": MONTHS[-1][1],
                            },
                            "register": "costs",
                        },
                        {"ansible.builtin.assert": {"that": ["costs.summary.total == 740.0"]}},
                    ],
                }
            ]
        )
    )
    env = {
        **os.environ,
        **CREDENTIALS,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_HOME": str(tmp_path / "home"),
    }
    completed = subprocess.run(
        [str(Path(sys.executable).with_name("ansible-playbook")), str(playbook)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-2000:]
