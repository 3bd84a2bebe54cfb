"""Who may review, and where the board may listen."""

from __future__ import annotations

import base64

import pytest

from leakwatch.errors import StartupError
from leakwatch.web.auth import COOKIE, check_bind, cookie_value, is_loopback, reviewer_from


def basic(user: str, password: str) -> dict:
    return {"authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.mark.parametrize("host,loopback", [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True),
                                           ("[::1]", True), ("localhost", True), ("0.0.0.0", False),
                                           ("10.0.0.5", False), ("::", False), ("no-such-host.invalid", False)])
def test_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_no_credentials_beyond_loopback():
    check_bind("127.0.0.1", None)
    check_bind("0.0.0.0", "secret")
    with pytest.raises(StartupError, match="LEAKWATCH_WEB_TOKEN"):
        check_bind("0.0.0.0", None)


def test_bearer_basic_and_cookie():
    assert reviewer_from({"authorization": "Bearer s3"}, {}, "s3") == "api"
    assert reviewer_from({"authorization": "Bearer s4"}, {}, "s3") is None
    assert reviewer_from(basic("Мария", "s3"), {}, "s3") == "Мария"
    assert reviewer_from(basic("Мария", "nope"), {}, "s3") is None
    assert reviewer_from({"authorization": "Basic %%%"}, {}, "s3") is None
    assert reviewer_from({}, {COOKIE: cookie_value("Олег", "s3")}, "s3") == "Олег"


def test_a_forged_or_stale_cookie_is_refused():
    good = cookie_value("Олег", "s3")
    forged = cookie_value("Мария", "guess")
    assert reviewer_from({}, {COOKIE: forged}, "s3") is None
    assert reviewer_from({}, {COOKIE: good}, "rotated") is None  # a new token logs everyone out
    assert reviewer_from({}, {COOKIE: good.replace(".", "x")}, "s3") is None


def test_nothing_authenticates_without_a_token():
    assert reviewer_from({"authorization": "Bearer "}, {}, None) is None
    assert reviewer_from(basic("a", ""), {}, "") is None
