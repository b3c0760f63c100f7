"""The workflow keys that say what runs: a pinned app version and the context inputs."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from bot.config_reader import ConfigReader
from bot.config_sentences import config_phrase
from engine.context import SOURCES
from engine.models import AppType

PIN_KEYS = {"workflow_id", "context"}


def pinned_version(r: ConfigReader, t: Mapping[str, Any], where: str, app_type: AppType) -> str | None:
    """``workflow_id``: a published version's UUID, for workflow apps only."""
    if "workflow_id" not in t:
        return None
    value = r.value(t, where, "workflow_id", str, "").strip()
    if app_type is not AppType.WORKFLOW:
        r.problems.append(config_phrase("pin_not_workflow", where=where, app_type=app_type.value))
        return None
    try:
        uuid.UUID(value)
    except ValueError:
        r.problems.append(config_phrase("pin_not_uuid", where=where, value=value))
        return None
    return value.lower()


def context_map(r: ConfigReader, t: Mapping[str, Any], where: str) -> tuple[tuple[str, str], ...]:
    """``[workflows.W.context]``: app variable = one of row, batch, file, owner."""
    table = t.get("context", {})
    if not isinstance(table, Mapping):
        r.problems.append(config_phrase("context_table", where=where))
        return ()
    pairs = []
    for variable, source in table.items():
        if source not in SOURCES:
            r.problems.append(config_phrase(
                "context_source", where=where, variable=variable, sources=", ".join(SOURCES), source=source
            ))
            continue
        pairs.append((str(variable), str(source)))
    return tuple(pairs)
