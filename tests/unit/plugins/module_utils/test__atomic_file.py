from __future__ import annotations

import os

import pytest
from ansible_collections.keel.platform.plugins.module_utils import _atomic_file
from ansible_collections.keel.platform.plugins.module_utils._atomic_file import write_atomic


@pytest.mark.parametrize(("text", "content"), [("keel 1\n", b"keel 1\n"), (b"\x89PNG\x00", b"\x89PNG\x00")])
def test_text_or_bytes_land_whole_with_the_mode_and_no_temporary_file(tmp_path, text, content):
    path = tmp_path / "new" / "dir" / "metrics.prom"
    write_atomic(str(path), text, mode=0o640)
    assert path.read_bytes() == content
    assert path.stat().st_mode & 0o777 == 0o640
    assert os.listdir(path.parent) == ["metrics.prom"]


def test_the_file_is_replaced_by_a_rename_not_rewritten_in_place(tmp_path):
    path = tmp_path / "report.md"
    path.write_text("old\n")
    reader = path.open()  # a reader holding the old file keeps reading the old content
    write_atomic(str(path), "new\n")
    assert reader.read() == "old\n"
    reader.close()
    assert path.read_text() == "new\n"
    assert path.stat().st_mode & 0o777 == 0o644


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "report.md"
    path.write_text("old\n")

    def refuse(source, destination):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_atomic_file.os, "replace", refuse)
    with pytest.raises(OSError, match="No space left"):
        write_atomic(str(path), "new\n")
    assert path.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["report.md"]


def test_a_relative_path_is_written_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_atomic("plain.txt", "x")
    assert (tmp_path / "plain.txt").read_text() == "x"
