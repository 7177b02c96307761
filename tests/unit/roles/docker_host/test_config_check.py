"""The daemon.json checker the docker_host role installs on hosts, run here
against a stand-in dockerd on PATH (with and without --validate) and without
any dockerd."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

CHECKER = Path(__file__).resolve().parents[4] / "roles/docker_host/files/keel-docker-config-check"

DOCKERD_20_10 = """#!/bin/sh
echo "Usage: dockerd [OPTIONS]"
echo "      --debug                 Enable debug mode"
echo "      --label list            Set key=value labels to the daemon"
echo "      --live-restore          Enable live restore of docker when containers are still running"
echo "      --log-level string      Set the logging level"
echo "      --registry-mirror list  Preferred Docker registry mirror"
"""

DOCKERD_WITH_VALIDATE = """#!/bin/sh
case "$*" in
*--help*) echo "      --validate    Validate daemon configuration and exit" ;;
*--validate*)
  grep -q refused-by-dockerd "$3" && { echo "dockerd refuses refused-by-dockerd" >&2; exit 1; }
  echo "configuration OK" ;;
esac
"""


def run_checker(tmp_path: Path, config, dockerd: str | None):
    workdir = Path(tempfile.mkdtemp(dir=tmp_path))
    bin_dir = workdir / "bin"
    bin_dir.mkdir()
    if dockerd is not None:
        fake = bin_dir / "dockerd"
        fake.write_text(dockerd)
        fake.chmod(0o755)
    candidate = workdir / "daemon.json"
    candidate.write_text(config if isinstance(config, str) else json.dumps(config))
    env = {**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, str(CHECKER), str(candidate)], capture_output=True, text=True, env=env, check=False
    )


@pytest.mark.parametrize("dockerd", [DOCKERD_20_10, None], ids=["dockerd-20.10", "no-dockerd"])
def test_a_good_file_passes_and_says_which_check_ran(tmp_path, dockerd):
    result = run_checker(tmp_path, {"debug": True, "labels": ["a=b"], "live-restore": True}, dockerd)
    assert result.returncode == 0, result.stderr
    expected = "has no --validate" if dockerd else "no dockerd installed yet"
    assert expected in result.stdout


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "must hold one JSON object"),
        ({"bogus-key": 1}, "unknown key 'bogus-key'"),
        ({"live-restore": "yes"}, "'live-restore' must be true or false"),
        ({"labels": "a=b"}, "'labels' must be a list"),
        ({"log-level": "verbose"}, "invalid logging level 'verbose'"),
        ({"max-concurrent-downloads": "3"}, "must be an integer"),
        ({"default-ulimits": {"nofile": 1024}}, "default-ulimits.nofile must be an object with Name, Soft and Hard"),
    ],
)
def test_offline_check_refuses_bad_files(tmp_path, config, message):
    result = run_checker(tmp_path, config, DOCKERD_20_10)
    assert result.returncode == 1
    assert message in result.stderr


def test_offline_check_knows_keys_of_flags_it_has_never_seen(tmp_path):
    # Keys come from this dockerd's --help: plural forms of list flags count.
    result = run_checker(tmp_path, {"registry-mirrors": ["https://mirror.example"]}, DOCKERD_20_10)
    assert result.returncode == 0, result.stderr
    result = run_checker(tmp_path, {"icc": False}, DOCKERD_20_10)
    assert result.returncode == 1
    assert "unknown key 'icc'" in result.stderr


def test_dockerd_validate_is_used_when_available(tmp_path):
    good = run_checker(tmp_path, {"log-level": "info"}, DOCKERD_WITH_VALIDATE)
    assert good.returncode == 0
    assert "configuration OK" in good.stdout
    bad = run_checker(tmp_path, {"labels": ["refused-by-dockerd"]}, DOCKERD_WITH_VALIDATE)
    assert bad.returncode == 1
    assert "dockerd refuses refused-by-dockerd" in bad.stderr


@pytest.mark.parametrize("dockerd", [DOCKERD_20_10, DOCKERD_WITH_VALIDATE], ids=["dockerd-20.10", "dockerd-validate"])
@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"data-root": "/proc/keel-docker"}, "data-root '/proc/keel-docker' is on proc, a kernel filesystem"),
        ({"data-root": "/sys/fs/keel"}, "data-root '/sys/fs/keel' is on sysfs"),
        ({"data-root": "var/lib/docker"}, "data-root must be an absolute path, not 'var/lib/docker'"),
        ({"data-root": "/etc/hostname/docker"}, "cannot be a directory: /etc/hostname is not one"),
        (
            {"storage-driver": "btrfs", "data-root": "/proc/x"},
            "storage-driver 'btrfs' needs data-root (/proc/x) on btrfs",
        ),
        (
            {"runtimes": {"crun": {"path": "/nonexistent/crun"}}},
            "runtimes.crun.path '/nonexistent/crun' is not an executable",
        ),
        # Types are checked on engines with --validate too: it leaves some to dockerd's start.
        ({"live-restore": "yes"}, "'live-restore' must be true or false"),
    ],
)
def test_host_checks_refuse_what_dockerd_only_finds_at_start(tmp_path, dockerd, config, message):
    result = run_checker(tmp_path, config, dockerd)
    assert result.returncode == 1
    assert message in result.stderr


@pytest.mark.parametrize("dockerd", [None, DOCKERD_WITH_VALIDATE], ids=["no-dockerd", "dockerd-validate"])
def test_host_checks_accept_creatable_directories_and_real_runtimes(tmp_path, dockerd):
    config = {
        "data-root": str(tmp_path / "not" / "yet" / "there"),
        "exec-root": str(tmp_path),
        "runtimes": {"alt": {"path": sys.executable}},
    }
    result = run_checker(tmp_path, config, dockerd)
    assert result.returncode == 0, result.stderr
