"""Crash injection at write points, for tests that kill skillpm mid-write.

Every step that changes the disk in a transaction calls `point(name)` first.
Normally that costs one environment lookup. Tests set:

- ``SKILLPM_KILL_AT=N``: the process kills itself (SIGKILL, no cleanup, no
  `finally`) on the N-th write point it reaches (1-based);
- ``SKILLPM_KILL_AT=NAME`` or ``NAME:N``: on the first (N-th) hit of that point;
- ``SKILLPM_FAILPOINT_LOG=FILE``: append each point's name to FILE, so a test
  can count the points of a run and then kill at each one.

This is how the model-based tests check that every run ends in the old or the
new state, whatever instant it dies at (fail-points, as in TiKV or FoundationDB).
"""

from __future__ import annotations

import os
import signal
import threading

_hits: dict[str, int] = {}
_total = 0
_lock = threading.Lock()  # staging runs in threads


def point(name: str) -> None:
    """A write is about to happen at `name`; die here when a test asked for it."""
    kill_at = os.environ.get("SKILLPM_KILL_AT")
    log = os.environ.get("SKILLPM_FAILPOINT_LOG")
    if not kill_at and not log:
        return
    global _total
    with _lock:
        _total += 1
        _hits[name] = _hits.get(name, 0) + 1
        if log:
            with open(log, "a", encoding="utf-8") as f:
                f.write(name + "\n")
        if not kill_at:
            return
        want, _, nth = kill_at.partition(":")
        if want.isdigit():
            hit = _total == int(want)
        else:
            hit = want == name and _hits[name] == (int(nth) if nth.isdigit() else 1)
        if hit:
            os.kill(os.getpid(), signal.SIGKILL)
