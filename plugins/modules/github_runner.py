#!/usr/bin/python
# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: github_runner
short_description: Register, relabel, deregister and sweep self-hosted GitHub Actions runners
version_added: 0.1.0
description:
  - Runs on the runner host. Reads B(every) page of the scope's runners (C(per_page=100), following
    the C(Link) header), so an existing registration is always found and a second run registers
    nothing.
  - With O(state=present) a runner directory already registered under O(name) is kept, its custom
    labels updated in place when they differ; an unregistered directory is configured with the
    release's C(config.sh). An B(offline) runner of the same name that is not this directory's is
    deleted and replaced; an B(online) one is a conflict and fails.
  - With O(state=absent) it waits until GitHub shows the runner idle (at most O(wait_timeout)
    seconds), stops O(service), then deregisters it.
  - With O(state=swept) it deletes the offline runners whose name starts with O(name_prefix) and
    that are not listed in O(keep).
  - With O(ephemeral=true), O(state=present) only checks the credential and resolves the runner
    group, because ephemeral runners register themselves just in time (C(generate-jitconfig)) before each job.
  - Retries server errors and rate limits with backoff; a refused credential or an unreachable API
    fails with a message that names the cause and the URL.
author:
  - Keel platform team (@keel-platform)
attributes:
  check_mode:
    description: Reads GitHub and reports what would change; registers, relabels and deletes nothing.
    support: full
  diff_mode:
    description: Returns the runner's registration and labels before and after.
    support: full
options:
  api_url:
    description: GitHub REST API root; for GitHub Enterprise Server C(https://HOST/api/v3).
    type: str
    default: https://api.github.com
  github_url:
    description:
      - The web root that C(config.sh --url) takes the scope under.
      - Defaults to V(https://github.com) for the public API, else O(api_url) without C(/api/v3).
    type: str
  scope:
    description: Where runners register.
    type: str
    choices: [repo, org, enterprise]
    required: true
  target:
    description: C(owner/repository), the organisation, or the enterprise slug.
    type: str
    required: true
  token:
    description: Personal access token (classic or fine-grained) with the runner administration permission.
    type: str
  app_id:
    description: GitHub App ID (or client ID) to authenticate as, with O(app_private_key).
    type: str
  app_private_key:
    description: The App's PEM private key. Needs the C(cryptography) package on the host.
    type: str
  app_installation_id:
    description: The App's installation ID; looked up from the scope when omitted.
    type: int
  registration_token:
    description:
      - A registration token made beforehand. Without O(token) or an App nothing can be listed, so
        a directory already configured is kept as it is and labels are not checked.
    type: str
  state:
    description: See the description.
    type: str
    choices: [present, absent, swept]
    default: present
  name:
    description: Runner name. Required unless O(state=swept).
    type: str
  labels:
    description: Custom labels (GitHub adds C(self-hosted), the OS and the architecture itself).
    type: list
    elements: str
    default: []
  runner_group:
    description: Runner group (organisation and enterprise scopes).
    type: str
    default: Default
  directory:
    description: The unpacked runner release this runner lives in. Required for O(state=present) unless O(ephemeral).
    type: path
  user:
    description: Unprivileged user that runs C(config.sh) (the runner refuses root).
    type: str
  work_folder:
    description: Work folder, relative to O(directory).
    type: str
    default: _work
  ephemeral:
    description: Just-in-time runner; see the description.
    type: bool
    default: false
  service:
    description: systemd unit of this runner, stopped by O(state=absent) once the runner is idle.
    type: str
  wait_timeout:
    description: Seconds O(state=absent) waits for a busy runner to finish its job before failing.
    type: int
    default: 600
  name_prefix:
    description: O(state=swept) considers only runners whose name starts with this.
    type: str
  keep:
    description: Runner names O(state=swept) never deletes.
    type: list
    elements: str
    default: []
  timeout:
    description: Seconds for each HTTP request.
    type: int
    default: 30
notes:
  - The token goes to C(config.sh) in its environment (C(ACTIONS_RUNNER_INPUT_TOKEN)), not its command line.
seealso:
  - name: REST API endpoints for self-hosted runners
    description: The endpoints this module calls.
    link: https://docs.github.com/en/rest/actions/self-hosted-runners
"""

EXAMPLES = r"""
- name: Register a runner for a repository
  keel.platform.github_runner:
    scope: repo
    target: keel/app
    token: "{{ vault_github_pat }}"
    name: "{{ inventory_hostname }}-1"
    labels: [keel, docker]
    directory: /opt/keel-runner/web-1
    user: keel-runner

- name: Deregister it once idle, as a GitHub App
  keel.platform.github_runner:
    scope: org
    target: keel
    app_id: "123456"
    app_private_key: "{{ vault_github_app_key }}"
    name: "{{ inventory_hostname }}-1"
    directory: /opt/keel-runner/web-1
    service: keel-runner@web-1.service
    state: absent

- name: Remove stale offline runners of this host
  keel.platform.github_runner:
    scope: org
    target: keel
    token: "{{ vault_github_pat }}"
    state: swept
    name_prefix: "{{ inventory_hostname }}-"
    keep: ["{{ inventory_hostname }}-1"]
"""

RETURN = r"""
action:
  description: What was done (or would be, in check mode).
  returned: always
  type: str
  sample: keep
  choices: [keep, relabel, register, replace, deregister, absent, check, sweep]
runner:
  description: The runner as GitHub shows it after the action (V({}) when none or not listable).
  returned: always
  type: dict
  sample: {"id": 42, "name": "web-1", "status": "online", "busy": false, "labels": ["docker", "keel"]}
runner_group_id:
  description: The ID of O(runner_group).
  returned: when O(state=present)
  type: int
  sample: 1
removed:
  description: Names of the runners deleted by O(state=swept).
  returned: when O(state=swept)
  type: list
  elements: str
listed:
  description: How many runners the scope has (every page read).
  returned: when a credential allows listing
  type: int
"""

import json
import os
import time
import traceback

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.keel.platform.plugins.module_utils import _github as gh

PUBLIC_API = "https://api.github.com"


def _summary(runner):
    if not runner:
        return {}
    keys = ("id", "name", "status", "busy")
    return dict({k: runner.get(k) for k in keys}, labels=gh.custom_labels(runner))


def _local_id(directory):
    try:
        with open(os.path.join(directory, ".runner"), encoding="utf-8-sig") as handle:
            return json.load(handle).get("agentId")
    except (FileNotFoundError, NotADirectoryError, TypeError):
        return None
    except ValueError:
        return -1  # a damaged .runner is no registration GitHub knows


class Runner:
    """One module run: the client, the scope and the helpers that touch the host."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.scope = gh.scope_path(self.params["scope"], self.params["target"])
        self.client = gh.GitHubClient(self.params["api_url"], timeout=self.params["timeout"])
        self.can_list = bool(self.params["token"] or self.params["app_id"])
        if self.can_list:
            gh.authenticate(
                self.client,
                self.scope,
                token=self.params["token"],
                app_id=self.params["app_id"],
                app_private_key=self.params["app_private_key"],
                app_installation_id=self.params["app_installation_id"],
            )

    def github_url(self):
        if self.params["github_url"]:
            return self.params["github_url"]
        api = self.params["api_url"].rstrip("/")
        return "https://github.com" if api == PUBLIC_API else api.removesuffix("/api/v3")

    def run_as_user(self, args, token):
        command = ["runuser", "-u", self.params["user"], "--", *args]
        rc, out, err = self.module.run_command(
            command, cwd=self.params["directory"], environ_update={"ACTIONS_RUNNER_INPUT_TOKEN": token}
        )
        if rc != 0:
            self.module.fail_json(msg=f"{args[0]} failed in {self.params['directory']} (rc={rc}): {err or out}")

    def forget_local(self):
        for name in (".runner", ".credentials", ".credentials_rsaparams"):
            path = os.path.join(self.params["directory"], name)
            if os.path.exists(path):
                os.remove(path)

    def configure(self):
        token = self.params["registration_token"] or gh.registration_token(self.client, self.scope)
        labels = ",".join(sorted(set(self.params["labels"])))
        url = gh.registration_url(self.github_url(), self.params["scope"], self.params["target"])
        args = ["./config.sh", "--unattended", "--replace", "--disableupdate", "--url", url, "--name"]
        args += [
            self.params["name"],
            "--work",
            self.params["work_folder"],
            "--runnergroup",
            self.params["runner_group"],
        ]
        if labels:
            args += ["--labels", labels]
        self.run_as_user(args, token)

    def stop_service(self):
        if self.params["service"]:
            rc, out, err = self.module.run_command(["systemctl", "stop", self.params["service"]])
            if rc != 0:
                self.module.fail_json(msg=f"Could not stop {self.params['service']}: {err or out}")

    def wait_idle(self, runner):
        deadline = time.monotonic() + self.params["wait_timeout"]
        while runner and runner.get("busy"):
            if time.monotonic() >= deadline:
                self.module.fail_json(
                    msg=f"Runner {runner['name']} is still running a job after {self.params['wait_timeout']} s; "
                    "nothing was stopped or removed. Run again later or raise the wait timeout.",
                    runner=_summary(runner),
                )
            time.sleep(min(5, max(deadline - time.monotonic(), 0.1)))
            runner = gh.get_runner(self.client, self.scope, runner["id"])
        return runner


def present(ctx):
    params, check = ctx.params, ctx.module.check_mode
    group_id = gh.runner_group_id(ctx.client, ctx.scope, params["runner_group"]) if ctx.can_list else None
    if params["ephemeral"]:
        listed = gh.list_runners(ctx.client, ctx.scope) if ctx.can_list else []
        found = next((r for r in listed if r["name"] == params["name"]), None)
        return False, {"action": "check", "runner": _summary(found), "runner_group_id": group_id, "listed": len(listed)}
    local_id = _local_id(params["directory"])
    if not ctx.can_list:
        if local_id is not None:
            return False, {"action": "keep", "runner": {}, "runner_group_id": group_id}
        if not check:
            ctx.configure()
        return True, {"action": "register", "runner": {}, "runner_group_id": group_id}
    listed = gh.list_runners(ctx.client, ctx.scope)
    action, found = gh.plan_runner(listed, params["name"], params["labels"], local_id)
    if action == "conflict":
        ctx.module.fail_json(
            msg=f"A runner named {params['name']} is online in {ctx.scope} (id {found['id']}) and is not the one "
            f"configured in {params['directory']}. Give this runner another name, or stop and remove that one.",
            runner=_summary(found),
        )
    result = {"action": action, "runner_group_id": group_id, "listed": len(listed), "runner": _summary(found)}
    if action == "keep" or check:
        return action != "keep", result
    if action == "relabel":
        gh.set_labels(ctx.client, ctx.scope, found["id"], sorted(set(params["labels"])))
    else:
        if action == "replace":
            gh.delete_runner(ctx.client, ctx.scope, found["id"])
        ctx.forget_local()
        ctx.configure()
    mine = next(r for r in gh.list_runners(ctx.client, ctx.scope) if r["name"] == params["name"])
    result["runner"] = _summary(mine)
    return True, result


def absent(ctx):
    params, check = ctx.params, ctx.module.check_mode
    local_id = _local_id(params["directory"]) if params["directory"] else None
    listed = gh.list_runners(ctx.client, ctx.scope)
    found = next((r for r in listed if r["id"] == local_id), None)
    found = found or next((r for r in listed if r["name"] == params["name"]), None)
    if found is None and local_id is None:
        return False, {"action": "absent", "runner": {}, "listed": len(listed)}
    if check:
        return True, {"action": "deregister", "runner": _summary(found), "listed": len(listed)}
    found = ctx.wait_idle(found)
    ctx.stop_service()
    if found is not None:
        if local_id == found["id"] and params["user"]:
            ctx.run_as_user(["./config.sh", "remove"], gh.remove_token(ctx.client, ctx.scope))
        else:
            gh.delete_runner(ctx.client, ctx.scope, found["id"])
    if params["directory"] and os.path.isdir(params["directory"]):
        ctx.forget_local()
    return True, {"action": "deregister", "runner": _summary(found), "listed": len(listed)}


def swept(ctx):
    listed = gh.list_runners(ctx.client, ctx.scope)
    stale = gh.plan_sweep(listed, ctx.params["name_prefix"], set(ctx.params["keep"]))
    if not ctx.module.check_mode:
        for runner in stale:
            gh.delete_runner(ctx.client, ctx.scope, runner["id"])
    removed = [r["name"] for r in stale]
    return bool(stale), {"action": "sweep", "runner": {}, "removed": removed, "listed": len(listed)}


def main():
    module = AnsibleModule(
        argument_spec={
            "api_url": {"type": "str", "default": PUBLIC_API},
            "github_url": {"type": "str"},
            "scope": {"type": "str", "required": True, "choices": list(gh.SCOPE_KINDS)},
            "target": {"type": "str", "required": True},
            "token": {"type": "str", "no_log": True},
            "app_id": {"type": "str"},
            "app_private_key": {"type": "str", "no_log": True},
            "app_installation_id": {"type": "int"},
            "registration_token": {"type": "str", "no_log": True},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent", "swept"]},
            "name": {"type": "str"},
            "labels": {"type": "list", "elements": "str", "default": []},
            "runner_group": {"type": "str", "default": "Default"},
            "directory": {"type": "path"},
            "user": {"type": "str"},
            "work_folder": {"type": "str", "default": "_work"},
            "ephemeral": {"type": "bool", "default": False},
            "service": {"type": "str"},
            "wait_timeout": {"type": "int", "default": 600},
            "name_prefix": {"type": "str"},
            "keep": {"type": "list", "elements": "str", "default": []},
            "timeout": {"type": "int", "default": 30},
        },
        mutually_exclusive=[("token", "app_id")],
        required_together=[("app_id", "app_private_key")],
        required_one_of=[("token", "app_id", "registration_token")],
        required_if=[
            ("state", "present", ("name",)),
            ("state", "absent", ("name",)),
            ("state", "absent", ("token", "app_id"), True),
            ("state", "swept", ("name_prefix",)),
            ("state", "swept", ("token", "app_id"), True),
        ],
        supports_check_mode=True,
    )
    params = module.params
    if params["state"] == "present" and not params["ephemeral"] and not (params["directory"] and params["user"]):
        module.fail_json(msg="state=present needs directory and user (the runner release and who runs it).")
    try:
        ctx = Runner(module)
        changed, result = {"present": present, "absent": absent, "swept": swept}[module.params["state"]](ctx)
    except gh.GitHubError as error:
        module.fail_json(msg=str(error), status=error.status, exception=traceback.format_exc())
    if module._diff:
        before = {
            "registered": result["action"] not in ("register", "absent"),
            "labels": result["runner"].get("labels"),
        }
        after = {"registered": module.params["state"] == "present", "labels": sorted(set(module.params["labels"]))}
        result["diff"] = {"before": before, "after": after if changed else before}
    module.exit_json(changed=changed, **result)


if __name__ == "__main__":
    main()
