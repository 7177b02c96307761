# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: bcrypt_hash
short_description: Hash a password with bcrypt, keeping an existing hash that still matches
version_added: 0.1.0
description:
  - Returns a bcrypt hash of the input password, as Prometheus exporters' web configuration
    (C(basic_auth_users)) expects.
  - When O(existing) is a bcrypt hash of the same password it is returned unchanged, so a role
    that renders the hash changes nothing on a second run (a fresh salt would change it every time).
  - Needs the C(bcrypt) Python package on the controller (pinned in C(requirements/controller.txt));
    without it the filter fails and says how to install it, instead of writing a broken hash.
options:
  _input:
    description: The plain password.
    type: str
    required: true
  existing:
    description: The hash currently deployed, if any.
    type: str
    default: ""
  rounds:
    description: bcrypt cost factor for a new hash.
    type: int
    default: 12
"""

EXAMPLES = r"""
- name: Hash the scrape password, reusing the deployed hash when it still matches
  ansible.builtin.set_fact:
    scrape_hash: "{{ scrape_password | keel.platform.bcrypt_hash(existing=current_hash | default('')) }}"
  no_log: true
"""

RETURN = r"""
_value:
  description: A bcrypt hash (C($2b$...)).
  type: str
"""

from ansible.errors import AnsibleFilterError

try:
    import bcrypt
except ImportError:
    bcrypt = None

INSTALL_HINT = (
    "keel.platform.bcrypt_hash needs the Python package 'bcrypt' on the controller: "
    "pip install -r requirements/controller.txt (or pip install bcrypt), "
    "or give a ready-made bcrypt hash instead of a plain password"
)


def bcrypt_hash(password, existing="", rounds=12):
    if bcrypt is None:
        raise AnsibleFilterError(INSTALL_HINT)
    if not isinstance(password, str) or not password:
        raise AnsibleFilterError("bcrypt_hash: the password must be a non-empty string")
    secret = password.encode("utf-8")
    if len(secret) > 72:
        raise AnsibleFilterError("bcrypt_hash: bcrypt uses at most 72 bytes of a password; choose a shorter one")
    if existing:
        try:
            if bcrypt.checkpw(secret, str(existing).encode("utf-8")):
                return str(existing)
        except ValueError:
            pass
    return bcrypt.hashpw(secret, bcrypt.gensalt(rounds=int(rounds))).decode("ascii")


class FilterModule:
    def filters(self):
        return {"bcrypt_hash": bcrypt_hash}
