from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.keel.platform.plugins.filter.nft_input_verdict import FilterModule, nft_input_verdict


def match(protocol, field, right, op="=="):
    left = (
        {"ct": {"key": field}}
        if protocol == "ct"
        else {"meta": {"key": field}}
        if protocol == "meta"
        else {"payload": {"protocol": protocol, "field": field}}
    )
    return {"match": {"op": op, "left": left, "right": right}}


def rule(chain, *expr, comment=None):
    entry = {"family": "inet", "table": "keel_filter", "chain": chain, "handle": 1, "expr": list(expr)}
    if comment:
        entry["comment"] = comment
    return {"rule": entry}


def ruleset(ssh_rules, policy="drop", extra_chains=(), extra_rules=()):
    """The shape of `nft --json list table inet keel_filter` for the role's base ruleset."""
    items = [
        {"metainfo": {"version": "1.0.6", "json_schema_version": 1}},
        {"table": {"family": "inet", "name": "keel_filter", "handle": 2}},
        {"chain": {"family": "inet", "table": "keel_filter", "name": "input", "hook": "input", "policy": policy}},
        {"chain": {"family": "inet", "table": "keel_filter", "name": "roles_input"}},
        *({"chain": {"family": "inet", "table": "keel_filter", "name": name}} for name in extra_chains),
        # A table of another tool that must not count.
        {"rule": {"family": "ip", "table": "other", "chain": "input", "expr": [{"accept": None}]}},
        rule("input", match("ct", "state", "invalid", "in"), {"drop": None}),
        rule("input", match("ct", "state", ["established", "related"], "in"), {"accept": None}),
        rule("input", match("meta", "iif", "lo"), {"accept": None}),
        rule("input", match("ip", "saddr", {"prefix": {"addr": "127.0.0.0", "len": 8}}), {"drop": None}),
        rule("input", match("ip6", "saddr", "::1"), {"drop": None}),
        rule(
            "input",
            match("icmp", "type", {"set": ["echo-request"]}),
            {"limit": {"rate": 10, "per": "second"}},
            {"accept": None},
        ),
        rule("input", match("udp", "dport", 68), {"accept": None}),
        *ssh_rules,
        rule("input", match("tcp", "dport", {"set": [80, 443]}), {"accept": None}),
        rule("input", {"jump": {"target": "roles_input"}}),
        *extra_rules,
        rule("input", {"limit": {"rate": 5, "per": "minute"}}, {"log": {"prefix": "keel-fw-drop: "}}),
    ]
    return {"nftables": items}


SSH_ANYWHERE = [rule("input", match("tcp", "dport", 22), {"accept": None}, comment="hardening_ssh_port")]
SSH_FROM = [
    rule(
        "input",
        match("ip", "saddr", {"set": ["10.1.1.1", {"prefix": {"addr": "192.0.2.0", "len": 24}}]}),
        match("tcp", "dport", 22),
        {"accept": None},
        comment="hardening_firewall_ssh_sources",
    ),
    rule(
        "input",
        match("ip6", "saddr", {"prefix": {"addr": "2001:db8::", "len": 32}}),
        match("tcp", "dport", 22),
        {"accept": None},
    ),
]


@pytest.mark.parametrize(
    ("rules", "source", "destination", "port", "verdict", "decided_by"),
    [
        (ruleset(SSH_ANYWHERE), "172.17.0.1", "172.17.0.2", 22, "accept", 'the rule commented "hardening_ssh_port"'),
        (ruleset(SSH_ANYWHERE), "2001:db8::5", "2001:db8::2", 22, "accept", "hardening_ssh_port"),
        (ruleset(SSH_ANYWHERE), "172.17.0.1", "172.17.0.2", 2222, "drop", "the policy drop of chain input"),
        (ruleset(SSH_FROM), "192.0.2.77", "192.0.2.10", 22, "accept", "hardening_firewall_ssh_sources"),
        (ruleset(SSH_FROM), "10.1.1.1", "10.1.1.2", 22, "accept", "hardening_firewall_ssh_sources"),
        (ruleset(SSH_FROM), "172.17.0.1", "172.17.0.2", 22, "drop", "the policy drop of chain input"),
        (ruleset(SSH_FROM), "2001:db8::5", "2001:db8::2", 22, "accept", '"2001:db8::"'),
        (ruleset(SSH_FROM), "2001:dead::5", "2001:db8::2", 22, "drop", "the policy drop of chain input"),
        # Loopback sources are dropped before the SSH rule.
        (ruleset(SSH_ANYWHERE), "127.0.0.2", "127.0.0.1", 22, "drop", "127.0.0.0"),
        # A policy accept lets anything through that no rule drops.
        (ruleset([], policy="accept"), "172.17.0.1", "172.17.0.2", 22, "accept", "the policy accept of chain input"),
        # A port range, a jump into a chain that accepts, and a drop before SSH.
        (
            ruleset([rule("input", match("tcp", "dport", {"range": [20, 30]}), {"accept": None})]),
            "172.17.0.1",
            "172.17.0.2",
            22,
            "accept",
            "range",
        ),
        (
            ruleset(
                [], extra_rules=[rule("roles_input", match("tcp", "dport", 22), {"accept": None}, comment="drop-in")]
            ),
            "172.17.0.1",
            "172.17.0.2",
            22,
            "accept",
            "drop-in",
        ),
        (
            ruleset(
                [rule("input", match("ip", "saddr", "172.17.0.1"), {"reject": {"type": "tcp reset"}}), *SSH_ANYWHERE]
            ),
            "172.17.0.1",
            "172.17.0.2",
            22,
            "drop",
            "172.17.0.1",
        ),
        (
            ruleset([rule("input", match("ip", "saddr", "172.17.0.9", "!="), {"drop": None}), *SSH_ANYWHERE]),
            "172.17.0.1",
            "172.17.0.2",
            22,
            "drop",
            "!=",
        ),
        # A goto into a chain that returns ends the walk at the base chain's policy.
        (
            ruleset(
                [rule("input", {"goto": {"target": "ssh"}}), *SSH_ANYWHERE],
                extra_chains=["ssh"],
                extra_rules=[rule("ssh", {"return": None})],
            ),
            "172.17.0.1",
            "172.17.0.2",
            22,
            "drop",
            "the policy drop of chain input",
        ),
        # What cannot be evaluated is reported, not guessed.
        (
            ruleset([rule("input", match("meta", "iifname", "eth0"), {"drop": None}), *SSH_ANYWHERE]),
            "172.17.0.1",
            "172.17.0.2",
            22,
            "unknown",
            "eth0",
        ),
        (
            ruleset([rule("input", match("meta", "mark", 1), {"drop": None}), *SSH_ANYWHERE]),
            "172.17.0.1",
            "172.17.0.2",
            22,
            "unknown",
            "mark",
        ),
    ],
)
def test_verdict(rules, source, destination, port, verdict, decided_by):
    result = nft_input_verdict(json.dumps(rules), "inet keel_filter", "input", source, destination, port)
    assert result["verdict"] == verdict
    assert decided_by in result["rule"]


def test_a_chain_that_is_missing_is_an_error():
    with pytest.raises(AnsibleFilterError, match="no chain input in table inet other"):
        nft_input_verdict(ruleset(SSH_ANYWHERE), "inet other", "input", "10.0.0.1", "10.0.0.2", 22)


def test_output_that_is_not_json_is_an_error():
    with pytest.raises(AnsibleFilterError, match="not nft JSON output"):
        nft_input_verdict("Error: syntax error", "inet keel_filter", "input", "10.0.0.1", "10.0.0.2", 22)


def test_filter_is_registered():
    assert FilterModule().filters() == {"nft_input_verdict": nft_input_verdict}
