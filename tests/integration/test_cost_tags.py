# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cost_tags and cost_tags_info against moto_server on 127.0.0.1 (their own server: these tests write tags).

The tests run in file order: reports and failures first, then the full apply and its second run.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.fixtures.ansible_module import CREDENTIALS, run_module  # noqa: E402
from tests.fixtures.aws_estate import COST_POLICY, IMAGE_ID, seed, seed_cost, write_amis_file  # noqa: E402
from tests.fixtures.aws_proxy import AwsProxy  # noqa: E402
from tests.fixtures.moto_server import MotoServer  # noqa: E402

REGIONS = ["us-east-1", "eu-west-1"]
POLICY = COST_POLICY


@pytest.fixture(scope="module")
def account(tmp_path_factory):
    """A moto server with a small fleet and the cost extras; moto's public AMIs cut to the one we launch."""
    here = tmp_path_factory.mktemp("cost")
    amis = write_amis_file(here / "amis.json")
    previous = os.environ.get("MOTO_AMIS_PATH")
    os.environ.update(CREDENTIALS, MOTO_AMIS_PATH=amis)
    try:
        with MotoServer(here / "moto.log") as moto:
            os.environ.pop("MOTO_AMIS_PATH")
            seed(moto.url, 40, REGIONS)
            extras = seed_cost(moto.url, REGIONS[0])
            with AwsProxy(moto.port) as proxy:
                yield {"moto": moto, "proxy": proxy, "extras": extras, "dir": here}
    finally:
        if previous is not None:
            os.environ["MOTO_AMIS_PATH"] = previous


def run(account, module, args, *flags):
    """The result dict of keel.platform.<module> through the proxy."""
    account["proxy"].rules.calls.clear()
    params = {"policy_data": POLICY, "regions": REGIONS, "endpoint_url": account["proxy"].url, **args}
    return run_module(module, params, account["dir"] / "ansible-home", *flags)


def ec2_tags(account, resource_id, region=REGIONS[0]):
    ec2 = boto3.client("ec2", region_name=region, endpoint_url=account["moto"].url)
    found = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [resource_id]}])["Tags"]
    return {tag["Key"]: tag["Value"] for tag in found}


def by_id(result):
    return {item["id"]: item for item in result["resources"]}


def actions(item):
    return {action["key"]: action for action in item["actions"]}


def test_bad_policy_gives_a_clear_error(account):
    bad = dict(POLICY, inheritance=[{"parent": "volume", "child": "instance"}])
    result = run(account, "cost_tags", {"policy_data": bad})
    assert result["failed"]
    assert "bad cost policy" in result["msg"]
    assert "volume->instance is not an inheritance edge" in result["msg"]


NO_REGION = {"AWS_REGION": None, "AWS_DEFAULT_REGION": None, "AWS_PROFILE": None, "AWS_CONFIG_FILE": "/nonexistent"}


@pytest.mark.parametrize("variable", ["AWS_REGION", "AWS_DEFAULT_REGION"])
def test_without_region_or_regions_the_region_comes_from_the_environment(account, variable):
    rules = account["proxy"].rules
    rules.calls.clear()
    params = {"policy_data": POLICY, "endpoint_url": account["proxy"].url, "mode": "find"}
    params["resource_types"] = ["instance"]
    result = run_module(
        "cost_tags", params, account["dir"] / "ansible-home", env=dict(NO_REGION, **{variable: REGIONS[1]})
    )
    assert not result.get("failed"), result.get("msg")
    assert {region for (action, region) in rules.calls if action == "DescribeInstances"} == {REGIONS[1]}
    assert {item["region"] for item in result["resources"]} == {REGIONS[1]}


def test_no_region_anywhere_fails_saying_what_to_set(account):
    params = {"policy_data": POLICY, "endpoint_url": account["proxy"].url}
    result = run_module("cost_tags_info", params, account["dir"] / "ansible-home", env=NO_REGION)
    assert result["failed"]
    assert "set `region` or AWS_REGION" in result["msg"]


def test_a_region_answering_an_html_page_is_left_out_with_a_warning_naming_it(account):
    # moto answers a region it does not know with its HTML 500 page, as a broken endpoint would
    alone = run(account, "cost_tags_info", {"regions": [REGIONS[0]], "resource_types": ["instance", "volume"]})
    both = run(
        account, "cost_tags_info", {"regions": [REGIONS[0], "us-east-9"], "resource_types": ["instance", "volume"]}
    )
    assert not both.get("failed"), both.get("msg")
    assert both["summary"] == alone["summary"]
    assert [(u["where"], u["action"]) for u in both["unread"]] == [("us-east-9", "ec2:DescribeInstances")]
    warning = " ".join(" ".join(both["warnings"]).split())
    assert (
        "ec2:DescribeInstances in us-east-9 failed (ResponseParserError: an HTML page titled '500 Internal" in warning
    )
    assert "left out of this report" in warning


def test_every_region_failing_is_a_failure_naming_each_one(account):
    rules = account["proxy"].rules
    rules.faults = {REGIONS[0]: "html", REGIONS[1]: "error:403:AccessDenied"}
    result = run(account, "cost_tags", {"mode": "plan", "resource_types": ["instance"]})
    rules.faults = {}
    assert result["failed"]
    assert result["msg"].startswith("no resource could be read, so nothing was checked: ")
    assert (
        f"sts:GetCallerIdentity in {REGIONS[0]} failed (ResponseParserError: an HTML page titled '500 Internal"
        in result["msg"]
    )
    assert f"sts:GetCallerIdentity in {REGIONS[1]} failed (AccessDenied: " in result["msg"]
    assert "grant it in IAM" in result["msg"]
    assert not result.get("resources")


def test_check_mode_changes_nothing_and_reports_the_exact_plan(account):
    extras = account["extras"]
    before = ec2_tags(account, extras["owner_instance"])
    result = run(account, "cost_tags", {"mode": "apply"}, "--check", "--diff")
    assert result["changed"]
    assert not result.get("failed")
    assert account["proxy"].rules.total("TagResources") == 0
    assert ec2_tags(account, extras["owner_instance"]) == before
    plans = by_id(result)
    owner = actions(plans[extras["owner_instance"]])
    assert owner["team"]["action"] == "overwrite"
    assert owner["team"]["value"] == "payments"
    volume = plans[extras["volume"]]
    assert actions(volume)["team"]["action"] == "skip"  # fill_missing keeps team=search
    assert actions(volume)["env"] == {
        "key": "env",
        "status": "missing",
        "action": "add",
        "value": "prod",
        "reason": f"inherited from instance {extras['owner_instance']} (fill_missing)",
    }
    assert volume["after"] == {"team": "search", "env": "prod", "cost-center": "cc-100"}
    assert plans[extras["snapshot"]]["after"]["team"] == "search"  # from its volume
    assert plans[extras["image"]]["add"] == {"team": "payments", "env": "prod", "cost-center": "cc-100"}
    assert actions(plans["payments-web"])["team"]["action"] == "not_fixable"
    scaled = actions(plans[extras["asg_instance"]])["team"]
    assert scaled["value"] == "payments"
    assert scaled["reason"] == f"default from autoscaling_group aws:autoscaling:groupName=ledger-prod-{REGIONS[0]}-99"
    orphan = plans[extras["orphan_snapshot"]]
    assert orphan["parent"].endswith(f"instance/{extras['owner_instance']}")
    assert orphan["add"] == {"team": "payments", "env": "prod", "cost-center": "cc-100"}
    invalid = actions(plans[extras["invalid_instance"]])
    assert invalid["env"]["action"] == "not_fixable"
    assert "production" in invalid["env"]["reason"]
    assert invalid["cost-center"]["action"] == "rename"
    assert invalid["cost-center"]["from"] == "CostCenter"
    assert plans["keel-miscased"]["after"] == {"team": "data", "env": "dev", "cost-center": "cc-103"}
    assert result["diff"]
    assert all(set(d) == {"before", "after", "before_header", "after_header"} for d in result["diff"])
    assert all(len(batch["arns"]) <= 20 for batch in result["batches"])


def test_exceptions_hold_until_they_expire(account, tmp_path):
    exceptions = tmp_path / "exceptions.yml"
    exceptions.write_text(
        json.dumps(
            {
                "exceptions": [
                    {
                        "resource": "orphan-db",
                        "key": "*",
                        "owner": "ana",
                        "reason": "migrating",
                        "expires": "2026-12-31",
                    }
                ]
            }
        )
    )
    args = {"exceptions_file": str(exceptions), "resource_types": ["database"]}
    held = run(account, "cost_tags_info", dict(args, today="2026-12-31"))
    assert {e["id"] for e in held["exempt"]} == {"orphan-db"}
    assert not held["expired_exceptions"]
    assert held["summary"]["compliance"] == 100.0
    expired = run(account, "cost_tags_info", dict(args, today="2027-01-01"))
    # An *_info module reports low compliance; gating on it is the playbook's job (test_demo_playbooks.py).
    assert not expired.get("failed")
    assert not expired["changed"]
    assert expired["summary"]["compliance"] < 60
    assert [e["id"] for e in expired["expired_exceptions"]] == ["orphan-db"]  # a "*" exception, listed once
    assert expired["untagged"][0]["id"] == "orphan-db"
    assert expired["untagged"][0]["monthly_cost"] > 0
    assert (
        expired["summary"]["by_type"]["database"]["team"]["fixed"]
        + expired["summary"]["by_type"]["database"]["team"]["not_fixable"]
        == 1
    )


def test_per_arn_failures_are_reported_and_the_rest_applied(account):
    extras = account["extras"]
    arn = f"arn:aws:ec2:{REGIONS[0]}:123456789012:instance/"
    rules = account["proxy"].rules
    rules.fail_arns = {arn + extras["owner_instance"]: None, arn + extras["invalid_instance"]: 1}
    result = run(
        account, "cost_tags", {"mode": "apply", "resource_types": ["instance"], "regions": [REGIONS[0]], "retries": 2}
    )
    rules.fail_arns = {}
    assert result["failed"]
    assert result["msg"].endswith("; 1 could not be (see failures): InternalServiceException: test")
    changed = sum(1 for item in result["resources"] if item["add"] or item["remove"])
    assert result["msg"].startswith(f"{changed - 1} of the {changed} resource(s) to change were changed; ")
    assert list(result["failures"]) == [arn + extras["owner_instance"]]
    assert ec2_tags(account, extras["owner_instance"])["team"] == "Payments"
    assert "cost-center" in ec2_tags(account, extras["invalid_instance"])  # failed once, retried
    fixed = [item for item in result["resources"] if item["add"] and item["id"] != extras["owner_instance"]]
    assert fixed
    assert all(ec2_tags(account, item["id"]) == item["after"] for item in fixed)


def test_a_throttled_tag_resources_call_is_retried_whole_with_backoff(account):
    # botocore's own retries off (max_attempts 1): the module's backoff answers the throttling
    rules = account["proxy"].rules
    args = {"mode": "apply", "resource_types": ["instance", "volume"], "regions": [REGIONS[0]], "max_attempts": 1}
    rules.throttle[("TagResources", REGIONS[0])] = 2
    result = run(account, "cost_tags", args)
    assert not result.get("failed"), result.get("msg")
    tagging = [batch for batch in result["batches"] if batch["operation"] == "tag"]
    assert tagging
    assert rules.total("TagResources") == len(tagging) + 2
    assert all(ec2_tags(account, item["id"]) == item["after"] for item in result["resources"] if item["add"])


def test_throttling_that_outlasts_every_retry_is_reported_per_resource(account):
    rules = account["proxy"].rules
    args = {
        "mode": "apply",
        "resource_types": ["instance", "network_interface"],
        "regions": [REGIONS[0]],
        "max_attempts": 1,
        "retry_mode": "standard",  # adaptive mode would also slow every later call down
        "retries": 1,
    }
    rules.throttle[("TagResources", REGIONS[0])] = 100
    result = run(account, "cost_tags", args)
    rules.throttle.clear()
    assert result["failed"]
    assert result["failures"]
    assert all(
        "ThrottlingException" in reason and "kept throttling" in reason for reason in result["failures"].values()
    )
    # per batch: the call and its 3 backoff retries, twice (the batch retried once)
    assert rules.total("TagResources") == 8 * sum(batch["operation"] == "tag" for batch in result["batches"])
    assert all(ec2_tags(account, item["id"]) == item["before"] for item in result["resources"] if item["add"])


def test_types_the_tagging_api_refuses_are_tagged_with_the_service_call(account):
    rules = account["proxy"].rules
    rules.unsupported = {":elastic-ip/", "arn:aws:s3:::"}
    args = {"mode": "apply", "resource_types": ["instance", "network_interface", "address", "bucket"]}
    result = run(account, "cost_tags", dict(args, regions=[REGIONS[0]]))
    rules.unsupported = set()
    assert not result.get("failed"), result.get("msg")
    assert rules.total("CreateTags") > 0  # the Elastic IPs
    ec2 = boto3.client("ec2", region_name=REGIONS[0], endpoint_url=account["moto"].url)
    addresses = {item["AllocationId"]: item.get("Tags", []) for item in ec2.describe_addresses()["Addresses"]}
    changed = [item for item in result["resources"] if item["type"] == "address" and item["add"]]
    assert changed
    for item in changed:
        assert {tag["Key"]: tag["Value"] for tag in addresses[item["id"]]} == item["after"]
    s3 = boto3.client("s3", region_name=REGIONS[0], endpoint_url=account["moto"].url)
    tagset = s3.get_bucket_tagging(Bucket="keel-miscased")["TagSet"]  # renamed: tagged, then untagged
    assert {t["Key"]: t["Value"] for t in tagset} == {"team": "data", "env": "dev", "cost-center": "cc-103"}
    again = run(account, "cost_tags", dict(args, regions=[REGIONS[0]]))
    assert not again["changed"]


WRITABLE = ["instance", "volume", "snapshot", "network_interface", "address"]


def plan_of(account, region):
    """The resources of `region` that cost_tags would change, by ARN."""
    planned = run(account, "cost_tags", {"mode": "plan", "resource_types": WRITABLE, "regions": [region]})
    return {item["arn"]: item for item in planned["resources"] if item["add"] or item["remove"]}


def test_access_denied_says_nothing_was_changed_and_names_the_iam_action(account):
    rules = account["proxy"].rules
    changing = plan_of(account, REGIONS[1])
    assert len(changing) > 1
    rules.fail["TagResources"] = 403
    result = run(account, "cost_tags", {"mode": "apply", "resource_types": WRITABLE, "regions": [REGIONS[1]]})
    rules.fail = {}
    assert result["failed"]
    assert result["msg"].startswith(
        f"nothing was changed: none of the {len(changing)} resource(s) to change could be: AccessDeniedException: "
        "tag:TagResources failed (AccessDeniedException: "
    )
    assert result["msg"].endswith(
        f"the credentials in use are not allowed to call tag:TagResources; grant it in IAM ({len(changing)} resources)"
    )
    assert "above" not in result["msg"]
    assert not result["changed"]
    assert rules.total("UntagResources") == 0
    assert plan_of(account, REGIONS[1]).keys() == changing.keys()


def test_one_arn_refusing_its_whole_batch_is_isolated_and_the_rest_tagged(account):
    rules = account["proxy"].rules
    changing = plan_of(account, REGIONS[1])
    assert len(changing) > 2
    bad = sorted(changing)[len(changing) // 2]
    rules.refuse_arns = {bad}
    result = run(account, "cost_tags", {"mode": "apply", "resource_types": WRITABLE, "regions": [REGIONS[1]]})
    rules.refuse_arns = set()
    assert result["failed"]
    assert list(result["failures"]) == [bad]
    assert result["failures"][bad].startswith("InvalidParameterException: tag:TagResources failed (")
    assert "One or more of the resource ARNs is not valid" in result["failures"][bad]
    tagged = [item for item in result["resources"] if item["add"] and item["arn"] != bad]
    assert tagged
    assert all(ec2_tags(account, item["id"], REGIONS[1]) == item["after"] for item in tagged)
    assert ec2_tags(account, changing[bad]["id"], REGIONS[1]) == changing[bad]["before"]
    assert rules.total("TagResources") > sum(batch["operation"] == "tag" for batch in result["batches"])
    assert list(plan_of(account, REGIONS[1])) == [bad]


def crowded_instance(account, region):
    """An instance at the 50-tag limit whose Team key the policy renames to team."""
    ec2 = boto3.client("ec2", region_name=region, endpoint_url=account["moto"].url)
    instance = ec2.run_instances(ImageId=IMAGE_ID, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    tags = {f"label-{n:02d}": "x" for n in range(47)} | {"Team": "payments", "env": "prod", "cost-center": "cc-100"}
    ec2.create_tags(Resources=[instance], Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    return instance, tags


def test_a_rename_at_the_tag_limit_converges_and_a_failure_puts_the_old_key_back(account):
    instance, before = crowded_instance(account, REGIONS[1])
    arn = f"arn:aws:ec2:{REGIONS[1]}:123456789012:instance/{instance}"
    args = {"mode": "apply", "resource_types": ["instance"], "regions": [REGIONS[1]], "retries": 0}
    rules = account["proxy"].rules
    rules.fail_arns = {arn: 1}  # the tagging fails once: the removed key is put back
    failed = run(account, "cost_tags", args)
    rules.fail_arns = {}
    assert list(failed["failures"]) == [arn]
    assert failed["failures"][arn] == (
        "InternalServiceException: test; Team=payments, removed first to make room (at most 50 tags), was put back"
    )
    assert ec2_tags(account, instance, REGIONS[1]) == before
    result = run(account, "cost_tags", args)
    assert not result.get("failed"), result.get("msg")
    after = {k: v for k, v in before.items() if k != "Team"} | {"team": "payments"}
    assert ec2_tags(account, instance, REGIONS[1]) == after
    assert [b["operation"] for b in result["batches"] if arn in b["arns"]] == ["untag", "tag"]
    again = run(account, "cost_tags", args)
    assert not again["changed"]


def test_apply_fixes_everything_fixable_and_a_second_run_changes_nothing(account):
    extras = account["extras"]
    result = run(account, "cost_tags", {"mode": "apply"})
    assert not result.get("failed"), result.get("msg")
    assert result["changed"]
    assert ec2_tags(account, extras["owner_instance"])["team"] == "payments"
    assert ec2_tags(account, extras["volume"]) == {"team": "search", "env": "prod", "cost-center": "cc-100"}
    s3 = boto3.client("s3", region_name=REGIONS[0], endpoint_url=account["moto"].url)
    tagset = s3.get_bucket_tagging(Bucket="keel-miscased")["TagSet"]
    assert {t["Key"]: t["Value"] for t in tagset} == {"team": "data", "env": "dev", "cost-center": "cc-103"}
    again = run(account, "cost_tags", {"mode": "apply"})
    assert not again["changed"]
    assert again["summary"]["changes"] == 0
    assert not again["batches"]
    assert account["proxy"].rules.total("TagResources") == 0
    left = {a["action"] for item in again["resources"] for a in item["actions"]}
    assert left <= {"ok", "skip", "not_fixable", "exempt"}
