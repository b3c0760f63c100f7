"""ScriptedWorkflow: the `WorkflowClient` port in memory, with scripted latency, faults and counters.

Each row is told apart by a key taken from its inputs (``inputs["key"]`` by default).
`script(key, *steps)` queues answers for that row's calls in order; calls beyond the
script, and rows without one, get `default`.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.errors import TransientWorkflowError
from engine.lanes.lane import Lane
from engine.models import (
    Batch,
    FoundRun,
    InputForm,
    JsonDict,
    ParsedSheet,
    Progress,
    Row,
    RunResult,
    SheetRow,
)
from engine.ports import RunStarted
from engine.service import BatchService
from engine.settings import WorkflowSettings
from tests.fakes.memory_store import InMemoryStore


@dataclass(frozen=True)
class Step:
    """One scripted answer.

    ``outcome``: None (success echoing the inputs), a `RunResult`, or an exception to raise.
    ``hang``: never answer until stopped (``stoppable``) — then end `stopped` as Dify does.
    ``cut``: name the run, then raise a stream cut (`TransientWorkflowError` with the run
    id) while the run goes on remotely; `fetch_run` then reports ``remote`` (default: it
    succeeded), or ``running`` when ``remote`` has that status.
    """

    latency_s: float = 0.0
    outcome: RunResult | Exception | None = None
    hang: bool = False
    stoppable: bool = True
    cut: bool = False
    remote: RunResult | None = None


@dataclass
class Call:
    key: str
    trace_id: str
    user: str
    inputs: JsonDict
    query: str | None
    at: float


@dataclass
class _Run:
    run_id: str
    task_id: str
    stopped: asyncio.Event = field(default_factory=asyncio.Event)


class ScriptedWorkflow:
    def __init__(
        self,
        *,
        default: Step | None = None,
        key: Callable[[JsonDict], str] = lambda inputs: str(inputs.get("key")),
        form: InputForm | None = None,
    ) -> None:
        self.default = default or Step(latency_s=0.001)
        self._key = key
        self._form = form or InputForm(())
        self._scripts: dict[str, deque[Step]] = defaultdict(deque)
        self.calls: list[Call] = []
        self.calls_by_key: Counter[str] = Counter()
        self.calls_by_trace: Counter[str] = Counter()
        self.in_flight = 0
        self.peak_in_flight = 0
        self.stops: list[str] = []
        self.fetches: list[str] = []
        self.remote: dict[str, RunResult | None] = {}
        """What `fetch_run` answers per run id; tests may set entries (None = 404)."""
        self._runs: dict[str, _Run] = {}
        self._seq = 0

    def script(self, key: str, *steps: Step) -> None:
        self._scripts[key].extend(steps)

    async def form(self) -> InputForm:
        return self._form

    async def run(
        self,
        inputs: JsonDict,
        *,
        user: str,
        trace_id: str,
        query: str | None = None,
        on_started: RunStarted | None = None,
    ) -> RunResult:
        key = self._key(inputs)
        self.calls.append(Call(key, trace_id, user, dict(inputs), query, time.monotonic()))
        self.calls_by_key[key] += 1
        self.calls_by_trace[trace_id] += 1
        script = self._scripts.get(key)
        step = script.popleft() if script else self.default
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            return await self._answer(step, inputs, on_started)
        finally:
            self.in_flight -= 1

    async def _answer(self, step: Step, inputs: JsonDict, on_started: RunStarted | None) -> RunResult:
        names_run = step.cut or not isinstance(step.outcome, Exception)
        run = self._new_run() if names_run else None
        if run is not None:
            self.remote[run.run_id] = RunResult("running", run_id=run.run_id, task_id=run.task_id)
            if on_started is not None:
                await on_started(run.run_id, run.task_id)
        if step.hang:
            if not step.stoppable:
                await asyncio.Event().wait()
            assert run is not None
            await run.stopped.wait()
            return self._finish(run, RunResult("stopped", error="Stopped by user."))
        if step.latency_s:
            stop = run.stopped if run is not None and step.stoppable else asyncio.Event()
            try:
                async with asyncio.timeout(step.latency_s):
                    await stop.wait()
                return self._finish(run, RunResult("stopped", error="Stopped by user."))
            except TimeoutError:
                pass
        if step.cut:
            assert run is not None
            self.remote[run.run_id] = step.remote or self._success(run, inputs)
            raise TransientWorkflowError("stream cut", run_id=run.run_id, task_id=run.task_id)
        if isinstance(step.outcome, Exception):
            raise step.outcome
        result = step.outcome or self._success(run, inputs)
        return self._finish(run, result)

    def _new_run(self) -> _Run:
        self._seq += 1
        run = _Run(f"run-{self._seq}", f"task-{self._seq}")
        self._runs[run.task_id] = run
        return run

    def _success(self, run: _Run | None, inputs: JsonDict) -> RunResult:
        run_id = run.run_id if run else None
        return RunResult("succeeded", outputs={"echo": inputs.get("key")}, run_id=run_id, tokens=3)

    def _finish(self, run: _Run | None, result: RunResult) -> RunResult:
        if run is None:
            return result
        final = RunResult(result.status, result.outputs, result.error, run.run_id, run.task_id,
                          result.elapsed_s, result.tokens)
        # Dify 1.14.1 keeps reporting a stopped run as running: mimic it
        if final.status != "stopped":
            self.remote[run.run_id] = final
        return final

    async def stop(self, task_id: str, *, user: str) -> None:
        self.stops.append(task_id)
        run = self._runs.get(task_id)
        if run is not None:
            run.stopped.set()

    async def fetch_run(self, run_id: str) -> RunResult | None:
        self.fetches.append(run_id)
        return self.remote.get(run_id)

    async def find_runs(self, user: str, *, after: datetime) -> list[FoundRun] | None:
        return None

    async def aclose(self) -> None:
        return None


class RecordingNotifier:
    """The `Notifier` port that remembers every call, for assertions."""

    def __init__(self) -> None:
        self.calls: list[tuple[Batch, Progress]] = []

    async def batch_changed(self, batch: Batch, progress: Progress) -> None:
        self.calls.append((batch, progress))

    def last(self, batch_id: str) -> tuple[Batch, Progress]:
        return [c for c in self.calls if c[0].id == batch_id][-1]


def sheet_of(keys: int | list[str], prefix: str = "r") -> ParsedSheet:
    """A checked sheet whose rows have ``inputs = {"key": <prefix><n>}`` (or the given keys)."""
    names = [f"{prefix}{i}" for i in range(keys)] if isinstance(keys, int) else keys
    rows = tuple(SheetRow(i + 2, (k,), {"key": k}) for i, k in enumerate(names))
    return ParsedSheet("Sheet1", ("key",), rows)


def fast_settings(name: str = "wf", **overrides: Any) -> WorkflowSettings:
    """Workflow settings with millisecond back-offs and pauses, for tests."""
    base: dict[str, Any] = {
        "concurrency": 4, "timeout_s": 2.0, "max_attempts": 3, "backoff_base_s": 0.001,
        "backoff_max_s": 0.005, "overload_pause_s": 0.005, "overload_give_up_s": 5.0,
    }
    base.update(overrides)
    return WorkflowSettings(name=name, **base)


class EngineHarness:
    """A `BatchService` over an `InMemoryStore`, one `ScriptedWorkflow` and a recording notifier."""

    def __init__(
        self,
        settings: WorkflowSettings | None = None,
        *,
        workflow: ScriptedWorkflow | None = None,
        store: InMemoryStore | None = None,
        **service_options: Any,
    ) -> None:
        self.settings = settings or fast_settings()
        self.wf = workflow or ScriptedWorkflow()
        self.store = store or InMemoryStore()
        self.notifier = RecordingNotifier()
        options: dict[str, Any] = {"idle_poll_s": 0.02, "run_poll_s": 0.005, "cancel_grace_s": 0.2}
        options.update(service_options)
        self.service = BatchService(
            self.store, {self.settings.name: self.settings}, {self.settings.name: self.wf},
            self.notifier, **options,
        )

    @property
    def lane(self) -> Lane:
        return self.service.lanes[self.settings.name]

    async def submit(self, keys: int | list[str], *, owner: str = "telegram:1", prefix: str = "r",
                     start: bool = True) -> Batch:
        return await self.service.submit(workflow=self.settings.name, owner=owner,
                                         sheet=sheet_of(keys, prefix), source_name="t.xlsx", start=start)

    async def run(self, keys: int | list[str], **kw: Any) -> tuple[Batch, list[Row]]:
        """Submit, wait until settled, and return the batch and its rows."""
        batch = await self.submit(keys, **kw)
        done = await asyncio.wait_for(self.service.wait(batch.id), 20)
        return done, await self.service.rows(batch.id)

    async def row(self, batch_id: str, key: str) -> Row:
        return next(r for r in await self.store.rows(batch_id) if r.inputs["key"] == key)
