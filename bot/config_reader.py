"""Checked look-ups in the raw TOML tables; the one place secrets are read from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from bot.config import Secret
from bot.config_sentences import config_phrase
from engine.text.phrases import Phrase

T = TypeVar("T")


class ConfigReader:
    """Typed look-ups that record a problem instead of raising, so all are reported."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.problems: list[str | Phrase] = []

    def section(self, raw: Mapping[str, Any], name: str) -> Mapping[str, Any]:
        value = raw.get(name, {})
        if not isinstance(value, Mapping):
            self.problems.append(config_phrase("not_a_table", where=name))
            return {}
        return value

    def value(
        self, table: Mapping[str, Any], where: str, key: str, kind: type[T], default: T
    ) -> T:
        value = table.get(key, default)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.problems.append(config_phrase(f"must_be_{kind.__name__}", where=where, key=key, value=value))
            return default
        return value

    def positive(
        self, table: Mapping[str, Any], where: str, key: str, kind: type[T], default: T
    ) -> T:
        value = self.value(table, where, key, kind, default)
        if isinstance(value, int | float) and value <= 0:
            self.problems.append(config_phrase("must_be_positive", where=where, key=key))
            return default
        return value

    def choice(
        self, table: Mapping[str, Any], where: str, key: str, options: tuple[str, ...]
    ) -> str:
        value = self.value(table, where, key, str, options[0])
        if value not in options:
            self.problems.append(
                config_phrase("must_be_choice", where=where, key=key, options=", ".join(options), value=value)
            )
            return options[0]
        return value

    def strings(self, table: Any, where: str, key: str) -> tuple[str, ...]:
        value = table.get(key, []) if isinstance(table, Mapping) else []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problems.append(config_phrase("must_be_strings", where=where, key=key))
            return ()
        return tuple(value)

    def secret(self, table: Mapping[str, Any], where: str, key: str, default_env: str) -> Secret:
        env_name = self.value(table, where, key, str, default_env)
        value = self.environ.get(env_name, "")
        if not value:
            self.problems.append(config_phrase("env_missing", where=where, key=key, env=env_name))
        return Secret(value)

    def unknown_keys(self, table: Mapping[str, Any], where: str, known: set[str]) -> None:
        for key in table:
            if key not in known:
                self.problems.append(config_phrase("unknown_key", where=where, key=key))
