# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The demo's AWS side against moto_server on 127.0.0.1: inventories/local finds the seeded
"instances" and groups them as site.yml expects; playbooks/cost_tags.yml plans without writing,
applies, reports, publishes compliance for the node exporter, and its compliance gate fails a run
below the threshold."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.fixtures.ansible_module import CREDENTIALS  # noqa: E402
from tests.fixtures.aws_estate import write_amis_file  # noqa: E402
from tests.fixtures.moto_server import MotoServer  # noqa: E402
from tests.unit.scripts.test_demo import demo  # noqa: E402

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def account(tmp_path_factory):
    here = tmp_path_factory.mktemp("demo-aws")
    os.environ.update(CREDENTIALS, AWS_DEFAULT_REGION=demo.REGION, MOTO_AMIS_PATH=write_amis_file(here / "amis.json"))
    with MotoServer(here / "moto.log") as moto:
        os.environ.pop("MOTO_AMIS_PATH")
        ids = demo.seed_aws(moto)
        env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "AWS_ENDPOINT_URL": moto.url}
        env["ANSIBLE_HOME"] = str(here / "ansible-home")
        env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.builtin.json"
        yield {"ids": ids, "env": env, "dir": here, "url": moto.url}


def cost_tags(account, *args):
    argv = [str(BIN / "ansible-playbook"), "-i", "inventories/local", "playbooks/cost_tags.yml", *args]
    argv += ["-e", f"keel_cost_report_dir={account['dir'] / 'cost'}"]
    completed = subprocess.run(argv, env=account["env"], cwd=ROOT, capture_output=True, text=True, check=False)
    return completed, json.loads(completed.stdout)


def instance_tags(account, name):
    ec2 = boto3.client("ec2", region_name=demo.REGION, endpoint_url=account["url"])
    reservations = ec2.describe_instances(InstanceIds=[account["ids"][name]])["Reservations"]
    return {tag["Key"]: tag["Value"] for tag in reservations[0]["Instances"][0]["Tags"]}


def task_result(output, name):
    for play in output["plays"]:
        for task in play["tasks"]:
            if task["task"]["name"] == name:
                return task["hosts"]["localhost"]
    raise AssertionError(f"no task {name!r} ran")


def test_local_inventory_groups_the_demo_fleet(account):
    argv = [str(BIN / "ansible-inventory"), "-i", "inventories/local", "--list"]
    completed = subprocess.run(argv, env=account["env"], cwd=ROOT, capture_output=True, text=True, check=True)
    data = json.loads(completed.stdout)
    assert sorted(data["aws_fleet"]["hosts"]) == sorted(demo.FLEET)
    assert data["docker_hosts"]["hosts"] == ["keel-demo-docker1"]
    # web2 has no cost-center tag and a mis-cased team: the cost policy's groups name it.
    assert data["missing_tag_cost_center"]["hosts"] == ["keel-demo-web2"]
    assert data["invalid_tag_team"]["hosts"] == ["keel-demo-web2"]
    # The seeded cost estate's instances (no keel-demo tag) stay out of the fleet.
    assert len(data["_meta"]["hostvars"]) == len(demo.FLEET)


def test_check_mode_plans_and_writes_nothing(account):
    completed, output = cost_tags(account, "--check", "-e", "keel_cost_tags_mode=apply")
    assert completed.returncode == 0, completed.stdout[-2000:]
    enforcement = task_result(output, "Enforce the cost policy (apply)")
    assert enforcement["changed"]
    web2 = next(r for r in enforcement["resources"] if r["id"] == account["ids"]["keel-demo-web2"])
    assert web2["after"]["team"] == "payments"
    assert instance_tags(account, "keel-demo-web2")["team"] == "Payments"
    assert not (account["dir"] / "cost").exists()


def test_apply_fixes_tags_and_writes_the_report(account):
    completed, output = cost_tags(account, "-e", "keel_cost_tags_mode=apply")
    assert completed.returncode == 0, completed.stdout[-2000:]
    assert instance_tags(account, "keel-demo-web2")["team"] == "payments"
    result = json.loads((account["dir"] / "cost" / "cost-tags.json").read_text())
    assert result["mode"] == "apply"
    assert result["compliance_after"] > result["enforcement"]["summary"]["compliance"]
    assert {item["id"] for item in result["enforcement"]["exempt"]} == {"orphan-db"}
    for suffix in ("csv", "md", "png"):
        assert (account["dir"] / "cost" / f"cost-report.{suffix}").stat().st_size > 0
    report = task_result(output, "Write the cost report")
    assert report["summary"]["total"] == pytest.approx(sum(sum(v) for v in demo.MONTHLY_COSTS.values()))


def metric_samples(text):
    return dict(line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))


def test_compliance_gate_fails_below_the_threshold_after_the_evidence_is_written(account):
    metrics = account["dir"] / "textfile"
    metrics.mkdir()
    completed, output = cost_tags(
        account, "-e", "keel_cost_compliance_threshold=99", "-e", f"keel_cost_metrics_dir={metrics}"
    )
    assert completed.returncode != 0
    summary = task_result(output, "Measure compliance after enforcement")["summary"]
    assert summary["compliance"] < 99
    gate = task_result(output, "Fail when compliance is below the gate")
    assert gate["failed"]
    assert gate["msg"] == (
        f"cost-tag compliance is {summary['compliance']}% ({summary['compliant']} of {summary['resources']} "
        "resources), below the threshold of 99.0%"
    )
    # The report and the metrics are written before the gate fails: a failed CI job keeps its evidence.
    assert task_result(output, "Write the cost report")["summary"]["total"] > 0
    assert [path.name for path in metrics.iterdir()] == ["keel_cost_tags.prom"]  # no temporary file left
    samples = metric_samples((metrics / "keel_cost_tags.prom").read_text())
    assert float(samples["keel_cost_tag_compliance_ratio"]) == pytest.approx(summary["compliance"] / 100, abs=1e-4)
    for kind, keys in summary["by_type"].items():
        for key, cell in keys.items():
            untagged = samples[f'keel_untagged_resources{{resource_type="{kind}",key="{key}"}}']
            assert int(untagged) == cell["fixed"] + cell["not_fixable"]
    assert any(int(value) > 0 for series, value in samples.items() if series.startswith("keel_untagged_resources"))


def test_compliance_gate_passes_at_the_threshold(account):
    completed, output = cost_tags(account)
    compliance = task_result(output, "Measure compliance after enforcement")["summary"]["compliance"]
    completed, output = cost_tags(account, "-e", f"keel_cost_compliance_threshold={compliance}")
    assert completed.returncode == 0, completed.stdout[-2000:]
    assert not task_result(output, "Fail when compliance is below the gate").get("failed")


@pytest.mark.parametrize("threshold", ["150", "ninety", "-5"])
def test_a_threshold_that_is_no_percentage_is_refused_before_any_call(account, threshold):
    completed, output = cost_tags(account, "-e", f"keel_cost_compliance_threshold={threshold}")
    assert completed.returncode != 0
    gate = task_result(output, "Check that the compliance gate is a percentage")
    assert gate["msg"] == f"Set keel_cost_compliance_threshold to a percentage between 0 and 100 (got {threshold})."
    with pytest.raises(AssertionError, match="no task 'Enforce the cost policy"):
        task_result(output, "Enforce the cost policy (plan)")


def test_unknown_mode_is_refused_before_any_call(account):
    completed, output = cost_tags(account, "-e", "keel_cost_tags_mode=enforce")
    assert completed.returncode != 0
    assert (
        "keel_cost_tags_mode to plan or apply (got enforce)"
        in task_result(output, "Check that a cost policy is configured")["msg"]
    )
