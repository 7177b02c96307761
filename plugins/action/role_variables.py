# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of keel.platform.role_variables (documented in plugins/modules/role_variables.py)."""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail, AnsibleUndefinedVariable
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase
from ansible_collections.keel.platform.plugins.plugin_utils._role_variables import (
    describe_unknown,
    type_problems,
    unknown_variables,
)

_ARGUMENT_SPEC = {
    "strict": {"type": "bool", "default": False},
    "outputs": {"type": "list", "elements": "str", "default": []},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        validation = ArgumentSpecValidator(_ARGUMENT_SPEC).validate(self._task.args)
        if validation.error_messages:
            raise AnsibleActionFail("; ".join(validation.error_messages))
        args = validation.validated_parameters

        role = self._task._role
        if role is None:
            raise AnsibleActionFail("keel.platform.role_variables must run as a task of a role.")
        options = self._entry_point_options(role)
        prefix = f"{os.path.basename(role._role_path)}_"
        # A role named by its path is reported by its directory's name.
        role_label = os.path.basename(role.get_name())

        problems = type_problems(self._given_values(options, task_vars), options)
        unknown = unknown_variables(task_vars, prefix, options, args["outputs"])
        messages = [describe_unknown(role_label, name, closest) for name, closest in unknown]

        result["changed"] = False
        result["unknown"] = [{"name": name, "closest": closest} for name, closest in unknown]
        if problems or (messages and args["strict"]):
            result["failed"] = True
            result["msg"] = (
                f"Refusing to run {role_label}: its variables do not match its argument specs. Nothing was changed. "
                + " ".join(problems + (messages if args["strict"] else []))
            )
        if messages and not args["strict"]:
            result["warnings"] = [*messages, "Set keel_strict_variables: true to make these errors."]
        if not result.get("failed"):
            result["msg"] = "Every variable with the prefix %s is documented and well-formed." % prefix
            if messages:
                result["msg"] = "%d variable(s) with the prefix %s are not the role's." % (len(messages), prefix)
        return result

    def _given_values(self, options, task_vars) -> dict:
        """The templated value of every documented option the play sets.

        A value that refers to an undefined variable is left to the task that uses it.
        """
        values = {}
        for name in options:
            if name in task_vars:
                try:
                    values[name] = self._templar.template(task_vars[name])
                except AnsibleUndefinedVariable:
                    continue
        return values

    def _entry_point_options(self, role) -> dict:
        """The documented options of the role's current entry point (tasks_from, default main)."""
        path = os.path.join(role._role_path, "meta", "argument_specs.yml")
        if not os.path.exists(path):
            raise AnsibleActionFail(f"{role.get_name()} has no meta/argument_specs.yml to check its variables against.")
        specs = (self._loader.load_from_file(path) or {}).get("argument_specs") or {}
        entry_point = role._from_files.get("tasks", "main")
        return dict((specs.get(entry_point) or {}).get("options") or {})
