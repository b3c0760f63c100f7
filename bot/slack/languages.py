"""Which language each Slack person reads: ``users.info`` with ``include_locale``, remembered.

Slack puts no locale on events, so it is asked once per person and kept for a while (people
rarely switch). Without the ``users:read`` scope, or when Slack fails, the person is
answered in the default language and Slack is not asked again until the entry expires."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

KEEP_S = 6 * 3600.0
KEEP_FAILED_S = 600.0
MAX_PEOPLE = 10_000


class PersonLanguages:
    def __init__(
        self, client: AsyncWebClient, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.client = client
        self.clock = clock
        self._known: dict[str, tuple[str | None, float]] = {}  # user → (locale, until)
        self._warned = False

    async def of(self, user: str) -> str | None:
        """The person's Slack locale (``zh-CN``, ``en-US``), or None when it is not known."""
        now = self.clock()
        known = self._known.get(user)
        if known is not None and now < known[1]:
            return known[0]
        try:
            resp = await self.client.users_info(user=user, include_locale=True)
            locale = (resp.get("user") or {}).get("locale")
            entry = (str(locale) if locale else None, now + KEEP_S)
        except (SlackApiError, OSError, TimeoutError) as exc:
            if not self._warned:
                self._warned = True
                log.warning("users.info failed (%s); people get the default language. "
                            "Does the app have the users:read scope?", _reason(exc))
            entry = (None, now + KEEP_FAILED_S)
        if len(self._known) >= MAX_PEOPLE:
            self._known.clear()
        self._known[user] = entry
        return entry[0]


def _reason(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or "error")
    return type(exc).__name__
