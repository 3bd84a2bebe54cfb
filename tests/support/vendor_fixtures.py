"""The vendor payloads in tests/fixtures/vendors, encoded and signed the way each vendor sends
them. The signing here is the test's own, written from the vendors' docs (not the gateway's code)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from urllib.parse import urlencode

import yaml

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vendors"
FORM = {"content-type": "application/x-www-form-urlencoded"}


def load(name: str) -> dict:
    return yaml.safe_load((FIXTURES / name).read_text(encoding="utf-8"))


def form(name: str, **overrides: str) -> bytes:
    """amoCRM / Bitrix24 / Zadarma: the fixture's form fields, in order, urlencoded."""
    fields = {**load(name)["fields"], **overrides}
    return urlencode(list(fields.items())).encode()


def answer(name: str) -> dict:
    return load(name)["answer"]


def mango_post(name: str, api_key: str, salt: str, **changes) -> tuple[str, bytes]:
    """(event path, body): json as Mango serialises it, sign = sha256(key + json + salt)."""
    doc = load(name)
    payload = {**doc["json"], **changes}
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    sign = hashlib.sha256((api_key + text + salt).encode()).hexdigest()
    return doc["event"], urlencode([("vpbx_api_key", api_key), ("sign", sign), ("json", text)]).encode()


ZADARMA_SIGNED = {  # from the SDK's getSignatureString() per event class
    "NOTIFY_START": ("caller_id", "called_did", "call_start"),
    "NOTIFY_END": ("caller_id", "called_did", "call_start"),
    "NOTIFY_OUT_END": ("internal", "destination", "call_start"),
    "NOTIFY_RECORD": ("pbx_call_id", "call_id_with_rec"),
}


def zadarma_post(name: str, secret: str) -> tuple[bytes, dict]:
    fields = load(name)["fields"]
    signed = "".join(fields.get(f, "") for f in ZADARMA_SIGNED[fields["event"]])
    hex_digest = hmac.new(secret.encode(), signed.encode(), hashlib.sha1).hexdigest()
    return urlencode(list(fields.items())).encode(), {**FORM, "Signature": base64.b64encode(hex_digest.encode()).decode()}
