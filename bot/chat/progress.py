"""The daemon's `Notifier`: turns engine progress into one progress message per batch,
edited in place at most once per interval, then the final edit and the results file.

Each batch has its own pump task, so one chat's rate limit never delays another's."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from bot.chat.buttons import Button, comparison_buttons, progress_buttons
from bot.chat.comparing import comparison_bytes, comparison_caption, comparison_filename, comparison_text
from bot.chat.surface import ChatSurface, FileTooLarge, RetryLater
from bot.chat.text.catalogues import wording_for
from bot.chat.text.renderer import MessageBook
from engine.logcontext import bind_row
from engine.models import FINAL_BATCH_STATUSES, Batch, BatchEvent, ChatRef, Progress
from engine.ports import Store
from engine.sheets.results import write_batch_results

log = logging.getLogger(__name__)

RESULTS_SENT = "results_sent"
"""Batch event written once the results file went out, so a restart does not resend it."""
RETRIED = "retry"
"""The service's event for `/retry`: the batch finishes again and owes a new results file."""
OWED_WITHIN = timedelta(days=2)
"""How far back a start looks for finished batches whose results file never went out."""
CATCH_UP_LIMIT = 500
REPORTING_HOLD_S = 120.0
"""How long a reporter's claim on a batch lasts without renewal: longer than sending a big
results file takes, short enough that another replica soon takes over from a dead one."""


class ProgressReporter:
    def __init__(
        self,
        store: Store,
        surfaces: Mapping[str, ChatSurface],
        messages: Mapping[str, MessageBook],
        *,
        interval_s: float,
        reporter_id: str,
        hold_s: float = REPORTING_HOLD_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.store = store
        self.hold_s = hold_s
        self.reporter_id = reporter_id
        self.surfaces = surfaces
        self.messages = messages
        self.interval_s = interval_s
        self.clock = clock
        self.sleep = sleep
        self._latest: dict[str, tuple[Batch, Progress]] = {}
        self._pumps: dict[str, asyncio.Task[None]] = {}
        self._shown: dict[str, tuple[str, tuple[Button, ...]]] = {}
        self._last_edit: dict[str, float] = {}
        self._held_until: dict[str, float] = {}  # batches this reporter holds, by clock()
        self._watching: set[str] = set()  # final batches another replica reports, watched

    async def batch_changed(self, batch: Batch, progress: Progress) -> None:
        # the batches of a comparison share one message, so one pump serves them all
        key = batch.comparison_id or batch.id
        self._latest[key] = (batch, progress)
        pump = self._pumps.get(key)
        if pump is None or pump.done():
            self._pumps[key] = asyncio.create_task(self._pump(key))

    async def catch_up(self, *, within: timedelta = OWED_WITHIN) -> int:
        """At start: finished batches whose results never went out (the daemon stopped between
        the last row and the file) get their final edit and file now. Returns how many."""
        cutoff = datetime.now(UTC) - within
        owed = 0
        finished = await self.store.list_batches(statuses=sorted(FINAL_BATCH_STATUSES), limit=CATCH_UP_LIMIT)
        for batch in finished:
            if batch.finished_at is None or batch.finished_at < cutoff:
                continue
            if await self.store.chat_for(batch.id) is None:
                continue  # a CLI batch: the terminal had it
            if results_owed(await self.store.events(batch.id)):
                await self.batch_changed(batch, await self.store.progress(batch.id))
                owed += 1
        return owed

    async def flush(self, timeout_s: float = 10.0) -> None:
        """Wait until every pending update went out (used at shutdown and by tests); batches
        another replica reports are not waited for."""
        pumps = [p for b, p in self._pumps.items() if not p.done() and b not in self._watching]
        if pumps:
            await asyncio.wait(pumps, timeout=timeout_s)

    async def aclose(self) -> None:
        for pump in self._pumps.values():
            pump.cancel()
        await asyncio.gather(*self._pumps.values(), return_exceptions=True)
        # hand the batches still held to a replica that stays up, without waiting for a lapse
        now = datetime.now(UTC)
        for batch_id in list(self._held_until):
            try:
                await self.store.hold_reporting(batch_id, self.reporter_id, now=now, hold_s=0)
            except Exception:
                log.warning("could not hand over the reporting of batch %s", batch_id)
        self._held_until.clear()

    async def _pump(self, batch_id: str) -> None:
        while batch_id in self._latest:
            wait = self._last_edit.get(batch_id, -1e9) + self.interval_s - self.clock()
            if wait > 0:
                await self.sleep(wait)
            batch, progress = self._latest.pop(batch_id)
            bind_row(batch.id, batch.workflow)  # this task serves one batch: its lines name it
            try:
                shown = await self._show(batch, progress)
                if not shown and batch.status.is_final and results_owed(await self.store.events(batch_id)):
                    # another replica reports it; if that one dies before the file, take over
                    # once its hold can have lapsed
                    self._latest.setdefault(batch_id, (batch, progress))
                    self._watching.add(batch_id)
                    try:
                        await self.sleep(self.hold_s / 2)
                    finally:
                        self._watching.discard(batch_id)
            except RetryLater as exc:
                # keep the newest state for after the pause; other batches carry on
                self._latest.setdefault(batch_id, (batch, progress))
                await self.sleep(exc.retry_after_s)
            except Exception:
                log.exception("progress update of batch %s failed", batch_id)
                self._last_edit[batch_id] = self.clock()
        if self._pumps.get(batch_id) is asyncio.current_task():
            del self._pumps[batch_id]

    async def _show(self, batch: Batch, progress: Progress) -> bool:
        """Edit the progress message (and send the results once final); False when there is
        no chat to report to here, or another replica reports this batch."""
        if batch.comparison_id is not None:
            return await self._show_comparison(batch.comparison_id)
        chat = await self.store.chat_for(batch.id)
        surface = self.surfaces.get(chat.platform) if chat else None
        if chat is None or surface is None or not await self._holds(batch.id):
            return False
        m = self.messages[chat.platform].for_locale(batch.locale)
        now = datetime.now(UTC)
        final = batch.status.is_final
        render = m.final_text if final else m.progress_text
        text = render(batch, progress, now=now)
        buttons = tuple(progress_buttons(batch, messages=m))
        if self._shown.get(batch.id) != (text, buttons):
            await self._put(surface, chat, batch.id, text, buttons)
            self._shown[batch.id] = (text, buttons)
            self._last_edit[batch.id] = self.clock()
        if final:
            await self._send_results(surface, chat, batch, progress)
            # a daemon runs for months: keep nothing per finished batch (a /retry starts afresh)
            for per_batch in (self._shown, self._last_edit, self._held_until):
                per_batch.pop(batch.id, None)
        return True

    async def _show_comparison(self, comparison_id: str) -> bool:
        """One message for every batch of a comparison, bound to its first batch; once all
        are final, one combined workbook. True when there is nothing for a chat here."""
        batches = await self.store.comparison_batches(comparison_id)
        lead = batches[0]
        chat = await self.store.chat_for(lead.id)
        surface = self.surfaces.get(chat.platform) if chat else None
        if chat is None or surface is None:
            return True  # a comparison from the CLI: its terminal shows it
        if not await self._holds(lead.id):
            return False
        m = self.messages[chat.platform].for_locale(lead.locale)
        progress = [await self.store.progress(b.id) for b in batches]
        text = comparison_text(m, comparison_id, batches, progress, now=datetime.now(UTC))
        buttons = tuple(comparison_buttons(comparison_id, batches, messages=m))
        if self._shown.get(comparison_id) != (text, buttons):
            await self._put(surface, chat, lead.id, text, buttons)
            self._shown[comparison_id] = (text, buttons)
            self._last_edit[comparison_id] = self.clock()
        if all(b.status.is_final for b in batches):
            await self._send_comparison(surface, chat, comparison_id, batches)
            for per_batch in (self._shown, self._last_edit, self._held_until):
                per_batch.pop(comparison_id, None)
                per_batch.pop(lead.id, None)
        return True

    async def _send_comparison(
        self, surface: ChatSurface, chat: ChatRef, comparison_id: str, batches: list[Batch]
    ) -> None:
        lead = batches[0]
        if not await self._holds(lead.id, fresh=True) or not results_owed(await self.store.events(lead.id)):
            return
        m = self.messages[chat.platform].for_locale(lead.locale)
        try:
            data, figures = await comparison_bytes(comparison_id, batches, self.store)
            caption = comparison_caption(m, comparison_id, batches, figures, chat.owner_display)
            await surface.send_file(chat, data, comparison_filename(comparison_id, batches), caption)
        except RetryLater:
            raise
        except Exception as exc:  # not recorded as sent: a restart's catch_up tries again
            log.exception("sending the workbook of comparison %s failed", comparison_id)
            await surface.post(chat, m.out(m.results_not_sent.format(
                kind=type(exc).__name__, cmd=m.cmd("result"), batch_id=comparison_id)))
            return
        await self.store.add_event(lead.id, RESULTS_SENT, comparison_id)

    async def _holds(self, batch_id: str, *, fresh: bool = False) -> bool:
        """Whether this reporter reports the batch: replicas sharing a database must not all
        edit its message and send its file. The hold is renewed at half its length, and
        ``fresh`` renews it now."""
        if not fresh and self.clock() < self._held_until.get(batch_id, -1e9):
            return True
        held = await self.store.hold_reporting(
            batch_id, self.reporter_id, now=datetime.now(UTC), hold_s=self.hold_s
        )
        if held:
            self._held_until[batch_id] = self.clock() + self.hold_s / 2
        else:
            self._held_until.pop(batch_id, None)
        return held

    async def _put(
        self, surface: ChatSurface, chat: ChatRef, batch_id: str, text: str, buttons: tuple[Button, ...]
    ) -> None:
        if chat.progress_message_id is None:
            message_id = await surface.post(chat, text, [buttons] if buttons else [])
            await self.store.bind_chat(
                batch_id, dataclasses.replace(chat, progress_message_id=message_id)
            )
        else:
            await surface.edit(chat, chat.progress_message_id, text, [buttons] if buttons else [])

    async def _send_results(
        self, surface: ChatSurface, chat: ChatRef, batch: Batch, progress: Progress
    ) -> None:
        # the delivery is claimed in the database: a hold renewed now lasts the whole send, so
        # another replica cannot take over (and send it again) while the file is on its way
        if not await self._holds(batch.id, fresh=True):
            return
        if not results_owed(await self.store.events(batch.id)):
            return
        m = self.messages[chat.platform].for_locale(batch.locale)
        data = await results_bytes(batch, self.store)
        caption = m.results_caption(batch, progress, chat.owner_display)
        try:
            await surface.send_file(chat, data, results_filename(batch), caption)
        except FileTooLarge as exc:
            # sending again would be refused again: say where the results are instead
            too_large = m.refused_as_too_large_text(exc.filename, exc.size)
            where = m.out(m.results_on_the_server.format(batch_id=batch.id))
            await surface.post(chat, f"{caption}\n{too_large}\n{where}")
            await self.store.add_event(batch.id, RESULTS_SENT, "too large to send")
            return
        except RetryLater:
            raise
        except Exception as exc:
            # not recorded as sent, so `catch_up` at the next start tries again
            log.exception("sending the results of batch %s failed", batch.id)
            await surface.post(chat, m.out(m.results_not_sent.format(
                kind=type(exc).__name__, cmd=m.cmd("result"), batch_id=batch.id)))
            return
        await self.store.add_event(batch.id, RESULTS_SENT, "")


def results_owed(events: Sequence[BatchEvent]) -> bool:
    """Sent once per finish: a /retry (event "retry") makes the batch finish again."""
    owed = True
    for event in events:
        if event.kind in (RESULTS_SENT, RETRIED):
            owed = event.kind == RETRIED
    return owed


async def results_bytes(batch: Batch, store: Store) -> bytes:
    """The results workbook, in the language of whoever started the batch."""
    buffer = io.BytesIO()
    words = wording_for(batch.locale)
    # workbook writing is CPU-bound: each page is written in a thread, so the loop (and
    # every other chat) stays responsive, and only a page of rows is in memory at a time.
    # One workbook at a time: fifty batches finishing together put six writer threads
    # against the loop for the GIL, and /status answers took over a second.
    async with _one_writer():
        await write_batch_results(
            buffer, batch, store, offload=asyncio.to_thread, labels=words.summary_labels,
            chart_labels=words.chart_labels,
        )
    return buffer.getvalue()


_WRITERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def _one_writer() -> asyncio.Lock:
    return _WRITERS.setdefault(asyncio.get_running_loop(), asyncio.Lock())


def results_filename(batch: Batch) -> str:
    stem = batch.source_name.rsplit(".", 1)[0] or batch.workflow
    return f"{stem}-results-{batch.id}.xlsx"
