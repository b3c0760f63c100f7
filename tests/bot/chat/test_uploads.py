"""UploadDesk over the real intake and engine (in-memory store, scripted app): what a
caption means, and what the check summary offers."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.chat.access import Access
from bot.chat.buttons import Action, Callback, decode
from bot.chat.surface import Actor, Keyboard
from bot.chat.text.renderer import messages_for
from bot.chat.uploads import UploadDesk
from bot.intake import Intake
from engine.errors import CommandError
from engine.models import (
    Batch,
    BatchStatus,
    ChatRef,
    FieldType,
    FormField,
    InputForm,
    Row,
    RowStatus,
    RowUpdate,
    SheetLimits,
)
from engine.service import BatchService
from tests.fakes.memory_store import InMemoryStore
from tests.fakes.scripted_workflow import RecordingNotifier, ScriptedWorkflow, fast_settings
from tests.support import sheet_bytes

FORM = InputForm((FormField("text", "Text", FieldType.TEXT_INPUT, required=True),))
ALICE = Actor("telegram:1", "telegram:1", "@alice")
WHERE = ChatRef("telegram", "1")
GOOD = sheet_bytes(["Text"], [["a"], ["b"]])


@pytest.fixture
def desk(tmp_path: Path) -> UploadDesk:
    store = InMemoryStore()
    service = BatchService(store, {"wf": fast_settings("wf")}, {"wf": ScriptedWorkflow(form=FORM)},
                           RecordingNotifier())
    intake = Intake(service, store, {"wf": ScriptedWorkflow(form=FORM)}, SheetLimits(), tmp_path)
    access = Access(admins=(), allow={"wf": ["telegram:*"]})
    return UploadDesk(intake, access, messages_for("en"), None)


@pytest.mark.parametrize("caption", [None, "", "Q3 products", "here you go", "<@U1> fresh list"])
async def test_a_file_with_no_command_gets_the_summary_and_a_run_button(
    desk: UploadDesk, caption: str | None
) -> None:
    (reply,) = await desk.receive(ALICE, WHERE, GOOD, "list.xlsx", caption, "10")
    assert "2 rows ready for wf" in reply.text
    actions = [decode(b.data).action for row in reply.keyboard for b in row]
    assert actions == [Action.RUN, Action.SCHEDULE, Action.DISCARD]


async def test_run_in_the_caption_starts_the_batch(desk: UploadDesk) -> None:
    replies = await desk.receive(ALICE, WHERE, GOOD, "list.xlsx", "/run wf", "10")
    assert replies == []  # the progress message is the answer
    batch = await desk.intake.service.latest("telegram:1")
    assert batch is not None
    assert batch.total == 2
    assert (await desk.intake.store.chat_for(batch.id)) is not None


async def test_a_bad_command_in_the_caption_is_an_error(desk: UploadDesk) -> None:
    with pytest.raises(CommandError):
        await desk.receive(ALICE, WHERE, GOOD, "list.xlsx", "/frobnicate", "10")
    with pytest.raises(CommandError, match="There is no workflow other"):
        await desk.receive(ALICE, WHERE, GOOD, "list.xlsx", "/run other", "10")


def run_button(keyboard: Keyboard) -> Callback:
    return next(decode(b.data) for row in keyboard for b in row if decode(b.data).action is Action.RUN)


async def test_the_run_button_works_from_the_database_when_this_machines_copy_is_gone(
    desk: UploadDesk,
) -> None:
    # a replica with another data directory, or one wiped between restarts (issue 10 §12)
    (check,) = await desk.receive(ALICE, WHERE, GOOD, "list.xlsx", None, "10")
    press = run_button(check.keyboard)
    stored = await desk.store.get_upload(press.target_id)
    assert stored is not None
    Path(stored.path).unlink()

    outcome = await desk.press(ALICE, press)

    assert not outcome.toast
    batch = await desk.intake.service.latest("telegram:1")
    assert batch is not None and batch.total == 2
    assert Path(stored.path).read_bytes() == GOOD  # the local copy is back, private
    assert Path(stored.path).stat().st_mode & 0o777 == 0o600


async def test_the_run_button_of_an_upload_whose_sheet_is_gone_everywhere_asks_for_it_again(
    desk: UploadDesk,
) -> None:
    (check,) = await desk.receive(ALICE, WHERE, GOOD, "list.xlsx", None, "10")
    press = run_button(check.keyboard)
    stored = await desk.store.get_upload(press.target_id)
    assert stored is not None and isinstance(desk.store, InMemoryStore)
    Path(stored.path).unlink()
    desk.store.sheets.clear()

    outcome = await desk.press(ALICE, press)

    assert outcome.toast == "That upload is gone (it already ran, was discarded or is over a week old); " \
        "send it again."
    assert await desk.intake.service.latest("telegram:1") is None


async def test_an_upload_older_than_a_week_no_longer_runs(desk: UploadDesk) -> None:
    (check,) = await desk.receive(ALICE, WHERE, GOOD, "list.xlsx", None, "10")
    press = run_button(check.keyboard)
    stored = await desk.store.get_upload(press.target_id)
    assert stored is not None
    store = desk.store
    assert isinstance(store, InMemoryStore)
    store.uploads[stored.id] = dataclasses.replace(stored, created_at=stored.created_at - timedelta(days=8))

    outcome = await desk.press(ALICE, press)

    assert outcome.toast.startswith("That upload is gone")
    assert await desk.intake.service.latest("telegram:1") is None
    # the next upload clears it out of the store
    await desk.receive(ALICE, WHERE, GOOD, "again.xlsx", None, "11")
    assert await store.get_upload(stored.id) is None


async def test_a_pressed_run_button_runs_once(desk: UploadDesk) -> None:
    (check,) = await desk.receive(ALICE, WHERE, GOOD, "list.xlsx", None, "10")
    press = run_button(check.keyboard)
    first = await desk.press(ALICE, press)
    again = await desk.press(ALICE, press)
    assert first.toast == "" and again.toast.startswith("That upload is gone")
    assert len(await desk.intake.service.list("telegram:1")) == 1


async def test_the_check_summary_carries_the_estimate(desk: UploadDesk) -> None:
    (first,) = await desk.receive(ALICE, WHERE, GOOD, "list.xlsx", None, "10")
    assert "≈ 2 rows · no earlier batches of wf to estimate time and tokens from" in first.text
    # an earlier batch of wf: 4 rows of 3 s and 120 tokens each
    store = desk.store
    earlier = Batch("e1", "wf", "telegram:1", BatchStatus.COMPLETED, 4, datetime.now(UTC))
    await store.create_batch(earlier, [Row("e1", i, i + 2, ("x",), {"text": "x"}) for i in range(4)])
    await store.update_rows(
        [RowUpdate("e1", i, RowStatus.SUCCEEDED, 1, elapsed_s=3.0, tokens=120) for i in range(4)]
    )
    big = sheet_bytes(["Text"], [[f"r{i}"] for i in range(1240)])
    (second,) = await desk.receive(ALICE, WHERE, big, "big.xlsx", None, "11")
    # 1,240 rows in waves of 4 at 3 s: 930 s; 1,240 × 120 tokens
    assert "≈ 1,240 rows · ~16 min at 4 in flight · ~149k tokens (from 1 earlier batch)" in second.text
