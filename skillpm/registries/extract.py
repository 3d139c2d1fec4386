"""Unpacking registry archives: the limits, then the tree digest.

Every archive from a registry goes through `skillpm.archive.extract`, which
validates all member headers before writing a byte (no absolute paths, no
`..`, no links or devices, no `.git`, no duplicates) and enforces LIMITS
while decompressing (a small archive that expands past them is refused
midway, and whatever was written is removed).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from skillpm.archive import MIB, ArchiveLimits

#: Limits for one skill archive from a registry (docs/registry-protocol.md).
LIMITS = ArchiveLimits(
    max_compressed=25 * MIB,  # the .tar.gz as downloaded
    max_total=100 * MIB,  # all files, uncompressed
    max_files=5_000,  # members (files and folders)
    max_file=25 * MIB,  # one file, uncompressed
)


def extract_checked(data: bytes, dest: Path, *, integrity: str | None, label: str) -> None:
    """Extract into `dest` (absent or empty); refuse and remove it on any problem."""
    from skillpm.archive import extract
    from skillpm.digest import tree_digest
    from skillpm.errors import IntegrityError, UnsafePathError

    existed = dest.exists()
    try:
        extract(data, dest, limits=LIMITS)
    except UnsafePathError as e:
        raise UnsafePathError(f"{label}: refused: {e.message}", hint="nothing was installed") from None
    if integrity is not None:
        got = tree_digest(dest)
        if got != integrity:
            if existed:
                for child in list(dest.iterdir()):
                    shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
            else:
                shutil.rmtree(dest, ignore_errors=True)
            raise IntegrityError(
                f"{label}: the unpacked files have digest {got}, but {integrity} was expected",
                hint="the archive does not hold what the index (or skills.lock) records; nothing was installed",
            )
