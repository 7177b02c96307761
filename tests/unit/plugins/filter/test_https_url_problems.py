"""keel.platform.https_url_problems: an https://host[:port] URL a daemon is pointed at, per variable."""

from __future__ import annotations

import pytest
from ansible_collections.keel.platform.plugins.filter import https_url_problems as module

NAME = "observability_agent_journal_upload_url"


def check(url):
    return module.https_url_problems(url, name=NAME)


@pytest.mark.parametrize(
    "url",
    [
        "https://journal:19532",
        "https://journal",
        "https://journal:19532/",
        "https://logs.example.org:443",
        "https://10.1.2.3:19532",
        "https://[2001:db8::5]:19532",
    ],
)
def test_valid_urls_have_no_problem(url):
    assert check(url) == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("", "is empty"),
        ("http://journal:19532", "is not https://"),
        ("journal:19532", "is not https://"),
        ("https://", "has no host"),
        ("https://:19532", "has no host"),
        ("https://journal:abc", "port 'abc' is not a port"),
        ("https://journal:0", "port '0' is not a port"),
        ("https://journal:70000", "port '70000' is not a port"),
        ("https://journal:19532/upload", "has a path ('/upload')"),
        ("https://journal:19532?x=1", "has a query or fragment"),
        ("https://user:pw@journal:19532", "has user information"),
        ("https://bad_host!:19532", "host 'bad_host!' is not a host name"),
        ("https://300.1.1.1:19532", "host '300.1.1.1' is not an IPv4 address"),
        ("https://[::zz]:19532", "is not an IPv6 address"),
        (" https://journal:19532", "has leading or trailing spaces"),
        (19532, "is not a string"),
    ],
)
def test_bad_urls_are_named(url, expected):
    problems = check(url)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{NAME} ")
    assert expected in problems[0]
    assert "https://host[:port]" in problems[0]


def test_user_information_is_never_repeated():
    # A password in the URL must not reach the play's output.
    problems = check("https://user:s3cret@journal:19532")
    assert "s3cret" not in " ".join(problems)


def test_filter_is_registered():
    assert module.FilterModule().filters()["https_url_problems"] is module.https_url_problems
