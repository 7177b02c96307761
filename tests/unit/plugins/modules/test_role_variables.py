"""role_variables is an action plugin; the module file is its documentation, which must match what the action takes."""

from __future__ import annotations

import yaml
from ansible_collections.keel.platform.plugins.action import role_variables as action
from ansible_collections.keel.platform.plugins.modules import role_variables as module


def test_the_documented_options_are_the_actions_argument_spec():
    documented = yaml.safe_load(module.DOCUMENTATION)["options"]
    assert sorted(documented) == sorted(action._ARGUMENT_SPEC)
    for name, option in action._ARGUMENT_SPEC.items():
        assert {k: documented[name].get(k) for k in option} == option, name


def test_the_documented_return_is_what_the_action_returns():
    returned = yaml.safe_load(module.RETURN)
    assert sorted(returned) == ["unknown"]
    assert returned["unknown"]["sample"][0].keys() == {"name", "closest"}


def test_the_examples_use_only_documented_options():
    documented = yaml.safe_load(module.DOCUMENTATION)["options"]
    for task in yaml.safe_load(module.EXAMPLES):
        assert set(task["keel.platform.role_variables"]) <= set(documented)
