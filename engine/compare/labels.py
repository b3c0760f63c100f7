"""How a comparison names a column per workflow: ``summary [A]`` beside ``summary [B]``."""

from __future__ import annotations

from collections.abc import Sequence


def labelled(header: str, workflow: str) -> str:
    """``summary [A]``: a column of one workflow in a comparison."""
    return f"{header} [{workflow}]"


def side_by_side(headers: Sequence[str], workflows: Sequence[str]) -> list[str]:
    """Each header once per workflow, the workflows of one header next to each other."""
    return [labelled(h, w) for h in headers for w in workflows]
