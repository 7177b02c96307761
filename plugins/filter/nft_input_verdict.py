# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: nft_input_verdict
short_description: What an nftables input chain would do with a new TCP connection
version_added: 0.3.0
description:
  - Walks the rules of an input chain, as C(nft --json list table) prints them, for the first
    packet of a new TCP connection (conntrack state C(new), from a non-loopback interface) and
    returns the verdict and the rule that gave it. Jumps and gotos are followed.
  - A rule whose match this filter cannot evaluate (an interface name, a mark, a socket or fib
    lookup...) yields the verdict V(unknown) with that rule, so a caller can refuse rather than
    guess. Statements such as counter, log and limit do not change the walk.
options:
  _input:
    description: The output of C(nft --json list table ...) (a string or the parsed document).
    type: raw
    required: true
  table:
    description: The table, as C(family name), for example C(inet keel_filter).
    type: str
    required: true
  chain:
    description: The base chain to start from.
    type: str
    required: true
  source:
    description: The packet's source address.
    type: str
    required: true
  destination:
    description: The packet's destination address.
    type: str
    required: true
  port:
    description: The packet's TCP destination port.
    type: int
    required: true
"""

EXAMPLES = r"""
- name: Check that the candidate firewall keeps SSH open to the controller
  ansible.builtin.assert:
    that: verdict['verdict'] == 'accept'
  vars:
    verdict: >-
      {{ nft_json | keel.platform.nft_input_verdict('inet keel_filter', 'input', '192.0.2.1', '192.0.2.10', 22) }}
"""

RETURN = r"""
_value:
  description: C(verdict) (V(accept), V(drop) or V(unknown)) and C(rule), the rule that decided
    (its comment when it has one, else the rule as text, or the chain's policy).
  type: dict
"""

import ipaddress
import json

from ansible.errors import AnsibleFilterError

VERDICTS = {"accept": "accept", "drop": "drop", "reject": "drop"}


class _Unknown(Exception):
    """A match this filter cannot evaluate."""


def _describe(rule):
    if rule.get("comment"):
        return f'the rule commented "{rule["comment"]}"'
    return f"the rule {json.dumps(rule.get('expr', []), separators=(',', ':'))}"


def _field(left, packet):
    """The packet's value for a match's left side; None when the protocol differs."""
    if "payload" in left:
        payload = left["payload"]
        protocol, field = payload.get("protocol"), payload.get("field")
        if protocol in ("ip", "ip6"):
            if protocol != packet["family"]:
                return None
            if field in ("saddr", "daddr"):
                return packet[field]
        elif protocol == "tcp":
            if field in ("sport", "dport"):
                return packet[field]
        elif protocol in ("udp", "udplite", "icmp", "icmpv6", "sctp", "dccp", "esp", "ah", "comp", "igmp"):
            return None
    elif "ct" in left and left["ct"].get("key") == "state" and "dir" not in left["ct"]:
        return "new"
    elif "meta" in left:
        key = left["meta"].get("key")
        if key == "l4proto":
            return "tcp"
        if key == "nfproto":
            return "ipv4" if packet["family"] == "ip" else "ipv6"
        if key in ("iif", "iifname"):
            return packet["iif"]
    raise _Unknown()


def _equal(value, right):
    if isinstance(right, dict):
        if "set" in right:
            return any(_equal(value, item) for item in right["set"])
        if "prefix" in right:
            network = ipaddress.ip_network(f"{right['prefix']['addr']}/{right['prefix']['len']}", strict=False)
            return isinstance(value, ipaddress._BaseAddress) and value in network
        if "range" in right:
            low, high = right["range"]
            if isinstance(value, ipaddress._BaseAddress):
                return ipaddress.ip_address(low) <= value <= ipaddress.ip_address(high)
            return low <= value <= high
        raise _Unknown()
    if isinstance(right, list):  # flags, such as ct state established,related
        return any(_equal(value, item) for item in right)
    if isinstance(value, ipaddress._BaseAddress):
        try:
            return value == ipaddress.ip_address(right)
        except ValueError:
            return False
    return value == right


def _matches(match, packet):
    value = _field(match["left"], packet)
    if value is None:
        return False
    if value == packet["iif"] and match["left"].get("meta"):
        # Only loopback is known for certain: the connection does not come in on it.
        if match["right"] != "lo":
            raise _Unknown()
        hit = False
    else:
        hit = _equal(value, match["right"])
    op = match.get("op", "==")
    if op in ("==", "in"):
        return hit
    if op == "!=":
        return not hit
    raise _Unknown()


def _walk(rules, chain, packet, depth=0):
    """Return (verdict, rule description) or None when the chain falls through."""
    if depth > 16:
        raise AnsibleFilterError("nft_input_verdict: chains jump deeper than 16 levels")
    for rule in rules.get(chain, []):
        try:
            for expr in rule.get("expr", []):
                if "match" in expr:
                    if not _matches(expr["match"], packet):
                        break
                    continue
                verdict = next((VERDICTS[key] for key in expr if key in VERDICTS), None)
                if verdict:
                    return verdict, _describe(rule)
                if "jump" in expr or "goto" in expr:
                    target = (expr.get("jump") or expr.get("goto"))["target"]
                    result = _walk(rules, target, packet, depth + 1)
                    if result is not None or "goto" in expr:
                        return result
                    break
                if "return" in expr:
                    return None
        except _Unknown:
            return "unknown", _describe(rule)
        except (KeyError, TypeError, ValueError) as exc:
            raise AnsibleFilterError(f"nft_input_verdict: cannot read {_describe(rule)}: {exc}") from exc
    return None


def nft_input_verdict(ruleset, table, chain, source, destination, port):
    """The verdict of `table` `chain` on the first packet of a TCP connection to `port`."""
    if isinstance(ruleset, str):
        try:
            ruleset = json.loads(ruleset)
        except ValueError as exc:
            raise AnsibleFilterError(f"nft_input_verdict: not nft JSON output: {exc}") from exc
    family, _space, name = table.partition(" ")
    source_address = ipaddress.ip_address(source)
    packet = {
        "family": "ip" if source_address.version == 4 else "ip6",
        "saddr": source_address,
        "daddr": ipaddress.ip_address(destination),
        "sport": 49152,
        "dport": int(port),
        "iif": "not lo",
    }
    rules, policy = {}, None
    for item in ruleset.get("nftables", []):
        for kind in ("chain", "rule"):
            entry = item.get(kind)
            if not entry or entry.get("family") != family or entry.get("table") != name:
                continue
            if kind == "rule":
                rules.setdefault(entry["chain"], []).append(entry)
            elif entry["name"] == chain:
                policy = entry.get("policy", "accept")
    if policy is None:
        raise AnsibleFilterError(f"nft_input_verdict: the ruleset has no chain {chain} in table {table}")
    result = _walk(rules, chain, packet)
    if result is None:
        return {"verdict": VERDICTS.get(policy, "drop"), "rule": f"the policy {policy} of chain {chain}"}
    return {"verdict": result[0], "rule": result[1]}


class FilterModule:
    """nftables filters of keel.platform."""

    def filters(self):
        return {"nft_input_verdict": nft_input_verdict}
