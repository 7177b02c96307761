"""Unit tests mirror plugins/ file for file: plugins/<type>/<file>.py has tests/unit/plugins/<type>/test_<file>.py."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).parents[2]


def missing_tests(root):
    """The plugins/ files under `root` without their mirrored test file, as paths relative to root."""
    sources = sorted(path for path in (root / "plugins").rglob("*.py") if path.name != "__init__.py")
    return [
        str(source.relative_to(root))
        for source in sources
        if not (root / "tests" / "unit" / source.relative_to(root).parent / f"test_{source.name}").is_file()
    ]


def test_every_plugin_file_has_its_unit_test_file():
    assert missing_tests(ROOT) == [], "write tests/unit/<path>/test_<file>.py for each of these"


def test_a_plugin_file_without_its_test_is_found(tmp_path):
    for path in ("plugins/filter/tested.py", "plugins/filter/untested.py", "plugins/plugin_utils/__init__.py"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("")
    (tmp_path / "tests/unit/plugins/filter").mkdir(parents=True)
    (tmp_path / "tests/unit/plugins/filter/test_tested.py").write_text("")
    (tmp_path / "tests/unit/plugins/test_untested.py").write_text("")  # not where the mirror puts it
    assert missing_tests(tmp_path) == ["plugins/filter/untested.py"]
