"""Shared fixtures: the fakes on loopback, a temporary data directory."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def english_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's English is what most tests read: a machine whose locale is Chinese must not
    change it, in this process or in a `dify-batch` it starts with this environment. The
    tests of other languages set LC_ALL / LANG themselves."""
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    monkeypatch.delenv("LC_MESSAGES", raising=False)
