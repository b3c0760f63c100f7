"""The overload campaign in small: one-off refusals of 5 % of the rows cost at most 1.6x the
ideal time, Dify never sees more than the configured concurrency, and an app that holds
fewer runs than configured is learnt, not hammered."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.overload import overload_campaign


@pytest.mark.timeout(240)
async def test_five_percent_one_off_overloads_cost_at_most_1_6x_ideal(tmp_path: Path) -> None:
    figures = await overload_campaign(tmp_path, rows=240, share=0.05, concurrency=8, latency_s=0.3)
    assert figures["exit_code"] == 0 and figures["rows_lost"] == 0, figures
    assert figures["refused"] >= 5, figures
    assert figures["peak_in_flight_at_dify"] <= 8, figures
    assert figures["x_ideal"] <= 1.6, figures


@pytest.mark.timeout(240)
async def test_an_app_holding_fewer_runs_is_learnt_and_refuses_only_a_few(tmp_path: Path) -> None:
    figures = await overload_campaign(tmp_path, rows=240, concurrency=8, latency_s=0.2, capacity=5)
    assert figures["exit_code"] == 0 and figures["rows_lost"] == 0, figures
    assert figures["peak_in_flight_at_dify"] <= 5, figures
    assert figures["refused"] <= 240 * 0.15, figures
