# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: docker_daemon_problems
short_description: The plugin names in a daemon.json that a Docker engine does not have
version_added: 0.3.0
description:
  - Checks the log driver, storage driver, default runtime and cgroup driver a candidate
    daemon.json names against what the engine has. With a running engine its own C(/info)
    decides the log drivers and runtimes; without one (a first install), the table of what the
    release's engine package has built in.
  - C(dockerd --validate) accepts unknown driver names; dockerd only fails on them when it
    starts, so this check runs before the file is written.
  - Returns one sentence per problem, naming the key, the value and the choices; empty when the
    file names nothing the engine lacks.
options:
  _input:
    description: The candidate daemon.json, as a dictionary.
    type: dict
    required: true
  engine:
    description:
      - The running engine as the docker_host probe reports it (keys C(version), C(log_drivers),
        C(storage_driver), C(runtimes)), or V(null) when no engine answers.
    type: dict
  builtin:
    description:
      - What the engine package has built in - C(log_drivers), C(storage_drivers), C(runtimes),
        C(cgroup_drivers) (lists) and C(name) (the package, for messages).
    type: dict
    required: true
  current:
    description: The live daemon.json; runtimes it defines do not count as built in.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Refuse a log driver this engine lacks
  vars:
    problems: >-
      {{ {'log-driver': 'nope'} | keel.platform.docker_daemon_problems(engine=probe.engine,
         builtin={'name': 'docker.io', 'log_drivers': ['local'], 'storage_drivers': ['overlay2'],
                  'runtimes': ['runc'], 'cgroup_drivers': ['cgroupfs', 'systemd']}) }}
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('; ') }}"
"""

RETURN = r"""
_value:
  description: One sentence per problem, in key order; empty when there is none.
  type: list
  elements: str
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

CGROUP_DRIVER_OPTION = "native.cgroupdriver"


def _choice_problem(key, value, choices, where):
    if not isinstance(value, str):
        return f"{key} must be a string naming one of {', '.join(sorted(choices))}, not {value!r}"
    if value in choices:
        return None
    return f"{key} {value!r} is not one of {where}: {', '.join(sorted(choices))}"


def _runtimes(config):
    runtimes = config.get("runtimes")
    return set(runtimes) if isinstance(runtimes, Mapping) else set()


def docker_daemon_problems(config, builtin, engine=None, current=None):
    """Return a sentence for each plugin name in config that the engine does not have."""
    if not isinstance(config, Mapping):
        raise AnsibleFilterError(f"docker_daemon_problems: the input must be a dictionary, not {type(config).__name__}")
    current = current if isinstance(current, Mapping) else {}
    package = builtin.get("name", "the engine package")
    problems = []

    if "log-driver" in config:
        if engine:
            choices, where = set(engine["log_drivers"]), f"the log drivers the running dockerd {engine['version']} has"
        else:
            choices, where = set(builtin["log_drivers"]), f"the log drivers built into {package}"
        problems.append(_choice_problem("log-driver", config["log-driver"], choices, where))

    if "storage-driver" in config:
        choices = set(builtin["storage_drivers"])
        if engine and engine.get("storage_driver"):
            choices.add(engine["storage_driver"])
        problems.append(
            _choice_problem("storage-driver", config["storage-driver"], choices, f"the storage drivers of {package}")
        )

    if "default-runtime" in config:
        choices = set(builtin["runtimes"]) | _runtimes(config)
        if engine:
            # The running engine lists the runtimes of the live file too; the candidate may drop them.
            choices |= set(engine["runtimes"]) - _runtimes(current)
        problems.append(
            _choice_problem(
                "default-runtime", config["default-runtime"], choices, "the built-in runtimes and those in runtimes"
            )
        )

    exec_opts = config.get("exec-opts")
    for option in exec_opts if isinstance(exec_opts, list) else []:
        name, _equals, value = str(option).partition("=")
        if name.strip() == CGROUP_DRIVER_OPTION:
            problems.append(
                _choice_problem(
                    f"exec-opts {CGROUP_DRIVER_OPTION}",
                    value.strip(),
                    set(builtin["cgroup_drivers"]),
                    "the cgroup drivers",
                )
            )

    return [problem for problem in problems if problem]


class FilterModule:
    """daemon.json plugin-name check of keel.platform."""

    def filters(self):
        return {"docker_daemon_problems": docker_daemon_problems}
