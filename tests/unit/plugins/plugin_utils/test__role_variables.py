"""Variables a play gives a role, judged against the role's argument specs."""

from __future__ import annotations

import pytest
from ansible_collections.keel.platform.plugins.plugin_utils._role_variables import (
    closest_name,
    describe_unknown,
    type_problems,
    unknown_variables,
)

KNOWN = ["hardening_sysctl_enabled", "hardening_firewall_enabled", "hardening_ssh_allow_groups"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("hardening_sysctl_enable", "hardening_sysctl_enabled"),
        ("hardening_firewal_enabled", "hardening_firewall_enabled"),
        ("hardening_ssh_allowgroups", "hardening_ssh_allow_groups"),
        ("hardening_something_else_entirely", None),
    ],
)
def test_closest_name(name, expected):
    assert closest_name(name, KNOWN) == expected


def test_unknown_variables_keeps_only_the_prefix_and_skips_known_and_outputs():
    names = [
        "hardening_firewal_enabled",
        "hardening_sysctl_enabled",
        "hardening_runtime_skipped",
        "__hardening_internal",
        "docker_host_users",
        "keel_strict_variables",
    ]
    assert unknown_variables(names, "hardening_", KNOWN, outputs=["hardening_runtime_skipped"]) == [
        ("hardening_firewal_enabled", "hardening_firewall_enabled")
    ]


def test_describe_unknown_names_the_role_and_the_fix():
    assert describe_unknown("keel.platform.hardening", "hardening_firewal_enabled", "hardening_firewall_enabled") == (
        "hardening_firewal_enabled is not a variable of keel.platform.hardening (the role would ignore it): "
        "did you mean hardening_firewall_enabled?"
    )
    assert "argument_specs.yml" in describe_unknown("r", "r_x", None)


OPTIONS = {
    "hardening_sysctl_overrides": {"type": "dict"},
    "hardening_ssh_allow_groups": {"type": "list", "elements": "str"},
    "hardening_sysctl_enabled": {"type": "bool"},
    "hardening_ssh_port": {"type": "int"},
    "hardening_banner": {"type": "str"},
    "docker_host_users": {"type": "list", "elements": "str"},
    "observability_agent_basic_auth_users": {
        "type": "list",
        "elements": "dict",
        "options": {"name": {"type": "str"}, "password": {"type": "str"}},
    },
    "ci_runner_runners": {"type": "list", "elements": "dict"},
    "docker_host_daemon_options": {"type": "dict", "options": {"labels": {"type": "list", "elements": "str"}}},
    "docker_host_free": {"type": "raw"},
}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"hardening_sysctl_overrides": "net.ipv4.ip_forward=1"}, "hardening_sysctl_overrides must be a dictionary"),
        ({"hardening_sysctl_overrides": ["a"]}, "hardening_sysctl_overrides must be a dictionary"),
        ({"hardening_ssh_allow_groups": "ssh-users"}, "hardening_ssh_allow_groups must be a list"),
        ({"hardening_ssh_allow_groups": {"a": 1}}, "hardening_ssh_allow_groups must be a list"),
        ({"hardening_ssh_allow_groups": [["nested"]]}, "hardening_ssh_allow_groups[0] must be a string"),
        ({"hardening_sysctl_enabled": "maybe"}, "hardening_sysctl_enabled must be true or false"),
        ({"hardening_sysctl_enabled": [True]}, "hardening_sysctl_enabled must be true or false"),
        ({"hardening_ssh_port": {"port": 22}}, "hardening_ssh_port must be a number"),
        ({"hardening_banner": {"text": "x"}}, "hardening_banner must be a string"),
        (
            {"observability_agent_basic_auth_users": ["prometheus:secret"]},
            "observability_agent_basic_auth_users[0] must be a dictionary",
        ),
        (
            {"observability_agent_basic_auth_users": [{"name": ["a"]}]},
            "observability_agent_basic_auth_users[0].name must be a string",
        ),
        ({"ci_runner_runners": "ci-1"}, "ci_runner_runners must be a list"),
        ({"docker_host_daemon_options": "debug=true"}, "docker_host_daemon_options must be a dictionary"),
        ({"docker_host_daemon_options": {"labels": "a=b"}}, "docker_host_daemon_options.labels must be a list"),
    ],
)
def test_type_problems_names_the_variable(values, expected):
    problems = type_problems(values, OPTIONS)
    assert len(problems) == 1
    assert problems[0].startswith(expected)


@pytest.mark.parametrize(
    "values",
    [
        {"hardening_sysctl_overrides": {"net.ipv4.ip_forward": 1}},
        {"hardening_sysctl_overrides": {}},
        {"hardening_ssh_allow_groups": ["ssh-users"]},
        {"hardening_ssh_allow_groups": []},
        {"hardening_sysctl_enabled": True},
        {"hardening_sysctl_enabled": "yes"},
        {"hardening_sysctl_enabled": "False"},
        {"hardening_sysctl_enabled": 0},
        {"hardening_ssh_port": 22},
        {"hardening_ssh_port": "2222"},
        {"hardening_banner": "Authorised use only"},
        {"hardening_banner": None},
        {"observability_agent_basic_auth_users": [{"name": "prometheus", "password": "x"}]},
        {"docker_host_free": "anything"},
        {"not_documented": "ignored here"},
    ],
)
def test_well_formed_values_pass(values):
    assert type_problems(values, OPTIONS) == []


def test_the_message_shows_the_value_given():
    (problem,) = type_problems({"hardening_sysctl_overrides": "net.ipv4.ip_forward=1"}, OPTIONS)
    assert "the string 'net.ipv4.ip_forward=1'" in problem
