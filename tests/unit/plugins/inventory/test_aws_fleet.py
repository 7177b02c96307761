"""The aws_fleet plugin loaded by ansible's own plugin loader and parsed into a real InventoryData.

AWS is replaced at one seam, _fleet_fetch.fetch_fleet (what a run of the plugin reads); everything from
the inventory file to the groups and host variables is the plugin's own code.
"""

from __future__ import annotations

import sys

import pytest
import yaml
from ansible.errors import AnsibleError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import inventory_loader
from ansible.template import Templar
from ansible_collections.keel.platform.plugins.plugin_utils import _fleet_fetch
from ansible_collections.keel.platform.plugins.plugin_utils._fleet_fetch import FetchError, FetchResult

ACCOUNT = {"id": "111111111111", "alias": None}


def instance(number, state="running", **tags):
    return {
        "InstanceId": f"i-{number:04d}",
        "InstanceType": "t3.micro",
        "PrivateIpAddress": f"10.0.0.{number}",
        "Placement": {"AvailabilityZone": "eu-west-1a"},
        "State": {"Name": state, "Code": 16},
        "Tags": [{"Key": key, "Value": value} for key, value in tags.items()],
        "OwnerId": ACCOUNT["id"],
    }


@pytest.fixture(scope="module")
def plugin_class():
    return type(inventory_loader.get("keel.platform.aws_fleet"))


@pytest.fixture
def fleet(monkeypatch):
    """What fetch_fleet answers: `fleet.result` (a FetchResult); `fleet.calls` counts the reads."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")

    class Fleet:
        result = FetchResult(read=1)
        calls = 0

    def fetch(options, session, plan):
        Fleet.calls += 1
        return Fleet.result

    monkeypatch.setattr(_fleet_fetch, "fetch_fleet", fetch)
    return Fleet


def parse(plugin_class, tmp_path, config, name="fleet.aws_fleet.yml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"plugin": "keel.platform.aws_fleet", "regions": ["eu-west-1"], **config}))
    plugin = inventory_loader.get("keel.platform.aws_fleet")
    assert isinstance(plugin, plugin_class)
    loader = DataLoader()
    plugin.templar = Templar(loader=loader)
    inventory = InventoryData()
    plugin.parse(inventory, loader, str(path), cache=False)
    return inventory


def test_only_files_named_for_the_plugin_are_its_own(plugin_class, tmp_path):
    plugin = plugin_class()
    for name, mine in (("prod.aws_fleet.yml", True), ("aws_fleet.yaml", True), ("prod.aws_ec2.yml", False)):
        (tmp_path / name).write_text("plugin: keel.platform.aws_fleet\n")
        assert plugin.verify_file(str(tmp_path / name)) is mine


def test_hosts_groups_and_host_variables_land_in_the_inventory(plugin_class, fleet, tmp_path):
    fleet.result = FetchResult(
        records=[
            (instance(1, team="payments", role="web"), "eu-west-1", ACCOUNT),
            (instance(2, team="search", role="docker-host"), "eu-west-1", ACCOUNT),
        ],
        read=1,
    )
    inventory = parse(
        plugin_class,
        tmp_path,
        {
            "hostnames": ["private-ip-address"],
            "required_tags": ["team", "cost-center"],
            "groups": {"docker_hosts": "tags.role == 'docker-host'"},
            "keyed_groups": [{"key": "tags.team", "prefix": "team"}],
        },
    )
    assert sorted(inventory.hosts) == ["10.0.0.1", "10.0.0.2"]
    assert [host.name for host in inventory.groups["docker_hosts"].get_hosts()] == ["10.0.0.2"]
    assert [host.name for host in inventory.groups["team_payments"].get_hosts()] == ["10.0.0.1"]
    assert sorted(host.name for host in inventory.groups["missing_tag_cost_center"].get_hosts()) == [
        "10.0.0.1",
        "10.0.0.2",
    ]
    variables = inventory.get_host("10.0.0.1").get_vars()
    assert variables["instance_id"] == "i-0001"
    assert variables["ec2_tags"] == {"team": "payments", "role": "web"}


def test_an_unknown_option_is_refused_before_aws_is_read(plugin_class, fleet, tmp_path):
    with pytest.raises(AnsibleError, match="hostname") as raised:
        parse(plugin_class, tmp_path, {"hostname": ["tag:Name"]})
    assert "unknown option 'hostname'" in str(raised.value)
    assert fleet.calls == 0


def test_a_bad_cost_policy_is_refused_before_aws_is_read(plugin_class, fleet, tmp_path):
    (tmp_path / "policy.yml").write_text("version: 1\nrequired_tags: team\n")
    with pytest.raises(AnsibleError, match=r"^aws_fleet: cost_policy: "):
        parse(plugin_class, tmp_path, {"cost_policy": str(tmp_path / "policy.yml")})
    assert fleet.calls == 0


def test_nothing_readable_fails_rather_than_an_empty_inventory(plugin_class, fleet, tmp_path):
    fleet.result = FetchResult(errors=[FetchError("eu-west-1", "ec2:DescribeInstances denied")], read=0)
    with pytest.raises(AnsibleError, match="no account or region could be read, so the inventory would be empty"):
        parse(plugin_class, tmp_path, {})


def test_a_partial_failure_warns_and_keeps_what_was_read_unless_strict(plugin_class, fleet, tmp_path, monkeypatch):
    warnings = []
    fleet.result = FetchResult(
        records=[(instance(1), "eu-west-1", ACCOUNT)],
        errors=[FetchError("us-east-1", "ec2:DescribeInstances denied")],
        read=1,
    )
    monkeypatch.setattr(
        sys.modules["ansible.plugins.inventory"].display,
        "warning",
        lambda message, *args, **kwargs: warnings.append(message),
    )
    inventory = parse(plugin_class, tmp_path, {"hostnames": ["instance-id"], "regions": ["eu-west-1", "us-east-1"]})
    assert list(inventory.hosts) == ["i-0001"]
    assert "aws_fleet: skipped us-east-1: ec2:DescribeInstances denied" in warnings
    with pytest.raises(AnsibleError, match=r"\(strict is set; unset it to build the inventory without them\)$"):
        parse(plugin_class, tmp_path, {"strict": True, "regions": ["eu-west-1", "us-east-1"]})
