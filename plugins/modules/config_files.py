#!/usr/bin/python
# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: config_files
short_description: Converge many configuration files in one pass
version_added: 0.1.0
description:
  - Writes whole files, sets C(KEY=VALUE) lines inside existing files, creates directories, removes
    files and sets owner, group and mode, for a whole list of paths in one module run.
  - A role that manages dozens of small files pays one remote round trip instead of one per file,
    which is most of the time of a no-change run.
  - Each new content is checked with O(files[].validate) on a candidate copy before anything is
    written; if any check fails, no file is changed. Files are replaced atomically.
  - Parent directories of written files are created (root, mode 0755) when missing.
author:
  - Keel platform team (@keel-platform)
attributes:
  check_mode:
    description: Reports every file that would change, and how, without writing.
    support: full
  diff_mode:
    description:
      - Returns the content diff of each changed file and the attribute changes, only in diff mode
        (C(--diff) and not the task keyword C(diff) false).
    support: full
options:
  files:
    description: The files, in the order they are applied.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Absolute path.
        type: path
        required: true
      state:
        description:
          - V(file) writes O(files[].content) or edits O(files[].settings); with neither, only the
            attributes of an existing file are set (a missing one is left missing).
          - V(directory) creates the directory. V(absent) removes a file.
        type: str
        choices: [file, directory, absent]
        default: file
      content:
        description: The whole content of the file.
        type: str
      settings:
        description:
          - Keys and values set inside an existing file, one C(KEY<separator>VALUE) line each.
          - An active line for the key is replaced (later duplicates removed), else a commented-out
            one, else the line is appended. A missing file is left missing.
        type: dict
      separator:
        description: What stands between key and value in O(files[].settings) lines.
        type: str
        default: " = "
      owner:
        description: Owner name.
        type: str
      group:
        description: Group name.
        type: str
      mode:
        description: Mode, as an octal string such as V("0644").
        type: str
      validate:
        description: Command run on the candidate file before it is installed; C(%s) is its path.
        type: str
notes:
  - Runs on the managed host; needs nothing beyond Python's standard library.
seealso:
  - module: ansible.builtin.template
  - module: ansible.builtin.lineinfile
"""

EXAMPLES = r"""
- name: Write the SSH daemon configuration and tune auditd in one pass
  keel.platform.config_files:
    files:
      - path: /etc/ssh/sshd_config
        content: "{{ lookup('ansible.builtin.template', 'sshd_config.j2') }}"
        mode: "0600"
        validate: /usr/sbin/sshd -t -f %s
      - path: /etc/audit/auditd.conf
        settings:
          max_log_file: 32
          num_logs: 8
      - path: /etc/shadow
        owner: root
        group: shadow
        mode: "0640"
      - path: /etc/cron.deny
        state: absent
  register: config
  notify: Reload sshd
"""

RETURN = r"""
changed_paths:
  description: Paths that were changed (or would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [/etc/ssh/sshd_config]
files:
  description: One result per entry, in order.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The path.
      type: str
    changed:
      description: Whether it changed.
      type: bool
    skipped:
      description: Why nothing was done, for settings or attributes of a missing file.
      type: str
      returned: when skipped
"""

import os
import shlex
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible_collections.keel.platform.plugins.module_utils._config_files import desired_content, validate_entry


def _read(path):
    try:
        with open(path, "rb") as handle:
            return to_text(handle.read(), errors="surrogate_or_strict")
    except FileNotFoundError:
        return None


def _rejection(module, entry, content):
    """Run the entry's validate command on a candidate copy; return its complaint or None."""
    directory = os.path.dirname(entry["path"])
    fd, candidate = tempfile.mkstemp(prefix=".keel-", dir=directory if os.path.isdir(directory) else None)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(to_bytes(content, errors="surrogate_or_strict"))
        command = [part.replace("%s", candidate) for part in shlex.split(entry["validate"])]
        rc, out, err = module.run_command(command)
    finally:
        os.unlink(candidate)
    if rc == 0:
        return None
    return f"{entry['path']}: '{entry['validate']}' rejected the new content (exit {rc}): {(err or out).strip()}"


def _make_directories(path):
    """Create path and its missing parents with mode 0755 whatever the umask.

    A hardened host's umask (027) reaches become sessions; directories made under it would keep
    every other user (a runner, an exporter) out of the files below them.
    """
    missing = []
    while path and not os.path.isdir(path):
        missing.append(path)
        path = os.path.dirname(path)
    for directory in reversed(missing):
        os.makedirs(directory, exist_ok=True)
        os.chmod(directory, 0o755)  # noqa: S103 - readable, not writable, by others: the point


def _write(module, path, content):
    """Write content next to path and move it into place atomically, keeping owner and mode."""
    parent = os.path.dirname(path)
    _make_directories(parent)
    fd, candidate = tempfile.mkstemp(prefix=".keel-", dir=parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(to_bytes(content, errors="surrogate_or_strict"))
        if os.path.exists(path):
            stat = os.stat(path)
            os.chown(candidate, stat.st_uid, stat.st_gid)
            os.chmod(candidate, stat.st_mode & 0o7777)
        else:
            os.chmod(candidate, 0o644)
        module.atomic_move(candidate, path, unsafe_writes=False)
    finally:
        if os.path.exists(candidate):
            os.unlink(candidate)


def _apply_attributes(module, entry, changed, diffs):
    path = entry["path"]
    if not os.path.lexists(path):
        # Only in check mode: the file would have been created with these attributes.
        return changed
    diff = {"before": {"path": path}, "after": {"path": path}}
    changed = module.set_owner_if_different(path, entry.get("owner"), changed, diff)
    changed = module.set_group_if_different(path, entry.get("group"), changed, diff)
    changed = module.set_mode_if_different(path, entry.get("mode"), changed, diff)
    if len(diff["before"]) > 1:
        diffs.append(diff)
    return changed


def _plan(module, entry):
    """Return (current, wanted) text for a file entry; wanted is None when only attributes count."""
    if entry["state"] != "file":
        return None, None
    if entry.get("content") is None and not entry.get("settings"):
        # Attributes only: whatever is there (a file or a directory) keeps its content.
        return (None if not os.path.lexists(entry["path"]) else ""), None
    if os.path.isdir(entry["path"]):
        module.fail_json(msg=f"Nothing was changed: {entry['path']} is a directory, not a file")
    current = _read(entry["path"])
    return current, desired_content(entry, current)


def _converge(module, entry, plan, diffs):
    path, state = entry["path"], entry["state"]
    current, wanted = plan
    result = {"path": path, "changed": False}
    if state == "absent":
        if os.path.isdir(path) and not os.path.islink(path):
            module.fail_json(msg=f"{path} is a directory; config_files removes files only", path=path)
        if os.path.lexists(path):
            result["changed"] = True
            diffs.append({"before": {"path": path, "state": "file"}, "after": {"path": path, "state": "absent"}})
            if not module.check_mode:
                os.unlink(path)
        return result
    if state == "directory":
        if not os.path.isdir(path):
            result["changed"] = True
            diffs.append({"before": {"path": path, "state": "absent"}, "after": {"path": path, "state": "directory"}})
            if not module.check_mode:
                _make_directories(path)
    elif wanted is None and current is None:
        result["skipped"] = "does not exist"
        return result
    elif wanted is not None and wanted != current:
        result["changed"] = True
        diffs.append({"before_header": path, "after_header": path, "before": current or "", "after": wanted})
        if not module.check_mode:
            _write(module, path, wanted)
    result["changed"] = _apply_attributes(module, entry, result["changed"], diffs)
    return result


def main():
    module = AnsibleModule(
        argument_spec={
            "files": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {
                    "path": {"type": "path", "required": True},
                    "state": {"type": "str", "choices": ["file", "directory", "absent"], "default": "file"},
                    "content": {"type": "str"},
                    "settings": {"type": "dict"},
                    "separator": {"type": "str", "default": " = "},
                    "owner": {"type": "str"},
                    "group": {"type": "str"},
                    "mode": {"type": "str"},
                    "validate": {"type": "str"},
                },
                "mutually_exclusive": [["content", "settings"]],
            },
        },
        supports_check_mode=True,
    )
    entries = module.params["files"]
    problems = [problem for problem in map(validate_entry, entries) if problem]
    if problems:
        module.fail_json(msg="Nothing was changed: " + "; ".join(problems))

    plans = [_plan(module, entry) for entry in entries]
    # Every candidate is checked before anything is written, so a rejected file
    # leaves the whole set as it was.
    rejections = [
        _rejection(module, entry, wanted)
        for entry, (current, wanted) in zip(entries, plans)
        if entry.get("validate") and wanted is not None and wanted != current
    ]
    rejections = [message for message in rejections if message]
    if rejections:
        module.fail_json(msg="Nothing was changed: " + "; ".join(rejections))

    results, diffs = [], []
    for entry, plan in zip(entries, plans):
        try:
            results.append(_converge(module, entry, plan, diffs))
        except OSError as exc:
            module.fail_json(msg=f"Could not converge {entry['path']}: {exc.strerror or exc}", files=results)

    changed_paths = [result["path"] for result in results if result["changed"]]
    # Only in diff mode: callbacks print any `diff` a result carries once the run has --diff,
    # even for a task with `diff: false` (a file holding secrets).
    extra = {"diff": diffs} if module._diff else {}
    module.exit_json(changed=bool(changed_paths), changed_paths=changed_paths, files=results, **extra)


if __name__ == "__main__":
    main()
