from __future__ import annotations

import pytest
from ansible_collections.keel.platform.plugins.module_utils._config_files import (
    desired_content,
    edit_settings,
    validate_entry,
)


@pytest.mark.parametrize(
    ("text", "settings", "separator", "expected"),
    [
        ("a = 1\nb = 2\n", {"a": 5}, " = ", "a = 5\nb = 2\n"),
        ("a=1\n", {"a": 5}, "=", "a=5\n"),
        ("# a = 1\nb = 2\n", {"a": 5}, " = ", "a = 5\nb = 2\n"),
        ("b = 2\n", {"a": 5}, " = ", "b = 2\na = 5\n"),
        ("a = 1\nx\na = 3\n", {"a": 5}, " = ", "a = 5\nx\n"),  # a later duplicate would win: removed
        ("# a = 0\na = 1\n", {"a": 5}, " = ", "# a = 0\na = 5\n"),  # active line beats the comment
        ("ab = 1\n", {"a": 5}, " = ", "ab = 1\na = 5\n"),  # a longer key is another key
        ("PASS_MAX_DAYS\t99999\n", {"PASS_MAX_DAYS": 365}, "\t", "PASS_MAX_DAYS\t365\n"),
        ("  UMASK 022\n", {"UMASK": "027"}, "\t", "UMASK\t027\n"),
        ("", {"a": 1}, " = ", "a = 1\n"),
        ("a = 1\n", {}, " = ", "a = 1\n"),
    ],
)
def test_edit_settings(text, settings, separator, expected):
    assert edit_settings(text, settings, separator) == expected


def test_edit_settings_is_idempotent():
    once = edit_settings("# x = 1\ny = 2\n", {"x": 3, "z": 4})
    assert edit_settings(once, {"x": 3, "z": 4}) == once


@pytest.mark.parametrize(
    ("entry", "current", "expected"),
    [
        ({"content": "new\n"}, "old\n", "new\n"),
        ({"content": "new\n"}, None, "new\n"),
        ({"settings": {"a": 1}}, "a = 0\n", "a = 1\n"),
        ({"settings": {"a": 1}}, None, None),  # settings never create a file
        ({"mode": "0600"}, "x\n", None),  # attributes only
    ],
)
def test_desired_content(entry, current, expected):
    assert desired_content(entry, current) == expected


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"path": "/etc/x", "state": "file", "content": "x"}, None),
        ({"path": "etc/x", "state": "file"}, "must be absolute"),
        ({"path": "/etc/x", "state": "link"}, "state must be one of"),
        ({"path": "/etc/x", "state": "file", "content": "x", "settings": {"a": 1}}, "mutually exclusive"),
        ({"path": "/etc/x", "state": "absent", "content": "x"}, "need state=file"),
        ({"path": "/etc/x", "state": "file", "content": "x", "validate": "sshd -t -f"}, "must contain %s"),
    ],
)
def test_validate_entry(entry, problem):
    message = validate_entry(entry)
    if problem is None:
        assert message is None
    else:
        assert problem in message
