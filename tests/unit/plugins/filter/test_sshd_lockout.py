from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.keel.platform.plugins.filter.sshd_lockout import (
    FilterModule,
    sshd_config_sources,
    sshd_lockout_problems,
    sshd_lockout_session,
)

ROLE_SOURCES = {
    "port": ["hardening_ssh_port"],
    "listenaddress": ["hardening_ssh_listen_addresses"],
    "addressfamily": ["hardening_ipv6_enabled"],
    "permitrootlogin": ["hardening_ssh_permit_root_login"],
    "allowgroups": ["hardening_ssh_allow_groups"],
    "allowusers": ["hardening_ssh_allow_users"],
    "passwordauthentication": ["hardening_ssh_password_authentication"],
}

# What the role's template renders, cut down to the lines the judgement reads.
CANDIDATE = """\
# Ansible managed
Port 22
AddressFamily any
PermitRootLogin no
AllowGroups sudo ssh-users
PubkeyAuthentication yes
PasswordAuthentication no
# hardening_ssh_extra_config
DenyGroups ssh-users
Match User keel-deploy
    PubkeyAuthentication no
"""

# sshd -T of a hardened host for keel-deploy from 172.17.0.1: nothing refuses it.
EFFECTIVE = {
    "port": "22",
    "listenaddress": ["[::]:22", "0.0.0.0:22"],
    "addressfamily": "any",
    "permitrootlogin": "no",
    "pubkeyauthentication": "yes",
    "passwordauthentication": "no",
    "kbdinteractiveauthentication": "no",
    "authenticationmethods": "any",
    "pubkeyacceptedalgorithms": "ssh-ed25519,ecdsa-sha2-nistp256,rsa-sha2-512,rsa-sha2-256",
    "allowgroups": ["sudo", "ssh-users"],
    "maxsessions": "2",
}

SESSION = {
    "login_user": "keel-deploy",
    "client_address": "172.17.0.1",
    "client_port": "50110",
    "local_address": "172.17.0.2",
    "local_port": "22",
    "groups": "keel-deploy ssh-users",
    "accepted": "Accepted publickey for keel-deploy from 172.17.0.1 port 50110 ssh2: ED25519 SHA256:abc",
}


def probe_output(session=None, effective=None, rc="0", errors=()):
    lines = ["session=ssh", "[sudo] a line become printed"]
    lines += [f"{key}={value}" for key, value in {**SESSION, **(session or {})}.items()]
    lines.append(f"sshd_rc={rc}")
    for keyword, values in {**EFFECTIVE, **(effective or {})}.items():
        for value in [values] if isinstance(values, str) else values:
            lines.append(f"sshd_T={keyword} {value}")
    lines += [f"sshd_error={error}" for error in errors]
    return "\n".join(lines) + "\n"


def problems(session=None, effective=None, fallback="publickey", candidate=CANDIDATE):
    parsed = sshd_lockout_session(probe_output(session, effective))
    return sshd_lockout_problems(parsed, candidate, ROLE_SOURCES, fallback)


def test_parses_the_probe():
    parsed = sshd_lockout_session(probe_output())
    assert parsed["login_user"] == "keel-deploy"
    assert parsed["groups"] == ["keel-deploy", "ssh-users"]
    assert parsed["method"] == "publickey"
    assert parsed["key_type"] == "ED25519"
    assert parsed["effective"]["listenaddress"] == ["[::]:22", "0.0.0.0:22"]
    assert parsed["effective"]["allowgroups"] == ["sudo", "ssh-users"]


@pytest.mark.parametrize(
    ("accepted", "method", "key_type"),
    [
        ("Accepted password for keel-password from 10.0.0.1 port 4 ssh2", "password", None),
        ("Accepted keyboard-interactive/pam for u from 10.0.0.1 port 4 ssh2", "keyboard-interactive", None),
        ("Accepted publickey for root from 10.0.0.1 port 4 ssh2: RSA SHA256:x", "publickey", "RSA"),
        ("Accepted publickey for u from ::1 port 4 ssh2: ED25519-CERT SHA256:x ID c", "publickey", "ED25519-CERT"),
        ("", None, None),
    ],
)
def test_reads_how_the_session_logged_in(accepted, method, key_type):
    parsed = sshd_lockout_session(probe_output({"accepted": accepted}))
    assert (parsed["method"], parsed["key_type"]) == (method, key_type)


def test_a_safe_configuration_has_no_problem():
    assert problems() == []


def test_no_ssh_session_has_no_problem():
    parsed = sshd_lockout_session("session=none\nsshd_rc=0\nsshd_T=port 22\n")
    assert sshd_lockout_problems(parsed, CANDIDATE, ROLE_SOURCES) == []


def test_sshd_refusal_counts_without_a_session():
    parsed = sshd_lockout_session("session=none\nsshd_rc=255\nsshd_error=/run/x/sshd_config line 9: Bad option\n")
    assert sshd_lockout_problems(parsed, CANDIDATE, ROLE_SOURCES) == [
        "sshd refuses the candidate sshd_config: Bad option (the DenyGroups line written by"
        " hardening_ssh_extra_config.DenyGroups). Correct that variable."
    ]


@pytest.mark.parametrize(
    ("session", "effective", "fragments"),
    [
        # DenyUsers: plain, wildcard and user@host patterns.
        (
            {},
            {"denyusers": "keel-deploy"},
            ["DenyUsers keel-deploy (from sshd's built-in default)", "refuses keel-deploy"],
        ),
        ({}, {"denyusers": "keel-*"}, ["DenyUsers keel-*"]),
        ({}, {"denyusers": "keel-deploy@172.17.0.0/16"}, ["DenyUsers keel-deploy@172.17.0.0/16"]),
        # AllowUsers without the user, or only from elsewhere.
        ({}, {"allowusers": "alice"}, ["AllowUsers alice", "add keel-deploy to it"]),
        ({}, {"allowusers": "keel-deploy@10.0.0.0/8"}, ["AllowUsers keel-deploy@10.0.0.0/8"]),
        # DenyGroups names one of the user's groups (the finding).
        (
            {},
            {"denygroups": "ssh-users"},
            ["DenyGroups ssh-users", "hardening_ssh_extra_config.DenyGroups", "a member of ssh-users"],
        ),
        ({}, {"denygroups": "ssh-*"}, ["DenyGroups ssh-*"]),
        # AllowGroups without any of the user's groups.
        (
            {},
            {"allowgroups": "admins"},
            ["AllowGroups admins", "from hardening_ssh_allow_groups", "keel-deploy, ssh-users"],
        ),
        # Root over a key needs yes or prohibit-password, over a password yes.
        (
            {"login_user": "root", "groups": "root"},
            {"allowgroups": "root"},
            ["PermitRootLogin no", "hardening_ssh_permit_root_login"],
        ),
        (
            {"login_user": "root", "groups": "root"},
            {"allowgroups": "root", "permitrootlogin": "forced-commands-only"},
            ["PermitRootLogin forced-commands-only"],
        ),
        (
            {
                "login_user": "root",
                "groups": "root",
                "accepted": "Accepted password for root from 172.17.0.1 port 5 ssh2",
            },
            {"allowgroups": "root", "permitrootlogin": "prohibit-password", "passwordauthentication": "yes"},
            ["PermitRootLogin prohibit-password", "allow yes"],
        ),
        # The method Ansible uses is switched off (a Match block can do it).
        (
            {},
            {"pubkeyauthentication": "no"},
            ["PubkeyAuthentication no (from hardening_ssh_extra_config['Match User keel-deploy'].Pubkey"],
        ),
        (
            {"accepted": "Accepted password for keel-deploy from 172.17.0.1 port 50110 ssh2"},
            {},
            ["PasswordAuthentication no", "from hardening_ssh_password_authentication", "turns off password"],
        ),
        # AuthenticationMethods the key alone cannot satisfy.
        ({}, {"authenticationmethods": "publickey,password"}, ["AuthenticationMethods publickey,password"]),
        ({}, {"authenticationmethods": "publickey,publickey"}, ["AuthenticationMethods publickey,publickey"]),
        (
            {},
            {"authenticationmethods": "password keyboard-interactive:pam"},
            ["AuthenticationMethods password keyboard-interactive:pam"],
        ),
        # The key's algorithm is no longer accepted.
        ({}, {"pubkeyacceptedalgorithms": "rsa-sha2-512"}, ["PubkeyAcceptedAlgorithms rsa-sha2-512", "ssh-ed25519"]),
        # Not listening where Ansible connects: address, port, address family.
        (
            {},
            {"listenaddress": "10.9.9.9:22"},
            ["ListenAddress 10.9.9.9:22 (from hardening_ssh_port)", "not listening on 172.17.0.2 port 22"],
        ),
        (
            {},
            {"port": "2222", "listenaddress": ["[::]:2222", "0.0.0.0:2222"]},
            ["(from hardening_ssh_port)", "port 22"],
        ),
        (
            {"local_address": "2001:db8::2", "client_address": "2001:db8::1"},
            {"listenaddress": "0.0.0.0:22", "addressfamily": "inet"},
            ["ListenAddress 0.0.0.0:22 (from hardening_ssh_port, hardening_ipv6_enabled)"],
        ),
        # No session, a forced command or a chroot leave Ansible nothing to run.
        ({}, {"maxsessions": "0"}, ["MaxSessions 0"]),
        ({}, {"forcecommand": "/bin/false"}, ["ForceCommand /bin/false"]),
        ({}, {"chrootdirectory": "/srv/jail"}, ["ChrootDirectory /srv/jail"]),
    ],
)
def test_refuses_what_locks_the_login_out(session, effective, fragments):
    found = problems(session, effective)
    assert len(found) == 1, found
    for fragment in fragments:
        assert fragment in found[0]


@pytest.mark.parametrize(
    ("session", "effective"),
    [
        ({}, {"denyusers": "alice keel-deploy@10.0.0.0/8"}),
        ({}, {"denygroups": "admins"}),
        ({}, {"allowusers": ["alice", "keel-*@172.17.0.0/16"]}),
        ({}, {"authenticationmethods": "publickey,password publickey"}),
        ({}, {"listenaddress": "172.17.0.2:22"}),
        ({}, {"port": ["22", "2222"], "listenaddress": ["0.0.0.0:2222", "0.0.0.0:22"]}),
        ({"local_address": "::ffff:172.17.0.2"}, {"listenaddress": "0.0.0.0:22"}),
        ({"login_user": "root", "groups": "root"}, {"allowgroups": "root", "permitrootlogin": "prohibit-password"}),
        ({"login_user": "root", "groups": "root"}, {"allowgroups": "root", "permitrootlogin": "without-password"}),
        # Without the journal line the controller's fallback (publickey) is judged.
        ({"accepted": ""}, {"passwordauthentication": "no"}),
        ({"accepted": "Accepted publickey for keel-deploy from 172.17.0.1 port 50110 ssh2: RSA SHA256:x"}, {}),
    ],
)
def test_accepts_what_still_lets_the_login_in(session, effective):
    assert problems(session, effective) == []


def test_uses_the_fallback_method_when_the_journal_has_no_login_line():
    found = problems({"accepted": ""}, {}, fallback="password")
    assert len(found) == 1
    assert "PasswordAuthentication no" in found[0]


def test_sshd_refusal_names_the_variable_of_the_line():
    errors = [
        '/run/keel.AbC/sshd_config line 4: unsupported option "False".',
        "/run/keel.AbC/sshd_config: terminating, 1 bad configuration options",
    ]
    parsed = sshd_lockout_session(probe_output(rc="255", errors=errors))
    found = sshd_lockout_problems(parsed, CANDIDATE, ROLE_SOURCES)
    assert found == [
        'sshd refuses the candidate sshd_config: unsupported option "False". (the PermitRootLogin line written by'
        " hardening_ssh_permit_root_login). Correct that variable."
    ]
    assert "keel.AbC" not in found[0]


def test_sshd_refusal_without_a_line_names_the_keyword_writers():
    errors = ['Disabled method "password" in AuthenticationMethods list "publickey,password"']
    candidate = CANDIDATE.replace("DenyGroups ssh-users", "AuthenticationMethods publickey,password")
    parsed = sshd_lockout_session(probe_output(rc="255", errors=errors))
    assert sshd_lockout_problems(parsed, candidate, ROLE_SOURCES) == [
        'sshd refuses the candidate sshd_config: Disabled method "password" in AuthenticationMethods list'
        ' "publickey,password" (written by hardening_ssh_extra_config.AuthenticationMethods). Correct that variable.'
    ]


@pytest.mark.parametrize(
    ("line", "source"),
    [
        (2, ("Port", "hardening_ssh_port", "22")),
        (6, ("PubkeyAuthentication", "the role's fixed sshd_config", "yes")),
        (9, ("DenyGroups", "hardening_ssh_extra_config.DenyGroups", "ssh-users")),
        (10, ("Match", "hardening_ssh_extra_config['Match User keel-deploy']", "User keel-deploy")),
        (
            11,
            ("PubkeyAuthentication", "hardening_ssh_extra_config['Match User keel-deploy'].PubkeyAuthentication", "no"),
        ),
    ],
)
def test_config_sources(line, source):
    sources = sshd_config_sources(CANDIDATE, ROLE_SOURCES)
    assert sources[line] == source
    # Comments write nothing.
    assert 1 not in sources
    assert 8 not in sources


def test_rejects_what_is_not_probe_output():
    with pytest.raises(AnsibleFilterError, match="probe's stdout"):
        sshd_lockout_session(None)


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"sshd_lockout_session", "sshd_lockout_problems", "sshd_config_sources"}
