from __future__ import annotations

import json

import pytest
from ansible_collections.keel.platform.plugins.plugin_utils._change_report import (
    ChangeReport,
    summary_lines,
    to_markdown,
    write_reports,
)


def report(check_mode=False):
    return ChangeReport("fleet_update", check_mode, "2026-01-02T03:04:05+00:00")


@pytest.mark.parametrize(
    ("results", "status"),
    [
        ([], "not_run"),
        ([("ok", False)], "ok"),
        ([("ok", False), ("ok", True), ("ok", False)], "changed"),
        ([("ok", True), ("failed", None), ("ok", False)], "failed"),
        ([("unreachable", None), ("failed", None)], "unreachable"),
    ],
)
def test_a_status_never_improves(results, status):
    changes = report()
    changes.add_hosts(["web-1"])
    for kind, changed in results:
        if kind == "ok":
            changes.add_ok("web-1", "hardening", "A task", changed)
        else:
            changes.add_failed("web-1", "hardening", "A task", "boom", unreachable=kind == "unreachable")
    assert changes.to_dict()["hosts"]["web-1"]["status"] == status


def test_changed_tasks_by_role_handlers_and_notes():
    changes = report()
    changes.add_ok("web-1", "hardening", "Converge every declared configuration file", True)
    changes.add_ok("web-1", "observability_agent", "Write the node_exporter unit", True)
    changes.add_ok("web-1", "observability_agent", "Write the node_exporter unit", True)
    changes.add_ok("web-1", "observability_agent", "Restart node_exporter", True, handler=True)
    changes.add_ok("web-1", "observability_agent", "Read the state", False)
    changes.add_note("web-1", "reboot required, skipped: the host is a docker container")
    host = changes.to_dict()["hosts"]["web-1"]
    assert host["changed_tasks"] == [
        {"role": "hardening", "task": "Converge every declared configuration file"},
        {"role": "observability_agent", "task": "Write the node_exporter unit"},
    ]
    assert host["changed_by_role"] == {"hardening": 1, "observability_agent": 1}
    assert host["handlers"] == [{"role": "observability_agent", "task": "Restart node_exporter"}]
    assert host["notes"] == ["reboot required, skipped: the host is a docker container"]


def test_summary_lines_say_would_change_in_check_mode():
    changes = report(check_mode=True)
    changes.add_ok("web-2", "observability_agent", "Write the node_exporter unit", True)
    changes.add_ok("web-1", "", "Gather facts", False)
    changes.add_hosts(["web-3"])
    assert summary_lines(changes.to_dict()) == [
        "web-1: ok",
        "web-2: changed; would change observability_agent: Write the node_exporter unit",
        "web-3: not_run",
    ]


def test_summary_line_of_a_failed_host_names_the_task():
    changes = report()
    changes.add_failed("web-1", "fleet_health", "Fail the host if it is not healthy", "node_exporter does not answer")
    assert summary_lines(changes.to_dict()) == [
        "web-1: failed; failed at Fail the host if it is not healthy: node_exporter does not answer"
    ]


def test_markdown_escapes_table_cells():
    changes = report(check_mode=True)
    changes.add_ok("web-1", "hardening", "Set a | b\nnow", True)
    table = to_markdown(changes.to_dict())
    assert table.startswith("# Configuration drift: fleet_update\n")
    assert "| web-1 | changed | hardening: Set a \\| b now |  |  |  |" in table


def test_write_reports_replaces_files_whole(tmp_path):
    changes = report()
    changes.add_ok("web-1", "hardening", "A task", True)
    paths = write_reports(changes.to_dict(), tmp_path / "new", "fleet_update")
    assert [p.rsplit("/", 1)[1] for p in paths] == ["fleet_update.json", "fleet_update.md"]
    assert json.loads((tmp_path / "new" / "fleet_update.json").read_text())["hosts"]["web-1"]["status"] == "changed"
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["fleet_update.json", "fleet_update.md"]
