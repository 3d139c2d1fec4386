"""Console helpers for the CLI: progress bars and when to show them.

Progress goes to stderr, and only when stderr is a terminal, `--quiet` is off,
`CI` is unset and TERM is not "dumb"; stdout stays clean for data (`--json`).
rich is imported only when a bar is actually shown, so `skillpm --help` stays
fast. rich honors NO_COLOR (no colors, styles kept) and so do we: skillpm's
own output is plain text.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import TextIO


def progress_enabled(*, quiet: bool, stream: TextIO | None = None, env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    stream = sys.stderr if stream is None else stream
    if quiet or env.get("CI") or env.get("TERM") == "dumb" or env.get("SKILLPM_NO_PROGRESS"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def color_enabled(stream: TextIO | None = None, env: Mapping[str, str] | None = None) -> bool:
    """https://no-color.org: any non-empty NO_COLOR turns color off."""
    env = os.environ if env is None else env
    if env.get("NO_COLOR"):
        return False
    stream = sys.stdout if stream is None else stream
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class RichProgress:
    """The reporter skillpm.ops.progress calls: one transient bar (or spinner) per step."""

    def __init__(self) -> None:
        self._progress = None
        self._task = None
        self._depth = 0

    def start(self, label: str, total: int | None) -> None:
        self._depth += 1
        if self._depth > 1:  # a step inside a step: keep the outer bar
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

        console = Console(stderr=True)
        columns = [SpinnerColumn(), TextColumn("{task.description}")]
        if total is not None:
            columns += [BarColumn(), MofNCompleteColumn()]
        columns.append(TextColumn("{task.fields[detail]}"))
        self._progress = Progress(*columns, console=console, transient=True)
        self._progress.start()
        self._task = self._progress.add_task(label, total=total, detail="")

    def advance(self, detail: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, advance=1, detail=detail)

    def stop(self) -> None:
        self._depth = max(0, self._depth - 1)
        if self._depth == 0 and self._progress is not None:
            self._progress.stop()
            self._progress = None


def install_progress(*, quiet: bool) -> None:
    """Show progress bars for this run when it makes sense (see progress_enabled)."""
    from skillpm.ops.progress import set_reporter

    set_reporter(RichProgress() if progress_enabled(quiet=quiet) else None)


def table(rows: list[tuple[str, ...]]) -> list[str]:
    """Left-aligned columns, two spaces apart, trailing spaces stripped."""
    if not rows:
        return []
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
