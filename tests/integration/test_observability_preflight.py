# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""observability_agent's preflight, on the controller: each bad input stops the host with its own
message naming the variable, before the host is probed; a plain basic-auth password never appears
in the output, even with -vvv.

One run of the role's preflight.yml against several local hosts, each with one bad input.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.fixtures.pki import self_signed_pair  # noqa: E402
from tests.fixtures.playbook import run_playbook  # noqa: E402

CANARY = "canary-basic-auth-secret-7f3a"
PROBE_STEP = "Probe Docker, CI runners and the hardening firewall"
PLAYBOOK = """\
- name: The preflight of keel.platform.observability_agent
  hosts: all
  gather_facts: true
  gather_subset: [min]
  tasks:
    - name: Check the variables
      ansible.builtin.include_role:
        name: keel.platform.observability_agent
        tasks_from: preflight.yml
"""


CERT, KEY = self_signed_pair("agent")
OTHER_KEY = self_signed_pair("other")[1]
TLS = {
    "observability_agent_tls_enabled": True,
    "observability_agent_tls_cert": CERT,
    "observability_agent_tls_key": KEY,
}
FORWARD = {
    "observability_agent_journal_forwarding": "journal_upload",
    "observability_agent_journal_upload_url": "https://journal:19532",
    "observability_agent_journal_ca_cert": CERT,
    "observability_agent_journal_client_cert": CERT,
    "observability_agent_journal_client_key": KEY,
}
USERS = [{"name": "prometheus", "password": CANARY}]

# host: (its variables, the one message it must fail with)
CASES = {
    "listen": (
        {"observability_agent_listen_address": "0.0.0.0:abc"},
        "observability_agent_listen_address '0.0.0.0:abc' has a port or is malformed",
    ),
    "ipv6": (
        {"observability_agent_listen_address": "::1"},
        "observability_agent_listen_address '::1' is an IPv6 address: put it in brackets ([::1])",
    ),
    "port": ({"observability_agent_port": 70000}, "observability_agent_port 70000 is not a port"),
    "cert_path": (
        {**TLS, "observability_agent_tls_cert": "/etc/ssl/agent.crt"},
        "observability_agent_tls_cert looks like a file path ('/etc/ssl/agent.crt')",
    ),
    "key_mismatch": (
        {**TLS, "observability_agent_tls_key": OTHER_KEY},
        "observability_agent_tls_key does not belong to the first certificate of "
        "observability_agent_tls_cert (CN=agent)",
    ),
    "client_key_mismatch": (
        {**FORWARD, "observability_agent_journal_client_key": OTHER_KEY},
        "observability_agent_journal_client_key does not belong to the first certificate of "
        "observability_agent_journal_client_cert",
    ),
    "ca_path": (
        {**FORWARD, "observability_agent_journal_ca_cert": "/etc/ssl/ca.pem"},
        "observability_agent_journal_ca_cert looks like a file path ('/etc/ssl/ca.pem')",
    ),
    "bad_hash": (
        {"observability_agent_basic_auth_users": [*USERS, {"name": "ops", "password_hash": "$2b$10$short"}]},
        "observability_agent_basic_auth_users[1] (ops): password_hash is not a bcrypt hash",
    ),
    "no_password": (
        {"observability_agent_basic_auth_users": [*USERS, {"name": "broken"}]},
        "observability_agent_basic_auth_users[1] (broken): give password or password_hash.",
    ),
    "both_collectors": (
        {"observability_agent_collectors_enabled": ["systemd"], "observability_agent_collectors_disabled": ["systemd"]},
        "systemd are in both observability_agent_collectors_enabled and observability_agent_collectors_disabled",
    ),
    "upload_url": (
        {**FORWARD, "observability_agent_journal_upload_url": "http://journal:19532"},
        "observability_agent_journal_upload_url 'http://journal:19532' is not https://",
    ),
    "rsyslog_target": (
        {**FORWARD, "observability_agent_journal_forwarding": "rsyslog"},
        "observability_agent_journal_forwarding is rsyslog: set observability_agent_rsyslog_target",
    ),
    "sha256": (
        {"observability_agent_archive_sha256": "abc"},
        "observability_agent_archive_sha256 'abc' is not a SHA-256",
    ),
}


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> subprocess.CompletedProcess:
    tmp_path = tmp_path_factory.mktemp("preflight")
    (tmp_path / "preflight.yml").write_text(PLAYBOOK)
    inventory = {
        "all": {
            "hosts": {
                name: {"ansible_connection": "local", "ansible_python_interpreter": sys.executable, **variables}
                for name, (variables, _message) in CASES.items()
            }
        }
    }
    (tmp_path / "inventory.json").write_text(json.dumps(inventory))
    return run_playbook(tmp_path, "-vvv", "-i", str(tmp_path / "inventory.json"), str(tmp_path / "preflight.yml"))


def failure_of(run: subprocess.CompletedProcess, host: str) -> dict:
    """The result the default callback printed (as YAML, indented under the line) for HOST's failure."""
    lines = run.stdout.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith(f"fatal: [{host}]: FAILED! =>")]
    assert len(starts) == 1, run.stdout[-5000:]
    block = []
    for line in lines[starts[0] + 1 :]:
        if not line.startswith("    "):
            break
        block.append(line[4:])
    return yaml.safe_load("\n".join(block))


@pytest.mark.parametrize("host", sorted(CASES))
def test_each_bad_input_stops_its_host_with_its_own_message(run, host):
    assert run.returncode != 0
    message = " ".join(failure_of(run, host)["msg"].split())
    assert CASES[host][1] in message, message
    # One rule, one message: no other rule's text.
    others = [expected for name, (_variables, expected) in CASES.items() if name != host and expected != CASES[host][1]]
    assert not any(other in message for other in others), message


def test_no_host_is_probed(run):
    assert PROBE_STEP not in run.stdout


def test_the_plain_password_and_the_keys_never_appear(run):
    output = run.stdout + run.stderr
    assert CANARY not in output
    assert KEY.splitlines()[1] not in output
    assert OTHER_KEY.splitlines()[1] not in output
