"""plugins/module_utils/_github.py: pure helpers, then real HTTP against the GitHub fixture."""

from __future__ import annotations

import socket
import urllib.request

import pytest
from ansible_collections.keel.platform.plugins.module_utils import _github as gh
from github_fixture import APP_ID, INSTALLATION_ID, TOKEN

SCOPE = "repos/keel/app"


@pytest.mark.parametrize(
    ("kind", "target", "expected"),
    [
        ("repo", "keel/app", "repos/keel/app"),
        ("repo", "/keel/app/", "repos/keel/app"),
        ("org", "keel", "orgs/keel"),
        ("enterprise", "acme", "enterprises/acme"),
    ],
)
def test_scope_path(kind, target, expected):
    assert gh.scope_path(kind, target) == expected


@pytest.mark.parametrize(("kind", "target"), [("repo", "keel"), ("org", "keel/app"), ("team", "x")])
def test_scope_path_refuses_ambiguous_targets(kind, target):
    with pytest.raises(gh.GitHubError):
        gh.scope_path(kind, target)


@pytest.mark.parametrize(
    ("kind", "target", "expected"),
    [
        ("repo", "keel/app", "https://github.com/keel/app"),
        ("org", "keel", "https://github.com/keel"),
        ("enterprise", "acme", "https://github.com/enterprises/acme"),
    ],
)
def test_registration_url(kind, target, expected):
    assert gh.registration_url("https://github.com/", kind, target) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('<https://x/r?page=2>; rel="next", <https://x/r?page=5>; rel="last"', "https://x/r?page=2"),
        ('<https://x/r?page=1>; rel="prev", <https://x/r?page=3>; rel="next"', "https://x/r?page=3"),
        ('<https://x/r?page=1>; rel="first", <https://x/r?page=4>; rel="prev"', None),
        ("", None),
        (None, None),
    ],
)
def test_next_link(header, expected):
    assert gh.next_link(header) == expected


@pytest.mark.parametrize(
    ("attempt", "headers", "expected"),
    [(1, {}, 1.0), (3, {}, 4.0), (10, {}, 60.0), (1, {"Retry-After": "7"}, 7.0), (1, {"Retry-After": "900"}, 60.0)],
)
def test_backoff_delay(attempt, headers, expected):
    assert gh.backoff_delay(attempt, headers) == expected


@pytest.mark.parametrize(
    ("status", "headers", "message", "expected"),
    [
        (429, {}, "", True),
        (403, {"X-RateLimit-Remaining": "0"}, "", True),
        (403, {}, "You have exceeded a secondary rate limit", True),
        (403, {"Retry-After": "5"}, "", True),
        (403, {}, "Resource not accessible by integration", False),
        (404, {}, "", False),
    ],
)
def test_is_rate_limited(status, headers, message, expected):
    assert gh.is_rate_limited(status, headers, message) is expected


def runner(rid, name, labels=(), status="online"):
    return {
        "id": rid,
        "name": name,
        "status": status,
        "labels": [{"name": "self-hosted", "type": "read-only"}] + [{"name": n, "type": "custom"} for n in labels],
    }


@pytest.mark.parametrize(
    ("runners", "local_id", "action", "target_id"),
    [
        ([], None, "register", None),
        ([runner(7, "other")], None, "register", None),
        ([runner(7, "web-1", ["a", "b"])], 7, "keep", 7),
        ([runner(7, "web-1", ["b", "a"])], 7, "keep", 7),
        ([runner(7, "web-1", ["a"])], 7, "relabel", 7),
        ([runner(7, "web-1", ["a", "b"], "offline")], 8, "replace", 7),
        ([runner(7, "web-1", ["a", "b"], "offline")], None, "replace", 7),
        ([runner(7, "web-1", ["a", "b"], "online")], None, "conflict", 7),
        ([runner(7, "web-1", ["a", "b"])], 99, "conflict", 7),
    ],
)
def test_plan_runner(runners, local_id, action, target_id):
    planned, found = gh.plan_runner(runners, "web-1", ["a", "b"], local_id)
    assert planned == action
    assert (found or {}).get("id") == target_id


def test_plan_sweep_keeps_wanted_and_online_runners():
    runners = [
        runner(1, "h1-a", status="offline"),
        runner(2, "h1-b", status="online"),
        runner(3, "h1-c", status="offline"),
        runner(4, "h2-a", status="offline"),
    ]
    assert [r["id"] for r in gh.plan_sweep(runners, "h1-", {"h1-c"})] == [1]


def test_explain_401_says_the_token_was_refused():
    assert gh.explain(401, "GET", "u", "Bad credentials").startswith("GitHub refused the token (401)")


# --- against the fixture ------------------------------------------------------------------
def client(github, token=TOKEN, **kwargs):
    return gh.GitHubClient(github.url, token=token, sleep=lambda s: None, **kwargs)


def test_list_runners_reads_every_page(github):
    names = [f"seed-{i:03d}" for i in range(250)]
    github.control("seed", {"scope": SCOPE, "names": names})
    api = client(github)
    found = gh.list_runners(api, SCOPE)
    assert [r["name"] for r in found] == names
    assert api.calls == 3  # 100 + 100 + 50: per_page=100 and the Link header


def test_list_runners_of_an_empty_scope(github):
    assert gh.list_runners(client(github), "orgs/nobody") == []


def test_bad_token_fails_with_a_clear_message(github):
    with pytest.raises(gh.GitHubError, match=r"GitHub refused the token \(401\)") as caught:
        gh.list_runners(client(github, token="ghp_wrong"), SCOPE)
    assert caught.value.status == 401


def test_unreachable_api_names_the_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    api = gh.GitHubClient(f"http://127.0.0.1:{port}", token=TOKEN, sleep=lambda s: None, attempts=2)
    with pytest.raises(gh.GitHubError, match=rf"Cannot reach the GitHub API at http://127.0.0.1:{port}/"):
        gh.registration_token(api, SCOPE)


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 502, "count": 2},
        {
            "status": 403,
            "count": 2,
            "message": "You have exceeded a secondary rate limit",
            "headers": {"Retry-After": "3"},
        },
        {"status": 429, "count": 1},
    ],
)
def test_retries_server_errors_and_rate_limits(github, fault):
    github.control("faults", {"path": "registration-token", **fault})
    waits = []
    api = gh.GitHubClient(github.url, token=TOKEN, sleep=waits.append)
    assert gh.registration_token(api, SCOPE)
    assert len(waits) == fault["count"]
    if "headers" in fault:
        assert waits == [3.0, 3.0]


def test_gives_up_after_the_attempts_and_says_so(github):
    github.control("faults", {"path": "registration-token", "status": 503, "count": 10})
    with pytest.raises(gh.GitHubError, match="still failing after 3 attempts"):
        gh.registration_token(client(github, attempts=3), SCOPE)


def test_permission_errors_are_not_retried(github):
    github.control("faults", {"path": "runners", "status": 403, "count": 5, "message": "Must have admin rights"})
    api = client(github)
    with pytest.raises(gh.GitHubError, match=r"GitHub denied .* \(403\)"):
        gh.list_runners(api, SCOPE)
    assert api.calls == 1


def test_labels_are_replaced_in_place(github):
    github.control("seed", {"scope": SCOPE, "names": ["web-1"], "labels": ["old"]})
    api = client(github)
    (found,) = gh.list_runners(api, SCOPE)
    gh.set_labels(api, SCOPE, found["id"], ["new", "gpu"])
    assert gh.custom_labels(gh.get_runner(api, SCOPE, found["id"])) == ["gpu", "new"]


def test_delete_runner(github):
    github.control("seed", {"scope": SCOPE, "names": ["web-1"]})
    api = client(github)
    (found,) = gh.list_runners(api, SCOPE)
    gh.delete_runner(api, SCOPE, found["id"])
    assert gh.get_runner(api, SCOPE, found["id"]) is None


def test_generate_jitconfig(github):
    api = client(github)
    config = gh.generate_jitconfig(api, "orgs/keel", "jit-1", gh.runner_group_id(api, "orgs/keel", "builders"), ["x"])
    assert config["encoded_jit_config"]
    assert config["runner"]["name"] == "jit-1"
    assert github.runners("orgs/keel")[0]["runner_group_id"] == 2


def test_unknown_runner_group_lists_the_known_ones(github):
    with pytest.raises(gh.GitHubError, match="has: Default, builders"):
        gh.runner_group_id(client(github), "orgs/keel", "gpu")


def test_app_authentication_exchanges_a_signed_jwt(github, app_key_pair):
    api = gh.authenticate(client(github, token=None), SCOPE, app_id=APP_ID, app_private_key=app_key_pair[0])
    assert api.token.startswith("ghs_")
    assert gh.registration_token(api, SCOPE)


def test_app_authentication_with_a_known_installation_id(github, app_key_pair):
    api = client(github, token=None)
    gh.authenticate(
        api, "orgs/keel", app_id=APP_ID, app_private_key=app_key_pair[0], app_installation_id=INSTALLATION_ID
    )
    assert api.calls == 1


def test_a_jwt_signed_by_another_key_is_refused(github):
    from github_fixture import app_keys

    with pytest.raises(gh.GitHubError, match="401"):
        gh.authenticate(client(github, token=None), SCOPE, app_id=APP_ID, app_private_key=app_keys()[0])


def test_apps_cannot_manage_enterprise_runners(github, app_key_pair):
    with pytest.raises(gh.GitHubError, match="enterprise"):
        gh.authenticate(client(github), "enterprises/acme", app_id=APP_ID, app_private_key=app_key_pair[0])


def test_a_garbled_private_key_says_so():
    with pytest.raises(gh.GitHubError, match="not a readable unencrypted PEM key"):
        gh.app_jwt(APP_ID, "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")


def test_ghes_prefix_is_accepted(github):
    assert gh.list_runners(gh.GitHubClient(github.url + "/api/v3", token=TOKEN), SCOPE) == []


def test_fixture_answers_head_without_a_body(github):
    request = urllib.request.Request(f"{github.url}/repos/keel/app/actions/runners", method="HEAD")
    request.add_header("Authorization", f"Bearer {TOKEN}")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert (response.status, response.read()) == (200, b"")
