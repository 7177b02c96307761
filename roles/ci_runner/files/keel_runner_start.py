# Start one runner instance of keel-runner@.service (systemd passes the
# instance name). A registered runner is started as it is. An ephemeral runner
# needs a one-job (just-in-time) configuration from GitHub before each start:
# the unit's privileged ExecStartPre runs this with --prepare, which decrypts
# the GitHub credential with systemd-creds (it is stored encrypted with the
# host key), fetches the configuration and leaves it in the unit's runtime
# directory (tmpfs, readable by the runner user only); the unprivileged
# ExecStart then consumes it. After its job the runner exits and Restart=always
# brings the next one.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _github as gh  # installed next to this file by the ci_runner role
import keel_runner_github as host

RUNTIME_DIR = "/run/keel-runner"


def jit_config(config):
    client = host.client(config)
    # A runner of this name left behind by a crash would make GitHub refuse the new one.
    for runner in gh.list_runners(client, config["scope"]):
        if runner["name"] == config["name"] and runner.get("status") != "online":
            gh.delete_runner(client, config["scope"], runner["id"])
    answer = gh.generate_jitconfig(
        client, config["scope"], config["name"], config["group_id"], config["labels"], config["work_folder"]
    )
    return answer["encoded_jit_config"]


def prepare(instance, config):
    directory = os.path.join(RUNTIME_DIR, instance)
    owner = os.stat(directory)
    path = os.path.join(directory, "jitconfig")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(jit_config(config))
    os.chown(path, owner.st_uid, owner.st_gid)


def take_jit_config(instance):
    path = os.path.join(RUNTIME_DIR, instance, "jitconfig")
    with open(path, encoding="utf-8") as handle:
        encoded = handle.read()
    os.remove(path)
    return encoded


def main():
    preparing = sys.argv[1] == "--prepare"
    instance = sys.argv[-1]
    config = host.load_config(instance)
    try:
        if preparing:
            prepare(instance, config)
            return
        args = ["./run.sh"]
        if config["ephemeral"]:
            args += ["--jitconfig", take_jit_config(instance)]
    except (gh.GitHubError, OSError) as error:
        print(f"keel-runner: {error}", file=sys.stderr)
        sys.exit(1)
    os.chdir(config["directory"])
    os.execv(args[0], args)  # noqa: S606 - run.sh replaces this helper as the unit's main process


main()
