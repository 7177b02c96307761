"""Effective state of hosts converged with keel.platform.observability_agent.

The agents' metrics are checked where they count: in the Prometheus container
that scrapes them over TLS with basic auth, through Prometheus's HTTP API.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tarfile
import time
import uuid
from pathlib import Path

import pytest
import testinfra

SCENARIO = "keel-observability_agent"
AGENTS = {f"{SCENARIO}-debian12": "agent12", f"{SCENARIO}-debian13": "agent13"}
PORT = 9100
DASHBOARD = Path(__file__).parents[3] / "roles" / "observability_agent" / "files" / "grafana" / "keel-node.json"


@pytest.fixture(scope="module")
def name(host) -> str:
    return host.backend.get_hostname()


@pytest.fixture(scope="module")
def agent(name) -> str:
    if name not in AGENTS:
        pytest.skip("checked on the agents")
    return AGENTS[name]


# Prometheus and the journal collectors share one container.
@pytest.fixture(scope="module")
def prometheus():
    return testinfra.get_host(f"docker://{SCENARIO}-collector")


@pytest.fixture(scope="module")
def journal(prometheus):
    return prometheus


def query(prometheus, promql: str) -> list[dict]:
    out = prometheus.check_output(
        "curl -sf --get --data-urlencode %s http://127.0.0.1:9090/api/v1/query", f"query={promql}"
    )
    body = json.loads(out)
    assert body["status"] == "success", body
    return body["data"]["result"]


def wait_for(predicate, timeout: float = 90, step: float = 3):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


def test_node_exporter_runs_as_its_own_user(host, agent):
    service = host.service("node_exporter")
    assert service.is_running
    assert service.is_enabled
    user = host.check_output("systemctl show --property=User --value node_exporter")
    assert user == "node-exporter"
    assert not host.service("prometheus-node-exporter").is_running


def test_binary_is_the_one_from_the_release_archive(host, agent):
    """Debian 13 from the `archive` source, Debian 12 from the `local` one (side_effect.yml): both
    run the node_exporter of the test mirror's archive, which the controller unpacked and copied."""
    archive = Path(
        os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "mirror", "v1.5.0", "node_exporter-1.5.0.linux-amd64.tar.gz"
    )
    with tarfile.open(archive) as release:
        expected = hashlib.sha256(
            release.extractfile("node_exporter-1.5.0.linux-amd64/node_exporter").read()
        ).hexdigest()
    exec_start = host.check_output("systemctl show --property=ExecStart --value node_exporter")
    assert "path=/usr/local/bin/node_exporter " in exec_start
    assert host.file("/usr/local/bin/node_exporter").sha256sum == expected
    assert "version 1.5.0" in host.check_output("/usr/local/bin/node_exporter --version 2>&1")
    assert host.service("node_exporter").is_running


def test_unit_is_rated_better_than_2(host, agent):
    out = host.check_output("systemd-analyze security --no-pager node_exporter.service")
    exposure = float(re.search(r"Overall exposure level for node_exporter\.service: ([0-9.]+)", out).group(1))
    assert exposure < 2.0, out


def test_unit_ip_filter_admits_loopback_but_not_other_sources(host, agent, container_address):
    # The agent's own bridge address is neither loopback nor a scrape source.
    probe = "python3 -c 'import socket; socket.create_connection((\"%s\", %d), timeout=3)'"
    assert host.run(probe % ("127.0.0.1", PORT)).rc == 0
    assert host.run(probe % (container_address, PORT)).rc != 0


def test_textfile_directory_is_owned_by_the_role(host, agent):
    directory = host.file("/var/lib/prometheus/node-exporter")
    assert (directory.user, directory.group, directory.mode) == ("root", "node-exporter", 0o2750)


@pytest.mark.parametrize("collector", ["apt", "reboot", "ec2"])
def test_collector_timers_are_active(host, agent, collector):
    assert host.service(f"keel-textfile-{collector}.timer").is_running
    assert host.file(f"/var/lib/prometheus/node-exporter/keel_{collector}.prom").exists


def test_docker_collector_runs_only_where_docker_is(host, agent):
    # The Debian 12 agent has the Docker Engine API fixture on /var/run/docker.sock.
    assert host.file("/etc/systemd/system/keel-textfile-docker.timer").exists == (agent == "agent12")


def test_every_agent_is_up_in_prometheus(prometheus, agent):
    result = wait_for(lambda: query(prometheus, f'up{{instance="{agent}:{PORT}"}} == 1'))
    assert len(result) == 1, result


def test_textfile_metric_reaches_prometheus(prometheus, agent):
    # The state file the test wrote on the Debian 12 agent: runner-1 busy.
    if agent == "agent12":
        result = wait_for(
            lambda: query(prometheus, f'keel_ci_runner_busy{{instance="{agent}:{PORT}",runner="runner-1"}}')
        )
        assert [r["value"][1] for r in result] == ["1"]
        info = query(prometheus, f'keel_ec2_instance_info{{instance="{agent}:{PORT}"}}')
        assert info[0]["metric"]["instance_type"] == "t3.micro"
        # The keys of the scenario's cost policy (files/cost-policy.yml): cost-center is found under
        # its alias CostCenter, owner is missing on the fixture's instance.
        assert info[0]["metric"]["tag_cost_center"] == "cc-1234"
        assert info[0]["metric"]["tag_Project"] == "keel"
        missing = query(prometheus, f'keel_ec2_cost_tag_missing{{instance="{agent}:{PORT}"}}')
        assert {r["metric"]["key"]: r["value"][1] for r in missing} == {
            "cost-center": "0",
            "Project": "0",
            "owner": "1",
        }
        # The Docker Engine API fixture (tests/fixtures/docker_api.py), read by the sandboxed collector unit.
        docker_up = wait_for(lambda: query(prometheus, f'keel_docker_up{{instance="{agent}:{PORT}"}} == 1'))
        assert len(docker_up) == 1, docker_up
        running = query(prometheus, f'keel_docker_containers{{instance="{agent}:{PORT}",state="running"}}')
        assert [r["value"][1] for r in running] == ["3"]
        docker = query(prometheus, f'keel_docker_info{{instance="{agent}:{PORT}"}}')
        assert docker[0]["metric"]["server_version"] == "20.10.24+dfsg1"
        expected_imds = "1"
    else:
        assert query(prometheus, f'keel_ci_runner_busy{{instance="{agent}:{PORT}"}}') == []
        expected_imds = "0"
    imds = wait_for(lambda: query(prometheus, f'keel_ec2_imds_up{{instance="{agent}:{PORT}"}}'))
    assert [r["value"][1] for r in imds] == [expected_imds]
    staleness = query(prometheus, f'keel_textfile_collector_success{{instance="{agent}:{PORT}",collector="apt"}}')
    assert [r["value"][1] for r in staleness] == ["1"]
    # The last success time is a real, unrounded Unix time: fresh, not stale.
    fresh = query(
        prometheus,
        f'time() - keel_textfile_collector_last_success_timestamp_seconds{{instance="{agent}:{PORT}"}} < 900',
    )
    assert len(fresh) >= 3, fresh


def test_explicit_cost_tag_keys_override_the_policy(host, agent):
    unit = host.file("/etc/systemd/system/keel-textfile-ec2.service").content_string
    assert "--cost-rules /etc/node_exporter/keel-cost-rules.json" in unit, unit
    rules = json.loads(host.file("/etc/node_exporter/keel-cost-rules.json").content_string)
    keys = [(tag["key"], tag["aliases"]) for tag in rules["required_tags"]]
    if agent == "agent12":
        assert keys == [("cost-center", ["CostCenter"]), ("Project", []), ("owner", ["Owner"])]
    else:
        assert keys == [("Team", []), ("Cost Centre", [])]
    # The one evaluation, installed next to the collector that imports it.
    assert host.file("/usr/local/libexec/keel/cost_verdict.py").contains("def evaluate")


def test_scrape_without_credentials_is_refused(prometheus, agent):
    base = (
        f"curl -s -o /dev/null -w '%{{http_code}}' --cacert /etc/prometheus/keel-ca.crt https://{agent}:{PORT}/metrics"
    )
    assert prometheus.check_output(base) == "401"
    assert prometheus.check_output(base + " -u prometheus:wrong") == "401"
    assert prometheus.check_output(base + " -u prometheus:keel-scrape-secret") == "200"


def test_plain_http_is_not_served(prometheus, agent):
    # node_exporter answers plain HTTP on its TLS port with 400; a refused or dropped connection
    # (node_exporter down) makes curl exit non-zero and check_output fail.
    out = prometheus.check_output(f"curl -sS -w ' %{{http_code}}' http://{agent}:{PORT}/metrics")
    assert out.endswith(" 400"), out
    assert "Client sent an HTTP request to an HTTPS server" in out, out


def collector_address() -> str:
    out = subprocess.run(
        ["docker", "inspect", "--format", "{{json .NetworkSettings.Networks}}", f"{SCENARIO}-collector"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return next(n["IPAddress"] for n in json.loads(out).values() if n.get("IPAddress"))


def scrape_rules(host) -> list[dict]:
    """The rules of the hardening firewall's roles_input chain that match the scrape port, as nft -j shows them."""
    ruleset = json.loads(host.check_output("nft -j list chain inet keel_filter roles_input"))["nftables"]
    rules = [item["rule"]["expr"] for item in ruleset if "rule" in item]

    def dport(expr: list[dict]):
        return next(
            (
                m["match"]["right"]
                for m in expr
                if "match" in m and m["match"]["left"].get("payload", {}).get("field") == "dport"
            ),
            None,
        )

    return [expr for expr in rules if dport(expr) == PORT]


def test_firewall_admits_only_the_scrape_sources(host, agent):
    """Every rule for the scrape port matches the source address against the scrape sources alone
    (an open-to-all rule fails), and the scrape source does get through."""
    rules = scrape_rules(host)
    assert rules, "no rule for the scrape port"
    for expr in rules:
        sources = [
            m["match"]["right"]
            for m in expr
            if "match" in m and m["match"]["left"].get("payload", {}).get("field") == "saddr"
        ]
        assert len(sources) == 1, expr
        addresses = sources[0]["set"] if isinstance(sources[0], dict) else [sources[0]]
        assert addresses == [collector_address()], expr
        assert any("accept" in m for m in expr), expr


def test_scrape_source_gets_through_both_filters(prometheus, agent):
    assert prometheus.run(f"curl -s -o /dev/null --max-time 5 -k https://{agent}:{PORT}/metrics").rc == 0


@pytest.mark.parametrize("unit", ["systemd-journal-upload", "rsyslog"])
def test_only_the_chosen_forwarder_runs(host, agent, unit):
    """agent12 moved to rsyslog, agent13 went to rsyslog and back (side_effect.yml): the other is retired."""
    chosen = {"agent12": "rsyslog", "agent13": "systemd-journal-upload"}[agent]
    service = host.service(unit)
    assert service.is_running == (unit == chosen)
    assert service.is_enabled == (unit == chosen)


def test_alert_rules_pass_promtool(prometheus, agent):
    if agent != "agent12":
        pytest.skip("runs once")
    prometheus.run_test("promtool check rules /etc/prometheus/keel-node.rules.yml")
    result = prometheus.run("cd /etc/prometheus && promtool test rules keel-node.rules.test.yml")
    assert result.rc == 0, result.stdout + result.stderr
    groups = json.loads(prometheus.check_output("curl -sf http://127.0.0.1:9090/api/v1/rules"))["data"]["groups"]
    assert {rule["name"] for group in groups for rule in group["rules"]} >= {"HostDown", "RebootRequired"}


def test_dashboard_queries_run(prometheus, agent):
    """Every dashboard query is valid PromQL; the host panels have data for this agent."""
    panels = json.loads(DASHBOARD.read_text())["panels"]
    with_data = {"Up", "CPU busy", "Memory available", "Disk space used", "Pending updates"}
    for panel in panels:
        for target in panel["targets"]:
            expr = target["expr"].replace("$instance", f"{agent}:{PORT}").replace("$__rate_interval", "1m")
            result = query(prometheus, expr)
            if panel["title"] in with_data:
                assert result, (panel["title"], expr)


# Switching the Debian 12 agent to rsyslog (side_effect.yml) retired its systemd-journal-upload.
JOURNAL_UPLOAD_RETIRED = "the Debian 12 agent forwards with rsyslog only (side_effect.yml)"


def journal_has(journal, marker: str) -> bool:
    return journal.run("journalctl --directory=/var/log/journal/remote --no-pager -o cat --grep=%s", marker).rc == 0


def test_journal_reaches_the_collector(host, agent, journal):
    if agent != "agent13":
        pytest.skip(JOURNAL_UPLOAD_RETIRED)
    marker = f"keel-test-{agent}-{uuid.uuid4().hex}"
    host.run_test("logger -t keel-test %s", marker)
    assert wait_for(lambda: journal_has(journal, marker), timeout=60), marker


def outage_loses_nothing(host, agent, collector, units: list[str], arrived) -> None:
    """Stop the collector's UNITS, log a unique line on the agent, start the first unit again:
    the line waits in the agent's bounded buffer and arrives (ARRIVED(marker) says so)."""
    collector.run_test("systemctl stop " + " ".join(units))
    try:
        marker = f"keel-outage-{agent}-{uuid.uuid4().hex}"
        host.run_test("logger -t keel-test %s", marker)
        time.sleep(15)
        assert not arrived(marker), "the collector was stopped, yet the line arrived"
    finally:
        collector.run_test("systemctl start %s", units[0])
    assert wait_for(lambda: arrived(marker), timeout=90), marker


def test_journal_survives_a_collector_outage(host, agent, journal):
    if agent != "agent13":
        pytest.skip(JOURNAL_UPLOAD_RETIRED)
    units = ["systemd-journal-remote.socket", "systemd-journal-remote.service"]
    outage_loses_nothing(host, agent, journal, units, lambda marker: journal_has(journal, marker))


def test_web_config_check_rejects_a_plain_password(host, agent):
    host.run_test("""echo '{"basic_auth_users": {"x": "plain"}}' > /tmp/bad.yml""")
    result = host.run("python3 /usr/local/libexec/keel/keel_web_config_check.py /tmp/bad.yml")
    assert result.rc == 1
    assert "not a bcrypt hash" in result.stderr


def rsyslog_has(journal, marker: str) -> bool:
    return journal.run("grep -q %s /var/log/keel-remote.log", marker).rc == 0


def test_rsyslog_forwards_over_tls(host, agent, journal):
    if agent != "agent12":
        pytest.skip("the Debian 12 agent also forwards with rsyslog (side_effect.yml)")
    marker = f"keel-rsyslog-{uuid.uuid4().hex}"
    host.run_test("logger -t keel-test %s", marker)
    assert wait_for(lambda: rsyslog_has(journal, marker), timeout=60), marker


def test_rsyslog_survives_a_collector_outage(host, agent, journal):
    if agent != "agent12":
        pytest.skip("the Debian 12 agent also forwards with rsyslog (side_effect.yml)")
    # journald forwards to syslog.socket (Debian's ForwardToSyslog=yes), which would start the
    # receiver again at the collector's next log line: the socket is stopped too.
    units = ["rsyslog.service", "syslog.socket"]
    outage_loses_nothing(host, agent, journal, units, lambda marker: rsyslog_has(journal, marker))
