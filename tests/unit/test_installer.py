"""The installer's transaction: old state or new state, never a mix."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from skillpm import fs, installer as installer_mod
from skillpm.digest import tree_digest
from skillpm.errors import InstallError, IntegrityError
from skillpm.installer import Installer, Planned
from skillpm.lockfile import LockedSkill, dump_lock
from skillpm.sources.base import Release, Source


class FolderSource(Source):
    """Materializes a prepared folder: enough to drive the installer."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    lock_source = "path+./x"

    def releases(self):  # pragma: no cover - not used here
        return []

    def dependencies(self, release):  # pragma: no cover
        return ()

    def materialize(self, release, dest: Path) -> None:
        from skillpm.sources.path import copy_skill

        copy_skill(self.folder, dest)


def entry(name: str, folder: Path, version: str = "1.0.0") -> LockedSkill:
    return LockedSkill(name=name, folder=name, version=version, source=f"path+./{name}", integrity=tree_digest(folder))


def plan(name: str, folder: Path, version: str = "1.0.0") -> Planned:
    return Planned(entry=entry(name, folder, version), source=FolderSource(folder), release=Release(version=version))


@pytest.fixture
def setup(tmp_path, make_skill):
    install_dir = tmp_path / "project/.agents/skills"
    lock_path = tmp_path / "project/skills.lock"
    inst = Installer(install_dir)

    def commit(entries):
        return [], lock_path, dump_lock(entries)

    v1 = make_skill("alpha", parent=tmp_path / "v1", version="1.0.0")
    v2 = make_skill("alpha", parent=tmp_path / "v2", version="2.0.0", files={"new.md": "new\n"})
    beta = make_skill("beta", parent=tmp_path / "v1")
    outcome = inst.apply([plan("alpha", v1), plan("beta", beta)], [], commit=commit)
    return inst, commit, lock_path, outcome.entries, v1, v2, beta


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and ".skillpm" not in p.parts}


def test_crash_before_lock_write_rolls_back(setup, monkeypatch):
    inst, commit, lock_path, old_entries, v1, v2, beta = setup
    before_files, before_lock = snapshot(inst.dir), lock_path.read_bytes()

    real = fs.atomic_write

    def crash_on_lock(path, data, **kw):
        if Path(path) == lock_path:
            raise KeyboardInterrupt("power cut")
        return real(path, data, **kw)

    monkeypatch.setattr(installer_mod, "atomic_write", crash_on_lock)
    with pytest.raises(KeyboardInterrupt):
        inst.apply([plan("alpha", v2, "2.0.0")], old_entries, commit=commit)
    assert (inst.txn / "journal.json").exists()  # the crash left a journal behind
    monkeypatch.setattr(installer_mod, "atomic_write", real)

    assert inst.recover() == "rolled back an interrupted install"
    assert snapshot(inst.dir) == before_files
    assert lock_path.read_bytes() == before_lock
    assert not inst.txn.exists()


def test_crash_after_lock_write_rolls_forward(setup, monkeypatch):
    inst, commit, lock_path, old_entries, v1, v2, beta = setup

    def crash(*a, **k):
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(inst, "_write_state", crash)
    with pytest.raises(KeyboardInterrupt):
        inst.apply([plan("alpha", v2, "2.0.0")], old_entries, commit=commit)
    monkeypatch.undo()
    assert inst.recover() == "completed an interrupted install"
    assert (inst.dir / "alpha/new.md").exists() and not (inst.dir / "beta").exists()
    assert 'version = "2.0.0"' in lock_path.read_text()


def test_crash_while_staging_changes_nothing(setup, monkeypatch):
    inst, commit, lock_path, old_entries, v1, v2, beta = setup
    before_files, before_lock = snapshot(inst.dir), lock_path.read_bytes()

    class Broken(FolderSource):
        def materialize(self, release, dest):
            dest.mkdir()
            (dest / "half").write_text("x")
            raise OSError("disk full")

    bad = Planned(entry=entry("alpha", v2, "2.0.0"), source=Broken(v2), release=Release(version="2.0.0"))
    with pytest.raises(OSError):
        inst.apply([bad, Planned(entry=old_entries[1])], old_entries, commit=commit)
    assert snapshot(inst.dir) == before_files and lock_path.read_bytes() == before_lock
    assert not inst.txn.exists()


def test_digest_mismatch_is_refused_before_anything_moves(setup):
    inst, commit, lock_path, old_entries, v1, v2, beta = setup
    before = snapshot(inst.dir)
    wrong = Planned(entry=entry("alpha", v1, "2.0.0"), source=FolderSource(v2), release=Release(version="2.0.0"))
    with pytest.raises(IntegrityError, match="does not match"):
        inst.apply([wrong], old_entries, commit=commit)
    assert snapshot(inst.dir) == before


def test_collision_names_both(setup, tmp_path, make_skill):
    inst, commit, lock_path, old_entries, v1, v2, beta = setup
    a = plan("alpha", v1)
    b = Planned(entry=entry("alpha", v2).model_copy(update={"name": "other", "source": "path+./other"}), source=FolderSource(v2), release=Release(version="1"))
    with pytest.raises(InstallError, match=r"alpha .*other"):
        inst.apply([a, b], old_entries, commit=commit)


def test_state_records_file_hashes_for_verify(setup):
    inst, commit, lock_path, old_entries, v1, v2, beta = setup
    (inst.dir / "alpha/scripts/run.sh").write_text("tampered\n")
    os.remove(inst.dir / "alpha/references/guide.md")
    st = inst.status(old_entries[0])
    assert st.state == "modified"
    assert st.modified == ["scripts/run.sh"] and st.missing == ["references/guide.md"]


def test_crash_mid_move_with_an_unchanged_lock_rolls_back(setup, monkeypatch):
    """install --force restoring edited files writes the same lock text: the lock's
    content cannot tell whether the transaction committed."""
    inst, commit, lock_path, old_entries, v1, v2, beta = setup
    (inst.dir / "alpha/SKILL.md").write_text("edited\n")
    before_files, before_lock = snapshot(inst.dir), lock_path.read_bytes()
    real_replace = os.replace
    calls = []

    def crash_on_second_move(src, dst):
        calls.append((src, dst))
        if Path(src).parent == inst.txn / "new":  # moving the new copy in, after the old one went aside
            raise KeyboardInterrupt("power cut between moving old aside and new in")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash_on_second_move)
    with pytest.raises(KeyboardInterrupt):
        inst.apply([plan("alpha", v1), Planned(entry=old_entries[1])], old_entries, commit=commit, force=True, backup_root=inst.dir.parent / "bk")
    monkeypatch.setattr(os, "replace", real_replace)
    assert not (inst.dir / "alpha").exists()  # the crash left the skill moved aside
    assert inst.recover() == "rolled back an interrupted install"
    assert snapshot(inst.dir) == before_files and lock_path.read_bytes() == before_lock


def test_an_ordinary_failure_mid_move_rolls_back_at_once(setup, monkeypatch):
    inst, commit, lock_path, old_entries, v1, v2, beta = setup
    before_files, before_lock = snapshot(inst.dir), lock_path.read_bytes()
    real = installer_mod.atomic_write

    def fail_on_lock(path, data, **kw):
        if Path(path) == lock_path:
            raise OSError("disk full")
        return real(path, data, **kw)

    monkeypatch.setattr(installer_mod, "atomic_write", fail_on_lock)
    with pytest.raises(OSError, match="disk full"):
        inst.apply([plan("alpha", v2, "2.0.0"), Planned(entry=old_entries[1])], old_entries, commit=commit)
    assert not inst.txn.exists()
    assert snapshot(inst.dir) == before_files and lock_path.read_bytes() == before_lock


@pytest.mark.parametrize("kind", ["file", "dangling-link"])
def test_non_folders_in_the_way_are_replaced_with_force_and_backed_up(tmp_path, make_skill, kind):
    install_dir = tmp_path / "p/.agents/skills"
    install_dir.mkdir(parents=True)
    target = install_dir / "alpha"
    if kind == "file":
        target.write_text("not a skill\n")
    else:
        target.symlink_to(tmp_path / "nowhere")
    lock_path = tmp_path / "p/skills.lock"
    inst = Installer(install_dir)
    src = make_skill("alpha", parent=tmp_path / "src")
    with pytest.raises(InstallError, match="not installed by skillpm"):
        inst.apply([plan("alpha", src)], [], commit=lambda e: ([], lock_path, dump_lock(e)))
    outcome = inst.apply([plan("alpha", src)], [], commit=lambda e: ([], lock_path, dump_lock(e)), force=True, backup_root=tmp_path / "bk")
    assert (target / "SKILL.md").exists()
    [backup] = outcome.backups
    assert backup.is_symlink() if kind == "dangling-link" else backup.read_text() == "not a skill\n"
