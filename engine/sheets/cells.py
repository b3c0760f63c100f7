"""One cell as a person typed it into the value Dify expects for its form field.

`coerce` says what is wrong (ValueError) in words a person understands; `converter`
resolves a field once so a big sheet pays the type dispatch per column, not per cell.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from engine.models import FieldType, FormField
from engine.sheets.sentences import sheet_phrase
from engine.text.phrases import Phrase

_TRUE = frozenset({"true", "yes", "y", "1", "on", "是", "真"})
_FALSE = frozenset({"false", "no", "n", "0", "off", "否", "假"})
_URL_SPLIT = re.compile(r"[\s,，]+")
_INT_TEXT = re.compile(r"[+-]?\d+")


class CellProblem(ValueError):
    """What is wrong with a cell, with its sentence code so it can be said in any language."""

    def __init__(self, phrase: Phrase) -> None:
        super().__init__(phrase.text)
        self.phrase = phrase


def _problem(code: str, **params: Any) -> CellProblem:
    return CellProblem(sheet_phrase(code, **params))


def loose(text: str) -> str:
    """A label or option as compared: no spaces, no required-marker star, any case."""
    return "".join(text.split()).strip("*").casefold()


def converter(field: FormField) -> Callable[[Any], Any]:
    """`coerce` for one field, with a shortcut for the commonest cells (text, plain numbers)."""
    if field.type in (FieldType.TEXT_INPUT, FieldType.PARAGRAPH):
        limit = field.max_length

        def text(raw: Any) -> Any:
            if type(raw) is str and (not limit or len(raw) <= limit):
                return raw
            return coerce(field, raw)

        return text
    if field.type is FieldType.NUMBER:

        def number(raw: Any) -> Any:
            if type(raw) is float and math.isfinite(raw) and not raw.is_integer():
                return raw
            return _number(raw)

        return number
    return lambda raw: coerce(field, raw)


def coerce(field: FormField, raw: Any) -> Any:
    """Turn one non-empty cell into the value Dify expects for ``field``; ValueError says what is wrong."""
    t = field.type
    if t is FieldType.NUMBER:
        return _number(raw)
    if t is FieldType.CHECKBOX:
        return _checkbox(raw)
    text = _text(raw)
    if t is FieldType.SELECT:
        return _select(field, text)
    if t is FieldType.JSON_OBJECT:
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise _problem("not_json", error=exc.msg, pos=exc.pos + 1) from exc
        if not isinstance(obj, dict):
            raise _problem("not_json_object")
        return obj
    if t is FieldType.FILE:
        urls = [u for u in _URL_SPLIT.split(text) if u]
        if len(urls) != 1:
            raise _problem("one_url")
        return _url(urls[0])
    if t is FieldType.FILE_LIST:
        urls = [_url(u) for u in _URL_SPLIT.split(text) if u]
        if field.max_length and len(urls) > field.max_length:
            raise _problem("too_many_files", limit=field.max_length, n=len(urls))
        return urls
    if field.max_length and len(text) > field.max_length:
        raise _problem("too_long", n=len(text), limit=field.max_length)
    return text


def _text(raw: Any) -> str:
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


def _number(raw: Any) -> int | float:
    if isinstance(raw, bool):
        raise _problem("number_not_bool")
    if isinstance(raw, str):
        s = raw.strip()
        if _INT_TEXT.fullmatch(s):
            return int(s)
        try:
            raw = float(s)
        except ValueError:
            raise _problem("not_number", value=_short(s)) from None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise _problem("not_finite")
        return int(raw) if raw.is_integer() and abs(raw) < 2**53 else raw
    raise _problem("not_number", value=_short(str(raw)))


def _checkbox(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    key = _text(raw).strip().casefold()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise _problem("not_checkbox", value=_short(str(raw)))


def _select(field: FormField, text: str) -> str:
    if text in field.options:
        return text
    near = [o for o in field.options if loose(o) == loose(text)]
    if len(near) == 1:  # a case or spacing slip still names one option unambiguously
        return near[0]
    shown = ", ".join(f"'{o}'" for o in field.options[:20]) + (" …" if len(field.options) > 20 else "")
    raise _problem("not_option", value=_short(text), options=shown)


def _url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise _problem("not_url", value=_short(text))
    return text


def _short(s: str, n: int = 40) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def cell_value(v: Any) -> Any:
    """A cell as a JSON-like value: empty → None, dates and times → ISO text."""
    t = type(v)
    if t is str:
        return v if v and not v.isspace() else None
    if t is float or t is int or t is bool:
        return v
    if isinstance(v, datetime | date | time):
        return v.isoformat()
    if isinstance(v, timedelta):
        return str(v)
    return v
