# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's one boto3 session and client factory.

Modules and the inventory plugin build every AWS client here, so retries, timeouts, the endpoint
override and the user agent are the same everywhere. Pure helpers (backoff delays, error
classification, role ARNs) take plain data and are unit-tested without AWS.
"""

from __future__ import annotations

import datetime
import os
import random
import re
import time

try:
    import boto3
    import botocore.config
    import botocore.exceptions
    import botocore.parsers
    import botocore.utils

    HAS_BOTO3 = True
    # What botocore raises for one call: ResponseParserError (an answer that is not AWS's, such as an
    # HTML error page) derives from neither of the other two.
    AWS_ERRORS = (
        botocore.exceptions.BotoCoreError,
        botocore.exceptions.ClientError,
        botocore.parsers.ResponseParserError,
    )
except ImportError:
    HAS_BOTO3 = False
    AWS_ERRORS = ()

# galaxy.yml is the version's source. Modules run from an AnsiballZ payload that carries no
# MANIFEST.json, so the version is repeated here and tests/unit/test_version.py keeps the two equal.
KEEL_VERSION = "0.1.0"
USER_AGENT_EXTRA = "keel.platform/" + KEEL_VERSION

# Error codes AWS uses for request throttling; botocore retries them too, these are for the
# extra backoff layer when botocore's attempts run out.
THROTTLING_CODES = frozenset(
    (
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    )
)
ACCESS_DENIED_CODES = frozenset(("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"))
OPT_IN_CODES = frozenset(("OptInRequired",))

_HTML_TITLE = re.compile(r"<title>\s*([^<]{1,120}?)\s*</title>", re.I)
# An error page in an exception's text would drown the message; AWS's own messages are shorter.
ERROR_TEXT_LIMIT = 300
_ROLE_ARN = re.compile(r"^arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}):role/(?P<name>[\w+=,.@/-]+)$")


def role_arn_account(role_arn):
    """Return the account id of an IAM role ARN, or raise ValueError saying what is wrong."""
    match = _ROLE_ARN.match(role_arn or "")
    if not match:
        raise ValueError(f"{role_arn!r} is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)")
    return match.group("account")


def role_arn_for(account_id, role_name, partition="aws"):
    """The ARN of role_name (which may contain {account_id}) in account_id."""
    name = role_name.format(account_id=account_id)
    if name.startswith("arn:"):
        return name
    return f"arn:{partition}:iam::{account_id}:role/{name.lstrip('/')}"


def backoff_delays(attempts, base=0.5, cap=20.0, rng=random.random):
    """Full-jitter exponential backoff: one delay per retry, each in [0, min(cap, base * 2**n)]."""
    return [rng() * min(cap, base * (2**n)) for n in range(max(attempts, 0))]


def error_code(error):
    """The AWS error code of a botocore ClientError, else the exception's class name."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if code:
            return code
    return type(error).__name__


def is_throttling(error):
    return error_code(error) in THROTTLING_CODES


def describe_error(error, operation, endpoint_url=None):
    """One line saying what failed and what to do about it."""
    code = error_code(error)
    detail = _error_text(error)
    if code == "ResponseParserError":
        # botocore's message carries the whole body; the page's title is what says what happened
        title = _HTML_TITLE.search(str(error))
        if title:
            detail = f"an HTML page titled {title.group(1)!r}"
    if code in ACCESS_DENIED_CODES:
        hint = f"the credentials in use are not allowed to call {operation}; grant it in IAM"
    elif code == "AuthFailure":
        hint = "the credentials were not accepted here: wrong or expired keys, or a region not enabled for the account"
    elif code in OPT_IN_CODES:
        hint = "the region is not enabled (opted in) for this account"
    elif code in THROTTLING_CODES:
        hint = "AWS kept throttling after every retry; lower the number of workers or raise max_attempts"
    elif code in ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError"):
        hint = f"could not reach {endpoint_url or 'the AWS endpoint'}; check the network, endpoint_url and timeouts"
    elif code in ("NoCredentialsError", "PartialCredentialsError"):
        hint = "no AWS credentials found; set profile, access_key/secret_key or the AWS_* environment variables"
    elif code == "ResponseParserError" or code.isdigit():  # a bare HTTP status: no AWS error in the body
        hint = (
            f"{endpoint_url or 'the endpoint'} answered with something that is not an AWS answer (an HTML error page "
            "of a proxy or load balancer, or no AWS service there for this region); check the region name, "
            "endpoint_url and any proxy in between"
        )
    elif code == "NoRegionError":
        hint = "no region given; set `region` or AWS_REGION"
    else:
        return f"{operation} failed ({code}: {detail})"
    return f"{operation} failed ({code}: {detail}); {hint}"


def _error_text(error):
    """The exception's message on one line, cut to ERROR_TEXT_LIMIT characters."""
    text = " ".join(str(error).split())
    if type(error).__name__ == "ResponseParserError":
        # botocore appends the whole body it could not parse: keep its start, enough to recognise it.
        reason, separator, body = text.partition(" Further retries may succeed:")
        if separator:
            text = f"{reason} The answer began: {body.strip()[:60]}"
    return text if len(text) <= ERROR_TEXT_LIMIT else text[: ERROR_TEXT_LIMIT - 3] + "..."


def call_with_backoff(func, *args, retries=3, sleep=time.sleep, delays=None, **kwargs):
    """Call func, retrying throttling errors that outlasted botocore's own retries."""
    waits = delays if delays is not None else backoff_delays(retries)
    for wait in [*waits, None]:
        try:
            return func(*args, **kwargs)
        except botocore.exceptions.ClientError as error:
            if wait is None or not is_throttling(error):
                raise
            sleep(wait)
    raise AssertionError("unreachable")


def client_config(max_attempts=10, retry_mode="adaptive", connect_timeout=10, read_timeout=60, max_pool_connections=10):
    """botocore Config shared by every client: retries, per-call timeouts and the keel user agent."""
    return botocore.config.Config(
        retries={"mode": retry_mode, "total_max_attempts": max_attempts},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_pool_connections=max_pool_connections,
        user_agent_extra=USER_AGENT_EXTRA,
    )


def parse_timestamp(value):
    """botocore's timestamp parser, with ISO 8601 (what AWS sends) parsed by the standard library.

    botocore parses every timestamp with dateutil, which is most of the client's CPU time when it
    reads thousands of instances; datetime.fromisoformat gives the same aware datetime far faster.
    """
    if isinstance(value, str):
        try:
            return datetime.datetime.fromisoformat(value)
        except ValueError:  # before Python 3.11 'Z' is refused; other formats are rare
            pass
    return botocore.utils.parse_timestamp(value)


def session(profile=None, access_key=None, secret_key=None, session_token=None, region=None):
    """A boto3 Session from explicit values, else the profile, else the AWS environment."""
    if access_key or secret_key:
        boto_session = boto3.session.Session(
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            aws_session_token=session_token,
            region_name=region,
        )
    else:
        boto_session = boto3.session.Session(profile_name=profile or None, region_name=region)
    parsers = boto_session._session.get_component("response_parser_factory")
    parsers.set_parser_defaults(timestamp_parser=parse_timestamp)
    return boto_session


def _configured_region(boto_session, region):
    return region or os.environ.get("AWS_REGION") or boto_session.region_name


def region_name(boto_session, region=None):
    """The region of regional calls: `region`, else AWS_REGION, else botocore's chain (AWS_DEFAULT_REGION,
    the profile's region), as amazon.aws modules resolve it; NoRegionError when none gives one.

    botocore itself reads only AWS_DEFAULT_REGION, but AWS_REGION is what the other SDKs and the
    AWS CLI v2 set, so users expect it to count.
    """
    found = _configured_region(boto_session, region)
    if not found:
        raise botocore.exceptions.NoRegionError()
    return found


def client(boto_session, service, region=None, endpoint_url=None, config=None, credentials=None):
    """The one place a boto3 client is made; `credentials` are temporary ones from assume_role_credentials.

    Without a region from region_name(), global services (STS, Cost Explorer) use their global
    endpoint and regional ones raise NoRegionError.
    """
    keys = {}
    if credentials:
        keys = {
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials.get("SessionToken"),
        }
    return boto_session.client(
        service,
        region_name=_configured_region(boto_session, region),
        endpoint_url=endpoint_url or None,
        config=config or client_config(),
        **keys,
    )


def assume_role_credentials(sts_client, role_arn, session_name="keel-platform", external_id=None, duration=3600):
    """Temporary credentials of role_arn (AccessKeyId, SecretAccessKey, SessionToken, Expiration)."""
    params = {"RoleArn": role_arn, "RoleSessionName": session_name, "DurationSeconds": duration}
    if external_id:
        params["ExternalId"] = external_id
    return call_with_backoff(sts_client.assume_role, **params)["Credentials"]


def paginate(boto_client, operation, retries=3, page_size=None, sleep=time.sleep, **params):
    """Yield the pages of a List/Describe paginator.

    A throttling error that outlasted botocore's retries restarts the paginator from the last
    page it returned (its resume token) after a jittered wait, up to `retries` times.
    """
    paginator = boto_client.get_paginator(operation)
    waits = backoff_delays(retries)
    token = None
    while True:
        config = {"PageSize": page_size} if page_size else {}
        if token:
            config["StartingToken"] = token
        pages = paginator.paginate(PaginationConfig=config, **params)
        try:
            for page in pages:
                yield page
                token = pages.resume_token
            return
        except botocore.exceptions.ClientError as error:
            if not waits or not is_throttling(error):
                raise
            sleep(waits.pop(0))


def credential_sources(boto_session, environ=None):
    """The places botocore's credential chain looked in, in its order, each with what it found there.

    Read from the session's own provider chain and configuration, so the list follows botocore.
    """
    environ = os.environ if environ is None else environ
    core = boto_session._session
    profile = core.profile or "default"
    credentials_file = os.path.expanduser(core.get_config_variable("credentials_file"))
    config_file = os.path.expanduser(core.get_config_variable("config_file"))

    def state(path):
        return "" if os.path.exists(path) else ", absent"

    described = {
        "env": "environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (not set)",
        "assume-role": f"a role_arn of profile {profile!r}",
        "assume-role-with-web-identity": "web identity (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN, or the profile)",
        "sso": f"AWS IAM Identity Center (SSO) settings of profile {profile!r}",
        "shared-credentials-file": (
            f"shared credentials file {credentials_file} (profile {profile!r}{state(credentials_file)})"
        ),
        "login": f"an aws login session of profile {profile!r}",
        "custom-process": f"a credential_process of profile {profile!r}",
        "config-file": f"config file {config_file} (profile {profile!r}{state(config_file)})",
        "ec2-credentials-file": "the legacy AWS_CREDENTIAL_FILE (not set)",
        "boto-config": "boto2 configuration files (/etc/boto.cfg, ~/.boto)",
        "container-role": "container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI not set)",
        "iam-role": (
            "instance metadata (disabled by AWS_EC2_METADATA_DISABLED)"
            if str(environ.get("AWS_EC2_METADATA_DISABLED", "")).lower() == "true"
            else "instance metadata (no instance role answered)"
        ),
    }
    resolver = core.get_component("credential_provider")
    names = [getattr(provider, "METHOD", type(provider).__name__) for provider in resolver.providers]
    return [described[name] for name in names if name in described]


def missing_credentials_message(boto_session, environ=None):
    """What to say when botocore's chain found no credentials: every source it tried, and what to set."""
    return (
        "no AWS credentials found; botocore looked in: "
        + "; ".join(credential_sources(boto_session, environ))
        + ". Set profile (AWS_PROFILE), access_key/secret_key (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), or run"
        " where an instance or container role is available"
    )
