"""The error tree of the whole project.

    AppError
    ├── InputError            the user's fault; the message is shown to them verbatim
    │   ├── SheetError        a file that is not a usable sheet (``problems`` lists why)
    │   ├── CommandError      a command that cannot be understood or is not allowed
    │   └── WhenError         a schedule time that cannot be read or lies in the past
    ├── StateError
    │   ├── NotFound          no such batch / schedule
    │   ├── InvalidTransition a state change the state machine forbids
    │   └── AlreadyExists     a unique key (e.g. a schedule firing) is taken
    ├── ConfigError           every problem of a config file at once (``problems``, with codes)
    └── WorkflowError         a call to the Dify app failed
        ├── TransientWorkflowError  retry later (``retry_after_s``, ``overload``)
        └── PermanentWorkflowError  fail the row with Dify's message
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.text.phrases import Phrase


class AppError(Exception):
    """Base of every error this project raises on purpose."""


class InputError(AppError):
    """Bad input from a person: the message is safe to show as it is."""


class SheetError(InputError):
    """A file that cannot be used as a sheet. ``problems`` holds one line per reason.

    Given as `Phrase`s, the message and the lines keep their codes (``phrase``,
    ``problem_phrases``) so a front end can say them in the reader's language; ``str()``
    and ``problems`` are the English."""

    def __init__(self, message: str | Phrase, problems: Sequence[str | Phrase] = ()) -> None:
        super().__init__(str(message))
        self.phrase = message
        self.problems = tuple(str(p) for p in problems)
        self.problem_phrases = tuple(problems)


class CommandError(InputError):
    """A command that cannot be parsed, or that the person may not run."""


class WhenError(InputError):
    """A schedule time that cannot be understood or is already past (``phrase``: its code)."""

    def __init__(self, message: str | Phrase) -> None:
        super().__init__(str(message))
        self.phrase = message


class StateError(AppError):
    """The stored state does not allow what was asked."""


class NotFound(StateError):
    """No such batch, row or schedule."""


class InvalidTransition(StateError):
    """A state change the state machine forbids (e.g. resuming a finished batch)."""

    def __init__(self, message: str | Phrase) -> None:
        super().__init__(str(message))
        self.phrase = message


class AlreadyExists(StateError):
    """A unique key is already taken, e.g. a schedule's firing already made its batch."""


class ConfigError(AppError):
    """Every problem of a configuration, listed at once.

    Each problem may be a `Phrase` (a code and its params, `bot.config_sentences`), kept in
    ``problem_phrases`` so the CLI can say it in the terminal's language; ``problems`` and
    ``str()`` are the English."""

    def __init__(self, problems: Sequence[str | Phrase]) -> None:
        self.problem_phrases = tuple(problems)
        self.problems = tuple(str(p) for p in problems)
        super().__init__("invalid configuration:\n" + "\n".join(f"- {p}" for p in self.problems))


class WorkflowError(AppError):
    """A call to the Dify app failed. ``status`` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class TransientWorkflowError(WorkflowError):
    """Worth retrying: connection errors, timeouts, 429/5xx, Dify's "Too many requests".

    ``overload`` marks answers that say the app is saturated (429, "Too many requests"):
    they pause the lane and do not use up the row's attempts. ``outage`` marks answers that
    say Dify itself cannot be reached (connection refused, DNS, a proxy's 502/503/504): the
    lane waits for Dify, the row keeps its attempts. ``run_id``/``task_id`` are
    set when a stream was cut after Dify had started the run, so it must be reconciled
    before any re-run.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retry_after_s: float | None = None,
        overload: bool = False,
        outage: bool = False,
        run_id: str | None = None,
        task_id: str | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code)
        self.retry_after_s = retry_after_s
        self.overload = overload
        self.outage = outage
        self.run_id = run_id
        self.task_id = task_id


class PermanentWorkflowError(WorkflowError):
    """Not worth retrying: bad inputs, bad key, unknown app. Fails the row at once."""


DIFY_ERROR_KINDS = (
    "rate_limited", "busy", "server_error", "timeout", "cut_stream", "unreachable", "rejected",
)


def dify_error_kind(error: BaseException) -> str:
    """Which of `DIFY_ERROR_KINDS` a failed call to Dify was, for the metrics.

    Read from what the client raises: 429 is a rate limit, Dify's "Too many requests" 400
    means the app is busy, a cause that is a timeout is one, a stream that broke once Dify
    had named the run (or ended early) was cut, and any other network failure means Dify
    could not be reached."""
    if isinstance(error, TimeoutError):
        return "timeout"
    if isinstance(error, PermanentWorkflowError):
        return "rejected"
    if not isinstance(error, TransientWorkflowError):
        return "unreachable"
    if error.overload:
        return "rate_limited" if error.status == 429 else "busy"
    if error.status is not None:
        return "server_error"
    cause = error.__cause__
    if error.run_id is None and type(cause).__name__ in _CONNECT_ERRORS:
        return "unreachable"
    if isinstance(cause, TimeoutError) or type(cause).__name__.endswith("Timeout"):
        return "timeout"
    return "cut_stream"


# httpx-aiohttp reports a refused connection as httpx's ConnectTimeout
_CONNECT_ERRORS = frozenset({
    "ConnectError", "ConnectTimeout", "ClientConnectorError", "ClientConnectorDNSError",
    "ClientConnectionError", "ConnectionRefusedError", "OSError", "gaierror",
})
