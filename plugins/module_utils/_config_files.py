# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure planning for keel.platform.config_files: what a file should contain.

Private to the collection (leading underscore): free to change between releases.
"""

from __future__ import annotations

import re

MODES = ("file", "directory", "absent")


def _setting_patterns(key):
    escaped = re.escape(key)
    active = re.compile(r"^[ \t]*" + escaped + r"(?=[ \t]*=|[ \t]|$)", re.MULTILINE)
    commented = re.compile(r"^[ \t]*#[ \t]*" + escaped + r"(?=[ \t]*=|[ \t]|$)", re.MULTILINE)
    return active, commented


def edit_settings(text, settings, separator=" = "):
    """Return text with each KEY set to VALUE, one "KEY<separator>VALUE" line per key.

    The first active line for a key is replaced and later active duplicates are
    removed, so the setting cannot be overridden further down; without an active
    line, the first commented-out one is replaced; otherwise the line is appended.
    """
    lines = text.splitlines()
    for key in sorted(settings):
        wanted = f"{key}{separator}{settings[key]}"
        active, commented = _setting_patterns(key)
        hits = [i for i, line in enumerate(lines) if active.match(line)]
        if hits:
            lines[hits[0]] = wanted
            for index in reversed(hits[1:]):
                del lines[index]
            continue
        hits = [i for i, line in enumerate(lines) if commented.match(line)]
        if hits:
            lines[hits[0]] = wanted
        else:
            lines.append(wanted)
    return "\n".join(lines) + "\n" if lines else ""


def desired_content(entry, current):
    """Return the text the file must hold, or None when only attributes are managed.

    current is the file's text, or None when it does not exist.
    """
    if entry.get("content") is not None:
        return entry["content"]
    if entry.get("settings"):
        if current is None:
            return None
        return edit_settings(current, entry["settings"], entry.get("separator") or " = ")
    return None


def validate_entry(entry):
    """Return a message for an entry that cannot be applied, or None."""
    path = entry.get("path") or ""
    if not path.startswith("/"):
        return f"path {path!r} must be absolute"
    state = entry.get("state") or "file"
    if state not in MODES:
        return f"{path}: state must be one of {', '.join(MODES)}, not {state!r}"
    if entry.get("content") is not None and entry.get("settings"):
        return f"{path}: content and settings are mutually exclusive"
    if state != "file" and (entry.get("content") is not None or entry.get("settings")):
        return f"{path}: content and settings need state=file"
    if entry.get("validate") and "%s" not in entry["validate"]:
        return f"{path}: validate must contain %s, the path of the candidate file"
    return None
