"""The installer owns the install dir. Nothing else writes there.

A change is one transaction:

1. stage every new skill under `<install dir>/.skillpm/txn/new/` (same
   filesystem, so renames are atomic) and check its tree digest;
2. write a journal naming every folder that will move, the old manifest and
   lock, and the hash of the new lock;
3. move old folders aside into `txn/old/`, new ones into place;
4. write the manifest, then the lock (`os.replace`): the lock is the commit point;
5. delete the transaction folder.

A run that finds a journal (a crash, a kill -9) rolls back to the old state
if the new lock was not written yet, and forward otherwise. So the project is
always in the old state or the new one, never a mix.

A folder skillpm did not install (not in the lock) is never replaced or
deleted without --force; an installed skill whose files differ from the lock
is never replaced or deleted without --force, and --force first moves it to a
backup under the cache dir.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from skillpm.errors import InstallError, IntegrityError
from skillpm.fs import atomic_write, file_lock
from skillpm.lockfile import LockedSkill
from skillpm.sources.base import Release, Source

STATE_DIR = ".skillpm"
COMMITTED = "committed"  # marker in the transaction folder, written right after the lock
STAGING_WORKERS = 8


@dataclass
class Planned:
    """A skill the new state wants installed, with where to get it."""

    entry: LockedSkill
    source: Source | None = None  # None: keep what is installed (unchanged)
    release: Release | None = None
    check_integrity: bool = True  # False: the source's digest is learned now (path, fresh git)


@dataclass
class SkillStatus:
    name: str
    folder: str
    state: str  # ok | modified | missing
    modified: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    details_known: bool = True


    def describe(self) -> str:
        if self.state == "missing":
            return f"{self.folder}: not installed"
        if not self.details_known:
            return f"{self.folder}: files differ from the lock"
        parts = [f"modified {', '.join(self.modified)}"] if self.modified else []
        parts += [f"missing {', '.join(self.missing)}"] if self.missing else []
        parts += [f"unexpected {', '.join(self.unexpected)}"] if self.unexpected else []
        return f"{self.folder}: " + "; ".join(parts)


@dataclass
class Outcome:
    added: list[LockedSkill] = field(default_factory=list)
    updated: list[tuple[LockedSkill, LockedSkill]] = field(default_factory=list)
    removed: list[LockedSkill] = field(default_factory=list)
    restored: list[LockedSkill] = field(default_factory=list)  # same lock entry, files written again
    kept_modified: list[SkillStatus] = field(default_factory=list)
    backups: list[Path] = field(default_factory=list)
    entries: list[LockedSkill] = field(default_factory=list)  # final, with learned digests
    targets: list = field(default_factory=list)  # TargetSync per agent target, synced after the commit (ops/targets.py)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.restored)


class Installer:
    def __init__(self, install_dir: Path) -> None:
        self.dir = install_dir
        self.state_dir = install_dir / STATE_DIR
        self.txn = self.state_dir / "txn"

    # -- locking and recovery --------------------------------------------

    def lock(self):
        """Serialize skillpm runs on this install dir.

        The lock file lives in the cache dir (keyed by the install dir's path),
        so commands that install nothing, like `skillpm lock`, leave no trace
        in the project.
        """
        from skillpm.cache import cache_dir, slug

        key = slug(str(self.dir.resolve()))
        return file_lock(cache_dir() / "locks" / f"{key}.lock", what=f"the install dir {self.dir}")

    def recover(self) -> str | None:
        """Finish or undo an interrupted transaction. Returns what was done."""
        if not self.txn.exists():
            return None
        journal_path = self.txn / "journal.json"
        if not journal_path.exists():  # crashed while staging: nothing moved yet
            shutil.rmtree(self.txn)
            return None
        journal = json.loads(journal_path.read_text(encoding="utf-8"))
        if (self.txn / COMMITTED).exists():
            self._write_state(journal["new_state"])
            shutil.rmtree(self.txn)
            return "completed an interrupted install"
        for op in reversed(journal["ops"]):
            folder = op["folder"]
            placed = self.dir / folder
            old = self.txn / "old" / folder
            moved_in = op["new"] and not os.path.lexists(self.txn / "new" / folder)
            if moved_in or (op["old"] and os.path.lexists(old)):
                _remove(placed)
            if op["old"] and os.path.lexists(old):
                os.replace(old, placed)
        for key in ("manifest", "lock"):
            path, text = journal.get(f"{key}_path"), journal.get(f"old_{key}")
            if path is None:
                continue
            if text is None:
                Path(path).unlink(missing_ok=True)
            elif not Path(path).exists() or Path(path).read_text(encoding="utf-8") != text:
                atomic_write(Path(path), text)
        shutil.rmtree(self.txn)
        return "rolled back an interrupted install"

    # -- inspection -------------------------------------------------------

    def _read_state(self) -> dict[str, dict]:
        try:
            return json.loads((self.state_dir / "state.json").read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}

    def _write_state(self, state: dict) -> None:
        atomic_write(self.state_dir / "state.json", json.dumps(state, indent=1, sort_keys=True) + "\n")

    def status(self, entry: LockedSkill, state: dict | None = None) -> SkillStatus:
        from skillpm.digest import file_hashes, tree_digest

        folder = self.dir / entry.folder
        if not folder.is_dir():
            return SkillStatus(entry.name, entry.folder, "missing")
        try:
            digest = tree_digest(folder)
        except Exception as e:  # a link or device appeared in the installed copy
            return SkillStatus(entry.name, entry.folder, "modified", unexpected=[str(getattr(e, "message", e))])
        if digest == entry.integrity:
            return SkillStatus(entry.name, entry.folder, "ok")
        recorded = (state if state is not None else self._read_state()).get(entry.folder)
        if not recorded or recorded.get("integrity") != entry.integrity:
            return SkillStatus(entry.name, entry.folder, "modified", details_known=False)
        expected, actual = recorded["files"], file_hashes(folder)
        return SkillStatus(
            entry.name,
            entry.folder,
            "modified",
            modified=sorted(p for p in expected if p in actual and actual[p] != expected[p]),
            missing=sorted(p for p in expected if p not in actual),
            unexpected=sorted(p for p in actual if p not in expected),
        )

    def unmanaged(self, entries: Iterable[LockedSkill]) -> list[str]:
        """Folders in the install dir that the lock does not account for."""
        if not self.dir.is_dir():
            return []
        known = {e.folder for e in entries}
        return sorted(p.name for p in self.dir.iterdir() if not p.name.startswith(".") and p.name not in known)

    # -- the transaction --------------------------------------------------

    def apply(
        self,
        wanted: list[Planned],
        old: list[LockedSkill],
        *,
        force: bool = False,
        commit: Callable[[list[LockedSkill]], tuple[list[tuple[Path, str]], Path, str]],
        backup_root: Path | None = None,
    ) -> Outcome:
        """Bring the install dir from `old` to `wanted`, then call `commit`.

        `commit(final_entries)` returns the files to write, as
        ([(path, text)...] for the manifest, lock_path, lock_text); the
        installer writes them inside the transaction so they land atomically
        with the folders.
        """
        _check_collisions(wanted)
        old_by_folder = {e.folder: e for e in old}
        state = self._read_state()
        outcome = Outcome()
        to_stage: list[Planned] = []
        blockers: list[str] = []
        force_backup: list[str] = []
        final: dict[str, Planned] = {}

        for plan in wanted:
            e = plan.entry
            prev = old_by_folder.get(e.folder)
            target = self.dir / e.folder
            if prev is None:
                if target.exists() or target.is_symlink():
                    if not force:
                        blockers.append(
                            f"{target} exists and was not installed by skillpm; move it away or rerun with --force to replace it (a backup is kept)"
                        )
                        continue
                    force_backup.append(e.folder)
                to_stage.append(plan)
                final[e.folder] = plan
                continue
            st = self.status(prev, state)
            same = _same_content(prev, e)
            if same and st.state == "ok":
                final[e.folder] = Planned(entry=_keep_learned(e, prev))
                continue
            if same and st.state == "modified" and not force:
                outcome.kept_modified.append(st)
                final[e.folder] = Planned(entry=_keep_learned(e, prev))
                continue
            if st.state == "modified":
                if not force:
                    blockers.append(f"{st.describe()} (local edits; rerun with --force to replace, a backup is kept)")
                    continue
                force_backup.append(e.folder)
            to_stage.append(plan)
            final[e.folder] = plan

        wanted_folders = {p.entry.folder for p in wanted}
        removals = [prev for prev in old if prev.folder not in wanted_folders]
        for prev in removals:
            st = self.status(prev, state)
            if st.state == "modified":
                if not force:
                    blockers.append(f"{st.describe()} (local edits; rerun with --force to remove, a backup is kept)")
                    continue
                force_backup.append(prev.folder)
        if blockers:
            raise InstallError(
                "cannot change the install dir: " + " | ".join(blockers),
            )

        self.dir.mkdir(parents=True, exist_ok=True)
        if self.txn.exists():
            shutil.rmtree(self.txn)
        (self.txn / "new").mkdir(parents=True)
        (self.txn / "old").mkdir()
        try:
            for plan in self._stage_all(to_stage):
                final[plan.entry.folder] = plan
        except BaseException:
            shutil.rmtree(self.txn, ignore_errors=True)
            raise

        final_entries = [final[p.entry.folder].entry for p in wanted if p.entry.folder in final]
        from skillpm.digest import file_hashes

        new_state = {k: v for k, v in state.items() if k in wanted_folders}
        for plan in to_stage:
            e = final[plan.entry.folder].entry
            new_state[e.folder] = {"integrity": e.integrity, "files": file_hashes(self.txn / "new" / e.folder)}
        manifest_writes, lock_path, lock_text = commit(final_entries)
        ops = [{"folder": p.entry.folder, "old": os.path.lexists(self.dir / p.entry.folder), "new": True} for p in to_stage]
        ops += [{"folder": r.folder, "old": os.path.lexists(self.dir / r.folder), "new": False} for r in removals]
        journal = {
            "ops": ops,
            "lock_path": str(lock_path),
            "old_lock": lock_path.read_text(encoding="utf-8") if lock_path.exists() else None,
            "new_state": new_state,
        }
        for path, _ in manifest_writes[:1]:
            journal["manifest_path"] = str(path)
            journal["old_manifest"] = path.read_text(encoding="utf-8") if path.exists() else None
        atomic_write(self.txn / "journal.json", json.dumps(journal))

        backup_dir = None
        if force_backup:
            import tempfile  # a fresh folder per run: two --force runs in one second must not collide

            root = backup_root or _default_backup_root()
            root.mkdir(parents=True, exist_ok=True)
            backup_dir = Path(tempfile.mkdtemp(prefix=time.strftime("%Y%m%d-%H%M%S") + "-", dir=root))
        try:
            for op in ops:
                folder = op["folder"]
                placed = self.dir / folder
                if op["old"]:
                    if backup_dir is not None and folder in force_backup:
                        _backup(placed, backup_dir / folder)
                        outcome.backups.append(backup_dir / folder)
                    os.replace(placed, self.txn / "old" / folder)  # a folder, file or link alike
                if op["new"]:
                    os.replace(self.txn / "new" / folder, placed)
            for path, text in manifest_writes:
                atomic_write(path, text)
            atomic_write(lock_path, lock_text)
            (self.txn / COMMITTED).touch()  # the commit point: from here on, recovery rolls forward
        except Exception:
            self.recover()  # put the old state back now rather than on the next run
            raise
        self._write_state(new_state)
        shutil.rmtree(self.txn, ignore_errors=True)

        old_by_name = {e.name: e for e in old}
        staged = {p.entry.folder for p in to_stage}
        for e in final_entries:
            prev = old_by_name.get(e.name)
            if prev is None:
                outcome.added.append(e)
            elif not _same_content(prev, e):
                outcome.updated.append((prev, e))
            elif e.folder in staged:
                outcome.restored.append(e)
        final_names = {e.name for e in final_entries}
        outcome.removed = [e for e in old if e.name not in final_names]
        outcome.entries = final_entries
        return outcome

    def _stage_all(self, plans: list[Planned]) -> list[Planned]:
        """Fetch and check every new skill; network-bound, so a few at a time.

        Each plan writes only its own folder under txn/new. The first failure
        is raised after the others stop (the caller removes the whole txn).
        """
        if len(plans) <= 1:
            return [self._stage(p) for p in plans]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(STAGING_WORKERS, len(plans)), thread_name_prefix="skillpm-stage") as pool:
            futures = [pool.submit(self._stage, p) for p in plans]
            return [f.result() for f in futures]

    def _stage(self, plan: Planned) -> Planned:
        from skillpm.digest import tree_digest

        assert plan.source is not None and plan.release is not None
        dest = self.txn / "new" / plan.entry.folder
        plan.source.materialize(plan.release, dest)
        digest = tree_digest(dest)
        if plan.check_integrity and digest != plan.entry.integrity:
            raise IntegrityError(
                f"{plan.entry.name} {plan.entry.version}: content digest {digest} does not match the lock's {plan.entry.integrity}",
                hint="the source changed under the same version; run `skillpm update " + plan.entry.name + "` if you trust it",
            )
        if digest != plan.entry.integrity:
            plan = Planned(entry=plan.entry.model_copy(update={"integrity": digest}), source=plan.source, release=plan.release)
        return plan


def _same_content(a: LockedSkill, b: LockedSkill) -> bool:
    return (a.source, a.path, a.version, a.commit, a.checksum, a.integrity, a.folder) == (
        b.source,
        b.path,
        b.version,
        b.commit,
        b.checksum,
        b.integrity,
        b.folder,
    )


def _keep_learned(new: LockedSkill, prev: LockedSkill) -> LockedSkill:
    return new if new.integrity == prev.integrity else new.model_copy(update={"integrity": prev.integrity})


def _check_collisions(wanted: list[Planned]) -> None:
    seen: dict[str, LockedSkill] = {}
    for plan in wanted:
        e = plan.entry
        if e.folder in seen:
            other = seen[e.folder]
            raise InstallError(
                f"{other.name} ({other.source}) and {e.name} ({e.source}) would both install into the folder {e.folder!r}",
                hint="remove one of them from skills.toml",
            )
        seen[e.folder] = e


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()


def _backup(path: Path, dest: Path) -> None:
    """Copy what is about to be replaced; links are copied as links."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir() and not path.is_symlink():
        shutil.copytree(path, dest, symlinks=True)
    else:
        shutil.copy2(path, dest, follow_symlinks=False)


def _default_backup_root() -> Path:
    from skillpm.cache import cache_dir

    return cache_dir() / "backups"
