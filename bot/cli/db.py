"""``dify-batch db upgrade | current | prune``: the database by hand.

Every command that opens the database upgrades it anyway; ``db upgrade`` lets an operator
do it at a chosen moment (before starting replicas of a new release), ``db current`` says
where it stands, ``db prune`` applies the retention rule now."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

from bot.cli.drive import cli_config
from bot.cli.explain import Subcommands
from bot.cli.output.usage import says
from engine.errors import InputError


def register(sub: Subcommands, common: argparse.ArgumentParser) -> None:
    db = sub.add_parser(
        "db", parents=[common], help="upgrade the database schema, show its revision, prune old batches"
    )
    actions = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    actions.add_parser("upgrade", parents=[common], help="bring the schema to this release's revision")
    actions.add_parser("current", parents=[common], help="show the schema revision, change nothing")
    prune_parser = actions.add_parser(
        "prune", parents=[common], help="delete finished batches older than keep_days now"
    )
    prune_parser.add_argument("--keep-days", type=int, metavar="N", help="default: [daemon] keep_days (30)")
    db.set_defaults(handler=cmd_db)


async def cmd_db(args: argparse.Namespace) -> int:
    # imported here: `dify-batch --help` must not pay for SQLAlchemy and Alembic
    from bot.app import database_state, open_runtime, upgrade_database
    from bot.cli.output.terminal import TerminalProgress
    from bot.ops.retention import prune

    config = cli_config(args.config)
    if args.db_command == "current":
        state = await database_state(config)
        if state.up_to_date:
            print(says("db_current_ok", head=state.head))
        elif state.legacy:
            print(says("db_current_legacy", head=state.head))
        elif not state.current:
            print(says("db_current_empty", head=state.head))
        else:
            print(says("db_current_behind", current=", ".join(state.current), head=state.head))
        return 0
    if args.db_command == "upgrade":
        done = await upgrade_database(config)
        if done is None:
            print(says("db_already", head=(await database_state(config)).head))
            return 0
        if done.created:
            print(says("db_created", revision=done.after))
            return 0
        print(says("db_upgraded", before=", ".join(done.before) or "0.1.0", after=done.after))
        if done.backup is not None:
            print(says("db_backup", path=done.backup))
        return 0
    keep_days = config.daemon.keep_days if args.keep_days is None else args.keep_days
    if keep_days < 1:
        raise InputError(says("keep_days_min"))
    runtime = await open_runtime(config, TerminalProgress())
    try:
        pruned = await prune(runtime.records, runtime.store, config.daemon.data_dir, keep_days=keep_days)
    finally:
        await runtime.aclose()
    cutoff = (datetime.now(UTC) - timedelta(days=keep_days)).date().isoformat()
    print(says("pruned", batches=len(pruned.batches), cutoff=cutoff, files=len(pruned.files)))
    if pruned.kept_owed:
        print(says("pruned_kept", n=len(pruned.kept_owed), ids=", ".join(pruned.kept_owed[:20])))
    return 0
