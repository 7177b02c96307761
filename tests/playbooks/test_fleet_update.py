# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""fleet_update.yml over five containers: a canary, then batches of two; keel-fleet-3's node_exporter cannot start."""

from __future__ import annotations

import json

import pytest
from fleet import docker_exec

from tests.fixtures.ara_report import read_report

BATCH_PLAY = "PLAY [Update the fleet in batches behind health gates]"
UNTOUCHED = ["keel-fleet-4", "keel-fleet-5"]


def assert_untouched(host):
    """Nothing of the update reached the host: no node_exporter unit, no package, no hardening banner."""
    assert docker_exec(host, "test", "-e", "/etc/systemd/system/node_exporter.service", check=False).returncode == 1
    assert docker_exec(host, "dpkg-query", "-W", "prometheus-node-exporter", check=False).returncode != 0
    assert "Authorised access only" not in docker_exec(host, "cat", "/etc/issue.net", check=False).stdout


@pytest.fixture(scope="module")
def rollout(fleet, playbook):
    # A process that holds node_exporter's port: the update installs and
    # starts node_exporter, which cannot bind, and the agent's restart check fails.
    docker_exec(
        "keel-fleet-3",
        "systemd-run",
        "--unit",
        "keel-port-squatter",
        "python3",
        "-m",
        "http.server",
        "9100",
        "--bind",
        "127.0.0.1",
    )
    docker_exec("keel-fleet-1", "touch", "/var/run/reboot-required")
    return playbook("fleet_update", "-e", json.dumps({"keel_fleet_update_serial": [1, 2, 2]}), ara=True)


def test_the_canary_goes_first_then_batches_of_two(rollout):
    batches = rollout.stdout.split(BATCH_PLAY)[1:]
    hosts_in = [
        {host for host in ("keel-fleet-" + str(n) for n in range(1, 6)) if f"[{host}]" in batch} for batch in batches
    ]
    assert hosts_in == [{"keel-fleet-1"}, {"keel-fleet-2", "keel-fleet-3"}]


def test_a_host_whose_node_exporter_cannot_start_stops_the_rollout(rollout):
    # The observability agent checks its own restart, so keel-fleet-3 fails in the role, with
    # node_exporter's own words, before the post-update health gate is reached.
    assert rollout.returncode == 2
    failed = rollout.host("keel-fleet-3")
    assert failed["status"] == "failed"
    assert failed["failed_task"]["role"] == "observability_agent"
    assert failed["failed_task"]["msg"].startswith("node_exporter did not answer on http://127.0.0.1:9100/metrics")
    assert "bind: address already in use" in failed["failed_task"]["msg"]
    assert rollout.host("keel-fleet-1")["status"] in {"ok", "changed"}


def test_the_rest_of_a_stopped_batch_is_aborted_not_ok(rollout):
    # keel-fleet-2 was updated in the same batch as keel-fleet-3 but ansible stopped the batch at
    # keel-fleet-3's failure: keel-fleet-2 never reached its health gate nor went back into service.
    partner = rollout.host("keel-fleet-2")
    assert partner["status"] == "aborted"
    assert partner["aborted_at"] == {"role": "observability_agent", "task": "Fail with node_exporter's own message"}
    assert {"role": "observability_agent", "task": "Write the node_exporter unit"} in partner["changed_tasks"]
    assert "keel-fleet-2: aborted; changed " in rollout.stdout
    assert "| keel-fleet-2 | aborted |" in rollout.markdown


def role_and_task(ara_task):
    """ARA names a task as Ansible's output does, "keel.platform.role : task"; change_report keeps the short role."""
    parts = ara_task.rpartition(" : ")
    return {"role": parts[0].rsplit(".", 1)[-1], "task": parts[2]}


def test_ara_shows_the_rollout_as_the_change_report_does(rollout, tmp_path):
    # ARA's static report, rendered by headless Chromium: the hosts the rollout reached, each with
    # the same changed tasks and handlers (and count) as change_report's JSON.
    page = read_report(rollout.env, tmp_path)
    reached = {name: entry for name, entry in rollout.report["hosts"].items() if entry["status"] != "not_run"}
    assert set(page.hosts) == set(reached) == {"keel-fleet-1", "keel-fleet-2", "keel-fleet-3"}
    shown = {host: [role_and_task(task) for task in tasks] for host, tasks in page.changed().items()}
    for name, entry in reached.items():
        expected = entry["changed_tasks"] + entry["handlers"]
        assert sorted(shown.get(name, []), key=str) == sorted(expected, key=str), name
        assert page.hosts[name] == len(expected), name
    assert {"role": "observability_agent", "task": "Write the node_exporter unit"} in shown["keel-fleet-2"]


def test_hosts_of_later_batches_are_untouched(rollout):
    assert [rollout.host(host)["status"] for host in UNTOUCHED] == ["not_run", "not_run"]
    for host in UNTOUCHED:
        assert_untouched(host)


def test_the_updated_hosts_run_node_exporter(rollout):
    for host in ("keel-fleet-1", "keel-fleet-2"):
        assert docker_exec(host, "systemctl", "is-active", "node_exporter.service").stdout.strip() == "active"


def test_a_reboot_is_reported_not_pretended_in_a_container(rollout):
    assert rollout.host("keel-fleet-1")["notes"] == ["reboot required, skipped: the host is a docker container"]
    assert "keel-fleet-1" in rollout.stdout.split("KEEL CHANGE REPORT")[1]


def test_a_failing_canary_stops_the_rollout_before_the_rest(rollout, playbook):
    run = playbook(
        "fleet_update",
        "-e",
        json.dumps({"keel_fleet_update_hosts": "keel-fleet-3:keel-fleet-4", "keel_fleet_update_serial": [1, "100%"]}),
    )
    assert run.returncode == 2
    assert run.host("keel-fleet-3")["status"] == "failed"
    assert "pre-update health check failed" in run.host("keel-fleet-3")["failed_task"]["msg"]
    assert run.host("keel-fleet-4")["status"] == "not_run"
    assert_untouched("keel-fleet-4")


def test_a_host_whose_batch_stops_before_its_update_is_aborted_and_untouched(rollout, playbook):
    # keel-fleet-3 fails its pre-update check (its node_exporter cannot bind); keel-fleet-5, in the
    # same batch, passed its own, and max_fail_percentage 0 stops the batch before any change.
    run = playbook(
        "fleet_update",
        "-e",
        json.dumps({"keel_fleet_update_hosts": "keel-fleet-3:keel-fleet-5", "keel_fleet_update_serial": ["100%"]}),
    )
    assert run.returncode == 2
    assert run.host("keel-fleet-3")["status"] == "failed"
    assert "pre-update health check failed" in run.host("keel-fleet-3")["failed_task"]["msg"]
    stopped = run.host("keel-fleet-5")
    assert stopped["status"] == "aborted"
    assert stopped["changed_tasks"] == []
    assert stopped["aborted_at"] == {"role": "fleet_health", "task": "Fail the host if it is not healthy"}
    assert_untouched("keel-fleet-5")


def test_bad_rollout_settings_fail_before_any_host_is_touched(fleet, playbook):
    run = playbook("fleet_update", "-e", json.dumps({"keel_fleet_update_max_fail_percentage": "many"}))
    assert run.returncode != 0
    assert "keel_fleet_update_max_fail_percentage" in run.stdout
    assert BATCH_PLAY not in run.stdout
