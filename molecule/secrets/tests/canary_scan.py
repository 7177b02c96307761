"""Runs inside a test container: where do the canaries occur? (see test_secrets.py)

python3 -c "$(cat canary_scan.py)" '{"label": "canary", ...}' ROOT...

prints JSON: {"files": [[label, path, mode], ...], "journal": [[label, unit, excerpt], ...]}
for every regular file under the ROOTs (not crossing into other file systems,
whatever its mode: the caller judges the mode) and every entry of the whole
journal that holds a canary.
"""

import json
import os
import stat
import subprocess
import sys

canaries = {label: value.encode() for label, value in json.loads(sys.argv[1]).items()}


def hits(data):
    return [label for label, value in canaries.items() if value in data]


files = []
for root in filter(os.path.isdir, sys.argv[2:]):  # /home may be missing
    device = os.lstat(root).st_dev
    for directory, subdirs, names in os.walk(root):
        subdirs[:] = [d for d in subdirs if os.lstat(os.path.join(directory, d)).st_dev == device]
        for name in names:
            path = os.path.join(directory, name)
            info = os.lstat(path)
            if not stat.S_ISREG(info.st_mode):
                continue
            try:
                with open(path, "rb") as handle:
                    data = handle.read()
            except OSError:
                continue
            files += [[label, path, oct(info.st_mode & 0o7777)] for label in hits(data)]

journal = []
export = subprocess.run(["journalctl", "--no-pager", "-o", "export"], capture_output=True, check=True).stdout
for entry in export.split(b"\n\n"):
    for label in hits(entry):
        fields = dict(line.split(b"=", 1) for line in entry.split(b"\n") if b"=" in line)
        unit = (fields.get(b"_SYSTEMD_UNIT") or fields.get(b"SYSLOG_IDENTIFIER") or b"?").decode(errors="replace")
        at = entry.find(canaries[label])
        journal.append([label, unit, entry[max(0, at - 200) : at].decode(errors="replace")])

print(json.dumps({"files": files, "journal": journal, "journal_bytes": len(export)}))
