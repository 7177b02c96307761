# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/ara_record.py as CI and users run it: `run` records a playbook beside change_report and keeps its exit
code; `report` writes ARA's static report of it."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PLAY = [
    {
        "name": "Change one file, then maybe fail",
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": [
            {
                "name": "Write the marker",
                "ansible.builtin.copy": {"dest": "{{ marker }}", "content": "recorded\n", "mode": "0644"},
            },
            {"name": "Fail when asked", "ansible.builtin.fail": {"msg": "asked to fail"}, "when": "fail | bool"},
        ],
    }
]


def ara_record(work, *args, fail=False):
    (work / "play.yml").write_text(yaml.safe_dump(PLAY, sort_keys=False))
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_HOME": str(work / "ansible-home"),
        "ANSIBLE_CALLBACKS_ENABLED": "keel.platform.change_report",
        "KEEL_REPORT_DIR": str(work / "reports"),
        "ARA_BASE_DIR": str(work / "ara"),
    }
    env.pop("ANSIBLE_CALLBACK_PLUGINS", None)
    argv = [str(BIN / "python"), str(ROOT / "scripts" / "ara_record.py"), *args]
    extra = json.dumps({"marker": str(work / "marker"), "fail": fail})
    if args[0] == "run":
        argv += [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(work / "play.yml"), "-e", extra]
    return subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, check=False)


def recorded(work):
    with sqlite3.connect(work / "ara" / "ansible.sqlite") as database:
        playbooks = database.execute("SELECT status FROM playbooks").fetchall()
        changed = database.execute("SELECT name, changed FROM hosts").fetchall()
    return playbooks, changed


def test_run_records_a_failed_run_beside_the_change_report_and_keeps_its_exit_code(tmp_path):
    completed = ara_record(tmp_path, "run", fail=True)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert f"recorded in ARA's SQLite database {tmp_path / 'ara' / 'ansible.sqlite'}" in completed.stderr
    assert recorded(tmp_path) == ([("failed",)], [("localhost", 1)])
    report = json.loads((tmp_path / "reports" / "play.json").read_text())
    assert report["hosts"]["localhost"]["changed_tasks"] == [{"role": "", "task": "Write the marker"}]

    generated = ara_record(tmp_path, "report", str(tmp_path / "html"))
    assert generated.returncode == 0, generated.stderr
    assert (tmp_path / "html" / "index.html").is_file()
    assert "Write the marker" in (tmp_path / "html" / "playbooks" / "1.html").read_text()


def test_report_refuses_when_nothing_was_recorded(tmp_path):
    completed = ara_record(tmp_path, "report", str(tmp_path / "html"))
    assert completed.returncode == 1
    assert f"no ARA database at {tmp_path / 'ara' / 'ansible.sqlite'}" in completed.stderr
    assert not (tmp_path / "html").exists()
