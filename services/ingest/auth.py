"""Each source's own authentication, always a constant-time compare, and a secret opens its
own source only. No configured secret means the source is closed, never open.

- amoCRM, generic telephony, canonical events, reviews: a token in a header
  (`X-Leakwatch-Token` or `Authorization: Bearer`) or in the query (`?token=`, for amoCRM,
  whose hook URL is all it sends); checked before the body is read.
- Bitrix24: the portal's `auth[application_token]` form field.
- Mango Office: `vpbx_api_key` must be ours and `sign = sha256(vpbx_api_key + json + vpbx_api_salt)`.
- Zadarma: `Signature` header = base64(hex HMAC-SHA1(secret, the event's documented fields)).
The body-borne checks run on the raw form fields before any JSON inside is decoded.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping

from pydantic import SecretStr


def presented(headers: Mapping[str, str], query: Mapping[str, str]) -> list[str]:
    tokens = [headers.get("x-leakwatch-token"), query.get("token")]
    scheme, _, credentials = (headers.get("authorization") or "").partition(" ")
    if scheme.lower() == "bearer":
        tokens.append(credentials.strip())
    return [t for t in tokens if t]


def _secret(expected: SecretStr | None) -> bytes | None:
    if expected is None or not expected.get_secret_value():
        return None
    return expected.get_secret_value().encode()


def token_ok(expected: SecretStr | None, tokens: Iterable[str]) -> bool:
    secret = _secret(expected)
    if secret is None:
        return False
    return any(hmac.compare_digest(secret, t.encode()) for t in tokens)


def mango_sign_ok(api_key: SecretStr | None, salt: SecretStr | None, form: Mapping[str, str]) -> bool:
    key, salt_b = _secret(api_key), _secret(salt)
    if key is None or salt_b is None:
        return False
    sent_key, sign, body = (form.get(name, "") for name in ("vpbx_api_key", "sign", "json"))
    expected = hashlib.sha256(key + body.encode() + salt_b).hexdigest()
    # Both compared, always: no early exit that tells a prober which half was wrong.
    key_ok = hmac.compare_digest(key, sent_key.encode())
    return key_ok & hmac.compare_digest(expected.encode(), sign.lower().encode())


def zadarma_signature(secret: bytes, signed: str) -> str:
    digest = hmac.new(secret, signed.encode(), hashlib.sha1).hexdigest()
    return base64.b64encode(digest.encode()).decode()


def zadarma_signature_ok(secret: SecretStr | None, signed: str | None, header: str | None) -> bool:
    key = _secret(secret)
    if key is None or signed is None or not header:
        return False
    return hmac.compare_digest(zadarma_signature(key, signed).encode(), header.strip().encode())
