"""skillpm.archive: deterministic pack, safe extract."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import struct
import sys
import tarfile
from pathlib import Path

import pytest

from skillpm import archive
from skillpm.archive import DEFAULT_LIMITS, MIB, ArchiveLimits, extract, list_members, pack
from skillpm.digest import file_hashes, tree_digest
from skillpm.errors import InstallError, UnsafePathError
from tests.conftest import write_files

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes and file types")

FILES = {
    "SKILL.md": "---\nname: demo\ndescription: Demo. Use when testing.\nmetadata:\n  version: 1.0.0\n---\n# Demo\n",
    "scripts/run.sh": ("#!/bin/sh\necho hi\n", 0o755),
    "scripts/helper.py": ("print('x')\n", 0o644),
    "references/guide.md": "# Guide\n",
    "references/nested/deep/é ü.md": "unicode name\n",
    "assets/empty.txt": "",
    "assets/blob.bin": bytes(range(256)) * 9000,  # ~2.3 MB, several chunks
    "a-b": "sorts before a/",
    "B": "sorts before a",
}


def modes(folder: Path) -> dict[str, int]:
    return {
        str(p.relative_to(folder)): p.stat().st_mode & 0o777
        for p in folder.rglob("*")
        if p.is_file()
    }


# --------------------------------------------------------------------------- #
# pack


def test_pack_is_byte_identical_across_copies_times_and_umask(tmp_path):
    one = tmp_path / "one" / "demo"
    write_files(one, FILES)
    old_umask = os.umask(0o077)
    try:
        two = tmp_path / "two" / "demo"
        # other creation order, other umask, other modes with the same x bits
        write_files(two, dict(reversed(list(FILES.items()))))
        os.chmod(two / "scripts/run.sh", 0o700)
        os.chmod(two / "SKILL.md", 0o600)
    finally:
        os.umask(old_umask)
    for i, p in enumerate(sorted(two.rglob("*"))):
        os.utime(p, (1_000_000 + i, 2_000_000_000 - i), follow_symlinks=False)
    (two / ".git").mkdir()
    (two / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (two / "empty-dir").mkdir()

    first, second = pack(one), pack(two)
    assert first == second
    assert pack(one) == first  # and stable over time


def test_pack_layout(tmp_path):
    write_files(tmp_path, FILES)
    data = pack(tmp_path)
    # gzip header: magic, deflate, no flags (no file name), mtime 0, XFL 2 (level 9), OS 255
    assert data[:4] == b"\x1f\x8b\x08\x00"
    assert struct.unpack("<I", data[4:8])[0] == 0
    assert data[8:10] == b"\x02\xff"
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names == sorted(names, key=lambda n: n.encode("utf-8"))
    assert names == list(file_hashes(tmp_path))
    assert names[:2] == ["B", "SKILL.md"]
    for m in members:
        assert m.isreg()
        assert (m.mtime, m.uid, m.gid, m.uname, m.gname) == (0, 0, 0, "", "")
        assert m.mode == (0o755 if m.name == "scripts/run.sh" else 0o644)
        assert not m.name.startswith(("/", "./"))


def test_pack_refuses_links(tmp_path):
    write_files(tmp_path, FILES)
    (tmp_path / "scripts" / "evil").symlink_to("/etc/passwd")
    with pytest.raises(UnsafePathError, match="scripts/evil"):
        pack(tmp_path)


# --------------------------------------------------------------------------- #
# round trip


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o000])
def test_round_trip_preserves_bytes_exec_bits_and_digest(tmp_path, umask):
    src = tmp_path / "src"
    write_files(src, FILES)
    data = pack(src)
    dest = tmp_path / "out" / "demo"
    old = os.umask(umask)
    try:
        extract(data, dest)
    finally:
        os.umask(old)
    assert file_hashes(dest) == file_hashes(src)
    assert tree_digest(dest) == tree_digest(src)
    got = modes(dest)
    assert got.pop("scripts/run.sh") == 0o755
    assert set(got.values()) == {0o644}
    assert pack(dest) == data


def test_extract_into_an_existing_empty_folder(tmp_path):
    write_files(tmp_path / "src", FILES)
    dest = tmp_path / "dest"
    dest.mkdir()
    extract(pack(tmp_path / "src"), dest)
    assert tree_digest(dest) == tree_digest(tmp_path / "src")


def test_list_members(tmp_path):
    write_files(tmp_path, {"b": "12", "a/x.sh": ("#!", 0o755)})
    assert list_members(pack(tmp_path)) == [("a/x.sh", 2, True), ("b", 2, False)]


def test_archive_made_by_tar_with_dot_prefix_and_dirs(tmp_path):
    src = tmp_path / "src"
    write_files(src, FILES)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(src, arcname=".")  # "./", "./SKILL.md", "./scripts/", ... like `tar -C src .`
    dest = tmp_path / "dest"
    extract(buf.getvalue(), dest)
    assert tree_digest(dest) == tree_digest(src)
    assert modes(dest)["scripts/run.sh"] == 0o755


@pytest.mark.parametrize(
    ("dest_setup", "message"),
    [
        pytest.param(lambda d: (d.mkdir(), (d / "x").write_text("old")), "not empty", id="not-empty"),
        pytest.param(lambda d: d.write_text("file"), "not a folder", id="a-file"),
        pytest.param(lambda d: d.symlink_to(d.parent), "not a folder", id="a-symlink"),
    ],
)
def test_extract_refuses_a_bad_destination(tmp_path, dest_setup, message):
    write_files(tmp_path / "src", FILES)
    dest = tmp_path / "dest"
    dest_setup(dest)
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(InstallError, match=message):
        extract(pack(tmp_path / "src"), dest)
    assert sorted(os.listdir(tmp_path)) == before


def test_a_failure_while_writing_removes_what_was_written(tmp_path, monkeypatch):
    write_files(tmp_path / "src", FILES)
    data = pack(tmp_path / "src")
    calls = []

    def flaky_fchmod(fd, mode):
        calls.append(fd)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(archive.os, "fchmod", flaky_fchmod)
    dest = tmp_path / "dest"
    with pytest.raises(InstallError, match="No space left"):
        extract(data, dest)
    assert not dest.exists()
    dest.mkdir()
    calls.clear()
    with pytest.raises(InstallError):
        extract(data, dest)
    assert list(dest.iterdir()) == []


# --------------------------------------------------------------------------- #
# hostile archives, built by hand


def member(name: str, data: bytes = b"x", *, type: bytes = tarfile.REGTYPE, linkname: str = "", mode: int = 0o644, size: int | None = None) -> tuple[tarfile.TarInfo, bytes | None]:
    info = tarfile.TarInfo(name)
    info.type = type
    info.mode = mode
    info.linkname = linkname
    if type in (tarfile.REGTYPE, tarfile.AREGTYPE):
        info.size = len(data) if size is None else size
        return info, data
    return info, None


def build(*members: tuple[tarfile.TarInfo, bytes | None], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=fmt) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return gzip.compress(raw.getvalue(), mtime=0)


SKILL = member("SKILL.md", b"---\nname: x\ndescription: y\n---\n")

HOSTILE = [
    ("dotdot", build(SKILL, member("../x")), "'..'"),
    ("dotdot-nested", build(SKILL, member("scripts/../../x")), "'..'"),
    ("absolute", build(SKILL, member("/etc/x")), "absolute"),
    ("backslash", build(SKILL, member("..\\x")), "backslash"),
    ("git-hook", build(SKILL, member(".git/hooks/post-checkout", mode=0o755)), ".git"),
    ("symlink", build(SKILL, member("link", type=tarfile.SYMTYPE, linkname="/etc/passwd")), "symbolic link"),
    ("symlink-relative", build(SKILL, member("link", type=tarfile.SYMTYPE, linkname="SKILL.md")), "symbolic link"),
    ("hardlink", build(SKILL, member("hard", type=tarfile.LNKTYPE, linkname="SKILL.md")), "hard link"),
    ("hardlink-outside", build(SKILL, member("hard", type=tarfile.LNKTYPE, linkname="/etc/passwd")), "hard link"),
    ("char-device", build(SKILL, member("dev", type=tarfile.CHRTYPE)), "device"),
    ("block-device", build(SKILL, member("dev", type=tarfile.BLKTYPE)), "device"),
    ("fifo", build(SKILL, member("pipe", type=tarfile.FIFOTYPE)), "fifo"),
    ("duplicate", build(SKILL, member("a", b"1"), member("a", b"2")), "twice"),
    ("duplicate-dot-prefix", build(SKILL, member("a", b"1"), member("./a", b"2")), "twice"),
    ("file-then-inside", build(SKILL, member("a"), member("a/b")), "inside the file"),
    ("inside-then-file", build(SKILL, member("a/b"), member("a")), "folder is needed"),
    ("dir-then-file", build(SKILL, member("d", type=tarfile.DIRTYPE, mode=0o755), member("d")), "twice"),
    ("control-char", build(SKILL, member("a\nb")), "control"),
    ("empty-segment", build(SKILL, member("a//b")), "empty segment"),
]


@pytest.mark.parametrize(("data", "message"), [pytest.param(d, m, id=i) for i, d, m in HOSTILE])
@pytest.mark.parametrize("dest_exists", [False, True], ids=["absent", "empty"])
def test_hostile_archives_are_refused_and_nothing_is_written(tmp_path, data, message, dest_exists):
    dest = tmp_path / "dest"
    if dest_exists:
        dest.mkdir()
    with pytest.raises(UnsafePathError) as exc:
        extract(data, dest)
    assert message in exc.value.message
    assert exc.value.message.startswith("archive: ")
    if dest_exists:
        assert list(dest.iterdir()) == []
    else:
        assert not dest.exists()
    assert sorted(os.listdir(tmp_path)) == (["dest"] if dest_exists else [])


def test_refusal_happens_before_any_write_even_when_the_bad_member_is_last(tmp_path):
    data = build(*[member(f"f{i}", b"data") for i in range(50)], member("../escape"))
    with pytest.raises(UnsafePathError):
        extract(data, tmp_path / "dest")
    assert not (tmp_path / "dest").exists() and not (tmp_path / "escape").exists()


def _files(n: int, size: int = 1) -> bytes:
    return build(*[member(f"f{i:05d}", b"x" * size) for i in range(n)])


@pytest.mark.parametrize(
    ("data", "limits", "message"),
    [
        pytest.param(_files(11), ArchiveLimits(max_files=10), "more than 10 entries", id="too-many-files"),
        pytest.param(_files(3, 1000), ArchiveLimits(max_file=999), "per-file limit of 999", id="file-too-big"),
        pytest.param(_files(4, 1000), ArchiveLimits(max_total=3999), "more than 3999 bytes", id="total-too-big"),
        pytest.param(_files(4, 1000), ArchiveLimits(max_compressed=100), "compressed is over the limit", id="compressed-too-big"),
    ],
)
def test_limits(tmp_path, data, limits, message):
    with pytest.raises(UnsafePathError, match=message):
        extract(data, tmp_path / "dest", limits=limits)
    assert not (tmp_path / "dest").exists()


def test_exactly_at_the_limits_is_fine(tmp_path):
    data = _files(4, 1000)
    extract(data, tmp_path / "dest", limits=ArchiveLimits(max_files=4, max_file=1000, max_total=4000, max_compressed=len(data)))
    assert len(list((tmp_path / "dest").iterdir())) == 4


def test_default_limits():
    assert DEFAULT_LIMITS == ArchiveLimits(50 * MIB, 200 * MIB, 10_000, 50 * MIB)


class _Zeros(io.RawIOBase):
    def __init__(self, n: int) -> None:
        self.left = n

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # noqa: ANN001
        n = min(len(b), self.left)
        b[:n] = bytes(n)
        self.left -= n
        return n


BOMB_SIZE = 300 * MIB


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """A tar holding one 300 MiB file of zeros, gzipped to well under 1 MiB."""
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as gz:
        with tarfile.open(fileobj=gz, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            info = tarfile.TarInfo("SKILL.md")
            info.size = BOMB_SIZE
            tar.addfile(info, io.BufferedReader(_Zeros(BOMB_SIZE)))
    return raw.getvalue()


@pytest.fixture
def decompressed(monkeypatch) -> list[int]:
    """Records how many bytes extract decompressed (the high-water mark)."""
    seen = [0]
    real_read = archive._CountingReader.read

    def read(self, size=-1):
        chunk = real_read(self, size)
        seen[0] = max(seen[0], self.count)
        return chunk

    monkeypatch.setattr(archive._CountingReader, "read", read)
    return seen


def test_gzip_bomb_is_refused_while_streaming(tmp_path, zip_bomb, decompressed):
    assert len(zip_bomb) < MIB
    limits = ArchiveLimits(max_total=10 * MIB, max_file=400 * MIB)
    with pytest.raises(UnsafePathError, match="more than 10485760 bytes"):
        extract(zip_bomb, tmp_path / "dest", limits=limits)
    assert not (tmp_path / "dest").exists()
    assert decompressed[0] < MIB  # refused at the header, not after inflating 300 MiB


def test_gzip_bomb_over_the_per_file_limit(tmp_path, zip_bomb, decompressed):
    with pytest.raises(UnsafePathError, match="per-file limit"):
        extract(zip_bomb, tmp_path / "dest")  # default limits: 50 MiB per file
    assert decompressed[0] < MIB


def test_pax_header_bomb_is_cut_off_by_the_stream_budget(tmp_path, decompressed):
    info = tarfile.TarInfo("SKILL.md")
    info.size = 1
    info.pax_headers = {"comment": "z" * (20 * MIB)}
    data = build((info, b"x"))
    assert len(data) < MIB
    with pytest.raises(UnsafePathError, match="decompresses to more data"):
        extract(data, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()
    assert decompressed[0] < MIB


def test_trailing_zeros_after_the_archive_are_not_inflated(tmp_path, decompressed):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info, data = member("SKILL.md", b"hello")
        tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:
        gz.write(raw.getvalue())
        for _ in range(100):
            gz.write(bytes(MIB))
    extract(out.getvalue(), tmp_path / "dest")
    assert (tmp_path / "dest" / "SKILL.md").read_bytes() == b"hello"
    assert decompressed[0] < 2 * MIB


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"not a tarball at all", id="garbage"),
        pytest.param(gzip.compress(b"not a tar, but gzipped" * 100), id="gzip-not-tar"),
        pytest.param(_files(5, 5000)[:-40], id="truncated"),
        pytest.param(b"\x1f\x8b\x08\x00" + b"\x00" * 20, id="bad-deflate"),
    ],
)
def test_corrupt_archives_are_a_clear_error(tmp_path, data):
    with pytest.raises(UnsafePathError, match=r"^archive: "):
        extract(data, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_negative_size_header_is_refused(tmp_path):
    raw = bytearray(io.BytesIO(tarfile.TarInfo("a").tobuf(tarfile.USTAR_FORMAT)).getvalue())
    raw[124:136] = b"\xff" * 12  # base-256 size field: -1
    raw[148:156] = b" " * 8
    raw[148:155] = f"{sum(raw):06o}\0".encode()
    data = gzip.compress(bytes(raw) + bytes(1024))
    with pytest.raises(UnsafePathError, match=r"^archive: "):
        extract(data, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_setuid_bits_are_dropped(tmp_path):
    data = build(SKILL, member("run", b"#!/bin/sh\n", mode=0o4777), member("plain", mode=0o666))
    extract(data, tmp_path / "dest")
    assert modes(tmp_path / "dest") == {"SKILL.md": 0o644, "run": 0o755, "plain": 0o644}


def test_digest_of_extracted_matches_content(tmp_path):
    data = build(SKILL, member("scripts/a.sh", b"#!/bin/sh\n", mode=0o755))
    extract(data, tmp_path / "dest")
    expected = {
        "SKILL.md": hashlib.sha256(SKILL[1]).hexdigest(),
        "scripts/a.sh": hashlib.sha256(b"#!/bin/sh\n").hexdigest(),
    }
    assert file_hashes(tmp_path / "dest") == expected


# --------------------------------------------------------------------------- #
# write_member, shared with the git extractor


def _plain_tar(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return raw.getvalue()


def test_write_member_modes_and_collisions(tmp_path):
    archive.write_member(tmp_path / "d/run.sh", io.BytesIO(b"#!/bin/sh\n"), executable=True)
    archive.write_member(tmp_path / "d/a.txt", io.BytesIO(b"a"), executable=False, size=1)
    assert (tmp_path / "d/run.sh").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "d/a.txt").stat().st_mode & 0o777 == 0o644
    with pytest.raises(InstallError, match="same file or folder"):
        archive.write_member(tmp_path / "d/a.txt", io.BytesIO(b"b"), executable=False)
    with pytest.raises(InstallError, match="same file or folder"):
        archive.write_member(tmp_path / "d/a.txt/x", io.BytesIO(b"b"), executable=False)  # a file where a folder is
    with pytest.raises(InstallError, match="same file or folder"):
        archive.write_member(tmp_path / "d", io.BytesIO(b"b"), executable=False)  # a folder where a file is
    with pytest.raises(UnsafePathError, match="truncated"):
        archive.write_member(tmp_path / "short", io.BytesIO(b"ab"), executable=False, size=3)


@pytest.mark.parametrize("names", [("a", "a/b"), ("a/b", "a")], ids=["file-then-inside", "folder-then-file"])
def test_git_extractor_file_folder_collision_is_an_install_error(tmp_path, names):
    from skillpm.sources.git.extract import extract_tar_stream

    data = _plain_tar(*(member(n) for n in names))
    dest = tmp_path / "dest"
    with pytest.raises(InstallError, match="same file or folder") as info:
        extract_tar_stream(io.BytesIO(data), dest, where="git+https://host/r.git")
    assert "git+https://host/r.git" in str(info.value)
    assert not dest.exists()
