# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One estate, one cost policy, three consumers, one verdict per resource and key.

The aws_fleet inventory (ansible-inventory, its missing_tag_/invalid_tag_ groups), cost_tags_info
(ansible localhost -m, its untagged and exempt lists) and the observability agent's ec2 collector (run
as on a host: the script and cost_verdict.py side by side, the rules the controller compiled with
keel.platform.cost_policy_rules, the instance's tags from an IMDSv2 fixture) against moto on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from http.server import HTTPServer
from pathlib import Path

import boto3
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.fixtures import imds_fixture  # noqa: E402
from tests.fixtures.ansible_module import CREDENTIALS, run_module  # noqa: E402
from tests.fixtures.aws_estate import IMAGE_ID, write_amis_file  # noqa: E402
from tests.fixtures.moto_server import MotoServer  # noqa: E402

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's default account
KEYS = ["team", "env", "cost-center"]
POLICY = {
    "version": 1,
    "normalise_keys": True,
    "required_tags": [
        {"key": "team", "aliases": ["Owner-Team"], "allowed": ["payments", "search"]},
        {"key": "env", "pattern": "^(prod|staging|dev)$"},
        {"key": "cost-center", "pattern": "^cc-[0-9]+$"},
    ],
}
# name: (tags, {key: verdict}); exceptions are added per instance id once the instances exist.
ESTATE = {
    "tidy": ({"team": "payments", "env": "prod", "cost-center": "cc-1"}, {}),
    "normalised": ({"team": "search", "Env": "dev", "CostCenter": "cc-2"}, {}),
    "aliased": ({"Owner-Team": "payments", "ENV": "prod", "cost_center": "cc-3"}, {}),
    "invalid": (
        {"team": "Payments", "env": "qa", "cost-center": "cc-4"},
        {"team": "invalid", "env": "invalid"},
    ),
    "bare": ({}, {"team": "missing", "env": "missing", "cost-center": "missing"}),
    "empty": ({"team": " ", "env": "dev", "cost-center": "cc-6"}, {"team": "missing"}),
    "exempt-all": ({"env": "qa"}, {"team": "exempt", "env": "exempt", "cost-center": "exempt"}),
    "exempt-env-by-arn": ({"team": "search", "cost-center": "cc-8"}, {"env": "exempt"}),
    "expired": ({"team": "search"}, {"env": "missing", "cost-center": "missing"}),
}


def expected(name):
    return {key: ESTATE[name][1].get(key, "ok") for key in KEYS}


@pytest.fixture(scope="module")
def estate(tmp_path_factory):
    """Moto with one instance per ESTATE entry, and the policy file with the exceptions naming them."""
    here = tmp_path_factory.mktemp("consumers")
    os.environ.update(CREDENTIALS)
    previous = os.environ.get("MOTO_AMIS_PATH")
    os.environ["MOTO_AMIS_PATH"] = write_amis_file(here / "amis.json")
    try:
        with MotoServer(here / "moto.log") as moto:
            ec2 = boto3.client("ec2", region_name=REGION, endpoint_url=moto.url)
            ids = {}
            for name, (tags, _verdicts) in ESTATE.items():
                spec = [{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}]
                spec[0]["Tags"] += [{"Key": key, "Value": value} for key, value in tags.items()]
                found = ec2.run_instances(ImageId=IMAGE_ID, MinCount=1, MaxCount=1, TagSpecifications=spec)
                ids[name] = found["Instances"][0]["InstanceId"]
            arn = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{ids['exempt-env-by-arn']}"
            exception = {"owner": "ana", "reason": "migrating"}
            policy = dict(
                POLICY,
                exceptions=[
                    dict(exception, resource=ids["exempt-all"], key="*", expires="2999-12-31"),
                    dict(exception, resource=arn, key="env", expires="2999-12-31"),
                    dict(exception, resource=ids["expired"], key="*", expires="2001-01-01"),
                ],
            )
            path = here / "cost-policy.yml"
            path.write_text(yaml.safe_dump(policy))
            yield {"moto": moto, "ids": ids, "policy": path, "dir": here}
    finally:
        os.environ.pop("MOTO_AMIS_PATH", None)
        if previous is not None:
            os.environ["MOTO_AMIS_PATH"] = previous


def ansible_env(home, endpoint):
    return {
        **os.environ,
        **CREDENTIALS,
        "AWS_ENDPOINT_URL": endpoint,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_HOME": str(home),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1",
    }


def ansible_inventory(estate, config):
    path = estate["dir"] / "fleet.aws_fleet.yml"
    path.write_text(yaml.safe_dump(config))
    command = [str(Path(sys.executable).with_name("ansible-inventory")), "-i", str(path), "--list"]
    env = ansible_env(estate["dir"] / "home", estate["moto"].url)
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, check=False, timeout=300)


def inventory_verdicts(estate):
    """{name: {key: verdict}} from the groups; an exempt key is in no group, so it reads as ok here."""
    config = {
        "plugin": "keel.platform.aws_fleet",
        "regions": [REGION],
        "hostnames": ["instance-id"],
        "default_groups": False,
        "cost_policy": str(estate["policy"]),
    }
    completed = ansible_inventory(estate, config)
    assert completed.returncode == 0, completed.stderr
    groups = {
        name.replace("-", "_"): set(body.get("hosts", []))
        for name, body in json.loads(completed.stdout).items()
        if name != "_meta"
    }
    verdicts = {}
    for name, instance_id in estate["ids"].items():
        verdicts[name] = {}
        for key in KEYS:
            flagged = [
                s for s in ("missing", "invalid") if instance_id in groups.get(f"{s}_tag_{key}".replace("-", "_"), ())
            ]
            verdicts[name][key] = flagged[0] if flagged else "ok"
    return verdicts


def cost_tags_info_verdicts(estate):
    params = {
        "policy": str(estate["policy"]),
        "regions": [REGION],
        "resource_types": ["instance"],
        "endpoint_url": estate["moto"].url,
        "top": 100,
    }
    result = run_module("cost_tags_info", params, estate["dir"] / "home")
    assert not result.get("failed"), result
    untagged = {item["id"]: item for item in result["untagged"]}
    exempt = {}
    for item in result["exempt"]:
        exempt.setdefault(item["id"], set()).add(item["key"])
    verdicts = {}
    for name, instance_id in estate["ids"].items():
        item = untagged.get(instance_id, {"missing": [], "invalid": []})
        verdicts[name] = {
            key: "missing"
            if key in item["missing"]
            else "invalid"
            if key in item["invalid"]
            else "exempt"
            if key in exempt.get(instance_id, ())
            else "ok"
            for key in KEYS
        }
    return verdicts, result


def controller_rules(estate):
    """The rules the observability_agent role computes on the controller: the filter, through Ansible."""
    command = [
        str(Path(sys.executable).with_name("ansible")),
        "localhost",
        "-m",
        "ansible.builtin.copy",
        "-a",
        json.dumps(
            {
                "content": "{{ policy | keel.platform.cost_policy_rules | to_json }}",
                "dest": str(estate["dir"] / "rules.json"),
                "mode": "0644",
            }
        ),
        "-e",
        json.dumps({"policy": str(estate["policy"])}),
    ]
    env = ansible_env(estate["dir"] / "home", estate["moto"].url)
    env.pop("ANSIBLE_INVENTORY_UNPARSED_FAILED")  # the implicit localhost is the controller here
    completed = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, check=False, timeout=120)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return estate["dir"] / "rules.json"


def host_like_collector(tmp_path):
    """The two files the role installs in /usr/local/libexec/keel, and nothing of the collection."""
    libexec = tmp_path / "libexec"
    libexec.mkdir()
    shutil.copy(ROOT / "roles" / "observability_agent" / "files" / "keel_textfile_collector.py", libexec)
    shutil.copy(ROOT / "plugins" / "module_utils" / "cost_verdict.py", libexec)
    return libexec / "keel_textfile_collector.py"


def collector_verdicts(estate, tmp_path):
    script = host_like_collector(tmp_path)
    rules = controller_rules(estate)
    verdicts = {}
    for name, instance_id in estate["ids"].items():
        tags = {"Name": name, **ESTATE[name][0]}
        handler = imds_fixture.Handler.serving(imds_fixture.metadata(instance_id, tags, REGION, ACCOUNT))
        server = HTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        out = tmp_path / name
        out.mkdir()
        try:
            completed = subprocess.run(
                [
                    "/usr/bin/python3",  # as the role's unit runs it: the script's directory is on sys.path
                    str(script),
                    "ec2",
                    "--output-dir",
                    str(out),
                    "--interval",
                    "60",
                    "--imds-endpoint",
                    f"http://127.0.0.1:{server.server_address[1]}",
                    "--cost-rules",
                    str(rules),
                ],
                capture_output=True,
                text=True,
                env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"},
                check=False,
                timeout=60,
            )
        finally:
            server.shutdown()
        assert completed.returncode == 0, completed.stderr
        samples = dict(
            line.rsplit(" ", 1) for line in (out / "keel_ec2.prom").read_text().splitlines() if not line.startswith("#")
        )
        assert samples["keel_ec2_imds_up"] == "1"
        verdicts[name] = {}
        for key in KEYS:
            flagged = [
                s for s in ("missing", "invalid", "exempt") if samples[f'keel_ec2_cost_tag_{s}{{key="{key}"}}'] == "1"
            ]
            assert len(flagged) <= 1, (name, key, flagged)
            verdicts[name][key] = flagged[0] if flagged else "ok"
    return verdicts


def test_one_estate_gets_the_same_verdict_from_every_consumer(estate, tmp_path):
    want = {name: expected(name) for name in ESTATE}
    # The inventory has no exempt group: an exempt key is simply in no missing_/invalid_ group.
    seen_by_groups = {name: {k: "ok" if v == "exempt" else v for k, v in keys.items()} for name, keys in want.items()}
    assert inventory_verdicts(estate) == seen_by_groups
    report, result = cost_tags_info_verdicts(estate)
    assert report == want
    assert collector_verdicts(estate, tmp_path) == want
    # The expired "*" exception is reported once, not once per required key.
    assert [e["id"] for e in result["expired_exceptions"]] == [estate["ids"]["expired"]]
    compliant = sum(all(v in ("ok", "exempt") for v in keys.values()) for keys in want.values())
    assert result["summary"]["compliant"] == compliant


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"required_tags": ["aws:createdBy"]},
            r"aws_fleet: option required_tags: required_tags\[0\] 'aws:createdBy' is reserved by AWS",
        ),
        (
            {"cost_policy": "POLICY", "policy": {"version": 1, "required_tags": ["team", "aws:createdBy"]}},
            r"aws_fleet: cost_policy: \S+cost-policy-bad\.yml: required_tags\[1\] 'aws:createdBy' is reserved by AWS",
        ),
        (
            {"cost_policy": "POLICY", "policy": {"version": 1, "required_tags": [{"key": "team", "allowed": []}]}},
            r"required_tags\[0\]\.allowed is empty, .*omit 'allowed' to accept any value",
        ),
        (
            {"cost_policy": "POLICY", "policy": {"version": 1, "required_tags": []}},
            r"required_tags is empty: .*list at least one key",
        ),
    ],
)
def test_the_inventory_refuses_a_bad_policy_before_any_aws_call(estate, config, message):
    config = dict(config)
    if config.get("cost_policy") == "POLICY":
        path = estate["dir"] / "cost-policy-bad.yml"
        path.write_text(yaml.safe_dump(config.pop("policy")))
        config["cost_policy"] = str(path)
    # Port 9 on loopback refuses connections: an AWS call would fail with a different message.
    estate = dict(estate, moto=type("Closed", (), {"url": "http://127.0.0.1:9"}))
    completed = ansible_inventory(estate, {"plugin": "keel.platform.aws_fleet", "regions": [REGION], **config})
    assert completed.returncode != 0
    assert re.search(message, " ".join(completed.stderr.split())), completed.stderr


@pytest.mark.parametrize(
    ("required_tags", "message"),
    [
        (["team", "aws:createdBy"], r"required_tags\[1\] 'aws:createdBy' is reserved by AWS"),
        ([{"key": "team", "aliases": ["aws:team"]}], r"required_tags\[0\]\.aliases\[0\] 'aws:team' is reserved"),
    ],
)
def test_cost_tags_info_refuses_reserved_keys_before_any_aws_call(estate, required_tags, message):
    path = estate["dir"] / "cost-policy-reserved.yml"
    path.write_text(yaml.safe_dump({"version": 1, "required_tags": required_tags}))
    params = {"policy": str(path), "regions": [REGION], "endpoint_url": "http://127.0.0.1:9"}
    result = run_module("cost_tags_info", params, estate["dir"] / "home")
    assert result["failed"]
    assert re.search(rf"bad cost policy: {path}: {message}", result["msg"]), result["msg"]
