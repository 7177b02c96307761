# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""observability_agent's `archive` and `local` sources, on the controller: a `local` archive
given as a file or as a mirror URL (served over HTTP on 127.0.0.1) is installed, and an archive
whose SHA-256 is not the expected one is refused before anything is copied to a host.

The role's install steps (tasks/install_archive.yml) run on localhost against a release mirror
laid out like the upstream release page under a temporary directory. Successful installs copy
the binary to a path under that directory (the role's binary path is overridden), never to
/usr/local/bin of this machine; failing cases stop before the copy.
"""

from __future__ import annotations

import functools
import hashlib
import io
import platform
import subprocess
import sys
import tarfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.fixtures.playbook import run_playbook

ROOT = Path(__file__).resolve().parents[2]
VERSION = "1.9.1"
GOARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
NAME = f"node_exporter-{VERSION}.linux-{GOARCH}"
COPY_STEP = "Copy the node_exporter binary to the host"
STAND_IN = f"#!/bin/sh\necho 'node_exporter, version {VERSION} (keel stand-in)'\n".encode()

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
    payload = STAND_IN
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
        "__observability_agent_archive_binary": str(tmp_path / "installed" / "node_exporter"),
        **extra_vars,
    }
    # The controller runs no node_exporter unit: the restart the copy notifies has nothing to act on.
    arguments = [str(playbook), "-e", '{"__observability_agent_service_ready": false}']
    for name, value in variables.items():
        arguments += ["-e", f"{name}={value}"]
    return run_playbook(tmp_path, *arguments)


@pytest.fixture
def http_mirror(mirror: Path):
    """The mirror served over HTTP on 127.0.0.1; yields its base URL."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(mirror))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def assert_installed(tmp_path: Path, result: subprocess.CompletedProcess) -> None:
    """The play succeeded and the binary from the archive is installed and runs."""
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    installed = tmp_path / "installed" / "node_exporter"
    assert installed.read_bytes() == STAND_IN
    assert installed.stat().st_mode & 0o777 == 0o755
    version = subprocess.run([str(installed), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == f"node_exporter, version {VERSION} (keel stand-in)"


def test_a_local_archive_file_is_installed(tmp_path, mirror):
    archive = mirror / f"v{VERSION}" / f"{NAME}.tar.gz"
    (tmp_path / "installed").mkdir()
    result = converge(
        tmp_path,
        observability_agent_install_source="local",
        observability_agent_local_archive=str(archive),
        observability_agent_archive_sha256=hashlib.sha256(archive.read_bytes()).hexdigest(),
    )
    assert_installed(tmp_path, result)
    # Unpacked straight from the given file: nothing was downloaded.
    assert not (tmp_path / "cache" / f"{NAME}.tar.gz").exists()


def test_a_local_archive_from_a_mirror_url_is_downloaded_once_and_installed(tmp_path, mirror, http_mirror):
    archive = mirror / f"v{VERSION}" / f"{NAME}.tar.gz"
    (tmp_path / "installed").mkdir()
    variables = {
        "observability_agent_install_source": "local",
        "observability_agent_local_archive": f"{http_mirror}/v{VERSION}/{NAME}.tar.gz",
        "observability_agent_archive_sha256": hashlib.sha256(archive.read_bytes()).hexdigest(),
    }
    assert_installed(tmp_path, converge(tmp_path, **variables))
    assert (tmp_path / "cache" / f"{NAME}.tar.gz").read_bytes() == archive.read_bytes()
    # A second run: the cached archive already has that checksum, so nothing changes.
    archive.unlink()
    again = converge(tmp_path, **variables)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "changed=0" in again.stdout, again.stdout


def test_a_local_mirror_url_with_another_checksum_is_refused(tmp_path, mirror, http_mirror):
    actual = hashlib.sha256((mirror / f"v{VERSION}" / f"{NAME}.tar.gz").read_bytes()).hexdigest()
    result = converge(
        tmp_path,
        observability_agent_install_source="local",
        observability_agent_local_archive=f"{http_mirror}/v{VERSION}/{NAME}.tar.gz",
        observability_agent_archive_sha256="e" * 64,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    # The role's message names the variable and the version, not get_url's temp path.
    assert (
        f"The archive of node_exporter {VERSION} ({http_mirror}/v{VERSION}/{NAME}.tar.gz) has SHA-256 {actual}, "
        f"not {'e' * 64} from observability_agent_archive_sha256" in output
    ), output
    assert COPY_STEP not in output
    assert not (tmp_path / "installed").exists()


def test_a_published_checksum_that_does_not_match_stops_the_install(tmp_path, mirror):
    release = mirror / f"v{VERSION}"
    (release / "sha256sums.txt").write_text(f"{'0' * 64}  {NAME}.tar.gz\n")
    actual = hashlib.sha256((release / f"{NAME}.tar.gz").read_bytes()).hexdigest()
    result = converge(
        tmp_path, observability_agent_install_source="archive", observability_agent_archive_base_url=mirror.as_uri()
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert (
        f"The archive of node_exporter {VERSION} ({mirror.as_uri()}/v{VERSION}/{NAME}.tar.gz) has SHA-256 {actual}, "
        f"not {'0' * 64} from the published {mirror.as_uri()}/v{VERSION}/sha256sums.txt" in output
    ), output
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
