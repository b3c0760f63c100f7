"""What the repository promises about itself: its license, what git ignores, the README's
demo transcript, and that no file names a document the repository does not have."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEXT_SUFFIXES = {".py", ".md", ".toml", ".yml", ".yaml", ".txt", ".ini", ".cfg", ".service", ".mako"}


def tracked() -> list[Path]:
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    return [ROOT / n for n in names.stdout.splitlines() if (ROOT / n).is_file()]


def test_the_license_file_is_the_one_pyproject_declares() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["license"]
    assert declared == {"text": "MIT"}
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in text


def test_git_ignores_what_running_it_leaves_behind() -> None:
    outputs = [
        "dify-batch-demo/sample.xlsx", "dify-batch-demo/sample-results.xlsx", "products-results.xlsx",
        "products-results-7f3a2c.xlsx", "summarize-template.xlsx", "data/dify-batch.db", "config.toml",
        "dify-batch.db-wal", "data/dify-batch.db.before-upgrade-from-0.1.0-20261204T101010Z",
    ]
    checked = subprocess.run(["git", "check-ignore", "--no-index", *outputs], cwd=ROOT,
                             capture_output=True, text=True)
    assert sorted(checked.stdout.split()) == sorted(outputs)


def test_no_file_names_a_document_the_repository_lacks() -> None:
    names = {p.name for p in tracked()}
    paths = {str(p.relative_to(ROOT)) for p in tracked()}
    missing = []
    for path in tracked():
        if path.suffix not in TEXT_SUFFIXES and path.name not in ("Dockerfile", "LICENSE", "run"):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for doc in re.findall(r"[\w./-]+\.md\b", text):
            if doc.split("/")[-1] not in names:
                missing.append(f"{path.relative_to(ROOT)}: {doc}")
        if path.suffix == ".md":
            for link in re.findall(r"\]\((?!https?://|#|mailto:)([^)#\s]+)", text):
                target = (path.parent / link).resolve().relative_to(ROOT)
                if str(target) not in paths and not (ROOT / target).is_dir():
                    missing.append(f"{path.relative_to(ROOT)}: link {link}")
    assert missing == []


def transcript() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("`dify-batch demo` writes", 1)[1].split("```", 2)[1]
    return [line for line in block.splitlines() if line.strip()]


def as_pattern(line: str) -> str:
    """The README's line with whatever differs between runs (numbers, the batch id) open."""
    line = re.sub(r"Batch [0-9a-f]{6}", "Batch \0", line)
    parts = re.split(r"(\d+(?:\.\d+)?|\0)", line)
    pattern = "".join(
        "[0-9a-f]{6}" if part == "\0" else r"\d+(?:\.\d+)?" if re.fullmatch(r"\d+(?:\.\d+)?", part)
        else re.escape(part)
        for part in parts
    )
    return pattern.replace(r"\d+(?:\.\d+)?\ rows\)", r"40\ rows\)")


async def test_the_readme_demo_transcript_is_what_the_demo_prints(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIFY_")}
    env["LC_ALL"] = "C.UTF-8"  # the README's transcript is the English one
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "demo", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, out.decode()
    printed = out.decode().splitlines()
    # off a terminal the bar is printed as lines; the README shows the last one (a terminal
    # redraws it in place)
    expected = transcript()
    assert len(expected) == 5
    position = 0
    for line in expected:
        pattern = re.compile(as_pattern(line) + "$")
        while position < len(printed) and not pattern.match(printed[position]):
            position += 1
        assert position < len(printed), f"README line not printed by the demo: {line!r}\n{out.decode()}"
        position += 1
