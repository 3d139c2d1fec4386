"""Materializing: exact bytes, modes, attributes neutralised, unsafe trees refused."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from skillpm.digest import tree_digest, walk_skill
from skillpm.errors import InstallError, SourceError, UnsafePathError
from skillpm.sources.git import GitSource, materialize_locked
from skillpm.spec import GitSpec


def modes(folder: Path) -> dict[str, bool]:
    return {e.path: e.executable for e in walk_skill(folder)}


def test_monorepo_of_twelve_skills_digest_and_modes(monorepo, tmp_path):
    mono = monorepo(n_skills=12, convention="go")
    checkout = mono.repo.plain_checkout(tmp_path / "checkout")
    for folder in mono.folders:
        src = GitSource(GitSpec(url=mono.url, path=folder))
        rel = src.releases()[0]
        assert str(rel.version) == "1.1.0"
        dest = tmp_path / "installed" / folder.rsplit("/", 1)[-1]
        src.materialize(rel, dest)
        assert tree_digest(dest) == tree_digest(checkout / folder) == mono.repo.blob_digest("HEAD", folder)
        got = modes(dest)
        assert got == modes(checkout / folder)
        assert got["scripts/run.sh"] is True and got["scripts/helper.py"] is False
        assert (dest / "references/deep/nested/notes.md").is_file()
        assert stat.S_IMODE((dest / "scripts/run.sh").stat().st_mode) == 0o755
        assert stat.S_IMODE((dest / "SKILL.md").stat().st_mode) == 0o644
        assert not (dest / "README.md").exists()  # only the skill's folder
        assert src.warnings == []


def test_older_version_and_root_skill(git_repo, tmp_path):
    git_repo.write_skill("", "solo", version="1.0.0", files={"a.txt": "one\n"})
    git_repo.commit()
    git_repo.tag("v1.0.0")
    git_repo.write_skill("", "solo", version="2.0.0", files={"a.txt": "two\n", "b/c.sh": ("#!/bin/sh\n", 0o755)})
    git_repo.commit()
    git_repo.tag("v2.0.0")
    src = GitSource(GitSpec(url=git_repo.url))
    new, old = src.releases()
    src.materialize(old, tmp_path / "old")
    src.materialize(new, tmp_path / "new")
    assert (tmp_path / "old/a.txt").read_text() == "one\n" and not (tmp_path / "old/b").exists()
    assert modes(tmp_path / "new") == {"SKILL.md": False, "a.txt": False, "b/c.sh": True}
    with pytest.raises(InstallError, match="already exists"):
        src.materialize(new, tmp_path / "new")


ATTRS = "* export-subst\nx export-ignore\n*.txt text eol=crlf ident\n*.dat filter=evil\n"


@pytest.mark.parametrize("user_autocrlf", ["false", "true", "input"])
def test_export_subst_ignore_and_eol_are_neutralised(git_repo, tmp_path, global_git_config, user_autocrlf):
    global_git_config("core.autocrlf", user_autocrlf)
    global_git_config("core.eol", "crlf")
    files = {
        ".gitattributes": ATTRS,
        "x": "export-ignore would drop me\n",
        "subst.md": "commit $Format:%H$ on $Format:%cd$\n",
        "lines.txt": "a\nb\n$Id$\n",
        "crlf.bin": b"raw\r\nbytes\r\n",
        "filtered.dat": "clean text\n",
    }
    git_repo.write_skill("skills/attr", version="1.0.0", files=files)
    git_repo.commit()
    git_repo.tag("v1.0.0")
    reference = git_repo.blob_digest("v1.0.0", "skills/attr")
    src = GitSource(GitSpec(url=git_repo.url, path="skills/attr"))
    (rel,) = src.releases()
    dest = tmp_path / "out"
    src.materialize(rel, dest)
    assert (dest / "x").read_text() == "export-ignore would drop me\n"
    assert (dest / "subst.md").read_text() == "commit $Format:%H$ on $Format:%cd$\n"
    assert (dest / "lines.txt").read_bytes() == b"a\nb\n$Id$\n"
    assert (dest / "crlf.bin").read_bytes() == b"raw\r\nbytes\r\n"
    assert (dest / ".gitattributes").read_text() == ATTRS
    assert tree_digest(dest) == reference
    # and the same digest from a second, independent cache
    os.environ["SKILLPM_CACHE_DIR"] = str(tmp_path / "cache2")
    from skillpm.sources.git import reset_run_state

    reset_run_state()
    materialize_locked(git_repo.url, "skills/attr", rel.commit, tmp_path / "out2")
    assert tree_digest(tmp_path / "out2") == reference


def test_symlink_in_skill_is_refused_and_nothing_left(git_repo, tmp_path):
    git_repo.write_skill("skills/bad", version="1.0.0", files={"ok.md": "fine\n"})
    os.symlink("/etc/passwd", git_repo.path / "skills/bad/link")
    git_repo.commit()
    git_repo.tag("v1.0.0")
    src = GitSource(GitSpec(url=git_repo.url, path="skills/bad"))
    with pytest.raises(UnsafePathError, match="symbolic link"):
        src.materialize(src.releases()[0], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_submodule_entries_are_skipped(git_repo, make_git_repo, tmp_path):
    other = make_git_repo("other")
    other.write("f", "x")
    sub_commit = other.commit()
    git_repo.write_skill("skills/s", version="1.0.0")
    git_repo.run("update-index", "--add", "--cacheinfo", f"160000,{sub_commit},skills/s/vendor")
    git_repo.commit()
    git_repo.tag("v1.0.0")
    src = GitSource(GitSpec(url=git_repo.url, path="skills/s"))
    src.materialize(src.releases()[0], tmp_path / "out")
    assert sorted(modes(tmp_path / "out")) == ["SKILL.md"]


def test_dependencies_from_frontmatter_and_sidecar(git_repo):
    git_repo.write_skill("skills/a", version="1.0.0", dependencies=["docker/basics@^1.0", "github:o/r/skills/x@^2"])
    git_repo.write_skill("skills/b", version="1.0.0")
    git_repo.write("skills/b/metadata.json", '{"version": "1.0.0", "dependencies": ["team:tools/lint@~1.2"]}')
    git_repo.commit()
    git_repo.tag("v1.0.0")
    a = GitSource(GitSpec(url=git_repo.url, path="skills/a"))
    assert a.dependencies(a.releases()[0]) == ("docker/basics@^1.0", "github:o/r/skills/x@^2")
    b = GitSource(GitSpec(url=git_repo.url, path="skills/b"))
    assert b.dependencies(b.releases()[0]) == ("team:tools/lint@~1.2",)


def test_invalid_skill_and_missing_folder(git_repo):
    git_repo.write("skills/broken/SKILL.md", "no frontmatter at all\n")
    git_repo.commit()
    git_repo.tag("v1.0.0")
    src = GitSource(GitSpec(url=git_repo.url, path="skills/broken"))
    with pytest.raises(SourceError, match="not a valid skill"):
        src.dependencies(src.releases()[0])
    missing = GitSource(GitSpec(url=git_repo.url, path="skills/absent"))
    with pytest.raises(SourceError, match="no folder 'skills/absent'"):
        missing.dependencies(missing.releases()[0])
