"""After a crash in the middle of storing a big sheet, the next start stores the rest."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.intake import Intake
from engine.models import Batch, BatchStatus, FieldType, FormField, InputForm, Row, SheetLimits
from engine.service import BatchService
from tests.fakes.memory_store import InMemoryStore
from tests.fakes.scripted_workflow import RecordingNotifier, ScriptedWorkflow, fast_settings
from tests.support import sheet_bytes

FORM = InputForm((FormField("text", "Text", FieldType.TEXT_INPUT, required=True),))


def _intake(tmp_path: Path, store: InMemoryStore, form: InputForm = FORM,
            context: tuple[tuple[str, str], ...] = ()) -> Intake:
    flows = {"wf": ScriptedWorkflow(form=form)}
    service = BatchService(store, {"wf": fast_settings("wf", context=context)}, flows, RecordingNotifier())
    return Intake(service, store, flows, SheetLimits(), tmp_path)


async def _cut_short(intake: Intake, store: InMemoryStore, data: bytes, stored: int) -> Batch:
    """A batch as a crash leaves it: created, its first rows stored, the rest not."""
    sheet = await intake.check("wf", data, "big.xlsx")
    path = await intake.keep(data, "big.xlsx")
    batch = Batch("b1", "wf", "telegram:1", BatchStatus.RUNNING, len(sheet.rows), datetime.now(UTC),
                  columns=sheet.columns, source_name="big.xlsx", source_path=str(path))
    rows = [Row("b1", i, r.sheet_row, r.cells, r.inputs) for i, r in enumerate(sheet.rows[:stored])]
    await store.create_batch(batch, rows)
    return batch


async def test_the_rest_of_a_cut_short_batch_is_stored_from_the_kept_upload(tmp_path: Path) -> None:
    store = InMemoryStore()
    intake = _intake(tmp_path, store)
    data = sheet_bytes(["Text"], [[f"row {i}"] for i in range(2_345)])
    await _cut_short(intake, store, data, stored=500)

    assert await intake.finish_storing() == ["b1"]
    rows = await store.rows("b1")
    assert [r.index for r in rows] == list(range(2_345))
    assert [r.inputs["text"] for r in rows] == [f"row {i}" for i in range(2_345)]
    assert [r.sheet_row for r in rows] == list(range(2, 2_347))
    assert await intake.finish_storing() == []  # nothing left to do the second time


async def test_a_cut_short_batch_whose_upload_is_gone_fails_with_the_reason(tmp_path: Path) -> None:
    store = InMemoryStore()
    intake = _intake(tmp_path, store)
    batch = await _cut_short(intake, store, sheet_bytes(["Text"], [[f"r{i}"] for i in range(30)]), stored=10)
    assert batch.source_path is not None
    # gone from this machine and from the database (a lost local copy alone is refilled)
    Path(batch.source_path).unlink()
    store.sheets.pop(Path(batch.source_path).name)

    assert await intake.finish_storing() == ["b1"]
    failed = await store.get_batch("b1")
    assert failed is not None and failed.status is BatchStatus.FAILED
    assert failed.error is not None and "only 10 of 30 rows were stored" in failed.error


async def test_rows_stored_after_a_restart_get_the_same_context_inputs(tmp_path: Path) -> None:
    form = InputForm((
        FormField("text", "Text", FieldType.TEXT_INPUT, required=True),
        FormField("row_no", "Row", FieldType.NUMBER, required=False),
        FormField("who", "Who", FieldType.TEXT_INPUT, required=False),
        FormField("src", "Source", FieldType.TEXT_INPUT, required=False),
    ))
    store = InMemoryStore()
    intake = _intake(tmp_path, store, form, context=(("row_no", "row"), ("who", "owner"), ("src", "file")))
    data = sheet_bytes(["Text"], [[f"row {i}"] for i in range(40)])
    await _cut_short(intake, store, data, stored=10)

    assert await intake.finish_storing() == ["b1"]
    rest = (await store.rows("b1"))[10:]
    assert [r.inputs["row_no"] for r in rest] == [str(n) for n in range(12, 42)]  # as the sheet numbers them
    assert {r.inputs["who"] for r in rest} == {"telegram:1"}
    assert {r.inputs["src"] for r in rest} == {"big.xlsx"}
