"""The CLI runs as a real process (``python -m bot``) against FakeDify in the test's loop."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fakes.dify import FakeDify

API_KEY_ENV = "DIFY_TEST_KEY"


@dataclass
class Cli:
    """Runs ``dify-batch`` in ``workdir`` with a config pointing at ``dify``."""

    workdir: Path
    config: Path
    dify: FakeDify
    language: str = "en_US.UTF-8"
    """The terminal's LANG (LC_ALL and LC_MESSAGES are cleared, so this decides)."""

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("DIFY_") and k not in ("LC_ALL", "LC_MESSAGES", "LANG")}
        env["LANG"] = self.language
        env[API_KEY_ENV] = self.dify.api_key
        env["PYTHONUNBUFFERED"] = "1"
        return env

    async def start(
        self, *args: str, config: bool = True, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> asyncio.subprocess.Process:
        argv = [sys.executable, "-m", "bot", *args]
        if config and args and args[0] not in ("demo", "check-config"):
            argv += ["--config", str(self.config)]
        return await asyncio.create_subprocess_exec(
            *argv, cwd=cwd or self.workdir, env=env or self.env(),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )

    async def run(
        self, *args: str, config: bool = True, timeout: float = 60, cwd: Path | None = None
    ) -> tuple[int, str, str]:
        proc = await self.start(*args, config=config, cwd=cwd)
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
        assert proc.returncode is not None
        return proc.returncode, out.decode(), err.decode()

    async def run_env(self, env: dict[str, str], *args: str, timeout: float = 60) -> tuple[int, str, str]:
        proc = await self.start(*args, env=env)
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
        assert proc.returncode is not None
        return proc.returncode, out.decode(), err.decode()


def write_config(path: Path, dify: FakeDify, *, concurrency: int = 4, extra: Sequence[str] = ()) -> None:
    path.write_text(
        "\n".join(
            [
                "[daemon]",
                f'database_url = "sqlite+aiosqlite:///{path.parent / "cli.db"}"',
                f'data_dir = "{path.parent / "data"}"',
                "[workflows.summarize]",
                f'base_url = "{dify.base_url}"',
                f'api_key_env = "{API_KEY_ENV}"',
                f"concurrency = {concurrency}",
                "timeout_s = 20",
                "backoff_base_s = 0.05",
                "backoff_max_s = 0.2",
                "overload_pause_s = 0.05",
                *extra,
            ]
        ),
        encoding="utf-8",
    )


@pytest.fixture
async def dify() -> AsyncIterator[FakeDify]:
    async with FakeDify.running(latency_s=0.02) as fake:
        yield fake


@pytest.fixture
def cli(tmp_path: Path, dify: FakeDify) -> Cli:
    config = tmp_path / "config.toml"
    write_config(config, dify)
    return Cli(tmp_path, config, dify)
