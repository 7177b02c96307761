# Start one runner instance of keel-runner@.service (systemd passes the
# instance name). A registered runner is started as it is; an ephemeral
# runner first gets a just-in-time configuration from GitHub with the
# credential systemd decrypted into $CREDENTIALS_DIRECTORY, so it takes one
# job, exits, and the unit's Restart=always brings the next one.
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _github as gh  # noqa: E402 - installed next to this file by the ci_runner role

CONFIG_DIR = "/etc/keel/ci_runner"


def credential(name):
    directory = os.environ.get("CREDENTIALS_DIRECTORY", "")
    try:
        with open(os.path.join(directory, name), encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None


def jit_config(config):
    secret = credential("github")
    if not secret:
        raise gh.GitHubError("No GitHub credential: LoadCredentialEncrypted=github is missing from the unit.")
    client = gh.GitHubClient(config["api_url"])
    if config.get("app_id"):
        installation = config.get("app_installation_id") or None
        gh.authenticate(client, config["scope"], app_id=config["app_id"], app_private_key=secret,
                        app_installation_id=installation)
    else:
        gh.authenticate(client, config["scope"], token=secret.strip())
    # A runner of this name left behind by a crash would make GitHub refuse the new one.
    for runner in gh.list_runners(client, config["scope"]):
        if runner["name"] == config["name"] and runner.get("status") != "online":
            gh.delete_runner(client, config["scope"], runner["id"])
    answer = gh.generate_jitconfig(client, config["scope"], config["name"], config["group_id"], config["labels"],
                                   config["work_folder"])
    return answer["encoded_jit_config"]


def main():
    with open(os.path.join(CONFIG_DIR, sys.argv[1] + ".json"), encoding="utf-8") as handle:
        config = json.load(handle)
    os.chdir(config["directory"])
    args = ["./run.sh"]
    if config["ephemeral"]:
        try:
            args += ["--jitconfig", jit_config(config)]
        except gh.GitHubError as error:
            print(f"keel-runner: {error}", file=sys.stderr)
            sys.exit(1)
    os.execv(args[0], args)


main()
