# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""GitHub REST calls for self-hosted runners: auth, paging, retries, errors, planning.

Standard library only (the App JWT needs the ``cryptography`` package, imported when used), and
no Ansible imports: the ci_runner role also installs this file on runner hosts, where the
ephemeral runners' start helper imports it to fetch a just-in-time configuration.
"""

from __future__ import annotations

import base64
import json
import re
import time
import urllib.error
import urllib.request

API_VERSION = "2022-11-28"
USER_AGENT = "keel.platform-ci_runner"
RETRYABLE = (500, 502, 503, 504)
CONNECT_ATTEMPTS = 3
LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')
SCOPE_KINDS = ("repo", "org", "enterprise")


class GitHubError(Exception):
    """A GitHub API call failed; the message says what to do about it."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


def scope_path(kind, target):
    """REST path prefix of a runner scope: repo 'owner/name', org 'name' or enterprise 'slug'."""
    if kind not in SCOPE_KINDS:
        raise GitHubError(f"Unknown runner scope {kind!r}: use one of {', '.join(SCOPE_KINDS)}.")
    parts = [p for p in str(target).split("/") if p]
    if kind == "repo" and len(parts) != 2:
        raise GitHubError(f"A repository scope needs 'owner/repository', not {target!r}.")
    if kind != "repo" and len(parts) != 1:
        raise GitHubError(f"An {kind} scope needs a single name, not {target!r}.")
    prefix = {"repo": "repos", "org": "orgs", "enterprise": "enterprises"}[kind]
    return f"{prefix}/{'/'.join(parts)}"


def registration_url(github_url, kind, target):
    """The --url config.sh takes: the repository, organisation or enterprise page."""
    base = github_url.rstrip("/")
    return f"{base}/enterprises/{target}" if kind == "enterprise" else f"{base}/{target.strip('/')}"


def next_link(header):
    """URL of the next page from a Link header, or None on the last page."""
    match = LINK_NEXT.search(header or "")
    return match.group(1) if match else None


def backoff_delay(attempt, headers, base=1.0, cap=60.0):
    """Seconds to wait before retry number attempt (1-based): Retry-After wins, else doubling."""
    retry_after = (headers or {}).get("Retry-After")
    if retry_after and str(retry_after).isdigit():
        return min(float(retry_after), cap)
    reset = (headers or {}).get("X-RateLimit-Reset")
    if (headers or {}).get("X-RateLimit-Remaining") == "0" and reset and str(reset).isdigit():
        return min(max(float(reset) - time.time(), 1.0), cap)
    return min(base * 2 ** (attempt - 1), cap)


def is_rate_limited(status, headers, message):
    """GitHub signals both primary and secondary rate limits with 403 or 429."""
    if status == 429:
        return True
    return status == 403 and (
        (headers or {}).get("X-RateLimit-Remaining") == "0"
        or "retry-after" in {k.lower() for k in (headers or {})}
        or "rate limit" in (message or "").lower()
    )


def explain(status, method, url, message):
    """The error a user reads for a failed call: what happened and what to do."""
    what = f"{method} {url}"
    if status == 401:
        return (
            f"GitHub refused the token (401) for {what}: {message}. Check that the token (or the App's "
            "private key and ID) is valid, not expired and meant for this GitHub (api_url)."
        )
    if status == 403:
        return (
            f"GitHub denied {what} (403): {message}. The credential lacks permission: a classic PAT needs "
            "'repo' (repository), 'admin:org' (organisation) or 'manage_runners:enterprise'; a fine-grained "
            "token or App needs the self-hosted runners permission with write access."
        )
    if status == 404:
        return (
            f"GitHub answered 404 for {what}: check the scope and its name, and that the credential can "
            "see it (GitHub answers 404 rather than 403 for private resources)."
        )
    return f"GitHub answered {status} for {what}: {message}"


class GitHubClient:
    """A small REST client: one auth header, JSON bodies, retries with backoff, paging."""

    def __init__(self, api_url, token=None, timeout=30, attempts=5, sleep=time.sleep, opener=None):
        self.api_url = api_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.attempts = attempts
        self.sleep = sleep
        self.opener = opener or urllib.request.build_opener()
        self.calls = 0

    def _url(self, path):
        return path if path.startswith(("http://", "https://")) else f"{self.api_url}/{path.lstrip('/')}"

    def _once(self, method, url, body, token):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - URL from api_url
        request.add_header("Accept", "application/vnd.github+json")
        request.add_header("X-GitHub-Api-Version", API_VERSION)
        request.add_header("User-Agent", USER_AGENT)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        self.calls += 1
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                raw = response.read()
                return response.status, dict(response.headers), json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                payload = json.loads(raw) if raw else {}
            except ValueError:
                payload = {"message": raw.decode("utf-8", "replace")[:200]}
            return error.code, dict(error.headers or {}), payload

    def request(self, method, path, body=None, token=None):
        """Return (json, headers) of a successful call; raise GitHubError otherwise."""
        url = self._url(path)
        token = token if token is not None else self.token
        for attempt in range(1, self.attempts + 1):
            try:
                status, headers, payload = self._once(method, url, body, token)
            except (urllib.error.URLError, OSError) as error:
                reason = getattr(error, "reason", error)
                # A network that is down rarely comes back within seconds: fail sooner than for 5xx.
                if attempt >= min(self.attempts, CONNECT_ATTEMPTS):
                    raise GitHubError(
                        f"Cannot reach the GitHub API at {url}: {reason}. Check api_url, DNS, proxies and "
                        "that this host may connect to it."
                    ) from error
                self.sleep(backoff_delay(attempt, {}))
                continue
            if status < 400:
                return payload, headers
            message = (payload or {}).get("message", "") if isinstance(payload, dict) else str(payload)
            retry = status in RETRYABLE or is_rate_limited(status, headers, message)
            if not retry or attempt == self.attempts:
                if retry:
                    message = f"{message} (still failing after {self.attempts} attempts; retry later)"
                raise GitHubError(explain(status, method, url, message), status)
            self.sleep(backoff_delay(attempt, headers))
        raise AssertionError("unreachable")  # pragma: no cover

    def paginate(self, path, key):
        """Every item of a list endpoint, following Link: rel="next" with per_page=100."""
        url = self._url(path) + ("&" if "?" in path else "?") + "per_page=100"
        items = []
        while url:
            payload, headers = self.request("GET", url)
            items.extend(payload.get(key, []))
            url = next_link(headers.get("Link") or headers.get("link"))
        return items


# --- GitHub App authentication ------------------------------------------------------
def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def app_jwt(app_id, private_key_pem, now=None):
    """An RS256 JWT for the App, valid 9 minutes from 60 seconds ago (clock drift)."""
    try:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding
    except ImportError as error:
        raise GitHubError(
            "GitHub App authentication needs the Python 'cryptography' package on this host "
            "(Debian: python3-cryptography)."
        ) from error
    now = int(time.time() if now is None else now)
    header = _b64url(json.dumps({"alg": "RS256", "typ": "JWT"}, separators=(",", ":")).encode())
    claims = {"iat": now - 60, "exp": now + 540, "iss": str(app_id)}
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    try:
        key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    except (ValueError, TypeError) as error:
        raise GitHubError(f"The GitHub App private key is not a readable unencrypted PEM key: {error}") from error
    signature = key.sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{payload}.{_b64url(signature)}"


def installation_token(client, scope, app_id, private_key_pem, installation_id=None):
    """Exchange an App JWT for an installation token of the scope's installation."""
    if scope.startswith("enterprises/"):
        raise GitHubError("GitHub Apps cannot manage enterprise runners: use a token with manage_runners:enterprise.")
    jwt = app_jwt(app_id, private_key_pem)
    if installation_id is None:
        installation = client.request("GET", f"{scope}/installation", token=jwt)[0]
        installation_id = installation["id"]
    payload = client.request("POST", f"app/installations/{installation_id}/access_tokens", body={}, token=jwt)[0]
    return payload["token"]


def authenticate(client, scope, token=None, app_id=None, app_private_key=None, app_installation_id=None):
    """Give the client its bearer token: a PAT as is, or an App's installation token."""
    if app_id:
        client.token = installation_token(client, scope, app_id, app_private_key, app_installation_id)
    else:
        client.token = token
    return client


# --- runner endpoints ---------------------------------------------------------------
def list_runners(client, scope):
    return client.paginate(f"{scope}/actions/runners", "runners")


def registration_token(client, scope):
    return client.request("POST", f"{scope}/actions/runners/registration-token")[0]["token"]


def remove_token(client, scope):
    return client.request("POST", f"{scope}/actions/runners/remove-token")[0]["token"]


def get_runner(client, scope, runner_id):
    try:
        return client.request("GET", f"{scope}/actions/runners/{runner_id}")[0]
    except GitHubError as error:
        if error.status == 404:
            return None
        raise


def delete_runner(client, scope, runner_id):
    client.request("DELETE", f"{scope}/actions/runners/{runner_id}")


def set_labels(client, scope, runner_id, labels):
    client.request("PUT", f"{scope}/actions/runners/{runner_id}/labels", body={"labels": list(labels)})


def runner_group_id(client, scope, name):
    """ID of a runner group by name; repositories only have the default group (1)."""
    if not name or name == "Default":
        return 1
    if scope.startswith("repos/"):
        raise GitHubError(f"Runner group {name!r}: repository runners can only join the Default group.")
    groups = client.paginate(f"{scope}/actions/runner-groups", "runner_groups")
    for group in groups:
        if group["name"] == name:
            return group["id"]
    known = ", ".join(sorted(g["name"] for g in groups))
    raise GitHubError(f"Runner group {name!r} does not exist in {scope} (it has: {known}). Create it first.")


def generate_jitconfig(client, scope, name, group_id, labels, work_folder="_work"):
    body = {"name": name, "runner_group_id": group_id, "labels": list(labels), "work_folder": work_folder}
    return client.request("POST", f"{scope}/actions/runners/generate-jitconfig", body=body)[0]


# --- pure planning ------------------------------------------------------------------
def custom_labels(runner):
    return sorted(label["name"] for label in runner.get("labels", []) if label.get("type") == "custom")


def plan_runner(runners, name, labels, local_id):
    """What present needs for one runner: (action, runner on GitHub or None).

    ``local_id`` is the agent ID in the runner directory's .runner file (None when unconfigured).
    Actions: ``keep``; ``relabel`` (registered here, labels differ); ``register`` (unknown to
    GitHub); ``replace`` (GitHub has an offline runner of that name that is not this directory's);
    ``conflict`` (GitHub has an online runner of that name that is not this directory's).
    """
    same_name = [r for r in runners if r["name"] == name]
    mine = next((r for r in same_name if local_id is not None and r["id"] == local_id), None)
    if mine is not None:
        return ("keep" if custom_labels(mine) == sorted(set(labels)) else "relabel"), mine
    if not same_name:
        return "register", None
    other = same_name[0]
    return ("conflict" if other.get("status") == "online" else "replace"), other


def plan_sweep(runners, prefix, keep):
    """Offline runners whose name starts with prefix and that are not in keep."""
    return sorted(
        (r for r in runners if r["name"].startswith(prefix) and r["name"] not in keep and r.get("status") != "online"),
        key=lambda r: r["name"],
    )
