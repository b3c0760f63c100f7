"""Text formatting as the Bot API does it: parse_mode to plain text + entities (UTF-16 offsets)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from tests.fakes.telegram_model import TelegramError

_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")

_HTML_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "tg-spoiler": "spoiler",
    "code": "code", "pre": "pre", "a": "text_link", "blockquote": "blockquote", "span": "spoiler",
    "tg-emoji": "custom_emoji",
}
_MD_RESERVED = set("_*[]()~`>#+-=|{}.!")


def utf16_len(text: str) -> int:
    # Entity offsets and lengths count UTF-16 code units, not code points.
    return len(text.encode("utf-16-le")) // 2


def _parse_error(text: str) -> TelegramError:
    return TelegramError(400, f"Bad Request: can't parse entities: {text}")


def command_entities(text: str) -> list[dict[str, Any]]:
    """bot_command entities as Telegram clients attach them to "/cmd" words."""
    return [
        {"type": "bot_command", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group())}
        for m in _COMMAND.finditer(text)
    ]


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.stack: list[tuple[str, int, dict[str, Any]]] = []
        self.entities: list[dict[str, Any]] = []

    def _pos(self) -> int:
        return utf16_len("".join(self.out))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kind = _HTML_TAGS.get(tag)
        attr = dict(attrs)
        if kind is None or (tag == "span" and attr.get("class") != "tg-spoiler"):
            raise _parse_error(f'Unsupported start tag "{tag}" at byte offset {self._pos()}')
        extra: dict[str, Any] = {}
        if tag == "a":
            extra["url"] = attr.get("href") or ""
        if tag == "tg-emoji":
            extra["custom_emoji_id"] = attr.get("emoji-id") or ""
        self.stack.append((tag, self._pos(), {"type": kind, **extra}))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1][0] != tag:
            raise _parse_error(f'Unmatched end tag at byte offset {self._pos()}, expected "</{tag}>"')
        _, start, entity = self.stack.pop()
        if self._pos() > start:
            self.entities.append({**entity, "offset": start, "length": self._pos() - start})

    def handle_data(self, data: str) -> None:
        self.out.append(data)


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    parser = _Html()
    parser.feed(text)
    parser.close()
    if parser.stack:
        raise _parse_error(f'Can\'t find end tag corresponding to start tag "{parser.stack[-1][0]}"')
    return "".join(parser.out), sorted(parser.entities, key=lambda e: e["offset"])


_MD_MARKS = [("```", "pre"), ("||", "spoiler"), ("__", "underline"), ("`", "code"), ("*", "bold"),
             ("_", "italic"), ("~", "strikethrough")]


def parse_markdown(text: str, *, v2: bool) -> tuple[str, list[dict[str, Any]]]:
    """MarkdownV2 (strict escaping) or legacy Markdown: a faithful subset, enough for bot output."""
    out: list[str] = []
    entities: list[dict[str, Any]] = []
    stack: list[tuple[str, str, int]] = []  # (mark, type, offset)
    pos = 0

    def here() -> int:
        return utf16_len("".join(out))

    marks = _MD_MARKS if v2 else [m for m in _MD_MARKS if m[0] in {"```", "`", "*", "_"}]
    while pos < len(text):
        ch = text[pos]
        in_code = bool(stack) and stack[-1][1] in {"code", "pre"}
        if ch == "\\" and pos + 1 < len(text) and (v2 or text[pos + 1] in "_*`["):
            out.append(text[pos + 1])
            pos += 2
            continue
        mark = next((m for m in marks if text.startswith(m[0], pos)), None)
        if mark and (not in_code or mark[0] == stack[-1][0]):
            if stack and stack[-1][0] == mark[0]:
                _, kind, start = stack.pop()
                if here() > start:
                    entities.append({"type": kind, "offset": start, "length": here() - start})
            else:
                stack.append((mark[0], mark[1], here()))
            pos += len(mark[0])
            continue
        if ch == "[" and not in_code:
            close = text.find("](", pos)
            end = text.find(")", close) if close != -1 else -1
            if close != -1 and end != -1:
                label, _ = parse_markdown(text[pos + 1 : close], v2=v2)
                entities.append({"type": "text_link", "offset": here(), "length": utf16_len(label),
                                 "url": text[close + 2 : end]})
                out.append(label)
                pos = end + 1
                continue
        if v2 and not in_code and ch in _MD_RESERVED:
            raise _parse_error(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")
        out.append(ch)
        pos += 1
    if stack:
        kind = stack[-1][1].capitalize()
        raise _parse_error(f"Can't find end of {kind} entity at byte offset {stack[-1][2]}")
    return "".join(out), sorted(entities, key=lambda e: e["offset"])


def render(text: str, parse_mode: str | None, entities: Any) -> tuple[str, list[dict[str, Any]]]:
    """Turn (text, parse_mode, entities) from a request into what the message will hold."""
    if entities:
        return text, list(entities)
    mode = (parse_mode or "").lower()
    if not mode:
        return text, []
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown(text, v2=True)
    if mode == "markdown":
        return parse_markdown(text, v2=False)
    raise TelegramError(400, f"Bad Request: unsupported parse_mode {parse_mode}")
