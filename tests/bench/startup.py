"""Start-up time of the real `dify-batch` process (issue 13.6, target ≤ 0.3 s each):
`dify-batch --help`, and `dify-batch status` on a SQLite database holding a few batches,
in an English terminal (LC_ALL=C.UTF-8) and a Chinese one (LC_ALL=zh_CN.UTF-8, which loads
every catalogue).

    python -m tests.bench.startup [--runs 15]

Prints JSON: the median and the fastest wall time of each command, in seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIG = """[daemon]
database_url = "sqlite+aiosqlite:///./bench.db"
data_dir = "data"
[workflows.demo]
base_url = "http://127.0.0.1:9/v1"
api_key_env = "BENCH_KEY"
"""


def _command() -> list[str]:
    found = shutil.which("dify-batch")
    return [found] if found else [sys.executable, "-m", "bot"]


def _time(argv: list[str], env: dict[str, str], cwd: Path, runs: int) -> list[float]:
    took = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
        took.append(time.perf_counter() - start)
    return took


def _seed(workdir: Path, env: dict[str, str]) -> None:
    """A few real batches, written by the real `dify-batch demo` (the simulated app)."""
    subprocess.run(
        [*_command(), "demo", "--rows", "5", "--dir", str(workdir / "demo")],
        env=env, cwd=workdir, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    shutil.copy(workdir / "demo" / "demo.db", workdir / "bench.db")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    env = {**os.environ, "BENCH_KEY": "app-bench", "LC_ALL": "C.UTF-8"}
    chinese = {**env, "LC_ALL": "zh_CN.UTF-8"}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        (workdir / "config.toml").write_text(CONFIG, encoding="utf-8")
        _seed(workdir, env)
        cmd = _command()
        figures = {}
        status = [*cmd, "status", "--config", str(workdir / "config.toml")]
        for name, argv, language in (
            ("help", [*cmd, "--help"], env),
            ("status", status, env),
            ("help_zh", [*cmd, "--help"], chinese),
            ("status_zh", status, chinese),
            ("python_bare", [sys.executable, "-c", "pass"], env),
        ):
            took = _time(argv, language, workdir, runs)
            figures[name] = {"median_s": round(statistics.median(took), 3), "min_s": round(min(took), 3)}
    print(json.dumps({"runs": runs, "target_s": 0.3, **figures}, indent=2))


if __name__ == "__main__":
    main()
