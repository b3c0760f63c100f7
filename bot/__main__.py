"""``python -m bot`` is the ``dify-batch`` command."""

from bot.cli.main import main

raise SystemExit(main())
