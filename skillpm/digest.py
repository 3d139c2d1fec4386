"""The tree digest: one sha256 that pins every byte of a skill folder.

    digest = "sha256:" + hex(sha256(lines))
    lines  = for each regular file, sorted by the UTF-8 bytes of its path:
             <path> NUL <hex sha256 of the file's bytes> LF

`path` is relative to the skill root, `/`-separated. Only regular files count
(empty directories and file modes do not). Any path component named `.git`
(any case) is excluded, at every level: git never tracks one, so a git checkout
and the same tree elsewhere digest the same. Symlinks, devices, fifos and
sockets are refused, never followed. See docs/tree-digest.md.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from skillpm.errors import UnsafePathError

__all__ = [
    "FileEntry",
    "CHUNK",
    "check_relpath",
    "digest_entries",
    "walk_skill",
    "hash_file",
    "file_hashes",
    "tree_digest",
]

CHUNK = 1 << 20  # 1 MiB
_HEX64 = re.compile(r"[0-9a-f]{64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class FileEntry:
    path: str  # relative, "/"-separated
    abspath: Path
    size: int
    executable: bool  # any x bit set


def _is_git(component: str) -> bool:
    return component.lower() == ".git"


def check_relpath(p: str) -> str:
    """Return `p` if it is a safe, canonical relative file path; else raise.

    Refused (UnsafePathError): empty paths, absolute paths (`/x`, `C:x`),
    backslashes (a separator on Windows, so `a\\..\\x` could escape), empty
    segments (`a//b`, trailing `/`), `.` and `..` segments, NUL and other
    control characters, and any `.git` component (any case). Paths that do
    not survive UTF-8 encoding (undecodable file names) are refused too.
    """
    if not isinstance(p, str):
        raise UnsafePathError(f"path {p!r}: must be a string")
    shown = repr(p)
    if not p:
        raise UnsafePathError("empty path")
    if _CONTROL.search(p):
        raise UnsafePathError(f"path {shown}: contains a NUL or control character")
    try:
        p.encode("utf-8")
    except UnicodeEncodeError:
        raise UnsafePathError(f"path {shown}: is not valid UTF-8") from None
    if "\\" in p:
        raise UnsafePathError(f"path {shown}: contains a backslash (use '/' and no '\\' in file names)")
    if p.startswith("/") or _DRIVE.match(p):
        raise UnsafePathError(f"path {shown}: is absolute; only paths inside the skill are allowed")
    for segment in p.split("/"):
        if segment == "":
            raise UnsafePathError(f"path {shown}: has an empty segment ('//' or a trailing '/')")
        if segment == "..":
            raise UnsafePathError(f"path {shown}: contains '..'; only paths inside the skill are allowed")
        if segment == ".":
            raise UnsafePathError(f"path {shown}: contains a '.' segment")
        if _is_git(segment):
            raise UnsafePathError(f"path {shown}: contains a .git component")
    return p


def digest_entries(entries: Iterable[tuple[str, bytes | str]]) -> str:
    """The tree digest of (relpath, file bytes or hex sha256 of them) pairs (pure).

    A `str` second element is taken as the file's hex sha256 (64 hex digits,
    any case); `bytes` are hashed. Paths are checked with check_relpath and
    must be unique (ValueError otherwise).
    """
    lines: list[tuple[bytes, str]] = []
    seen: set[str] = set()
    for path, content in entries:
        check_relpath(path)
        if path in seen:
            raise ValueError(f"duplicate path in digest entries: {path!r}")
        seen.add(path)
        if isinstance(content, (bytes, bytearray, memoryview)):
            hexdigest = hashlib.sha256(content).hexdigest()
        elif isinstance(content, str):
            hexdigest = content.lower()
            if not _HEX64.fullmatch(hexdigest):
                raise ValueError(f"{path!r}: {content!r} is not a hex sha256")
        else:
            raise TypeError(f"{path!r}: expected bytes or a hex sha256 string, got {type(content).__name__}")
        lines.append((path.encode("utf-8"), hexdigest))
    lines.sort(key=lambda item: item[0])
    h = hashlib.sha256()
    for path_bytes, hexdigest in lines:
        h.update(path_bytes + b"\0" + hexdigest.encode("ascii") + b"\n")
    return "sha256:" + h.hexdigest()


_KINDS = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISFIFO, "a fifo"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def walk_skill(folder: Path) -> list[FileEntry]:
    """Every regular file under `folder`, sorted by path bytes, `.git` excluded.

    Never follows links. Raises UnsafePathError naming the offending path for
    a symlink (file or folder, including `folder` itself), a device, a fifo,
    a socket, or a file name check_relpath refuses.
    """
    folder = Path(folder)
    try:
        st = os.lstat(folder)
    except FileNotFoundError:
        raise UnsafePathError(f"{folder}: does not exist") from None
    if stat.S_ISLNK(st.st_mode):
        raise UnsafePathError(f"{folder}: is a symbolic link; skills must not contain links")
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafePathError(f"{folder}: is not a directory")

    found: list[FileEntry] = []
    pending: list[tuple[str, str]] = [(os.fspath(folder), "")]  # (directory, relpath prefix)
    while pending:  # iterative: deep trees must not hit the recursion limit
        directory, prefix = pending.pop()
        with os.scandir(directory) as it:
            children = list(it)
        for entry in children:
            name = entry.name
            if _is_git(name):
                continue
            rel = prefix + name
            shown = f"{folder}/{rel}"
            try:
                check_relpath(rel)
            except UnsafePathError as exc:
                raise UnsafePathError(f"{shown}: unsafe file name ({exc.message})") from None
            est = entry.stat(follow_symlinks=False)
            mode = est.st_mode
            if stat.S_ISDIR(mode):
                pending.append((entry.path, rel + "/"))
            elif stat.S_ISREG(mode):
                found.append(
                    FileEntry(path=rel, abspath=Path(entry.path), size=est.st_size, executable=bool(mode & 0o111))
                )
            else:
                raise UnsafePathError(
                    f"{shown}: is {_kind(mode)}; skills may hold only regular files and folders"
                )

    found.sort(key=lambda e: e.path.encode("utf-8"))
    return found


def hash_file(path: Path) -> str:
    """Hex sha256 of a regular file, read in 1 MiB chunks, without following a link."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        if os.path.islink(path):
            raise UnsafePathError(f"{path}: is a symbolic link; skills must not contain links") from None
        raise
    h = hashlib.sha256()
    with os.fdopen(fd, "rb", buffering=0) as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise UnsafePathError(f"{path}: is not a regular file")
        # One buffer per file, no bigger than the file (+1 to see EOF at once).
        buf = bytearray(min(CHUNK, st.st_size + 1))
        view = memoryview(buf)
        while True:
            n = f.readinto(buf)
            if not n:
                break
            h.update(view[:n])
    return h.hexdigest()


def file_hashes(folder: Path) -> dict[str, str]:
    """relpath -> hex sha256 for every file walk_skill finds (sorted by path bytes)."""
    return {e.path: hash_file(e.abspath) for e in walk_skill(folder)}


def tree_digest(folder: Path) -> str:
    """The tree digest of a skill folder: "sha256:<64 hex>"."""
    return digest_entries(file_hashes(folder).items())
