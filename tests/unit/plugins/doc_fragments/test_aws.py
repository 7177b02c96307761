"""The AWS doc fragment documents exactly the options aws_argument_spec() gives every module."""

from __future__ import annotations

import yaml
from ansible_collections.keel.platform.plugins.doc_fragments.aws import ModuleDocFragment
from ansible_collections.keel.platform.plugins.module_utils._aws_module import aws_argument_spec

DOCUMENTED = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)


def shape(option):
    """What a spec and its documentation must agree on."""
    return {field: option.get(field) for field in ("type", "default", "choices", "aliases", "elements")}


def test_every_option_is_documented_as_the_spec_declares_it():
    spec = aws_argument_spec()
    assert sorted(DOCUMENTED["options"]) == sorted(spec)
    for name, option in spec.items():
        assert shape(DOCUMENTED["options"][name]) == shape(option), name


def test_credentials_are_never_logged():
    spec = aws_argument_spec()
    assert [name for name, option in spec.items() if option.get("no_log")] == [
        "access_key",
        "secret_key",
        "session_token",
    ]


def test_the_requirements_name_boto3_and_botocore():
    assert [line.split()[0] for line in DOCUMENTED["requirements"]] == ["boto3", "botocore"]
