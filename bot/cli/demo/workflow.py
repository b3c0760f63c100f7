"""`dify-batch demo`: a built-in simulated Dify app and a sample sheet, so anyone can try
the whole pipeline (sheet check, engine, retries, results workbook) with no account."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import datetime

from engine.errors import TransientWorkflowError
from engine.models import AppType, FieldType, FormField, FoundRun, InputForm, JsonDict, RunResult
from engine.ports import RunStarted

DEMO_WORKFLOW = "demo-product-copy"

DEMO_FORM = InputForm(
    fields=(
        FormField("product", "Product", FieldType.TEXT_INPUT, required=True, max_length=120),
        FormField(
            "tone",
            "Tone",
            FieldType.SELECT,
            required=False,
            options=("friendly", "formal", "playful"),
            default="friendly",
        ),
        FormField("notes", "Notes", FieldType.PARAGRAPH, required=False),
    ),
    app_type=AppType.WORKFLOW,
)

_PRODUCTS = (
    ("Trail running shoes", "playful", "grippy sole, 240 g"),
    ("Ceramic pour-over coffee dripper", "friendly", "fits most mugs"),
    ("Noise-cancelling headphones", "formal", "30 h battery"),
    ("Bamboo cutting board", "friendly", ""),
    ("保温杯 500ml", "friendly", "不锈钢内胆"),
    ("Mechanical keyboard", "playful", "hot-swappable switches"),
    ("Linen bed sheets", "formal", "stone washed"),
    ("Cast iron skillet", "friendly", "pre-seasoned"),
)

_OPENERS = {
    "friendly": "Meet your new favourite",
    "formal": "Introducing the",
    "playful": "Say hello to the ridiculously good",
}


def demo_rows(count: int) -> list[tuple[str, str, str]]:
    """Sample rows: product, tone, notes (cycled, numbered so each row is distinct)."""
    rows = []
    for i in range(count):
        product, tone, notes = _PRODUCTS[i % len(_PRODUCTS)]
        suffix = f" #{i // len(_PRODUCTS) + 1}" if i >= len(_PRODUCTS) else ""
        rows.append((product + suffix, tone, notes))
    return rows


@dataclass
class SimulatedWorkflow:
    """A `WorkflowClient` that behaves like a busy Dify app, in memory.

    Latency is heavy-tailed like real LLM calls, and about one call in ten first answers
    "Too many requests" or a 502 that the engine's retries absorb.
    """

    mean_latency_s: float = 0.6
    flaky_share: float = 0.1
    seed: int | None = None
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    async def form(self) -> InputForm:
        return DEMO_FORM

    async def run(
        self,
        inputs: JsonDict,
        *,
        user: str,
        trace_id: str,
        query: str | None = None,
        on_started: RunStarted | None = None,
    ) -> RunResult:
        run_id = f"sim-{trace_id}"
        latency = min(self._rng.lognormvariate(0, 0.5) * self.mean_latency_s, 4.0)
        first_attempt = trace_id.endswith("-1")
        if first_attempt and self._rng.random() < self.flaky_share:
            await asyncio.sleep(latency / 4)
            if self._rng.random() < 0.5:
                raise TransientWorkflowError(
                    "Too many requests. Please try again later.", status=400, overload=True
                )
            raise TransientWorkflowError("Bad Gateway", status=502)
        if on_started is not None:
            await on_started(run_id, f"task-{trace_id}")
        await asyncio.sleep(latency)
        return RunResult(
            status="succeeded",
            outputs=_copy(inputs),
            run_id=run_id,
            task_id=f"task-{trace_id}",
            elapsed_s=round(latency, 3),
            tokens=40 + len(str(inputs.get("product", ""))) * 3,
        )

    async def stop(self, task_id: str, *, user: str) -> None:
        return None

    async def fetch_run(self, run_id: str) -> RunResult | None:
        return None

    async def find_runs(self, user: str, *, after: datetime) -> list[FoundRun] | None:
        return None  # the demo keeps no records: a sent row is run again

    async def aclose(self) -> None:
        return None


def _copy(inputs: JsonDict) -> JsonDict:
    product = str(inputs.get("product", ""))
    tone = str(inputs.get("tone") or "friendly")
    notes = str(inputs.get("notes") or "").strip()
    headline = f"{_OPENERS.get(tone, _OPENERS['friendly'])} {product}"
    body = f"{headline}. " + (f"Why you will love it: {notes}." if notes else "Built to last.")
    return {"headline": headline, "description": body, "words": len(body.split())}
