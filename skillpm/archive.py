"""Deterministic skill archives (.tar.gz) and safe extraction.

`pack` writes a byte-for-byte reproducible archive of a skill folder (rules in
docs/tree-digest.md). `extract` validates every member header of an untrusted
archive while streaming through it once, refuses anything unsafe or over the
limits before writing a single byte, then extracts in a second pass.
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import stat
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from skillpm.digest import check_relpath, walk_skill
from skillpm.errors import InstallError, UnsafePathError

__all__ = ["ArchiveLimits", "DEFAULT_LIMITS", "FILE_TYPES", "MIB", "pack", "extract", "list_members", "write_member"]

MIB = 1 << 20
COMPRESS_LEVEL = 9
FIXED_MTIME = 0
#: tar member types that are regular files (what extractors accept besides folders)
FILE_TYPES = (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
# Header bytes allowed per member beyond the declared file sizes (a 512-byte
# header, a pax header and its records), plus one read-ahead buffer of tarfile.
_PER_MEMBER_SLACK = 16 * 1024
_STREAM_SLACK = 64 * 1024
_READ_MAX = 64 * 1024


@dataclass(frozen=True)
class ArchiveLimits:
    max_compressed: int = 50 * MIB  # size of the .tar.gz itself
    max_total: int = 200 * MIB  # sum of the (uncompressed) file sizes
    max_files: int = 10_000  # members of any type
    max_file: int = 50 * MIB  # one file


DEFAULT_LIMITS = ArchiveLimits()


# --------------------------------------------------------------------------- #
# pack


def pack(folder: Path) -> bytes:
    """A deterministic .tar.gz of the skill folder's files.

    Regular files only, at the archive root (no leading folder), sorted by the
    UTF-8 bytes of their paths, `.git` excluded (see walk_skill); directories
    are implied by the paths. Each member: pax format, mtime 0, uid/gid 0,
    uname/gname "", mode 0o755 if any x bit is set else 0o644. gzip: level 9,
    header mtime 0, no file name. Links and devices are refused
    (UnsafePathError via walk_skill).
    """
    entries = walk_skill(Path(folder))
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT, encoding="utf-8") as tar:
        for entry in entries:
            info = tarfile.TarInfo(entry.path)
            info.type = tarfile.REGTYPE
            info.size = entry.size
            info.mode = 0o755 if entry.executable else 0o644
            info.mtime = FIXED_MTIME
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
            fd = os.open(entry.abspath, flags)
            with os.fdopen(fd, "rb") as f:
                st = os.fstat(f.fileno())
                if not stat.S_ISREG(st.st_mode) or st.st_size != entry.size:
                    raise UnsafePathError(f"{entry.abspath}: changed while being packed; try again")
                tar.addfile(info, f)
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, compresslevel=COMPRESS_LEVEL, mtime=FIXED_MTIME) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


# --------------------------------------------------------------------------- #
# extract


class _Bomb(Exception):
    pass


class _CountingReader:
    """Decompresses gzip lazily and refuses to produce more than `budget` bytes.

    The budget grows as validated headers declare file sizes, so a member's
    data is always covered, while a header-metadata bomb (a huge pax or GNU
    long-name record) or a stream that outgrows its headers stops early --
    after at most one read beyond the budget, never after the whole stream.
    """

    def __init__(self, data: bytes, budget: int) -> None:
        self._gz = gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb")
        self.count = 0
        self.budget = budget

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0 or size > _READ_MAX:
            size = _READ_MAX
        chunk = self._gz.read(size)
        self.count += len(chunk)
        if self.count > self.budget:
            raise _Bomb(self.count)
        return chunk

    def close(self) -> None:
        self._gz.close()


@dataclass(frozen=True)
class _Member:
    path: str
    is_dir: bool
    size: int
    executable: bool


def member_kind(member: tarfile.TarInfo) -> str:
    """What a non-regular tar member is, for messages (shared with git's extractor)."""
    if member.issym():
        return "a symbolic link"
    if member.islnk():
        return "a hard link"
    if member.ischr() or member.isblk():
        return "a device"
    if member.isfifo():
        return "a fifo"
    if member.type == tarfile.GNUTYPE_SPARSE:
        return "a sparse file"
    return f"an unsupported member (type {member.type!r})"


def member_path(name: str) -> str | None:
    """Strip leading './' (as `tar -C dir .` writes); None for the root itself."""
    while name.startswith("./"):
        name = name[2:]
    if name in ("", "."):
        return None
    return name


def _members(data: bytes, limits: ArchiveLimits, on_member=None) -> list[_Member]:  # noqa: ANN001
    """Stream through the archive once, validating every header.

    `on_member(member_info, tarfile_member, tar)` is called for each accepted
    member while its data can still be read (the extraction pass).
    """
    if len(data) > limits.max_compressed:
        raise UnsafePathError(
            f"archive: {len(data)} bytes compressed is over the limit of {limits.max_compressed}"
        )
    reader = _CountingReader(data, _STREAM_SLACK + _PER_MEMBER_SLACK)
    members: list[_Member] = []
    explicit: set[str] = set()
    dirs: set[str] = set()  # explicit or implied by a path below them
    files: set[str] = set()
    total = 0
    try:
        with tarfile.open(fileobj=reader, mode="r|") as tar:  # type: ignore[call-overload]
            for m in tar:
                if len(members) >= limits.max_files:
                    raise UnsafePathError(f"archive: more than {limits.max_files} entries (the limit)")
                raw_name = m.name
                name = member_path(raw_name)
                if name is None and m.isdir():
                    continue
                if name is None:
                    raise UnsafePathError(f"archive: member {raw_name!r}: empty path")
                try:
                    check_relpath(name)
                except UnsafePathError as exc:
                    raise UnsafePathError(f"archive: member {raw_name!r}: {exc.message}") from None
                if m.isdir():
                    is_dir = True
                elif m.type in FILE_TYPES:
                    is_dir = False
                else:
                    raise UnsafePathError(
                        f"archive: member {raw_name!r} is {member_kind(m)}; only regular files and folders are allowed"
                    )
                if name in explicit:
                    raise UnsafePathError(f"archive: member {raw_name!r} appears twice")
                parts = name.split("/")
                for i in range(1, len(parts)):
                    parent = "/".join(parts[:i])
                    if parent in files:
                        raise UnsafePathError(f"archive: member {raw_name!r} is inside the file {parent!r}")
                    dirs.add(parent)
                if not is_dir and name in dirs:
                    raise UnsafePathError(f"archive: member {raw_name!r} is a file where a folder is needed")
                explicit.add(name)
                (dirs if is_dir else files).add(name)
                size = 0 if is_dir else m.size
                if size < 0:
                    raise UnsafePathError(f"archive: member {raw_name!r} has a negative size")
                if size > limits.max_file:
                    raise UnsafePathError(
                        f"archive: member {raw_name!r} is {size} bytes, over the per-file limit of {limits.max_file}"
                    )
                total += size
                if total > limits.max_total:
                    raise UnsafePathError(
                        f"archive: files add up to more than {limits.max_total} bytes uncompressed (the limit)"
                    )
                member = _Member(name, is_dir, size, bool(m.mode & 0o111))
                members.append(member)
                # Allow this member's data (padded) and the next header(s).
                n = len(members)
                reader.budget = total + 512 * n + _STREAM_SLACK + _PER_MEMBER_SLACK * (n + 1)
                if on_member is not None:
                    on_member(member, m, tar)
    except _Bomb:
        raise UnsafePathError(
            "archive: decompresses to more data than its headers declare or the limits allow "
            f"(max {limits.max_total} bytes of files); refusing it"
        ) from None
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        # gzip.BadGzipFile is an OSError; tarfile raises ReadError and friends.
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise UnsafePathError(f"archive: not a valid .tar.gz ({detail})") from None
    finally:
        reader.close()
    return members


def list_members(data: bytes, *, limits: ArchiveLimits = DEFAULT_LIMITS) -> list[tuple[str, int, bool]]:
    """Validate an archive without extracting: [(path, size, executable)] of its files."""
    return [(m.path, m.size, m.executable) for m in _members(data, limits) if not m.is_dir]


def _collision(what: str) -> InstallError:
    return InstallError(
        f"{what}: two entries name the same file or folder on this file system "
        "(names differing only in case or Unicode normalization?)"
    )


def write_member(target: Path, src: IO[bytes] | None, *, executable: bool, size: int | None = None, label: str | None = None) -> None:
    """Write one regular file of an untrusted archive (shared with git's extractor).

    Missing parent folders are created (0o755); the file is created exclusively
    and never through a link, filled from `src` (exactly `size` bytes when
    given: fewer means a truncated archive, UnsafePathError), and given mode
    exactly 0o755 (`executable`) or 0o644 whatever the umask. A name already
    taken -- the same file twice, or a file and a folder of one name (names
    differing only in case or Unicode normalization on this file system) --
    and any other failure to write is an InstallError naming `label` (default:
    the target). Errors reading `src` propagate unchanged.
    """
    what = label or str(target)
    mode = 0o755 if executable else 0o644
    try:
        target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, mode)
    except (FileExistsError, NotADirectoryError, IsADirectoryError):
        raise _collision(what) from None
    except OSError as exc:
        raise InstallError(f"{what}: cannot write ({exc.strerror or exc})") from None
    reading = False
    try:
        with os.fdopen(fd, "wb") as out:
            remaining = size
            while src is not None and (remaining is None or remaining > 0):
                reading = True
                chunk = src.read(MIB if remaining is None else min(remaining, MIB))
                reading = False
                if not chunk:
                    if remaining:
                        raise UnsafePathError(f"{what}: truncated in the archive")
                    break
                out.write(chunk)
                if remaining is not None:
                    remaining -= len(chunk)
            if hasattr(os, "fchmod"):
                os.fchmod(out.fileno(), mode)  # exact mode, whatever the umask
        if not hasattr(os, "fchmod"):
            os.chmod(target, mode)
    except OSError as exc:
        if reading:
            raise
        raise InstallError(f"{what}: cannot write ({exc.strerror or exc})") from None


def _prepare_dest(dest: Path) -> bool:
    """Check `dest` is absent or an empty folder; return True if it must be created."""
    try:
        st = os.lstat(dest)
    except FileNotFoundError:
        return True
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise InstallError(f"{dest}: exists and is not a folder; cannot extract there")
    if any(os.scandir(dest)):
        raise InstallError(f"{dest}: is not empty; extract needs an absent or empty folder")
    return False


def extract(data: bytes, dest: Path, *, limits: ArchiveLimits = DEFAULT_LIMITS) -> None:
    """Extract an untrusted skill archive into `dest` (absent or empty; created).

    First pass: stream through every header and refuse (UnsafePathError)
    absolute paths, `..`, `.git`, links, devices, fifos, duplicates, a file
    where a folder is needed, and anything over `limits` (including data that
    decompresses beyond what the headers declare) -- nothing is written then.
    Second pass: write regular files with mode 0o755 (any x bit in the
    archive) or 0o644, folders 0o755. If writing fails midway, whatever was
    written is removed again.
    """
    dest = Path(dest)
    members = _members(data, limits)  # pass 1: validate only
    create = _prepare_dest(dest)

    expected = iter(members)
    created_root = False

    def write(member: _Member, m: tarfile.TarInfo, tar: tarfile.TarFile) -> None:
        if next(expected, None) != member:  # same bytes, same parse: cannot happen
            raise UnsafePathError("archive: changed between validation and extraction")
        target = dest / member.path
        if member.is_dir:
            try:
                target.mkdir(mode=0o755, parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                raise _collision(str(target)) from None
            except OSError as exc:
                raise InstallError(f"{target}: cannot write ({exc.strerror or exc})") from None
            return
        src = tar.extractfile(m)
        assert src is not None
        write_member(target, src, executable=member.executable, size=member.size)

    try:
        if create:
            dest.mkdir(mode=0o755, parents=True)
            created_root = True
        _members(data, limits, on_member=write)  # pass 2: write
    except BaseException:
        if created_root:
            shutil.rmtree(dest, ignore_errors=True)
        elif dest.is_dir():
            for child in list(os.scandir(dest)):
                if child.is_dir(follow_symlinks=False):
                    shutil.rmtree(child.path, ignore_errors=True)
                else:
                    os.unlink(child.path)
        raise
