"""The textfile collectors: pure parsing, atomic files, IMDSv2 against the test fixture."""

from __future__ import annotations

import json
import threading
import time
from http.server import HTTPServer

import pytest
from collector_run import collector, run, values
from scripts_loader import ROOT, load_script

imds_fixture = load_script(ROOT / "tests" / "fixtures" / "imds_fixture.py", "imds_fixture")

APT_OUTPUT = """\
NOTE: This is only a simulation!
Reading package lists...
Inst libssl3 [3.0.15-1~deb12u1] (3.0.17-1~deb12u2 Debian-Security:12/stable-security [amd64])
Inst openssl [3.0.15-1~deb12u1] (3.0.17-1~deb12u2 Debian:12.11/stable, Debian-Security:12/stable-security [amd64])
Inst tzdata [2024a-0+deb12u1] (2025b-0+deb12u1 Debian:12.11/stable-updates [all])
Inst newpkg (1.0-1 Debian:12.11/stable [amd64])
Conf libssl3 (3.0.17-1~deb12u2 Debian-Security:12/stable-security [amd64])
"""


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (APT_OUTPUT, (4, 2)),
        ("", (0, 0)),
        ("Conf x (1 Debian:12/stable [all])\n", (0, 0)),
    ],
)
def test_parse_apt_simulation(output, expected):
    assert collector.parse_apt_simulation(output) == expected


@pytest.mark.parametrize(
    ("key", "label"),
    [("CostCenter", "CostCenter"), ("aws:cost-center", "aws_cost_center"), ("1st", "_1st"), ("a.b/c", "a_b_c")],
)
def test_label_name(key, label):
    assert collector.label_name(key) == label


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1795661234.567, "1795661234.567"),
        (1795661234.0, "1795661234"),
        (3, "3"),
        (True, "1"),
        (-1, "-1"),
        (0.25, "0.25"),
    ],
)
def test_sample_values_keep_full_precision(value, text):
    assert collector.sample("m", value) == f"m {text}"


def test_sample_escapes_label_values():
    assert collector.sample("m", 1, {"b": 'x"y', "a": "p\\q\nr"}) == 'm{a="p\\\\q\\nr",b="x\\"y"} 1'


RULES = {
    "version": 1,
    "normalise_keys": True,
    "required_tags": [
        {"key": "Project", "aliases": [], "allowed": [], "pattern": None},
        {"key": "owner", "aliases": ["Owner"], "allowed": [], "pattern": None},
        {"key": "cost-center", "aliases": [], "allowed": [], "pattern": "^cc-[0-9]+$"},
        {"key": "env", "aliases": [], "allowed": ["prod", "dev"], "pattern": None},
    ],
    "exceptions": [{"resource": "i-1", "key": "env", "owner": "o", "reason": "r", "expires": "2999-01-01"}],
}


def test_ec2_metrics_give_each_required_key_its_verdict():
    """cost_verdict's verdicts: an empty value is missing, CostCenter counts as cost-center, env is exempt."""
    lines = collector.ec2_metrics(
        {"instance_id": "i-1", "instance_type": "t3.micro", "availability_zone": "eu-west-1a"},
        RULES,
        {"Project": "keel", "Owner": "", "CostCenter": "12", "env": "qa"},
        ("i-1",),
    )
    samples = values(lines)
    info = next(key for key in samples if key.startswith("keel_ec2_instance_info"))
    assert 'tag_Project="keel"' in info
    assert 'tag_owner=""' in info
    assert 'tag_cost_center="12"' in info
    assert 'instance_type="t3.micro"' in info
    verdicts = {
        key: [
            status
            for status in ("missing", "invalid", "exempt")
            if samples[f'keel_ec2_cost_tag_{status}{{key="{key}"}}'] == "1"
        ]
        for key in ("Project", "owner", "cost-center", "env")
    }
    assert verdicts == {"Project": [], "owner": ["missing"], "cost-center": ["invalid"], "env": ["exempt"]}


def test_ec2_metrics_without_rules_carry_no_tags():
    lines = collector.ec2_metrics({"instance_id": "i-1"}, None, {"Project": "keel"})
    assert [line for line in lines if not line.startswith("#")] == ['keel_ec2_instance_info{instance_id="i-1"} 1']


def test_ci_runner_metrics():
    # The ci_runner role's schema (roles/ci_runner/README.md).
    state = {
        "updated": 1000,
        "runners": [
            {"name": "r1", "unit": "keel-runner@r1.service", "active": True, "online": True, "busy": True},
            {"name": "r2", "unit": "keel-runner@r2.service", "active": True, "online": True, "busy": False},
            {"name": "r3", "unit": "keel-runner@r3.service", "active": True, "online": False, "busy": False},
            {"name": "r4", "unit": "keel-runner@r4.service", "active": False, "online": False, "busy": False},
        ],
    }
    samples = values(collector.ci_runner_metrics(state, now=1060))
    assert samples['keel_ci_runner_busy{runner="r1"}'] == "1"
    assert samples['keel_ci_runner_busy{runner="r2"}'] == "0"
    assert samples['keel_ci_runners{state="busy"}'] == "1"
    assert samples['keel_ci_runners{state="idle"}'] == "1"
    assert samples['keel_ci_runners{state="offline"}'] == "1"
    assert samples['keel_ci_runners{state="stopped"}'] == "1"
    assert samples["keel_ci_runner_state_age_seconds"] == "60"


def test_ci_runner_collector_reads_the_state_file(tmp_path):
    state = tmp_path / "state.json"
    state.write_text(
        json.dumps({"updated": time.time(), "runners": [{"name": "r1", "active": True, "online": True, "busy": True}]})
    )
    rc, samples = run(tmp_path, "ci_runner", "--ci-runner-state-file", str(state))
    assert rc == 0
    assert samples["keel_ci_runner_state_present"] == "1"
    assert samples['keel_ci_runner_busy{runner="r1"}'] == "1"
    assert samples['keel_textfile_collector_success{collector="ci_runner"}'] == "1"
    assert samples['keel_textfile_collector_interval_seconds{collector="ci_runner"}'] == "60"


def test_ci_runner_collector_without_state_file(tmp_path):
    rc, samples = run(tmp_path, "ci_runner", "--ci-runner-state-file", str(tmp_path / "missing.json"))
    assert rc == 0
    assert samples["keel_ci_runner_state_present"] == "0"


def test_failed_run_keeps_the_last_success_time(tmp_path):
    state = tmp_path / "state.json"
    state.write_text("{}")
    run(tmp_path, "ci_runner", "--ci-runner-state-file", str(state))
    first = values((tmp_path / "keel_ci_runner.prom").read_text().splitlines())
    last = first['keel_textfile_collector_last_success_timestamp_seconds{collector="ci_runner"}']
    state.write_text("not json")
    rc, samples = run(tmp_path, "ci_runner", "--ci-runner-state-file", str(state))
    assert rc == 1
    assert samples['keel_textfile_collector_success{collector="ci_runner"}'] == "0"
    assert samples['keel_textfile_collector_last_success_timestamp_seconds{collector="ci_runner"}'] == last


def test_reboot_collector(tmp_path):
    flag = tmp_path / "reboot-required"
    rc, samples = run(tmp_path, "reboot", "--reboot-required-file", str(flag))
    assert (rc, samples["keel_reboot_required"]) == (0, "0")
    flag.write_text("*** System restart required ***\n")
    (tmp_path / "reboot-required.pkgs").write_text("linux-image-amd64\nlibc6\nlibc6\n")
    rc, samples = run(tmp_path, "reboot", "--reboot-required-file", str(flag))
    assert samples["keel_reboot_required"] == "1"
    assert samples["keel_reboot_required_packages"] == "2"


def test_files_are_replaced_atomically(tmp_path):
    collector.write_atomically(tmp_path, "keel_x.prom", ["a 1"])
    collector.write_atomically(tmp_path, "keel_x.prom", ["a 2"])
    assert [p.name for p in tmp_path.iterdir()] == ["keel_x.prom"]
    assert (tmp_path / "keel_x.prom").read_text() == "a 2\n"
    assert (tmp_path / "keel_x.prom").stat().st_mode & 0o777 == 0o640


@pytest.fixture
def imds():
    server = HTTPServer(("127.0.0.1", 0), imds_fixture.Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_ec2_collector_speaks_imdsv2(tmp_path, imds):
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps(RULES))
    rc, samples = run(tmp_path, "ec2", "--imds-endpoint", imds, "--cost-rules", str(rules))
    assert rc == 0
    assert samples["keel_ec2_imds_up"] == "1"
    # The fixture's instance: CostCenter=cc-1234 (cost-center, normalised), Project=keel, no owner, no env.
    assert samples['keel_ec2_cost_tag_missing{key="cost-center"}'] == "0"
    assert samples['keel_ec2_cost_tag_invalid{key="cost-center"}'] == "0"
    assert samples['keel_ec2_cost_tag_missing{key="Project"}'] == "0"
    assert samples['keel_ec2_cost_tag_missing{key="owner"}'] == "1"
    assert samples['keel_ec2_cost_tag_missing{key="env"}'] == "1"
    info = next(key for key in samples if key.startswith("keel_ec2_instance_info"))
    assert 'tag_cost_center="cc-1234"' in info
    assert 'instance_id="i-0123456789abcdef0"' in info


def test_an_exception_may_name_the_instance_by_arn(tmp_path, imds):
    """The identity document gives region and account, so an exception written with the ARN holds too."""
    arn = "arn:aws:ec2:eu-west-1:123456789012:instance/i-0123456789abcdef0"
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps(dict(RULES, exceptions=[dict(RULES["exceptions"][0], resource=arn)])))
    rc, samples = run(tmp_path, "ec2", "--imds-endpoint", imds, "--cost-rules", str(rules))
    assert rc == 0
    assert samples['keel_ec2_cost_tag_exempt{key="env"}'] == "1"
    assert samples['keel_ec2_cost_tag_missing{key="env"}'] == "0"


def test_unreadable_rules_fail_the_run(tmp_path, imds):
    rc, samples = run(tmp_path, "ec2", "--imds-endpoint", imds, "--cost-rules", str(tmp_path / "absent.json"))
    assert rc == 1
    assert samples['keel_textfile_collector_success{collector="ec2"}'] == "0"


def test_imds_fixture_refuses_requests_without_a_token(imds):
    with pytest.raises(collector.urllib.error.HTTPError) as refused:
        collector.imds_get(imds, "wrong-token", "meta-data/instance-id")
    assert refused.value.code == 401


def test_ec2_collector_without_imds_exits_cleanly_and_quickly(tmp_path):
    started = time.monotonic()
    # Port 9 (discard) on loopback: nothing listens, the connection is refused.
    rc, samples = run(tmp_path, "ec2", "--imds-endpoint", "http://127.0.0.1:9")
    assert time.monotonic() - started < 5
    assert rc == 0
    assert samples["keel_ec2_imds_up"] == "0"
    assert not any(key.startswith("keel_ec2_instance_info") for key in samples)


def test_endpoint_scheme_is_checked(tmp_path):
    with pytest.raises(SystemExit):
        collector.parse_args(
            ["ec2", "--output-dir", str(tmp_path), "--interval", "1", "--imds-endpoint", "file:///etc"]
        )
