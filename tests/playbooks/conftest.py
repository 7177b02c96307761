# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fleet of five systemd containers (keel-fleet-1..5, Debian 12 and 13) and a way to run the real playbooks on it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from fleet import HOSTS, IMAGES, INVENTORY, ROOT

sys.path.insert(0, str(ROOT))
from tests.fixtures.ara_report import recording_environment


@pytest.fixture(scope="session")
def fleet():
    """Start the five containers with the test bed's flags; remove them afterwards (KEEL_KEEP_FLEET=1 keeps them)."""
    testbed = str(ROOT / "scripts" / "testbed.sh")
    with ThreadPoolExecutor(len(HOSTS)) as pool:
        list(pool.map(lambda host: subprocess.run([testbed, "run", host, IMAGES[host]], check=True), HOSTS))
    yield HOSTS
    if os.environ.get("KEEL_KEEP_FLEET") != "1":
        subprocess.run(["docker", "rm", "-f", *HOSTS], capture_output=True, check=False)


class Run:
    """One ansible-playbook run: its exit code, output, the change_report callback's JSON and its environment."""

    def __init__(self, completed, report_dir, name, env):
        self.env = env
        self.returncode = completed.returncode
        self.stdout = completed.stdout
        path = report_dir / f"{name}.json"
        self.report = json.loads(path.read_text()) if path.exists() else None
        markdown = report_dir / f"{name}.md"
        self.markdown = markdown.read_text() if markdown.exists() else None

    def host(self, name):
        return self.report["hosts"][name]


@pytest.fixture(scope="session")
def playbook(tmp_path_factory):
    """Run playbooks/<name>.yml with the change_report callback; each call gets its own report directory.

    With ara=True, ARA records the run too, in an SQLite database of its own in that directory.
    """

    def run(name, *args, ara=False):
        report_dir = tmp_path_factory.mktemp(name)
        env = {
            **os.environ,
            "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
            "ANSIBLE_CALLBACKS_ENABLED": "keel.platform.change_report",
            "KEEL_REPORT_DIR": str(report_dir),
            "ANSIBLE_NOCOLOR": "1",
        }
        if ara:
            env = recording_environment(env, report_dir / "ara")
        completed = subprocess.run(
            ["ansible-playbook", "-i", str(INVENTORY), str(ROOT / "playbooks" / f"{name}.yml"), *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=False,
        )
        (report_dir / "ansible.log").write_text(completed.stdout + completed.stderr)
        return Run(completed, report_dir, name, env)

    return run
