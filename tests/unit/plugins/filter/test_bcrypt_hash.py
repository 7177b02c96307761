"""keel.platform.bcrypt_hash: hashes, keeps a matching hash, fails clearly without bcrypt."""

from __future__ import annotations

import bcrypt
import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.keel.platform.plugins.filter import bcrypt_hash as module


def test_new_hash_verifies():
    digest = module.bcrypt_hash("s3cret", rounds=4)
    assert digest.startswith("$2b$04$")
    assert bcrypt.checkpw(b"s3cret", digest.encode())


def test_matching_existing_hash_is_kept():
    existing = bcrypt.hashpw(b"s3cret", bcrypt.gensalt(rounds=4)).decode()
    assert module.bcrypt_hash("s3cret", existing=existing) == existing


@pytest.mark.parametrize("existing", ["", "not-a-hash", bcrypt.hashpw(b"other", bcrypt.gensalt(rounds=4)).decode()])
def test_other_existing_values_get_a_new_hash(existing):
    digest = module.bcrypt_hash("s3cret", existing=existing, rounds=4)
    assert digest != existing
    assert bcrypt.checkpw(b"s3cret", digest.encode())


@pytest.mark.parametrize("password", ["", None, "x" * 73])
def test_bad_passwords_fail(password):
    with pytest.raises(AnsibleFilterError):
        module.bcrypt_hash(password)


def test_missing_bcrypt_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(module, "bcrypt", None)
    with pytest.raises(AnsibleFilterError, match=r"pip install"):
        module.bcrypt_hash("s3cret")


def test_filter_is_registered():
    assert module.FilterModule().filters()["bcrypt_hash"] is module.bcrypt_hash
