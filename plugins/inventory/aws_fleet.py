# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: aws_fleet
short_description: EC2 instances of every account and region, fetched concurrently
version_added: 0.1.0
description:
  - Reads EC2 instances from several accounts and regions at once (a bounded worker pool, one
    paginated C(DescribeInstances) per region and account, 1,000 instances per page) and builds
    hosts, host variables and groups.
  - Host variables keep P(amazon.aws.aws_ec2#inventory)'s names for the common fields
    (C(instance_id), C(private_ip_address), C(placement), C(ec2_tags), C(instance_type), C(state),
    ...), so group_vars and playbooks written for aws_ec2 keep working. The tags are the
    C(ec2_tags) host variable; C(tags) is one only with O(tags_hostvar) (see there why).
  - Compose, groups and keyed_groups expressions are compiled once; variable paths and simple
    comparisons are evaluated without the template engine. With O(cache) on, the built inventory
    (hosts, variables and groups) is cached, so a warm run makes no API call and no template call.
  - A region or account that fails (an AWS error, a connection error or timeout, an answer that is
    not AWS's, such as an HTML error page) is skipped with one warning naming it and the cause,
    unless O(strict) is set; the hosts of the other regions and accounts are kept. Discovered
    regions that are not opted in are skipped silently.
  - B(No silent empty inventory.) If no account or region could be read, the inventory fails with
    an error naming each failure, whatever O(strict) says. Without AWS credentials it fails before
    any call and names every place botocore looked (environment variables, shared credentials and
    config files and their profile, container and instance metadata). ansible-core turns an
    inventory plugin's error into a warning and an empty inventory unless C(any_unparsed_is_failed)
    is set in the C([inventory]) section of C(ansible.cfg) (or ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED);
    Keel's C(ansible.cfg) sets it.
  - B(Refused before any call.) An option that does not exist (C(regoins)), with the closest valid
    name; a region name (O(regions), O(region)) that botocore's bundled region data does not list,
    with the closest one, unless O(endpoint_url) is set; a O(compose), O(groups) or
    O(keyed_groups) expression Jinja cannot compile, with the expression and Jinja's message (with
    O(strict) unset it is left out with one warning instead).
  - A cache entry that cannot be read or does not have the shape this plugin writes is discarded
    with a warning and the inventory is read from AWS again in the same run.
  - The inventory file name must end with C(aws_fleet.yml) or C(aws_fleet.yaml).
  - B(Migrating from amazon.aws.aws_ec2.) Change O(plugin) and the file name suffix; O(regions),
    O(filters), O(include_filters), O(exclude_filters), O(hostnames) (attributes, C(tag:) forms,
    dicts with C(prefix)), O(compose), O(groups) and O(keyed_groups) take the same values.
    Hosts are put in the O(host_group) group (set it to V(aws_ec2) to keep that name). The
    default O(hostvars=compact) sets the common variables only (listed under O(hostvars)); set
    O(hostvars=full) for every field aws_ec2 sets. C(ec2_tags) is always set; C(tags) only with
    O(tags_hostvar). aws_ec2's C(strict_permissions) becomes O(strict); hosts without a host name are
    reported instead of silently dropped (O(on_unresolved_hostname)).
author:
  - Keel platform team (@keel-platform)
extends_documentation_fragment:
  - constructed
  - inventory_cache
  - keel.platform.aws
  - keel.platform.aws.plugins
options:
  plugin:
    description: Marks this file as an aws_fleet inventory.
    type: str
    required: true
    choices: [keel.platform.aws_fleet]
  regions:
    description:
      - Regions to read. Empty means every region enabled for each account, found with one
        C(DescribeRegions) per account; regions not opted in are skipped.
    type: list
    elements: str
    default: []
  accounts:
    description:
      - Accounts to read, each an IAM role ARN to assume or a dict with C(role_arn) and optionally
        C(alias) and C(external_id). Empty means the caller's own account only.
      - Account id and alias become the C(account_id) and C(account_alias) host variables and, with
        O(default_groups), C(account_<id>) and C(account_<alias>) groups.
    type: list
    elements: raw
    default: []
  include_caller_account:
    description: Also read the caller's own account when O(accounts) or O(organization_role_name) is set.
    type: bool
    default: false
  organization_role_name:
    description:
      - Read every active account of the AWS Organization (C(ListAccounts) with the caller's
        credentials, which must be the management or a delegated administrator account) by
        assuming this role in each. The account name becomes its alias.
      - A role name (V(KeelInventory)) or an ARN template with C({account_id}).
    type: str
  filters:
    description: EC2 filters all of which an instance must match (as in aws_ec2).
    type: dict
    default: {}
  include_filters:
    description:
      - More filter sets; an instance matching O(filters) or any of these is included.
      - Sets that differ in one filter are merged into one call; sets that can be evaluated on the
        answers are applied locally after one call.
    type: list
    elements: dict
    default: []
  exclude_filters:
    description:
      - Filter sets; an instance matching any of them is left out. Sets using only filters that can
        be evaluated on the answers (tags, state, type, ids, addresses, zone) cost no API call.
    type: list
    elements: dict
    default: []
  hostnames:
    description:
      - Host name preferences, first match wins. Each is an attribute (V(private-ip-address),
        V(ip-address), V(dns-name), V(private-dns-name), V(instance-id), ...), V(tag:<key>),
        V(tag:<key>=<value>), a template (V({{ tags.Name }}-{{ instance_id }})), or a dict with
        C(name), C(prefix) and C(separator) as in aws_ec2.
      - Empty means V(dns-name), then V(private-dns-name), as aws_ec2 does.
    type: list
    elements: raw
    default: []
  on_unresolved_hostname:
    description:
      - What happens to an instance for which no O(hostnames) entry gives a value.
      - V(warn) drops it and warns once with the count and examples; V(fail) stops with an error;
        V(instance_id) names the host by its instance id.
    type: str
    choices: [warn, fail, instance_id]
    default: warn
  on_duplicate_hostname:
    description:
      - What happens to an instance whose host name an earlier instance (by account, region and
        instance id) already has. V(warn) drops it and warns with a summary; V(fail) stops;
        V(instance_id) names it by its instance id.
    type: str
    choices: [warn, fail, instance_id]
    default: warn
  hostvars:
    description:
      - V(compact) sets C(instance_id), C(instance_type), C(image_id), C(architecture),
        C(private_ip_address), C(private_dns_name), C(public_ip_address), C(public_dns_name),
        C(vpc_id), C(subnet_id), C(key_name), C(launch_time), C(placement) (C(availability_zone),
        C(region)), C(state) (C(name), C(code)), C(security_groups), C(ec2_tags), C(account_id) and
        C(account_alias). Fields EC2 does not return, or returns empty, are left out.
      - V(full) sets every field of the C(DescribeInstances) record, snake_cased as aws_ec2 does,
        plus C(ec2_tags), C(placement.region), C(account_id) and C(account_alias).
      - Either way C(tags) is a host variable only with O(tags_hostvar).
    type: str
    choices: [compact, full]
    default: compact
  tags_hostvar:
    description:
      - Also set the tags as the C(tags) host variable, which aws_ec2 still sets but has deprecated
        (since amazon.aws 11.2.0) for C(ec2_tags).
      - Off by default because C(tags) is a name ansible-core reserves (the play keyword), so every
        command that reads host variables would warn C(Found variable using reserved name 'tags').
        Turn it on only for playbooks or group_vars that still read C(tags); move them to
        C(ec2_tags).
      - O(compose), O(groups), O(keyed_groups) and O(hostnames) templates see C(tags) either way,
        so inventory files written for aws_ec2 (a keyed group on C(tags.team)) keep working.
    type: bool
    default: false
    version_added: 0.3.0
  host_group:
    description: The group every host of this inventory is in.
    type: str
    default: aws_fleet
  default_groups:
    description:
      - Build the groups a platform team needs, one per value of each O(tag_groups) tag
        (C(team_payments)), C(asg_<name>) from the Auto Scaling group tag, C(state_<name>),
        C(account_<id>) and C(account_<alias>).
    type: bool
    default: true
  tag_groups:
    description:
      - Group prefix to tag key, for O(default_groups). Tag keys match case-insensitively
        (C(Team) counts as C(team)).
    type: dict
    default: {team: team, service: service, env: env}
  required_tags:
    description:
      - Cost-allocation tag keys every instance must have; an instance without one is put in
        C(missing_tag_<key>). A key under another spelling that normalises to it (C(CostCenter) for
        C(cost-center)) counts. C(aws:) keys are refused.
    type: list
    elements: str
    default: []
  cost_policy:
    description:
      - Path of the collection's cost policy file (its C(required_tags) with aliases, allowed
        values and patterns, key normalisation and exceptions). Adds C(missing_tag_<key>) groups and
        C(invalid_tag_<key>) groups for values the policy does not allow; an instance a live exception
        covers is in neither. The verdicts are those of M(keel.platform.cost_tags_info) and the
        observability agent's tag metrics (one evaluation, see C(docs/cost-tags.md)). Combined with
        O(required_tags). A policy that does not validate fails the inventory before any AWS call.
    type: path
  max_workers:
    description: Concurrent API calls at most (accounts and regions are read in parallel).
    type: int
    default: 8
  throttle_retries:
    description: Extra jittered-backoff retries of a page when throttling outlasts O(max_attempts).
    type: int
    default: 3
notes:
  - The cache key covers the caller's identity (profile, access key id, endpoint), the accounts,
    regions, filters and every option that shapes the result, so changing any of them misses the
    cache. C(ansible-inventory --flush-cache) rebuilds it.
  - With O(cache) on, compose results are cached with the rest; templates with side effects run
    only when the cache is rebuilt. An inventory built while a region or account failed is not
    cached, so the next run asks AWS again.
seealso:
  - plugin: amazon.aws.aws_ec2
    plugin_type: inventory
"""

EXAMPLES = r"""
# fleet.aws_fleet.yml: every enabled region of two accounts, grouped, cached for 10 minutes
plugin: keel.platform.aws_fleet
accounts:
  - arn:aws:iam::111111111111:role/KeelInventory
  - role_arn: arn:aws:iam::222222222222:role/KeelInventory
    alias: payments-prod
hostnames:
  - private-ip-address
  - instance-id
required_tags: [team, service, env, cost-center]
keyed_groups:
  - key: placement.region
    prefix: region
compose:
  ansible_host: private_ip_address
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/keel-inventory
cache_timeout: 600

---
# A migrated aws_ec2 inventory: same groups and every aws_ec2 host variable
plugin: keel.platform.aws_fleet
regions: [eu-west-1, eu-central-1]
host_group: aws_ec2
hostvars: full
default_groups: false
filters:
  tag:env: [prod, staging]
exclude_filters:
  - instance-type: [t2.nano]
keyed_groups:
  - key: tags.team
    prefix: team
"""

import json

from ansible.errors import AnsibleError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible_collections.keel.platform.plugins.module_utils._cost_policy import (
    CostPolicyError,
    load_policy,
    merge_policies,
    policy_from_keys,
)
from ansible_collections.keel.platform.plugins.plugin_utils import _fleet_filters
from ansible_collections.keel.platform.plugins.plugin_utils._fleet_build import (
    BuildSettings,
    InventoryBuilder,
    summary_messages,
)
from ansible_collections.keel.platform.plugins.plugin_utils._fleet_hosts import validate_hostnames
from ansible_collections.keel.platform.plugins.plugin_utils._fleet_inventory import (
    LazySession,
    cache_key,
    cached_shape_problem,
    caller_identity,
    load_into,
    plain_data,
)
from ansible_collections.keel.platform.plugins.plugin_utils._fleet_options import check_option_names, check_regions

# 3: hosts carry ec2_tags, and tags only with tags_hostvar.
CACHE_FORMAT = 3


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "keel.platform.aws_fleet"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("aws_fleet.yml", "aws_fleet.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache=cache)
        config = self._read_config_data(path)
        check_option_names(config, self.option_definitions, path)
        options = plain_data({name: self.get_option(name) for name in self._options})
        validate_hostnames(options["hostnames"])
        check_regions(
            [("regions", region) for region in options["regions"]] + [("region", options["region"])],
            options["endpoint_url"],
        )
        # Settings are checked (policy file, expressions, keyed groups) before the cache or AWS is touched.
        builder = InventoryBuilder(
            self._settings(options), self.templar, self._sanitize_group_name, self._template_hostname
        )
        session = LazySession(options)
        key = cache_key(self.NAME, path, options, caller_identity(options, session), CACHE_FORMAT)
        built = self._cached(key) if options["cache"] and cache else None
        if built is None:
            built = self._build(options, session.get(), builder)
            # A region or account that failed would stay missing until the cache expires: not cached.
            if options["cache"] and built["complete"]:
                # One JSON string: Ansible's cache deep-copies and tag-decodes structures, a string costs nothing.
                self._cache[key] = json.dumps(built, separators=(",", ":"))
        for message in built["warnings"]:
            self.display.warning(message)
        load_into(self.inventory, built)

    def _cached(self, key):
        """The cached inventory, or None; one that cannot be read or has the wrong shape is discarded with a warning."""
        try:
            text = self._cache[key]
        except KeyError:
            # The cache also answers KeyError for a file it has but cannot unwrap (no payload in it).
            plugin = getattr(self._cache, "_plugin", None)
            if plugin is None or not plugin.contains(key):
                return None
            problem = "the file has no payload"
        except (AnsibleError, TypeError, ValueError) as error:  # AnsibleError: the cache plugin's "corrupt file"
            problem = str(error)
        else:
            try:
                built = json.loads(text)
                problem = cached_shape_problem(built)
            except (TypeError, ValueError) as error:
                problem = f"not the JSON this plugin writes ({error})"
            if problem is None:
                return built
        self.display.warning(f"aws_fleet: discarded the cached inventory {key}: {problem}; reading AWS again")
        return None

    def _build(self, options, session, builder):
        # boto3 takes a third of a second to import: a warm cache hit never loads it.
        from ansible_collections.keel.platform.plugins.plugin_utils._fleet_fetch import fetch_fleet

        plan = _fleet_filters.plan(options["filters"], options["include_filters"], options["exclude_filters"])
        try:
            fetched = fetch_fleet(options, session, plan)
        except ValueError as error:
            raise AnsibleError(f"aws_fleet: {error}") from None
        failures = [f"{error.where}: {error.message}" for error in fetched.errors]
        if fetched.total_failure:
            # An empty inventory here would let a playbook "succeed" against no host: fail, strict or not.
            raise AnsibleError(
                f"aws_fleet: no account or region could be read, so the inventory would be empty: {'; '.join(failures)}"
            )
        if fetched.errors and options["strict"]:
            raise AnsibleError(
                "aws_fleet: " + "; ".join(failures) + " (strict is set; unset it to build the inventory without them)"
            )
        warnings = [f"aws_fleet: skipped {failure}" for failure in failures]
        for label, region in fetched.skipped_regions:
            self.display.vvv(f"aws_fleet: {region} is not opted in for {label}; skipped")
        # Lowest account id, region and instance id first, so the same instance keeps a duplicated name on
        # every run; records are dropped as they are built, so raw answers and host variables are not all held.
        records = sorted(fetched.records, key=lambda r: (r[2]["id"] or "", r[1], r[0]["InstanceId"]), reverse=True)
        fetched.records = None
        while records:
            builder.add(*records.pop())
        built = builder.result()
        built["warnings"] = builder.warnings + warnings + summary_messages(built["summary"], options["hostnames"])
        built["complete"] = not fetched.errors
        return built

    def _settings(self, options):
        try:
            policy = load_policy(options["cost_policy"]) if options["cost_policy"] else None
        except CostPolicyError as error:
            raise AnsibleError(f"aws_fleet: cost_policy: {error}") from None
        if options["required_tags"]:
            try:
                keys = policy_from_keys(options["required_tags"])
            except CostPolicyError as error:
                raise AnsibleError(f"aws_fleet: option required_tags: {error}") from None
            policy = merge_policies(policy, keys)
        return BuildSettings.from_options(options, policy)

    def _template_hostname(self, template, hostvars):
        from ansible.template import trust_as_template

        self.templar.available_variables = hostvars
        return self.templar.template(trust_as_template(template))
