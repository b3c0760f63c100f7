"""Bad uploads get a clear answer in the upload's thread and start nothing."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

from tests.bot.slack import daemon_on, fakes, files_named, find, results_rows, sheet, slack_desk
from tests.fakes.slack import FakeSlack
from tests.support import make_config, sheet_bytes


async def test_not_a_workbook_and_bad_rows_are_answered_and_nothing_runs(tmp_path: Path) -> None:
    async with slack_desk(tmp_path) as d:
        slack = d.slack
        chan = slack.channel("team", members=("alice",))
        pdf = b"%PDF-1.7 not a sheet"
        junk = await slack.upload_file("alice", chan, pdf, "data.xlsx", text="run summarize")
        await slack.wait_for(lambda: find(slack, chan, "data.xlsx is a PDF document, not a spreadsheet",
                                          junk.ts))
        # in a DM every file is answered, whatever its name
        dm = slack.dm("alice")
        note = await slack.upload_file("alice", dm, b"just some notes\n", "notes.txt")
        await slack.wait_for(lambda: find(slack, dm, "notes.txt: required column(s) missing", note.ts))

        bad = sheet_bytes(["Text"], [["fine"], ["x" * 300], ["also fine"], ["y" * 257]])
        rows = await slack.upload_file("alice", chan, bad, "rows.xlsx", text="run summarize")
        listed = await slack.wait_for(lambda: find(slack, chan, "2 problems", rows.ts))
        assert "row 3, column 'Text': too long" in listed.text and "row 5" in listed.text
        [copy] = await slack.wait_for(lambda: files_named(slack, chan, "rows-problems.xlsx"))
        assert copy.thread_ts == rows.ts
        assert results_rows(copy)[0]["Text"] == "fine"
        # a photo in a channel is not for the bot
        await slack.upload_file("alice", chan, b"\x89PNG\r\n\x1a\n", "cat.png")
        await asyncio.sleep(0.3)
        assert d.dify.counters.runs_by_key == {}
        assert not any("cat.png" in m.text for m in slack.messages(chan))


def file_share(slack: FakeSlack, channel: str, ts: str, file: dict[str, Any]) -> dict[str, Any]:
    """A person's ``message``/``file_share`` event carrying ``file`` with the text ``run summarize``."""
    return {"type": "message", "subtype": "file_share", "text": "run summarize", "user": slack.user("alice"),
            "channel": channel, "channel_type": "channel", "ts": ts, "event_ts": ts, "upload": True,
            "files": [file]}


async def test_too_big_is_refused_before_downloading(tmp_path: Path) -> None:
    async with fakes() as (slack, dify):
        config = make_config(tmp_path, dify=dify, slack=slack)
        small = dataclasses.replace(config, limits=dataclasses.replace(config.limits, max_file_mb=0.005))
        async with daemon_on(slack, dify, tmp_path, config=small):
            chan = slack.channel("team", members=("alice",))
            up = await slack.upload_file("alice", chan, sheet(600), "huge.xlsx", text="run summarize")
            refused = await slack.wait_for(lambda: find(slack, chan, "huge.xlsx is", up.ts))
            assert "the limit is 0.005 MB" in refused.text

            # the size in the event decides: a file that says 50 MB is not fetched to find out
            private = slack.channel("elsewhere", bot_member=False)
            hidden = await slack.upload_file("alice", private, sheet(2), "claims.xlsx")
            obj = slack.world.file_object(slack.world.files[str(hidden.file_id)], slack.base_url)
            ts = "1700000000.000200"
            await slack.send_event(file_share(slack, chan, ts, {**obj, "size": 50 * 2**20}))
            claimed = await slack.wait_for(lambda: find(slack, chan, "claims.xlsx is 50.0 MB", ts))
            assert claimed.thread_ts == ts
            assert dify.counters.runs_by_key == {}


async def test_a_sign_in_page_instead_of_the_file_is_named_as_such(tmp_path: Path) -> None:
    async with slack_desk(tmp_path) as d:
        slack = d.slack
        chan = slack.channel("team", members=("alice",))
        # a file the bot may not read: Slack answers its URL with a sign-in page and status 200
        url = f"{slack.base_url}/files-pri/{slack.team_id}-F0LOCKED"
        locked = {"id": "F0LOCKED", "name": "locked.xlsx", "title": "locked.xlsx", "filetype": "xlsx",
                  "size": 5000, "file_access": "visible", "url_private": f"{url}/locked.xlsx",
                  "url_private_download": f"{url}/download/locked.xlsx"}
        ts = "1700000000.000100"
        await slack.send_event(file_share(slack, chan, ts, locked))
        answer = await slack.wait_for(lambda: find(slack, chan, "sign-in page instead of locked.xlsx", ts))
        assert answer.thread_ts == ts
        assert d.dify.counters.runs_by_key == {}
