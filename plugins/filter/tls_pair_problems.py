# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: tls_pair_problems
short_description: Say what is wrong with a PEM certificate and its private key, on the controller
version_added: 0.1.0
description:
  - Returns the problems of a PEM certificate (chain) and, when given, its PEM private key, one sentence
    each naming the variable, or an empty list. It finds input that is not PEM (a file path given
    instead of its contents is named as such), a certificate or key that does not parse, an encrypted
    key, and a key that does not belong to the first certificate.
  - Runs on the controller with the C(cryptography) Python package (pinned in
    C(requirements/controller.txt)), so a bad pair stops the run before any host is touched.
  - The messages never contain the key.
options:
  _input:
    description: The PEM certificate, the server's own first, then its chain.
    type: str
    required: true
  key:
    description: The PEM private key of the first certificate; empty checks the certificate alone (a CA).
    type: str
    default: ""
  cert_name:
    description: Name of the certificate's variable, for the messages.
    type: str
    default: certificate
  key_name:
    description: Name of the key's variable, for the messages.
    type: str
    default: key
"""

EXAMPLES = r"""
- name: Check the TLS certificate and key before any host is touched
  ansible.builtin.assert:
    that: __problems | length == 0
    fail_msg: "{{ __problems | join(' ') }}"
  vars:
    __problems: "{{ tls_cert | keel.platform.tls_pair_problems(tls_key, cert_name='tls_cert', key_name='tls_key') }}"
  no_log: false
"""

RETURN = r"""
_value:
  description: One message per problem; empty when the certificate (and key) are usable together.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

try:
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
except ImportError:
    x509 = None

INSTALL_HINT = (
    "keel.platform.tls_pair_problems needs the Python package 'cryptography' on the controller: "
    "pip install -r requirements/controller.txt"
)
PEM_CERT = "-----BEGIN CERTIFICATE-----"
PEM_KEY_SUFFIX = "PRIVATE KEY-----"


def _not_pem(value: str, name: str, what: str) -> str:
    text = value.strip()
    if text and "\n" not in text and ("/" in text or text.endswith((".crt", ".pem", ".key"))):
        return (
            f"{name} looks like a file path ({text!r}), not PEM contents: give the {what} itself, for example "
            f"\"{{{{ lookup('ansible.builtin.file', '{text}') }}}}\"."
        )
    return f"{name} is not a PEM {what} (no '-----BEGIN' line): give the {what} itself."


def _certificate(cert: str, name: str) -> tuple[list, list[str]]:
    if PEM_CERT not in cert:
        return [], [_not_pem(cert, name, "certificate")]
    try:
        return x509.load_pem_x509_certificates(cert.encode("utf-8")), []
    except ValueError as exc:
        return [], [f"{name} does not parse as a PEM certificate: {exc}."]


def _private_key(key: str, name: str):
    if "-----BEGIN" not in key or PEM_KEY_SUFFIX not in key:
        return None, [_not_pem(key, name, "private key")]
    try:
        return serialization.load_pem_private_key(key.encode("utf-8"), password=None), []
    except TypeError:
        return None, [f"{name} is encrypted: the daemon cannot read it; give the unencrypted key."]
    except (ValueError, UnsupportedAlgorithm) as exc:
        # The exception text never carries key material.
        return None, [f"{name} does not parse as a PEM private key: {type(exc).__name__}."]


def _public_der(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def tls_pair_problems(cert, key="", cert_name="certificate", key_name="key"):
    """Return one message per problem of CERT (and KEY, when given); [] when they work together."""
    if x509 is None:
        raise AnsibleFilterError(INSTALL_HINT)
    if not isinstance(cert, str) or not isinstance(key, str):
        return [f"{cert_name} and {key_name} must be strings of PEM text."]
    certificates, found = _certificate(cert, cert_name)
    if not key:
        return found
    private_key, key_found = _private_key(key, key_name)
    found += key_found
    if (
        certificates
        and private_key is not None
        and _public_der(certificates[0].public_key()) != _public_der(private_key.public_key())
    ):
        subject = certificates[0].subject.rfc4514_string() or "(empty subject)"
        found.append(
            f"{key_name} does not belong to the first certificate of {cert_name} ({subject}): "
            "give the key that certificate was issued for."
        )
    return found


class FilterModule:
    """TLS filters of keel.platform."""

    def filters(self):
        return {"tls_pair_problems": tls_pair_problems}
