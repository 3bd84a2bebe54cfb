"""Where alerts go: a generic JSON webhook, Telegram (Bot API sendMessage), Slack (incoming
webhook). Each target posts one notification or raises a failure saying whether a retry
can help. Error texts never contain the URLs: Telegram's and Slack's embed secrets."""

from __future__ import annotations

from typing import Protocol

import httpx

from leakwatch.settings import Settings
from services.notifier.notification import Notification
from services.notifier.texts import clip

RETRYABLE = {408, 425, 429}


class TemporaryFailure(Exception):
    def __init__(self, message: str, retry_after_s: float | None = None):
        super().__init__(message)
        self.retry_after_s = retry_after_s


class PermanentFailure(Exception):
    pass


class Target(Protocol):
    name: str

    def post(self, n: Notification) -> None: ...


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After header, or Telegram's {"parameters": {"retry_after": s}} on a 429."""
    try:
        return float(response.headers.get("retry-after", ""))
    except ValueError:
        pass
    try:
        return float(response.json()["parameters"]["retry_after"])
    except (ValueError, KeyError, TypeError):
        return None


def _send(client: httpx.Client, url: str, json: dict, headers: dict | None = None) -> httpx.Response:
    try:
        response = client.post(url, json=json, headers=headers)
    except httpx.HTTPError as exc:  # connection refused, timeout, reset: worth another try
        raise TemporaryFailure(type(exc).__name__) from None
    if response.status_code >= 500 or response.status_code in RETRYABLE:
        raise TemporaryFailure(f"HTTP {response.status_code}", _retry_after(response))
    if response.status_code >= 300:
        raise PermanentFailure(f"HTTP {response.status_code}: {response.text[:200]}")
    return response


class WebhookTarget:
    name = "webhook"

    def __init__(self, client: httpx.Client, url: str):
        self._client, self._url = client, url

    def post(self, n: Notification) -> None:
        # The receiver can drop a repeat (after our restart) by this header.
        _send(self._client, self._url, n.body, {"Idempotency-Key": n.key})


class TelegramTarget:
    name = "telegram"

    def __init__(self, client: httpx.Client, api_url: str, bot_token: str, chat_id: str):
        self._client, self._chat = client, chat_id
        self._url = f"{api_url.rstrip('/')}/bot{bot_token}/sendMessage"

    def post(self, n: Notification) -> None:
        response = _send(self._client, self._url,
                         {"chat_id": self._chat, "text": clip(n.text), "disable_web_page_preview": True})
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if isinstance(answer, dict) and answer.get("ok") is False:
            raise PermanentFailure(f"Telegram: {answer.get('description', 'not ok')}")


class SlackTarget:
    name = "slack"

    def __init__(self, client: httpx.Client, url: str):
        self._client, self._url = client, url

    def post(self, n: Notification) -> None:
        _send(self._client, self._url, {"text": n.text})


def targets_from_settings(settings: Settings, client: httpx.Client) -> list[Target]:
    targets: list[Target] = []
    if settings.notifier_webhook_url:
        targets.append(WebhookTarget(client, settings.notifier_webhook_url.get_secret_value()))
    if settings.notifier_telegram_bot_token and settings.notifier_telegram_chat_id:
        targets.append(TelegramTarget(client, settings.notifier_telegram_api_url,
                                      settings.notifier_telegram_bot_token.get_secret_value(),
                                      settings.notifier_telegram_chat_id))
    if settings.notifier_slack_webhook_url:
        targets.append(SlackTarget(client, settings.notifier_slack_webhook_url.get_secret_value()))
    return targets
