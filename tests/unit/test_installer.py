"""The installer's transaction: old state or new state, never a mix."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    inst = Installer(install_dir, project_files=[lock_path])

    def commit(entries):
        return [(lock_path, dump_lock(entries))]

    v1 = make_skill("alpha", parent=tmp_path / "v1", version="1.0.0")
    v2 = make_skill("alpha", parent=tmp_path / "v2", version="2.0.0", files={"new.md": "new\n"})
    beta = make_skill("beta", parent=tmp_path / "v1")
    outcome = inst.apply([plan("alpha", v1), plan("beta", beta)], files=commit)
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
        inst.apply([plan("alpha", v2, "2.0.0")], files=commit)
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
        inst.apply([plan("alpha", v2, "2.0.0")], files=commit)
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
        inst.apply([bad, Planned(entry=old_entries[1])], files=commit)
    assert snapshot(inst.dir) == before_files and lock_path.read_bytes() == before_lock
    assert not inst.txn.exists()


def test_digest_mismatch_is_refused_before_anything_moves(setup):
    inst, commit, lock_path, old_entries, v1, v2, beta = setup
    before = snapshot(inst.dir)
    wrong = Planned(entry=entry("alpha", v2, "2.0.0"), source=FolderSource(v1), release=Release(version="2.0.0"))
    with pytest.raises(IntegrityError, match="does not match"):
        inst.apply([wrong], files=commit)
    assert snapshot(inst.dir) == before


def test_collision_names_both(setup, tmp_path, make_skill):
    inst, commit, lock_path, old_entries, v1, v2, beta = setup
    a = plan("alpha", v1)
    b = Planned(entry=entry("alpha", v2).model_copy(update={"name": "other", "source": "path+./other"}), source=FolderSource(v2), release=Release(version="1"))
    with pytest.raises(InstallError, match=r"alpha .*other"):
        inst.apply([a, b], files=commit)


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
        inst.apply([plan("alpha", v1), Planned(entry=old_entries[1])], files=commit, force=True, backup_root=inst.dir.parent / "bk")
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
        inst.apply([plan("alpha", v2, "2.0.0"), Planned(entry=old_entries[1])], files=commit)
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
    inst = Installer(install_dir, project_files=[lock_path])
    src = make_skill("alpha", parent=tmp_path / "src")
    files = lambda e: [(lock_path, dump_lock(e))]  # noqa: E731
    with pytest.raises(InstallError, match="not installed by skillpm"):
        inst.apply([plan("alpha", src)], files=files, refuse="any")
    kept = inst.apply([plan("alpha", src)], files=files)
    assert [c.reason for c in kept.conflicts] == ["not installed by skillpm"] and not kept.ok
    assert not (target / "SKILL.md").exists()
    outcome = inst.apply([plan("alpha", src)], files=files, force=True, backup_root=tmp_path / "bk")
    assert (target / "SKILL.md").exists()
    [backup] = outcome.backups
    assert backup.is_symlink() if kind == "dangling-link" else backup.read_text() == "not a skill\n"


# --------------------------------------------------------------------------- #
# the install state decides what a local edit is, not the lock being installed


def test_a_teammates_upgrade_replaces_an_untouched_folder(setup):
    """The lock moved under the checkout (pull): the folder still holds what
    skillpm installed, so it is upgraded, not called a local edit."""
    inst, commit, lock_path, old_entries, v1, v2, beta = setup
    outcome = inst.apply([plan("alpha", v2, "2.0.0"), Planned(entry=old_entries[1])], files=commit)
    assert outcome.ok and [(c.kind, c.name, c.old, c.new) for c in outcome.changes] == [("upgraded", "alpha", "1.0.0", "2.0.0")]
    assert (inst.dir / "alpha/new.md").exists()
    back = inst.apply([plan("alpha", v1, "1.0.0"), Planned(entry=old_entries[1])], files=commit)
    assert [c.kind for c in back.changes] == ["downgraded"] and not (inst.dir / "alpha/new.md").exists()


def test_a_skill_gone_from_the_lock_is_removed_from_the_state_not_the_old_lock(setup):
    inst, commit, lock_path, old_entries, v1, v2, beta = setup
    outcome = inst.apply([Planned(entry=old_entries[0])], files=commit)  # the lock no longer has beta
    assert [(c.kind, c.name) for c in outcome.changes] == [("removed", "beta")]
    assert not (inst.dir / "beta").exists() and "beta" not in inst.read_state()


def test_an_edited_skill_gone_from_the_lock_is_kept_and_still_known(setup):
    inst, commit, lock_path, old_entries, v1, v2, beta = setup
    (inst.dir / "beta/SKILL.md").write_text("mine\n")
    outcome = inst.apply([Planned(entry=old_entries[0])], files=commit)
    [conflict] = outcome.conflicts
    assert conflict.folder == "beta" and conflict.removing and "SKILL.md" in conflict.detail
    assert (inst.dir / "beta/SKILL.md").read_text() == "mine\n" and "beta" in inst.read_state()
    forced = inst.apply([Planned(entry=old_entries[0])], files=commit, force=True, backup_root=inst.dir.parent / "bk")
    assert not (inst.dir / "beta").exists() and (forced.backups[0] / "SKILL.md").read_text() == "mine\n"


def test_a_local_edit_meeting_an_upgrade_is_kept_and_the_rest_applied(setup, make_skill, tmp_path):
    inst, commit, lock_path, old_entries, v1, v2, beta = setup
    beta2 = make_skill("beta", parent=tmp_path / "v2", version="2.0.0", files={"b2.md": "2\n"})
    (inst.dir / "alpha/SKILL.md").write_text("mine\n")
    outcome = inst.apply([plan("alpha", v2, "2.0.0"), plan("beta", beta2, "2.0.0")], files=commit)
    assert [c.folder for c in outcome.conflicts] == ["alpha"] and [c.name for c in outcome.changes] == ["beta"]
    assert (inst.dir / "alpha/SKILL.md").read_text() == "mine\n" and (inst.dir / "beta/b2.md").exists()
    with pytest.raises(InstallError, match="nothing was changed"):
        inst.apply([plan("alpha", v1), plan("beta", beta)], files=commit, refuse="any")
    assert (inst.dir / "beta/b2.md").exists()


def test_nothing_is_written_when_nothing_changes(setup):
    inst, commit, lock_path, old_entries, v1, v2, beta = setup
    lock_path.write_text(lock_path.read_text() + "# a comment the user added\n")
    stamp = (lock_path.stat().st_mtime_ns, (inst.state_dir / "state.json").stat().st_mtime_ns)
    outcome = inst.apply([Planned(entry=e) for e in old_entries], files=lambda e: [])
    assert not outcome.changed and outcome.ok and not outcome.written
    assert (lock_path.stat().st_mtime_ns, (inst.state_dir / "state.json").stat().st_mtime_ns) == stamp
    assert not inst.txn.exists()


def test_a_folder_that_already_holds_the_lock_is_adopted(tmp_path, make_skill):
    """A fresh clone with a committed install dir: no state yet, but the bytes are right."""
    src = make_skill("alpha", parent=tmp_path / "src")
    inst = Installer(tmp_path / "p/.agents/skills")
    from skillpm.sources.path import copy_skill

    copy_skill(src, inst.dir / "alpha")
    outcome = inst.apply([plan("alpha", src)], files=lambda e: [])
    assert not outcome.changed and outcome.ok and "alpha" in inst.read_state()


# --------------------------------------------------------------------------- #
# killed anywhere, recovery included: the old state or the new one


class Killed(BaseException):
    """Stands for SIGKILL: no `except Exception` catches it, so no cleanup runs."""


def _kill_at(monkeypatch, n: int) -> list[str]:
    from skillpm import failpoints

    hits: list[str] = []

    def point(name: str) -> None:
        hits.append(name)
        if len(hits) == n:
            raise Killed(name)

    monkeypatch.setattr(failpoints, "point", point)
    return hits


def _count_points(monkeypatch, action) -> int:
    hits = _kill_at(monkeypatch, 10**9)
    action()
    monkeypatch.undo()
    return len(hits)


@pytest.mark.parametrize("force", [False, True])
def test_a_kill_at_every_point_of_a_transaction_and_of_its_recovery(tmp_path, make_skill, monkeypatch, force):
    v1 = make_skill("alpha", parent=tmp_path / "v1", version="1.0.0")
    v2 = make_skill("alpha", parent=tmp_path / "v2", version="2.0.0", files={"new.md": "new\n"})
    beta = make_skill("beta", parent=tmp_path / "v1")
    gamma = make_skill("gamma", parent=tmp_path / "v1")

    def fresh(i: int):
        lock_path = tmp_path / f"run{i}/skills.lock"
        inst = Installer(tmp_path / f"run{i}/skills", project_files=[lock_path])
        files = lambda e: [(lock_path, dump_lock(e))]  # noqa: E731
        inst.apply([plan("alpha", v1), plan("beta", beta)], files=files)
        if force:
            (inst.dir / "alpha/SKILL.md").write_text("edited\n")
        return inst, lock_path, files

    def change(inst, files):
        # upgrade alpha, remove beta, add gamma
        return inst.apply([plan("alpha", v2, "2.0.0"), plan("gamma", gamma)], files=files, force=force,
                          backup_root=inst.dir.parent / "bk")

    probe, _, files = fresh(0)
    old = (snapshot(probe.dir), (probe.dir.parent / "skills.lock").read_bytes())
    points = _count_points(monkeypatch, lambda: change(probe, files))
    new = (snapshot(probe.dir), (probe.dir.parent / "skills.lock").read_bytes())
    assert points >= 6 and old != new
    runs = 0
    for n in range(1, points + 1):
        inst, lock_path, files = fresh(n)
        _kill_at(monkeypatch, n)
        with pytest.raises(Killed):
            change(inst, files)
        monkeypatch.undo()
        # now kill the recovery itself at each of its points, then recover for good
        m = 1
        while True:
            hits = _kill_at(monkeypatch, m)
            try:
                inst.recover()
                monkeypatch.undo()
                break
            except Killed:
                monkeypatch.undo()
                m += 1
        runs += m
        state = (snapshot(inst.dir), lock_path.read_bytes())
        assert state in (old, new), f"killed at point {n} ({hits[:n]}): a mix of old and new"
        assert not inst.txn.exists()
        assert not [p for p in inst.state_dir.iterdir() if p.name.startswith("trash-")]
    assert runs > points  # recoveries were killed too


# --------------------------------------------------------------------------- #
# a journal or state committed to a cloned repository is not trusted


@pytest.mark.parametrize(
    ("journal", "why"),
    [
        # a journal committed to a repository is refused whatever it says...
        ('{"ops": [], "files": [], "new_state": {}}', "not written in this checkout"),
        # ...and even one that guessed this checkout's id may name nothing outside it
        ('{"checkout": "ID", "ops": [], "files": [{"path": "VICTIM", "old": "cHduZWQ="}], "new_state": {}}', "not this project's"),
        ('{"checkout": "ID", "ops": [{"folder": "..", "old": true, "new": true}], "files": [], "new_state": {}}', "unsafe folder"),
        ('{"checkout": "ID", "ops": [{"folder": "a/../../x", "old": true, "new": false}], "files": [], "new_state": {}}', "unsafe folder"),
        ('{"checkout": "ID", "ops": [{"folder": "a", "old": false, "new": true}, {"folder": "a", "old": true, "new": false}], '
         '"files": [], "new_state": {}}', "unsafe folder"),
        ('{"checkout": "ID", "ops": "x", "files": []}', "malformed"),
        ('{"checkout": "ID", "manifest_path": "x", "ops": [], "files": null}', "malformed"),
        ("[[[[" * 10000, "unreadable"),
        ("not json", "unreadable"),
    ],
)
def test_a_crafted_journal_is_refused_and_nothing_outside_is_touched(tmp_path, journal, why):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    lock_path = tmp_path / "p/skills.lock"
    inst = Installer(tmp_path / "p/.agents/skills", project_files=[lock_path])
    (inst.txn).mkdir(parents=True)
    from skillpm.fs import checkout_id

    (inst.txn / "journal.json").write_text(journal.replace("VICTIM", str(victim)).replace('"ID"', json.dumps(checkout_id(inst.state_dir))))
    (inst.txn / "committed").touch()
    with pytest.raises(InstallError, match=why):
        inst.recover()
    assert victim.read_text() == "precious\n"


@pytest.mark.parametrize("link", [".skillpm", ".skillpm/txn", ".skillpm/txn/old", ".skillpm/txn/new"])
def test_a_linked_state_folder_is_refused(tmp_path, link):
    outside = tmp_path / "outside"
    outside.mkdir()
    inst = Installer(tmp_path / "p/skills")
    (inst.dir / link).parent.mkdir(parents=True, exist_ok=True)
    (inst.dir / link).symlink_to(outside, target_is_directory=True)
    with pytest.raises(InstallError, match="symbolic link"):
        inst.recover()
    with pytest.raises(InstallError, match="symbolic link"):
        inst.lock()
    assert list(outside.iterdir()) == []


def test_an_unreadable_state_counts_as_empty(tmp_path):
    inst = Installer(tmp_path / "p/skills")
    inst.state_dir.mkdir(parents=True)
    from skillpm.fs import checkout_id

    here = json.dumps(checkout_id(inst.state_dir))
    good = '{"version": 2, "checkout": CK, "skills": {"a": {"integrity": "sha256:' + "a" * 64 + '", "files": {}}}}'
    (inst.state_dir / "state.json").write_text(good.replace("CK", here))
    assert list(inst.read_state()) == ["a"]
    (inst.state_dir / "state.json").write_text(good.replace("CK", '"1:2"'))  # committed elsewhere
    assert inst.read_state() == {}
    for text in ("{", "[]", '{"version": 2, "checkout": CK, "skills": {"../x": {"integrity": "sha256:' + "a" * 64 + '", "files": {}}}}',
                 '{"version": 2, "skills": {"a": {"integrity": 1}}}', "[" * 100000):
        (inst.state_dir / "state.json").write_text(text.replace("CK", here))
        assert inst.read_state() == {}


# --------------------------------------------------------------------------- #
# the state and journal parsers are total


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(data=_json, with_checkout=st.booleans())
def test_any_state_or_journal_json_is_read_or_refused_in_one_line(tmp_path_factory, data, with_checkout):
    from skillpm.fs import checkout_id

    root = tmp_path_factory.mktemp("fuzz")
    inst = Installer(root / "skills", project_files=[root / "skills.lock"])
    inst.txn.mkdir(parents=True)
    if with_checkout and isinstance(data, dict):
        data = {**data, "checkout": checkout_id(inst.state_dir)}
    text = json.dumps(data)
    (inst.state_dir / "state.json").write_text(json.dumps({"version": 2, "checkout": checkout_id(inst.state_dir), "skills": data}))
    assert isinstance(inst.read_state(), dict)
    (inst.txn / "journal.json").write_text(text)
    try:
        inst.recover()
    except InstallError as e:
        assert "\n" not in e.message
    assert (root / "skills.lock").exists() is False


def test_a_truncated_lock_says_so(tmp_path):
    from skillpm.errors import LockfileError
    from skillpm.lockfile import parse_lock

    with pytest.raises(LockfileError, match="truncated or is not a skills.lock"):
        parse_lock("# This file is generated by skillpm. Do not edit it by hand.\n")
