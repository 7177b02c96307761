"""scripts/changed_scenarios.py: which Molecule scenarios a change runs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "scripts/changed_scenarios.py"
spec = importlib.util.spec_from_file_location("changed_scenarios", SCRIPT)
changed_scenarios = importlib.util.module_from_spec(spec)
spec.loader.exec_module(changed_scenarios)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A small collection: two roles, their scenarios, a module with its util, a filter."""
    files = {
        "molecule/alpha/molecule.yml": "",
        "molecule/alpha_guards/molecule.yml": "",
        "molecule/beta/molecule.yml": "",
        "molecule/alphabet/molecule.yml": "",
        "molecule/beta_with_alpha/molecule.yml": "",
        "molecule/beta_with_alpha/converge.yml": "- ansible.builtin.include_role:\n    name: keel.platform.alpha\n",
        "roles/alpha/tasks/main.yml": "- keel.platform.config_files:\n",
        "roles/beta/tasks/main.yml": '- debug:\n    msg: "{{ x | keel.platform.changed_keys(y) }}"\n',
        "roles/beta/templates/x.j2": "{{ y | keel.platform.ip_in_networks([]) }}\n",
        "plugins/modules/config_files.py": (
            "from ansible_collections.keel.platform.plugins.module_utils._config_files import plan\n"
        ),
        "plugins/module_utils/_config_files.py": "",
        "plugins/filter/changed_keys.py": "",
        "plugins/filter/ip_in_networks.py": (
            "from ansible_collections.keel.platform.plugins.plugin_utils.networks import parse_address\n"
        ),
        "plugins/plugin_utils/networks.py": "",
    }
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        (["roles/alpha/defaults/main.yml"], ["alpha", "alpha_guards", "beta_with_alpha"]),
        (["roles/beta/tasks/main.yml"], ["beta", "beta_with_alpha"]),
        (["molecule/alpha_guards/converge.yml"], ["alpha_guards"]),
        (["plugins/modules/config_files.py"], ["alpha", "alpha_guards", "beta_with_alpha"]),
        (["plugins/module_utils/_config_files.py"], ["alpha", "alpha_guards", "beta_with_alpha"]),
        (["plugins/filter/changed_keys.py"], ["beta", "beta_with_alpha"]),
        (["plugins/plugin_utils/networks.py"], ["beta", "beta_with_alpha"]),
        (["README.md", "docs/architecture.md", "tests/unit/test_x.py", "bench/x/run.py"], []),
        (["roles/gamma/tasks/main.yml"], []),
        ([".config/molecule/config.yml"], ["alpha", "alpha_guards", "alphabet", "beta", "beta_with_alpha"]),
        (
            ["README.md", "molecule/resources/prepare.yml"],
            ["alpha", "alpha_guards", "alphabet", "beta", "beta_with_alpha"],
        ),
        (["roles/beta/README.md", "roles/alpha/tasks/x.yml"], ["alpha", "alpha_guards", "beta", "beta_with_alpha"]),
        (["", "  "], []),
    ],
)
def test_affected(tree, paths, expected):
    assert changed_scenarios.affected(paths, tree) == expected


def test_scenario_names_are_matched_by_role_prefix_only(tree):
    # alphabet is not alpha's scenario even though the names share a prefix.
    assert "alphabet" not in changed_scenarios.affected(["roles/alpha/tasks/main.yml"], tree)


def test_scenario_that_runs_a_role_is_that_roles_scenario_too(tree):
    # beta_with_alpha runs keel.platform.alpha: a change to alpha runs it; a mere mention would not.
    (tree / "molecule/alpha/verify.yml").write_text("# compare with keel.platform.beta's output\n")
    assert changed_scenarios.affected(["roles/beta/tasks/main.yml"], tree) == ["beta", "beta_with_alpha"]
    assert "beta_with_alpha" in changed_scenarios.affected(["roles/alpha/tasks/main.yml"], tree)


def test_cli_prints_one_scenario_per_line(capsys):
    assert changed_scenarios.main(["roles/docker_host/tasks/main.yml"]) == 0
    assert capsys.readouterr().out.splitlines() == ["ci_runner_docker", "docker_host"]
