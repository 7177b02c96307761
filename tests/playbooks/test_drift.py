# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""drift.yml: converge two hosts with site.yml, edit one managed file on one of them, report exactly that."""

from __future__ import annotations

import json

import pytest
from fleet import docker_exec

LIMIT = "keel-fleet-1,keel-fleet-2"
UNIT = "/etc/systemd/system/node_exporter.service"
METRIC = "/var/lib/prometheus/node-exporter/keel_drift.prom"


@pytest.fixture(scope="module")
def drift(fleet, playbook):
    site = playbook("site", "--limit", LIMIT)
    assert site.returncode == 0, site.stdout[-3000:]
    docker_exec("keel-fleet-2", "sh", "-c", f"echo '# edited by hand' >> {UNIT}")
    return playbook("drift", "--check", "--diff", "--limit", LIMIT, "-e", json.dumps({"keel_drift_fail": True}))


def test_the_report_names_exactly_the_edited_host_and_task(drift):
    assert drift.report["check_mode"] is True
    assert drift.host("keel-fleet-1")["changed_tasks"] == []
    assert drift.host("keel-fleet-2")["changed_tasks"] == [
        {"role": "observability_agent", "task": "Write the node_exporter unit"}
    ]
    assert drift.host("keel-fleet-2")["changed_by_role"] == {"observability_agent": 1}


def test_the_report_names_the_file_and_the_changed_line(drift):
    assert drift.host("keel-fleet-1")["changed_files"] == []
    [changed] = drift.host("keel-fleet-2")["changed_files"]
    assert changed["role"] == "observability_agent"
    assert changed["area"] == "service"
    assert changed["task"] == "Write the node_exporter unit"
    assert changed["path"] == UNIT
    # The hand edit is what the host has and Keel would remove.
    assert [line for line in changed["diff"] if not line.startswith("@@")] == ["-# edited by hand"]


def test_the_markdown_report_names_the_task_the_file_and_the_line(drift):
    rows = [line for line in drift.markdown.splitlines() if line.startswith("| keel-fleet-2 |")]
    assert len(rows) == 1
    assert "| observability_agent: Write the node_exporter unit | Restart node_exporter |" in rows[0]
    files = drift.markdown.split("## keel-fleet-2: files that would change\n", 1)[1]
    assert files.startswith(f"\n- observability_agent / service: `{UNIT}` (Write the node_exporter unit)\n")
    assert "\n  -# edited by hand\n" in files
    assert "## keel-fleet-1:" not in drift.markdown


def test_the_metric_on_each_host_says_so(drift):
    drifted = docker_exec("keel-fleet-2", "cat", METRIC).stdout
    assert 'keel_drift_tasks{role="observability_agent"} 1\n' in drifted
    assert "keel_drift_tasks_total 1\n" in drifted
    assert f'keel_drift_files{{role="observability_agent",area="service",file="{UNIT}"}} 1\n' in drifted
    assert "keel_drift_files_total 1\n" in drifted
    clean = docker_exec("keel-fleet-1", "cat", METRIC).stdout
    assert "keel_drift_tasks_total 0\n" in clean
    assert "keel_drift_tasks{" not in clean
    assert "keel_drift_files{" not in clean
    assert "keel_drift_files_total 0\n" in clean
    assert "keel_drift_last_run_timestamp_seconds " in clean


def test_check_mode_changed_nothing_else(drift):
    assert docker_exec("keel-fleet-2", "tail", "-n", "1", UNIT).stdout == "# edited by hand\n"


def test_fail_on_drift_fails_the_run(drift):
    assert drift.returncode == 2
    assert "1 task(s) would change: observability_agent: Write the node_exporter unit" in drift.stdout
    assert f"keel-fleet-2: failed; would change observability_agent: Write the node_exporter unit; files {UNIT};" in (
        drift.stdout
    )


@pytest.mark.parametrize("mode", [[], ["--check"]], ids=["no-check", "check-without-diff"])
def test_drift_refuses_to_run_without_check_and_diff_mode(fleet, playbook, mode):
    run = playbook("drift", *mode, "--limit", LIMIT)
    assert run.returncode != 0
    assert "drift.yml only reports: run it with --check --diff" in run.stdout
    assert "PLAY [Converge every host" not in run.stdout
