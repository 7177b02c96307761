# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fetch EC2 instances of many accounts and regions concurrently, with a bounded worker pool.

Clients are made in the calling thread (botocore sessions are not thread-safe) and used in the
workers (clients are). A failing account or region becomes a FetchError for the caller to warn
about or raise; it never stops the others.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ansible.errors import AnsibleError
from ansible_collections.keel.platform.plugins.module_utils import _aws

try:
    import botocore.exceptions
    import botocore.parsers

    # Everything botocore raises for one call: AWS errors, transport errors (connection, timeouts) and
    # answers it cannot parse (an HTML error page), which derive from neither of the other two.
    FETCH_ERRORS = (
        botocore.exceptions.ClientError,
        botocore.exceptions.BotoCoreError,
        botocore.parsers.ResponseParserError,
    )
except ImportError:
    FETCH_ERRORS = ()

DESCRIBE_PAGE_SIZE = 1000  # the largest page DescribeInstances returns
ENABLED_OPT_IN = ("opt-in-not-required", "opted-in")


@dataclass
class Account:
    """One account to read: the caller's own (role_arn None) or one reached by assuming a role."""

    role_arn: str | None = None
    alias: str | None = None
    external_id: str | None = None
    account_id: str | None = None
    credentials: dict | None = None

    @property
    def label(self):
        if self.role_arn:
            return f"account {self.account_id or self.role_arn}" + (f" ({self.alias})" if self.alias else "")
        return "the caller's account"


@dataclass
class FetchError:
    where: str
    message: str


@dataclass
class FetchResult:
    records: list = field(default_factory=list)  # (instance, region, {"id": ..., "alias": ...})
    errors: list = field(default_factory=list)
    skipped_regions: list = field(default_factory=list)  # (account label, region) not opted in
    read: int = 0  # (account, region) sources answered in full

    @property
    def total_failure(self):
        """Something failed and no source was read: an empty inventory would be a lie."""
        return bool(self.errors) and not self.read


def fetch_fleet(options, session, plan):
    """Accounts from the options, then every (account, region) fetched: a FetchResult."""
    config = _aws.client_config(
        options["max_attempts"],
        options["retry_mode"],
        options["connect_timeout"],
        options["read_timeout"],
        max_pool_connections=max(10, options["max_workers"]),
    )

    def connect(service, region, credentials):
        return _aws.client(session, service, region, options["endpoint_url"], config, credentials)

    accounts = parse_accounts(options, connect, options["region"])
    fetcher = FleetFetcher(connect, plan, options["max_workers"], options["throttle_retries"], options["endpoint_url"])
    return fetcher.fetch(accounts, options["regions"], options["region"])


class FleetFetcher:
    """connect(service, region, credentials) -> boto3 client; plan: a FilterPlan."""

    def __init__(self, connect, plan, workers=8, retries=3, endpoint_url=None):
        self.connect = connect
        self.plan = plan
        self.workers = max(1, workers)
        self.retries = retries
        self.endpoint_url = endpoint_url

    def _error(self, where, error, operation):
        return FetchError(where, _aws.describe_error(error, operation, self.endpoint_url))

    def fetch(self, accounts, regions, sts_region):
        result = FetchResult()
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="aws_fleet") as pool:
            ready = self._assume_roles(pool, accounts, sts_region, result)
            targets = self._regions(pool, ready, regions, sts_region, result)
            self._describe(pool, targets, result)
        return result

    def _assume_roles(self, pool, accounts, sts_region, result):
        jobs = []
        for account in accounts:
            if account.role_arn is None:
                continue
            sts = self.connect("sts", sts_region, None)
            jobs.append(
                (
                    account,
                    pool.submit(
                        _aws.assume_role_credentials, sts, account.role_arn, "keel-aws-fleet", account.external_id
                    ),
                )
            )
        for account, job in jobs:
            try:
                account.credentials = job.result()
            except FETCH_ERRORS as error:
                result.errors.append(self._error(account.label, error, f"sts:AssumeRole of {account.role_arn}"))
        return [a for a in accounts if a.role_arn is None or a.credentials is not None]

    def _regions(self, pool, accounts, regions, sts_region, result):
        if regions:
            return [(account, region) for account in accounts for region in regions]
        jobs = [
            (account, pool.submit(self._enabled_regions, self.connect("ec2", sts_region, account.credentials)))
            for account in accounts
        ]
        targets = []
        for account, job in jobs:
            try:
                enabled, skipped = job.result()
            except FETCH_ERRORS as error:
                result.errors.append(self._error(account.label, error, "ec2:DescribeRegions"))
                continue
            targets.extend((account, region) for region in enabled)
            result.skipped_regions.extend((account.label, region) for region in skipped)
        return targets

    def _enabled_regions(self, ec2):
        answer = _aws.call_with_backoff(ec2.describe_regions, AllRegions=True, retries=self.retries)["Regions"]
        enabled = sorted(
            r["RegionName"] for r in answer if r.get("OptInStatus", "opt-in-not-required") in ENABLED_OPT_IN
        )
        skipped = sorted(
            r["RegionName"] for r in answer if r.get("OptInStatus", "opt-in-not-required") not in ENABLED_OPT_IN
        )
        return enabled, skipped

    def _describe(self, pool, targets, result):
        jobs = []
        for account, region in targets:
            ec2 = self.connect("ec2", region, account.credentials)
            for filters in self.plan.queries:
                jobs.append((account, region, False, pool.submit(self._instances, ec2, filters)))
            for filters in self.plan.remote_excludes:
                jobs.append((account, region, True, pool.submit(self._instances, ec2, filters)))
        failed, excluded = set(), set()
        found = {}
        for account, region, is_exclude, job in jobs:
            where = f"{region} in {account.label}"
            try:
                instances = job.result()
            except FETCH_ERRORS as error:
                if where not in failed:
                    failed.add(where)
                    result.errors.append(self._error(where, error, "ec2:DescribeInstances"))
                continue
            for instance in instances:
                if is_exclude:
                    excluded.add((instance["OwnerId"], instance["InstanceId"]))
                elif self.plan.keep(instance):
                    record = (instance, region, {"id": instance["OwnerId"], "alias": account.alias})
                    found[(instance["OwnerId"], instance["InstanceId"])] = (record, where)
        # A region whose exclude query failed is dropped whole: its excluded instances are unknown.
        result.records = [
            record for key, (record, where) in found.items() if key not in excluded and where not in failed
        ]
        result.read = len({f"{region} in {account.label}" for account, region in targets} - failed)

    def _instances(self, ec2, filters):
        instances = []
        for page in _aws.paginate(
            ec2, "describe_instances", retries=self.retries, page_size=DESCRIBE_PAGE_SIZE, Filters=filters
        ):
            for reservation in page.get("Reservations", ()):
                meta = {
                    "OwnerId": reservation.get("OwnerId"),
                    "RequesterId": reservation.get("RequesterId", ""),
                    "ReservationId": reservation.get("ReservationId"),
                }
                for instance in reservation.get("Instances", ()):
                    instance.update(meta)
                    instances.append(instance)
        return instances


def parse_accounts(options, connect, region):
    """Account objects from the accounts / organization_role_name / include_caller_account options."""
    accounts = []
    for entry in options.get("accounts") or []:
        if isinstance(entry, str):
            entry = {"role_arn": entry}
        if not isinstance(entry, dict) or not entry.get("role_arn"):
            raise ValueError(f"accounts entries must be role ARNs or dicts with a role_arn, got {entry!r}")
        unknown = set(entry) - {"role_arn", "alias", "external_id"}
        if unknown:
            raise ValueError(f"accounts entry {entry['role_arn']} has unknown keys {', '.join(sorted(unknown))}")
        accounts.append(
            Account(
                role_arn=entry["role_arn"],
                alias=entry.get("alias"),
                external_id=entry.get("external_id"),
                account_id=_aws.role_arn_account(entry["role_arn"]),
            )
        )
    role_name = options.get("organization_role_name")
    if role_name:
        known = {account.account_id for account in accounts}
        accounts.extend(
            account
            for account in _organization_accounts(connect, region, role_name, options.get("endpoint_url"))
            if account.account_id not in known
        )
    if not accounts or options.get("include_caller_account"):
        accounts.insert(0, Account())
    return accounts


def _organization_accounts(connect, region, role_name, endpoint_url=None):
    """The active accounts of the caller's AWS Organization, each reached through role_name."""
    accounts = []
    try:
        organizations = connect("organizations", region, None)
        for page in _aws.paginate(organizations, "list_accounts"):
            for listed in page.get("Accounts", ()):
                if listed.get("Status", "ACTIVE") != "ACTIVE":
                    continue
                partition = listed.get("Arn", "arn:aws:").split(":")[1]
                accounts.append(
                    Account(
                        role_arn=_aws.role_arn_for(listed["Id"], role_name, partition),
                        alias=listed.get("Name"),
                        account_id=listed["Id"],
                    )
                )
    except FETCH_ERRORS as error:
        raise AnsibleError(
            f"aws_fleet: listing the accounts for organization_role_name {role_name!r}: "
            f"{_aws.describe_error(error, 'organizations:ListAccounts', endpoint_url)}. "
            "The caller's credentials must belong to the organization's management account or a delegated "
            "administrator and allow organizations:ListAccounts; or list the accounts under 'accounts' instead"
        ) from None
    return accounts
