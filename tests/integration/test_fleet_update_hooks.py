# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""fleet_update.yml's drain and re-attach hooks on moto_server: Auto Scaling standby, ELBv2 deregistration, user files.

The hooks' task files run as fleet_update.yml imports them, with the endpoint given once through
module_defaults for group/keel.platform.aws (which extends amazon.aws.aws and community.aws.aws).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
import yaml

from tests.fixtures.moto_server import MotoServer

ROOT = Path(__file__).resolve().parents[2]
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    """An Auto Scaling group of two instances behind one ELBv2 target group."""
    with MotoServer(tmp_path_factory.mktemp("moto-hooks") / "moto.log") as moto:
        clients = {
            name: boto3.client(name, endpoint_url=moto.url, **CREDENTIALS) for name in ("ec2", "autoscaling", "elbv2")
        }
        image = clients["ec2"].describe_images()["Images"][0]["ImageId"]
        vpc = clients["ec2"].describe_vpcs()["Vpcs"][0]["VpcId"]
        clients["ec2"].create_launch_template(
            LaunchTemplateName="web", LaunchTemplateData={"ImageId": image, "InstanceType": "t3.micro"}
        )
        clients["autoscaling"].create_auto_scaling_group(
            AutoScalingGroupName="web",
            LaunchTemplate={"LaunchTemplateName": "web"},
            MinSize=0,
            MaxSize=3,
            DesiredCapacity=2,
            AvailabilityZones=["us-east-1a"],
        )
        group = clients["autoscaling"].describe_auto_scaling_groups()["AutoScalingGroups"][0]
        instances = sorted(instance["InstanceId"] for instance in group["Instances"])
        target_group = clients["elbv2"].create_target_group(
            Name="web", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="instance"
        )["TargetGroups"][0]["TargetGroupArn"]
        clients["elbv2"].register_targets(TargetGroupArn=target_group, Targets=[{"Id": i} for i in instances])
        yield {"url": moto.url, "instances": instances, "target_group": target_group, **clients}


def state(aws):
    group = aws["autoscaling"].describe_auto_scaling_groups()["AutoScalingGroups"][0]
    health = aws["elbv2"].describe_target_health(TargetGroupArn=aws["target_group"])["TargetHealthDescriptions"]
    return {
        "desired": group["DesiredCapacity"],
        "lifecycle": {instance["InstanceId"]: instance["LifecycleState"] for instance in group["Instances"]},
        "targets": {target["Target"]["Id"]: target["TargetHealth"]["State"] for target in health},
    }


@pytest.fixture(scope="module")
def hook(aws, tmp_path_factory):
    """hook('drain' | 'attach') runs playbooks/tasks/<that>.yml for the first instance of the group."""
    work = tmp_path_factory.mktemp("hooks")
    for name in ("drain", "attach"):
        user_tasks = [
            {
                "name": f"Mark the host {name}ed",
                "ansible.builtin.copy": {"dest": str(work / name), "content": "yes\n", "mode": "0644"},
            }
        ]
        (work / f"user_{name}.yml").write_text(yaml.safe_dump(user_tasks))
        play = {
            "name": f"Run the {name} hooks",
            "hosts": "all",
            "gather_facts": False,
            "module_defaults": {
                "group/keel.platform.aws": {
                    "endpoint_url": aws["url"],
                    "access_key": "testing",
                    "secret_key": "testing",
                }
            },
            "tasks": [
                {"name": "Run them", "ansible.builtin.import_tasks": str(ROOT / "playbooks" / "tasks" / f"{name}.yml")}
            ],
        }
        (work / f"{name}.yml").write_text(yaml.safe_dump([play], sort_keys=False))
    host = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "instance_id": aws["instances"][0],
        "placement": {"region": "us-east-1"},
        "ec2_tags": {"aws:autoscaling:groupName": "web"},
        "keel_fleet_update_asg_standby": True,
        "keel_fleet_update_target_group_arns": [aws["target_group"]],
        "keel_fleet_update_drain_tasks": str(work / "user_drain.yml"),
        "keel_fleet_update_attach_tasks": str(work / "user_attach.yml"),
    }
    (work / "inventory.yml").write_text(yaml.safe_dump({"all": {"hosts": {"web-1": host}}}))

    def run(name):
        env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
        command = [
            str(Path(sys.executable).with_name("ansible-playbook")),
            "-i",
            str(work / "inventory.yml"),
            str(work / f"{name}.yml"),
        ]
        completed = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, check=False, timeout=600)
        assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-2000:]
        return work

    return run


def test_drain_puts_the_instance_in_standby_and_deregisters_it(aws, hook):
    first, second = aws["instances"]
    work = hook("drain")
    assert state(aws) == {
        "desired": 1,
        "lifecycle": {first: "Standby", second: "InService"},
        "targets": {second: "healthy"},
    }
    assert (work / "drain").read_text() == "yes\n"


def test_attach_returns_it_to_service_and_registers_it_again(aws, hook):
    first, second = aws["instances"]
    hook("drain")
    work = hook("attach")
    assert state(aws) == {
        "desired": 2,
        "lifecycle": {first: "InService", second: "InService"},
        "targets": {first: "healthy", second: "healthy"},
    }
    assert (work / "attach").read_text() == "yes\n"
