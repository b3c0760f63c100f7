"""Results files on disk: leftovers of an interrupted write are removed, a live writer's are not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.results_files import remove_leftovers


def test_leftovers_of_dead_writers_go_and_a_live_writers_stay(tmp_path: Path) -> None:
    target = tmp_path / "out.xlsx"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        live = tmp_path / f".out.xlsx.{sleeper.pid}-abcd.part"
        finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                                  capture_output=True, text=True, check=True)
        dead = tmp_path / f".out.xlsx.{finished.stdout.strip()}-abcd.part"
        unnamed = tmp_path / ".out.xlsx.dead1234.part"
        mine = tmp_path / f".out.xlsx.{os.getpid()}-abcd.part"
        other = tmp_path / ".other.xlsx.1-abcd.part"
        for path in (live, dead, unnamed, mine, other):
            path.write_bytes(b"half")
        removed = remove_leftovers(target)
        assert sorted(removed) == sorted([dead, unnamed, mine])
        assert sorted(tmp_path.iterdir()) == sorted([live, other])
    finally:
        sleeper.kill()
        sleeper.wait()
