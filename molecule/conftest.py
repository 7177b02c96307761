"""Helpers shared by every Molecule scenario's testinfra tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

TEST_USER = "keel-deploy"


@pytest.fixture(scope="module")
def container_address(host) -> str:
    """IPv4 address of the test container on Docker's bridge (a project test host)."""
    name = host.backend.get_hostname()
    out = subprocess.run(
        ["docker", "inspect", "--format", "{{json .NetworkSettings.Networks}}", name],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    networks = json.loads(out)
    return next(n["IPAddress"] for n in networks.values() if n.get("IPAddress"))


@pytest.fixture(scope="module")
def test_key() -> Path:
    """The Ed25519 key of the test login user, made by the prepare playbook."""
    return Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "keel-deploy_ed25519"


def ssh_from_controller(address: str, key: Path, user: str, command: str, port: int = 22):
    """Run a command over a real SSH connection from the test machine."""
    return subprocess.run(
        [
            "ssh",
            "-i",
            str(key),
            "-p",
            str(port),
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "ConnectTimeout=10",
            "-o",
            "IdentitiesOnly=yes",
            f"{user}@{address}",
            command,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def tcp_probe(address: str, port: int, timeout: float = 2.0) -> str:
    """'open', 'refused' (a RST came back) or 'filtered' (no answer: dropped)."""
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return "open"
    except ConnectionRefusedError:
        return "refused"
    except OSError:
        return "filtered"
