"""One logging set-up for every leakwatch process. Logs carry ids, never transcript text."""

from __future__ import annotations

import logging


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs request URLs, and Bitrix24's REST URL and Telegram's embed their keys.
    logging.getLogger("httpx").setLevel(logging.WARNING)
