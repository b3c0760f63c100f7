"""A second workflow for comparison tests: ``summarize-v2`` on its own FakeDify, which
answers every other row differently than ``summarize`` does."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable
from typing import Any

from openpyxl import load_workbook

from bot.config import Config, Secret
from tests.fakes.dify import FakeDify
from tests.fakes.dify_script import JsonDict

SECOND = "summarize-v2"


def second_version(inputs: JsonDict, query: str | None) -> JsonDict:
    """Even rows ("row 2", "text 4") get another result; the length stays the same."""
    text = str(inputs.get("text", ""))
    number = int(text.rsplit(" ", 1)[-1])
    return {"result": f"{text} (v2)" if number % 2 == 0 else f"{text} ✓", "length": len(text)}


def with_second(second: FakeDify) -> Callable[[Config], Config]:
    """A config adjustment adding ``summarize-v2`` (a copy of ``summarize``) on ``second``."""

    def adjust(config: Config) -> Config:
        first = config.workflows["summarize"]
        settings = dataclasses.replace(first.settings, name=SECOND, concurrency=2)
        copy = dataclasses.replace(first, settings=settings, base_url=second.base_url,
                                   api_key=Secret(second.api_key))
        return dataclasses.replace(config, workflows={**config.workflows, SECOND: copy})

    return adjust


def workbook(data: bytes) -> tuple[list[dict[str, Any]], dict[str, list[Any]]]:
    """A comparison workbook's Results rows (by header) and its Compare sheet (by label)."""
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Results", "Compare"]
    rows = list(book["Results"].iter_rows(values_only=True))
    header = [str(h) for h in rows[0]]
    results = [dict(zip(header, r, strict=True)) for r in rows[1:]]
    compare = {str(r[0]): list(r[1:]) for r in book["Compare"].iter_rows(values_only=True) if r[0]}
    return results, compare
