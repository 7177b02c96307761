# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""keel.platform.aws_fleet when AWS, the credentials, the inventory file or the cache are wrong.

Each test also records what amazon.aws.aws_ec2 does with the same fault where that is cheap;
docs/aws-failure-modes.md reports these measurements.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import REGIONS, ROOT, SECOND_ACCOUNT, ansible_env, unwrap
from test_aws_fleet import BASE, live

NO_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": None,
    "AWS_SECRET_ACCESS_KEY": None,
    "AWS_SESSION_TOKEN": None,
    "AWS_PROFILE": None,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": None,
    "AWS_CONTAINER_CREDENTIALS_FULL_URI": None,
}
EVERY_SOURCE = {"AssumeRole": "error:403:AccessDenied", **{region: "html" for region in REGIONS}}


def one_line(text):
    return " ".join(text.split())


def aws_ec2(inventory, proxy, **extra):
    config = {"plugin": "amazon.aws.aws_ec2", "regions": REGIONS, "hostnames": ["instance-id"], **extra}
    return inventory({**config, "endpoint_url": proxy.url}, suffix="aws_ec2")


def no_credentials_env(tmp_path):
    return {
        **NO_CREDENTIALS,
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "absent-credentials"),
        "AWS_CONFIG_FILE": str(tmp_path / "absent-config"),
    }


def test_no_credentials_fails_naming_the_sources_tried(inventory, proxy, tmp_path):
    env = no_credentials_env(tmp_path)
    result = inventory({**BASE, "accounts": [], "include_caller_account": False}, env=env)
    assert result.returncode != 0, result.stdout
    stderr = one_line(result.stderr)
    assert "no AWS credentials found" in stderr
    for source in (
        "environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
        f"shared credentials file {tmp_path / 'absent-credentials'}",
        f"config file {tmp_path / 'absent-config'}",
        "container credentials",
        "instance metadata (disabled by AWS_EC2_METADATA_DISABLED)",
    ):
        assert source in stderr, source
    assert proxy.rules.total() == 0  # refused before any call
    # aws_ec2 fails its source on the first region without naming a source to set; with ansible-core's
    # defaults (no unparsed_is_failed) that is a warning and an empty inventory, exit 0.
    theirs = inventory({"plugin": "amazon.aws.aws_ec2", "regions": REGIONS}, suffix="aws_ec2", env=env)
    assert theirs.returncode != 0
    assert "Failed to describe instances: Unable to locate credentials" in one_line(theirs.stderr)
    default_config = {
        **env,
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "false",
        "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "false",
    }
    theirs = inventory({"plugin": "amazon.aws.aws_ec2", "regions": REGIONS}, suffix="aws_ec2", env=default_config)
    assert theirs.returncode == 0, theirs.stderr
    assert theirs.hostvars == {}
    ours = inventory({**BASE, "accounts": [], "include_caller_account": False}, env=default_config)
    assert ours.returncode == 0  # ansible-core's defaults turn our error into a warning: why ansible.cfg sets it
    assert "no AWS credentials found" in one_line(ours.stderr)


def test_every_source_failing_fails_the_inventory_even_without_strict(inventory, proxy):
    proxy.rules.faults.update(EVERY_SOURCE)
    result = inventory({**BASE, "strict": False})
    assert result.returncode != 0, result.stdout
    stderr = one_line(result.stderr)
    assert "no account or region could be read" in stderr
    for region in REGIONS:
        assert f"{region} in the caller's account" in stderr, region
    assert f"account {SECOND_ACCOUNT} (second): sts:AssumeRole" in stderr
    theirs = aws_ec2(inventory, proxy)
    assert theirs.returncode != 0  # aws_ec2 fails too, on the first region's unparsable answer


def test_every_source_failing_fails_a_playbook_run(proxy, tmp_path):
    """Through ansible-playbook with a directory inventory (static groups and the fleet), as inventories/ ship."""
    proxy.rules.faults.update(EVERY_SOURCE)
    source = tmp_path / "inventory"
    source.mkdir()
    (source / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {"aws_fleet": {}}}}))
    (source / "fleet.aws_fleet.yml").write_text(yaml.safe_dump(BASE))
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        yaml.safe_dump([{"hosts": "aws_fleet", "gather_facts": False, "tasks": [{"ansible.builtin.ping": {}}]}])
    )
    completed = subprocess.run(
        [str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(source), str(playbook)],
        capture_output=True,
        text=True,
        env=ansible_env(tmp_path, proxy),
        cwd=ROOT,
        check=False,
        timeout=300,
    )
    output = one_line(completed.stdout + completed.stderr)
    assert completed.returncode != 0, output
    assert "no account or region could be read" in output
    for region in REGIONS:
        assert region in output, region


def test_a_partial_failure_keeps_what_was_read_and_warns_once(inventory, truth, proxy):
    proxy.rules.faults["eu-west-1"] = "error:503:Unavailable"
    result = inventory(BASE)
    assert result.returncode == 0, result.stderr
    stderr = one_line(result.stderr)
    assert stderr.count("skipped eu-west-1 in the caller's account") == 1
    assert stderr.count(f"skipped eu-west-1 in account {SECOND_ACCOUNT}") == 1
    assert set(result.hostvars) == {i for i, instance in live(truth).items() if instance["region"] != "eu-west-1"}
    # aws_ec2 loses the whole source on the one region's error.
    theirs = aws_ec2(inventory, proxy)
    assert theirs.returncode != 0
    assert "Unavailable" in theirs.stderr


def test_a_region_answering_an_html_page_is_that_regions_failure(inventory, truth, proxy):
    proxy.rules.faults["eu-west-1"] = "html"
    result = inventory(BASE)
    assert result.returncode == 0, result.stderr
    stderr = one_line(result.stderr)
    assert "skipped eu-west-1 in the caller's account: ec2:DescribeInstances failed (ResponseParserError" in stderr
    assert "not an AWS answer" in stderr
    assert set(result.hostvars) == {i for i, instance in live(truth).items() if instance["region"] != "eu-west-1"}
    # aws_ec2 loses every region: the unparsable answer escapes as one failure of the whole source.
    theirs = aws_ec2(inventory, proxy)
    assert theirs.returncode != 0


def test_a_dropped_connection_is_that_regions_failure(inventory, truth, proxy):
    proxy.rules.faults["ap-southeast-2"] = "drop"
    result = inventory(BASE)
    assert result.returncode == 0, result.stderr
    assert "skipped ap-southeast-2 in the caller's account" in one_line(result.stderr)
    assert "ConnectionClosedError" in result.stderr
    expected = {i for i, instance in live(truth).items() if instance["region"] != "ap-southeast-2"}
    assert set(result.hostvars) == expected


def test_an_unknown_region_is_refused_before_any_call(inventory, proxy):
    result = inventory({**BASE, "regions": ["us-east-1", "us-east-9"]}, env={"AWS_ENDPOINT_URL": None})
    assert result.returncode != 0
    stderr = one_line(result.stderr)
    assert "'us-east-9' is not a region botocore knows" in stderr
    assert "did you mean us-east-1" in stderr or "did you mean us-east-2" in stderr
    assert proxy.rules.total() == 0


def test_a_misspelt_option_is_refused(inventory, proxy):
    config = {key: value for key, value in BASE.items() if key != "regions"}
    result = inventory({**config, "regoins": ["us-east-1"]})
    assert result.returncode != 0
    stderr = one_line(result.stderr)
    assert "unknown option 'regoins'" in stderr
    assert "did you mean 'regions'" in stderr
    assert proxy.rules.total() == 0
    # aws_ec2 ignores it and reads every region.
    theirs = inventory({"plugin": "amazon.aws.aws_ec2", "regoins": ["us-east-1"], "regions": REGIONS}, suffix="aws_ec2")
    assert theirs.returncode == 0, theirs.stderr


def test_organizations_errors_name_the_operation_and_the_iam_action(inventory, proxy):
    proxy.rules.faults["ListAccounts"] = "error:400:AccessDeniedException"
    config = {**BASE, "accounts": [], "organization_role_name": "KeelInventory"}
    result = inventory(config)
    assert result.returncode != 0
    stderr = one_line(result.stderr)
    assert "organizations:ListAccounts" in stderr
    assert "AccessDeniedException" in stderr
    assert "management account or a delegated administrator" in stderr
    # On a JSON protocol botocore turns an HTML page into an error whose code is the HTTP status.
    proxy.rules.faults["ListAccounts"] = "html"
    result = inventory(config)
    assert result.returncode != 0
    stderr = one_line(result.stderr)
    assert "organizations:ListAccounts failed (500:" in stderr
    assert "not an AWS answer" in stderr


def test_a_broken_expression_fails_with_its_text_and_jinjas_message_when_strict(inventory, proxy):
    result = inventory({**BASE, "strict": True, "compose": {"broken": "private_ip_address |"}})
    assert result.returncode != 0
    stderr = one_line(result.stderr)
    assert "compose broken: 'private_ip_address |'" in stderr
    assert "TemplateContext" not in stderr
    assert "unexpected end of template" in stderr
    # aws_ec2 (Constructable) gives Jinja's message for the first host, without the expression.
    theirs = aws_ec2(inventory, proxy, strict=True, compose={"broken": "private_ip_address |"})
    assert theirs.returncode != 0
    assert "Could not set broken for host i-" in theirs.stderr
    assert "Syntax error in expression: unexpected end of template" in theirs.stderr
    assert "private_ip_address |" not in theirs.stderr


def test_a_broken_expression_warns_once_without_strict(inventory, truth, proxy):
    config = {
        **BASE,
        "compose": {"broken": "private_ip_address |"},
        "groups": {"bad_group": "state.name == "},
        "keyed_groups": [{"key": "tags[", "prefix": "bad"}],
    }
    result = inventory(config)
    assert result.returncode == 0, result.stderr
    stderr = one_line(result.stderr)
    assert stderr.count("compose broken: 'private_ip_address |'") == 1
    assert stderr.count("groups bad_group: 'state.name == '") == 1
    assert stderr.count("keyed_groups key: 'tags['") == 1
    assert set(result.hostvars) == set(live(truth))
    # aws_ec2 drops the expression for every host without a word.
    theirs = aws_ec2(inventory, proxy, compose={"broken": "private_ip_address |"})
    assert theirs.returncode == 0, theirs.stderr
    assert "broken" not in theirs.stderr
    assert not any("broken" in hostvars for hostvars in theirs.hostvars.values())


def cached(config, tmp_path):
    return {
        **config,
        "cache": True,
        "cache_plugin": "ansible.builtin.jsonfile",
        "cache_connection": str(tmp_path / "c"),
    }


def test_an_unreadable_cache_is_discarded_and_refetched(inventory, truth, proxy, tmp_path):
    config = cached(BASE, tmp_path)
    cold = inventory(config)
    assert cold.returncode == 0, cold.stderr
    (path,) = (tmp_path / "c").iterdir()
    good = path.read_text()
    assert "__payload__" in good  # ansible-core's cache wrapper, which some cases below imitate
    for content in (
        "",
        "{not json",
        good[: len(good) // 2],
        "{}",
        "[1, 2]",
        json.dumps({"__payload__": json.dumps({"hosts": {}})}),
        json.dumps({"__payload__": json.dumps("{}")}),
        json.dumps({"__payload__": json.dumps('{"hosts": {}, "groups": {}, "children": {}}')}),
    ):
        path.write_text(content)
        calls = proxy.rules.total()
        result = inventory(config)
        assert result.returncode == 0, (content[:40], result.stderr)
        assert "aws_fleet: discarded the cached inventory" in one_line(result.stderr), content[:40]
        assert proxy.rules.total() > calls, content[:40]
        assert set(result.hostvars) == set(live(truth)), content[:40]
        # The refetched inventory replaced the broken entry: the next run is a clean cache hit.
        calls = proxy.rules.total()
        again = inventory(config)
        assert proxy.rules.total() == calls
        assert "discarded" not in again.stderr


def test_the_default_output_has_no_reserved_name_warning(inventory, truth, proxy):
    result = inventory({**BASE, "groups": {"payments": "tags.team == 'payments'"}})
    assert result.returncode == 0, result.stderr
    assert "reserved name" not in result.stderr
    some_id, instance = next((i, x) for i, x in live(truth).items() if x["tags"].get("team") == "payments")
    hostvars = unwrap(result.hostvars[some_id])
    assert "tags" not in hostvars
    assert hostvars["ec2_tags"] == instance["tags"]
    assert some_id in result.groups()["payments"]  # expressions still see `tags`
    legacy = inventory({**BASE, "tags_hostvar": True})
    assert legacy.returncode == 0, legacy.stderr
    assert unwrap(legacy.hostvars[some_id])["tags"] == instance["tags"]
    assert "Found variable using reserved name 'tags'" in legacy.stderr
    # aws_ec2 sets `tags` (deprecated there for ec2_tags) and so draws the warning on every run.
    theirs = aws_ec2(inventory, proxy)
    assert "Found variable using reserved name 'tags'" in theirs.stderr
