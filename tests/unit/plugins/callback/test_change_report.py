"""The callback's glue: which results may put content in the report, areas, and a stopped batch."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from ansible_collections.keel.platform.plugins.callback.change_report import CallbackModule

UNIT = "/etc/systemd/system/node_exporter.service"
DIFF = {"before_header": UNIT, "after_header": UNIT, "before": "A\npassword = hunter2\n", "after": "B\n"}


class Role:
    def __init__(self, name):
        self.name = name

    def get_name(self, include_role_fqcn=True):
        return self.name


def task(name, path, role="observability_agent", **fields):
    attrs = {"diff": True, "no_log": False, "check_mode": True, "action": "keel.platform.config_files", **fields}
    return SimpleNamespace(name=name, _role=Role(role), get_path=lambda: path, **attrs)


def result(host, on, data):
    return SimpleNamespace(
        task=on,
        host=SimpleNamespace(get_name=lambda: host),
        result=data,
        is_changed=lambda: bool(data.get("changed")),
    )


@pytest.fixture
def callback():
    plugin = CallbackModule()
    plugin.v2_playbook_on_start(SimpleNamespace(_file_name="/x/playbooks/drift.yml"))
    return plugin


@pytest.mark.parametrize(
    ("fields", "diff"),
    [
        ({}, ["@@ -1,2 +1 @@", "-A", "-password = ********", "+B"]),
        ({"diff": False}, []),
        ({"diff": "{{ __observability_agent_basic_auth | length == 0 }}"}, []),
        ({"no_log": True}, []),
    ],
)
def test_only_a_task_with_diff_on_and_no_log_off_contributes_content(callback, fields, diff):
    service = task("Write the node_exporter unit", "/r/roles/observability_agent/tasks/service.yml:48", **fields)
    callback.v2_runner_on_ok(result("web-1", service, {"changed": True, "diff": [DIFF]}))
    [changed] = callback._report.to_dict()["hosts"]["web-1"]["changed_files"]
    assert changed == {
        "role": "observability_agent",
        "area": "service",
        "task": "Write the node_exporter unit",
        "path": UNIT,
        "diff": diff,
    }


def test_a_file_declared_in_an_area_task_file_takes_that_area(callback):
    declare = task("Declare the SSH daemon configuration", "/r/roles/hardening/tasks/sshd.yml:10", role="hardening")
    facts = {"ansible_facts": {"__hardening_files": [{"path": "/etc/ssh/sshd_config"}]}, "changed": False}
    callback.v2_runner_on_ok(result("web-1", declare, facts))
    converge = task(
        "Converge every declared configuration file", "/r/roles/hardening/tasks/apply.yml:3", role="hardening"
    )
    diff = {"before_header": "/etc/ssh/sshd_config", "before": "X11Forwarding yes\n", "after": "X11Forwarding no\n"}
    callback.v2_runner_on_ok(
        result("web-1", converge, {"changed": True, "diff": [diff, {**diff, "before_header": "/etc/x"}]})
    )
    files = callback._report.to_dict()["hosts"]["web-1"]["changed_files"]
    assert [(changed["area"], changed["path"]) for changed in files] == [
        ("sshd", "/etc/ssh/sshd_config"),
        ("apply", "/etc/x"),
    ]


def test_no_hosts_remaining_aborts_the_current_batch_at_the_last_task(callback):
    callback._report.start_batch(["web-2", "web-3"])
    check = task("Fail the host if it is not healthy", "/r/roles/fleet_health/tasks/main.yml:85", role="fleet_health")
    callback.v2_playbook_on_task_start(check, False)
    callback.v2_runner_on_ok(result("web-2", check, {"changed": False}))
    callback.v2_runner_on_failed(result("web-3", check, {"failed": True, "msg": "post-update health check failed"}))
    callback.v2_playbook_on_no_hosts_remaining()
    hosts = callback._report.to_dict()["hosts"]
    assert hosts["web-2"]["status"] == "aborted"
    assert hosts["web-2"]["aborted_at"] == {"role": "fleet_health", "task": "Fail the host if it is not healthy"}
    assert hosts["web-3"]["status"] == "failed"
