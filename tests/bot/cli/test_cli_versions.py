"""A pinned app version and context inputs, as a person meets them through ``dify-batch``."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from openpyxl import load_workbook

from tests.bot.cli.conftest import Cli, write_config
from tests.fakes.dify_script import control

OLD = "a6fada68-0ae8-4f8a-8c8c-eccaa51b5d96"
NEW = "41fbc420-8ecd-4801-9ed0-0641be785535"


def summary(path: Path) -> dict[str, object]:
    book = load_workbook(path, read_only=True)
    lines = {str(r[0]): r[1] for r in book["Summary"].iter_rows(values_only=True) if r}
    book.close()
    return lines


def stored_versions(cli: Cli) -> list[str | None]:
    with sqlite3.connect(cli.workdir / "cli.db") as db:
        return [v for (v,) in db.execute("SELECT workflow_id FROM row ORDER BY batch_id, idx")]


async def test_a_pinned_version_runs_every_row_and_the_results_name_it(cli: Cli) -> None:
    cli.dify.versions = [OLD, NEW]
    write_config(cli.config, cli.dify, extra=[f'workflow_id = "{OLD}"'])
    sheet = cli.workdir / "in.csv"
    sheet.write_text("Text\na\nb\nc\n", encoding="utf-8")
    code, out, err = await cli.run("run", str(sheet), "--workflow", "summarize")
    assert code == 0, err
    assert [r["endpoint"] for r in cli.dify.requests] == [f"workflows/{OLD}/run"] * 3
    assert {run.workflow_id for run in cli.dify.runs.values()} == {OLD}
    assert summary(Path(out.strip()))["app version (workflow_id)"] == OLD
    assert stored_versions(cli) == [OLD] * 3


async def test_unpinned_runs_record_the_version_dify_reports(cli: Cli) -> None:
    cli.dify.versions = [OLD, NEW]
    sheet = cli.workdir / "in.csv"
    sheet.write_text("Text\na\nb\n", encoding="utf-8")
    code, out, err = await cli.run("run", str(sheet), "--workflow", "summarize")
    assert code == 0, err
    assert [r["endpoint"] for r in cli.dify.requests] == ["workflows/run"] * 2
    assert summary(Path(out.strip()))["app version (workflow_id)"] == NEW
    assert stored_versions(cli) == [NEW] * 2


async def test_a_version_dify_does_not_know_fails_the_rows_with_difys_message(cli: Cli) -> None:
    unknown = "00000000-0000-0000-0000-000000000000"
    write_config(cli.config, cli.dify, extra=[f'workflow_id = "{unknown}"'])
    sheet = cli.workdir / "in.csv"
    sheet.write_text("Text\na\n", encoding="utf-8")
    code, out, err = await cli.run("run", str(sheet), "--workflow", "summarize")
    assert code == 1, err
    book = load_workbook(Path(out.strip()), read_only=True)
    header, row = list(book["Results"].iter_rows(values_only=True))
    book.close()
    got = dict(zip(header, row, strict=False))
    assert got["status"] == "failed" and f"Workflow not found with id: {unknown}" in str(got["error"])
    assert cli.dify.runs == {} and got["attempts"] == 1


async def test_a_malformed_version_is_a_config_problem(cli: Cli) -> None:
    write_config(cli.config, cli.dify, extra=['workflow_id = "v2"'])
    code, _, err = await cli.run("check-config", str(cli.config))
    assert code == 2
    assert "workflows.summarize.workflow_id must be a published version's id" in err
    write_config(cli.config, cli.dify, extra=['app_type = "chat"', f'workflow_id = "{OLD}"'])
    code, _, err = await cli.run("check-config", str(cli.config))
    assert code == 2
    assert "workflows.summarize.workflow_id pins a workflow app's version; this app is a chat app" in err


CONTEXT_FORM = (
    control("text-input", "text", "Text", required=True, max_length=256),
    control("number", "row_no", "Row number"),
    control("text-input", "batch_ref", "Batch"),
    control("text-input", "src", "Source", max_length=6),
    control("text-input", "who", "Who"),
)
CONTEXT = [
    "[workflows.summarize.context]", 'row_no = "row"', 'batch_ref = "batch"', 'src = "file"', 'who = "owner"'
]


async def test_context_inputs_tell_each_run_its_row_batch_and_file(cli: Cli) -> None:
    cli.dify.form = list(CONTEXT_FORM)
    write_config(cli.config, cli.dify, extra=CONTEXT)
    sheet = cli.workdir / "products.csv"
    # a blank line: the third data row is row 5 of the sheet, as a person sees it
    sheet.write_text("Text,Who\nfirst,ann\nsecond,\n\nthird,bob\n", encoding="utf-8")
    code, _, err = await cli.run("run", str(sheet), "--workflow", "summarize")
    assert code == 0, err
    batch_id = re.search(r"Batch (\w+):", err)
    assert batch_id is not None
    sent = sorted((r["body"]["inputs"] for r in cli.dify.requests), key=lambda i: int(i["row_no"]))
    assert [i["row_no"] for i in sent] == ["2", "3", "5"]
    assert {i["batch_ref"] for i in sent} == {batch_id.group(1)}
    assert {i["src"] for i in sent} == {"produc"}  # cut to the field's max_length of 6
    # the sheet has a Who column, so it wins; an empty cell stays unset for Dify's default
    assert [i.get("who") for i in sent] == ["ann", None, "bob"]


async def test_a_context_mapping_to_a_variable_the_app_lacks_is_reported(cli: Cli) -> None:
    write_config(cli.config, cli.dify, extra=["[workflows.summarize.context]", 'row_no = "row"'])
    code, _, err = await cli.run("check-config", str(cli.config), "--online")
    assert code == 2
    assert "context maps 'row_no' (from 'row'), but the app has no such variable (it has: text)" in err
    sheet = cli.workdir / "in.csv"
    sheet.write_text("Text\na\n", encoding="utf-8")
    code, out, err = await cli.run("run", str(sheet), "--workflow", "summarize")
    assert code == 2 and out == "" and "row_no" in err
    assert cli.dify.runs == {}


async def test_a_context_source_that_does_not_exist_is_a_config_problem(cli: Cli) -> None:
    write_config(cli.config, cli.dify, extra=["[workflows.summarize.context]", 'row_no = "line"'])
    code, _, err = await cli.run("check-config", str(cli.config))
    assert code == 2
    assert "workflows.summarize.context.row_no must be one of row, batch, file, owner" in err
