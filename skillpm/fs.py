"""Filesystem primitives that never leave anything half-written.

- atomic_write: temp file in the same folder, fsync, os.replace.
- project_lock: a file lock that serializes skillpm runs on one project.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

LOCK_TIMEOUT_SECONDS = 300.0


def atomic_write(path: Path, data: bytes | str, *, mode: int | None = None) -> None:
    """Replace `path` with `data` in one step: readers see old or new, never a mix."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        elif path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def file_lock(lock_path: Path, *, what: str, timeout: float = LOCK_TIMEOUT_SECONDS) -> Iterator[None]:
    """Hold an exclusive cross-process lock on `lock_path` (created if needed)."""
    from filelock import FileLock, Timeout

    from skillpm.errors import SkillpmError

    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_path))
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        raise SkillpmError(
            f"another skillpm run holds the lock on {what} ({lock_path})",
            hint="wait for it to finish, or delete the lock file if no skillpm is running",
        ) from None
    try:
        yield
    finally:
        lock.release()
