# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A moto_server on loopback, seeded once with a small two-account estate, behind the test proxy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.fixtures.aws_estate import seed  # noqa: E402
from tests.fixtures.aws_proxy import AwsProxy  # noqa: E402
from tests.fixtures.moto_server import MotoServer  # noqa: E402

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
SECOND_ACCOUNT = "222222222222"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture(scope="session")
def estate(tmp_path_factory):
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    os.environ.update(CREDENTIALS)
    with MotoServer(log) as moto:
        truth = seed(moto.url, 150, REGIONS, second_account=SECOND_ACCOUNT)
        with AwsProxy(moto.port) as proxy:
            yield {"truth": truth, "proxy": proxy, "moto": moto}


@pytest.fixture
def proxy(estate):
    estate["proxy"].rules.reset()
    return estate["proxy"]


@pytest.fixture
def truth(estate):
    return estate["truth"]


class Result:
    def __init__(self, completed, graph):
        self.returncode = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        self.data = json.loads(completed.stdout) if completed.returncode == 0 and not graph else None

    @property
    def hostvars(self):
        return self.data["_meta"]["hostvars"]

    def groups(self):
        return {name: set(body.get("hosts", [])) for name, body in self.data.items() if name != "_meta"}


@pytest.fixture
def inventory(tmp_path, proxy):
    """run(config, *extra_args, suffix='aws_fleet', env={name: value or None to unset}) -> Result of ansible-inventory.

    The project's ansible.cfg decides whether a failing inventory source fails the command.
    """

    def run(config, *args, suffix="aws_fleet", graph=False, env=None):
        path = tmp_path / f"test.{suffix}.yml"
        path.write_text(yaml.safe_dump(config))
        command = [
            str(Path(sys.executable).with_name("ansible-inventory")),
            "-i",
            str(path),
            "--graph" if graph else "--list",
        ]
        completed = subprocess.run(
            [*command, *args],
            capture_output=True,
            text=True,
            env=ansible_env(tmp_path, proxy, env),
            cwd=ROOT,
            check=False,
            timeout=300,
        )
        return Result(completed, graph)

    return run


def ansible_env(tmp_path, proxy, overrides=None):
    """The environment of an Ansible command against the proxy; overrides map a name to a value, or None to unset."""
    env = {
        **os.environ,
        **CREDENTIALS,
        "AWS_ENDPOINT_URL": proxy.url,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_DEPRECATION_WARNINGS": "0",
    }
    # What the project's ansible.cfg says about failing inventory sources is what the tests measure.
    env.pop("ANSIBLE_INVENTORY_UNPARSED_FAILED", None)
    env.pop("ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED", None)
    for name, value in (overrides or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def unwrap(value):
    """ansible-inventory --list marks strings from inventory sources as unsafe: {'__ansible_unsafe': 'x'}."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    return value
