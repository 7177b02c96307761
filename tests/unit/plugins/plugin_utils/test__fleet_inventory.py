from __future__ import annotations

import ansible.utils.vars as ansible_vars
import pytest
from ansible.errors import AnsibleError
from ansible.inventory.data import InventoryData
from ansible_collections.keel.platform.plugins.plugin_utils._fleet_fetch import parse_accounts
from ansible_collections.keel.platform.plugins.plugin_utils._fleet_inventory import (
    LazySession,
    cache_key,
    cached_shape_problem,
    caller_identity,
    load_into,
    plain_data,
)

OPTIONS = {
    "regions": ["eu-west-1"],
    "filters": {},
    "accounts": [],
    "endpoint_url": "http://127.0.0.1:1",
    "profile": None,
}


class FakeOrganizations:
    def get_paginator(self, operation):
        assert operation == "list_accounts"
        return self

    def paginate(self, PaginationConfig, **params):
        return self

    resume_token = None

    def __iter__(self):
        yield {
            "Accounts": [
                {"Id": "333333333333", "Name": "data", "Status": "ACTIVE", "Arn": "arn:aws:organizations::1:account/x"}
            ]
        }
        yield {"Accounts": [{"Id": "444444444444", "Name": "old", "Status": "SUSPENDED"}]}


def test_parse_accounts_defaults_to_the_caller():
    accounts = parse_accounts({}, None, "us-east-1")
    assert [(a.role_arn, a.label) for a in accounts] == [(None, "the caller's account")]


def test_parse_accounts_from_arns_dicts_and_the_organization():
    options = {
        "accounts": [
            "arn:aws:iam::111111111111:role/Inventory",
            {"role_arn": "arn:aws:iam::222222222222:role/Inventory", "alias": "payments", "external_id": "e"},
        ],
        "organization_role_name": "Inventory",
        "include_caller_account": True,
    }
    accounts = parse_accounts(options, lambda service, region, credentials: FakeOrganizations(), "us-east-1")
    assert [(a.account_id, a.alias, a.role_arn) for a in accounts] == [
        (None, None, None),
        ("111111111111", None, "arn:aws:iam::111111111111:role/Inventory"),
        ("222222222222", "payments", "arn:aws:iam::222222222222:role/Inventory"),
        ("333333333333", "data", "arn:aws:iam::333333333333:role/Inventory"),
    ]
    assert accounts[2].external_id == "e"
    assert accounts[2].label == "account 222222222222 (payments)"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"alias": "x"}, "must be role ARNs or dicts with a role_arn"),
        ({"role_arn": "arn:aws:iam::111111111111:role/x", "aliass": "y"}, "unknown keys aliass"),
        ("not-an-arn", "is not an IAM role ARN"),
    ],
)
def test_parse_accounts_rejects_bad_entries(entry, message):
    with pytest.raises(ValueError, match=message):
        parse_accounts({"accounts": [entry]}, None, "us-east-1")


def test_caller_identity_uses_explicit_keys_without_boto3_resolution():
    class NoSession:
        def get(self):
            raise AssertionError("boto3 must not be needed")

    options = {"access_key": "AKIAEXPLICIT", "profile": None, "endpoint_url": None}
    assert caller_identity(options, NoSession()) == {"endpoint": None, "profile": None, "access_key": "AKIAEXPLICIT"}


def test_caller_identity_resolves_the_profile_locally(tmp_path, monkeypatch):
    credentials = tmp_path / "credentials"
    credentials.write_text("[ops]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = s\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    options = {"profile": "ops", "endpoint_url": "http://127.0.0.1:1"}
    identity = caller_identity(options, LazySession(options))
    assert identity == {"endpoint": "http://127.0.0.1:1", "profile": "ops", "access_key": "AKIAPROFILE"}


def test_caller_identity_without_credentials_names_the_sources(tmp_path, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    options = {"profile": None, "endpoint_url": None}
    with pytest.raises(AnsibleError, match="aws_fleet: no AWS credentials found; botocore looked in: environment"):
        caller_identity(options, LazySession(options))


GOOD = {"hosts": {"a": {"x": 1}}, "groups": {"g": ["a"]}, "children": {"p": ["g"]}, "warnings": [], "complete": True}


@pytest.mark.parametrize(
    ("built", "problem"),
    [
        (GOOD, None),
        ([1, 2], "a list, not a mapping"),
        ("{}", "a str, not a mapping"),
        ({"hosts": {}}, "no 'groups' entry"),
        ({**GOOD, "hosts": []}, "'hosts' is a list, not a dict"),
        ({**GOOD, "hosts": {"a": "x"}}, "'hosts' holds values that are not dicts"),
        ({**GOOD, "groups": {"g": "a"}}, "'groups' holds values that are not lists"),
        ({**GOOD, "warnings": [1]}, "'warnings' holds values that are not strs"),
        ({**GOOD, "complete": "yes"}, "'complete' is a str, not a bool"),
        ({**GOOD, "groups": {"g": ["b"]}}, "group 'g' lists 'b', which is not a host"),
    ],
)
def test_cached_shape_problem(built, problem):
    assert cached_shape_problem(built) == problem


def test_plain_data_drops_ansible_tags():
    from ansible.template import trust_as_template

    tagged = trust_as_template("eu-west-1")
    plain = plain_data({"regions": [tagged]})
    assert plain["regions"][0].__class__ is str  # not a tagged subclass
    assert plain == {"regions": ["eu-west-1"]}


def key(options=None, access_key="AKIAALICE", path="/inv/a.aws_fleet.yml", version=1):
    options = OPTIONS if options is None else options
    identity = {"endpoint": options.get("endpoint_url"), "profile": None, "access_key": access_key}
    return cache_key("keel.platform.aws_fleet", path, options, identity, version)


def test_cache_key_covers_identity_and_shaping_options_only():
    assert key().startswith("keel_platform_aws_fleet_")
    assert key() == key({**OPTIONS, "max_workers": 2, "secret_key": "x", "cache_timeout": 5})
    different = [
        key(access_key="AKIABOB"),
        key({**OPTIONS, "regions": ["us-east-1"]}),
        key({**OPTIONS, "filters": {"tag:env": "prod"}}),
        key({**OPTIONS, "accounts": ["arn:x"]}),
        key({**OPTIONS, "endpoint_url": "http://127.0.0.1:2"}),
        key({**OPTIONS, "keyed_groups": [{"key": "tags.team"}]}),
        key(path="/inv/b.aws_fleet.yml"),
        key(version=2),
    ]
    assert key() not in different
    assert len(set(different)) == len(different)
    assert "AKIAALICE" not in key()


def test_load_into_a_real_inventory():
    inventory = InventoryData()
    built = {
        "hosts": {"web-1": {"instance_id": "i-1", "tags": {"team": "a"}}, "web-2": {"instance_id": "i-2"}},
        "groups": {"aws_fleet": ["web-1", "web-2"], "team_a": ["web-1"]},
        "children": {"teams": ["team_a"]},
    }
    load_into(inventory, built)
    inventory.reconcile_inventory()
    assert inventory.get_host("web-1").vars["tags"] == {"team": "a"}
    assert sorted(h.name for h in inventory.groups["aws_fleet"].get_hosts()) == ["web-1", "web-2"]
    assert [g.name for g in inventory.groups["teams"].child_groups] == ["team_a"]
    assert [h.name for h in inventory.groups["teams"].get_hosts()] == ["web-1"]


def _state(inventory):
    """Hosts with their variables and groups (in order), groups with their hosts and children (in order)."""
    hosts = {name: (host.vars, [g.name for g in host.groups]) for name, host in inventory.hosts.items()}
    groups = {
        name: ([h.name for h in group.hosts], [g.name for g in group.child_groups])
        for name, group in inventory.groups.items()
    }
    return hosts, groups


def _one_by_one(inventory, built):
    """What load_into does in bulk, with the inventory's own calls."""
    for group in [*built["groups"], *built["children"]]:
        inventory.add_group(group)
    for name, hostvars in built["hosts"].items():
        inventory.add_host(name)
        for key, value in hostvars.items():
            inventory.set_variable(name, key, value)
    for group, members in [*built["groups"].items(), *built["children"].items()]:
        for member in members:
            inventory.add_child(group, member)


@pytest.mark.parametrize("hash_behaviour", ["replace", "merge"])
def test_load_into_matches_adding_one_by_one(monkeypatch, hash_behaviour):
    monkeypatch.setattr(ansible_vars.C, "DEFAULT_HASH_BEHAVIOUR", hash_behaviour)
    built = {
        "hosts": {
            "web-1": {"instance_id": "i-1", "placement": {"region": "eu-west-1"}, "tags": {"team": "a"}},
            # an invalid name (from compose) is kept with ansible-core's deprecation, as set_variable does
            "web-2": {"instance_id": "i-2", "bad-name": 1},
            # a host an earlier source added: a mapping variable goes through combine_vars (hash_behaviour)
            "db-1": {"instance_id": "i-3", "placement": {"region": "eu-west-2"}},
        },
        "groups": {"aws_fleet": ["web-1", "web-2", "db-1"], "team_a": ["web-1"], "region_eu_west_2": ["db-1"]},
        "children": {"teams": ["team_a"]},
    }
    states = []
    for load in (load_into, _one_by_one):
        inventory = InventoryData()
        inventory.current_source = "/inv/fleet.aws_fleet.yml"
        inventory.add_host("db-1")
        inventory.set_variable("db-1", "placement", {"availability_zone": "eu-west-2a"})
        load(inventory, built)
        inventory.reconcile_inventory()
        states.append(_state(inventory))
    assert states[0] == states[1]
    hosts = states[0][0]
    merged = {"availability_zone": "eu-west-2a"} if hash_behaviour == "merge" else {}
    assert hosts["db-1"][0]["placement"] == {**merged, "region": "eu-west-2"}
    assert hosts["web-2"][0]["bad-name"] == 1
    assert hosts["web-1"][0]["inventory_file"] == "/inv/fleet.aws_fleet.yml"
