#!/usr/bin/python
# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cost_tags
short_description: Find, plan and apply cost-allocation tags from the cost policy
version_added: 0.1.0
description:
  - Finds resources with each service's own Describe/List calls (all pages, several regions at
    once), so never-tagged resources are found too, and checks their tags against the cost policy.
  - Plans a per-resource change for every required key, one of C(add) (inherited from the parent resource
    or from a default rule), C(rename) (a mis-cased key such as C(CostCenter) becomes the policy's
    spelling), C(overwrite) (a value fixed by case, or an C(overwrite) inheritance edge), C(skip)
    (a child keeps its own value under C(fill_missing)), C(exempt) (a live exception), or
    C(not_fixable) with the reason.
  - The inheritance graph is instance -> EBS volumes -> snapshots (by volume, by AMI block-device
    mapping, and for orphan snapshots by their CreateImage description), instance -> network
    interfaces -> Elastic IPs; each edge is C(fill_missing) (default), C(overwrite) or C(never).
  - Writes go through the Resource Groups Tagging API's TagResources and UntagResources, at most
    20 ARNs per call; ARNs it refuses as a type it does not cover are tagged with the service's own
    call (EC2 CreateTags/DeleteTags, RDS AddTagsToResource/RemoveTagsFromResource, ELBv2
    AddTags/RemoveTags, S3 PutBucketTagging). A throttled call is retried whole with backoff;
    per-ARN failures are retried with backoff and reported without losing the rest. C(aws:) keys
    are never written or removed, no resource is taken past 50 tags, and tags the policy does not
    own are only removed when listed in O(remove_tags).
author:
  - Keel platform team (@keel-platform)
extends_documentation_fragment:
  - keel.platform.aws
  - keel.platform.cost_tags
attributes:
  check_mode:
    description: Check mode is O(mode=plan) whatever O(mode) says.
    support: full
  diff_mode:
    description: Returns the tags before and after of every resource that changes (or would).
    support: full
options:
  mode:
    description:
      - V(find) reports compliance only; V(plan) also reports every change it would make (and
        C(changed) when there are some); V(apply) makes them.
    type: str
    choices: [find, plan, apply]
    default: plan
  remove_tags:
    description: Tag keys to remove from every resource found (never C(aws:) keys).
    type: list
    elements: str
    default: []
  batch_size:
    description: ARNs per TagResources call (AWS accepts at most 20).
    type: int
    default: 20
  retries:
    description: Retries, with jittered exponential backoff, of ARNs whose tagging failed with a retryable error.
    type: int
    default: 3
notes:
  - Runs where boto3 is, usually C(localhost). Needs the C(Describe*)/C(List*) permissions of the
    resource types, C(tag:TagResources), C(tag:UntagResources) and the service tagging permissions
    (C(ec2:CreateTags), C(ec2:DeleteTags), C(rds:AddTagsToResource), C(rds:RemoveTagsFromResource),
    C(elasticloadbalancing:AddTags), C(elasticloadbalancing:RemoveTags), C(s3:GetBucketTagging),
    C(s3:PutBucketTagging)).
seealso:
  - module: keel.platform.cost_tags_info
  - module: keel.platform.cost_report
"""

EXAMPLES = r"""
- name: Show what the cost policy would change
  keel.platform.cost_tags:
    policy: "{{ keel_cost_policy }}"
    regions: [eu-west-1, us-east-1]
    mode: plan
  register: cost_plan

- name: Apply it
  keel.platform.cost_tags:
    policy: "{{ keel_cost_policy }}"
    exceptions_file: files/cost-exceptions.yml
    regions: [eu-west-1, us-east-1]
    mode: apply
"""

RETURN = r"""
resources:
  description: Every resource that is not compliant, changes, or is exempt, with its tags before and after.
  returned: always
  type: list
  elements: dict
  contains:
    arn: {description: ARN, type: str}
    id: {description: Resource id, type: str}
    type: {description: Resource type, type: str}
    region: {description: Region, type: str}
    parent: {description: ARN of the resource it inherits from, type: str}
    before: {description: Tags before the run, type: dict}
    after: {description: "Tags after the run (planned, or applied when nothing failed)", type: dict}
    add: {description: Tags set (new or changed), type: dict}
    remove: {description: Tag keys removed, type: list, elements: str}
    actions:
      description:
        - One action per required key (key, status, action, value, reason).
        - C(status) is the cost policy's verdict on the tags before the run (ok, missing, invalid or exempt), the
          one the C(aws_fleet) inventory's groups and the observability agent's tag metrics give too.
      type: list
      elements: dict
summary:
  description:
    - Counts by resource type and key (compliant, fixed, not_fixable with its reasons, exempt).
    - The compliance share (resources compliant before the run).
  returned: always
  type: dict
untagged:
  description: Non-compliant resources ranked by their monthly cost estimate (USD), costliest first.
  returned: always
  type: list
  elements: dict
exempt:
  description: Keys of resources held by a live exception, with its owner, reason and expiry.
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
batches:
  description: The TagResources/UntagResources calls made (or that would be made).
  returned: always
  type: list
  elements: dict
failures:
  description: ARNs whose tagging failed after retries, with the reason.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.keel.platform.plugins.module_utils import _aws
from ansible_collections.keel.platform.plugins.module_utils._aws_module import Clients, aws_argument_spec
from ansible_collections.keel.platform.plugins.module_utils._cost_tags_run import (
    MUTUALLY_EXCLUSIVE,
    OPTIONS,
    REQUIRED_ONE_OF,
    evaluate_or_fail,
    failure_message,
    report,
)
from ansible_collections.keel.platform.plugins.module_utils._native_tagging import apply_native, unsupported
from ansible_collections.keel.platform.plugins.module_utils._tag_batches import (
    MAX_ARNS,
    Refused,
    apply_batches,
    batches,
    isolate,
    splittable,
)


def _caller(clients, params):
    def call(batch, arns):
        tagging = clients("resourcegroupstaggingapi", batch["region"])
        operation = "tag:TagResources" if batch["operation"] == "tag" else "tag:UntagResources"

        def send(part):
            try:
                if batch["operation"] == "tag":
                    answer = _aws.call_with_backoff(tagging.tag_resources, ResourceARNList=part, Tags=batch["tags"])
                else:
                    answer = _aws.call_with_backoff(
                        tagging.untag_resources, ResourceARNList=part, TagKeys=batch["keys"]
                    )
            except _aws.AWS_ERRORS as error:
                message = _aws.describe_error(error, operation, params.get("endpoint_url"))
                failure = {"ErrorCode": _aws.error_code(error), "ErrorMessage": message, "StatusCode": 400}
                raise Refused(failure, splittable(error)) from error
            return answer.get("FailedResourcesMap") or {}

        failed = isolate(send, arns)
        # types the Tagging API does not cover (per ARN, or the whole call refused): the service's own call
        refused = [arn for arn in arns if arn in failed and unsupported(failed[arn])]
        if refused:
            failed = {arn: failure for arn, failure in failed.items() if arn not in refused}
            failed.update(apply_native(clients, batch, refused))
        return failed

    return call


def main():
    module = AnsibleModule(
        argument_spec=aws_argument_spec(
            mode={"type": "str", "choices": ["find", "plan", "apply"], "default": "plan"},
            remove_tags={"type": "list", "elements": "str", "default": [], "no_log": False},
            batch_size={"type": "int", "default": MAX_ARNS},
            retries={"type": "int", "default": 3},
            **OPTIONS,
        ),
        mutually_exclusive=MUTUALLY_EXCLUSIVE,
        required_one_of=REQUIRED_ONE_OF,
        supports_check_mode=True,
    )
    if not _aws.HAS_BOTO3:
        module.fail_json(
            msg="keel.platform.cost_tags needs boto3 and botocore on the host it runs on (pip install boto3)"
        )
    params = module.params
    mode = "plan" if module.check_mode and params["mode"] == "apply" else params["mode"]
    if not 1 <= params["batch_size"] <= MAX_ARNS:
        module.fail_json(
            msg=f"batch_size must be between 1 and {MAX_ARNS} (TagResources takes at most {MAX_ARNS} ARNs)"
        )
    clients = Clients(params, pool=max(10, params["workers"] * 2))
    resources, plans, unread = evaluate_or_fail(module, clients, params["remove_tags"])
    planned = batches(plans, params["batch_size"]) if mode != "find" else []
    failed = {}
    if mode == "apply" and planned:
        _done, failed = apply_batches(planned, _caller(clients, params), retries=params["retries"])
    changing = [p for p in plans if p["add"] or p["remove"]]
    for result in plans:
        if result["arn"] in failed:
            result["after"] = result["before"]
            result["failed"] = failed[result["arn"]]
    shown = [
        p for p in plans if p in changing or not p["compliant"] or any(a["action"] == "exempt" for a in p["actions"])
    ]
    result = dict(
        report(plans, resources, params["top"], failed),
        resources=[{k: v for k, v in p.items() if k != "expired_exceptions"} for p in shown],
        batches=[dict(b, count=len(b["arns"])) for b in planned],
        failures=failed,
        unread=unread,
        changed=mode != "find" and any(p["arn"] not in failed for p in changing),
    )
    if module._diff and mode != "find":
        result["diff"] = [
            {
                "before_header": f"{p['type']} {p['id']} ({p['region']})",
                "after_header": f"{p['type']} {p['id']} ({p['region']})",
                "before": {k: p["before"][k] for k in sorted(p["before"])},
                "after": {k: p["after"][k] for k in sorted(p["after"])},
            }
            for p in changing
        ]
    if failed:
        module.fail_json(msg=failure_message([p["arn"] for p in changing], failed), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
