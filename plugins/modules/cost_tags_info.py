#!/usr/bin/python
# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cost_tags_info
short_description: Report cost-tag compliance against the cost policy, reading only
version_added: 0.1.0
description:
  - The report of M(keel.platform.cost_tags) without any write, with counts by resource type and key
    (compliant, fixable, not fixable, exempt), non-compliant resources ranked by their monthly cost
    estimate, live exemptions and expired exceptions.
  - Only reads, as every C(*_info) module does. It writes nothing to AWS or to disk and never fails on the
    figures it reports. Gate on C(summary.compliance) with M(ansible.builtin.assert); publish the figures
    for Prometheus with the P(keel.platform.cost_tags_metrics#filter) filter and M(ansible.builtin.copy)
    (C(playbooks/cost_tags.yml) does both).
author:
  - Keel platform team (@keel-platform)
extends_documentation_fragment:
  - keel.platform.aws
  - keel.platform.cost_tags
attributes:
  check_mode:
    description: Reads only, in every mode.
    support: full
  diff_mode:
    description: Reports nothing as a diff.
    support: none
notes:
  - Runs where boto3 is, usually C(localhost); needs only Describe/List permissions.
seealso:
  - module: keel.platform.cost_tags
"""

EXAMPLES = r"""
- name: Read cost-tag compliance
  keel.platform.cost_tags_info:
    policy: "{{ keel_cost_policy }}"
    regions: [eu-west-1, us-east-1]
  register: compliance

- name: Fail the pipeline when fewer than 95 % of resources are tagged
  ansible.builtin.assert:
    that: compliance.summary.compliance >= 95
    fail_msg: >-
      cost-tag compliance is {{ compliance.summary.compliance }}% ({{ compliance.summary.compliant }} of
      {{ compliance.summary.resources }} resources), below 95%
    quiet: true

- name: Publish the figures for the node exporter's textfile collector
  ansible.builtin.copy:
    content: "{{ compliance.summary | keel.platform.cost_tags_metrics }}"
    dest: /var/lib/prometheus/node-exporter/keel_cost_tags.prom
    mode: "0644"
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
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.keel.platform.plugins.module_utils import _aws
from ansible_collections.keel.platform.plugins.module_utils._aws_module import Clients, aws_argument_spec
from ansible_collections.keel.platform.plugins.module_utils._cost_tags_run import (
    MUTUALLY_EXCLUSIVE,
    OPTIONS,
    REQUIRED_ONE_OF,
    evaluate_or_fail,
    report,
)


def main():
    module = AnsibleModule(
        argument_spec=aws_argument_spec(**OPTIONS),
        mutually_exclusive=MUTUALLY_EXCLUSIVE,
        required_one_of=REQUIRED_ONE_OF,
        supports_check_mode=True,
    )
    if not _aws.HAS_BOTO3:
        module.fail_json(msg="keel.platform.cost_tags_info needs boto3 and botocore (pip install boto3)")
    params = module.params
    resources, plans, unread = evaluate_or_fail(module, Clients(params, pool=max(10, params["workers"] * 2)))
    module.exit_json(**report(plans, resources, params["top"]), unread=unread, changed=False)


if __name__ == "__main__":
    main()
