# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""observability_agent's `archive` and `local` sources refuse an archive whose SHA-256 is not
the expected one, on the controller, before anything is copied to a host.

The role's controller-side steps (tasks/install_archive.yml) run on localhost against a
release mirror laid out like the upstream release page under a temporary directory; every case
fails before the step that copies the binary, so nothing is installed on this machine.
"""

from __future__ import annotations

import hashlib
import io
import os
import platform
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VERSION = "1.9.1"
GOARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
NAME = f"node_exporter-{VERSION}.linux-{GOARCH}"
COPY_STEP = "Copy the node_exporter binary to the host"

PLAYBOOK = """\
- name: The controller-side steps of the archive and local sources
  hosts: localhost
  gather_facts: true
  tasks:
    - name: Fetch, verify and unpack the release
      ansible.builtin.include_role:
        name: keel.platform.observability_agent
        tasks_from: install_archive.yml
"""


def release_archive(path: Path) -> str:
    """Write a release archive holding a stand-in binary; return its SHA-256."""
    payload = b"#!/bin/sh\necho node_exporter stand-in\n"
    with tarfile.open(path, "w:gz") as archive:
        member = tarfile.TarInfo(f"{NAME}/node_exporter")
        member.size = len(payload)
        member.mode = 0o755
        archive.addfile(member, io.BytesIO(payload))
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    release = tmp_path / "mirror" / f"v{VERSION}"
    release.mkdir(parents=True)
    release_archive(release / f"{NAME}.tar.gz")
    return tmp_path / "mirror"


def converge(tmp_path: Path, **extra_vars: str) -> subprocess.CompletedProcess:
    playbook = tmp_path / "archive.yml"
    playbook.write_text(PLAYBOOK)
    variables = {
        "observability_agent_version": VERSION,
        "observability_agent_controller_cache_dir": str(tmp_path / "cache"),
        **extra_vars,
    }
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        "ANSIBLE_NOCOLOR": "1",
    }
    command = [str(Path(sys.executable).with_name("ansible-playbook")), str(playbook)]
    for name, value in variables.items():
        command += ["-e", f"{name}={value}"]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, check=False)


def test_a_published_checksum_that_does_not_match_stops_the_install(tmp_path, mirror):
    release = mirror / f"v{VERSION}"
    (release / "sha256sums.txt").write_text(f"{'0' * 64}  {NAME}.tar.gz\n")
    result = converge(
        tmp_path, observability_agent_install_source="archive", observability_agent_archive_base_url=mirror.as_uri()
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "did not match" in output, output
    assert COPY_STEP not in output
    assert not (tmp_path / "cache" / NAME).exists()


def test_a_release_without_a_published_checksum_is_refused(tmp_path, mirror):
    (mirror / f"v{VERSION}" / "sha256sums.txt").write_text(f"{'1' * 64}  node_exporter-other.tar.gz\n")
    result = converge(
        tmp_path, observability_agent_install_source="archive", observability_agent_archive_base_url=mirror.as_uri()
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert f"has no entry for {NAME}.tar.gz" in output, output
    assert COPY_STEP not in output


def test_a_local_archive_with_another_checksum_is_refused(tmp_path):
    archive = tmp_path / f"{NAME}.tar.gz"
    actual = release_archive(archive)
    result = converge(
        tmp_path,
        observability_agent_install_source="local",
        observability_agent_local_archive=str(archive),
        observability_agent_archive_sha256="f" * 64,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert f"has SHA-256 {actual}" in output, output
    assert COPY_STEP not in output
    assert not (tmp_path / "cache" / NAME).exists()
