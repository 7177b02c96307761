# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The installed tarball documents itself, its playbooks parse, and a module, the inventory and a role run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.fixtures.aws_estate import COST_POLICY  # noqa: E402
from tests.install.conftest import GALAXY, REGIONS, bundled_collection  # noqa: E402

PLUGIN_TYPES = ["module", "filter", "inventory", "callback", "role"]
PLAYBOOKS = sorted(path.stem for path in (ROOT / "playbooks").glob("*.yml"))
CONTAINER = "keel-install-test"
LIVE = ("running", "pending", "stopping", "stopped")


def working_tree_listing(plugin_type: str) -> set[str]:
    """keel.platform's plugins of one type as the working tree (the project's ansible.cfg) lists them."""
    completed = subprocess.run(
        [str(Path(sys.executable).with_name("ansible-doc")), "-t", plugin_type, "-l", "keel.platform", "--json"],
        cwd=ROOT,
        env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")},
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(completed.stdout))


def test_keel_platform_comes_from_the_install_directory(installed):
    listing = json.loads(installed.run("ansible-galaxy", "collection", "list", "--format", "json").stdout)
    assert list(listing) == [str(installed.collections / "ansible_collections")]
    collections = listing[str(installed.collections / "ansible_collections")]
    assert collections["keel.platform"]["version"] == GALAXY["version"]
    assert set(collections) == {"keel.platform"} | set(GALAXY["dependencies"]) | {
        "community.library_inventory_filtering_v1"
    }
    doc = json.loads(installed.run("ansible-doc", "--json", "keel.platform.config_files").stdout)
    assert doc["keel.platform.config_files"]["doc"]["filename"].startswith(str(installed.collections))


def test_user_agent_names_the_installed_version(installed):
    platform = installed.collections / "ansible_collections" / "keel" / "platform"
    manifest = json.loads((platform / "MANIFEST.json").read_text())["collection_info"]
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "from ansible_collections.keel.platform.plugins.module_utils import _aws; print(_aws.USER_AGENT_EXTRA)"
    )
    agent = installed.run("python", "-c", probe, str(installed.collections)).stdout.strip()
    assert agent == f"keel.platform/{manifest['version']}"


@pytest.mark.parametrize("plugin_type", PLUGIN_TYPES)
def test_ansible_doc_renders_every_plugin(installed, plugin_type):
    listed = set(json.loads(installed.run("ansible-doc", "-t", plugin_type, "-l", "keel.platform", "--json").stdout))
    assert listed == working_tree_listing(plugin_type)
    assert listed
    rendered = json.loads(installed.run("ansible-doc", "-t", plugin_type, "--json", *sorted(listed)).stdout)
    assert set(rendered) == listed
    if plugin_type == "role":
        assert all(entry["entry_points"]["main"]["options"] for entry in rendered.values())
    else:
        assert all(entry["doc"]["short_description"] for entry in rendered.values())
    text = installed.run("ansible-doc", "-t", plugin_type, *sorted(listed))
    assert "ERROR" not in text.stderr, text.stderr


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_playbook_passes_syntax_check(installed, playbook):
    installed.run("ansible-playbook", "-i", "localhost,", "--syntax-check", f"keel.platform.{playbook}")


def test_cost_tags_info_reads_moto(installed, moto):
    url, truth = moto
    policy = installed.workdir / "cost-policy.yml"
    policy.write_text(yaml.safe_dump(COST_POLICY))
    result = installed.workdir / "cost_tags_info.json"
    playbook = installed.workdir / "cost_tags_info.yml"
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "Report cost-tag compliance from the installed collection",
                    "hosts": "localhost",
                    "gather_facts": False,
                    "tasks": [
                        {
                            "name": "Read the tags",
                            "keel.platform.cost_tags_info": {
                                "policy": str(policy),
                                "regions": REGIONS,
                                "endpoint_url": url,
                                "resource_types": ["instance"],
                            },
                            "register": "report",
                        },
                        {
                            "name": "Keep the result",
                            "ansible.builtin.copy": {"content": "{{ report | to_json }}", "dest": str(result)},
                        },
                    ],
                }
            ]
        )
    )
    installed.run("ansible-playbook", "-i", "localhost,", "-c", "local", str(playbook))
    report = json.loads(result.read_text())
    live = [i for i in truth["instances"] if i["state"] in LIVE]
    assert live, "the estate has instances"
    assert not report["failed"]
    assert report["summary"]["resources"] == len(live)
    assert "instance" in report["summary"]["by_type"]


def test_aws_fleet_lists_the_estate(installed, moto):
    url, truth = moto
    source = installed.workdir / "fleet.aws_fleet.yml"
    source.write_text(
        yaml.safe_dump({"plugin": "keel.platform.aws_fleet", "regions": REGIONS, "hostnames": ["instance-id"]})
    )
    completed = installed.run("ansible-inventory", "-i", str(source), "--list", env={"AWS_ENDPOINT_URL": url})
    hosts = set(json.loads(completed.stdout)["_meta"]["hostvars"])
    live = {i["instance_id"] for i in truth["instances"] if i["state"] in LIVE}
    assert live
    assert hosts == live


@pytest.fixture
def container(installed):
    """A Debian 12 systemd container, and community.docker (the test's connection only) beside the install."""
    tools = installed.base / "test-collections"
    if not tools.exists():
        installed.run(
            "ansible-galaxy", "collection", "install", "--offline", "-p", str(tools),
            str(bundled_collection("community.docker")),
            str(bundled_collection("community.library_inventory_filtering_v1")),
        )  # fmt: skip
    subprocess.run([str(ROOT / "scripts/testbed.sh"), "run", CONTAINER, "keel/debian:12"], check=True)
    try:
        yield f"{installed.collections}:{tools}"
    finally:
        subprocess.run(["docker", "rm", "-f", CONTAINER], capture_output=True, check=False)


def test_fleet_health_role_runs_from_the_install(installed, container):
    playbook = installed.workdir / "fleet_health.yml"
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "Check the host's health with the installed role",
                    "hosts": CONTAINER,
                    "gather_facts": False,
                    "roles": [{"role": "keel.platform.fleet_health"}],
                }
            ]
        )
    )
    inventory = f"{CONTAINER},"
    env = {"ANSIBLE_COLLECTIONS_PATH": container}
    # One try for node_exporter: the post-update run below must fail, not wait 30 s for it.
    common = ["ansible-playbook", "-i", inventory, "-c", "community.docker.docker", "-e", "fleet_health_retries=1"]
    common += ["-e", "fleet_health_delay=1", str(playbook)]
    before = installed.run(*common, "-e", "fleet_health_phase=pre", env=env)
    assert "failed=0" in before.stdout
    # After an update node_exporter must answer; on this bare host it is not even installed.
    after = installed.run(*common, "-e", "fleet_health_phase=post", env=env, check=False)
    assert after.returncode == 2, after.stdout
    assert "post-update health check failed: unit node_exporter.service is inactive/dead (not-found)" in after.stdout
