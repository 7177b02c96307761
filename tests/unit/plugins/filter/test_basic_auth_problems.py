"""keel.platform.basic_auth_problems: one message per problem, naming the user, never a secret."""

from __future__ import annotations

import bcrypt
import pytest
from ansible_collections.keel.platform.plugins.filter import basic_auth_problems as module

check = module.basic_auth_problems
VAR = "observability_agent_basic_auth_users"
HASH = bcrypt.hashpw(b"s3cret", bcrypt.gensalt(rounds=4)).decode()
SECRETS = ("s3cret-canary", HASH)


@pytest.mark.parametrize(
    "users",
    [
        [],
        [{"name": "prometheus", "password": "s3cret-canary"}],
        [{"name": "prometheus", "password_hash": HASH}, {"name": "other", "password": "x", "password_hash": ""}],
        [{"name": "y", "password_hash": HASH.replace("$2b$", "$2y$")}],
    ],
)
def test_valid_users_have_no_problem(users):
    assert check(users, VAR) == []


@pytest.mark.parametrize(
    ("users", "expected"),
    [
        ([{"name": "p", "password": "s3cret-canary", "password_hash": HASH}], f"{VAR}[0] (p): give either password"),
        ([{"name": "p"}], f"{VAR}[0] (p): give password or password_hash."),
        ([{"name": "p", "password_hash": "s3cret-canary"}], f"{VAR}[0] (p): password_hash is not a bcrypt hash"),
        ([{"name": "p", "password_hash": HASH[:-1]}], f"{VAR}[0] (p): password_hash is not a bcrypt hash"),
        ([{"name": "p", "password_hash": "$1$" + HASH[3:]}], f"{VAR}[0] (p): password_hash is not a bcrypt hash"),
        ([{"password": "s3cret-canary"}], f"{VAR}[0] has no name."),
        (["s3cret-canary"], f"{VAR}[0] is not a mapping"),
        ([{"name": "a:b", "password": "s3cret-canary"}], f"{VAR}[0] (a:b): a basic-auth user name cannot contain ':'"),
        ([{"name": "p", "password": "s3cret-canary" + "x" * 72}], f"{VAR}[0] (p): bcrypt uses only the first 72 bytes"),
        (
            [{"name": "p", "password": "s3cret-canary"}, {"name": "p", "password_hash": HASH}],
            f"{VAR}: user p appears more than once.",
        ),
    ],
)
def test_each_problem_has_its_message_and_no_secret(users, expected):
    problems = check(users, VAR)
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems
    assert not any(secret in problems[0] for secret in SECRETS)


def test_not_a_list():
    assert check("prometheus", VAR) == [f"{VAR} is not a list of users."]


def test_filter_is_registered():
    assert module.FilterModule().filters()["basic_auth_problems"] is check
