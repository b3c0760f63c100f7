"""`dify-batch db …` and the upgrade every command does, as real processes on a 0.1.0 database."""

from __future__ import annotations

import sqlite3

from storage import migrate
from tests.bot.cli.conftest import Cli
from tests.storage.test_migrations import make_sqlite_0_1_0


async def test_a_cli_command_upgrades_a_0_1_0_database_and_shows_its_batches(cli: Cli) -> None:
    db = cli.workdir / "cli.db"
    make_sqlite_0_1_0(db)
    code, out, err = await cli.run("db", "current")
    assert code == 0, err
    assert out.startswith("0.1.0 (no revision yet)")

    code, out, err = await cli.run("status")
    assert code == 0, err
    assert "b0001" in out and "b0002" in out and "a.xlsx" in out
    assert "Traceback" not in err

    code, out, err = await cli.run("db", "current")
    assert (code, out.strip()) == (0, f"{migrate.head_revision()} (up to date)")
    code, out, _ = await cli.run("db", "upgrade")
    assert (code, out.strip()) == (0, f"already at {migrate.head_revision()}; nothing to do")
    assert len(list(cli.workdir.glob("cli.db.before-upgrade-from-0.1.0-*"))) == 1


async def test_db_upgrade_says_what_it_did_and_where_the_copy_is(cli: Cli) -> None:
    make_sqlite_0_1_0(cli.workdir / "cli.db")
    code, out, err = await cli.run("db", "upgrade")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"upgraded from 0.1.0 to {migrate.head_revision()}"
    assert lines[1].startswith(f"the database as it was: {cli.workdir / 'cli.db.before-upgrade-from-0.1.0-'}")


async def test_a_database_from_a_newer_release_is_refused_with_exit_2(cli: Cli) -> None:
    code, _, err = await cli.run("db", "upgrade")
    assert code == 0, err
    with sqlite3.connect(cli.workdir / "cli.db") as db:
        db.execute("UPDATE alembic_version SET version_num = '0099'")
    for command in (("status",), ("db", "upgrade"), ("db", "current")):
        code, out, err = await cli.run(*command)
        assert code == 2, (command, out, err)
        assert "schema revision 0099, made by a newer dify-batch" in err
        assert "Traceback" not in err
    with sqlite3.connect(cli.workdir / "cli.db") as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [("0099",)]


def test_status_knows_this_releases_schema_revision_without_alembic() -> None:
    from bot.cli.output.glance import schema_revision_here
    from storage import migrate

    assert schema_revision_here() == migrate.head_revision()
