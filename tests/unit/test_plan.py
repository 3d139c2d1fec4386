"""The planner's table (skillpm/plan.py): state + lock + disk -> steps. Pure, no I/O."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skillpm.lockfile import UNKNOWN_DIGEST, LockedSkill
from skillpm.plan import (
    CONFLICT,
    FOREIGN,
    FORGET,
    INSTALL,
    KEEP,
    LOCAL_EDIT,
    REMOVE,
    REPLACE,
    Installed,
    Observed,
    plan,
)

W, X, E = ("sha256:" + c * 64 for c in "abe")  # installed before, wanted now, a local edit


def locked(integrity: str, version: str = "2.0.0", commit: str | None = None) -> LockedSkill:
    return LockedSkill(name="ns/a", folder="a", version=version, source="registry+embedded", integrity=integrity, commit=commit)


def rec(integrity: str, version: str = "1.0.0") -> Installed:
    return Installed(folder="a", integrity=integrity, entry=locked(integrity, version))


ROWS = [
    # disk,     recorded,  wanted,     force, kind,     reason,     backup
    (None, None, X, False, INSTALL, None, False),
    (None, X, X, False, INSTALL, None, False),  # restored
    (None, W, X, False, INSTALL, None, False),
    (X, None, X, False, KEEP, None, False),  # adopted
    (X, W, X, False, KEEP, None, False),
    (W, W, X, False, REPLACE, None, False),  # a teammate's upgrade
    (E, W, X, False, CONFLICT, LOCAL_EDIT, False),
    (E, W, X, True, REPLACE, None, True),
    (E, None, X, False, CONFLICT, FOREIGN, False),
    (E, None, X, True, REPLACE, None, True),
    ("link", W, X, False, CONFLICT, LOCAL_EDIT, False),
    (W, W, None, False, REMOVE, None, False),
    (E, W, None, False, CONFLICT, LOCAL_EDIT, False),
    (E, W, None, True, REMOVE, None, True),
    (None, W, None, False, FORGET, None, False),
    (E, None, None, False, CONFLICT, FOREIGN, False),  # a stray folder: in the way, never skillpm's to delete
    (E, None, None, True, REMOVE, None, True),
]


@pytest.mark.parametrize(("disk", "have", "want", "force", "kind", "reason", "backup"), ROWS)
def test_the_table(disk, have, want, force, kind, reason, backup):
    observed = {} if disk is None else {"a": Observed(True, None if disk == "link" else disk)}
    installed = {} if have is None else {"a": rec(have)}
    wanted = [] if want is None else [locked(want)]
    [step] = plan(wanted, installed, observed, force=force).steps
    assert (step.kind, step.reason, step.backup) == (kind, reason, backup)


def test_restored_only_when_the_same_bytes_come_back():
    [missing] = plan([locked(X)], {"a": rec(X)}, {}).steps
    [moved] = plan([locked(X)], {"a": rec(W)}, {}).steps
    assert missing.restores and not moved.restores


def test_an_unknown_digest_of_the_same_release_is_the_recorded_one():
    """A fresh git resolution of the commit skillpm installed: same bytes, keep."""
    commit = "c" * 40
    have = Installed(folder="a", integrity=W, entry=locked(W, "1.0.0", commit))
    [step] = plan([locked(UNKNOWN_DIGEST, "1.0.0", commit)], {"a": have}, {"a": Observed(True, W)}).steps
    assert step.kind == KEEP and step.want.integrity == W
    [moved] = plan([locked(UNKNOWN_DIGEST, "1.1.0", "d" * 40)], {"a": have}, {"a": Observed(True, W)}).steps
    assert moved.kind == REPLACE


digests = st.sampled_from([W, X, E])


@given(
    disk=st.one_of(st.none(), digests),
    have=st.one_of(st.none(), digests),
    want=st.one_of(st.none(), digests),
    force=st.booleans(),
)
def test_nothing_edited_is_touched_without_force(disk, have, want, force):
    """The invariants behind the table, for every combination."""
    observed = {} if disk is None else {"a": Observed(True, disk)}
    installed = {} if have is None else {"a": rec(have)}
    steps = plan([] if want is None else [locked(want)], installed, observed, force=force).steps
    if disk is None and have is None and want is None:
        assert steps == []  # nothing there, nothing wanted, nothing known
        return
    [step] = steps
    edited = disk is not None and disk != have and disk != want
    if edited and not force:
        assert step.kind == CONFLICT  # never replaced or removed
    if step.writes and disk is not None:
        assert step.backup == (disk != have)  # only skillpm's own bytes go without a backup
    if want is not None and disk == want:
        assert step.kind == KEEP
