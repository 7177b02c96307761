"""keel.platform.listen_address_problems: host syntax (IPv6 in brackets) and port range, per variable."""

from __future__ import annotations

import pytest
from ansible_collections.keel.platform.plugins.filter import listen_address_problems as module

check = module.listen_address_problems


@pytest.mark.parametrize(
    ("address", "port"),
    [
        ("", 9100),
        ("0.0.0.0", 9100),  # noqa: S104 - a listen address under test, nothing binds
        ("10.1.2.3", "9100"),
        ("[::]", 1),
        ("[::1]", 65535),
        ("[2001:db8::5]", 9100),
        ("metrics.example.org", 9100),
        ("localhost", 9100),
    ],
)
def test_valid_addresses_have_no_problem(address, port):
    assert check(address, port) == []


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("0.0.0.0:abc", "has a port or is malformed"),
        ("0.0.0.0:9100", "has a port or is malformed"),
        ("::1", "put it in brackets ([::1])"),
        ("[::zz]", "is not an IPv6 address in brackets"),
        ("[10.0.0.1]", "is not an IPv6 address in brackets"),
        ("300.1.1.1", "is not an IPv4 address"),
        ("bad_host!", "is not a host name"),
        (" 10.0.0.1", "leading or trailing spaces"),
    ],
)
def test_bad_hosts_are_named(address, expected):
    problems = check(address, 9100, address_name="observability_agent_listen_address")
    assert len(problems) == 1, problems
    assert problems[0].startswith("observability_agent_listen_address ")
    assert expected in problems[0]


@pytest.mark.parametrize("port", [0, 65536, -1, "abc", "", None, True, 9100.5])
def test_bad_ports_are_named(port):
    problems = check("", port, port_name="observability_agent_port")
    assert len(problems) == 1, problems
    assert problems[0].startswith("observability_agent_port ")
    assert "from 1 to 65535" in problems[0]


def test_both_problems_are_reported():
    assert len(check("0.0.0.0:abc", 0)) == 2


def test_filter_is_registered():
    assert module.FilterModule().filters()["listen_address_problems"] is check
