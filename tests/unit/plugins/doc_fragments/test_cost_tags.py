"""The cost_tags doc fragment documents exactly the options cost_tags and cost_tags_info share."""

from __future__ import annotations

import yaml
from ansible_collections.keel.platform.plugins.doc_fragments.cost_tags import ModuleDocFragment
from ansible_collections.keel.platform.plugins.module_utils._aws_resources import RESOURCE_TYPES
from ansible_collections.keel.platform.plugins.module_utils._cost_tags_run import OPTIONS

DOCUMENTED = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]


def shape(option):
    return {field: option.get(field) for field in ("type", "default", "choices", "elements")}


def test_every_shared_option_is_documented_as_the_spec_declares_it():
    assert sorted(DOCUMENTED) == sorted(OPTIONS)
    for name, option in OPTIONS.items():
        assert shape(DOCUMENTED[name]) == shape(option), name


def test_the_documented_resource_types_are_the_ones_discovery_knows():
    assert DOCUMENTED["resource_types"]["choices"] == list(RESOURCE_TYPES)
