#!/usr/bin/python
# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cost_report
short_description: Cost and usage from Cost Explorer by cost-allocation tag and service, as data, CSV, Markdown and PNG
version_added: 0.1.0
description:
  - Reads GetCostAndUsage over a period, grouped by a cost-allocation tag (for example C(team)) and by
    service, all pages, and returns rows and totals with the untagged share called out.
  - Writes C(<basename>.csv), C(<basename>.md) and C(<basename>.png) to O(output_dir); files are only
    rewritten when their content changes.
  - The PNG (1000x500) is a stacked bar chart drawn by matplotlib, with one bar per period and its total on top,
    a segment per tag value (untagged in grey, on top), cost in the report's unit (USD) on the y axis and a
    legend of the tag values; the Markdown names each value's colour.
  - matplotlib is optional. Without it the module still writes the CSV and the Markdown, warns, and says in
    the Markdown and in RV(chart_skipped) that the chart was skipped and why.
  - Optionally activates cost-allocation tag keys that are not active yet (ListCostAllocationTags,
    UpdateCostAllocationTagsStatus), so Cost Explorer starts grouping by them.
author:
  - Keel platform team (@keel-platform)
extends_documentation_fragment:
  - keel.platform.aws
requirements:
  - matplotlib (optional, for the chart)
attributes:
  check_mode:
    description: Reads costs; writes no file and activates no tag key, reporting what would change.
    support: full
  diff_mode:
    description: No diff is returned.
    support: none
options:
  tag_key:
    description: The cost-allocation tag key to group by.
    type: str
    required: true
  start:
    description:
      - First day of the period, inclusive, as an ISO date V(YYYY-MM-DD) (for example V(2026-07-01)).
      - Anything else (V(2026-1-5), V(2026-02-30), V(last month)) is refused before Cost Explorer is called.
    type: str
    required: true
  end:
    description: Day after the period (exclusive), an ISO date V(YYYY-MM-DD) later than O(start).
    type: str
    required: true
  granularity:
    description: Cost Explorer granularity.
    type: str
    choices: [DAILY, MONTHLY]
    default: MONTHLY
  metric:
    description: The cost metric.
    type: str
    choices: [UnblendedCost, BlendedCost, AmortizedCost, NetUnblendedCost, NetAmortizedCost]
    default: UnblendedCost
  output_dir:
    description: Directory for the CSV, Markdown and PNG files; without it only data is returned.
    type: path
  basename:
    description: File name stem of the written files.
    type: str
    default: cost-report
  activate_tags:
    description: Cost-allocation tag keys to activate before reading.
    type: list
    elements: str
    default: []
notes:
  - Cost Explorer is global. Its calls go to its one endpoint (in V(us-east-1)) whatever O(region) says,
    so no region needs to be set.
seealso:
  - module: keel.platform.cost_tags
"""

EXAMPLES = r"""
- name: Last quarter's costs by team
  keel.platform.cost_report:
    tag_key: team
    start: "2026-07-01"
    end: "2026-10-01"
    output_dir: /srv/reports/costs
    activate_tags: [team, service, env]
  register: costs
"""

RETURN = r"""
rows:
  description: One row per period, tag value and service (start, end, tag, service, amount, unit).
  returned: always
  type: list
  elements: dict
summary:
  description: Total, totals by tag value, by service and by period, and the untagged amount and share (percent).
  returned: always
  type: dict
files:
  description: Paths of the CSV (C(csv)), Markdown (C(markdown)) and, when it was drawn, PNG (C(png)) files.
  returned: when O(output_dir) is set
  type: dict
chart_skipped:
  description: Why no chart was drawn (matplotlib is not installed for the Python that runs the module).
  returned: when O(output_dir) is set and matplotlib is missing
  type: str
activated:
  description: Tag keys activated by this run (or that would be, in check mode).
  returned: always
  type: list
  elements: str
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.keel.platform.plugins.module_utils import _aws, _cost_chart
from ansible_collections.keel.platform.plugins.module_utils._atomic_file import write_atomic
from ansible_collections.keel.platform.plugins.module_utils._aws_module import Clients, aws_argument_spec
from ansible_collections.keel.platform.plugins.module_utils._cost_report import (
    UNTAGGED,
    last_day,
    period,
    request,
    rows,
    summarise,
    to_csv,
    to_markdown,
)


def _results(ce, params):
    """Every ResultsByTime page of the period."""
    query = request(params["start"], params["end"], params["granularity"], params["tag_key"], params["metric"])
    pages, token = [], None
    while True:
        answer = _aws.call_with_backoff(ce.get_cost_and_usage, **query, **({"NextPageToken": token} if token else {}))
        pages.extend(answer.get("ResultsByTime", ()))
        token = answer.get("NextPageToken")
        if not token:
            return pages


def _inactive(ce, keys):
    """The keys among `keys` that are not active cost-allocation tags yet."""
    active, token = set(), None
    while True:
        answer = _aws.call_with_backoff(
            ce.list_cost_allocation_tags, TagKeys=list(keys), **({"NextToken": token} if token else {})
        )
        active.update(t["TagKey"] for t in answer.get("CostAllocationTags", ()) if t.get("Status") == "Active")
        token = answer.get("NextToken")
        if not token:
            return [key for key in keys if key not in active]


def _write(path, data, check_mode):
    """True when the file's content changes (and, outside check mode, writes it)."""
    try:
        with open(path, "rb") as handle:
            if handle.read() == data:
                return False
    except FileNotFoundError:
        pass
    if not check_mode:
        write_atomic(path, data)
    return True


def _report_files(params, table, summary):
    """({kind: path}, {kind: bytes}, why the chart was skipped or None) of the report in output_dir."""
    stem = os.path.join(params["output_dir"], params["basename"])
    names = [name for name in summary["by_tag"] if name != UNTAGGED] + (
        [UNTAGGED] if UNTAGGED in summary["by_tag"] else []
    )
    palette = _cost_chart.colours(names, UNTAGGED)
    skipped = _cost_chart.skipped_reason()
    files = {"csv": stem + ".csv", "markdown": stem + ".md"}
    if not skipped:
        files["png"] = stem + ".png"
    # People read a period by its last day; Cost Explorer's end is the day after.
    markdown = to_markdown(
        summary,
        params["tag_key"],
        params["start"],
        last_day(params["end"]),
        palette,
        chart=os.path.basename(files["png"]) if not skipped else None,
        chart_skipped=skipped,
    )
    contents = {"csv": to_csv(table).encode(), "markdown": markdown.encode()}
    if not skipped:
        figure = _cost_chart.figure(
            summary["by_period"],
            names,
            palette,
            title=f"Cost by {params['tag_key']}, {params['start']} to {last_day(params['end'])}",
            unit=summary["unit"],
            tag_key=params["tag_key"],
            granularity=params["granularity"],
        )
        contents["png"] = _cost_chart.png(figure)
    return files, contents, skipped


def _write_report(module, params, table, summary, result):
    """Write the report's files (not in check mode); True when one of them changes."""
    files, contents, skipped = _report_files(params, table, summary)
    if skipped:
        module.warn(f"cost_report: the chart was skipped: {skipped}")
        result["chart_skipped"] = skipped
    changed = False
    try:
        for kind, path in files.items():
            changed |= _write(path, contents[kind], module.check_mode)
    except OSError as error:
        module.fail_json(msg=f"cannot write the report to {params['output_dir']}: {error}")
    result["files"] = files
    return changed


def main():
    module = AnsibleModule(
        argument_spec=aws_argument_spec(
            tag_key={"type": "str", "required": True, "no_log": False},
            start={"type": "str", "required": True},
            end={"type": "str", "required": True},
            granularity={"type": "str", "choices": ["DAILY", "MONTHLY"], "default": "MONTHLY"},
            metric={
                "type": "str",
                "choices": ["UnblendedCost", "BlendedCost", "AmortizedCost", "NetUnblendedCost", "NetAmortizedCost"],
                "default": "UnblendedCost",
            },
            output_dir={"type": "path"},
            basename={"type": "str", "default": "cost-report"},
            activate_tags={"type": "list", "elements": "str", "default": [], "no_log": False},
        ),
        supports_check_mode=True,
    )
    if not _aws.HAS_BOTO3:
        module.fail_json(msg="keel.platform.cost_report needs boto3 and botocore (pip install boto3)")
    params = module.params
    try:
        params["start"], params["end"] = period(params["start"], params["end"])
    except ValueError as error:
        module.fail_json(msg=str(error))
    clients = Clients(params)
    try:
        region = clients.region()
    except _aws.botocore.exceptions.NoRegionError:
        # Cost Explorer's one endpoint is in us-east-1; botocore finds it without a region, except
        # behind endpoint_url, where the request still has to be signed for some region
        region = "us-east-1"
    ce = clients("ce", region)
    changed = False
    operation = "ce:ListCostAllocationTags"
    try:
        activate = _inactive(ce, params["activate_tags"]) if params["activate_tags"] else []
        if activate and not module.check_mode:
            operation = "ce:UpdateCostAllocationTagsStatus"
            statuses = [{"TagKey": key, "Status": "Active"} for key in activate]
            answer = _aws.call_with_backoff(ce.update_cost_allocation_tags_status, CostAllocationTagsStatus=statuses)
            errors = answer.get("Errors") or []
            if errors:
                module.fail_json(msg=f"Cost Explorer refused to activate tag keys: {errors}", errors=errors)
        changed = bool(activate)
        operation = "ce:GetCostAndUsage"
        table = rows(_results(ce, params), params["tag_key"], params["metric"])
    except _aws.AWS_ERRORS as error:
        module.fail_json(msg=_aws.describe_error(error, operation, params.get("endpoint_url")))
    summary = summarise(table)
    result = {"rows": table, "summary": summary, "activated": activate}
    if params["output_dir"]:
        changed |= _write_report(module, params, table, summary, result)
    module.exit_json(changed=changed, **result)


if __name__ == "__main__":
    main()
