"""Filesystem primitives that never leave anything half-written.

- atomic_write: temp file in the same folder, fsync, os.replace.
- create_exclusive: a new file, whole or absent, never replacing another.
- file_lock: a cross-process lock that serializes skillpm runs.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from skillpm import failpoints

LOCK_TIMEOUT_SECONDS = 300.0


def _write_synced(fd: int, data: bytes) -> None:
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


@contextlib.contextmanager
def _temp_beside(path: Path, data: bytes, mode: int) -> Iterator[str]:
    """A synced temp file with `data` in path's folder (same filesystem); removed after."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        _write_synced(fd, data)
        os.chmod(tmp, mode)
        yield tmp
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def atomic_write(path: Path, data: bytes | str, *, mode: int | None = None) -> None:
    """Replace `path` with `data` in one step: readers see old or new, never a mix.

    Without `mode`, an existing file keeps its mode and a new one gets 0o666 & ~umask.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    if mode is None:
        if path.exists():
            mode = path.stat().st_mode & 0o7777
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
    with _temp_beside(path, data, mode) as tmp:
        failpoints.point(f"write {path.name}")
        os.replace(tmp, path)


def checkout_id(folder: Path) -> str | None:
    """The identity of a folder on this machine (device and inode), None when absent.

    skillpm writes it into the state it keeps in a checkout (install state,
    journal, targets.json) and trusts such a file only when it matches: a copy
    committed to a repository and checked out elsewhere is a new folder, so it
    counts as absent rather than as a record of what skillpm did here.
    """
    try:
        st = os.lstat(folder)
    except OSError:
        return None
    return f"{st.st_dev}:{st.st_ino}"


def read_capped(path: Path, limit: int) -> bytes:
    """A regular file's bytes, without following a link, refusing devices and
    FIFOs (never blocking on one) and anything over `limit` bytes (OSError)."""
    import stat

    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise OSError(f"{path}: not a regular file")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise OSError(f"{path}: larger than {limit} bytes")
    return data


def read_json_capped(path: Path, limit: int) -> object:
    """JSON from a capped regular file; any failure (absent, link, too big, too
    deep, not JSON, not UTF-8) is None: for state files skillpm can rebuild."""
    import json

    try:
        return json.loads(read_capped(path, limit))
    except (OSError, ValueError, RecursionError):
        return None


def is_plain_name(name: object) -> bool:
    """One folder name: not empty, no separator or NUL, not hidden (so never '.' or '..')."""
    return (
        isinstance(name, str)
        and bool(name)
        and not name.startswith(".")
        and not any(c in name for c in "/\\\x00")
    )


def remove_path(path: Path) -> None:
    """Delete a folder tree, a file or a link (never following a link)."""
    import shutil

    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()


def fsync_dir(folder: Path) -> None:
    """Make renames in `folder` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_stale_temps(folder: Path, names: list[str]) -> list[Path]:
    """Delete the temp files that killed atomic writes of `names` left in `folder`.

    Call only under the lock that serializes every writer of those files (the
    project lock): then no temp file of a live writer can be there.
    """
    import re

    if not names or not folder.is_dir():
        return []
    pattern = re.compile("|".join(rf"\.{re.escape(n)}\.[A-Za-z0-9_]{{8}}\.tmp" for n in names) + r"\Z")
    removed = []
    for p in folder.iterdir():
        if pattern.match(p.name) and p.is_file() and not p.is_symlink():
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
                removed.append(p)
    return removed


def create_exclusive(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Create `path` with `data`, whole or not at all; never replace an existing file.

    Raises FileExistsError when `path` exists (even if it appeared meanwhile):
    the bytes go to a temp file that is hard-linked into place, or, on a file
    system without hard links, written through O_EXCL.
    """
    with _temp_beside(path, data, mode) as tmp:
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise
        except OSError:  # no hard links here: O_EXCL, then write
            _write_synced(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), data)


@contextlib.contextmanager
def file_lock(lock_path: Path, *, what: str, timeout: float = LOCK_TIMEOUT_SECONDS) -> Iterator[None]:
    """Hold an exclusive cross-process lock on `lock_path` (created if needed)."""
    from filelock import FileLock, Timeout

    from skillpm.errors import SkillpmError

    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_path), mode=0o666)  # openable by every user who shares the project (umask aside)
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
