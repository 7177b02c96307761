# What the runner host's helpers (keel_runner_start.py, keel_runner_state.py)
# share: the ci_runner role's per-runner configuration files and a GitHub
# client authenticated with the credential the role stored encrypted with
# systemd's host key (decrypted in memory, never written in clear).
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _github as gh  # installed next to this file by the ci_runner role

CONFIG_DIR = "/etc/keel/ci_runner"
CREDENTIAL = os.path.join(CONFIG_DIR, "github.cred")


def load_config(instance):
    with open(os.path.join(CONFIG_DIR, instance + ".json"), encoding="utf-8") as handle:
        return json.load(handle)


def instances():
    """The runner instances the role configured on this host, in the role's order."""
    names = [name[: -len(".json")] for name in os.listdir(CONFIG_DIR) if name.endswith(".json")]
    return sorted(names)


def decrypt_credential():
    result = subprocess.run(
        ["systemd-creds", "decrypt", "--name=github", CREDENTIAL, "-"], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise gh.GitHubError(f"Cannot decrypt {CREDENTIAL} with systemd-creds: {result.stderr.strip()}")
    return result.stdout


def client(config):
    """A GitHub client for the runner's scope, authenticated as the role's token or App."""
    secret = decrypt_credential()
    github = gh.GitHubClient(config["api_url"])
    if config.get("app_id"):
        gh.authenticate(
            github,
            config["scope"],
            app_id=config["app_id"],
            app_private_key=secret,
            app_installation_id=config.get("app_installation_id") or None,
        )
    else:
        gh.authenticate(github, config["scope"], token=secret.strip())
    return github
