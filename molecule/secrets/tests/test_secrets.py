"""No canary secret in Ansible's -vvv output, the journal or a readable file (see molecule.yml)."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
import yaml

EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
SCANNED = ["/etc", "/var", "/opt", "/home", "/root", "/tmp", "/run", "/usr/local"]
WEB_CONFIG = "/etc/node_exporter/web-config.yml"
# The test's GitHub API fixture (not a role) takes the token on its command
# line, which systemd-run keeps in this unit file.
FIXTURE_UNIT = "/run/systemd/transient/keel-github-fixture.service"


@pytest.fixture(scope="module")
def canaries(host) -> dict[str, str]:
    """Each canary and the derived forms that would leak it, by label."""
    variables = host.ansible.get_variables()
    user, password = variables["keel_canary_scrape_user"], variables["keel_canary_scrape_password"]
    token = variables["keel_canary_token"]
    forms = {
        "basic-auth password": password,
        "basic-auth header (base64 of user:password)": base64.b64encode(f"{user}:{password}".encode()).decode(),
        "GitHub token": token,
    }
    # Any line of the App key's PEM body gives the key away, escaped in JSON or not.
    body = [line for line in (EPHEMERAL / "app.pem").read_text().splitlines() if not line.startswith("-----")]
    forms.update({f"GitHub App key, PEM line {n}": line for n, line in enumerate(body, 1)})
    return forms


@pytest.fixture(scope="module")
def scan(host, canaries) -> dict:
    source = (Path(__file__).parent / "canary_scan.py").read_text()
    command = "python3 -c %s %s" + " %s" * len(SCANNED)
    found = json.loads(host.check_output(command, source, json.dumps(canaries), *SCANNED))
    found["files"] = [hit for hit in found["files"] if hit[1] != FIXTURE_UNIT]
    return found


def controller_hits(canaries: dict[str, str], paths: list[Path]) -> list[str]:
    found = []
    for path in paths:
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            found += [f"{label}: {path.name}:{number}: {line[:300]}" for label, v in canaries.items() if v in line]
    return found


def test_the_log_holds_the_whole_vvv_converge(host):
    log = (EPHEMERAL / "ansible.log").read_text()
    name = host.backend.get_hostname()
    assert "ESTABLISH DOCKER CONNECTION" in log, "the log is not -vvv output"
    assert f"<{name}> EXEC" in log
    for role in ("hardening", "ci_runner", "observability_agent"):
        assert f"TASK [keel.platform.{role} : " in log
    assert "PLAY RECAP" in log


def test_the_canaries_were_in_use(host, canaries):
    """The leak test means something only if the secrets were used: scrape with them, find the runner."""
    variables = host.ansible.get_variables()
    probe = (
        "import sys, urllib.request as u, urllib.error as e\n"
        "r = u.Request('http://127.0.0.1:9100/metrics', headers=dict([sys.argv[1:]]) if sys.argv[1:] else {})\n"
        "try:\n    print(u.urlopen(r, timeout=10).status)\nexcept e.HTTPError as x:\n    print(x.code)\n"
    )
    header = "Basic " + canaries["basic-auth header (base64 of user:password)"]
    assert host.check_output("python3 -c %s Authorization %s", probe, header) == "200"
    assert host.check_output("python3 -c %s", probe) == "401"
    state = json.loads(
        host.check_output(
            "python3 -c \"import urllib.request as u; print(u.urlopen('http://127.0.0.1:8787/_fixture/state').read().decode())\""
        )
    )
    names = {r["name"] for r in state["scopes"]["repos/keel/app"] if r["status"] == "online"}
    assert f"{variables['inventory_hostname']}-build-1" in names


def test_no_canary_in_ansible_output_or_reports(canaries):
    reports = sorted((EPHEMERAL / "reports").glob("*"))
    assert reports, "the change_report callback wrote no report"
    found = controller_hits(canaries, [EPHEMERAL / "ansible.log", *reports])
    assert not found, "\n".join(found)


def test_no_canary_in_the_journal(scan):
    assert scan["journal_bytes"] > 0
    assert not scan["journal"], "\n".join(f"{label}: {unit}: ...{before}" for label, unit, before in scan["journal"])


def test_no_canary_in_a_world_readable_file(scan):
    found = [f"{label}: {path} ({mode})" for label, path, mode in scan["files"] if int(mode, 8) & 0o004]
    assert not found, "\n".join(found)


def test_no_plain_secret_in_any_file(scan):
    """The host keeps the GitHub credential encrypted and only a bcrypt hash of the password."""
    assert not scan["files"], "\n".join(f"{label}: {path} ({mode})" for label, path, mode in scan["files"])


@pytest.mark.parametrize(
    ("path", "mode", "group"),
    [
        (WEB_CONFIG, 0o640, "node-exporter"),
        ("/etc/keel/ci_runner/github.cred", 0o600, "root"),
        ("/etc/keel/ci_runner/github.cred.sha256", 0o600, "root"),
        ("/var/lib/systemd/credential.secret", 0o400, "root"),
    ],
)
def test_files_holding_secrets_are_not_readable_by_others(host, path, mode, group):
    secret = host.file(path)
    assert secret.is_file
    assert (secret.user, secret.group, secret.mode) == ("root", group, mode)


def test_web_config_holds_only_a_bcrypt_hash(host):
    user = host.ansible.get_variables()["keel_canary_scrape_user"]
    config = yaml.safe_load(host.check_output("cat %s", WEB_CONFIG))
    assert config["basic_auth_users"][user].startswith("$2b$")
