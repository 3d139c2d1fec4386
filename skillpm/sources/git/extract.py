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

from skillpm.archive import FILE_TYPES, member_kind, member_path, write_member
from skillpm.digest import check_relpath
from skillpm.errors import InstallError, UnsafePathError


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
                if m.type not in FILE_TYPES:
                    raise UnsafePathError(
                        f"{where}: {name!r} is {member_kind(m)}; skills may hold only regular files and folders"
                    )
                write_member(
                    dest / name, tar.extractfile(m), executable=bool(m.mode & 0o111), size=m.size, label=f"{where}: {name!r}"
                )
                written.append(name)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return written
