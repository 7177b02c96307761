"""The role_variables action run in-process on a role directory of the test's own, with ansible's real DataLoader."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import yaml
from ansible.errors import AnsibleActionFail, AnsibleUndefinedVariable
from ansible.parsing.dataloader import DataLoader
from ansible_collections.keel.platform.plugins.action.role_variables import ActionModule

SPECS = {
    "argument_specs": {
        "main": {
            "short_description": "demo",
            "options": {
                "demo_settings": {"type": "dict", "default": {}, "description": "A mapping."},
                "demo_groups": {"type": "list", "elements": "str", "default": [], "description": "A list."},
                "demo_enabled": {"type": "bool", "default": True, "description": "A switch."},
            },
        },
        "extra": {"short_description": "another entry point", "options": {"demo_port": {"type": "int"}}},
    }
}


class Templar:
    """Values are given already templated, except those naming an undefined variable."""

    def template(self, value):
        if value == "{{ undefined }}":
            raise AnsibleUndefinedVariable("'undefined' is undefined")
        return value


@pytest.fixture
def role_dir(tmp_path):
    (tmp_path / "demo" / "meta").mkdir(parents=True)
    (tmp_path / "demo" / "meta" / "argument_specs.yml").write_text(yaml.safe_dump(SPECS))
    return tmp_path / "demo"


def run(role_dir, task_vars, args=None, entry_point=None, role=True):
    the_role = SimpleNamespace(
        _role_path=str(role_dir),
        get_name=lambda: str(role_dir),  # a role named by its path
        _from_files={"tasks": entry_point} if entry_point else {},
    )
    task = SimpleNamespace(
        args=args or {}, _role=the_role if role else None, async_val=0, action="role_variables", check_mode=False
    )
    connection = SimpleNamespace(_shell=SimpleNamespace(tmpdir="unused: the action never reaches the host"))
    action = ActionModule(task, connection, SimpleNamespace(), DataLoader(), Templar(), None)
    return action.run(task_vars=task_vars)


def test_documented_well_formed_variables_pass(role_dir):
    result = run(role_dir, {"demo_settings": {"a": 1}, "demo_groups": ["ops"], "other_var": 1})
    assert not result.get("failed")
    assert result["changed"] is False
    assert result["unknown"] == []
    assert result["msg"] == "Every variable with the prefix demo_ is documented and well-formed."


def test_a_misspelt_variable_is_a_warning_with_the_closest_name_or_an_error_when_strict(role_dir):
    result = run(role_dir, {"demo_enabeld": False})
    assert not result.get("failed")
    assert result["unknown"] == [{"name": "demo_enabeld", "closest": "demo_enabled"}]
    assert "demo_enabled" in result["warnings"][0]
    assert result["warnings"][-1] == "Set keel_strict_variables: true to make these errors."
    strict = run(role_dir, {"demo_enabeld": False}, {"strict": True})
    assert strict["failed"]
    assert strict["msg"].startswith("Refusing to run demo: its variables do not match its argument specs.")
    assert "demo_enabeld" in strict["msg"]


def test_a_list_given_as_a_string_is_refused_naming_the_variable(role_dir):
    result = run(role_dir, {"demo_groups": "ops"})
    assert result["failed"]
    assert "demo_groups" in result["msg"]
    assert "Nothing was changed." in result["msg"]


def test_outputs_of_the_role_are_not_inputs(role_dir):
    result = run(role_dir, {"demo_info": {"x": 1}}, {"outputs": ["demo_info"]})
    assert result["unknown"] == []


def test_a_value_naming_an_undefined_variable_is_left_to_the_task_that_uses_it(role_dir):
    assert not run(role_dir, {"demo_groups": "{{ undefined }}"}).get("failed")


def test_the_entry_point_of_tasks_from_is_checked(role_dir):
    result = run(role_dir, {"demo_port": 22, "demo_enabled": True}, entry_point="extra")
    assert [item["name"] for item in result["unknown"]] == ["demo_enabled"]


@pytest.mark.parametrize(
    ("args", "role", "message"),
    [
        ({"strict": "maybe"}, True, "strict"),
        ({}, False, "keel.platform.role_variables must run as a task of a role."),
    ],
)
def test_bad_arguments_and_a_task_outside_a_role_are_refused(role_dir, args, role, message):
    with pytest.raises(AnsibleActionFail, match=message):
        run(role_dir, {}, args, role=role)


def test_a_role_without_argument_specs_is_refused(tmp_path):
    with pytest.raises(AnsibleActionFail, match=r"has no meta/argument_specs\.yml to check its variables against"):
        run(tmp_path, {})
