"""Who may do what on the board. Reviews change the numbers, so they always need the token
(LEAKWATCH_WEB_TOKEN); read-only views are open only while the board listens on loopback.

A token arrives as `Authorization: Bearer <token>`, as basic auth (any user name, the token
as the password; the name is the reviewer), or as the login form's cookie: the reviewer's
name and an HMAC of it under the token, so the cookie proves the token without holding it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import socket

from leakwatch.errors import StartupError

COOKIE = "leakwatch_reviewer"


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or a name that resolves only to them ("localhost")."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror:
        return False
    return bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)


def check_bind(host: str, token: str | None) -> None:
    """Refuse to serve beyond this machine without credentials."""
    if not token and not is_loopback(host):
        raise StartupError(f"the web board would listen on {host} without credentials: "
                           "set LEAKWATCH_WEB_TOKEN or bind it to 127.0.0.1 (LEAKWATCH_SINK_WEB_HOST, which serves it)")


def cookie_value(reviewer: str, token: str) -> str:
    mac = hmac.new(token.encode(), reviewer.encode(), hashlib.sha256).hexdigest()
    return base64.urlsafe_b64encode(reviewer.encode()).decode() + "." + mac


def reviewer_from(headers: dict[str, str], cookies: dict[str, str], token: str | None) -> str | None:
    """The authenticated reviewer's name, or None. Never authenticates without a token set."""
    if not token:
        return None
    auth = headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode()):
        return "api"
    if scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(value.strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        if hmac.compare_digest(password.encode(), token.encode()):
            return user or "api"
        return None
    raw = cookies.get(COOKIE)
    if raw and "." in raw:
        encoded, _, mac = raw.rpartition(".")
        try:
            reviewer = base64.urlsafe_b64decode(encoded.encode()).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        if reviewer and hmac.compare_digest(cookie_value(reviewer, token), raw):
            return reviewer
    return None
