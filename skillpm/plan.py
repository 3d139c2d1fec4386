"""The install planner: what is installed + what the lock wants + the disk -> a plan. Pure.

Three facts go in:

- the install state: for each folder skillpm manages, what it last put there
  (`Installed`: the lock entry it installed and that tree's digest);
- the lock: the entries the project wants (`LockedSkill`);
- the disk: what each of those folders holds now (`Observed`: its digest).

Whether a folder holds a *local edit* is judged against what skillpm installed
there, never against the lock being installed. So after a teammate changes
skills.lock, a folder that still holds what skillpm put there is upgraded,
downgraded or removed silently, and only a folder whose files differ from what
skillpm installed (or one skillpm never made) is a conflict.

| on disk                           | recorded (installed) | wanted (lock) | step                       |
| --------------------------------- | -------------------- | ------------- | -------------------------- |
| nothing                           | -                    | X             | install                    |
| nothing                           | X                    | X             | install (restored)         |
| nothing                           | W                    | X             | install (changed)          |
| X                                 | any                  | X             | keep (record X)            |
| W                                 | W                    | X             | replace (upgrade/...)      |
| E (an edit of W)                  | W                    | X             | conflict: local edit       |
| anything                          | -                    | X             | conflict: not skillpm's    |
| W                                 | W                    | -             | remove                     |
| E                                 | W                    | -             | conflict: edited, kept     |
| nothing                           | W                    | -             | forget (removed)           |
| anything                          | -                    | -             | conflict: not skillpm's    |

With `force`, a conflict becomes a replace (or remove) that first keeps a backup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from skillpm.lockfile import UNKNOWN_DIGEST, LockedSkill

# step kinds
INSTALL = "install"  # the folder is absent: put the wanted skill there
REPLACE = "replace"  # the folder holds what skillpm installed (or, forced, anything): swap it
REMOVE = "remove"  # managed, no longer locked, unmodified (or forced): delete
FORGET = "forget"  # managed, no longer locked, already gone: drop the record
KEEP = "keep"  # the folder already holds the wanted bytes
CONFLICT = "conflict"  # the folder differs from what skillpm installed: left alone

LOCAL_EDIT = "local edit"
FOREIGN = "not installed by skillpm"


@dataclass(frozen=True)
class Installed:
    """What skillpm last put in one folder (a record of the install state)."""

    folder: str
    integrity: str
    entry: LockedSkill | None = None  # None: recorded by an older skillpm (digest only)
    files: Mapping[str, str] = field(default_factory=dict)  # rel path -> "sha256:..", for verify's details

    @property
    def name(self) -> str:
        return self.entry.name if self.entry else self.folder

    @property
    def version(self) -> str:
        return self.entry.version if self.entry else "?"


@dataclass(frozen=True)
class Observed:
    """What one folder of the install dir holds now."""

    exists: bool  # anything at all at that path (folder, file or link)
    digest: str | None = None  # its tree digest; None when absent or not a plain skill folder (a link, a device...)


ABSENT = Observed(exists=False)


@dataclass(frozen=True)
class Step:
    kind: str
    folder: str
    want: LockedSkill | None = None
    have: Installed | None = None
    reason: str | None = None  # conflicts: LOCAL_EDIT or FOREIGN
    backup: bool = False  # forced over a conflict: keep a copy of what is there first

    @property
    def writes(self) -> bool:
        """Does this step change the folder (stage a new copy, or move the old one away)?"""
        return self.kind in (INSTALL, REPLACE, REMOVE)

    @property
    def restores(self) -> bool:
        """The same content skillpm installed before, written again (it was missing, or forced over an edit)."""
        if self.kind not in (INSTALL, REPLACE) or self.have is None or self.want is None:
            return False
        return wanted_digest(self.want, self.have) == self.have.integrity


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)

    def of(self, *kinds: str) -> list[Step]:
        return [s for s in self.steps if s.kind in kinds]

    @property
    def conflicts(self) -> list[Step]:
        return self.of(CONFLICT)


def same_release(a: LockedSkill, b: LockedSkill) -> bool:
    """The same release of the same source: same bytes (the resolver and the planner both ask this)."""
    return (a.source, a.path, a.version, a.commit, a.checksum) == (b.source, b.path, b.version, b.commit, b.checksum)


def _same_release(a: LockedSkill | None, b: LockedSkill | None) -> bool:
    return a is not None and b is not None and same_release(a, b)


def wanted_digest(want: LockedSkill, have: Installed | None) -> str | None:
    """The digest the wanted entry's files will have, when known before fetching."""
    if want.integrity != UNKNOWN_DIGEST:
        return want.integrity
    if have is not None and _same_release(have.entry, want):
        return have.integrity
    return None


def plan(
    wanted: Iterable[LockedSkill],
    installed: Mapping[str, Installed],
    observed: Mapping[str, Observed],
    *,
    force: bool = False,
) -> Plan:
    """Compare the install state and the disk with the lock. Folders are visited in name order.

    `observed` should cover every wanted and recorded folder, and every other
    folder present in the install dir (those are in the way: conflicts).
    """
    want_by_folder = {e.folder: e for e in wanted}
    out = Plan()
    present = {f for f, o in observed.items() if o.exists}  # a folder neither locked nor skillpm's is in the way too
    for folder in sorted(set(want_by_folder) | set(installed) | present):
        want, have = want_by_folder.get(folder), installed.get(folder)
        seen = observed.get(folder, ABSENT)
        out.steps.append(_step(folder, want, have, seen, force))
    return out


def _step(folder: str, want: LockedSkill | None, have: Installed | None, seen: Observed, force: bool) -> Step:
    untouched = have is not None and seen.digest is not None and seen.digest == have.integrity
    if want is None and have is None:  # not locked, not skillpm's: agents load it all the same
        if force:
            return Step(REMOVE, folder, backup=True)
        return Step(CONFLICT, folder, reason=FOREIGN)
    if want is None:
        assert have is not None
        if not seen.exists:
            return Step(FORGET, folder, have=have)
        if untouched:
            return Step(REMOVE, folder, have=have)
        if force:
            return Step(REMOVE, folder, have=have, backup=True)
        return Step(CONFLICT, folder, have=have, reason=LOCAL_EDIT)
    if not seen.exists:
        return Step(INSTALL, folder, want=want, have=have)
    digest = wanted_digest(want, have)
    if digest is not None and seen.digest == digest:
        if want.integrity == UNKNOWN_DIGEST:
            want = want.model_copy(update={"integrity": digest})
        return Step(KEEP, folder, want=want, have=have)
    if untouched:
        return Step(REPLACE, folder, want=want, have=have)
    if force:
        return Step(REPLACE, folder, want=want, have=have, backup=True)
    return Step(CONFLICT, folder, want=want, have=have, reason=LOCAL_EDIT if have is not None else FOREIGN)


__all__ = [
    "CONFLICT",
    "FOREIGN",
    "FORGET",
    "INSTALL",
    "KEEP",
    "LOCAL_EDIT",
    "REMOVE",
    "REPLACE",
    "Installed",
    "Observed",
    "Plan",
    "Step",
    "plan",
    "same_release",
    "wanted_digest",
]
