"""``python -m bot`` is the ``dify-batch`` command."""

from bot.cli import main

raise SystemExit(main())
