# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: basic_auth_problems
short_description: Say what is wrong with a list of basic-auth users, without showing a password
version_added: 0.1.0
description:
  - Checks the basic-auth users of a Prometheus exporter's web configuration, on the controller. Each
    user has a C(name) and exactly one of C(password) (plain, hashed later) and C(password_hash) (a
    ready-made bcrypt hash, C($2a$), C($2b$) or C($2y$), cost, 53 characters of salt and hash).
  - Returns one sentence per problem naming the variable and the user, or an empty list. The messages
    never contain a password or a hash, so the task that uses the filter needs no C(no_log) to show them.
options:
  _input:
    description: The users, a list of mappings.
    type: list
    elements: dict
    required: true
  name:
    description: Name of the variable, for the messages.
    type: str
    default: basic_auth_users
"""

EXAMPLES = r"""
- name: Check the basic-auth users before any host is touched
  ansible.builtin.assert:
    that: __problems | length == 0
    fail_msg: "{{ __problems | join(' ') }}"
  vars:
    __problems: "{{ exporter_basic_auth_users | keel.platform.basic_auth_problems('exporter_basic_auth_users') }}"
"""

RETURN = r"""
_value:
  description: One message per problem; empty when every user is valid.
  type: list
  elements: str
"""

import re

BCRYPT = re.compile(r"^\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$")


def _user_problems(user: object, index: int, name: str) -> list[str]:
    where = f"{name}[{index}]"
    if not isinstance(user, dict):
        return [f"{where} is not a mapping with name and password or password_hash."]
    login = user.get("name")
    if not isinstance(login, str) or not login:
        return [f"{where} has no name."]
    where = f"{name}[{index}] ({login})"
    found = []
    if ":" in login:
        found.append(f"{where}: a basic-auth user name cannot contain ':'.")
    password, digest = user.get("password") or "", user.get("password_hash") or ""
    if bool(password) == bool(digest):
        found.append(
            f"{where}: give either password (hashed with bcrypt on the controller) or password_hash, not both."
        )
        return found if password else [*found[:-1], f"{where}: give password or password_hash."]
    if digest and not BCRYPT.match(str(digest)):
        found.append(
            f"{where}: password_hash is not a bcrypt hash ($2b$<cost>$ then 53 characters); "
            "give a hash from htpasswd -nbBC 12 or bcrypt, or a plain password to hash on the controller."
        )
    if password and len(str(password).encode("utf-8")) > 72:
        found.append(f"{where}: bcrypt uses only the first 72 bytes of a password; choose a shorter one.")
    return found


def basic_auth_problems(users, name="basic_auth_users"):
    """Return one message per problem of USERS (never a secret); [] when every user is valid."""
    if not isinstance(users, list):
        return [f"{name} is not a list of users."]
    found = [problem for index, user in enumerate(users) for problem in _user_problems(user, index, name)]
    logins = [user.get("name") for user in users if isinstance(user, dict)]
    found += [
        f"{name}: user {login} appears more than once."
        for login in sorted({n for n in logins if n and logins.count(n) > 1})
    ]
    return found


class FilterModule:
    """Basic-auth filters of keel.platform."""

    def filters(self):
        return {"basic_auth_problems": basic_auth_problems}
