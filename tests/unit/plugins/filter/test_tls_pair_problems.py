"""keel.platform.tls_pair_problems: PEM parse and key/certificate match, on the controller."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.keel.platform.plugins.filter import tls_pair_problems as module
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

sys.path.insert(0, str(Path(__file__).parents[3] / "fixtures"))

from pki import self_signed_pair

check = module.tls_pair_problems
NAMES = {"cert_name": "observability_agent_tls_cert", "key_name": "observability_agent_tls_key"}


CERT, KEY = self_signed_pair("agent")
OTHER_CERT, OTHER_KEY = self_signed_pair("other")


def test_a_matching_pair_has_no_problem():
    assert check(CERT, KEY, **NAMES) == []


def test_a_chain_is_checked_against_its_first_certificate():
    assert check(CERT + OTHER_CERT, KEY, **NAMES) == []
    assert len(check(OTHER_CERT + CERT, KEY, **NAMES)) == 1


def test_a_certificate_alone_is_parsed():
    assert check(CERT, cert_name="observability_agent_journal_ca_cert") == []
    assert check("garbage", cert_name="observability_agent_journal_ca_cert") == [
        "observability_agent_journal_ca_cert is not a PEM certificate (no '-----BEGIN' line): "
        "give the certificate itself."
    ]


def test_a_key_of_another_certificate_is_refused_without_showing_it():
    [problem] = check(CERT, OTHER_KEY, **NAMES)
    assert problem.startswith("observability_agent_tls_key does not belong to the first certificate of")
    assert "CN=agent" in problem
    assert "PRIVATE" not in problem


@pytest.mark.parametrize(
    ("cert", "key", "expected"),
    [
        ("/etc/ssl/agent.crt", KEY, "observability_agent_tls_cert looks like a file path ('/etc/ssl/agent.crt')"),
        (CERT, "/etc/ssl/agent.key", "observability_agent_tls_key looks like a file path ('/etc/ssl/agent.key')"),
        ("agent.pem", KEY, "observability_agent_tls_cert looks like a file path"),
        (CERT, "not a key", "observability_agent_tls_key is not a PEM private key"),
        (KEY, KEY, "observability_agent_tls_cert is not a PEM certificate"),
        (CERT, CERT, "observability_agent_tls_key is not a PEM private key"),
        (
            "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n",
            KEY,
            "observability_agent_tls_cert does not parse as a PEM certificate",
        ),
        (
            CERT,
            "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n",
            "observability_agent_tls_key does not parse as a PEM private key",
        ),
    ],
)
def test_bad_input_is_named(cert, key, expected):
    problems = check(cert, key, **NAMES)
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems


def test_an_encrypted_key_is_refused():
    key = ec.generate_private_key(ec.SECP256R1())
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pass"),
    ).decode()
    assert check(CERT, encrypted, **NAMES) == [
        "observability_agent_tls_key is encrypted: the daemon cannot read it; give the unencrypted key."
    ]


def test_missing_cryptography_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(module, "x509", None)
    with pytest.raises(AnsibleFilterError, match=r"pip install"):
        check(CERT, KEY)


def test_filter_is_registered():
    assert module.FilterModule().filters()["tls_pair_problems"] is check
