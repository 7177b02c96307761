"""The pre-install check of node_exporter's web configuration."""

from __future__ import annotations

import json
import subprocess

import pytest
from scripts_loader import FILES, load_script

check = load_script(FILES / "keel_web_config_check.py", "keel_web_config_check")

HASH = "$2b$10$/ingYMRevcYWeZfQF6xloelkKeYRb5qZvp2PTCTIL3sY5fY634.fS"


@pytest.fixture(scope="module")
def tls_pair(tmp_path_factory):
    """A self-signed certificate with its key, and a second unrelated key."""
    directory = tmp_path_factory.mktemp("tls")
    for name in ("server", "other"):
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-subj", f"/CN={name}", "-days", "1", "-keyout", str(directory / f"{name}.key"),
             "-out", str(directory / f"{name}.crt")],
            check=True,
            capture_output=True,
        )  # fmt: skip
    return directory


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({}, None),
        ({"basic_auth_users": {"prometheus": HASH}}, None),
        ({"basic_auth_users": {"prometheus": "secret"}}, "not a bcrypt hash"),
        ({"tls_config": {}}, "unknown key 'tls_config'"),
        ([], "not a mapping"),
        ({"tls_server_config": {"cert_file": "/nonexistent", "key_file": "/nonexistent"}}, "do not load together"),
        ({"tls_server_config": {"key_file": "/x"}}, "needs cert_file"),
    ],
)
def test_problems(config, problem):
    found = check.problems(config)
    assert (problem is None and found == []) or any(problem in item for item in found), found


def tls(directory, key="server", **extra) -> dict:
    return {
        "tls_server_config": {
            "cert_file": str(directory / "server.crt"),
            "key_file": str(directory / f"{key}.key"),
            **extra,
        }
    }


def test_matching_certificate_and_key_pass(tls_pair):
    assert check.problems(tls(tls_pair, min_version="TLS12")) == []


def test_key_of_another_certificate_fails(tls_pair):
    assert any("do not load together" in problem for problem in check.problems(tls(tls_pair, key="other")))


def test_bad_tls_version(tls_pair):
    assert any("min_version" in problem for problem in check.problems(tls(tls_pair, min_version="SSL3")))


def test_main_reads_comment_lines_and_json(tmp_path):
    path = tmp_path / "web.yml"
    path.write_text("# Ansible managed\n" + json.dumps({"basic_auth_users": {"u": HASH}}))
    assert check.main([str(path)]) == 0
    path.write_text("# Ansible managed\n{not json")
    assert check.main([str(path)]) == 1
