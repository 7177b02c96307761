"""bench/fleet: the arithmetic and the report, so the bench cannot print nonsense unnoticed."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, ROOT / path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


fleet = _load("bench_fleet", "bench/fleet/run.py")
fleet_tasks = _load("bench_fleet_tasks", "bench/fleet/callback_plugins/fleet_tasks.py")

TWO_HOSTS = {
    "a": {"hardening": {"ran": 30, "changed": 0, "skipped": 60}, "(play)": {"ran": 1, "changed": 0, "skipped": 0}},
    "b": {"hardening": {"ran": 32, "changed": 2, "skipped": 58}, "observability_agent": {"ran": 9, "skipped": 4}},
}


def _run(name, cpu, rc=0, tasks=None):
    return fleet.Run(name=name, rc=rc, wall=cpu * 2, cpu=cpu, cpu_command=cpu * 0.8, tasks=tasks or {})


def _runs(floor=10.0, site=60.0, first=100.0, update=100.0, drift=50.0, hosts=2):
    """CPU seconds of a fleet's runs; the floor is PING_TASKS tasks on each host."""
    return {
        "ping floor": _run("ping floor", floor),
        "site first": _run("site first", first),
        "site no-change": _run("site no-change", site),
        "fleet_update no-change": _run("fleet_update no-change", update),
        "drift": _run("drift", drift),
    }


def test_tasks_per_host_is_the_mean_over_hosts_of_all_roles():
    assert fleet.tasks_per_host(TWO_HOSTS, 2) == {"ran": 36.0, "changed": 1.0, "skipped": 61.0}


def test_tasks_per_role_keeps_roles_apart():
    assert fleet.tasks_per_role(TWO_HOSTS, 2) == {
        "(play)": {"ran": 0.5, "skipped": 0.0},
        "hardening": {"ran": 31.0, "skipped": 59.0},
        "observability_agent": {"ran": 4.5, "skipped": 2.0},
    }


def test_floor_unit_is_cpu_per_task_and_host():
    assert fleet.floor_unit(_run("ping floor", 10.0), hosts=2, ping_tasks=50) == pytest.approx(0.1)


def test_a_failed_floor_gives_no_unit():
    assert fleet.floor_unit(_run("ping floor", 10.0, rc=2), hosts=2) is None


def test_equivalents_divide_per_host_cpu_by_the_unit():
    # 60 CPU-s over 2 hosts = 30 per host; one trivial task = 10 / (2 * 50) = 0.1 s: 300 tasks.
    assert fleet.equivalents(_run("site", 60.0), 2, fleet.floor_unit(_run("f", 10.0), 2)) == pytest.approx(300)


@pytest.mark.parametrize(
    ("runs", "expected"),
    [
        # floor 0.1 s/task/host: site 0.9 per host = 9 tasks, first 2.4 = 24; update 1.6x, drift 0.5x.
        (_runs(floor=10.0, site=1.8, first=4.8, update=2.88, drift=0.9), ["PASS", "PASS", "PASS", "PASS"]),
        # site 11 tasks, first 26 tasks, update 2.5x, drift 1.5x.
        (_runs(floor=10.0, site=2.2, first=5.2, update=5.5, drift=3.3), ["FAIL", "FAIL", "FAIL", "FAIL"]),
    ],
)
def test_verdicts_compare_each_goal_with_its_bound(runs, expected):
    assert [item["verdict"] for item in fleet.verdicts(runs, 2)] == expected


def test_verdict_values_are_the_ratios():
    values = [
        item["value"] for item in fleet.verdicts(_runs(floor=10.0, site=1.8, first=4.8, update=2.88, drift=0.9), 2)
    ]
    assert values == [9.0, 24.0, 1.6, 0.5]


def test_a_failed_run_is_not_judged():
    runs = _runs()
    runs["site no-change"] = _run("site no-change", 1.0, rc=2)
    verdicts = fleet.verdicts(runs, 2)
    assert [item["verdict"] for item in verdicts] == ["n/a", "FAIL", "n/a", "n/a"]
    assert verdicts[0]["why"] == "site no-change failed (rc 2)"
    assert verdicts[2]["why"] == "site no-change failed"


def test_without_a_floor_no_equivalents_are_judged():
    runs = _runs()
    del runs["ping floor"]
    assert [item["verdict"] for item in fleet.verdicts(runs, 2)][:2] == ["n/a", "n/a"]


def test_render_shows_each_run_its_tasks_and_the_goals():
    runs = _runs(floor=10.0, site=1.8, first=4.8, update=2.88, drift=0.9)
    runs["site no-change"].tasks = TWO_HOSTS
    text = fleet.render_fleet("ssh", 2, runs)
    assert "2 host(s) over ssh: trivial task = 100.0 ms CPU per host" in text
    site = next(line for line in text.splitlines() if line.startswith("site no-change "))
    assert site.split() == ["site", "no-change", "0", "3.6", "1.8", "0.90", "36/1/61", "9.0"]
    assert "PASS  no-change site.yml <= 10 trivial tasks per host: 9.00" in text
    assert "site no-change per role and host: (play) 0.5 ran/0 skipped, hardening 31 ran/59 skipped" in text


def test_render_says_the_goals_are_set_over_ssh():
    assert "goals (the goals are set over SSH; shown for comparison):" in fleet.render_fleet("docker", 2, _runs())


def test_render_curve_has_a_row_per_fleet():
    curve = fleet.render_curve(
        [{"hosts": 1, "connection": "ssh", "runs": _runs()}, {"hosts": 10, "connection": "ssh", "runs": {}}]
    )
    rows = curve.splitlines()[2:]
    assert rows[0].split()[:4] == ["1", "ssh", "100.00", "10.00"]
    assert rows[1].split() == ["10", "ssh", "-", "-", "-", "-", "-"]


def test_ping_playbook_has_one_ping_task_per_count():
    play = yaml.safe_load(fleet.ping_playbook(3))[0]
    assert play["gather_facts"] is False
    assert "become" not in play
    assert [task["ansible.builtin.ping"] for task in play["tasks"]] == [None, None, None]


def test_ssh_inventory_reaches_hosts_as_the_sudo_user_by_address():
    inv = fleet.inventory("ssh", {"h1": "172.17.0.5"}, Path("/k/id"), "http://mirror/debian-security")
    assert inv["all"]["hosts"] == {"h1": {"ansible_host": "172.17.0.5"}}
    assert inv["all"]["vars"]["ansible_user"] == fleet.USER
    assert inv["all"]["vars"]["ansible_ssh_private_key_file"] == "/k/id"
    assert "ansible_connection" not in inv["all"]["vars"]


def test_docker_inventory_uses_docker_exec():
    inv = fleet.inventory("docker", {"h1": "172.17.0.5"}, Path("/k/id"), "http://mirror")
    assert inv["all"]["vars"]["ansible_connection"] == "community.docker.docker"
    assert inv["all"]["hosts"] == {"h1": None}


def _result(host, role, changed=False):
    task = SimpleNamespace(_role=SimpleNamespace(get_name=lambda include_role_fqcn: role) if role else None)
    return SimpleNamespace(_host=SimpleNamespace(get_name=lambda: host), _task=task, _result={"changed": changed})


def test_callback_counts_per_host_and_role(tmp_path, monkeypatch):
    out = tmp_path / "tasks.json"
    monkeypatch.setenv("KEEL_BENCH_TASKS_FILE", str(out))
    callback = fleet_tasks.CallbackModule()
    callback.v2_runner_on_ok(_result("a", "hardening"))
    callback.v2_runner_on_ok(_result("a", "hardening", changed=True))
    callback.v2_runner_on_skipped(_result("a", "hardening"))
    callback.v2_runner_on_failed(_result("b", None))
    callback.v2_playbook_on_stats(None)
    assert json.loads(out.read_text()) == {
        "a": {"hardening": {"ran": 2, "changed": 1, "skipped": 1, "failed": 0}},
        "b": {"(play)": {"ran": 1, "changed": 0, "skipped": 0, "failed": 1}},
    }
