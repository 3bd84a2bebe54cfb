"""Client phones to salted hashes. Pure.

A number leaves the gateway only as HMAC-SHA256(LEAKWATCH_PHONE_HASH_SALT, its digits): the
same client has the same hash in every vendor's calls and in the phone -> deal table, so calls
still link to deals, while the topics, dead letters aside, never hold the number itself.
"""

from __future__ import annotations

import hashlib
import hmac
import re


def phone_key(raw: str) -> str:
    """+7 (916) 123-45-67, 8 916 123 45 67 and 79161234567 are one number."""
    digits = re.sub(r"\D", "", raw)
    if len(digits) == 11 and digits[0] == "8":
        digits = "7" + digits[1:]
    elif len(digits) == 10:
        digits = "7" + digits
    return digits


class PhoneHasher:
    def __init__(self, salt: str):
        if not salt:
            raise ValueError("an empty salt would make phone hashes reversible by brute force over numbers")
        self._salt = salt.encode()

    def __call__(self, raw: object) -> str | None:
        """None for what is not a phone number (an extension, a SIP URI without digits, empty)."""
        digits = phone_key(str(raw or ""))
        if len(digits) < 5:
            return None
        return hmac.new(self._salt, digits.encode(), hashlib.sha256).hexdigest()
