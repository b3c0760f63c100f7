"""`dify-batch schedule / schedules / unschedule` act on the daemon's database."""

from __future__ import annotations

from tests.bot.cli.conftest import Cli


async def test_schedule_list_and_unschedule(cli: Cli) -> None:
    sheet = cli.workdir / "daily.csv"
    sheet.write_text("Text\nmorning news\n", encoding="utf-8")
    code, out, err = await cli.run(
        "schedule", str(sheet), "--workflow", "summarize", "--when", "every weekday 09:00"
    )
    assert code == 0, err
    assert out.startswith("Schedule ")
    schedule_id = out.split()[1].rstrip(":")
    assert "next run 20" in out

    code, out, _ = await cli.run("schedules")
    assert code == 0
    assert schedule_id in out
    assert "every weekday 09:00" in out

    code, out, err = await cli.run("unschedule", schedule_id)
    assert code == 0, err
    code, out, _ = await cli.run("schedules")
    assert "No schedules." in out


async def test_a_bad_when_or_a_bad_sheet_schedules_nothing(cli: Cli) -> None:
    sheet = cli.workdir / "daily.csv"
    sheet.write_text("Text\nmorning news\n", encoding="utf-8")
    code, _, err = await cli.run("schedule", str(sheet), "--workflow", "summarize", "--when", "whenever")
    assert code == 2
    assert "whenever" in err
    code, _, err = await cli.run(
        "schedule", str(sheet), "--workflow", "summarize", "--when", "2020-01-01 09:00"
    )
    assert code == 2
    assert "past" in err
    sheet.write_text("Wrong\nx\n", encoding="utf-8")
    code, _, err = await cli.run("schedule", str(sheet), "--workflow", "summarize", "--when", "in 2h")
    assert code == 2
    assert "Text" in err
    code, out, _ = await cli.run("schedules")
    assert "No schedules." in out
    code, _, err = await cli.run("unschedule", "nope12")
    assert code == 2
    assert "nope12" in err
