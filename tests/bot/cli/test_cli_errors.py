"""Every failure a person can cause on the command line gets one clear sentence and exit 2,
never a traceback (issue 11.1, issue 10.10)."""

from __future__ import annotations

import socket

from tests.bot.cli.conftest import API_KEY_ENV, Cli, write_config


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _set(cli: Cli, old: str, new: str) -> None:
    text = cli.config.read_text(encoding="utf-8")
    assert old in text
    cli.config.write_text(text.replace(old, new), encoding="utf-8")


def _one_clear_line(err: str) -> str:
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


async def test_each_config_problem_is_printed_once(cli: Cli) -> None:
    write_config(cli.config, cli.dify, concurrency=0, extra=["bogus_key = 1"])
    code, out, err = await cli.run("status")
    assert code == 2 and out == ""
    assert err.count("concurrency must be above 0") == 1
    assert err.count("unknown key 'bogus_key'") == 1
    assert "Traceback" not in err


async def test_postgresql_url_without_asyncpg_is_one_line_exit_2(cli: Cli) -> None:
    _set(cli, f'database_url = "sqlite+aiosqlite:///{cli.workdir / "cli.db"}"',
         'database_url = "postgresql://someone:hunter2@127.0.0.1/test"')
    code, _, err = await cli.run("status")
    assert code == 2
    assert "postgresql+asyncpg://someone:***@127.0.0.1/test" in err  # the URL to write, password hidden
    assert "hunter2" not in err
    assert "Traceback" not in err


async def test_an_unreachable_database_is_one_line_exit_2(cli: Cli) -> None:
    port = _free_port()
    _set(cli, f'database_url = "sqlite+aiosqlite:///{cli.workdir / "cli.db"}"',
         f'database_url = "postgresql+asyncpg://someone:hunter2@127.0.0.1:{port}/test"')
    for command in (("status",), ("pause", "abc123")):
        code, _out, err = await cli.run(*command)
        assert code == 2, err
        line = _one_clear_line(err)
        assert "cannot reach the database" in line and "connection refused" in line
        assert f"127.0.0.1:{port}" in line and "hunter2" not in line
        assert "database_url" in line


async def test_an_unwritable_database_folder_is_one_line_exit_2(cli: Cli) -> None:
    blocker = cli.workdir / "not-a-folder"
    blocker.write_text("a file where the data folder should be", encoding="utf-8")
    _set(cli, f'data_dir = "{cli.workdir / "data"}"', f'data_dir = "{blocker / "data"}"')
    code, _, err = await cli.run("pause", "abc123")
    assert code == 2
    line = _one_clear_line(err)
    assert "data folder" in line and "daemon.data_dir" in line


async def test_dify_down_is_connection_refused_not_a_timeout(cli: Cli) -> None:
    port = _free_port()
    _set(cli, f'base_url = "{cli.dify.base_url}"', f'base_url = "http://127.0.0.1:{port}/v1"')
    code, _, err = await cli.run("template", "summarize")
    assert code == 2
    line = _one_clear_line(err)
    assert "connection refused" in line and "timeout" not in line.lower() and "time" not in line
    assert "workflows.summarize.base_url" in line


async def test_a_wrong_key_names_its_environment_variable(cli: Cli) -> None:
    env = cli.env()
    env[API_KEY_ENV] = "app-not-the-right-key-000000"
    proc_code, out, err = await cli.run_env(env, "template", "summarize")
    assert proc_code == 2
    line = _one_clear_line(err)
    assert API_KEY_ENV in line and "app-not-the-right-key" not in out + err


async def test_a_base_url_without_v1_gets_the_hint(cli: Cli) -> None:
    base = cli.dify.base_url.removesuffix("/v1")
    _set(cli, f'base_url = "{cli.dify.base_url}"', f'base_url = "{base}"')
    sheet = cli.workdir / "in.csv"
    sheet.write_text("Text\na\n", encoding="utf-8")
    code, _, err = await cli.run("run", str(sheet), "--workflow", "summarize")
    assert code == 2
    line = _one_clear_line(err)
    assert "404" in line and f"{base}/v1" in line
    assert cli.dify.counters.runs_by_key == {}


async def test_a_persons_mistake_is_one_line_with_or_without_v(cli: Cli) -> None:
    """A folder given as the sheet is said plainly; -v shows tracebacks only for real bugs."""
    code, _, err = await cli.run("schedule", str(cli.workdir), "--workflow", "summarize", "--when", "in 2h")
    assert code == 2
    assert "is a folder" in _one_clear_line(err)
    args = ("schedule", str(cli.workdir), "--workflow", "summarize", "--when", "in 2h")
    code, _, err = await cli.run("-v", *args)
    assert code == 2 and "Traceback" not in err


async def test_a_bad_template_output_is_one_line_exit_2(cli: Cli) -> None:
    (cli.workdir / "a-file").write_text("x", encoding="utf-8")
    for output, says in (("t.csv", "a template is an .xlsx workbook"), ("a-file/t.xlsx", "not a folder")):
        code, out, err = await cli.run("template", "summarize", "--output", output)
        assert code == 2 and out == ""
        assert says in _one_clear_line(err)
    code, out, err = await cli.run("template", "summarize", "--output", "new/t.xlsx")
    assert code == 0, err
    assert (cli.workdir / "new" / "t.xlsx").exists()
