# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The playbook tests' fleet: names, images, inventory, and a way to look inside a host."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = Path(__file__).resolve().parent / "inventory" / "hosts.yml"
HOSTS = [f"keel-fleet-{number}" for number in range(1, 6)]
IMAGES = {host: "keel/debian:12" if number % 2 else "keel/debian:13" for number, host in enumerate(HOSTS, 1)}


def docker_exec(host, *argv, check=True):
    return subprocess.run(["docker", "exec", host, *argv], capture_output=True, text=True, check=check)
