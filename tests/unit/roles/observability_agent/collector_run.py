"""The textfile collector script, loaded once, and a way to run one collector into a directory."""

from __future__ import annotations

from scripts_loader import FILES, ROOT, load_script

# The role installs the collection's public cost_verdict.py next to the collector, which imports it.
cost_verdict = load_script(ROOT / "plugins" / "module_utils" / "cost_verdict.py", "cost_verdict")
collector = load_script(FILES / "keel_textfile_collector.py", "keel_textfile_collector")


def values(lines: list[str]) -> dict[str, str]:
    """Samples of a metric file as {"name{labels}": "value"}."""
    return dict(line.rsplit(" ", 1) for line in lines if line and not line.startswith("#"))


def run(tmp_path, *args: str) -> tuple[int, dict[str, str]]:
    """Run COLLECTOR ARGS... writing into TMP_PATH: (exit code, samples of its file)."""
    rc = collector.main([*args, "--output-dir", str(tmp_path), "--interval", "60"])
    text = (tmp_path / f"keel_{args[0]}.prom").read_text()
    return rc, values(text.splitlines())
