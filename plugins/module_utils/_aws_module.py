# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWS connection options of keel.platform modules (doc fragment keel.platform.aws) and their clients."""

from __future__ import annotations

import threading

from ansible_collections.keel.platform.plugins.module_utils import _aws


def aws_argument_spec(**extra):
    """The argument spec of doc fragment keel.platform.aws, plus the module's own options."""
    spec = {
        "profile": {"type": "str", "aliases": ["aws_profile"]},
        "access_key": {"type": "str", "aliases": ["aws_access_key_id"], "no_log": True},
        "secret_key": {"type": "str", "aliases": ["aws_secret_access_key"], "no_log": True},
        "session_token": {"type": "str", "aliases": ["aws_session_token"], "no_log": True},
        "region": {"type": "str"},
        "endpoint_url": {"type": "str", "aliases": ["aws_endpoint_url"]},
        "max_attempts": {"type": "int", "default": 10},
        "retry_mode": {"type": "str", "choices": ["adaptive", "standard"], "default": "adaptive"},
        "connect_timeout": {"type": "float", "default": 10},
        "read_timeout": {"type": "float", "default": 60},
    }
    spec.update(extra)
    return spec


class Clients:
    """client(service, region) -> a cached boto3 client built by module_utils/_aws.py from module params."""

    def __init__(self, params, pool=10):
        self.params = params
        self.session = _aws.session(
            profile=params.get("profile"),
            access_key=params.get("access_key"),
            secret_key=params.get("secret_key"),
            session_token=params.get("session_token"),
            region=params.get("region"),
        )
        self.config = _aws.client_config(
            max_attempts=params["max_attempts"],
            retry_mode=params["retry_mode"],
            connect_timeout=params["connect_timeout"],
            read_timeout=params["read_timeout"],
            max_pool_connections=pool,
        )
        self._cache = {}
        self._lock = threading.Lock()

    def region(self):
        """The region of the options, else AWS_REGION, else botocore's chain; NoRegionError when none."""
        return _aws.region_name(self.session, self.params.get("region"))

    def __call__(self, service, region=None):
        key = (service, region or self.params.get("region"))
        with self._lock:
            if key not in self._cache:
                self._cache[key] = _aws.client(
                    self.session,
                    service,
                    region=key[1],
                    endpoint_url=self.params.get("endpoint_url"),
                    config=self.config,
                )
            return self._cache[key]

    def account_id(self, region=None):
        """The caller's account, from STS in `region` (a region the module reads, so one that works)."""
        return _aws.call_with_backoff(self("sts", region).get_caller_identity)["Account"]
