"""The write primitives: replace in one step, or create without ever replacing."""

from __future__ import annotations

import os

import pytest

from skillpm.fs import atomic_write, create_exclusive


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_atomic_write_replaces_and_keeps_mode(tmp_path):
    target = tmp_path / "skills.lock"
    atomic_write(target, "one\n")
    os.chmod(target, 0o640)
    atomic_write(target, "two\n")
    assert target.read_text() == "two\n"
    assert target.stat().st_mode & 0o777 == 0o640
    assert leftovers(tmp_path) == []


def test_atomic_write_failure_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "skills.toml"
    atomic_write(target, "old\n")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, "new\n")
    assert target.read_text() == "old\n" and leftovers(tmp_path) == []


def test_create_exclusive_never_replaces(tmp_path):
    target = tmp_path / "dl" / "x" / "1.0.0.tar.gz"
    create_exclusive(target, b"first")
    with pytest.raises(FileExistsError):
        create_exclusive(target, b"second")
    assert target.read_bytes() == b"first"
    assert target.stat().st_mode & 0o777 == 0o644
    assert leftovers(target.parent) == []


def test_create_exclusive_without_hard_links_uses_o_excl(tmp_path, monkeypatch):
    def no_links(src, dst):
        raise OSError("operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    target = tmp_path / "a.bin"
    create_exclusive(target, b"data")
    assert target.read_bytes() == b"data"
    with pytest.raises(FileExistsError):
        create_exclusive(target, b"other")
    assert leftovers(tmp_path) == []
