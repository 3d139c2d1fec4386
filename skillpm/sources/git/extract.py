"""Unpacking `git archive` output into a skill folder, trusting nothing in it.

Regular files only; links, devices, fifos, absolute paths, `..`, backslashes and
`.git` components are refused (UnsafePathError) and nothing is left behind.
Files get mode 0o755 when git recorded them executable, else 0o644 (what a
plain `git checkout` writes with the usual umask), so the tree digest of the
result equals the tree digest of a checkout of the same commit.
"""

from __future__ import annotations

import os
import shutil
import tarfile
from pathlib import Path
from typing import IO

from skillpm.archive import member_kind, member_path
from skillpm.digest import check_relpath
from skillpm.errors import InstallError, UnsafePathError

_FILE_TYPES = (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE)
_CHUNK = 1 << 20
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)


def extract_tar_stream(stream: IO[bytes], dest: Path, *, where: str) -> list[str]:
    """Write the regular files of an uncompressed tar stream into `dest` (created).

    `where` names the origin in messages (a redacted URL and path). Returns the
    relative paths written. On any error `dest` is removed again.
    """
    dest = Path(dest)
    if os.path.lexists(dest):
        raise InstallError(f"{dest}: already exists; materialize needs a fresh folder")
    dest.mkdir(parents=True, mode=0o755)
    written: list[str] = []
    try:
        with tarfile.open(fileobj=stream, mode="r|") as tar:  # type: ignore[call-overload]
            for m in tar:
                name = member_path(m.name.rstrip("/") if m.isdir() else m.name)
                if name is None:
                    continue
                try:
                    check_relpath(name)
                except UnsafePathError as exc:
                    raise UnsafePathError(f"{where}: {exc.message}") from None
                if m.isdir():
                    continue  # folders are implied by the files in them
                if m.type not in _FILE_TYPES:
                    raise UnsafePathError(
                        f"{where}: {name!r} is {member_kind(m)}; skills may hold only regular files and folders"
                    )
                target = dest / name
                target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
                mode = 0o755 if m.mode & 0o111 else 0o644
                try:
                    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, mode)
                except FileExistsError:
                    raise InstallError(
                        f"{where}: two entries name the file {name!r} on this file system "
                        "(names differing only in case?)"
                    ) from None
                with os.fdopen(fd, "wb") as out:
                    src = tar.extractfile(m)
                    if src is not None:
                        shutil.copyfileobj(src, out, _CHUNK)
                    os.fchmod(out.fileno(), mode)
                written.append(name)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return written
