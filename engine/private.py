"""Files and folders only their owner may read: the database, the data folder, uploaded sheets.

They hold other people's data (every row sent to Dify, every answer), so they are created
0600 and 0700 whatever the umask: the mode is set explicitly after creation, because
``open``/``mkdir`` only ever narrow the requested mode by the umask. Existing ones are left
as they are (a folder the operator chose, such as ``.``, keeps its mode).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) 0700; return it."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            folder.mkdir(mode=DIR_MODE)
            os.chmod(folder, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty and 0600 unless it exists (e.g. before SQLite opens it)."""
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return path
    os.fchmod(fd, FILE_MODE)
    os.close(fd)
    return path


def write_private(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` 0600, all at once (through a temporary name beside it)."""
    private_dir(path.parent)
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb", closefd=False) as out:
            out.write(data)
    finally:
        os.close(fd)
    os.replace(part, path)
    return path
