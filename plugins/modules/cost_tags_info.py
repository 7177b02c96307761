#!/usr/bin/python
# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cost_tags_info
short_description: Report cost-tag compliance against the cost policy, and fail below a threshold
version_added: 0.1.0
description:
  - The report of M(keel.platform.cost_tags) without any write, with counts by resource type and key
    (compliant, fixable, not fixable, exempt), non-compliant resources ranked by their monthly cost
    estimate, live exemptions and expired exceptions.
  - Fails when compliance (the share of resources compliant with the policy) is below
    O(threshold), so a CI pipeline stops when tagging slips.
  - Optionally writes Prometheus textfile metrics (C(keel_untagged_resources) by resource type and
    key) for the node exporter's textfile collector, atomically.
author:
  - Keel platform team (@keel-platform)
extends_documentation_fragment:
  - keel.platform.aws
  - keel.platform.cost_tags
attributes:
  check_mode:
    description: Nothing is written to AWS in any mode; in check mode the metrics file is not written either.
    support: full
  diff_mode:
    description: Reports nothing as a diff.
    support: none
options:
  threshold:
    description: Minimum compliance, in percent (0 to 100), below which the module fails.
    type: float
    default: 0
  write_metrics:
    description:
      - Write C(keel_cost_tags.prom) to O(metrics_dir) (through a temporary file and a rename), with
        C(keel_untagged_resources{resource_type,key}) and C(keel_cost_tag_compliance_ratio).
    type: bool
    default: false
  metrics_dir:
    description: Directory of the node exporter's textfile collector (the observability agent's one by default).
    type: path
    default: /var/lib/prometheus/node-exporter
notes:
  - Runs where boto3 is, usually C(localhost); needs only Describe/List permissions.
seealso:
  - module: keel.platform.cost_tags
"""

EXAMPLES = r"""
- name: Fail the pipeline when fewer than 95 % of resources are tagged
  keel.platform.cost_tags_info:
    policy: "{{ keel_cost_policy }}"
    regions: [eu-west-1, us-east-1]
    threshold: 95
    write_metrics: true
"""

RETURN = r"""
summary:
  description:
    - Counts by resource type and key (compliant, fixed meaning fixable, not_fixable with its reasons, exempt).
    - The compliance share (resources compliant with the policy).
  returned: always
  type: dict
untagged:
  description: Non-compliant resources ranked by monthly cost estimate (USD), costliest first.
  returned: always
  type: list
  elements: dict
exempt:
  description: Keys held by a live exception.
  returned: always
  type: list
  elements: dict
expired_exceptions:
  description: Exceptions past their expiry, reported as violations.
  returned: always
  type: list
  elements: dict
unread:
  description:
    - Regions (or the global bucket listing) that could not be read, each with C(where), C(action) (the IAM
      action that failed) and C(message); their resources are missing from the report and a warning says so.
    - When nothing could be read the module fails instead.
  returned: always
  type: list
  elements: dict
metrics_path:
  description: The metrics file written.
  returned: when O(write_metrics=true)
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.keel.platform.plugins.module_utils import _aws
from ansible_collections.keel.platform.plugins.module_utils._atomic_file import write_atomic
from ansible_collections.keel.platform.plugins.module_utils._aws_module import Clients, aws_argument_spec
from ansible_collections.keel.platform.plugins.module_utils._cost_tags_run import (
    MUTUALLY_EXCLUSIVE,
    OPTIONS,
    REQUIRED_ONE_OF,
    evaluate_or_fail,
    metrics_text,
    report,
)


def main():
    module = AnsibleModule(
        argument_spec=aws_argument_spec(
            threshold={"type": "float", "default": 0},
            write_metrics={"type": "bool", "default": False},
            metrics_dir={"type": "path", "default": "/var/lib/prometheus/node-exporter"},
            **OPTIONS,
        ),
        mutually_exclusive=MUTUALLY_EXCLUSIVE,
        required_one_of=REQUIRED_ONE_OF,
        supports_check_mode=True,
    )
    if not _aws.HAS_BOTO3:
        module.fail_json(msg="keel.platform.cost_tags_info needs boto3 and botocore (pip install boto3)")
    params = module.params
    if not 0 <= params["threshold"] <= 100:
        module.fail_json(msg=f"threshold is a percentage between 0 and 100, got {params['threshold']}")
    resources, plans, unread = evaluate_or_fail(module, Clients(params, pool=max(10, params["workers"] * 2)))
    result = dict(report(plans, resources, params["top"]), unread=unread, changed=False)
    if params["write_metrics"]:
        result["metrics_path"] = os.path.join(params["metrics_dir"], "keel_cost_tags.prom")
        try:
            if not module.check_mode:
                write_atomic(result["metrics_path"], metrics_text(plans))
        except OSError as error:
            module.fail_json(msg=f"cannot write {result['metrics_path']}: {error}; fix the directory's permissions")
    compliance = result["summary"]["compliance"]
    if compliance < params["threshold"]:
        module.fail_json(
            msg=f"cost-tag compliance is {compliance}% ({result['summary']['compliant']} of "
            f"{result['summary']['resources']} resources), below the threshold of {params['threshold']}%",
            **result,
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
