# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""keel.platform.role_variables through ansible-playbook: misspelt and mistyped role variables.

Every run targets localhost with the check as the role's first task; the refusing runs stop
there, so the real roles never touch this machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ROLES = ["ci_runner", "docker_host", "fleet_health", "hardening", "observability_agent"]

FIXTURE_SPECS = {
    "argument_specs": {
        "main": {
            "short_description": "A role to check variables with",
            "options": {
                "demo_settings": {"type": "dict", "default": {}, "description": "A mapping."},
                "demo_groups": {"type": "list", "elements": "str", "default": [], "description": "A list."},
                "demo_enabled": {"type": "bool", "default": True, "description": "A switch."},
            },
        }
    }
}


def playbook(path: Path, role: str) -> Path:
    path.write_text(
        yaml.safe_dump(
            [{"name": "Run one role", "hosts": "localhost", "gather_facts": False, "roles": [{"role": role}]}]
        )
    )
    return path


@pytest.fixture
def fixture_role(tmp_path) -> Path:
    role = tmp_path / "roles" / "demo"
    for folder in ("meta", "defaults", "tasks"):
        (role / folder).mkdir(parents=True)
    (role / "meta" / "argument_specs.yml").write_text(yaml.safe_dump(FIXTURE_SPECS))
    (role / "defaults" / "main.yml").write_text("demo_settings: {}\ndemo_groups: []\ndemo_enabled: true\n")
    (role / "tasks" / "main.yml").write_text(
        yaml.safe_dump(
            [
                {
                    "name": "Check the variables",
                    "keel.platform.role_variables": {"strict": "{{ keel_strict_variables | default(false) }}"},
                },
                {"name": "Reach the role's work", "ansible.builtin.debug": {"msg": "role body ran"}},
            ]
        )
    )
    return playbook(tmp_path / "play.yml", str(role))


def run(play: Path, extra_vars: dict, tmp_path: Path) -> tuple[subprocess.CompletedProcess, dict]:
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
    }
    # Check mode: should a role ever run past its check here, it still changes nothing.
    argv = [
        str(BIN / "ansible-playbook"),
        "--check",
        "-i",
        "localhost,",
        "-c",
        "local",
        str(play),
        "-e",
        json.dumps(extra_vars),
    ]
    completed = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    tasks = json.loads(completed.stdout)["plays"][0]["tasks"]
    # Task names come as "<role> : <name>"; keep the name.
    return completed, {task["task"]["name"].split(" : ", 1)[-1]: task["hosts"]["localhost"] for task in tasks}


def test_a_misspelt_variable_is_a_warning_naming_the_closest_one(fixture_role, tmp_path):
    completed, results = run(fixture_role, {"demo_enabeld": False}, tmp_path)
    assert completed.returncode == 0, completed.stdout
    check = results["Check the variables"]
    assert check["warnings"][0] == (
        "demo_enabeld is not a variable of demo (the role would ignore it): did you mean demo_enabled?"
    )
    assert check["unknown"] == [{"name": "demo_enabeld", "closest": "demo_enabled"}]
    assert "Reach the role's work" in results


def test_strict_variables_make_a_misspelt_variable_an_error(fixture_role, tmp_path):
    completed, results = run(fixture_role, {"demo_enabeld": False, "keel_strict_variables": True}, tmp_path)
    assert completed.returncode == 2
    assert "did you mean demo_enabled?" in results["Check the variables"]["msg"]
    assert "Reach the role's work" not in results


def test_well_formed_variables_pass_without_warnings(fixture_role, tmp_path):
    extra = {"demo_settings": {"a": 1}, "demo_groups": ["ssh-users"], "keel_strict_variables": True}
    completed, results = run(fixture_role, extra, tmp_path)
    assert completed.returncode == 0, completed.stdout
    assert "warnings" not in results["Check the variables"]
    assert results["Reach the role's work"]["msg"] == "role body ran"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"demo_settings": "a=1"},
            "demo_settings must be a dictionary (a YAML mapping such as `{key: value}`), not the string 'a=1'.",
        ),
        (
            {"demo_groups": "ssh-users"},
            "demo_groups must be a list (a YAML sequence such as `[item]`), not the string 'ssh-users'.",
        ),
    ],
)
def test_a_string_for_a_dictionary_or_list_is_refused(fixture_role, tmp_path, extra, message):
    # ansible-core's own argument validation passes these (it converts them for its check only).
    completed, results = run(fixture_role, extra, tmp_path)
    assert completed.returncode == 2
    assert message in results["Check the variables"]["msg"]
    assert "Reach the role's work" not in results


def main_spec(role: str) -> dict:
    return yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]


def first_option(role: str, kind: str, elements: str | None = None) -> str:
    options = main_spec(role)["options"]
    return next(
        name for name, spec in sorted(options.items()) if spec["type"] == kind and spec.get("elements") == elements
    )


@pytest.mark.parametrize("role", ROLES)
def test_every_role_checks_its_variables_before_anything_else(role, tmp_path):
    known = first_option(role, "bool")
    misspelt = known[:-1]
    mistyped = first_option(role, "list", "str")
    extra = {misspelt: True, mistyped: "one,two"}
    completed, results = run(playbook(tmp_path / "play.yml", f"keel.platform.{role}"), extra, tmp_path)
    assert completed.returncode == 2
    # ansible-core's own validation passes; the role's first task refuses; nothing else ran.
    assert list(results) == [
        f"Validating arguments against arg spec 'main' - {main_spec(role)['short_description']}",
        "Check the variables given to the role against its argument specs",
    ]
    check = results["Check the variables given to the role against its argument specs"]
    assert f"{mistyped} must be a list" in check["msg"]
    assert check["unknown"] == [{"name": misspelt, "closest": known}]
    assert f"{misspelt} is not a variable of keel.platform.{role}" in check["warnings"][0]
