"""The installer executes a plan (skillpm/plan.py) on the install dir in one transaction.

Its inputs are two facts, the install state (what skillpm last put in each
folder, `.skillpm/state.json`) and what the lock wants, plus the disk. The
planner turns them into steps; `apply` carries them out:

1. stage every new copy under `<install dir>/.skillpm/txn/new/` (same
   filesystem, so renames are atomic) and check its tree digest;
2. write a journal naming every folder that will move, every project file
   (skills.toml, skills.lock) with its old and new text, and the new install
   state;
3. keep a backup of anything forced over; move old folders aside into
   `txn/old/`, new ones into place;
4. write the project files (only those whose bytes change), then the commit
   marker: from here on the transaction counts as done;
5. write the install state; move the transaction folder to the trash and
   delete it.

Every step is a rename or an atomic write, and recovery is itself repeatable:
a run that finds a journal rolls forward when the commit marker exists
(rewrite the state, drop the transaction) and back otherwise, by moving each
folder back where it came from. A kill during recovery leaves a journal the
next recovery finishes the same way.

The lock file that serializes every process working on the project lives in
the install dir (`.skillpm/lock`), so two users, CI beside an IDE, or sudo all
share it whatever their HOME or cache dir.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from skillpm import failpoints
from skillpm.errors import InstallError, IntegrityError
from skillpm.fs import atomic_write, file_lock
from skillpm.lockfile import UNKNOWN_DIGEST, LockedSkill
from skillpm.plan import (
    CONFLICT,
    FORGET,
    INSTALL,
    KEEP,
    LOCAL_EDIT,
    REMOVE,
    REPLACE,
    Installed,
    Observed,
    Plan,
    Step,
    plan as make_plan,
)
from skillpm.sources.base import Release, Source

STATE_DIR = ".skillpm"
STATE_FILE = "state.json"
STATE_VERSION = 2
COMMITTED = "committed"  # marker in the transaction folder, written right after the project files
STAGING_WORKERS = 8
MAX_JOURNAL_BYTES = 64 * 1024 * 1024  # holds the old skills.toml and skills.lock and the state
MAX_STATE_BYTES = 64 * 1024 * 1024
PENDING = "an interrupted install is pending; run `skillpm install` to finish it"


@dataclass
class Planned:
    """A skill the new state wants installed, with where to get it."""

    entry: LockedSkill
    source: Source | None = None  # None: nothing to fetch (the installed copy is expected to be right)
    release: Release | None = None
    check_integrity: bool = True  # False: the source's digest is learned now (path, fresh git)


@dataclass
class SkillStatus:
    name: str
    folder: str
    state: str  # ok | modified | foreign (not skillpm's, differs) | missing | pending
    modified: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    details_known: bool = True

    def describe(self) -> str:
        if self.state == "pending":
            return f"{self.folder}: {PENDING}"
        if self.state == "missing":
            return f"{self.folder}: not installed"
        if self.state == "foreign":
            return f"{self.folder}: not installed by skillpm, and its files differ from the lock"
        if not self.details_known:
            return f"{self.folder}: files differ from the lock"
        parts = [f"modified {', '.join(self.modified)}"] if self.modified else []
        parts += [f"missing {', '.join(self.missing)}"] if self.missing else []
        parts += [f"unexpected {', '.join(self.unexpected)}"] if self.unexpected else []
        return f"{self.folder}: " + ("; ".join(parts) or "files differ from the lock")


@dataclass
class Change:
    """One line of what a transaction did to the install dir."""

    kind: str  # added | upgraded | downgraded | changed | removed | restored
    name: str
    folder: str
    old: str | None = None  # version labels
    new: str | None = None


@dataclass
class Conflict:
    """A folder left alone because its files are not what skillpm installed there."""

    folder: str
    name: str
    reason: str  # plan.LOCAL_EDIT | plan.FOREIGN
    removing: bool  # the lock no longer has it (it is kept, and still skillpm's)
    detail: str = ""  # which files differ, when known

    def problem(self) -> str:
        """For a refusal: what is wrong with the folder."""
        what = f"{self.folder}/ has local edits" if self.reason == LOCAL_EDIT else f"{self.folder}/ was {self.reason}"
        return what + (f" ({self.detail})" if self.detail else "")

    def describe(self) -> str:
        """For a report: the folder was kept, and why."""
        what = f"{self.folder}/: kept ({self.reason})"
        if self.removing:
            what += "; not in skills.lock" if self.reason != LOCAL_EDIT else f"; {self.name} is no longer in skills.lock"
        return what + (f" [{self.detail}]" if self.detail else "")

    @property
    def hint(self) -> str:
        if self.reason == LOCAL_EDIT:
            fix = "delete it" if self.removing else "replace it with the locked files"
            return (
                f"to keep your changes, copy the folder out of the install dir first (a local skill: `skillpm add ./path`); "
                f"then rerun with --force to {fix} (a backup is kept)"
            )
        if self.removing:
            return "move it out of the install dir, or rerun with --force to delete it (a backup is kept)"
        return "move it out of the install dir, or rerun with --force to replace it (a backup is kept)"


@dataclass
class Outcome:
    changes: list[Change] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    backups: list[Path] = field(default_factory=list)
    entries: list[LockedSkill] = field(default_factory=list)  # final, with learned digests
    kept: list[LockedSkill] = field(default_factory=list)  # no longer locked, kept for local edits (still skillpm's)
    written: list[Path] = field(default_factory=list)  # project files whose bytes changed
    targets: list = field(default_factory=list)  # TargetSync per agent target, synced after the commit (ops/targets.py)

    def of(self, *kinds: str) -> list[Change]:
        return [c for c in self.changes if c.kind in kinds]

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    @property
    def ok(self) -> bool:
        """The install dir equals the lock: nothing was left in conflict."""
        return not self.conflicts


class Installer:
    def __init__(self, install_dir: Path, *, project_files: Iterable[Path] = ()) -> None:
        self.dir = install_dir
        self.state_dir = install_dir / STATE_DIR
        self.txn = self.state_dir / "txn"
        # the only files a transaction may write, and so the only ones a journal may name
        self.project_files = {os.path.abspath(p) for p in project_files}

    def _check_dirs(self) -> None:
        """The state folder and the transaction folder must be real folders: a
        link (say, committed to a cloned repository) would send writes and
        recovery's moves elsewhere."""
        for path in (self.state_dir, self.txn):
            if path.is_symlink() or (os.path.lexists(path) and not path.is_dir()):
                raise InstallError(
                    f"{path} is {'a symbolic link' if path.is_symlink() else 'not a folder'}; skillpm keeps its install state there",
                    hint=f"remove {path} (it is not skillpm's) and run the command again",
                )

    # -- locking and recovery --------------------------------------------

    def lock(self):
        """Serialize every process that changes this project (manifest, lock,
        install dir, targets): the lock file lives in the install dir, shared
        by every user and cache dir on the machine."""
        self._make_state_dir()
        return file_lock(self.state_dir / "lock", what=f"the project installing into {self.dir}")

    def _make_state_dir(self) -> None:
        self._check_dirs()
        if not self.state_dir.is_dir():
            self.state_dir.mkdir(parents=True, exist_ok=True)
        ignore = self.state_dir / ".gitignore"
        if not ignore.exists():  # never commit the state, the lock or a transaction
            atomic_write(ignore, "# skillpm's install state; per checkout, never committed\n*\n")

    def pending(self) -> bool:
        """Is an interrupted transaction waiting for recovery (or one running right now)?"""
        return (self.txn / "journal.json").exists()

    def recover(self) -> str | None:
        """Finish or undo an interrupted transaction; also sweep the trash. Returns what was done.

        Repeatable: killed at any point, the next call finishes the same way.
        """
        self._check_dirs()
        self._empty_trash()
        if not self.txn.exists():
            return None
        journal_path = self.txn / "journal.json"
        if not journal_path.exists():  # crashed while staging: nothing moved yet
            self._discard_txn()
            return None
        journal = self._read_journal(journal_path)
        if (self.txn / COMMITTED).exists():
            self._write_state(journal["new_state"])
            self._discard_txn()
            return "completed an interrupted install"
        for op in reversed(journal["ops"]):
            self._undo_move(op["folder"], had_old=op["old"], had_new=op["new"])
        for item in journal["files"]:
            path, old = Path(item["path"]), item["old"]
            failpoints.point("recover.file")
            if old is None:
                path.unlink(missing_ok=True)
            elif _read_text(path) != old:
                atomic_write(path, old)
        self._discard_txn()
        return "rolled back an interrupted install"

    def _read_journal(self, path: Path) -> dict:
        """The journal, checked: folders are plain names in the install dir, files
        are the project's own. atomic_write makes a journal whole or absent, so
        anything else was not written by skillpm and is refused, not followed."""
        def bad(why: str) -> InstallError:
            return InstallError(
                f"{path}: the journal of an interrupted install {why}; refusing to recover from it",
                hint=f"inspect {self.txn} (old folders are under old/, new ones under new/) and delete it",
            )

        try:
            journal = json.loads(_read_capped(path, MAX_JOURNAL_BYTES))
        except (OSError, ValueError, RecursionError):
            raise bad("is unreadable") from None
        if not isinstance(journal, dict) or not isinstance(journal.get("ops", []), list):
            raise bad("is malformed")
        files = journal.get("files", [])
        for key in ("manifest", "lock"):  # a journal of skillpm before the install state (0.1)
            if journal.get(f"{key}_path"):
                files = [*files, {"path": journal[f"{key}_path"], "old": journal.get(f"old_{key}")}]
        if not isinstance(files, list):
            raise bad("is malformed")
        for op in journal.get("ops", []):
            if not (isinstance(op, dict) and _plain_folder(op.get("folder")) and isinstance(op.get("old"), bool)
                    and isinstance(op.get("new"), bool)):
                raise bad(f"names an unsafe folder or step ({str(op)[:80]!r})")
        for item in files:
            if not (isinstance(item, dict) and isinstance(item.get("path"), str)
                    and (item.get("old") is None or isinstance(item.get("old"), str))):
                raise bad("is malformed")
            if os.path.abspath(item["path"]) not in self.project_files:
                raise bad(f"names a file that is not this project's skills.toml or skills.lock ({item['path'][:200]!r})")
        state = journal.get("new_state", {})
        return {"ops": journal.get("ops", []), "files": files,
                "new_state": _state_records(_parse_state(state)) if isinstance(state, dict) else {}}

    def _undo_move(self, folder: str, *, had_old: bool, had_new: bool) -> None:
        """Undo one folder's moves; every branch is safe to run again.

        Forward was: placed -> txn/old (when there was an old one), then
        txn/new -> placed (when there is a new one). Backward moves the new
        copy back into txn/new first, then the old one back into place.
        """
        placed, old, new = self.dir / folder, self.txn / "old" / folder, self.txn / "new" / folder
        old_aside = os.path.lexists(old)
        if had_new and not os.path.lexists(new) and os.path.lexists(placed) and (old_aside or not had_old):
            failpoints.point("recover.unplace")
            os.replace(placed, new)  # the new copy had been moved in
        if had_old and old_aside:
            failpoints.point("recover.restore")
            if os.path.lexists(placed):  # cannot happen after the step above; never lose the old copy
                _remove(placed)
            os.replace(old, placed)

    def _discard_txn(self) -> None:
        """Remove the transaction folder: one rename into the trash, then delete."""
        trash = self.state_dir / f"trash-{os.getpid()}-{time.monotonic_ns()}"
        failpoints.point("txn.discard")
        os.replace(self.txn, trash)
        shutil.rmtree(trash, ignore_errors=True)

    def _empty_trash(self) -> None:
        if not self.state_dir.is_dir():
            return
        for p in self.state_dir.iterdir():
            if p.name.startswith("trash-"):
                _remove(p)

    # -- the install state ------------------------------------------------

    def read_state(self) -> dict[str, Installed]:
        """Folder -> what skillpm last installed there. Unreadable state counts as empty."""
        try:
            data = json.loads(_read_capped(self.state_dir / STATE_FILE, MAX_STATE_BYTES))
        except (OSError, ValueError, RecursionError):
            return {}
        if not isinstance(data, dict):
            return {}
        if data.get("version") == STATE_VERSION:
            return _parse_state(data.get("skills"))
        return _parse_state(data)  # version 1: {folder: {"integrity", "files"}}

    def _write_state(self, state: dict) -> None:
        self._make_state_dir()
        failpoints.point("state.write")
        data = {"version": STATE_VERSION, "skills": state}
        atomic_write(self.state_dir / STATE_FILE, json.dumps(data, indent=1, sort_keys=True) + "\n")

    def observe(self, folders: Iterable[str]) -> dict[str, Observed]:
        out = {}
        for folder in folders:
            path = self.dir / folder
            if not os.path.lexists(path):
                out[folder] = Observed(exists=False)
                continue
            out[folder] = Observed(exists=True, digest=_digest_or_none(path))
        return out

    def status(self, entry: LockedSkill, state: dict[str, Installed] | None = None) -> SkillStatus:
        """How the installed copy of `entry` compares with the lock (for verify and list)."""
        from skillpm.digest import file_hashes

        folder = self.dir / entry.folder
        if self.pending():
            return SkillStatus(entry.name, entry.folder, "pending")
        if not folder.is_dir() or folder.is_symlink():
            return SkillStatus(entry.name, entry.folder, "missing" if not os.path.lexists(folder) else "modified",
                               details_known=False)
        try:
            actual = file_hashes(folder)
        except Exception as e:  # noqa: BLE001 - a link or device appeared in the installed copy
            return SkillStatus(entry.name, entry.folder, "modified", unexpected=[str(getattr(e, "message", e))])
        from skillpm.digest import digest_entries

        if digest_entries(actual.items()) == entry.integrity:
            return SkillStatus(entry.name, entry.folder, "ok")
        recorded = (state if state is not None else self.read_state()).get(entry.folder)
        if recorded is None:
            return SkillStatus(entry.name, entry.folder, "foreign", details_known=False)
        if recorded.integrity != entry.integrity or not recorded.files:
            return SkillStatus(entry.name, entry.folder, "modified", details_known=False)
        expected = recorded.files
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

    def plan(self, wanted: Iterable[LockedSkill], *, force: bool = False) -> Plan:
        """The steps that bring this install dir to `wanted` (reads the state and the disk)."""
        wanted = list(wanted)
        state = self.read_state()
        observed = self.observe({e.folder for e in wanted} | set(state) | set(self.present()))
        return make_plan(wanted, state, observed, force=force)

    def present(self) -> list[str]:
        """Every skill-like entry of the install dir (hidden ones, like .skillpm, are skillpm's or tools')."""
        if not self.dir.is_dir():
            return []
        return sorted(p.name for p in self.dir.iterdir() if not p.name.startswith("."))

    # -- the transaction --------------------------------------------------

    def apply(
        self,
        wanted: list[Planned],
        *,
        force: bool = False,
        refuse: str = "never",
        files: Callable[[list[LockedSkill]], list[tuple[Path, str]]] | None = None,
        backup_root: Path | None = None,
        hold: bool = False,
    ) -> Outcome:
        """Bring the install dir to `wanted` and write the project files, in one transaction.

        `files(final_entries)` returns the project files to write (skills.toml,
        skills.lock) as (path, text); only those whose bytes change are
        written. Conflicts (folders whose files differ from what skillpm
        installed) are left alone and reported in the outcome, and the rest
        is applied (`refuse="never"`, `install`). `refuse="any"` (install
        --frozen) raises ConflictError before anything changes; `"changes"`
        (add, remove, update) raises only for conflicts on folders whose
        content the transaction would change, and reports the rest.

        `hold`: keep the committed transaction open until `finish()`, so that
        what the caller does next (syncing agent targets) is redone by
        recovery if the process dies first.
        """
        _check_collisions(wanted)
        by_folder = {p.entry.folder: p for p in wanted}
        state = self.read_state()
        observed = self.observe(set(by_folder) | set(state) | set(self.present()))
        the_plan = make_plan([p.entry for p in wanted], state, observed, force=force)
        outcome = Outcome(conflicts=[self._conflict(s, state) for s in the_plan.conflicts])
        outcome.kept = [s.have.entry for s in the_plan.conflicts if s.want is None and s.have is not None and s.have.entry]
        blocking = [c for c, s in zip(outcome.conflicts, the_plan.conflicts) if refuse == "any" or (refuse == "changes" and _changes_folder(s))]
        if blocking:
            raise ConflictError(blocking)

        # fetch: every folder that changes, and conflicts whose digest the lock still has to learn
        to_stage = [by_folder[s.folder] for s in the_plan.steps if s.kind in (INSTALL, REPLACE)]
        learn_only = [
            by_folder[s.folder] for s in the_plan.conflicts if s.want is not None and s.want.integrity == UNKNOWN_DIGEST
        ]
        for p in to_stage + learn_only:
            if p.source is None:
                raise InstallError(f"{p.entry.name}: no source to fetch {p.entry.folder}/ from")  # a bug, not a user error
        moving = [s for s in the_plan.steps if s.writes]
        staged: dict[str, LockedSkill] = {}
        hashes: dict[str, dict[str, str]] = {}
        if to_stage or learn_only:
            self._make_state_dir()
            if self.txn.exists():
                self._discard_txn()
            (self.txn / "new").mkdir(parents=True)
            (self.txn / "old").mkdir()
            (self.txn / "learn").mkdir()
            try:
                jobs = [(p, self.txn / "new" / p.entry.folder) for p in to_stage]
                jobs += [(p, self.txn / "learn" / p.entry.folder) for p in learn_only]
                for plan_, found in self._stage_all(jobs):
                    staged[plan_.entry.folder] = plan_.entry
                    hashes[plan_.entry.folder] = found
                shutil.rmtree(self.txn / "learn")
            except BaseException:
                self._discard_txn()
                raise

        # the final entries (with learned digests) and the new state
        final: list[LockedSkill] = []
        new_state = _state_records(state)
        for step in the_plan.steps:
            folder = step.folder
            if step.kind in (REMOVE, FORGET):
                new_state.pop(folder, None)
                continue
            if step.want is None:  # a conflict on a removal: kept, still skillpm's
                continue
            entry = staged.get(folder, step.want)
            final.append(entry)
            if step.kind in (INSTALL, REPLACE):
                new_state[folder] = {"entry": _dump_entry(entry), "integrity": entry.integrity, "files": hashes[folder]}
            elif step.kind == KEEP:
                have = step.have
                known = dict(have.files) if have is not None and have.integrity == entry.integrity else None
                if known is None or have is None or have.entry != entry:
                    from skillpm.digest import file_hashes

                    known = known if known is not None else file_hashes(self.dir / folder)
                    new_state[folder] = {"entry": _dump_entry(entry), "integrity": entry.integrity, "files": known}
        order = {p.entry.folder: i for i, p in enumerate(wanted)}
        final.sort(key=lambda e: order[e.folder])
        outcome.entries = final

        writes = [(path, text) for path, text in (files(final) if files else []) if _read_text(path) != text]
        outcome.written = [path for path, _ in writes]
        state_changed = new_state != _state_records(state)
        if not moving and not writes:
            if self.txn.exists():
                self._discard_txn()  # only learned digests
            if state_changed:
                self._write_state(new_state)
            outcome.changes = _changes(the_plan, staged)
            return outcome

        ops = [{"folder": s.folder, "old": s.kind != INSTALL, "new": s.kind != REMOVE} for s in moving]
        forced = {s.folder for s in moving if s.backup}
        self._commit(ops, writes, new_state, forced=forced, backup_root=backup_root, outcome=outcome, hold=hold)
        outcome.changes = _changes(the_plan, staged)
        return outcome

    def commit_files(self, writes: list[tuple[Path, str]]) -> list[Path]:
        """Write project files (skills.toml, skills.lock) together, in one journaled
        transaction, when no folder moves (`skillpm import`). Returns those whose bytes changed."""
        writes = [(path, text) for path, text in writes if _read_text(path) != text]
        if len(writes) == 1:
            atomic_write(*writes[0])
        elif writes:
            self._commit([], writes, None, forced=set(), backup_root=None, outcome=Outcome())
        return [path for path, _ in writes]

    def _commit(
        self,
        ops: list[dict],
        writes: list[tuple[Path, str]],
        new_state: dict | None,
        *,
        forced: set[str],
        backup_root: Path | None,
        outcome: Outcome,
        hold: bool = False,
    ) -> None:
        """Journal, move folders, write files, mark committed, record the state, clean up."""
        strays = [str(path) for path, _ in writes if os.path.abspath(path) not in self.project_files]
        if strays:  # recovery would refuse this journal: never write one
            raise ValueError(f"not a project file of this installer: {strays[0]}")
        self._make_state_dir()
        if not (self.txn / "new").is_dir():
            if self.txn.exists():
                self._discard_txn()
            (self.txn / "new").mkdir(parents=True)
        (self.txn / "old").mkdir(exist_ok=True)
        journal = {
            "ops": ops,
            "files": [{"path": str(path), "old": _read_text(path)} for path, _ in writes],
            "new_state": new_state if new_state is not None else _state_records(self.read_state()),
        }
        failpoints.point("txn.journal")
        atomic_write(self.txn / "journal.json", json.dumps(journal))

        backup_dir = None
        if forced:
            import tempfile  # a fresh folder per run: two --force runs in one second must not collide

            root = backup_root or _default_backup_root()
            root.mkdir(parents=True, exist_ok=True)
            backup_dir = Path(tempfile.mkdtemp(prefix=time.strftime("%Y%m%d-%H%M%S") + "-", dir=root))
        try:
            for op in ops:
                folder = op["folder"]
                placed = self.dir / folder
                if op["old"]:
                    if backup_dir is not None and folder in forced:
                        _backup(placed, backup_dir / folder)
                        outcome.backups.append(backup_dir / folder)
                    failpoints.point("txn.move_old")
                    os.replace(placed, self.txn / "old" / folder)  # a folder, file or link alike
                if op["new"]:
                    failpoints.point("txn.move_new")
                    os.replace(self.txn / "new" / folder, placed)
            for path, text in writes:
                failpoints.point("txn.file")
                atomic_write(path, text)
            failpoints.point("txn.commit")
            (self.txn / COMMITTED).touch()  # the commit point: from here on, recovery rolls forward
        except Exception:
            self.recover()  # put the old state back now rather than on the next run
            raise
        if new_state is not None:
            self._write_state(new_state)
        if not hold:
            self._discard_txn()

    def finish(self) -> None:
        """Close a transaction `apply(hold=True)` committed."""
        if (self.txn / COMMITTED).exists():
            self._discard_txn()

    def _conflict(self, step: Step, state: dict[str, Installed]) -> Conflict:
        have, want = step.have, step.want
        name = want.name if want is not None else have.name if have is not None else step.folder
        detail = ""
        if have is not None and have.entry is not None:
            st = self.status(have.entry, state)
            if st.state == "modified" and st.details_known:
                detail = st.describe().split(": ", 1)[1]
            elif st.state == "missing":
                detail = "not a folder"
        return Conflict(step.folder, name, step.reason or LOCAL_EDIT, removing=want is None, detail=detail)

    def _stage_all(self, jobs: list[tuple[Planned, Path]]) -> list[tuple[Planned, dict[str, str]]]:
        """Fetch and check every new skill; network-bound, so a few at a time.

        Each job writes only its own folder under the txn. The first failure
        is raised after the others stop (the caller removes the whole txn).
        """
        if len(jobs) <= 1:
            return [self._stage(p, dest) for p, dest in jobs]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(STAGING_WORKERS, len(jobs)), thread_name_prefix="skillpm-stage") as pool:
            futures = [pool.submit(self._stage, p, dest) for p, dest in jobs]
            return [f.result() for f in futures]

    def _stage(self, plan: Planned, dest: Path) -> tuple[Planned, dict[str, str]]:
        from skillpm.digest import digest_entries, file_hashes

        assert plan.source is not None and plan.release is not None
        plan.source.materialize(plan.release, dest)
        found = file_hashes(dest)
        digest = digest_entries(found.items())
        if plan.check_integrity and plan.entry.integrity != UNKNOWN_DIGEST and digest != plan.entry.integrity:
            raise IntegrityError(
                f"{plan.entry.name} {plan.entry.version}: content digest {digest} does not match the lock's {plan.entry.integrity}",
                hint="the source changed under the same version; run `skillpm update " + plan.entry.name + "` if you trust it",
            )
        if digest != plan.entry.integrity:
            plan = Planned(entry=plan.entry.model_copy(update={"integrity": digest}), source=plan.source, release=plan.release)
        return plan, found


class ConflictError(InstallError):
    """Folders whose files are not what skillpm installed stand in the way: nothing changed."""

    def __init__(self, conflicts: list[Conflict]) -> None:
        self.conflicts = conflicts
        listed = "; ".join(c.problem() for c in conflicts)
        super().__init__(f"nothing was changed: {listed}", hint=conflicts[0].hint)


def _changes_folder(step: Step) -> bool:
    """Would applying `step` (were it not a conflict) change what the folder holds?"""
    from skillpm.plan import wanted_digest

    if step.want is None and step.have is None:
        return False  # a folder neither locked nor skillpm's: no transaction changes it
    if step.want is None or step.have is None:
        return True
    return wanted_digest(step.want, step.have) != step.have.integrity


def _changes(the_plan: Plan, staged: dict[str, LockedSkill]) -> list[Change]:
    """What moved, as the user sees it: a name that left one folder for another is one change."""
    out: list[Change] = []
    gone = {s.have.name: s for s in the_plan.of(REMOVE, FORGET) if s.have is not None}
    for step in the_plan.steps:
        if step.kind not in (INSTALL, REPLACE):
            continue
        new = staged.get(step.folder, step.want)
        assert new is not None
        have = step.have
        if have is None and new.name in gone:
            have = gone.pop(new.name).have
        if step.restores:
            out.append(Change("restored", new.name, step.folder, have.version if have else None, new.version))
        elif have is None:
            out.append(Change("added", new.name, step.folder, None, new.version))
        else:
            old_label, new_label = have.version, new.version
            if old_label == new_label and have.entry is not None and have.entry.commit and new.commit:
                old_label, new_label = f"{old_label} ({have.entry.commit[:12]})", f"{new_label} ({new.commit[:12]})"
            out.append(Change(_direction(have, new), new.name, step.folder, old_label, new_label))
    for step in the_plan.of(REMOVE):
        if step.have is None:  # --force over a folder skillpm never made (a backup was kept)
            out.append(Change("removed", step.folder, step.folder, None, None))
    for step in the_plan.of(REMOVE, FORGET):
        if step.have is not None and step.have.name in gone:
            out.append(Change("removed", step.have.name, step.folder, step.have.version, None))
    return out


def _direction(have: Installed, new: LockedSkill) -> str:
    from skillpm.semver import Version

    try:
        a, b = Version.parse(have.version), Version.parse(new.version)
    except Exception:  # noqa: BLE001 - an old record without a version
        return "changed"
    return "upgraded" if b > a else "downgraded" if b < a else "changed"


def _dump_entry(e: LockedSkill) -> dict:
    return e.model_dump(exclude_none=True)


def _state_records(state: dict[str, Installed]) -> dict[str, dict]:
    out = {}
    for folder, v in state.items():
        rec: dict = {"integrity": v.integrity, "files": dict(v.files)}
        if v.entry is not None:
            rec["entry"] = _dump_entry(v.entry)
        out[folder] = rec
    return out


_FOLDER_RE = re.compile(r"[^/\\\x00]+\Z")


def _plain_folder(name: object) -> bool:
    """A single folder name in the install dir: not empty, no separator, not hidden (so never '.' or '..')."""
    return isinstance(name, str) and bool(_FOLDER_RE.match(name)) and not name.startswith(".")


def _read_capped(path: Path, limit: int) -> str:
    """A regular file's text, refusing links, devices and anything over `limit` bytes."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as f:
        import stat as stat_

        if not stat_.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise OSError(f"{path}: not a regular file")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise OSError(f"{path}: larger than {limit} bytes")
    return data.decode("utf-8")


def _parse_state(skills: object) -> dict[str, Installed]:
    """Records that do not parse are dropped: their folders count as not skillpm's."""
    from pydantic import ValidationError

    from skillpm.lockfile import _DIGEST_RE

    out: dict[str, Installed] = {}
    if not isinstance(skills, dict):
        return out
    for folder, rec in skills.items():
        if not _plain_folder(folder) or not isinstance(rec, dict):
            continue
        integrity, files = rec.get("integrity"), rec.get("files", {})
        if not isinstance(integrity, str) or not _DIGEST_RE.match(integrity) or not isinstance(files, dict):
            continue
        entry = None
        if isinstance(rec.get("entry"), dict):
            try:
                entry = LockedSkill.model_validate(rec["entry"])
            except ValidationError:
                entry = None
        if entry is not None and entry.folder != folder:
            entry = None
        out[folder] = Installed(folder=folder, integrity=integrity, entry=entry,
                                files={k: v for k, v in files.items() if isinstance(k, str) and isinstance(v, str)})
    return out


def _digest_or_none(path: Path) -> str | None:
    from skillpm.digest import tree_digest

    if path.is_symlink() or not path.is_dir():
        return None
    try:
        return tree_digest(path)
    except Exception:  # noqa: BLE001 - a link or device appeared: not a copy skillpm made
        return None


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        return ""  # unreadable: never equal to a text we write, so it is rewritten


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


__all__ = ["Change", "Conflict", "ConflictError", "Installer", "Outcome", "PENDING", "Planned", "SkillStatus"]
