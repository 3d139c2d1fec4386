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
the install dir (`.skillpm/lock`), so runs with different HOMEs or cache dirs
(CI beside an IDE, sudo) share it. Files a root run creates there stay root's:
a later run as the user needs them back (`sudo chown -R`).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from skillpm import failpoints
from skillpm.errors import InstallError, IntegrityError
from skillpm.fs import atomic_write, checkout_id, file_lock, fsync_dir, is_plain_name, read_capped, remove_path
from skillpm.lockfile import UNKNOWN_DIGEST, LockedSkill
from skillpm.plan import (
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
MAX_STATE_BYTES = 8 * 1024 * 1024  # ~15,000 skills
PENDING = "an interrupted install is pending; run `skillpm install` to finish it"
COMPLETED = "completed an interrupted install"
ROLLED_BACK = "rolled back an interrupted install"


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
        """The state folder and the transaction folders must be real folders (and
        the lock a real file): a link (say, committed to a cloned repository)
        would send writes and recovery's moves elsewhere."""
        for path in (self.state_dir, self.txn, *(self.txn / sub for sub in ("old", "new", "learn"))):
            if path.is_symlink() or (os.path.lexists(path) and not path.is_dir()):
                raise InstallError(
                    f"{path} is {'a symbolic link' if path.is_symlink() else 'not a folder'}; skillpm keeps its install state there",
                    hint=f"remove {path} (it is not skillpm's) and run the command again",
                )
        if (self.state_dir / "lock").is_symlink():
            raise InstallError(f"{self.state_dir / 'lock'} is a symbolic link", hint="remove it and run the command again")

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

    def recover(self, *, hold: bool = False) -> str | None:
        """Finish or undo an interrupted transaction; also sweep the trash.
        Returns what was done (COMPLETED, ROLLED_BACK) or None.

        Repeatable: killed at any point, the next call finishes the same way.
        `hold`: a completed transaction stays open until `finish()`, so that
        the caller's next step (syncing agent targets) is redone if it dies.
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
            if not hold:
                self._discard_txn()
            return COMPLETED
        for op in reversed(journal["ops"]):
            self._undo_move(op["folder"], had_old=op["old"], had_new=op["new"])
        for path, old in journal["files"]:
            failpoints.point("recover.file")
            if old is None:
                path.unlink(missing_ok=True)
            elif _read_bytes(path) != old:
                atomic_write(path, old)
        self._discard_txn()
        return ROLLED_BACK

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
            journal = json.loads(read_capped(path, MAX_JOURNAL_BYTES))
        except (OSError, ValueError, RecursionError):
            raise bad("is unreadable") from None
        if not isinstance(journal, dict):
            raise bad("is malformed")
        if journal.get("checkout") != checkout_id(self.state_dir):
            raise bad("was not written in this checkout (committed to a repository, or copied from another folder)")
        ops, files = journal.get("ops"), journal.get("files")
        if not isinstance(ops, list) or not isinstance(files, list):
            raise bad("is malformed")
        seen: set[str] = set()
        for op in ops:
            if not (isinstance(op, dict) and is_plain_name(op.get("folder")) and isinstance(op.get("old"), bool)
                    and isinstance(op.get("new"), bool)) or op["folder"] in seen:
                raise bad(f"names an unsafe folder or step ({str(op)[:80]!r})")
            seen.add(op["folder"])
        checked: list[tuple[Path, bytes | None]] = []
        for item in files:
            old = item.get("old") if isinstance(item, dict) else None
            if not (isinstance(item, dict) and isinstance(item.get("path"), str) and (old is None or isinstance(old, str))):
                raise bad("is malformed")
            if os.path.abspath(item["path"]) not in self.project_files:
                raise bad(f"names a file that is not this project's skills.toml or skills.lock ({item['path'][:200]!r})")
            try:
                checked.append((Path(item["path"]), None if old is None else base64.b64decode(old, validate=True)))
            except ValueError:
                raise bad("is malformed") from None
        state = journal.get("new_state")
        return {"ops": ops, "files": checked,
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
            if os.path.lexists(placed):  # something new took the empty place meanwhile: keep it, aside
                from skillpm.cache import new_backup_dir

                os.replace(placed, new_backup_dir("occupied") / folder)
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
                remove_path(p)

    # -- the install state ------------------------------------------------

    def read_state(self) -> dict[str, Installed]:
        """Folder -> what skillpm last installed there.

        Unreadable state counts as empty, and so does state written in another
        checkout (committed to a repository, or copied): it says nothing about
        what skillpm did here, so its folders count as not skillpm's.
        """
        try:
            data = json.loads(read_capped(self.state_dir / STATE_FILE, MAX_STATE_BYTES))
        except (OSError, ValueError, RecursionError):
            return {}
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            return {}  # version 1 had no checkout id: its folders are judged by their bytes alone
        if data.get("checkout") != checkout_id(self.state_dir):
            return {}
        return _parse_state(data.get("skills"))

    def _write_state(self, state: dict) -> None:
        self._make_state_dir()
        failpoints.point("state.write")
        data = {"version": STATE_VERSION, "checkout": checkout_id(self.state_dir), "skills": state}
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

    def blocked(self, wanted: Iterable[LockedSkill], folders: set[str], *, force: bool = False) -> list[Conflict]:
        """The conflicts a transaction refusing on `folders` would stop at (update --dry-run)."""
        the_plan = self.plan(wanted, force=force)
        state = self.read_state()
        return [self._conflict(s, state) for s in the_plan.conflicts if s.folder in folders]

    # -- the transaction --------------------------------------------------

    def apply(
        self,
        wanted: list[Planned],
        *,
        force: bool = False,
        refuse: str | set[str] = "never",
        files: Callable[[list[LockedSkill]], list[tuple[Path, str]]] | None = None,
        backup_root: Path | None = None,
        hold: bool = False,
        prepare: Callable[[list[LockedSkill]], dict[str, tuple[Source, Release]]] | None = None,
    ) -> Outcome:
        """Bring the install dir to `wanted` and write the project files, in one transaction.

        `files(final_entries)` returns the project files to write (skills.toml,
        skills.lock) as (path, text); only those whose bytes change are
        written. Conflicts (folders whose files differ from what skillpm
        installed) are left alone and reported in the outcome, and the rest
        is applied (`refuse="never"`, `install`). `refuse="any"` (install
        --frozen) raises ConflictError before anything changes; a set of
        folders (add, remove, update: those whose lock entry they change)
        raises only for conflicts on those, and reports the rest.

        `prepare(entries)`: the sources (folder -> (source, release)) of the
        entries the plan fetches whose Planned carries none (install from the
        lock builds them only for those).

        `hold`: keep the committed transaction open until `finish()`, so that
        what the caller does next (syncing agent targets) is redone by
        recovery if the process dies first.
        """
        _check_collisions(wanted)
        if self.pending():  # never build a transaction over one that recovery has not finished
            raise InstallError(PENDING)
        by_folder = {p.entry.folder: p for p in wanted}
        state = self.read_state()
        observed = self.observe(set(by_folder) | set(state) | set(self.present()))
        the_plan = make_plan([p.entry for p in wanted], state, observed, force=force)
        outcome = Outcome(conflicts=[self._conflict(s, state) for s in the_plan.conflicts])
        outcome.kept = [s.have.entry for s in the_plan.conflicts if s.want is None and s.have is not None and s.have.entry]
        blocking = [
            c for c, s in zip(outcome.conflicts, the_plan.conflicts)
            if refuse == "any" or (isinstance(refuse, set) and s.folder in refuse)
        ]
        if blocking:
            raise ConflictError(blocking)

        # fetch: every folder that changes, and conflicts whose digest the lock still has to learn
        to_stage = [by_folder[s.folder] for s in the_plan.steps if s.kind in (INSTALL, REPLACE)]
        learn_only = [
            by_folder[s.folder] for s in the_plan.conflicts if s.want is not None and s.want.integrity == UNKNOWN_DIGEST
        ]
        unsourced = [p.entry for p in to_stage + learn_only if p.source is None]
        if unsourced:  # sources only for what this plan fetches: a no-op install asks no remote anything
            got = prepare(unsourced) if prepare is not None else {}
            to_stage = [_sourced(p, got) for p in to_stage]
            learn_only = [_sourced(p, got) for p in learn_only]
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

        writes = [(path, text) for path, text in (files(final) if files else []) if _read_bytes(path) != text.encode("utf-8")]
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
        writes = [(path, text) for path, text in writes if _read_bytes(path) != text.encode("utf-8")]
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
        backup_dir = None
        if forced:  # made before the journal: failing here leaves nothing pending
            try:
                backup_dir = _new_backup_dir(backup_root)
            except BaseException:
                self._discard_txn()
                raise
        journal = {
            "checkout": checkout_id(self.state_dir),
            "ops": ops,
            "files": [{"path": str(path), "old": _b64(_read_bytes(path))} for path, _ in writes],
            "new_state": new_state if new_state is not None else _state_records(self.read_state()),
        }
        failpoints.point("txn.journal")
        atomic_write(self.txn / "journal.json", json.dumps(journal))
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
            fsync_dir(self.dir)
            for path, text in writes:
                failpoints.point("txn.file")
                atomic_write(path, text)
            failpoints.point("txn.commit")
            (self.txn / COMMITTED).touch()  # the commit point: from here on, recovery rolls forward
            fsync_dir(self.txn)
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
        placed = self.dir / step.folder
        if placed.is_symlink() or not placed.is_dir():
            detail = "a link" if placed.is_symlink() else "not a folder"
        elif have is not None and have.entry is not None:
            st = self.status(have.entry, state)
            if st.state == "modified" and st.details_known:
                detail = st.describe().split(": ", 1)[1]
        return Conflict(step.folder, name, step.reason or LOCAL_EDIT, removing=want is None, detail=detail)

    def _stage_all(self, jobs: list[tuple[Planned, Path]]) -> list[tuple[Planned, dict[str, str]]]:
        """Fetch and check every new skill; network-bound, so a few at a time.

        Each job writes only its own folder under the txn. The first failure
        is raised once the running fetches end; queued ones are cancelled (the
        caller removes the whole txn).
        """
        if len(jobs) <= 1:
            return [self._stage(p, dest) for p, dest in jobs]
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=min(STAGING_WORKERS, len(jobs)), thread_name_prefix="skillpm-stage")
        try:
            futures = [pool.submit(self._stage, p, dest) for p, dest in jobs]
            return [f.result() for f in futures]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

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


def _sourced(p: Planned, got: dict[str, tuple[Source, Release]]) -> Planned:
    if p.source is not None:
        return p
    if p.entry.folder not in got:
        raise InstallError(f"{p.entry.name}: no source to fetch {p.entry.folder}/ from", hint="run the command again")
    source, release = got[p.entry.folder]
    return Planned(entry=p.entry, source=source, release=release, check_integrity=p.check_integrity)


class ConflictError(InstallError):
    """Folders whose files are not what skillpm installed stand in the way: nothing changed."""

    def __init__(self, conflicts: list[Conflict]) -> None:
        self.conflicts = conflicts
        listed = "; ".join(c.problem() for c in conflicts)
        super().__init__(f"nothing was changed: {listed}", hint=conflicts[0].hint)


def _changes(the_plan: Plan, staged: dict[str, LockedSkill]) -> list[Change]:
    """What moved, as the user sees it: a name that left one folder for another is one change."""
    out: list[Change] = []
    gone: dict[str, list[Step]] = {}
    for s in the_plan.of(REMOVE, FORGET):
        if s.have is not None:
            gone.setdefault(s.have.name, []).append(s)
    for step in the_plan.steps:
        if step.kind not in (INSTALL, REPLACE):
            continue
        new = staged.get(step.folder, step.want)
        assert new is not None
        have = step.have
        if have is not None and have.entry is not None and have.name != new.name:  # another skill took the folder
            out.append(Change("removed", have.name, step.folder, have.version, None))
            have = None
        if have is None and gone.get(new.name):
            have = gone[new.name].pop().have
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
    for steps in gone.values():
        for step in steps:
            assert step.have is not None
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


def _parse_state(skills: object) -> dict[str, Installed]:
    """Records that do not parse are dropped: their folders count as not skillpm's."""
    from pydantic import ValidationError

    from skillpm.lockfile import _DIGEST_RE

    out: dict[str, Installed] = {}
    if not isinstance(skills, dict):
        return out
    for folder, rec in skills.items():
        if not is_plain_name(folder) or not isinstance(rec, dict):
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


def _read_bytes(path: Path) -> bytes | None:
    """A project file's bytes now (None: absent), for the journal and to skip writes that change nothing."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise InstallError(f"{path}: cannot read it ({e.strerror or e})") from e


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def _new_backup_dir(root: Path | None) -> Path:
    if root is None:
        from skillpm.cache import new_backup_dir

        return new_backup_dir()
    import tempfile

    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=time.strftime("%Y%m%d-%H%M%S") + "-", dir=root))


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


def _backup(path: Path, dest: Path) -> None:
    """Copy what is about to be replaced; links are copied as links."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir() and not path.is_symlink():
        shutil.copytree(path, dest, symlinks=True)
    else:
        shutil.copy2(path, dest, follow_symlinks=False)




__all__ = ["Change", "Conflict", "ConflictError", "Installer", "Outcome", "PENDING", "Planned", "SkillStatus"]
