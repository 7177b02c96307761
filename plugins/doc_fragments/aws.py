# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The AWS connection options every keel.platform module and plugin shares (module_utils/_aws.py).
    DOCUMENTATION = r"""
options:
  profile:
    description:
      - The AWS profile (from the shared credentials and config files) to use.
      - Ignored when O(access_key) and O(secret_key) are given.
    type: str
    aliases: [aws_profile]
  access_key:
    description: AWS access key id. Without it, boto3's usual credential chain applies.
    type: str
    aliases: [aws_access_key_id]
  secret_key:
    description: AWS secret access key.
    type: str
    aliases: [aws_secret_access_key]
  session_token:
    description: AWS session token, for temporary credentials.
    type: str
    aliases: [aws_session_token]
  region:
    description:
      - The region of global calls (STS, Organizations, region discovery) and, in modules, of
        regional calls that name no other region.
      - Modules have no default, as amazon.aws modules do not; without O(region) the region comes
        from E(AWS_REGION), else botocore's chain (E(AWS_DEFAULT_REGION), then the profile's
        C(region)). Without any of them a module that needs a region fails saying what to set.
      - Inventory plugins default to V(us-east-1).
    type: str
  endpoint_url:
    description:
      - Send every AWS call to this URL instead of AWS's own endpoints, for example a test server.
    type: str
    aliases: [aws_endpoint_url]
  max_attempts:
    description:
      - Attempts botocore makes per call (the first one included) before giving up on a retryable
        error; throttling that outlasts them is retried with jittered backoff a few more times.
    type: int
    default: 10
  retry_mode:
    description:
      - botocore retry mode. V(adaptive) adds client-side rate limiting when AWS throttles.
    type: str
    choices: [adaptive, standard]
    default: adaptive
  connect_timeout:
    description: Seconds to wait for a connection to an AWS endpoint, per call.
    type: float
    default: 10
  read_timeout:
    description: Seconds to wait for an answer from an AWS endpoint, per call.
    type: float
    default: 60
notes:
  - Credentials come from O(access_key) and O(secret_key), else O(profile), else boto3's chain
    (environment variables, shared files, instance or container role).
requirements:
  - boto3 >= 1.28
  - botocore >= 1.31
"""

    # Plugins (unlike modules) may also read options from the environment.
    PLUGINS = r"""
options:
  profile:
    env:
      - name: AWS_PROFILE
  access_key:
    env:
      - name: AWS_ACCESS_KEY_ID
  secret_key:
    env:
      - name: AWS_SECRET_ACCESS_KEY
  session_token:
    env:
      - name: AWS_SESSION_TOKEN
  endpoint_url:
    env:
      - name: AWS_ENDPOINT_URL
  region:
    default: us-east-1
"""
