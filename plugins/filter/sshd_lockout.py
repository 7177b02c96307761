# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: sshd_lockout
short_description: Judge whether a candidate sshd configuration still lets the current SSH login in
version_added: 0.3.0
description:
  - C(sshd_lockout_session) parses what the hardening role's C(ssh_lockout_probe.sh) printed on the
    host, namely the SSH session Ansible runs in (login user, client and local address and port, the
    user's groups, sshd's own C(Accepted ...) line for that login) and C(sshd -T -C ...) of the
    candidate configuration for exactly that connection (or sshd's refusal of it).
  - C(sshd_lockout_problems) decides from that effective configuration whether the same user could
    log in again the same way, and returns one message per reason it could not. Each message
    names the sshd directive, its effective value, the variable(s) that wrote it into the
    candidate and what to do. An empty list means the login keeps working.
  - C(sshd_config_sources) maps each line of a candidate sshd_config to the variable that wrote
    it, from the marker comments the role's template writes.
options:
  _input:
    description: The probe's output (C(sshd_lockout_session)), or the parsed session
      (C(sshd_lockout_problems)), or the candidate sshd_config (C(sshd_config_sources)).
    type: raw
    required: true
  candidate:
    description: The candidate sshd_config as the role renders it (C(sshd_lockout_problems)).
    type: str
  role_sources:
    description: Lower-case sshd keyword to the role variables that write it.
    type: dict
  fallback_method:
    description: The authentication method to assume when sshd's journal no longer holds the login
      line (C(publickey) or C(password)).
    type: str
"""

EXAMPLES = r"""
- name: Refuse a configuration that would lock out the Ansible connection
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join(' ') }}"
  vars:
    problems: >-
      {{ probe.stdout | keel.platform.sshd_lockout_session
         | keel.platform.sshd_lockout_problems(candidate, role_sources, 'publickey') }}
"""

RETURN = r"""
_value:
  description: The parsed session (C(sshd_lockout_session)); the list of reasons the login would be
    refused, empty when it is not (C(sshd_lockout_problems)); line number to variable
    (C(sshd_config_sources)).
  type: raw
"""

import ipaddress
import re

from ansible.errors import AnsibleFilterError

# Marker comments of templates/sshd_config.j2: lines after EXTRA_MARKER come from
# hardening_ssh_extra_config; a Match line there opens a block of that dictionary.
EXTRA_MARKER = "# hardening_ssh_extra_config"
FIXED = "the role's fixed sshd_config"

DIRECTIVES = {
    "addressfamily": "AddressFamily",
    "allowgroups": "AllowGroups",
    "allowusers": "AllowUsers",
    "authenticationmethods": "AuthenticationMethods",
    "chrootdirectory": "ChrootDirectory",
    "denygroups": "DenyGroups",
    "denyusers": "DenyUsers",
    "forcecommand": "ForceCommand",
    "kbdinteractiveauthentication": "KbdInteractiveAuthentication",
    "listenaddress": "ListenAddress",
    "maxsessions": "MaxSessions",
    "passwordauthentication": "PasswordAuthentication",
    "permitrootlogin": "PermitRootLogin",
    "port": "Port",
    "pubkeyacceptedalgorithms": "PubkeyAcceptedAlgorithms",
    "pubkeyauthentication": "PubkeyAuthentication",
}

# The public key algorithms a key of each type (as sshd logs it) can sign with.
KEY_ALGORITHMS = {
    "ED25519": ["ssh-ed25519"],
    "ED25519-SK": ["sk-ssh-ed25519@openssh.com"],
    "RSA": ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
    "ECDSA": ["ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"],
    "ECDSA-SK": ["sk-ecdsa-sha2-nistp256@openssh.com"],
    "DSA": ["ssh-dss"],
}

ROOT_LOGIN_ALLOWS = {
    "publickey": {"yes", "prohibit-password", "without-password"},
    "password": {"yes"},
    "keyboard-interactive": {"yes"},
}

METHOD_SWITCH = {
    "publickey": "pubkeyauthentication",
    "password": "passwordauthentication",
    "keyboard-interactive": "kbdinteractiveauthentication",
}

ACCEPTED = re.compile(r"^Accepted (?P<method>[\w-]+)(?:/\S+)? for \S+ from \S+ port \d+ ssh2(?:: (?P<key>[\w-]+) )?")


def sshd_lockout_session(stdout):
    """Parse the probe's key=value lines into a dict; sshd_T lines become 'effective'."""
    if not isinstance(stdout, str):
        raise AnsibleFilterError("sshd_lockout_session: expects the probe's stdout as a string")
    session = {"effective": {}, "sshd_errors": []}
    for line in stdout.splitlines():
        key, sep, value = line.partition("=")
        if not sep:
            continue  # become and login shells may print their own lines
        if key == "sshd_T":
            keyword, _space, setting = value.partition(" ")
            session["effective"].setdefault(keyword.lower(), []).append(setting.strip())
        elif key in ("sshd_error", "nft_error"):
            session.setdefault(f"{key}s", []).append(value)
        else:
            session[key] = value
    session["groups"] = session.get("groups", "").split()
    match = ACCEPTED.match(session.get("accepted", ""))
    session["method"] = match.group("method") if match else None
    session["key_type"] = match.group("key") if match and match.group("key") else None
    return session


def sshd_config_sources(candidate, role_sources):
    """Line number (1-based) -> (keyword, the variable or FIXED that wrote the line, its value)."""
    sources = {}
    in_extra = False
    match_block = None
    for number, raw in enumerate(candidate.splitlines(), start=1):
        line = raw.strip()
        if line == EXTRA_MARKER:
            in_extra = True
            continue
        if not line or line.startswith("#"):
            continue
        keyword, _space, value = line.replace("=", " ", 1).partition(" ")
        value = value.strip()
        if keyword.lower() == "match":
            match_block = value
            sources[number] = (keyword, f"hardening_ssh_extra_config['Match {match_block}']", value)
        elif match_block is not None:
            sources[number] = (keyword, f"hardening_ssh_extra_config['Match {match_block}'].{keyword}", value)
        elif in_extra:
            sources[number] = (keyword, f"hardening_ssh_extra_config.{keyword}", value)
        else:
            names = role_sources.get(keyword.lower()) or [FIXED]
            sources[number] = (keyword, " and ".join(names), value)
    return sources


def _writers(keyword, sources, effective=None):
    """The variables whose lines set keyword: those that wrote its effective value, else all of them."""
    lines = [(name, value) for line_keyword, name, value in sources.values() if line_keyword.lower() == keyword]
    exact = [name for name, value in lines if effective is not None and value.lower() == effective.lower()]
    return ", ".join(dict.fromkeys(exact or [name for name, _line in lines]))


def _pattern_matches(value, pattern):
    """sshd's match_pattern: '*' and '?' wildcards, nothing else special."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value) is not None


def _host_matches(session, pattern):
    address = session.get("client_address", "")
    for item in pattern.split(","):
        negated = item.startswith("!")
        item = item.lstrip("!")
        try:
            hit = ipaddress.ip_address(address) in ipaddress.ip_network(item, strict=False)
        except ValueError:
            hit = _pattern_matches(address, item)
        if hit:
            return not negated
    return False


def _user_matches(session, pattern):
    user_pattern, at, host_pattern = pattern.partition("@")
    if not _pattern_matches(session["login_user"], user_pattern):
        return False
    return not at or _host_matches(session, host_pattern)


def _listens_on(session, entry):
    """Whether a 'listenaddress host:port' entry of sshd -T covers the connection's local end."""
    host, _colon, port = entry.rpartition(":")
    host = host.strip("[]").split(" ")[0]
    if port.split(" ")[0] != session.get("local_port"):
        return False
    try:
        local = ipaddress.ip_address(session.get("local_address", ""))
        listen = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(local, ipaddress.IPv6Address) and local.ipv4_mapped:
        local = local.ipv4_mapped
    return listen == local or (listen.is_unspecified and listen.version == local.version)


def _problems(session, effective, method, sources):
    user = session["login_user"]

    def say(keyword, consequence, advice, value=None):
        shown = value if value is not None else " ".join(effective.get(keyword, []))
        writers = _writers(keyword, sources, shown) or "sshd's built-in default"
        return f"{DIRECTIVES[keyword]} {shown} (from {writers}) {consequence}: {advice}."

    for pattern in effective.get("denyusers", []):
        if _user_matches(session, pattern):
            yield say("denyusers", f"refuses {user}", f"remove {pattern} from it", pattern)
    allow_users = effective.get("allowusers", [])
    if allow_users and not any(_user_matches(session, pattern) for pattern in allow_users):
        yield say("allowusers", f"does not let {user} in from {session.get('client_address')}", f"add {user} to it")
    groups = session["groups"]
    for pattern in effective.get("denygroups", []):
        hits = [group for group in groups if _pattern_matches(group, pattern)]
        if hits:
            yield say(
                "denygroups", f"refuses {user}, a member of {', '.join(hits)}", f"remove {pattern} from it", pattern
            )
    allow_groups = effective.get("allowgroups", [])
    if allow_groups and not any(_pattern_matches(g, p) for g in groups for p in allow_groups):
        yield say(
            "allowgroups",
            f"names none of {user}'s groups ({', '.join(groups)})",
            "add one of them to it, or the user to one of its groups",
        )
    if user == "root" and effective.get("permitrootlogin", ["no"])[0] not in ROOT_LOGIN_ALLOWS.get(method, set()):
        advice = "connect as an unprivileged user with become, or allow " + " or ".join(
            sorted(ROOT_LOGIN_ALLOWS.get(method, {"yes"}))
        )
        yield say("permitrootlogin", f"refuses root, and Ansible logs in as root with {method}", advice)
    switch = METHOD_SWITCH.get(method)
    if switch and effective.get(switch, ["yes"])[0] != "yes":
        yield say(
            switch, f"turns off {method}, the way Ansible logs in now", "keep it yes, or connect another way first"
        )
    lists = effective.get("authenticationmethods", ["any"])[0].split()
    if lists != ["any"] and not any([m.split(":")[0] for m in item.split(",")] == [method] for item in lists):
        yield say(
            "authenticationmethods",
            f"has no list that {method} alone satisfies, and that is all Ansible offers",
            f"add {method} alone as one of its lists",
        )
    key_type = session.get("key_type")
    algorithms = (effective.get("pubkeyacceptedalgorithms") or effective.get("pubkeyacceptedkeytypes") or [""])[0]
    if method == "publickey" and key_type in KEY_ALGORITHMS and algorithms:
        offered = set(algorithms.split(","))
        if not offered.intersection(KEY_ALGORITHMS[key_type]):
            yield say(
                "pubkeyacceptedalgorithms",
                f"accepts none of the algorithms of Ansible's {key_type} key",
                f"add {KEY_ALGORITHMS[key_type][0]} to it",
            )
    listen = effective.get("listenaddress", [])
    if listen and not any(_listens_on(session, entry) for entry in listen):
        where = f"{session.get('local_address')} port {session.get('local_port')}"
        keywords = ["port", "listenaddress"] + (["addressfamily"] if effective.get("addressfamily") != ["any"] else [])
        writers = ", ".join(filter(None, (_writers(keyword, sources) for keyword in keywords)))
        yield (
            f"ListenAddress {' '.join(listen)} (from {writers}) leaves sshd not listening on {where}, where"
            " Ansible connects: keep that address and port."
        )
    if effective.get("maxsessions", ["1"])[0] == "0":
        yield say("maxsessions", "allows no session, and Ansible needs one", "set at least 1")
    for keyword in ("forcecommand", "chrootdirectory"):
        if effective.get(keyword, ["none"])[0] != "none":
            yield say(
                keyword,
                f"applies to {user}, and Ansible's commands cannot run under it",
                "leave it unset for this user",
            )


def sshd_lockout_problems(session, candidate, role_sources, fallback_method="publickey"):
    """Reasons why the login of `session` would be refused under its effective configuration.

    sshd's refusal of the candidate counts even outside an SSH session."""
    sources = sshd_config_sources(candidate, role_sources)
    if session.get("sshd_rc", "0") != "0":
        return [sshd_rejection(session.get("sshd_errors", []), sources)]
    if session.get("session") != "ssh":
        return []
    method = session.get("method") or fallback_method
    if method not in METHOD_SWITCH:
        method = fallback_method
    return list(_problems(session, session["effective"], method, sources))


def sshd_rejection(errors, sources):
    """sshd's complaint about the candidate, with the variable that wrote each line it names."""
    reasons = []
    for error in errors:
        found = re.search(r"line (\d+): (.*)", error)
        if found and int(found.group(1)) in sources:
            keyword, name, _line = sources[int(found.group(1))]
            reasons.append(f"{found.group(2)} (the {keyword} line written by {name})")
        elif not re.search(r"terminating, \d+ bad configuration options", error):
            # A complaint about the whole configuration names keywords, not lines.
            named = dict.fromkeys(name for keyword, name, _line in sources.values() if keyword in error)
            written = f" (written by {', '.join(named)})" if named else ""
            reasons.append(re.sub(r"^\S*sshd_config:? ?", "", error).rstrip(".") + written)
    return "sshd refuses the candidate sshd_config: " + "; ".join(reasons) + ". Correct that variable."


class FilterModule:
    """Lock-out judgement of keel.platform.hardening."""

    def filters(self):
        return {
            "sshd_lockout_session": sshd_lockout_session,
            "sshd_lockout_problems": sshd_lockout_problems,
            "sshd_config_sources": sshd_config_sources,
        }
