"""Run keel.platform.config_files for real, on files in a temporary directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[4]


def run_module(files, *flags, umask=None):
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="json")
    env["ANSIBLE_LOAD_CALLBACK_PLUGINS"] = "1"
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible"), "localhost", "-c", "local",
            "-e", f"ansible_python_interpreter={sys.executable}",
            "-m", "keel.platform.config_files", "-a", json.dumps({"files": files}), *flags,
        ],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False,
        preexec_fn=None if umask is None else lambda: os.umask(umask),
    )  # fmt: skip
    output = json.loads(result.stdout)
    return output["plays"][0]["tasks"][0]["hosts"]["localhost"]


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "existing.d").mkdir(mode=0o755)
    (tmp_path / "auditd.conf").write_text("max_log_file = 8\nnum_logs = 5\n")
    (tmp_path / "secret").write_text("x\n")
    (tmp_path / "secret").chmod(0o644)
    (tmp_path / "old").write_text("stale\n")
    return tmp_path


def entries(tree):
    return [
        {"path": str(tree / "new.d" / "a.conf"), "content": "a = 1\n", "mode": "0640"},
        {"path": str(tree / "auditd.conf"), "settings": {"num_logs": 8}},
        {"path": str(tree / "missing.conf"), "settings": {"x": 1}},
        {"path": str(tree / "secret"), "mode": "0600"},
        {"path": str(tree / "old"), "state": "absent"},
        {"path": str(tree / "dir"), "state": "directory", "mode": "0750"},
        {"path": str(tree / "existing.d"), "mode": "0700"},  # attributes of a directory
    ]


def test_converges_and_then_changes_nothing(tree):
    first = run_module(entries(tree))
    assert first["changed"] is True
    assert (tree / "new.d" / "a.conf").read_text() == "a = 1\n"
    assert oct((tree / "new.d" / "a.conf").stat().st_mode & 0o777) == "0o640"
    assert (tree / "auditd.conf").read_text() == "max_log_file = 8\nnum_logs = 8\n"
    assert not (tree / "missing.conf").exists()
    assert oct((tree / "secret").stat().st_mode & 0o777) == "0o600"
    assert not (tree / "old").exists()
    assert oct((tree / "dir").stat().st_mode & 0o777) == "0o750"
    assert oct((tree / "existing.d").stat().st_mode & 0o777) == "0o700"
    assert [f.get("skipped") for f in first["files"]][2] == "does not exist"

    second = run_module(entries(tree))
    assert second["changed"] is False
    assert second["changed_paths"] == []


def test_new_directories_are_0755_under_a_hardened_umask(tree):
    # umask 027, as the hardening role sets: the directories must still let other users through.
    files = [
        {"path": str(tree / "lib" / "keel" / "helper.py"), "content": "print(1)\n", "mode": "0644"},
        {"path": str(tree / "made" / "deeper"), "state": "directory"},
    ]
    assert run_module(files, umask=0o027)["changed"] is True
    for directory in ("lib", "lib/keel", "made", "made/deeper"):
        assert oct((tree / directory).stat().st_mode & 0o777) == "0o755", directory


def test_check_mode_reports_without_writing(tree):
    result = run_module(entries(tree), "--check", "--diff")
    assert result["changed"] is True
    assert str(tree / "auditd.conf") in result["changed_paths"]
    assert (tree / "auditd.conf").read_text() == "max_log_file = 8\nnum_logs = 5\n"
    assert (tree / "old").exists()
    assert not (tree / "new.d").exists()
    assert any(d.get("after") == "a = 1\n" for d in result["diff"])


def test_without_diff_mode_no_content_is_returned(tree):
    # A task with `diff: false` (secrets) must not hand its content to callbacks, which print
    # any `diff` key of a result when the run has --diff.
    result = run_module(entries(tree), "--check")
    assert result["changed"] is True
    assert "diff" not in result
    assert str(tree / "new.d" / "a.conf") in result["changed_paths"]


def test_a_rejected_candidate_changes_nothing(tree):
    files = [
        {"path": str(tree / "first.conf"), "content": "fine\n"},
        {"path": str(tree / "auditd.conf"), "content": "broken\n", "validate": "grep -q num_logs %s"},
    ]
    result = run_module(files)
    assert result.get("failed") is True
    assert result["msg"].startswith("Nothing was changed:")
    assert "rejected the new content" in result["msg"]
    assert not (tree / "first.conf").exists()
    assert (tree / "auditd.conf").read_text() == "max_log_file = 8\nnum_logs = 5\n"


def test_bad_entries_fail_before_anything_changes(tree):
    result = run_module([{"path": str(tree / "x"), "content": "x"}, {"path": "relative/path", "content": "y"}])
    assert result.get("failed") is True
    assert "must be absolute" in result["msg"]
    assert not (tree / "x").exists()
