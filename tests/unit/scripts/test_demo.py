"""scripts/demo.py: the pieces of the demo that decide what it shows."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
spec = importlib.util.spec_from_file_location("demo", ROOT / "scripts/demo.py")
demo = importlib.util.module_from_spec(spec)
spec.loader.exec_module(demo)


def test_month_starts_cross_the_year():
    january = time.strptime("2027-01-15", "%Y-%m-%d")
    assert demo.month_starts(3, january) == ["2026-10-01", "2026-11-01", "2026-12-01", "2027-01-01"]


def test_every_agent_up_needs_all_agents_at_one():
    up = dict.fromkeys(demo.FLEET, "1")
    assert demo.every_agent_up(up)
    assert not demo.every_agent_up({**up, "keel-demo-web1": "0"})
    assert not demo.every_agent_up(dict(list(up.items())[1:]))


def test_fleet_tags_follow_the_demo_inventory():
    """The inventory groups hosts by the role tag; every demo host must land in a group site.yml knows."""
    inventory = (ROOT / "inventories/local/fleet.aws_fleet.yml").read_text()
    for _image, tags in demo.FLEET.values():
        assert tags["role"] in {"web", "docker-host", "ci-runner"}
        if tags["role"] != "web":
            assert f"tags.role == '{tags['role']}'" in inventory


def test_cost_summary_counts_every_type_and_key(capsys):
    figures = {"fixed": 2, "not_fixable": 1, "exempt": 0, "compliant": 3, "reasons": {}}
    result = {
        "compliance_after": 80.0,
        "enforcement": {
            "summary": {"compliance": 50.0, "by_type": {"instance": {"team": figures, "env": figures}}},
            "batches": [{}, {}],
            "failures": {},
            "untagged": [
                {"type": "volume", "id": "vol-1", "keys": ["team"], "monthly_cost": 9.5, "fixable": True},
                {"type": "bucket", "id": "logs", "keys": ["env"], "monthly_cost": 1.0, "fixable": False},
            ],
        },
    }
    demo.show_cost_tags(result)
    out = capsys.readouterr().out
    assert "compliance 50.0 % before, 80.0 % after; tags fixed 4, not fixable 2, exempt 0; 2 tagging calls" in out
    assert "not fixable, needs an owner: bucket logs (env), ~1.0 USD/month" in out
    assert "vol-1" not in out


def test_the_demo_records_its_runs_with_ara_beside_the_change_report():
    env = demo.ansible_env("http://127.0.0.1:1")
    assert env["ANSIBLE_CALLBACK_PLUGINS"].split(":")[-1] == demo.ara_record.callback_dir()
    assert env["ARA_API_CLIENT"] == "offline"
    assert demo.ara_record.database(env) == demo.OUT / "ara" / "ansible.sqlite"
    assert "keel.platform.change_report" in env["ANSIBLE_CALLBACKS_ENABLED"].split(",")
