"""``dify-batch`` with a timestamp, the process's CPU seconds and its resident memory at the
start and end of each phase of `run`, on stderr (``python -m tests.bench.big_sheets --only
start --phases`` runs it). Functions are wrapped as their modules are imported, so the
heavy imports still happen where the command does them.

    python -m tests.bench.phases run --workflow W --config C sheet.xlsx
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

STARTED = time.time()
PHASES: dict[str, tuple[str, ...]] = {
    "engine.sheets.reading": ("open_table_soon", "_parse", "read_sheet"),
    "engine.sheets.filecheck": ("check_file",),
    "bot.cli.drive": ("open_cli_runtime", "fetch_form"),
    "bot.intake": ("Intake.keep", "Intake.submit"),
    "engine.service": ("BatchService.submit", "BatchService.start"),
    "storage.sql": ("SqlStore.create_batch", "SqlStore.add_rows"),
    "engine.dify.client": ("DifyClient.run",),
}


def _rss_mb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    return 0


def note(what: str) -> None:
    print(
        f"PHASE {time.time() - STARTED:6.3f} s  cpu {time.process_time():5.2f} s  rss {_rss_mb():4d} MB  "
        f"{threading.current_thread().name}: {what}",
        file=sys.stderr, flush=True,
    )


def _wrapped(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(fn):
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            note(f"> {name}")
            try:
                return await fn(*args, **kwargs)
            finally:
                note(f"< {name}")

        return timed_async

    def timed(*args: Any, **kwargs: Any) -> Any:
        note(f"> {name}")
        try:
            return fn(*args, **kwargs)
        finally:
            note(f"< {name}")

    return timed


def _wrap(module: ModuleType) -> None:
    for dotted in PHASES[module.__name__]:
        owner: Any = module
        *path, attr = dotted.split(".")
        for part in path:
            owner = getattr(owner, part)
        setattr(owner, attr, _wrapped(dotted, getattr(owner, attr)))


class _Loader(importlib.abc.Loader):
    def __init__(self, inner: importlib.abc.Loader) -> None:
        self._inner = inner

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        note(f"import {module.__name__}")
        self._inner.exec_module(module)
        _wrap(module)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in PHASES:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            sys.meta_path.insert(0, self)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)
        return spec


def _peaks() -> None:
    peak = 0
    while True:
        rss = _rss_mb()
        if rss > peak + 4:  # new highs only, in 5 MB steps
            peak = rss
            note(f"resident memory reached {rss} MB")
        time.sleep(0.005)


def main() -> None:
    sys.meta_path.insert(0, _Finder())
    threading.Thread(target=_peaks, name="sampler", daemon=True).start()
    note("process started")
    from bot.cli.main import main as dify_batch

    raise SystemExit(dify_batch(sys.argv[1:]))


if __name__ == "__main__":
    main()
