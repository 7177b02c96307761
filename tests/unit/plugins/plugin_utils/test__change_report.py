from __future__ import annotations

import json

import pytest
from ansible_collections.keel.platform.plugins.plugin_utils._change_report import (
    MAX_DIFF_LINES,
    ChangeReport,
    changed_files,
    declared_paths,
    mask_secrets,
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


# Events as the change_report callback feeds them during fleet_update.yml (serial [1, 2, 2],
# max_fail_percentage 0): a run_once check on the first host, then one play start per batch,
# then ansible's v2_playbook_on_no_hosts_remaining when it stops a batch.
FLEET = ["web-1", "web-2", "web-3", "web-4", "web-5"]
CHECKED = [("play", FLEET), ("ok", "web-1", "Validate the rollout's variables", False)]
CANARY = [("play", ["web-1"]), ("ok", "web-1", "Check health", False), ("ok", "web-1", "Write the unit", True)]


@pytest.mark.parametrize(
    ("events", "statuses", "aborted_at"),
    [
        pytest.param(
            [
                *CHECKED,
                *CANARY,
                ("play", ["web-2", "web-3"]),
                ("ok", "web-2", "Check health", False),
                ("failed", "web-3", "Check health"),
                ("abort", "Check health"),
            ],
            ["changed", "aborted", "failed", "not_run", "not_run"],
            {"web-2": "Check health"},
            id="pre-check-fails-mid-batch",
        ),
        pytest.param(
            [
                *CHECKED,
                *CANARY,
                ("play", ["web-2", "web-3"]),
                ("ok", "web-2", "Write the unit", True),
                ("ok", "web-3", "Write the unit", True),
                ("ok", "web-2", "Check health again", False),
                ("failed", "web-3", "Check health again"),
                ("abort", "Check health again"),
            ],
            ["changed", "aborted", "failed", "not_run", "not_run"],
            {"web-2": "Check health again"},
            id="post-check-fails-before-re-attach",
        ),
        pytest.param(
            [
                ("play", FLEET),
                ("failed", "web-1", "Validate the rollout's variables"),
                ("abort", "Validate the rollout's variables"),
            ],
            ["failed", "not_run", "not_run", "not_run", "not_run"],
            {},
            id="run-once-check-fails",
        ),
        pytest.param(
            [*CHECKED, ("play", ["web-1", "web-2"]), ("failed", "web-2", "Gather facts"), ("abort", "Gather facts")],
            ["not_run", "failed", "not_run", "not_run", "not_run"],
            {},
            id="batch-stopped-before-reaching-a-host",
        ),
        pytest.param(
            [
                *CHECKED,
                *CANARY,
                ("play", ["web-2", "web-3"]),
                ("ok", "web-2", "Write the unit", True),
                ("ok", "web-3", "Write the unit", True),
                ("play", ["web-4", "web-5"]),
                ("ok", "web-4", "Check", False),
                ("failed", "web-5", "Check"),
                ("abort", "Check"),
            ],
            ["changed", "changed", "changed", "aborted", "failed"],
            {"web-4": "Check"},
            id="only-the-stopped-batch",
        ),
    ],
)
def test_a_stopped_batch_marks_its_hosts_aborted_or_not_run(events, statuses, aborted_at):
    changes = report()
    for event in events:
        if event[0] == "play":
            changes.start_batch(event[1])
        elif event[0] == "ok":
            changes.add_ok(event[1], "role", event[2], event[3])
        elif event[0] == "failed":
            changes.add_failed(event[1], "role", event[2], "boom")
        else:
            changes.abort_batch("role", event[1])
    hosts = changes.to_dict()["hosts"]
    assert [hosts[host]["status"] for host in FLEET] == statuses
    assert {host: entry["aborted_at"]["task"] for host, entry in hosts.items() if entry["aborted_at"]} == aborted_at


def test_an_aborted_host_keeps_its_changes_and_says_where_it_stopped():
    changes = report()
    changes.start_batch(["web-2", "web-3"])
    changes.add_ok("web-2", "observability_agent", "Write the node_exporter unit", True)
    changes.add_failed("web-3", "fleet_health", "Fail the host if it is not healthy", "node_exporter does not answer")
    changes.abort_batch("fleet_health", "Fail the host if it is not healthy")
    changes.add_ok("web-2", "", "A later play", True)
    data = changes.to_dict()
    assert data["hosts"]["web-2"]["status"] == "aborted"
    assert data["hosts"]["web-2"]["changed_tasks"][0]["task"] == "Write the node_exporter unit"
    assert summary_lines(data)[0] == (
        "web-2: aborted; changed observability_agent: Write the node_exporter unit, (play): A later play; "
        "batch stopped after Fail the host if it is not healthy: later tasks did not run"
    )
    assert "| web-2 | aborted |" in to_markdown(data)
    assert "batch stopped after Fail the host if it is not healthy: later tasks did not run |" in to_markdown(data)


# Results as ansible-core 2.21 hands them to callbacks (recorded with --check --diff).
CONFIG_FILES = {
    "changed": True,
    "diff": [
        {
            "before_header": "/etc/ssh/sshd_config",
            "after_header": "/etc/ssh/sshd_config",
            "before": "Port 22\nPermitRootLogin yes\nX11Forwarding no\n",
            "after": "Port 22\nPermitRootLogin no\nX11Forwarding no\n",
        },
        {
            "before": {"path": "/etc/ssh/sshd_config", "mode": "0644"},
            "after": {"path": "/etc/ssh/sshd_config", "mode": "0600"},
        },
        {"before_header": "/etc/issue.net", "after_header": "/etc/issue.net", "before": "", "after": "Authorised\n"},
    ],
    "changed_paths": ["/etc/ssh/sshd_config", "/etc/issue.net"],
    "files": [{"path": "/etc/ssh/sshd_config", "changed": True}, {"path": "/etc/issue.net", "changed": True}],
}
LINEINFILE = {
    "changed": True,
    "diff": [
        {"before": "a\n", "after": "a\nz=1\n", "before_header": "/etc/t (content)", "after_header": "/etc/t (content)"},
        {"before": {"mode": "0644"}, "after": {"mode": "0600"}, "before_header": "/etc/t (file attributes)"},
    ],
}
LOOP = {
    "changed": True,
    "results": [
        {"changed": True, "diff": [{"before": "", "after_header": "/etc/l1", "after": "i\n"}], "item": "l1"},
        {"changed": False, "diff": [], "item": "l2"},
        {"changed": True, "censored": "the output has been hidden", "item": "l3"},
    ],
}
CENSORED = {"changed": True, "censored": "the output has been hidden due to the fact that 'no_log: true' was specified"}
TEMPLATE_NO_DIFF = {"changed": True, "dest": "/etc/node_exporter/web-config.yml", "src": "web-config.yml.j2"}
WEB_CONFIG = {
    "changed": True,
    "diff": [
        {
            "before_header": "/etc/node_exporter/web-config.yml",
            "after_header": "/etc/node_exporter/web-config.yml",
            "before": "basic_auth_users:\n  alice: $2b$12$" + "a" * 53 + "\n",
            "after": "basic_auth_users:\n  alice: $2b$12$" + "b" * 53 + "\n",
        }
    ],
    "changed_paths": ["/etc/node_exporter/web-config.yml"],
}


@pytest.mark.parametrize(
    ("result", "show_content", "files"),
    [
        pytest.param(
            CONFIG_FILES,
            True,
            [
                {
                    "path": "/etc/ssh/sshd_config",
                    "diff": ["@@ -2 +2 @@", "-PermitRootLogin yes", "+PermitRootLogin no", "mode: 0644 -> 0600"],
                },
                {"path": "/etc/issue.net", "diff": ["@@ -0,0 +1 @@", "+Authorised"]},
            ],
            id="config_files-content-and-attributes",
        ),
        pytest.param(
            LINEINFILE,
            True,
            [{"path": "/etc/t", "diff": ["@@ -1,0 +2 @@", "+z=1", "mode: 0644 -> 0600"]}],
            id="lineinfile-headers",
        ),
        pytest.param(LOOP, True, [{"path": "/etc/l1", "diff": ["@@ -0,0 +1 @@", "+i"]}], id="loop-items"),
        pytest.param(CENSORED, True, [], id="no_log-names-nothing"),
        pytest.param(
            WEB_CONFIG, False, [{"path": "/etc/node_exporter/web-config.yml", "diff": []}], id="diff-false-path-only"
        ),
        pytest.param(
            CONFIG_FILES,
            False,
            [{"path": "/etc/ssh/sshd_config", "diff": []}, {"path": "/etc/issue.net", "diff": []}],
            id="diff-false-config_files",
        ),
        pytest.param(
            TEMPLATE_NO_DIFF, True, [{"path": "/etc/node_exporter/web-config.yml", "diff": []}], id="no-diff-mode"
        ),
        pytest.param({"changed": False, "diff": CONFIG_FILES["diff"]}, True, [], id="unchanged"),
    ],
)
def test_changed_files_name_the_path_and_the_changed_lines(result, show_content, files):
    assert changed_files(result, show_content) == files


def test_content_of_no_log_and_diff_false_results_never_reaches_the_report(tmp_path):
    changes = report(check_mode=True)
    changes.add_files(
        "web-1", "observability_agent", "service", "Write the web configuration", changed_files(WEB_CONFIG, False)
    )
    changes.add_files("web-1", "observability_agent", "service", "Write the TLS key", changed_files(CENSORED, True))
    write_reports(changes.to_dict(), tmp_path, "drift")
    for name in ("drift.json", "drift.md"):
        text = (tmp_path / name).read_text()
        assert "/etc/node_exporter/web-config.yml" in text
        assert "$2b$" not in text
        assert "bbbb" not in text
        assert "basic_auth_users" not in text


@pytest.mark.parametrize(
    ("lines", "masked"),
    [
        (["-password = hunter2", "+password = s3cret"], ["-password = ********", "+password = ********"]),
        (
            ["+DB_PASSWORD=x y", "+api_key: abc", "+  token abc"],
            ["+DB_PASSWORD=********", "+api_key: ********", "+  token ********"],
        ),
        (["+  alice: $2y$10$" + "c" * 53], ["+  alice: ********"]),
        (
            ["+-----BEGIN PRIVATE KEY-----", "+MIIEv", "+-----END PRIVATE KEY-----", "+after"],
            ["+********", "+********", "+********", "+after"],
        ),
        (["-PermitRootLogin yes", "+Port 2222", "@@ -1 +1 @@"], ["-PermitRootLogin yes", "+Port 2222", "@@ -1 +1 @@"]),
        (["+password_min_length = 12"], ["+password_min_length = ********"]),
    ],
)
def test_secrets_in_diff_lines_are_masked(lines, masked):
    assert mask_secrets(lines) == masked


def test_a_long_diff_is_cut_short():
    result = {
        "changed": True,
        "diff": {"before_header": "/etc/f", "before": "", "after": "".join(f"{n}\n" for n in range(40))},
    }
    diff = changed_files(result)[0]["diff"]
    assert len(diff) == MAX_DIFF_LINES + 1
    assert diff[-1] == f"... {41 - MAX_DIFF_LINES} more diff lines"


def test_declared_paths_read_file_declarations_in_facts():
    facts = {
        "__hardening_files": [
            {"path": "/etc/sysctl.d/90-keel.conf", "content": "x"},
            {"path": "/run/sshd", "state": "directory"},
        ],
        "__hardening_services": [{"name": "ssh.service"}],
        "keel_report_note": "drained",
    }
    assert declared_paths(facts) == ["/etc/sysctl.d/90-keel.conf", "/run/sshd"]


def test_markdown_and_summary_name_the_file_and_the_changed_line():
    changes = report(check_mode=True)
    changes.add_ok("web-2", "hardening", "Converge every declared configuration file", True)
    changes.add_files(
        "web-2", "hardening", "sshd", "Converge every declared configuration file", changed_files(CONFIG_FILES)[:1]
    )
    data = changes.to_dict()
    assert data["hosts"]["web-2"]["changed_files"] == [
        {
            "role": "hardening",
            "area": "sshd",
            "task": "Converge every declared configuration file",
            "path": "/etc/ssh/sshd_config",
            "diff": ["@@ -2 +2 @@", "-PermitRootLogin yes", "+PermitRootLogin no", "mode: 0644 -> 0600"],
        }
    ]
    assert summary_lines(data)[0].endswith("; files /etc/ssh/sshd_config")
    markdown = to_markdown(data)
    assert (
        "## web-2: files that would change\n\n"
        "- hardening / sshd: `/etc/ssh/sshd_config` (Converge every declared configuration file)\n\n"
        "  ```diff\n  @@ -2 +2 @@\n  -PermitRootLogin yes\n  +PermitRootLogin no\n  mode: 0644 -> 0600\n  ```\n"
    ) in markdown


def test_the_summary_names_a_few_files_and_counts_the_rest():
    changes = report()
    files = [{"path": f"/etc/f{number}", "diff": []} for number in range(7)]
    changes.add_files("web-1", "hardening", "sysctl", "Converge every declared configuration file", files)
    assert (
        summary_lines(changes.to_dict())[0]
        == "web-1: not_run; files /etc/f0, /etc/f1, /etc/f2, /etc/f3, /etc/f4 and 2 more"
    )
