"""skillpm.digest: the tree digest, the safe walk, relpath checks."""

from __future__ import annotations

import hashlib
import inspect
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from skillpm.digest import (
    CHUNK,
    FileEntry,
    check_relpath,
    digest_entries,
    file_hashes,
    hash_file,
    tree_digest,
    walk_skill,
)
from skillpm.errors import UnsafePathError
from tests.conftest import write_files


def by_hand(files: dict[str, bytes]) -> str:
    """The documented algorithm, written out independently of the module."""
    lines = b""
    for path in sorted(files, key=lambda p: p.encode("utf-8")):
        lines += path.encode("utf-8") + b"\0" + hashlib.sha256(files[path]).hexdigest().encode() + b"\n"
    return "sha256:" + hashlib.sha256(lines).hexdigest()


KNOWN_TREE = {
    "SKILL.md": b"---\nname: demo\ndescription: A demo skill.\n---\n# Demo\n",
    "scripts/run.sh": b"#!/bin/sh\necho hi\n",
    "references/guide.md": b"# Guide\n",
}


def test_known_tree_digest_by_hand(tmp_path):
    write_files(tmp_path, KNOWN_TREE)
    # Fully spelled out, no helper: what docs/tree-digest.md tells users to do.
    lines = (
        b"SKILL.md\0" + hashlib.sha256(KNOWN_TREE["SKILL.md"]).hexdigest().encode() + b"\n"
        + b"references/guide.md\0" + hashlib.sha256(KNOWN_TREE["references/guide.md"]).hexdigest().encode() + b"\n"
        + b"scripts/run.sh\0" + hashlib.sha256(KNOWN_TREE["scripts/run.sh"]).hexdigest().encode() + b"\n"
    )
    expected = "sha256:" + hashlib.sha256(lines).hexdigest()
    assert tree_digest(tmp_path) == expected
    assert digest_entries(KNOWN_TREE.items()) == expected
    assert by_hand(KNOWN_TREE) == expected


# The worked example in docs/tree-digest.md.
DOCS_DIGEST = by_hand(
    {
        "SKILL.md": b"---\nname: demo\ndescription: A demo skill.\n---\n# Demo\n",
        "scripts/run.sh": b"#!/bin/sh\necho hi\n",
    }
)


def test_docs_mention_the_digest():
    doc = Path(__file__).resolve().parents[2] / "docs" / "tree-digest.md"
    assert DOCS_DIGEST in doc.read_text(encoding="utf-8")


@pytest.mark.skipif(
    sys.platform == "win32" or not shutil.which("sha256sum") or not shutil.which("bash"),
    reason="needs bash and sha256sum",
)
def test_shell_recipe_from_the_docs_matches(tmp_path):
    files = {**KNOWN_TREE, "a-b": b"1", "a/b": b"2", "B": b"3", ".git/HEAD": b"ref", "sub/.git/x": b"y"}
    write_files(tmp_path, files)
    recipe = (
        "find . -iname .git -prune -o -type f -print | sed 's|^\\./||' | LC_ALL=C sort |\n"
        "  while IFS= read -r f; do\n"
        "    printf '%s\\0%s\\n' \"$f\" \"$(sha256sum < \"$f\" | cut -d' ' -f1)\"\n"
        "  done | sha256sum | sed 's/^/sha256:/; s/ .*//'"
    )
    doc = (Path(__file__).resolve().parents[2] / "docs" / "tree-digest.md").read_text(encoding="utf-8")
    assert recipe in doc
    out = subprocess.run(["bash", "-c", recipe], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == tree_digest(tmp_path)


@pytest.mark.parametrize(
    ("paths", "order"),
    [
        pytest.param(["a", "B"], ["B", "a"], id="uppercase-first"),
        pytest.param(["a0", "a/b", "a-b"], ["a-b", "a/b", "a0"], id="dash-slash-digit"),
        pytest.param(["a/b", "a.txt"], ["a.txt", "a/b"], id="dot-before-slash"),
        pytest.param(["é", "z", "Z"], ["Z", "z", "é"], id="utf8-bytes"),
        pytest.param(["b/a", "a/z", "a/b/c"], ["a/b/c", "a/z", "b/a"], id="nested"),
    ],
)
def test_sort_order_is_by_utf8_bytes(tmp_path, paths, order):
    write_files(tmp_path, {p: p.encode() for p in paths})
    assert [e.path for e in walk_skill(tmp_path)] == order
    assert list(file_hashes(tmp_path)) == order
    files = {p: p.encode() for p in paths}
    assert tree_digest(tmp_path) == by_hand(files)
    # input order does not matter to the pure function
    assert digest_entries(reversed(list(files.items()))) == by_hand(files)


def test_digest_entries_accepts_hex_or_bytes():
    hexes = [("a", hashlib.sha256(b"x").hexdigest()), ("b", hashlib.sha256(b"y").hexdigest().upper())]
    assert digest_entries(hexes) == digest_entries([("a", b"x"), ("b", b"y")])


@pytest.mark.parametrize(
    ("entries", "error"),
    [
        pytest.param([("a", "nothex")], ValueError, id="bad-hex"),
        pytest.param([("a", "ab" * 31)], ValueError, id="short-hex"),
        pytest.param([("a", b"1"), ("a", b"2")], ValueError, id="duplicate"),
        pytest.param([("a", 5)], TypeError, id="wrong-type"),
        pytest.param([("../a", b"1")], UnsafePathError, id="unsafe-path"),
    ],
)
def test_digest_entries_refuses(entries, error):
    with pytest.raises(error):
        digest_entries(entries)


def test_empty_tree_digest():
    assert digest_entries([]) == "sha256:" + hashlib.sha256(b"").hexdigest()


def test_content_and_path_changes_change_the_digest(tmp_path):
    write_files(tmp_path, KNOWN_TREE)
    before = tree_digest(tmp_path)
    (tmp_path / "references/guide.md").write_bytes(b"# Guide!\n")
    changed = tree_digest(tmp_path)
    assert changed != before
    (tmp_path / "references/guide.md").rename(tmp_path / "references/guide2.md")
    assert tree_digest(tmp_path) not in (before, changed)


def test_mode_and_empty_dirs_do_not_count(tmp_path):
    write_files(tmp_path, KNOWN_TREE)
    before = tree_digest(tmp_path)
    os.chmod(tmp_path / "SKILL.md", 0o755)
    (tmp_path / "empty" / "deeper").mkdir(parents=True)
    assert tree_digest(tmp_path) == before


@pytest.mark.parametrize(
    "git_path",
    ["./.git/HEAD", ".git/objects/ab/cdef", "sub/.git/config", ".GIT/x", "a/b/.Git/y"],
)
def test_git_is_excluded_at_any_level(tmp_path, git_path):
    write_files(tmp_path, KNOWN_TREE)
    before = tree_digest(tmp_path)
    write_files(tmp_path, {git_path.removeprefix("./"): b"git stuff"})
    assert tree_digest(tmp_path) == before
    assert not any(".git" in e.path.lower() for e in walk_skill(tmp_path))


def test_git_file_at_root_is_excluded(tmp_path):
    write_files(tmp_path, {**KNOWN_TREE, ".git": b"gitdir: ../.git/worktrees/x\n"})
    assert tree_digest(tmp_path) == by_hand(KNOWN_TREE)


def test_other_dotfiles_count(tmp_path):
    write_files(tmp_path, {**KNOWN_TREE, ".gitignore": b"*.pyc\n", ".github/x": b"1"})
    assert {".gitignore", ".github/x"} <= {e.path for e in walk_skill(tmp_path)}


def test_walk_reports_size_and_exec_bit(tmp_path):
    write_files(
        tmp_path,
        {"run.sh": (b"#!/bin/sh\n", 0o755), "user-x": (b"x", 0o744), "plain.md": (b"hello", 0o644)},
    )
    entries = {e.path: e for e in walk_skill(tmp_path)}
    assert entries["run.sh"] == FileEntry("run.sh", tmp_path / "run.sh", 10, True)
    assert entries["user-x"].executable is True
    assert entries["plain.md"].executable is False and entries["plain.md"].size == 5


def _symlink_file(root: Path) -> None:
    (root / "link").symlink_to(root / "SKILL.md")


def _symlink_dir(root: Path) -> None:
    (root / "linkdir").symlink_to(root / "scripts", target_is_directory=True)


def _dangling_symlink(root: Path) -> None:
    (root / "references" / "gone").symlink_to(root / "nowhere")


def _symlink_outside(root: Path) -> None:
    (root / "scripts" / "passwd").symlink_to("/etc/passwd")


def _fifo(root: Path) -> None:
    os.mkfifo(root / "scripts" / "pipe")


def _socket(root: Path) -> None:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    path = root / "sock"
    try:
        s.bind(str(path))
    except OSError:
        pytest.skip("cannot bind a unix socket here")
    finally:
        s.close()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file types")
@pytest.mark.parametrize(
    ("make", "name", "kind"),
    [
        pytest.param(_symlink_file, "link", "symbolic link", id="symlink-file"),
        pytest.param(_symlink_dir, "linkdir", "symbolic link", id="symlink-dir"),
        pytest.param(_dangling_symlink, "references/gone", "symbolic link", id="dangling"),
        pytest.param(_symlink_outside, "scripts/passwd", "symbolic link", id="outside"),
        pytest.param(_fifo, "scripts/pipe", "fifo", id="fifo"),
        pytest.param(_socket, "sock", "socket", id="socket"),
    ],
)
def test_links_and_special_files_are_refused(tmp_path, make, name, kind):
    root = tmp_path / "skill"
    write_files(root, KNOWN_TREE)
    make(root)
    for fn in (walk_skill, tree_digest, file_hashes):
        with pytest.raises(UnsafePathError) as exc:
            fn(root)
        assert name in exc.value.message and kind in exc.value.message


def test_symlinked_root_is_refused(tmp_path):
    write_files(tmp_path / "real", KNOWN_TREE)
    (tmp_path / "alias").symlink_to(tmp_path / "real", target_is_directory=True)
    with pytest.raises(UnsafePathError, match="symbolic link"):
        walk_skill(tmp_path / "alias")
    # resolving first is the caller's explicit choice
    assert tree_digest((tmp_path / "alias").resolve()) == by_hand(KNOWN_TREE)


@pytest.mark.parametrize("bad", ["back\\slash", "new\nline"])
def test_unportable_file_names_are_refused(tmp_path, bad):
    write_files(tmp_path, {**KNOWN_TREE, bad: b"x"})
    with pytest.raises(UnsafePathError, match="unsafe file name"):
        walk_skill(tmp_path)


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="needs byte file names")
def test_non_utf8_file_name_is_refused(tmp_path):
    write_files(tmp_path, KNOWN_TREE)
    (tmp_path.joinpath(b"caf\xe9".decode("utf-8", "surrogateescape"))).write_bytes(b"x")
    with pytest.raises(UnsafePathError, match="UTF-8"):
        walk_skill(tmp_path)


def test_missing_or_file_root(tmp_path):
    with pytest.raises(UnsafePathError, match="does not exist"):
        walk_skill(tmp_path / "nope")
    (tmp_path / "f").write_bytes(b"")
    with pytest.raises(UnsafePathError, match="not a directory"):
        walk_skill(tmp_path / "f")


def test_hash_file_chunks_large_files(tmp_path):
    data = os.urandom(1024) * (CHUNK // 1024 * 2 + 3)  # > 2 chunks, not a multiple
    (tmp_path / "big").write_bytes(data)
    assert hash_file(tmp_path / "big") == hashlib.sha256(data).hexdigest()


def test_hash_file_refuses_a_symlink(tmp_path):
    (tmp_path / "real").write_bytes(b"x")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(UnsafePathError):
        hash_file(tmp_path / "link")


# --------------------------------------------------------------------------- #
# check_relpath


@pytest.mark.parametrize(
    "good",
    ["SKILL.md", "scripts/run.sh", "a/b/c/d.txt", ".gitignore", ".github/workflows/x.yml", "a..b", "...", "é/ü.md", "a b"],
)
def test_check_relpath_accepts(good):
    assert check_relpath(good) == good


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("", "empty"),
        ("/etc/passwd", "absolute"),
        ("C:/x", "absolute"),
        ("c:x", "absolute"),
        ("..", "'..'"),
        ("../x", "'..'"),
        ("a/../../x", "'..'"),
        ("a/..", "'..'"),
        ("a\\b", "backslash"),
        ("..\\x", "backslash"),
        ("a//b", "empty segment"),
        ("a/", "empty segment"),
        ("./a", "'.'"),
        ("a/./b", "'.'"),
        ("a\0b", "control"),
        ("a\nb", "control"),
        ("a\x7fb", "control"),
        (".git/config", ".git"),
        ("x/.GIT/hooks/pre-commit", ".git"),
        ("caf\udce9", "UTF-8"),
    ],
)
def test_check_relpath_refuses(bad, why):
    with pytest.raises(UnsafePathError) as exc:
        check_relpath(bad)
    assert why in exc.value.message


def test_deep_tree_does_not_hit_the_recursion_limit(tmp_path):
    # Lower the limit instead of building a 1000-level tree (which pytest's own
    # recursive tmp cleanup could not delete).
    depth = 300
    rel = "/".join(["d"] * depth) + "/leaf.txt"
    write_files(tmp_path, {rel: b"deep"})
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 100)
    try:
        entries = walk_skill(tmp_path)
        digest = tree_digest(tmp_path)
    finally:
        sys.setrecursionlimit(old)
    assert [e.path for e in entries] == [rel]
    assert digest == by_hand({rel: b"deep"})
