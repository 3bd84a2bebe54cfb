"""Shared-secret checks. A token may come in a header (`X-Leakwatch-Token` or
`Authorization: Bearer`) or in the query (`?token=`) for vendors that cannot set headers
(amoCRM); Bitrix24 also sends its own `auth[application_token]`."""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping

from pydantic import SecretStr


def presented(headers: Mapping[str, str], query: Mapping[str, str]) -> list[str]:
    tokens = [headers.get("x-leakwatch-token"), query.get("token")]
    scheme, _, credentials = (headers.get("authorization") or "").partition(" ")
    if scheme.lower() == "bearer":
        tokens.append(credentials.strip())
    return [t for t in tokens if t]


def token_ok(expected: SecretStr | None, tokens: Iterable[str]) -> bool:
    """No configured secret means the source is closed, never open."""
    if expected is None or not expected.get_secret_value():
        return False
    secret = expected.get_secret_value().encode()
    return any(hmac.compare_digest(secret, t.encode()) for t in tokens)
