# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""keel.platform.aws_fleet through ansible-inventory, against moto_server behind the test proxy."""

from __future__ import annotations

import boto3
from conftest import REGIONS, SECOND_ACCOUNT, unwrap

from tests.fixtures.aws_estate import IMAGE_ID, assume

LIVE = ("running", "pending", "stopping", "stopped")
ROLE = f"arn:aws:iam::{SECOND_ACCOUNT}:role/keel-inventory"
BASE = {
    "plugin": "keel.platform.aws_fleet",
    "regions": REGIONS,
    "accounts": [{"role_arn": ROLE, "alias": "second"}],
    "include_caller_account": True,
    "hostnames": ["instance-id"],
    "max_attempts": 2,
}


def live(truth):
    return {i["instance_id"]: i for i in truth["instances"] if i["state"] in LIVE}


def test_lists_every_live_instance_of_both_accounts(inventory, truth, proxy):
    result = inventory(BASE)
    assert result.returncode == 0, result.stderr
    expected = live(truth)
    assert set(result.hostvars) == set(expected)
    terminated = {i["instance_id"] for i in truth["instances"] if i["state"] == "terminated"}
    assert terminated
    assert not terminated & set(result.hostvars)
    for instance_id, instance in expected.items():
        hostvars = unwrap(result.hostvars[instance_id])
        assert hostvars["account_id"] == instance["account_id"]
        assert hostvars["placement"]["region"] == instance["region"]
        assert hostvars["private_ip_address"] == instance["private_ip_address"]
        assert hostvars["state"]["name"] == instance["state"]
        assert hostvars["ec2_tags"] == instance["tags"]
    second = {i for i, instance in expected.items() if instance["account_id"] == SECOND_ACCOUNT}
    assert second
    assert result.groups()["account_second"] == second
    # One DescribeInstances per region and account, one AssumeRole, nothing else.
    assert proxy.rules.total("DescribeInstances") == len(REGIONS) * 2
    assert proxy.rules.total() == len(REGIONS) * 2 + 1


def test_builds_platform_groups(inventory, truth):
    result = inventory({**BASE, "required_tags": ["team", "cost-center"]})
    assert result.returncode == 0, result.stderr
    groups = result.groups()
    expected = live(truth)

    def having(predicate):
        return {i for i, instance in expected.items() if predicate(instance)}

    def tag(instance, key):
        return next((v for k, v in instance["tags"].items() if k.lower() == key), None)

    for group, members in {
        "team_payments": having(lambda i: tag(i, "team") == "payments"),
        "state_stopped": having(lambda i: i["state"] == "stopped"),
        "missing_tag_cost_center": having(lambda i: "cost-center" not in i["tags"]),
    }.items():
        assert members, f"the estate has no instance for {group}"
        assert groups.get(group) == members, group
    # "Team" is a mis-cased key that normalises to team: it counts, as it does for cost_tags and the agent
    # (tests/integration/test_cost_policy_consumers.py), so those instances are in no missing_tag_team group.
    mis_cased = having(lambda i: "Team" in i["tags"])
    assert mis_cased
    assert groups.get("missing_tag_team", set()) == having(lambda i: tag(i, "team") is None)
    assert not mis_cased & groups.get("missing_tag_team", set())
    asg = next(i["asg"] for i in expected.values() if i["asg"])
    assert groups["asg_" + asg.replace("-", "_")] == having(lambda i: i["asg"] == asg)


def test_graph_shows_keyed_and_conditional_groups(inventory, truth):
    config = {
        **BASE,
        "keyed_groups": [{"key": "placement.region", "prefix": "region"}, {"key": "tags['service']", "prefix": "svc"}],
        "groups": {"stopped_hosts": "state.name == 'stopped'", "large": "instance_type.endswith('large')"},
        "compose": {"ansible_host": "private_ip_address"},
    }
    graph = inventory(config, graph=True)
    assert graph.returncode == 0, graph.stderr
    for group in ("@region_us_east_1:", "@region_ap_southeast_2:", "@stopped_hosts:", "@large:", "@svc_checkout:"):
        assert group in graph.stdout
    listed = inventory(config)
    stopped = {i for i, instance in live(truth).items() if instance["state"] == "stopped"}
    assert listed.groups()["stopped_hosts"] == stopped
    some = next(iter(listed.hostvars.values()))
    assert unwrap(some["ansible_host"]) == unwrap(some["private_ip_address"])


def test_a_failing_region_is_skipped_with_a_warning(inventory, truth, proxy):
    proxy.rules.fail["eu-west-1"] = 500
    result = inventory(BASE)
    assert result.returncode == 0, result.stderr
    assert "skipped eu-west-1 in the caller's account" in result.stderr
    assert "InternalError" in result.stderr
    expected = {i for i, instance in live(truth).items() if instance["region"] != "eu-west-1"}
    assert set(result.hostvars) == expected


def test_a_failing_region_is_an_error_when_strict(inventory, proxy):
    proxy.rules.fail["eu-west-1"] = 500
    result = inventory({**BASE, "strict": True})
    assert result.returncode != 0
    assert "eu-west-1" in result.stderr
    assert "strict is set" in result.stderr


def test_throttling_is_retried(inventory, truth, proxy):
    proxy.rules.throttle[("DescribeInstances", "us-east-1")] = 3
    result = inventory({**BASE, "max_attempts": 3, "retry_mode": "standard"})
    assert result.returncode == 0, result.stderr
    assert set(result.hostvars) == set(live(truth))
    # 2 throttled attempts inside botocore, then one backoff retry that is throttled once more.
    assert proxy.rules.calls[("DescribeInstances", "us-east-1")] == 5


def test_discovery_skips_regions_not_opted_in(inventory, truth, proxy):
    proxy.rules.not_opted_in.add("ap-southeast-2")
    result = inventory({**BASE, "regions": [], "accounts": [], "include_caller_account": False})
    assert result.returncode == 0, result.stderr
    assert "ap-southeast-2" not in result.stderr
    expected = {
        i
        for i, instance in live(truth).items()
        if instance["region"] != "ap-southeast-2" and instance["account_id"] != SECOND_ACCOUNT
    }
    assert set(result.hostvars) == expected
    assert proxy.rules.calls[("DescribeInstances", "ap-southeast-2")] == 0
    assert proxy.rules.total("DescribeRegions") == 1


def test_an_explicit_region_not_opted_in_warns(inventory, proxy):
    proxy.rules.not_opted_in.add("ap-southeast-2")
    result = inventory(BASE)
    assert result.returncode == 0, result.stderr
    assert "skipped ap-southeast-2" in result.stderr
    assert "AuthFailure" in result.stderr


def test_duplicate_and_unresolved_host_names_are_reported(inventory, truth):
    expected = live(truth)
    named = [i for i in expected.values() if "Name" in i["tags"]]
    unnamed = len(expected) - len(named)
    distinct = len({i["tags"]["Name"] for i in named})
    result = inventory({**BASE, "hostnames": ["tag:Name"]})
    assert result.returncode == 0, result.stderr
    assert len(result.hostvars) == distinct
    stderr = " ".join(result.stderr.split())
    assert f"dropped {unnamed} instance(s) with no value for hostnames" in stderr
    assert f"dropped {len(named) - distinct} instance(s) whose host name another instance already has" in stderr

    kept = inventory(
        {
            **BASE,
            "hostnames": ["tag:Name"],
            "on_unresolved_hostname": "instance_id",
            "on_duplicate_hostname": "instance_id",
        }
    )
    assert kept.returncode == 0, kept.stderr
    assert len(kept.hostvars) == len(expected)

    failed = inventory({**BASE, "hostnames": ["tag:Name"], "on_unresolved_hostname": "fail"})
    assert failed.returncode != 0
    assert "has no value for any of hostnames" in failed.stderr


def test_cache_serves_the_built_inventory_without_api_calls(inventory, proxy, tmp_path):
    config = {
        **BASE,
        "cache": True,
        "cache_plugin": "ansible.builtin.jsonfile",
        "cache_connection": str(tmp_path / "cache"),
    }
    cold = inventory(config)
    assert cold.returncode == 0, cold.stderr
    calls = proxy.rules.total()
    assert calls > 0
    warm = inventory(config)
    assert warm.returncode == 0, warm.stderr
    assert proxy.rules.total() == calls
    assert warm.data == cold.data
    other = inventory({**config, "regions": ["us-east-1"]})
    assert proxy.rules.total() > calls  # another region set is another cache key
    assert set(other.hostvars) < set(cold.hostvars)
    before = proxy.rules.total()
    inventory(config, "--flush-cache")
    assert proxy.rules.total() > before


def test_names_and_variables_match_aws_ec2(inventory, proxy):
    shared = {
        "regions": REGIONS,
        "hostnames": ["private-ip-address"],
        "keyed_groups": [{"key": "tags.team", "prefix": "team"}, {"key": "placement.region", "prefix": "region"}],
    }
    ours = inventory({**shared, "plugin": "keel.platform.aws_fleet", "default_groups": False, "host_group": "aws_ec2"})
    theirs = inventory({**shared, "plugin": "amazon.aws.aws_ec2", "endpoint_url": proxy.url}, suffix="aws_ec2")
    assert ours.returncode == 0, ours.stderr
    assert theirs.returncode == 0, theirs.stderr
    assert ours.groups() == theirs.groups()
    for name, hostvars in ours.hostvars.items():
        reference = unwrap(theirs.hostvars[name])
        for key, value in unwrap(hostvars).items():
            if key in ("account_id", "account_alias", "placement", "security_groups"):
                continue
            assert value == reference[key], (name, key)
        assert unwrap(hostvars)["placement"]["region"] == reference["placement"]["region"]

    full = inventory({**shared, "plugin": "keel.platform.aws_fleet", "default_groups": False, "hostvars": "full"})
    for name, hostvars in full.hostvars.items():
        reference = unwrap(theirs.hostvars[name])
        # aws_ec2's deprecated `tags` (a name ansible-core reserves) only with tags_hostvar.
        assert set(reference) - {"tags"} <= set(unwrap(hostvars)), (name, set(reference) - set(hostvars))
    legacy = inventory({**shared, "plugin": "keel.platform.aws_fleet", "hostvars": "full", "tags_hostvar": True})
    for name, hostvars in legacy.hostvars.items():
        assert set(unwrap(theirs.hostvars[name])) <= set(unwrap(hostvars))


def test_organization_accounts_are_read_with_their_names(inventory, truth, proxy, estate):
    organizations = boto3.client("organizations", region_name="us-east-1", endpoint_url=estate["moto"].url)
    organizations.create_organization(FeatureSet="ALL")
    account = organizations.create_account(AccountName="data-lake", Email="data@example.invalid")
    account_id = account["CreateAccountStatus"]["AccountId"]
    credentials = assume(estate["moto"].url, account_id)
    ec2 = boto3.client(
        "ec2",
        region_name="us-east-1",
        endpoint_url=estate["moto"].url,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    launched = {i["InstanceId"] for i in ec2.run_instances(ImageId=IMAGE_ID, MinCount=3, MaxCount=3)["Instances"]}

    result = inventory({**BASE, "regions": ["us-east-1"], "accounts": [], "include_caller_account": False,
                        "organization_role_name": "KeelInventory"})  # fmt: skip
    assert result.returncode == 0, result.stderr
    caller = {
        i
        for i, instance in live(truth).items()
        if instance["region"] == "us-east-1" and instance["account_id"] != SECOND_ACCOUNT
    }
    assert set(result.hostvars) == caller | launched
    assert result.groups()["account_data_lake"] == launched
    assert {unwrap(result.hostvars[i]["account_alias"]) for i in launched} == {"data-lake"}
    assert proxy.rules.total("ListAccounts") == 1
    assert proxy.rules.total("AssumeRole") == 2  # the management account is listed too
    assert proxy.rules.total("DescribeInstances") == 2


def test_an_account_that_cannot_be_assumed_is_skipped_with_a_warning(inventory, truth, proxy):
    proxy.rules.fail["AssumeRole"] = 403
    result = inventory(BASE)
    assert result.returncode == 0, result.stderr
    stderr = " ".join(result.stderr.split())
    assert f"skipped account {SECOND_ACCOUNT} (second): sts:AssumeRole of {ROLE} failed (AccessDenied" in stderr
    assert set(result.hostvars) == {
        i for i, instance in live(truth).items() if instance["account_id"] != SECOND_ACCOUNT
    }


def test_an_inventory_missing_a_region_is_not_cached(inventory, proxy, tmp_path):
    config = {
        **BASE,
        "cache": True,
        "cache_plugin": "ansible.builtin.jsonfile",
        "cache_connection": str(tmp_path / "cache"),
    }
    proxy.rules.fail["eu-west-1"] = 500
    partial = inventory(config)
    assert partial.returncode == 0, partial.stderr
    del proxy.rules.fail["eu-west-1"]
    calls = proxy.rules.total()
    complete = inventory(config)
    assert proxy.rules.total() > calls
    assert set(complete.hostvars) > set(partial.hostvars)


def test_host_names_from_a_template_with_fallbacks(inventory, truth):
    result = inventory({**BASE, "hostnames": ["{{ tags.Name }}-{{ instance_id[-4:] }}", "instance-id"]})
    assert result.returncode == 0, result.stderr
    expected = {
        f"{i['tags']['Name']}-{instance_id[-4:]}" if "Name" in i["tags"] else instance_id
        for instance_id, i in live(truth).items()
    }
    assert set(result.hostvars) == expected


def test_filters_are_merged_into_one_call_per_region(inventory, truth, proxy):
    config = {
        **BASE,
        "filters": {"tag:env": "prod"},
        "include_filters": [{"tag:env": ["dev"]}],
        "exclude_filters": [{"tag:team": "payments"}],
    }
    result = inventory(config)
    assert result.returncode == 0, result.stderr
    expected = {
        i
        for i, instance in live(truth).items()
        if instance["tags"].get("env") in ("prod", "dev") and instance["tags"].get("team") != "payments"
    }
    assert expected
    assert set(result.hostvars) == expected
    assert proxy.rules.total("DescribeInstances") == len(REGIONS) * 2
