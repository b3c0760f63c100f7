"""/metrics after a real batch, read with prometheus_client's own parser: typed families,
labels instead of names, and counts that match what FakeDify did."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from bot.ops.metrics import build_version
from tests.bot.telegram import texts, world
from tests.fakes.dify_script import (
    Plan,
    cut_before_start,
    failed_run,
    rate_limited,
    server_error,
    too_many_requests,
)

FAMILIES = {
    "difybatch_rows": "counter",
    "difybatch_row_duration_seconds": "histogram",
    "difybatch_dify_errors": "counter",
    "difybatch_retries": "counter",
    "difybatch_lane_limit": "gauge",
    "difybatch_lane_in_flight": "gauge",
    "difybatch_batches": "gauge",
    "difybatch_tokens": "counter",
    "difybatch_chat_errors": "counter",
    "difybatch_progress_edits": "counter",
    "difybatch_build_info": "gauge",  # an Info is exposed as a gauge of 1 with labels
}

SCRIPT = {
    "row 1": [Plan(fault=rate_limited("0"))],
    "row 2": [Plan(fault=server_error(502))],
    "row 3": [Plan(fault=cut_before_start())],
    "row 4": [Plan(fault=too_many_requests())],
    "row 5": [Plan(fault=failed_run("the model refused"))],
}


def value(samples: list[Sample], name: str, **labels: str) -> float:
    found = [s.value for s in samples
             if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(found) == 1, (name, labels, [s for s in samples if s.name == name])
    return found[0]


async def test_a_scrape_after_a_batch_is_typed_and_counts_what_happened(tmp_path: Path) -> None:
    async with world(tmp_path, dify={"script": SCRIPT}) as w:
        alice = w.tg.user("Alice")
        w.tg.upload_document(alice, texts(6), "items.xlsx", caption="/run summarize")
        await w.results_of(alice)
        async with aiohttp.ClientSession() as http, \
                http.get(f"http://127.0.0.1:{w.daemon.http_port}/metrics") as answer:
            assert answer.status == 200
            content_type = answer.headers["Content-Type"]
            body = await answer.text()
        dify = w.dify

    assert content_type.startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(body)}
    for name, kind in FAMILIES.items():
        assert name in families, name
        assert families[name].type == kind and families[name].documentation, name
        exposed = f"{name}_total" if kind == "counter" else name
        assert f"# HELP {exposed} " in body and f"# TYPE {exposed} {kind}\n" in body
    samples = [s for f in families.values() for s in f.samples]
    wf = {"workflow": "summarize"}

    assert value(samples, "difybatch_rows_total", outcome="succeeded", **wf) == 5
    assert value(samples, "difybatch_rows_total", outcome="failed", **wf) == 1
    assert value(samples, "difybatch_row_duration_seconds_count", **wf) == 6
    assert value(samples, "difybatch_row_duration_seconds_bucket", le="+Inf", **wf) == 6
    for kind in ("rate_limited", "server_error", "cut_stream", "busy"):
        assert value(samples, "difybatch_dify_errors_total", kind=kind, **wf) == 1, kind
    assert value(samples, "difybatch_retries_total", **wf) == 4
    tokens = sum(run.tokens for run in dify.runs.values() if run.status == "succeeded")
    assert tokens > 0 and value(samples, "difybatch_tokens_total", **wf) == tokens
    assert value(samples, "difybatch_lane_limit", **wf) >= 1
    assert value(samples, "difybatch_lane_in_flight", **wf) == 0
    assert value(samples, "difybatch_batches", state="completed") == 1
    assert value(samples, "difybatch_batches", state="running") == 0
    assert value(samples, "difybatch_progress_edits_total", platform="telegram") >= 1
    assert value(samples, "difybatch_build_info", version=build_version()) == 1
