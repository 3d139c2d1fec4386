"""A hook for showing progress of long work, without the ops knowing how it is shown.

The ops announce steps (`with step("Resolving"):`) and units of work
(`tick("reviewer")`); by default nothing happens. The CLI installs a reporter
(skillpm/cli/output.py: a rich progress bar on stderr, only on a terminal).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Protocol


class Reporter(Protocol):
    def start(self, label: str, total: int | None) -> None: ...
    def advance(self, detail: str) -> None: ...
    def stop(self) -> None: ...


_reporter: Reporter | None = None


def set_reporter(reporter: Reporter | None) -> None:
    global _reporter
    _reporter = reporter


@contextlib.contextmanager
def step(label: str, total: int | None = None) -> Iterator[None]:
    rep = _reporter
    if rep is None:
        yield
        return
    rep.start(label, total)
    try:
        yield
    finally:
        rep.stop()


def tick(detail: str = "") -> None:
    if _reporter is not None:
        _reporter.advance(detail)


class Ticking:
    """A source wrapper that ticks once per materialize (the slow part of staging)."""

    def __init__(self, source, label: str) -> None:  # noqa: ANN001 - any Source
        self._source = source
        self._label = label

    def materialize(self, release, dest):  # noqa: ANN001, ANN201
        tick(self._label)
        return self._source.materialize(release, dest)

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self._source, name)
