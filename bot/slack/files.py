"""Inbound Slack files: the fields we need from a file object, and a guarded private download."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

_CHUNK = 64 * 1024
_TIMEOUT = aiohttp.ClientTimeout(total=120, sock_connect=15)
# what a sign-in page or error page starts with, whatever Content-Type came with it
_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<!--")


class DownloadError(Exception):
    """Why a file could not be fetched: ``html`` (sign-in page), ``too_big`` or ``failed``."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class SharedFile:
    id: str
    name: str
    size: int | None
    url: str

    @classmethod
    def from_event(cls, obj: dict[str, Any]) -> SharedFile:
        size = obj.get("size")
        return cls(
            id=str(obj.get("id") or ""),
            name=str(obj.get("name") or obj.get("title") or "upload"),
            size=size if isinstance(size, int) else None,
            url=str(obj.get("url_private_download") or obj.get("url_private") or ""),
        )

    @property
    def complete(self) -> bool:
        """False for Slack Connect's ``file_access: check_file_info`` stubs: ask files.info."""
        return bool(self.url) and self.size is not None


async def download(url: str, bot_token: str, max_bytes: int) -> bytes:
    """GET a ``url_private`` with the bot token; refuse HTML and anything over ``max_bytes``.

    Slack answers 200 with its sign-in page when the token lacks access, so a success status
    proves nothing: the bytes are checked too.
    """
    headers = {"Authorization": f"Bearer {bot_token}"}
    try:
        async with aiohttp.ClientSession(timeout=_TIMEOUT) as session, session.get(
            url, headers=headers
        ) as resp:
            if resp.status != 200:
                raise DownloadError("failed")
            if resp.content_type == "text/html":
                raise DownloadError("html")
            if resp.content_length is not None and resp.content_length > max_bytes:
                raise DownloadError("too_big")
            data = bytearray()
            async for chunk in resp.content.iter_chunked(_CHUNK):
                data += chunk
                if len(data) > max_bytes:
                    raise DownloadError("too_big")
    except (aiohttp.ClientError, TimeoutError):
        raise DownloadError("failed") from None
    if bytes(data[:64]).lstrip().lower().startswith(_HTML_STARTS):
        raise DownloadError("html")
    return bytes(data)
