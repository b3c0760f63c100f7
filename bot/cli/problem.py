"""The CLI's own error type, apart from the reporter that prints it and the explainer
that builds it, so neither imports the other."""

from __future__ import annotations

from engine.errors import AppError


class CliProblem(AppError):
    """A failure the person can fix, already worded as the sentence that says how."""
