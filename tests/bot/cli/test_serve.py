"""`dify-batch serve` as a real process: health, metrics, a schedule made with the CLI
fires in the daemon, and SIGTERM exits cleanly."""

from __future__ import annotations

import asyncio
import re
import signal

import aiohttp

from tests.bot.cli.conftest import Cli, write_config


async def _wait_port(proc: asyncio.subprocess.Process) -> int:
    assert proc.stderr is not None
    while True:
        line = (await asyncio.wait_for(proc.stderr.readline(), 30)).decode()
        assert line, "serve exited before it was ready"
        if found := re.search(r"daemon ready on [\d.]+:(\d+)", line):
            return int(found.group(1))


async def test_serve_answers_health_fires_a_cli_schedule_and_stops_on_sigterm(cli: Cli) -> None:
    write_config(cli.config, cli.dify, extra=[])
    text = cli.config.read_text(encoding="utf-8").replace(
        "[daemon]", "[daemon]\nhttp_port = 0\nschedule_sync_s = 0.3\nshutdown_grace_s = 2"
    )
    cli.config.write_text(text, encoding="utf-8")
    sheet = cli.workdir / "nightly.csv"
    sheet.write_text("Text\nfirst\nsecond\n", encoding="utf-8")

    proc = await cli.start("serve")
    assert proc.stderr is not None
    try:
        port = await _wait_port(proc)
        # keep reading the daemon's log so a full pipe can never block it
        drain = asyncio.create_task(proc.stderr.read())
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as answer:
                assert answer.status == 200
                assert (await answer.json()) == {"ok": True}

            # relative to when the CLI reads it, so a slow start of the CLI cannot make it "past"
            code, out, err = await cli.run(
                "schedule", str(sheet), "--workflow", "summarize", "--when", "in 3s"
            )
            assert code == 0, err

            async def fired() -> None:
                while cli.dify.counters.succeeded_by_key.get("second") != 1:
                    await asyncio.sleep(0.1)

            await asyncio.wait_for(fired(), 30)

            async def completed() -> str:
                while True:
                    async with http.get(f"http://127.0.0.1:{port}/metrics") as answer:
                        body = await answer.text()
                    if 'difybatch_batches{state="completed"} 1.0' in body:
                        return body
                    await asyncio.sleep(0.1)

            await asyncio.wait_for(completed(), 10)
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 20)
        assert proc.returncode == 0
        log = (await drain).decode()
        assert "Traceback" not in log
        assert cli.dify.api_key not in log
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    code, out, _ = await cli.run("status")
    assert "completed" in out
    assert "nightly.csv" in out
    assert cli.dify.api_key not in out


async def test_a_daemon_start_writes_a_results_file_a_cli_run_left_owed(cli: Cli) -> None:
    text = cli.config.read_text(encoding="utf-8").replace("[daemon]", "[daemon]\nhttp_port = 0")
    cli.config.write_text(text, encoding="utf-8")
    sheet = cli.workdir / "in.csv"
    sheet.write_text("Text\na\nb\n", encoding="utf-8")
    run = await cli.start("run", str(sheet), "--workflow", "summarize", "--output", "sub/out.xlsx")
    assert run.stderr is not None
    line = (await asyncio.wait_for(run.stderr.readline(), 30)).decode()
    assert re.search(r"Batch ([0-9a-f]{6}):", line)
    (cli.workdir / "sub").write_text("in the way", encoding="utf-8")
    await asyncio.wait_for(run.communicate(), 60)
    assert run.returncode == 2
    (cli.workdir / "sub").unlink()
    (cli.workdir / "sub").mkdir()

    proc = await cli.start("serve")
    try:
        await _wait_port(proc)
        assert (cli.workdir / "sub" / "out.xlsx").exists()
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.communicate(), 20)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert cli.dify.counters.runs_by_key == {"a": 1, "b": 1}
