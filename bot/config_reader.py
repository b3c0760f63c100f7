"""Checked look-ups in the raw TOML tables; the one place secrets are read from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from bot.config import Secret

T = TypeVar("T")


class ConfigReader:
    """Typed look-ups that record a problem instead of raising, so all are reported."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.problems: list[str] = []

    def section(self, raw: Mapping[str, Any], name: str) -> Mapping[str, Any]:
        value = raw.get(name, {})
        if not isinstance(value, Mapping):
            self.problems.append(f"[{name}] must be a table")
            return {}
        return value

    def value(
        self, table: Mapping[str, Any], where: str, key: str, kind: type[T], default: T
    ) -> T:
        value = table.get(key, default)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.problems.append(f"{where}.{key} must be {kind.__name__}, not {value!r}")
            return default
        return value

    def positive(
        self, table: Mapping[str, Any], where: str, key: str, kind: type[T], default: T
    ) -> T:
        value = self.value(table, where, key, kind, default)
        if isinstance(value, int | float) and value <= 0:
            self.problems.append(f"{where}.{key} must be above 0")
            return default
        return value

    def choice(
        self, table: Mapping[str, Any], where: str, key: str, options: tuple[str, ...]
    ) -> str:
        value = self.value(table, where, key, str, options[0])
        if value not in options:
            self.problems.append(f"{where}.{key} must be one of {', '.join(options)}, not {value!r}")
            return options[0]
        return value

    def strings(self, table: Any, where: str, key: str) -> tuple[str, ...]:
        value = table.get(key, []) if isinstance(table, Mapping) else []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problems.append(f"{where}.{key} must be a list of strings")
            return ()
        return tuple(value)

    def secret(self, table: Mapping[str, Any], where: str, key: str, default_env: str) -> Secret:
        env_name = self.value(table, where, key, str, default_env)
        value = self.environ.get(env_name, "")
        if not value:
            self.problems.append(f"{where}.{key}: environment variable {env_name} is not set")
        return Secret(value)

    def unknown_keys(self, table: Mapping[str, Any], where: str, known: set[str]) -> None:
        for key in table:
            if key not in known:
                self.problems.append(f"{where}: unknown key {key!r}")
